"""Shared fixtures: small rubrics, a sandbox session, and notebooks built in the tests."""
from __future__ import annotations

import contextlib
import os
import importlib.util
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.data.standin import ensure_mnist_standin
from grader.grade import GradeContext
from grader.model import Submission
from grader.rubric import parse_rubric
from grader.sandbox import SandboxSession

ROOT = Path(__file__).resolve().parent.parent

# A numpy "model" so pipeline tests need no TensorFlow: predicts the label from the image sum
# bucket (bad accuracy, but deterministic and fast).
NUMPY_MODEL = '''
import numpy as np
def preprocess(x):
    return x.reshape(len(x), -1).astype("float32") / 255.0
class TinyModel:
    def predict(self, x, batch_size=None, verbose=0):
        s = (x.sum(axis=1) // 10).astype(int) % 10
        return np.eye(10)[s]
model = TinyModel()
'''

SOFTMAX = '''
def softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)

def cross_entropy(y, y_hat):
    return float(-np.sum(y * np.log(y_hat)) / y.shape[1])
'''


def small_rubric(**limits):
    return parse_rubric(small_rubric_dict(**limits), "test-rubric")


def small_rubric_dict(**limits) -> dict:
    """The small rubric as YAML would hold it (for tests that run the `grader` command)."""
    lim = {"timeout_s": 60, "cell_timeout_s": 30, "unit_timeout_s": 30, "memory_mb": 1024}
    lim.update(limits)
    return {
        "assignment": "mnist_cnn", "max_grade": 10, "limits": lim,
        "data": {"keras_datasets": {"mnist.npz": "standin"}, "hidden_test": "standin"},
        "checks": [
            {"id": "executed", "kind": "executed_notebook", "points": 1},
            {"id": "softmax", "kind": "unit_test", "function": "softmax", "points": 2},
            {"id": "cross_entropy", "kind": "unit_test", "function": "cross_entropy", "points": 2},
            {"id": "accuracy", "kind": "accuracy", "points": 5, "threshold": 0.9, "partial_from": 0.5},
            {"id": "claimed_accuracy", "kind": "claimed_accuracy", "points": 0},
        ]}


@pytest.fixture(scope="session")
def standin():
    return ensure_mnist_standin()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    s = SandboxSession.create(workroot=tmp_path_factory.mktemp("jobs"))
    yield s
    s.close()


@pytest.fixture
def make_ctx(sandbox, standin, tmp_path):
    def make(rubric=None, n_hidden=40, lang="es"):
        with np.load(standin["hidden"]) as z:
            hx, hy = z["x"][:n_hidden], z["y"][:n_hidden]
        with np.load(standin["mnist.npz"]) as z:
            px, py = z["x_test"][:n_hidden], z["y_test"][:n_hidden]
        return GradeContext(rubric=rubric or small_rubric(), session=sandbox, lang=lang,
                            datasets={"mnist.npz": standin["mnist.npz"]},
                            data={"hidden_x": hx, "hidden_y": hy, "public_x": px, "public_y": py},
                            executed_dir=tmp_path / "executed")
    return make


def notebook(*cells: str, executed: bool = False, **metadata) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(metadata)
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    if executed:
        for i, c in enumerate(nb.cells, 1):
            c.execution_count = i
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
    return nb


def submission(tmp_path: Path, nb_or_text, pid: str = "1000001", name: str = "Ana Pérez") -> Submission:
    folder = tmp_path / f"{name}_{pid}_assignsubmission_file"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mnist_cnn.ipynb"
    if isinstance(nb_or_text, str):
        path.write_text(nb_or_text)
    else:
        nbformat.write(nb_or_text, path)
    return Submission(assignment="mnist_cnn", participant_id=pid, full_name=name,
                      folder=folder.name, notebook=path, notebook_name=path.name,
                      files=[path.name], paths={path.name: path})


DEMO = ROOT / "submissions" / "demo"
DEMO_ASSIGNMENTS = sorted(p.stem for p in DEMO.glob("*.zip")
                          if (DEMO / f"{p.stem}.expected.json").exists()
                          and (DEMO / f"{p.stem}.worksheet.csv").exists())


# --- helpers for the assignment and demo tests -----------------------------------------------
def nbgrader_cells(path: Path) -> dict[str, nbformat.NotebookNode]:
    """grade_id -> cell, for every nbgrader cell of the notebook at `path`."""
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def exec_cells(*sources: str) -> dict:
    """Run notebook cell sources in one namespace (with `np`), as the kernel would."""
    namespace: dict = {"np": np}
    for src in sources:
        exec(compile(src, "<cell>", "exec"), namespace)
    return namespace


@contextlib.contextmanager
def script_module(name: str):
    """scripts/<name>.py imported as a module (registered while in use: dataclasses look their
    module up in sys.modules; scripts/ on the path: the demo scripts import make_demo)."""
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def assert_march_moodle_entry(info) -> None:
    """A demo zip entry as Moodle writes it: saved in March 2026, UTF-8 flag on non-ASCII names."""
    assert (2026, 3, 1) <= info.date_time[:3] <= (2026, 3, 31), info.filename
    if not info.filename.isascii():
        assert info.flag_bits & 0x800, f"{info.filename}: UTF-8 flag"


def demo_similarity(a: str) -> list[str]:
    """As the Makefile's demo: the demo students share the reference solution by construction."""
    return ["--set", f"similarity.exclude=[../assignments/{a}/source/{a}.ipynb]"]


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory):
    """What `make demo` does: every demo zip graded with its Moodle worksheet, then `grader
    final`. Expensive (about a minute per assignment), so it runs once per test run: xdist
    workers share pytest's base temp folder, and a file lock lets the first one grade while the
    others wait and reuse its reports."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    # the same for every xdist worker of a run; without xdist the run's own base (its parent is
    # shared by every run on the machine: stale reports from another checkout would be reused)
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "demo-reports"
    with open(shared / "demo-reports.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "done").exists():
            grade_demo(out)
            (out / "done").touch()
    return out


def grade_demo(out: Path) -> None:
    """`make demo` into `out`: each demo zip with its worksheet, then `grader final` (also
    tests/golden/regen.py's, so the golden copies come from the same commands)."""
    from grader.cli import main

    for a in DEMO_ASSIGNMENTS:
        assert main(["grade", a, str(DEMO / f"{a}.zip"), "--worksheet",
                     str(DEMO / f"{a}.worksheet.csv"), "--out", str(out),
                     "--course-dir", str(ROOT), *demo_similarity(a)]) == 0, a
    assert main(["final", "--out", str(out), "--course-dir", str(ROOT)]) == 0
