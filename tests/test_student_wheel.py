"""The student package as students get it (issue 13): `grader release` writes the notebook (mode 0644,
first cell saying how to install and run the self-check) and the wheel; the wheel, installed into a
fresh virtual environment with no course folder, checks a released notebook and a handed-in one the
way the first cell says, and carries no hidden unit case.

The venv installs the wheel's dependencies (NumPy, nbformat, PyYAML, pydantic, rich, tzdata) from
the package index, as a student's `%pip install` does: a minute without pip's cache."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.checks import build_suite

ROOT = Path(__file__).resolve().parent.parent
URL = "https://aulavirtual.example.es/dl/dl_notebook_grader-0.1.0-py3-none-any.whl"
pytestmark = pytest.mark.slow


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A course folder (rubrics/ and one assignment's source) after `grader release --wheel-url`."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "rubrics", course / "rubrics")
    shutil.copytree(ROOT / "assignments" / "mnist_cnn" / "source", course / "assignments" / "mnist_cnn" / "source")
    out = run([sys.executable, "-m", "grader", "release", "mnist_cnn", "--course-dir", course, "--wheel-url", URL],
              cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return course


@pytest.fixture(scope="module")
def venv(released, tmp_path_factory) -> Path:
    """A fresh venv with the wheel only (and what it requires), outside the repository."""
    where = tmp_path_factory.mktemp("venv") / "v"
    assert run([sys.executable, "-m", "venv", where]).returncode == 0
    (wheel,) = (released / "dist").glob("*.whl")
    out = run([where / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel])
    if out.returncode != 0 and ("Could not find a version" in out.stderr or "NewConnectionError" in out.stderr):
        pytest.skip(f"the package index is unreachable: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr[-3000:]
    return where


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE_DIR", "PYTHONPATH", "VIRTUAL_ENV")}
    return env


def test_release_writes_a_readable_notebook_whose_first_cell_says_how_to_check(released):
    nb_path = released / "assignments" / "mnist_cnn" / "release" / "mnist_cnn.ipynb"
    assert stat.S_IMODE(nb_path.stat().st_mode) == 0o644
    assert stat.S_IMODE(next((released / "dist").glob("*.whl")).stat().st_mode) == 0o644
    first = nbformat.read(nb_path, as_version=4).cells[0]
    assert first.cell_type == "markdown" and "nbgrader" not in first.metadata
    assert f'%pip install -q "{URL}"' in first.source and "import grader; grader.check()" in first.source
    assert "grader check mnist_cnn.ipynb" in first.source
    assert "dl-notebook-grader" not in first.source  # never the bare name, which a public index would resolve


def test_the_wheel_checks_the_released_notebook_from_a_fresh_venv(released, venv, tmp_path):
    """A student following the first cell: `grader.check()` in the notebook's folder (Jupyter sets
    JPY_SESSION_NAME), then `grader check` in a terminal. The untouched release fails its tests."""
    nb = tmp_path / "mnist_cnn.ipynb"
    shutil.copy(released / "assignments" / "mnist_cnn" / "release" / "mnist_cnn.ipynb", nb)
    env = clean_env() | {"JPY_SESSION_NAME": "practicas/mnist_cnn.ipynb"}  # relative to the server's root
    helper = run([venv / "bin" / "python", "-c", "import grader, sys; sys.exit(grader.check())"],
                 cwd=tmp_path, env=env)
    assert "Comprobando «" in helper.stdout and str(nb) in helper.stdout
    assert helper.returncode == 1, helper.stdout[-3000:] + helper.stderr[-2000:]  # stubs: not full marks
    cli = run([venv / "bin" / "grader", "check", nb.name, "--json"], cwd=tmp_path, env=clean_env())
    report = json.loads(cli.stdout)
    assert report["assignment"] == "mnist_cnn" and cli.returncode == 1
    softmax = next(c for c in report["checks"] if c["id"] == "softmax")
    assert softmax["points"] == 0 and softmax["basis"] == "public_tests"


def test_the_wheel_gives_a_demo_student_the_verdict_the_grader_gives(venv, tmp_path):
    """José's hand-in (full marks when graded): the self-check from the wheel expects 10 and exits 0."""
    with zipfile.ZipFile(ROOT / "submissions" / "demo" / "mnist_cnn.zip") as z:
        name = next(n for n in z.namelist() if "4518203" in n and n.endswith(".ipynb"))
        (tmp_path / "practica1.ipynb").write_bytes(z.read(name))
    out = run([venv / "bin" / "grader", "check", "practica1.ipynb", "--json"], cwd=tmp_path, env=clean_env())
    report = json.loads(out.stdout)
    assert out.returncode == 0, out.stdout[-3000:]
    assert report["expected_grade"]["high"] == 10 and report["expected_grade"]["max"] == 10


def test_the_installed_package_has_no_hidden_case(venv):
    site = next((venv / "lib").glob("python3*/site-packages"))
    files = [p for p in (site / "grader").rglob("*") if p.is_file()]
    assert not [p for p in files if "hidden_cases" in str(p) or p.name == "course.yaml"]
    text = "\n".join(p.read_text("utf-8", "replace") for p in files if p.suffix in (".py", ".yaml", ".md", ".j2"))
    hidden = [c for s in ("softmax", "cross_entropy", "adam_step")
              for c in build_suite(s, hidden_dir=ROOT / "rubrics" / "hidden_cases") if not c.public]
    assert hidden and not [c.id for c in hidden if c.id in text]
    assert sorted(p.name for p in (site / "grader" / "selfcheck" / "rubrics").glob("*.yaml")) == [
        "imagenet_cnn.yaml", "mnist_cnn.yaml", "rnn_text.yaml"]
