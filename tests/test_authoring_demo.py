"""The checked-in demo Moodle zip and the helpers of scripts/make_demo.py (no kernel, no TF).

The zip is a committed artifact that the end-to-end test grades; these checks keep it honest:
Moodle's layout, the students that submissions/demo/README.md promises, and notebooks that are
what their README row says (executed, never executed, broken).
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import assert_march_moodle_entry, script_module

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "submissions/demo/mnist_cnn.zip"
README = ROOT / "submissions/demo/README.md"
FOLDER = re.compile(r"^(?P<name>[^_/]+)_(?P<pid>\d{7})_assignsubmission_file/(?P<file>.+)$")


@pytest.fixture(scope="module")
def demo() -> zipfile.ZipFile:
    with zipfile.ZipFile(ZIP) as zf:
        yield zf


@pytest.fixture(scope="module")
def make_demo():
    with script_module("make_demo") as module:
        yield module


def _notebook(demo, folder_prefix: str) -> nbformat.NotebookNode:
    name = next(n for n in demo.namelist() if n.startswith(folder_prefix) and n.endswith(".ipynb")
                and ".ipynb_checkpoints" not in n)
    return nbformat.reads(demo.read(name).decode("utf-8"), as_version=4)


def test_moodle_layout(demo):
    assert ZIP.stat().st_size < 1_000_000
    for info in demo.infolist():
        m = FOLDER.match(info.filename)
        assert m, info.filename
        assert_march_moodle_entry(info)


def test_readme_lists_every_student(demo):
    folders = {n.split("/")[0] for n in demo.namelist()}
    documented = set(re.findall(r"^\| `([^`]+_assignsubmission_file)` \|", README.read_text("utf-8"), re.M))
    assert folders == documented
    assert {"José Núñez_4518203_assignsubmission_file",
            "Pérez, Álvaro_4518239_assignsubmission_file"} <= folders


def test_executed_notebooks_are_complete(demo):
    release = nbformat.read(ROOT / "assignments/mnist_cnn/release/mnist_cnn.ipynb", as_version=4)
    checksums = {c.id: c.metadata["nbgrader"].get("checksum") for c in release.cells if "nbgrader" in c.metadata}
    for prefix in ("José", "María", "Lucía", "Pérez", "Nerea"):
        nb = _notebook(demo, prefix)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), prefix
        assert not any(o.output_type == "error" for c in code for o in c.outputs), prefix
        text = "".join(o.get("text", "") for c in code for o in c.outputs)
        assert re.search(r"Exactitud en test: 0\.\d{4}", text), prefix
        for cell in nb.cells:  # locked and test cells untouched
            if cell.metadata["nbgrader"].get("locked"):
                assert cell.metadata["nbgrader"]["checksum"] == checksums[cell.id]
        assert nb.metadata["grader"] == {"assignment": "mnist_cnn"}


def test_special_students(demo):
    zoe = _notebook(demo, "Zoë")
    assert all(c.execution_count is None and not c.outputs for c in zoe.cells if c.cell_type == "code")
    assert zoe.metadata["kernelspec"]["name"] == "conda-env-tf-py"
    assert "raise NotImplementedError" not in "".join(c.source for c in zoe.cells if c.cell_type == "code")
    raw = demo.read("Iñaki Etxeberria_4518256_assignsubmission_file/mnist_cnn.ipynb")
    with pytest.raises(ValueError):
        json.loads(raw)
    nerea = [n.split("/", 1)[1] for n in demo.namelist() if n.startswith("Nerea")]
    assert sorted(nerea) == [".ipynb_checkpoints/mnist_cnn-checkpoint.ipynb", "mnist_cnn.ipynb", "mnist_cnn.pdf"]


def test_fill_with_reference_reproduces_the_source(make_demo):
    """Filling the release with the extracted answers gives the source minus the delimiters."""
    release = nbformat.read(make_demo.RELEASE, as_version=4)
    filled = make_demo.fill(release, make_demo.reference_answers(make_demo.SOURCE))
    source = nbformat.read(make_demo.SOURCE, as_version=4)
    assert filled.cells[0].id == "selfcheck"  # the release adds the self-check instructions first
    for got, want in zip(filled.cells[1:], source.cells):
        expected = "\n".join(line for line in want.source.split("\n") if "### " not in line
                             or "SOLUTION" not in line)
        assert got.source == expected, got.id


def test_fill_rejects_a_cell_without_the_stub(make_demo):
    release = nbformat.read(make_demo.RELEASE, as_version=4)
    cell = next(c for c in release.cells if c.id == "softmax")
    cell.source = cell.source.replace("raise NotImplementedError()", "pass")
    with pytest.raises(AssertionError):
        make_demo.fill(release, {"softmax": "return z"})
