"""Broken submissions are named precisely (in the student's language) and never modified."""
from __future__ import annotations

import json

import nbformat
import pytest

from conftest import notebook, small_rubric, submission
from grader.errors import InvalidNotebook
from grader.grade import grade_submission
from grader.ingest.read_notebook import read_notebook

GOOD = nbformat.writes(notebook("print(1)", executed=True))


@pytest.mark.parametrize("content, code", [
    (b"", "empty"),
    (GOOD[: len(GOOD) // 2].encode(), "truncated"),
    (b'{"cells": [], }', "not_json"),
    (b'["a", "list"]', "not_notebook"),
    ("{\"cells\": []}".encode("utf-16"), "not_utf8"),
    (json.dumps({"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4,
                 "nbformat_minor": 5}).encode(), "schema"),
])
def test_each_problem_has_its_code(tmp_path, content, code):
    p = tmp_path / "nb.ipynb"
    p.write_bytes(content)
    with pytest.raises(InvalidNotebook) as e:
        read_notebook(p)
    assert e.value.code == code
    assert p.read_bytes() == content  # never modified


def test_size_cap(tmp_path):
    p = tmp_path / "big.ipynb"
    p.write_bytes(b" " * (2 << 20))
    with pytest.raises(InvalidNotebook, match="over the 1 MB limit"):
        read_notebook(p, max_mb=1)


def test_valid_notebook_with_bom_reads(tmp_path):
    p = tmp_path / "nb.ipynb"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    nb, notes = read_notebook(p)
    assert nb.cells[0].source == "print(1)" and notes == []


def test_invalid_row_message_is_localized(tmp_path, make_ctx):
    res = grade_submission(submission(tmp_path, GOOD[:200]), make_ctx(small_rubric()))
    assert res.status == "invalid"
    assert "el fichero parece incompleto" in res.message
    res = grade_submission(submission(tmp_path, GOOD[:200]), make_ctx(small_rubric(), lang="en"))
    assert "the file looks incomplete" in res.message and "not a valid Jupyter notebook" in res.message
