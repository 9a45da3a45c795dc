"""The `numpy_only` check kind (one entry in grader/checks/kinds.py): softmax written with a
framework, directly or through a helper, loses the check; written in NumPy it passes. Static:
nothing runs, so the grader and the student's self-check give the same verdict."""
from __future__ import annotations

from conftest import notebook, submission
from grader.grade import GradeContext, grade_submission
from grader.rubric import parse_rubric
from grader.selfcheck.estimate import Context, estimate

RUBRIC = {"assignment": "mnist_cnn", "checks": [
    {"id": "executed", "kind": "executed_notebook", "points": 1},
    {"id": "softmax_numpy", "kind": "numpy_only", "function": "softmax", "points": 1}]}

NUMPY = "import numpy as np\ndef softmax(z):\n    e = np.exp(z - z.max(0))\n    return e / e.sum(0)"
VIA_HELPER = ("import numpy as np\nimport tensorflow as tf\n"
              "def _norm(z):\n    return tf.nn.softmax(z, axis=0).numpy()\n"
              "def softmax(z):\n    return _norm(np.asarray(z))")
SCIPY = "from scipy.special import softmax as _sm\ndef softmax(z):\n    return _sm(z, axis=0)"
UNRELATED_TF = "import tensorflow as tf\nmodel = tf.keras.Sequential()\n" + NUMPY  # tf elsewhere is fine


def grade(tmp_path, code: str, lang: str = "es"):
    rubric = parse_rubric(RUBRIC)
    ctx = GradeContext(rubric=rubric, session=None, lang=lang, datasets={}, data={})
    res = grade_submission(submission(tmp_path, notebook(code, executed=True)), ctx)
    return res, next(c for c in res.checks if c.id == "softmax_numpy")


def test_numpy_softmax_passes_even_beside_tensorflow(tmp_path):
    for code in (NUMPY, UNRELATED_TF):
        res, chk = grade(tmp_path, code)
        assert res.status == "graded" and chk.passed and chk.points == 1, chk.message
        assert chk.title == "`softmax` con NumPy"


def test_a_framework_through_a_helper_or_scipy_loses_the_check(tmp_path):
    res, chk = grade(tmp_path, VIA_HELPER)
    assert not chk.passed and chk.points == 0 and "`tensorflow`" in chk.message
    assert "not_numpy:softmax" in res.flags
    _, chk = grade(tmp_path, SCIPY, lang="en")
    assert chk.message == "`softmax` uses `scipy`: the assignment asks for it in NumPy."


def test_the_selfcheck_estimates_it_with_the_same_judge(tmp_path):
    rubric = parse_rubric(RUBRIC)
    chk = rubric.check("softmax_numpy")
    item, later = estimate(chk, Context(notebook(VIA_HELPER, executed=True), "es", {}, rubric=rubric))
    assert item.basis == "verified" and item.points == 0 and item.blocking and later == []
