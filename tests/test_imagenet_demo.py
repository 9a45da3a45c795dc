"""The checked-in imagenet_cnn demo Moodle zip (no kernel, no TF): Moodle's layout, the roster's
imagenet_cnn students, and notebooks that are what submissions/demo/README.md says they are.
José Núñez's notebook is exactly the executed reference solution, which the end-to-end test
(tests/test_e2e_demo.py) then grades at 10/10 in the sandbox."""
from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import assert_march_moodle_entry, script_module

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "submissions/demo"
ZIP = DEMO / "imagenet_cnn.zip"
FOLDER = re.compile(r"^(?P<name>[^_/]+)_(?P<pid>\d{7})_assignsubmission_file/(?P<file>[^/]+\.ipynb)$")


@pytest.fixture(scope="module")
def notebooks() -> dict[str, tuple[str, nbformat.NotebookNode, zipfile.ZipInfo]]:
    with zipfile.ZipFile(ZIP) as zf:
        out = {}
        for info in zf.infolist():
            m = FOLDER.match(info.filename)
            assert m, info.filename
            out[m["pid"]] = (m["name"], nbformat.reads(zf.read(info).decode("utf-8"), as_version=4), info)
        return out


@pytest.fixture(scope="module")
def make_demo():
    with script_module("make_demo_imagenet") as module:
        yield module


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_the_roster_students_with_an_imagenet_id_are_all_there(notebooks):
    with open(DEMO / "roster.csv", encoding="utf-8") as f:
        roster = {r["imagenet_cnn"]: r["full_name"] for r in csv.DictReader(f) if r["imagenet_cnn"]}
    assert {pid: name for pid, (name, _, _) in notebooks.items()} == roster
    expected = {k: v for k, v in json.loads((DEMO / "imagenet_cnn.expected.json").read_text()).items()
                if not k.startswith("_")}
    assert {pid: row["name"] for pid, row in expected.items()} == roster


def test_moodle_layout_and_march_timestamps(notebooks):
    assert ZIP.stat().st_size < 1_500_000
    for name, _, info in notebooks.values():
        assert_march_moodle_entry(info)


def test_every_notebook_was_executed_in_order_without_errors(notebooks):
    for name, nb, _ in notebooks.values():
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), name
        assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        assert "adam_step: tests públicos superados" in text and "Exactitud en test (top-1): " in text


def test_jose_hands_in_exactly_the_executed_reference_solution(notebooks, make_demo):
    release = nbformat.read(make_demo.RELEASE, as_version=4)
    reference = make_demo.fill(release, make_demo.reference_answers(make_demo.SOURCE))
    assert _code(notebooks["5230114"][1]) == _code(reference)


def test_each_other_student_differs_where_the_readme_says(notebooks, make_demo):
    release = nbformat.read(make_demo.RELEASE, as_version=4)
    reference = _code(make_demo.fill(release, make_demo.reference_answers(make_demo.SOURCE)))
    diffs = {pid: [i for i, (a, b) in enumerate(zip(_code(nb), reference)) if a != b]
             for pid, (_, nb, _) in notebooks.items()}
    cells = [c for c in release.cells if c.cell_type == "code"]
    grade_ids = lambda idx: {cells[i].metadata["nbgrader"]["grade_id"] for i in idx}  # noqa: E731
    assert grade_ids(diffs["5230127"]) == {"adam_step"}
    assert "np.sqrt(s_hat + epsilon)" in _code(notebooks["5230127"][1])[diffs["5230127"][0]]
    assert grade_ids(diffs["5230131"]) == {"model", "train"}
    assert grade_ids(diffs["5230148"]) == {"model"}
    inaki = notebooks["5230148"][1]
    assert make_demo.DRIVE in _code(inaki)[diffs["5230148"][0]]  # saved with his Drive path
    assert "colab" in inaki.metadata and notebooks["5230148"][2].filename.endswith("Copia de imagenet_cnn.ipynb")
