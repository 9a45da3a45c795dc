"""The imagenet_cnn source notebook and its checked-in student release (no TensorFlow: the NumPy
cells are exec'd straight from the notebook). The release must not leak the solution nor drift
from the source, and the instructions must state the Adam convention the rubric grades."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.checks import build_suite, expected
from grader.rubric import load_rubric

from conftest import exec_cells, nbgrader_cells

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments/imagenet_cnn/source/imagenet_cnn.ipynb"
RELEASE = ROOT / "assignments/imagenet_cnn/release/imagenet_cnn.ipynb"
RUBRIC = ROOT / "rubrics/imagenet_cnn.yaml"
INTERFACE = ("adam_step", "preprocess", "model", "train")


def test_source_is_valid_nbgrader_format_and_unexecuted():
    nb = nbformat.read(SOURCE, as_version=4)
    nbformat.validate(nb)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids)) == len(nb.cells), "every cell has a unique grade_id"
    cells = nbgrader_cells(SOURCE)
    assert all(cells[name].metadata["nbgrader"]["solution"] for name in INTERFACE)
    assert cells["test_adam_step"].metadata["nbgrader"]["points"] == 3
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_source_solution_passes_the_public_tests_and_the_grader_suite():
    cells = nbgrader_cells(SOURCE)
    ns = exec_cells(cells["adam_step"].source, cells["test_adam_step"].source)
    adam_step = ns["adam_step"]
    for case in build_suite("adam_step", hidden_dir=ROOT / "rubrics" / "hidden_cases"):
        args = [a.item() if a.ndim == 0 else a.copy() for a in case.args]
        got, want = adam_step(*args), expected(case, {"bias_correction": True})
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


def test_public_tests_reject_the_slides_version_but_not_epsilon_inside_the_root():
    """What the demo's María O'Connor relies on: her bug passes the notebook's own tests."""
    cells = nbgrader_cells(SOURCE)
    slides = cells["adam_step"].source.replace("v_hat = v / (1 - beta1 ** t)", "v_hat = v").replace(
        "s_hat = s / (1 - beta2 ** t)", "s_hat = s")
    assert slides != cells["adam_step"].source
    with pytest.raises(AssertionError, match="primer paso"):
        exec_cells(slides, cells["test_adam_step"].source)
    inside = cells["adam_step"].source.replace("(np.sqrt(s_hat) + epsilon)", "np.sqrt(s_hat + epsilon)")
    assert inside != cells["adam_step"].source
    exec_cells(inside, cells["test_adam_step"].source)


def test_instructions_state_the_rubrics_adam_convention():
    rubric = load_rubric(RUBRIC)
    assert rubric.check("adam_step").options.get("bias_correction", True) is True
    text = nbgrader_cells(SOURCE)["adam_intro"].source
    assert "sí se corrige el sesgo" in text and r"\hat{v} = \frac{v}{1 - \beta_1^{\,t}}" in text
    assert "empieza en 1" in text and "fuera" in text  # t from 1; epsilon outside the root


def test_instructions_match_the_rubric_points_and_thresholds():
    rubric = load_rubric(RUBRIC)
    intro = nbgrader_cells(SOURCE)["intro"].source
    for chk in rubric.checks:
        if chk.points:
            assert f"| {chk.points:g} |" in intro, chk.id
    for chk in (rubric.check("top1"), rubric.check("top5")):
        pct = lambda x: f"{x:.2f}".replace(".", ",")  # noqa: E731
        assert f"{pct(chk.threshold)} o más, proporcional entre {pct(chk.partial_from)}" in intro, chk.id
    assert f"{rubric.limits.timeout_s / 60:g} minutos" in intro


def test_release_has_no_solution_code():
    text = RELEASE.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    source_cells, release_cells = nbgrader_cells(SOURCE), nbgrader_cells(RELEASE)
    for grade_id in INTERFACE:
        cell = release_cells[grade_id]
        assert "# YOUR CODE HERE" in cell.source and "raise NotImplementedError()" in cell.source
        solution = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source_cells[grade_id].source, re.S)
        for line in solution.group(1).splitlines():
            if line.strip() and not line.strip().startswith("#"):
                assert line not in cell.source, f"{grade_id}: solution line leaked: {line!r}"
    with pytest.raises(NotImplementedError):
        exec_cells(release_cells["adam_step"].source, release_cells["test_adam_step"].source)


def test_release_metadata_locks_and_checksums():
    utils = pytest.importorskip("nbgrader.utils")
    release = nbformat.read(RELEASE, as_version=4)
    assert release.metadata["grader"] == {"assignment": "imagenet_cnn"}
    nbformat.validate(release)
    assert release.cells[0].metadata["grader"] == {"cell": "selfcheck_instructions"}  # outside nbgrader's cells
    for cell in release.cells[1:]:
        meta = cell.metadata["nbgrader"]
        assert meta["checksum"] == utils.compute_checksum(cell), cell.id
        if meta.get("locked"):
            assert cell.metadata.get("editable") is False and cell.metadata.get("deletable") is False


def test_checked_in_release_is_fresh(tmp_path):
    pytest.importorskip("nbgrader")
    from grader.authoring.release import release_notebook

    out = release_notebook(SOURCE, tmp_path / "imagenet_cnn.ipynb")
    assert out.read_bytes() == RELEASE.read_bytes(), "release/ is stale: run `grader release imagenet_cnn`"


def test_the_notebook_loads_data_and_weights_only_by_the_names_the_rubric_serves():
    rubric = load_rubric(RUBRIC)
    cells = nbgrader_cells(SOURCE)
    served = set(rubric.data.keras_datasets)
    names = set(re.findall(r'get_file\(\s*"([^"]+)"', cells["load_data"].source))
    assert names and names <= served
    assert 'weights="imagenet"' in cells["model"].source and "alpha=0.35" in cells["model"].source
    assert any(name.startswith("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96") for name in served)
