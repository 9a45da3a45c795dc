"""Failures cross the sandbox boundary as codes with parameters (grader/runner/failures.py) and
reach the student through one catalog, in their language: nothing the host decides is read
from English text, and nothing a notebook prints can pose as the grader's own verdict."""
from __future__ import annotations

import ast

import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric, submission
from grader.checks.deps import _defines
from grader.grade import grade_submission
from grader.runner.failures import typed
from grader.selfcheck.interface import _bindings


def test_a_runner_report_keeps_only_declared_codes_and_typed_parameters():
    assert typed("kernel_died", {}) == ("kernel_died", {})
    assert typed("cell_timeout", {"cell": 3, "limit_s": 30}) == ("cell_timeout", {"cell": 3, "limit_s": 30.0})
    assert typed("rm -rf /", {"cell": 3}) == ("runner_failed", {})  # an unknown code
    assert typed("cell_timeout", {"cell": "3; <b>", "limit_s": float("nan")}) == ("cell_timeout", {})
    assert typed("runner_failed", {"ename": "[red]x\x1b"}) == ("runner_failed", {})
    assert typed("runner_failed", {"ename": "MemoryError"}) == ("runner_failed", {"ename": "MemoryError"})
    assert typed("memory", "not a dict") == ("memory", {})


@pytest.mark.sandbox
@pytest.mark.parametrize("lang,words", [("es", "en la celda 3"), ("en", "in cell 3")])
def test_a_cell_timeout_is_told_in_the_students_language_with_its_cell(make_ctx, tmp_path, lang, words):
    nb = notebook("import numpy as np", SOFTMAX, "while True:\n    pass", NUMPY_MODEL)
    res = grade_submission(submission(tmp_path, nb), make_ctx(small_rubric(cell_timeout_s=3, timeout_s=40), lang=lang))
    assert res.status == "timeout" and "timeout" in res.flags
    assert words in res.message and "3 s" in res.message, res.message
    assert "exceeded" not in res.message or lang == "en" and "exceeded the time limit" in res.message


@pytest.mark.sandbox
def test_a_students_exception_cannot_pose_as_the_graders_missing_name(make_ctx, tmp_path):
    """The host used to read '__grader_missing__:' at the start of a NameError's text: a
    notebook could raise one and have any text shown as the names it 'does not define'."""
    forged = NUMPY_MODEL + '''
def preprocess(x):
    raise NameError("__grader_missing__:<b>os.system</b>")
'''
    res = grade_submission(submission(tmp_path, notebook("import numpy as np", SOFTMAX, forged)), make_ctx())
    assert res.status == "error"
    assert "no define" not in res.message, res.message  # not the missing-interface message
    assert "Error al predecir con `preprocess` y `model`" in res.message and "NameError" in res.message


@pytest.mark.sandbox
def test_a_really_missing_interface_name_is_named(make_ctx, tmp_path):
    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL.replace("model = TinyModel()", "modelo = TinyModel()"))
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert res.status == "error"
    assert "no define `model`, que hace falta para medir la exactitud" in res.message, res.message


def _stmt(code: str) -> ast.stmt:
    return ast.parse(code).body[0]


def test_extraction_and_the_selfcheck_agree_on_what_a_statement_binds():
    """They used to disagree on `except … as e` and on `global` in a function."""
    handler = _stmt("try:\n    import tensorflow as tf\nexcept ImportError as model:\n    x = 1")
    assert _defines(handler) == {"tf", "model", "x"}  # the handler's own reads of `model` are local
    assert [n for n, _, _ in _bindings(handler)] == ["tf", "x"]  # after the statement `model` is gone
    train = _stmt("def train():\n    global model\n    model = 1")
    assert _defines(train) == {"train"}  # bound only when train() is called: not extracted
    assert _bindings(train) == [("model", "global", "train"), ("train", "function", "")]
    for code in ("a, (b, *c) = f()", "import os.path as p, sys", "from m import x as y", "for i, j in z: k = 1",
                 "with open(f) as fh: pass", "n += 1", "v: int = 3", "obj.attr = 1"):
        node = _stmt(code)
        assert _defines(node) == {n for n, _, _ in _bindings(node)}, code
