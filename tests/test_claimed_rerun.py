"""Claimed vs reproduced, like for like, on real re-runs (issue 13): the accuracy a cell shows in the
submitted notebook against what the same cell prints when the grader re-runs it."""
from __future__ import annotations

import nbformat
import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, submission
from grader.export.feedback import feedback_html
from grader.grade import grade_submission

pytestmark = pytest.mark.sandbox


def graded(make_ctx, tmp_path, code: str, saved_output: str | None):
    """A notebook whose cell 4 runs `code`; its saved output is `saved_output` (None: no output)."""
    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, code, executed=True)
    nb.cells[3].outputs = [] if saved_output is None else [
        nbformat.v4.new_output("stream", name="stdout", text=saved_output)]
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert res.status == "graded", res.message + res.detail
    return res, next(c for c in res.checks if c.id == "claimed_accuracy")


def test_outputs_the_code_does_not_produce_are_a_mismatch(make_ctx, tmp_path):
    res, chk = graded(make_ctx, tmp_path, 'print("Exactitud en test: %.4f" % 0.61)', "Exactitud en test: 0.9900\n")
    assert "claimed_accuracy_mismatch" in res.flags and chk.passed is False
    assert "celda 4 (99 %)" in chk.message and "(61 %)" in chk.message
    assert "claimed_accuracy: cells compared (submitted / re-run): cell 4: 0.9900 / 0.6100" in res.detail
    assert res.metrics["rerun_printed_accuracy"] == pytest.approx(0.61)


def test_an_honest_notebook_evaluated_elsewhere_is_not_a_mismatch(make_ctx, tmp_path):
    """It prints what its code prints (say, on its own validation split); the host's accuracy on the
    public split is far from it: evidence for the instructor, not a verdict on the student."""
    res, chk = graded(make_ctx, tmp_path, 'print("Exactitud en test: %.4f" % 0.9123)', "Exactitud en test: 0.9123\n")
    assert "claimed_accuracy_mismatch" not in res.flags and chk.passed is True
    assert "claimed_accuracy_host_differs" in res.flags  # the numpy model scores about 0.1 on the public split
    assert "host on the public test split: " in res.detail and "vs claimed 0.9123" in res.detail
    assert "✅" in feedback_html(res, "es")


def test_nothing_to_compare_is_neutral_on_the_page(make_ctx, tmp_path):
    res, chk = graded(make_ctx, tmp_path, "x = 1", None)
    assert chk.passed is None and "no_claimed_accuracy" in res.flags
    page = feedback_html(res, "es")
    line = next(li for li in page.split("<li>") if "Exactitud declarada" in li)
    assert line.startswith("➖") and "nada que comparar" in line
