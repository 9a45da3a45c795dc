"""`grader check --rerun`: the instructor's pipeline on one notebook in the sandbox, the accuracy
measured on the public test split, and clear usage errors where it cannot run."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.cli import main
from grader.errors import GraderError
from grader.rubric import load_rubric
from grader.selfcheck import self_check
from grader.selfcheck.rerun import resolve_datasets

from conftest import NUMPY_MODEL, SOFTMAX

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = """assignment: mnist_cnn
title: Práctica 1 (test)
limits: {timeout_s: 300, cell_timeout_s: 240, unit_timeout_s: 30, memory_mb: 3072}
data: {keras_datasets: {mnist.npz: standin}, hidden_test: standin}
checks:
  - {id: executed, kind: executed_notebook, points: 1}
  - {id: softmax, kind: unit_test, function: softmax, points: 2}
  - {id: cross_entropy, kind: unit_test, function: cross_entropy, points: 2}
  - {id: accuracy, kind: accuracy, points: 5, threshold: 0.9, partial_from: 0.05}
  - {id: claimed_accuracy, kind: claimed_accuracy, points: 0, tolerance: 0.001}
"""


@pytest.fixture
def rubric_file(tmp_path) -> Path:
    p = tmp_path / "rubric.yaml"
    p.write_text(RUBRIC, encoding="utf-8")
    return p


def tiny_accuracy(standin) -> float:
    """What conftest's numpy TinyModel scores on the stand-in's public test split."""
    ns: dict = {}
    exec(NUMPY_MODEL, ns)
    with np.load(standin["mnist.npz"]) as z:
        x, y = z["x_test"], z["y_test"]
    return float(np.mean(ns["model"].predict(ns["preprocess"](x)).argmax(axis=1) == y))


def executed_notebook(path: Path, *cells: tuple[str, str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["grader"] = {"assignment": "mnist_cnn"}
    for i, (src, text) in enumerate(cells, 1):
        c = nbformat.v4.new_code_cell(src, execution_count=i)
        c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(c)
    nbformat.write(nb, path)
    return path


@pytest.mark.sandbox
def test_rerun_measures_accuracy_on_the_public_split_and_checks_the_claim(tmp_path, rubric_file, standin):
    acc = tiny_accuracy(standin)
    nb = executed_notebook(tmp_path / "mnist_cnn.ipynb", ("import numpy as np\n" + SOFTMAX, "ok\n"),
                           (NUMPY_MODEL, "ok\n"), (f"print('Exactitud en test: {acc:.4f}')", f"Exactitud en test: {acc:.4f}\n"))
    report = self_check(nb, rubric_path=rubric_file, rerun=True, data={"mnist.npz": "standin"})
    assert report.mode == "rerun" and report.run_status == "graded"
    assert report.timings["rerun_s"] > 0 and report.timings["total_s"] >= report.timings["rerun_s"]
    items = {c.id: c for c in report.checks}
    assert items["executed"].basis == "verified" and items["executed"].passed
    assert items["softmax"].basis == "public_tests" and items["softmax"].points == 2
    accuracy = items["accuracy"]
    assert accuracy.basis == "rerun_public" and accuracy.blocking  # far below 0.9
    assert accuracy.points == pytest.approx(round(5 * (acc - 0.05) / 0.85, 2))
    assert "test público (mnist.npz: x_test)" in accuracy.message
    assert "coincide" in items["claimed_accuracy"].message  # the cell re-printed what it shows
    assert "la exactitud sobre el test oculto del profesor" in report.pending
    assert report.exit_code == 1


@pytest.mark.sandbox
@pytest.mark.slow
def test_rerun_of_the_reference_notebook(tmp_path, rubric_file):
    """The whole TensorFlow notebook re-trained in the sandbox (about a minute on 2 cores)."""
    import zipfile

    with zipfile.ZipFile(ROOT / "submissions" / "demo" / "mnist_cnn.zip") as z:
        name = next(n for n in z.namelist() if "4518203" in n and n.endswith(".ipynb"))
        (tmp_path / "mnist_cnn.ipynb").write_bytes(z.read(name))
    rubric_file.write_text(RUBRIC.replace("tolerance: 0.001", "tolerance: 0.05"), encoding="utf-8")
    report = self_check(tmp_path / "mnist_cnn.ipynb", rubric_path=rubric_file, rerun=True,
                        data={"mnist.npz": "standin"})
    acc = next(c for c in report.checks if c.id == "accuracy")
    assert report.run_status == "graded" and acc.points == 5, acc.message
    assert report.exit_code == 0


def test_rerun_without_bubblewrap_is_a_clear_usage_error(tmp_path, rubric_file):
    nb = executed_notebook(tmp_path / "mnist_cnn.ipynb", ("x = 1", "ok\n"))
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on PATH
    out = subprocess.run([sys.executable, "-m", "grader", "check", str(nb), "--rerun", "--rubric", str(rubric_file)],
                         capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert "bubblewrap" in out.stderr and "apt-get install bubblewrap" in out.stderr


def test_rerun_without_the_execution_extras(tmp_path, rubric_file):
    nb = executed_notebook(tmp_path / "mnist_cnn.ipynb", ("x = 1", "ok\n"))
    code = ("import importlib.abc, sys\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('nbclient', 'psutil'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from grader.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    out = subprocess.run([sys.executable, "-c", code, "check", str(nb), "--rerun", "--rubric", str(rubric_file)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert "pip install 'dl_notebook_grader-0.1.0-py3-none-any.whl[rerun]'" in out.stderr  # the course's wheel
    assert "pip install 'dl-notebook-grader" not in out.stderr  # never the bare name: not on a public index


def test_rerun_data_comes_from_the_option_the_keras_cache_or_the_standin(tmp_path, monkeypatch, standin):
    rubric = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert resolve_datasets(rubric, {}, "es")["mnist.npz"] == standin["mnist.npz"]  # nothing cached
    shutil.copy(standin["mnist.npz"], cache / "mnist.npz")  # what the student's notebook downloaded
    assert resolve_datasets(rubric, {}, "es")["mnist.npz"] == cache / "mnist.npz"
    assert resolve_datasets(rubric, {"mnist.npz": "standin"}, "es")["mnist.npz"] == standin["mnist.npz"]
    with pytest.raises(GraderError, match="no existe el fichero"):
        resolve_datasets(rubric, {"mnist.npz": str(tmp_path / "nope.npz")}, "es")
    other = rubric.model_copy(update={"data": rubric.data.model_copy(update={"keras_datasets": {"x.npz": "standin"}})})
    with pytest.raises(GraderError, match="--data x.npz=RUTA"):
        resolve_datasets(other, {}, "es")


def test_bad_data_option(tmp_path, capsys):
    nb = executed_notebook(tmp_path / "mnist_cnn.ipynb", ("x = 1", "ok\n"))
    assert main(["check", str(nb), "--rerun", "--data", "mnist.npz"]) == 2
    assert "se esperaba NOMBRE=RUTA" in capsys.readouterr().err


def test_rerun_items_quote_each_accuracy_check_s_own_metric():
    """imagenet_cnn grades top1 and top5: each item quotes its own metric from the run."""
    from grader.model import CheckResult, Result
    from grader.rubric import load_rubric
    from grader.selfcheck.rerun import items

    rubric = load_rubric(ROOT / "rubrics" / "imagenet_cnn.yaml")
    res = Result("imagenet_cnn", "1", "x", "graded", 10.0,
                 checks=[CheckResult("top1", 2.0, 4.0, False, "-"), CheckResult("top5", 2.0, 2.0, True, "-")],
                 metrics={"top1_accuracy": 0.625, "top5_accuracy": 0.875})
    got = {i.id: i.message for i in items(res, rubric, "stand-in", "en")[0]}
    assert "62.5 %" in got["top1"] and "87.5 %" in got["top5"]
