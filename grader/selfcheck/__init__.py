"""The student's pre-submission self-check (`grader check NOTEBOOK`).

Tells a student, in seconds and without re-training, what will fail when the notebook is graded
and the grade to expect: the executed-notebook rule and the public unit tests (the instructor's
own judges), the grading interface, the metric the notebook reports about itself, and what breaks
without network, Drive or the student's files. `--rerun` runs the instructor's whole pipeline in
the sandbox instead. Works with the package's core dependencies only (no TensorFlow, no Jupyter).
"""
from __future__ import annotations

from .report import CheckItem, SelfCheckReport
from .run import self_check

__all__ = ["CheckItem", "SelfCheckReport", "self_check"]
