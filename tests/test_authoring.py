"""The mnist_cnn source notebook and its checked-in student release.

The release must never leak the reference solution, and it must never drift from the source: if
an instructor edits the source and forgets to re-release, a test fails here. No TensorFlow: the
NumPy functions are exec'd straight from the notebook's cells.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import exec_cells, nbgrader_cells

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments/mnist_cnn/source/mnist_cnn.ipynb"
RELEASE = ROOT / "assignments/mnist_cnn/release/mnist_cnn.ipynb"
INTERFACE = ("softmax", "cross_entropy", "preprocess", "model", "train")


@pytest.fixture(scope="module")
def release() -> nbformat.NotebookNode:
    return nbformat.read(RELEASE, as_version=4)


def test_source_is_valid_nbgrader_format():
    nb = nbformat.read(SOURCE, as_version=4)
    nbformat.validate(nb)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids)) == len(nb.cells), "every cell has a unique grade_id"
    for cell in nb.cells:
        assert cell.metadata["nbgrader"]["schema_version"] == 3
    cells = nbgrader_cells(SOURCE)
    assert all(cells[name].metadata["nbgrader"]["solution"] for name in INTERFACE)
    assert {n: cells[n].metadata["nbgrader"]["points"] for n in ("test_softmax", "test_cross_entropy")} == {
        "test_softmax": 2, "test_cross_entropy": 2}


def test_source_solutions_pass_the_public_tests():
    cells = nbgrader_cells(SOURCE)
    ns = exec_cells(cells["softmax"].source, cells["test_softmax"].source,
              cells["cross_entropy"].source, cells["test_cross_entropy"].source)
    softmax, cross_entropy = ns["softmax"], ns["cross_entropy"]
    # and the documented contract beyond the public asserts
    big = softmax(np.array([[1000.0, -5.0], [1001.0, -5.0], [999.0, -5.0]]))
    assert np.all(np.isfinite(big)) and np.allclose(big.sum(axis=0), 1.0)
    y = np.eye(3)[:, [0, 2]]
    y_hat = np.array([[0.5, 0.2], [0.25, 0.3], [0.25, 0.5]])
    assert cross_entropy(y, y_hat) == pytest.approx(-(np.log(0.5) + np.log(0.5)) / 2)


def test_release_has_no_solution_code(release):
    text = RELEASE.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    source_cells = nbgrader_cells(SOURCE)
    for grade_id in INTERFACE:
        cell = nbgrader_cells(RELEASE)[grade_id]
        assert "# YOUR CODE HERE" in cell.source and "raise NotImplementedError()" in cell.source
        solution = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source_cells[grade_id].source, re.S)
        for line in solution.group(1).splitlines():
            if line.strip() and not line.strip().startswith("#"):
                assert line not in cell.source, f"{grade_id}: solution line leaked: {line!r}"


def test_release_stubs_fail_the_public_tests():
    cells = nbgrader_cells(RELEASE)
    with pytest.raises(NotImplementedError):
        exec_cells(cells["softmax"].source, cells["test_softmax"].source)


def test_release_has_no_outputs(release):
    for cell in release.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def nbgrader_part(release) -> list:
    """Every released cell but the first: the self-check instructions, outside nbgrader's cells."""
    assert release.cells[0].metadata["grader"] == {"cell": "selfcheck_instructions"}
    assert "nbgrader" not in release.cells[0].metadata
    return release.cells[1:]


def test_release_checksums_and_locks(release):
    for cell in nbgrader_part(release):
        meta = cell.metadata["nbgrader"]
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            assert re.fullmatch(r"[0-9a-f]{32}", meta.get("checksum", "")), cell.id
            assert meta["cell_type"] == cell.cell_type
        if meta.get("locked"):
            assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False
        if meta.get("solution"):
            assert cell.metadata.get("deletable") is False and cell.metadata.get("editable", True)


def test_release_checksums_are_nbgraders(release):
    utils = pytest.importorskip("nbgrader.utils")
    for cell in nbgrader_part(release):
        assert cell.metadata["nbgrader"]["checksum"] == utils.compute_checksum(cell), cell.id


def test_release_metadata(release):
    assert release.metadata["grader"] == {"assignment": "mnist_cnn"}
    assert release.metadata["kernelspec"]["name"] == "python3"
    nbformat.validate(release)


def test_checked_in_release_is_fresh(tmp_path):
    pytest.importorskip("nbgrader")
    from grader.authoring.release import release_notebook

    out = release_notebook(SOURCE, tmp_path / "sub" / "mnist_cnn.ipynb")
    assert out.read_bytes() == RELEASE.read_bytes(), (
        "release/ is stale: run `python -m grader.authoring.release "
        "assignments/mnist_cnn/source/mnist_cnn.ipynb assignments/mnist_cnn/release/mnist_cnn.ipynb`")
    assert [p.name for p in out.parent.iterdir()] == ["mnist_cnn.ipynb"], "no temporary files left"


def test_release_failure_leaves_dest_untouched(tmp_path):
    pytest.importorskip("nbgrader")
    from grader.authoring.release import release_notebook

    bad = json.loads(SOURCE.read_text(encoding="utf-8"))
    cell = next(c for c in bad["cells"] if c["id"] == "softmax")
    cell["source"] = "".join(cell["source"]).replace("### END SOLUTION", "")  # unterminated region
    src = tmp_path / "mnist_cnn.ipynb"
    src.write_text(json.dumps(bad), encoding="utf-8")
    dest = tmp_path / "release" / "mnist_cnn.ipynb"
    dest.parent.mkdir()
    dest.write_text("previous", encoding="utf-8")
    with pytest.raises(RuntimeError):
        release_notebook(src, dest)
    assert dest.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in dest.parent.iterdir()] == ["mnist_cnn.ipynb"]
