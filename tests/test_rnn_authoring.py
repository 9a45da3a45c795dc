"""The rnn_text instructor source, its student release, and the demo Moodle zip built from it.
No TensorFlow: the reference solution's NumPy parts run here on the generated corpus, and
generate_text is called with a tiny NumPy stand-in for the Keras model."""
from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.data.text_standin import make_text_standin

from conftest import assert_march_moodle_entry, script_module

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments/rnn_text/source/rnn_text.ipynb"
RELEASE = ROOT / "assignments/rnn_text/release/rnn_text.ipynb"
ZIP = ROOT / "submissions/demo/rnn_text.zip"
README = ROOT / "submissions/demo/README.md"
SOLUTIONS = ("vocab", "sequences", "model", "train", "generate")
FOLDER = re.compile(r"^(?P<name>[^_/]+)_(?P<pid>\d{7})_assignsubmission_file/(?P<file>[^/]+\.ipynb)$")


def cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def solution(cell) -> str:
    return re.search(r"### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION", cell.source, re.S).group(1)


class ArgmaxOfNext:
    """A NumPy "model" for the reference generate_text: always very sure of one character."""

    def __init__(self, v: int, favourite: int):
        self.v, self.favourite = v, favourite

    def predict_on_batch(self, x):
        out = np.zeros((1, np.asarray(x).shape[1], self.v), dtype=np.float32)
        out[..., self.favourite] = 30.0
        return out


def test_source_is_valid_nbgrader_format():
    nb = nbformat.read(SOURCE, as_version=4)
    nbformat.validate(nb)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids)) == len(nb.cells)
    cs = cells(SOURCE)
    assert all(cs[n].metadata["nbgrader"]["solution"] for n in SOLUTIONS)
    assert cs["test_generate"].metadata["nbgrader"] == {
        "grade": True, "grade_id": "test_generate", "locked": True, "points": 3, "schema_version": 3, "solution": False}
    assert "get_file(\"corpus_es.txt\"" in cs["load_data"].source  # served offline by the grader's shim


def test_reference_solution_runs_on_the_corpus_and_passes_the_public_checks():
    text, _ = make_text_standin()
    cs = cells(SOURCE)
    ns = {"np": np, "text": text, "SEED": 2026}
    exec(cs["vocab"].source, ns)
    exec(cs["test_vocab"].source, ns)
    exec(cs["sequences"].source, ns)
    x, y = ns["x_train"], ns["y_train"]
    assert x.shape == y.shape and x.shape[1] == 100 and np.array_equal(x[:, 1:], y[:, :-1])
    exec(cs["generate"].source, ns)
    e = ns["char2idx"]["e"]
    out = ns["generate_text"](ArgmaxOfNext(len(ns["idx2char"]), e), "¿Dónde ", 12)
    assert out == "¿Dónde " + "e" * 12  # the seed, then num_generate NEW characters


def test_release_has_no_solution_and_is_fresh(tmp_path):
    text = RELEASE.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    src, rel = cells(SOURCE), cells(RELEASE)
    for gid in SOLUTIONS:
        assert "# YOUR CODE HERE" in rel[gid].source and "raise NotImplementedError()" in rel[gid].source
        for line in solution(src[gid]).splitlines():
            if line.strip() and not line.strip().startswith("#"):
                assert line not in rel[gid].source, f"{gid}: solution line leaked: {line!r}"
    release = nbformat.read(RELEASE, as_version=4)
    assert release.metadata["grader"] == {"assignment": "rnn_text"}
    assert all(c.outputs == [] for c in release.cells if c.cell_type == "code")
    pytest.importorskip("nbgrader")
    from grader.authoring.release import release_notebook

    out = release_notebook(SOURCE, tmp_path / "rnn_text.ipynb")
    assert out.read_bytes() == RELEASE.read_bytes(), (
        "release/ is stale: run `grader release rnn_text`, then scripts/make_demo_rnn.py")


@pytest.fixture(scope="module")
def demo():
    with zipfile.ZipFile(ZIP) as zf:
        yield zf


@pytest.fixture(scope="module")
def make_demo_rnn():
    with script_module("make_demo_rnn") as module:
        yield module


def notebooks(demo) -> dict[str, nbformat.NotebookNode]:
    out = {}
    for name in demo.namelist():
        m = FOLDER.match(name)
        assert m, name
        out[m["name"]] = nbformat.reads(demo.read(name).decode("utf-8"), as_version=4)
    return out


def test_demo_zip_is_a_moodle_download_of_the_roster(demo):
    with open(ROOT / "submissions/demo/roster.csv", encoding="utf-8") as f:
        roster = {r["full_name"]: r["rnn_text"] for r in csv.DictReader(f) if r["rnn_text"]}
    folders = {}
    for info in demo.infolist():
        m = FOLDER.match(info.filename)
        assert m, info.filename
        assert_march_moodle_entry(info)
        folders[m["name"]] = m["pid"]
    assert folders == roster
    documented = dict(re.findall(r"^\| (\d{7}) \| ([^|]+?) \|", README.read_text("utf-8"), re.M))
    assert {pid: name for name, pid in folders.items()}.items() <= documented.items()


def test_demo_notebooks_are_what_the_readme_says(demo):
    release = nbformat.read(RELEASE, as_version=4)
    checksums = {c.id: c.metadata["nbgrader"].get("checksum") for c in release.cells if "nbgrader" in c.metadata}
    nbs = notebooks(demo)
    for name, nb in nbs.items():
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), name
        assert nb.metadata["grader"] == {"assignment": "rnn_text"}
        for cell in nb.cells:
            if cell.metadata["nbgrader"].get("locked"):
                assert cell.metadata["nbgrader"]["checksum"] == checksums[cell.id], (name, cell.id)
        errors = [(c.id, o.ename) for c in code for o in c.outputs if o.output_type == "error"]
        if name == "Zoë Ibáñez":  # another tutorial's names: the locked vocabulary check fails
            assert errors == [("test_vocab", "NameError")]
            assert "char2idx =" not in "".join(c.source for c in code)
        else:
            assert errors == [], name
            text = "".join(o.get("text", "") for c in code for o in c.outputs)
            assert re.search(r"Pérdida en validación \(última época\): \d\.\d{4}", text), name
    assert "while len(result) < num_generate" in cells_of(nbs["Lucía Fernández-Gómez"])["generate"].source
    assert "EPOCHS = 1 " in cells_of(nbs["Pérez, Álvaro"])["train"].source


def cells_of(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.id: c for c in nb.cells}


def test_fill_with_reference_reproduces_the_source(make_demo_rnn):
    release = nbformat.read(RELEASE, as_version=4)
    filled = make_demo_rnn.fill(release, make_demo_rnn.reference_answers(SOURCE))
    source = nbformat.read(SOURCE, as_version=4)
    assert filled.cells[0].id == "selfcheck"  # the release adds the self-check instructions first
    for got, want in zip(filled.cells[1:], source.cells):
        expected = "\n".join(line for line in want.source.split("\n") if "### " not in line or "SOLUTION" not in line)
        assert got.source == expected, got.id
    assert {st.pid for st in make_demo_rnn.STUDENTS} == {"6340215", "6340226", "6340237", "6340249"}
