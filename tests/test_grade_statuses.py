"""Every way a submission can go wrong ends in a row with a clear status and message, and the
trust boundary holds (labels never enter the sandbox; the kernel is always ours)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric, submission
from grader.grade import grade_submission
from grader.model import Submission

pytestmark = pytest.mark.sandbox


def check(res, cid):
    return next(c for c in res.checks if c.id == cid)


def test_no_notebook_gets_a_zero_row(make_ctx):
    sub = Submission(assignment="mnist_cnn", participant_id="7", full_name="Sin Nada",
                     files=["informe.pdf"])
    res = grade_submission(sub, make_ctx())
    assert res.status == "no_notebook"
    assert res.score == 0 and len(res.checks) == 5
    assert "informe.pdf" in res.message and "cuaderno de Jupyter (.ipynb)" in res.message


def test_broken_json_is_invalid_with_the_reason(make_ctx, tmp_path):
    res = grade_submission(submission(tmp_path, '{"cells": [{"cell_type": "code"'), make_ctx())
    assert res.status == "invalid"
    assert res.score == 0
    assert "no es un cuaderno de Jupyter válido" in res.message and "JSON" in res.message


def test_good_numpy_notebook_is_graded_with_host_computed_accuracy(make_ctx, tmp_path):
    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, executed=True)
    ctx = make_ctx()
    res = grade_submission(submission(tmp_path, nb), ctx)
    assert res.status == "graded", res.message + res.detail
    assert check(res, "softmax").passed and check(res, "cross_entropy").passed
    assert check(res, "executed").passed
    hx, hy = ctx.data["hidden_x"], ctx.data["hidden_y"]
    want = float(np.mean(((hx.reshape(len(hx), -1) / 255.0).sum(1) // 10).astype(int) % 10 == hy))
    assert res.metrics["accuracy"] == pytest.approx(want)
    assert (tmp_path / "executed" / "1000001.ipynb").exists()


def test_infinite_loop_is_a_timeout(make_ctx, tmp_path):
    nb = notebook("import numpy as np", SOFTMAX, "while True:\n    pass", NUMPY_MODEL)
    res = grade_submission(submission(tmp_path, nb), make_ctx(small_rubric(cell_timeout_s=3, timeout_s=40)))
    assert res.status == "timeout"
    assert "límite de tiempo" in res.message
    assert check(res, "softmax").passed  # unit tests don't need the re-run
    assert check(res, "accuracy").points == 0


def test_whole_notebook_wall_clock_limit(make_ctx, tmp_path):
    cells = ["import time"] + ["time.sleep(2)"] * 10
    res = grade_submission(submission(tmp_path, notebook(*cells)),
                           make_ctx(small_rubric(cell_timeout_s=30, timeout_s=8)))
    assert res.status == "timeout"


def test_missing_module_is_named(make_ctx, tmp_path):
    nb = notebook("import numpy as np", "import paquete_que_no_existe", SOFTMAX, NUMPY_MODEL)
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert "missing_module:paquete_que_no_existe" in res.flags
    assert "paquete_que_no_existe" in res.message
    assert res.status == "graded"  # the model was still defined after the failing cell


def test_missing_model_is_an_error_naming_it(make_ctx, tmp_path):
    nb = notebook("import numpy as np", SOFTMAX, "def preprocess(x):\n    return x")
    res = grade_submission(submission(tmp_path, nb, pid="3"), make_ctx(lang="en"))
    assert res.status == "error"
    assert "`model`" in res.message and "does not define" in res.message
    assert check(res, "accuracy").points == 0


def test_memory_bomb_is_an_error_with_the_limit(make_ctx, tmp_path):
    bomb = "blocks = []\nfor _ in range(300):\n    blocks.append(np.ones(2**20 * 2))"
    nb = notebook("import numpy as np", SOFTMAX, bomb, NUMPY_MODEL)
    res = grade_submission(submission(tmp_path, nb), make_ctx(small_rubric(memory_mb=700)))
    assert res.status == "error"
    assert "memory_limit" in res.flags
    assert "límite de memoria (700 MB)" in res.message


def test_kernel_is_pinned_whatever_the_notebook_or_user_config_says(make_ctx, tmp_path, monkeypatch, sandbox):
    home = tmp_path / "home"
    spec = home / ".local/share/jupyter/kernels/grader-python"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/bin/false", "{connection_file}"],
                                                  "language": "python", "display_name": "evil"}))
    monkeypatch.setenv("HOME", str(home))
    nb = notebook("import sys, numpy as np\nprint('EXE=' + sys.executable)", SOFTMAX, NUMPY_MODEL,
                  kernelspec={"name": "conda-env-evil-py", "display_name": "evil", "language": "python"})
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert res.status == "graded", res.message + res.detail
    import nbformat
    ex = nbformat.read(tmp_path / "executed" / "1000001.ipynb", 4)
    assert f"EXE={sandbox.kenv.python}" in ex.cells[0].outputs[0]["text"]


def test_hidden_labels_never_enter_the_sandbox(make_ctx, tmp_path, sandbox):
    sandbox.keep_jobs = True
    try:
        ctx = make_ctx()
        grade_submission(submission(tmp_path, notebook("import numpy as np", SOFTMAX, NUMPY_MODEL)), ctx)
    finally:
        sandbox.keep_jobs = False
    sent = list(sandbox.workroot.glob("1000001-run-*/probe_inputs.zip"))  # passed as an fd
    assert sent
    import zipfile

    with zipfile.ZipFile(sent[-1]) as pack, np.load(pack.open("probe_predict.npz")) as z:
        assert sorted(z.files) == ["hidden", "public"]
        assert np.array_equal(z["hidden"], ctx.data["hidden_x"])
        for k in z.files:
            assert z[k].shape[1:] == (28, 28)  # images only: no label array went in
    unit_inputs = list(sandbox.workroot.glob("1000001-softmax-*/in/inputs.npz"))
    from grader.checks import build_suite, expected
    with np.load(unit_inputs[-1]) as z:
        sent_arrays = [z[k] for k in z.files]
    for case in build_suite("softmax"):
        exp = expected(case)
        assert not any(a.shape == exp.shape and np.allclose(a, exp) for a in sent_arrays)


@pytest.mark.slow
def test_keras_datasets_work_offline_inside_the_sandbox(make_ctx, tmp_path):
    cells = ["import numpy as np\nimport tensorflow as tf",
             "(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()\n"
             "print('SHAPE', x_train.shape, x_test.shape)",
             "try:\n    tf.keras.utils.get_file('cifar.tar.gz', 'https://example.org/cifar.tar.gz')\n"
             "except Exception as e:\n    print('ERR', e)",
             SOFTMAX, NUMPY_MODEL]
    res = grade_submission(submission(tmp_path, notebook(*cells)), make_ctx())
    assert res.status == "graded", res.message + res.detail
    import nbformat
    ex = nbformat.read(tmp_path / "executed" / "1000001.ipynb", 4)
    out = "".join(o.get("text", "") for c in ex.cells for o in c.outputs)
    assert "SHAPE (3291, 28, 28) (300, 28, 28)" in out
    assert "ERR" in out and "sin red durante la corrección" in out
