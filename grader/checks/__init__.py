"""Host-side judges: compare what the sandbox returned with expectations that never leave the host.

One module per job: kinds (the registry of check kinds), extract (functions out of a notebook, no
execution), cases + reference (unit test inputs and the expected answers), unit, executed,
claimed, accuracy, locked, text_loss and text_generate (the judges; text_windows cuts the
held-out text). Names below are imported on first use (PEP 562), so `checks.kinds` (read when a
rubric is parsed) does not pull numpy and every judge in.
"""
from __future__ import annotations

import importlib

_WHERE = {
    "judge_accuracy": "accuracy", "UnitCase": "cases", "build_suite": "cases", "case_payload": "cases",
    "find_claimed_accuracy": "claimed", "judge_claimed": "claimed", "check_executed": "executed",
    "Extraction": "extract", "extract_functions": "extract", "expected": "reference",
    "judge_generate_text": "text_generate", "judge_text_loss": "text_loss", "judge_unit": "unit",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
