"""The self-check's public unit tests: run in a plain subprocess on the student's machine, judged by
the instructor's judge. The verdicts must be the ones the sandboxed grader gives."""
from __future__ import annotations

import json
import sys

import nbformat
import numpy as np
import pytest

from grader.checks import build_suite, extract_functions, judge_unit
from grader.rubric import UnitTestCheck
from grader.sandbox import run_functions
from grader.selfcheck.unit import run_locally, run_unit_checks

from conftest import notebook

CORRECT = '''
import numpy as np
def softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
def cross_entropy(y, y_hat):
    return float(-np.sum(y * np.log(y_hat)) / y.shape[1])
'''
VARIANTS = {
    "correct": CORRECT,
    "naive": "import numpy as np\ndef softmax(z):\n    return np.exp(z) / np.exp(z).sum(axis=0)\n"
             "def cross_entropy(y, p):\n    return float(-np.sum(y * np.log(p)))",
    "axis1": "import numpy as np\ndef softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum(axis=-1, keepdims=True)\n"
             "def cross_entropy(y, p):\n    return float(-np.mean(y * np.log10(p)))",
    "raises": "def softmax(z):\n    raise NotImplementedError('falta')\ndef cross_entropy(y, p):\n    return None",
    "shape": "import numpy as np\ndef softmax(z):\n    return np.ones(4)\ndef cross_entropy(y, p):\n    return [1.0, 2.0]",
    "helper_missing": "def softmax(z):\n    return helper(z)\ndef cross_entropy(y, p):\n    return y.sum() / M",
    "module_error": "import no_such_module_xyz as nsm\ndef softmax(z):\n    return nsm.softmax(z)\n"
                    "def cross_entropy(y, p):\n    return nsm.ce(y, p)",
    "absent": "x = 1",
    "hangs": "import numpy as np\ndef softmax(z):\n    if z.shape == (3,) and z[0] == 3:\n        while True:\n            pass\n"
             "    e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0)\ndef cross_entropy(y, p):\n    return 0.5",
}


ADAM = '''
import numpy as np
def adam_step(w, dw, v, s, t, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    v = beta1 * v + (1 - beta1) * dw
    s = beta2 * s + (1 - beta2) * dw ** 2
    v_hat, s_hat = v / (1 - beta1 ** t), s / (1 - beta2 ** t)
    return w - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon), v, s
'''
#: Functions returning a tuple (w, v, s) and taking a scalar step number t (imagenet_cnn).
ADAM_VARIANTS = {
    "correct": ADAM,
    "no_bias_correction": ADAM.replace("v / (1 - beta1 ** t), s / (1 - beta2 ** t)", "v, s"),
    "one_array": ADAM.replace(", v, s\n", "\n"),
    "two_values": ADAM.replace(", v, s\n", ", v\n"),
    "t_as_array": ADAM.replace("beta1 ** t", "beta1 ** t.item()"),  # raises: t is a Python number
}


def _check(fn: str) -> UnitTestCheck:
    return UnitTestCheck(id=fn, kind="unit_test", function=fn, points=2)


def _job(source: str, fn: str):
    nb = json.loads(nbformat.writes(notebook(source)))
    suite = build_suite(fn, public_only=True)
    extraction = extract_functions(nb, [fn])
    cases, inputs = [], {}
    for case in suite:
        keys = [f"{case.id}__{i}" for i in range(len(case.args))]
        inputs.update({k: np.asarray(a) for k, a in zip(keys, case.args)})
        cases.append({"id": case.id, "function": fn, "args": keys})
    return suite, extraction, cases, inputs


def local(source: str, fn: str, timeout_s: float = 10, no_alarm: bool = False):
    suite, extraction, cases, inputs = _job(source, fn)
    run = run_locally(extraction.source, cases, inputs, sys.executable, timeout_s, no_alarm)
    return judge_unit(_check(fn), suite, run, "es", extraction=extraction), run


@pytest.mark.sandbox
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("fn", ["softmax", "cross_entropy"])
def test_same_verdicts_as_the_sandboxed_grader(sandbox, variant, fn):
    suite, extraction, cases, inputs = _job(VARIANTS[variant], fn)
    graded = judge_unit(_check(fn), suite, run_functions(sandbox, extraction.source, cases, inputs,
                                                         name=f"{variant}-{fn}", timeout_s=10, memory_mb=1024),
                        "es", extraction=extraction)
    mine, _ = local(VARIANTS[variant], fn)
    assert (mine.points, mine.passed, mine.message, mine.details) == \
        (graded.points, graded.passed, graded.message, graded.details)


@pytest.mark.sandbox
@pytest.mark.parametrize("variant", sorted(ADAM_VARIANTS))
def test_same_verdicts_for_tuple_returning_functions(sandbox, variant):
    pytest.importorskip("grader.checks.adam_hints")  # the imagenet_cnn suite
    suite, extraction, cases, inputs = _job(ADAM_VARIANTS[variant], "adam_step")
    graded = judge_unit(_check("adam_step"), suite, run_functions(sandbox, extraction.source, cases, inputs,
                                                                  name=f"adam-{variant}", timeout_s=10),
                        "es", extraction=extraction)
    mine, run = local(ADAM_VARIANTS[variant], "adam_step")
    assert (mine.points, mine.passed, mine.message, mine.details) == \
        (graded.points, graded.passed, graded.message, graded.details)
    assert mine.passed == (variant == "correct")


def test_verdicts_name_the_input_and_the_mistake():
    res, _ = local(VARIANTS["naive"], "softmax")
    assert res.points == 1.33 and not res.passed
    assert any("softmax([1000, 1001, 1002]) devolvió [nan nan nan]" in d for d in res.details)
    res, _ = local(VARIANTS["raises"], "softmax")
    assert res.points == 0 and "lanzó NotImplementedError: falta" in res.details[0]
    res, _ = local(VARIANTS["absent"], "softmax")
    assert "No se encontró la función `softmax`" in res.message
    res, run = local(VARIANTS["module_error"], "softmax")
    assert "ModuleNotFoundError" in res.message and run.status == "ok"


@pytest.mark.parametrize("no_alarm", [False, True], ids=["sigalrm", "timer (Windows)"])
def test_a_hanging_case_times_out_alone(no_alarm):
    """The per-case limit: SIGALRM on POSIX, a timer interrupting the main thread on Windows."""
    res, run = local(VARIANTS["hangs"], "softmax", timeout_s=8, no_alarm=no_alarm)  # 2 s per case
    assert run.status == "ok"
    assert run.info["cases"]["softmax__slides"]["ename"] == "Timeout"
    assert res.points == 1.33  # the other two cases still ran and passed
    assert "lanzó Timeout: took more than 2 s" in res.details[0]


def test_the_whole_process_is_killed_at_the_limit_keeping_finished_cases():
    source = ("import time\nimport numpy as np\ndef softmax(z):\n    if z.ndim == 2:\n        time.sleep(60)\n"
              "    e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0)")
    # no alarm and a sleep (uninterruptible by the timer): only the process limit can stop it
    res, run = local(source, "softmax", timeout_s=3, no_alarm=True)
    assert run.status == "timeout"
    assert run.info["cases"]["softmax__slides"]["ok"]  # finished before the batch case hung
    assert res.points == 0.67
    assert res.message.startswith("Las pruebas de `softmax` no terminaron a tiempo")


def test_noisy_functions_do_not_flood_the_report():
    source = CORRECT.replace("def softmax(z):", "def softmax(z):\n    print('x' * 10_000_000)")
    res, run = local(source, "softmax")
    assert res.passed and len(run.info["stdout_tail"]) <= 2000


def test_checks_run_in_parallel_one_process_per_function():
    nb = json.loads(nbformat.writes(notebook(VARIANTS["hangs"].replace("0.5", "float(-np.sum(y * np.log(p)) / y.shape[1])"))))
    runs = run_unit_checks(nb, [_check("softmax"), _check("cross_entropy")], "es", timeout_s=8)
    assert runs["cross_entropy"].result.passed  # not held back by softmax's hanging case
    assert runs["softmax"].result.points == 1.33
    assert runs["cross_entropy"].wall_s < runs["softmax"].wall_s
    assert runs["softmax"].imported == []


def test_unknown_suite_is_pending_not_an_error():
    nb = json.loads(nbformat.writes(notebook("def adam_step(w, g):\n    return w")))
    run = run_unit_checks(nb, [_check("adam_step_not_yet_in_the_grader")], "es")
    assert run["adam_step_not_yet_in_the_grader"].result is None


@pytest.mark.slow
def test_functions_that_need_tensorflow_import_it_in_their_process_only():
    source = "import tensorflow as tf\ndef softmax(z):\n    return tf.nn.softmax(z, axis=0).numpy()"
    res, run = local(source, "softmax", timeout_s=120)
    assert res.points == pytest.approx(2)  # tf's softmax is stable: all public cases pass
    assert "tensorflow" in run.info["imported"]
