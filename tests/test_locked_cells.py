"""Edited or deleted locked/test cells of the released notebook are flagged (nbgrader checksums)."""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from grader.checks.locked import check_locked_cells, protected
from grader.rubric import LockedCellsCheck

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "assignments" / "mnist_cnn" / "release" / "mnist_cnn.ipynb"
CHECK = LockedCellsCheck(id="locked_cells", kind="locked_cells")


@pytest.fixture
def release():
    return nbformat.read(RELEASE, as_version=4)


def gid(cell):
    return cell.metadata.nbgrader["grade_id"]


def test_untouched_release_and_edited_solutions_pass(release):
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        md = cell.metadata.get("nbgrader", {})
        if md.get("solution"):
            cell.source = "def softmax(z):\n    return z  # the student's answer\n"
    res, flags = check_locked_cells(nb, CHECK, RELEASE, "es")
    assert res.passed and flags == []


def test_edited_test_cell_is_named(release):
    nb = copy.deepcopy(release)
    i, cell = next((i, c) for i, c in enumerate(nb.cells)
                   if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))
    cell.source = "assert True  # tests removed"
    res, flags = check_locked_cells(nb, CHECK, RELEASE, "es")
    assert not res.passed and flags == ["edited_locked_cells"]
    assert f"«{gid(cell)}» (celda {i + 1}) editada" in res.message


def test_deleted_or_unmarked_locked_cells_are_named(release):
    nb = copy.deepcopy(release)
    locked = [c for c in nb.cells if protected(c)]
    nb.cells.remove(locked[0])
    del locked[1].metadata["nbgrader"]  # hiding a cell from the check counts as deleting it
    res, flags = check_locked_cells(nb, CHECK, RELEASE, "en")
    assert flags == ["edited_locked_cells"]
    assert f"'{gid(locked[0])}' deleted" in res.message
    assert len(res.details) == 2


def test_missing_template_is_reported_not_guessed(release, tmp_path):
    res, flags = check_locked_cells(release, CHECK, tmp_path / "nope.ipynb", "es")
    assert not res.passed and flags == ["locked_cells_unchecked"]


@pytest.mark.parametrize("assignment", ["mnist_cnn", "imagenet_cnn", "rnn_text"])
def test_checksum_is_nbgrader_s_own(assignment):
    """The student package has no nbgrader, so locked.checksum repeats its recipe: same digests
    as nbgrader.utils.compute_checksum on every nbgrader cell, as released and when edited."""
    from nbgrader.utils import compute_checksum

    from grader.checks.locked import checksum

    nb = nbformat.read(ROOT / "assignments" / assignment / "release" / f"{assignment}.ipynb", as_version=4)
    cells = [c for c in nb.cells if "nbgrader" in c.metadata]
    assert len(cells) > 10
    for cell in cells:
        edited = copy.deepcopy(cell)
        edited.source += "\n# changed"
        for c in (cell, edited):
            assert checksum(c) == compute_checksum(c)
        assert checksum(edited) != checksum(cell)
