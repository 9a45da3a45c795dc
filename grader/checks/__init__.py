"""Host-side judges: compare what the sandbox returned with expectations that never leave the host.

One module per job: extract (functions out of a notebook, no execution), cases + reference (unit
test inputs and the expected answers), unit, executed, claimed, accuracy,
text_loss and text_generate (the judges; text_windows cuts the held-out text).
"""
from __future__ import annotations

from .accuracy import judge_accuracy
from .cases import UnitCase, build_suite, case_payload
from .claimed import find_claimed_accuracy, judge_claimed
from .executed import check_executed
from .extract import Extraction, extract_functions
from .reference import expected
from .text_generate import judge_generate_text
from .text_loss import judge_text_loss
from .unit import judge_unit

__all__ = [
    "Extraction", "UnitCase", "build_suite", "case_payload", "check_executed", "expected", "extract_functions",
    "find_claimed_accuracy", "judge_accuracy", "judge_claimed", "judge_unit",
    "judge_generate_text", "judge_text_loss",
]
