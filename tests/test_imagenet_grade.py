"""imagenet_cnn through the real sandbox without TensorFlow: adam_step extracted and called by the
real functions runner (tuple returns, t as a Python int), and whole notebooks graded with a NumPy
"model" for top-1/top-5 and the ImageNet-1000 mapping."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import notebook, submission
from grader import checks as C
from grader.data.imagenet_standin import ensure_imagenet_standin
from grader.grade import GradeContext, grade_submission
from grader.rubric import parse_rubric
from grader.sandbox import run_functions

pytestmark = pytest.mark.sandbox

ADAM = '''
import numpy as np

def adam_step(w, dw, v, s, t, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    v = beta1 * v + (1 - beta1) * dw
    s = beta2 * s + (1 - beta2) * dw ** 2
    v_hat = v / (1 - beta1 ** t)
    s_hat = s / (1 - beta2 ** t)
    return w - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon), v, s
'''
# A student who keeps the powers in a loop: range(t) needs t to be a real int, as in their own calls.
ADAM_LOOP = '''
import numpy as np

def adam_step(w, dw, v, s, t, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    b1t = b2t = 1.0
    for _ in range(t):
        b1t, b2t = b1t * beta1, b2t * beta2
    v = beta1 * v + (1 - beta1) * dw
    s = beta2 * s + (1 - beta2) * dw ** 2
    w = w - learning_rate * (v / (1 - b1t)) / (np.sqrt(s / (1 - b2t)) + epsilon)
    return [w, v, s]
'''


def _unit(sandbox, source: str, options=None):
    nb = notebook(source)
    chk = parse_rubric({"assignment": "imagenet_cnn", "checks": [
        {"id": "adam_step", "kind": "unit_test", "function": "adam_step", "points": 3, "rtol": 1e-6,
         "atol": 1e-9, "options": options or {}}]}).checks[0]
    extraction = C.extract_functions(nb, ["adam_step"])
    suite = C.build_suite("adam_step")
    cases, inputs = [], {}
    for case in suite:  # what grade.py sends: inputs only, one array per argument
        keys = [f"{case.id}__{i}" for i in range(len(case.args))]
        inputs.update({k: np.asarray(a) for k, a in zip(keys, case.args)})
        cases.append({"id": case.id, "function": "adam_step", "args": keys})
    run = run_functions(sandbox, extraction.source, cases, inputs, name="adam", timeout_s=30, memory_mb=1024)
    return run, C.judge_unit(chk, suite, run, "es", extraction=extraction)


def test_the_runner_sends_each_element_of_a_returned_tuple(sandbox):
    run, result = _unit(sandbox, ADAM)
    assert run.status == "ok" and result.points == 3, result.details
    first = run.info["cases"]["adam__first_step"]
    assert first["ok"] and first["parts"] == 3
    assert {"adam__first_step__0", "adam__first_step__1", "adam__first_step__2"} <= set(run.arrays)
    assert "adam__first_step" not in run.arrays
    np.testing.assert_allclose(run.arrays["adam__first_step__0"], [0.499, -1.199, 1.999], atol=1e-7)


def test_t_arrives_as_an_int_and_a_list_return_is_accepted(sandbox):
    run, result = _unit(sandbox, ADAM_LOOP)
    assert result.points == 3, result.details
    assert "parts" not in run.info["cases"]["adam__first_step"]  # a list is one (stacked) array


def test_the_slides_version_loses_points_with_a_hint_unless_the_rubric_asks_for_it(sandbox):
    slides = ADAM.replace("v / (1 - beta1 ** t)", "v").replace("s / (1 - beta2 ** t)", "s")
    _, result = _unit(sandbox, slides)
    assert result.points < 3 and any("falta la corrección de sesgo" in d for d in result.details)
    _, result = _unit(sandbox, slides, {"bias_correction": False})
    assert result.points == 3, result.details


def _ctx(sandbox, tmp_path, rubric, n=64):
    paths = ensure_imagenet_standin(weights=False)
    with np.load(paths["hidden"]) as z:
        hx, hy = z["x"][:n], z["y"][:n]
    return GradeContext(rubric=rubric, session=sandbox, lang="es", datasets={},
                        data={"hidden_x": hx, "hidden_y": hy, "public_x": None, "public_y": None,
                              "class_map": rubric.interface.class_map},
                        executed_dir=tmp_path / "executed")


def _rubric(**interface):
    return parse_rubric({
        "assignment": "imagenet_cnn", "limits": {"timeout_s": 60, "cell_timeout_s": 30, "memory_mb": 1024},
        "interface": {"input_shape": [96, 96, 3], **interface},
        "checks": [{"id": "top1", "kind": "accuracy", "top_k": 1, "points": 4, "threshold": 0.9,
                    "partial_from": 0.3},
                   {"id": "top5", "kind": "accuracy", "top_k": 5, "points": 2, "threshold": 0.98,
                    "partial_from": 0.7}]}, "test-rubric")


# Scores from the mean colour: a weak but honest "model", the same on every machine.
COLOUR_MODEL = '''
import numpy as np
def preprocess(x):
    return x.astype("float32") / 255.0
class ColourModel:
    def __init__(self, width):
        self.proj = np.random.default_rng(0).normal(size=(3, width))
    def predict(self, x, batch_size=None, verbose=0):
        return x.mean(axis=(1, 2)) @ self.proj
model = ColourModel({width})
'''


def test_top1_and_top5_are_scored_on_the_host_from_the_models_scores(sandbox, tmp_path):
    ctx = _ctx(sandbox, tmp_path, _rubric())
    res = grade_submission(submission(tmp_path, notebook(COLOUR_MODEL.format(width=8))), ctx)
    assert res.status == "graded", res.message + res.detail
    assert set(res.metrics) == {"top1_accuracy", "top5_accuracy"}
    scores = np.random.default_rng(0).normal(size=(3, 8))
    want = (ctx.data["hidden_x"].astype("float32") / 255.0).mean(axis=(1, 2)) @ scores
    rank = np.sum(want >= want[np.arange(64), ctx.data["hidden_y"]][:, None], axis=1) - 1
    assert res.metrics["top1_accuracy"] == pytest.approx(np.mean(want.argmax(1) == ctx.data["hidden_y"]))
    assert res.metrics["top5_accuracy"] == pytest.approx(np.mean(rank < 5))
    top5 = next(c for c in res.checks if c.id == "top5")
    assert top5.message.startswith("Exactitud top-5 en el conjunto de test oculto")


def test_imagenet_outputs_are_mapped_with_the_rubrics_class_map(sandbox, tmp_path):
    class_map = [[10 * k, 10 * k + 1] for k in range(8)]
    ctx = _ctx(sandbox, tmp_path, _rubric(outputs="imagenet", class_map=class_map))
    res = grade_submission(submission(tmp_path, notebook(COLOUR_MODEL.format(width=1000))), ctx)
    assert res.status == "graded", res.message + res.detail
    proj = np.random.default_rng(0).normal(size=(3, 1000))
    logits = (ctx.data["hidden_x"].astype("float32") / 255.0).mean(axis=(1, 2)) @ proj
    mapped = np.stack([logits[:, idx].max(axis=1) for idx in class_map], axis=1)
    assert res.metrics["top1_accuracy"] == pytest.approx(np.mean(mapped.argmax(1) == ctx.data["hidden_y"]))
    wrong = grade_submission(submission(tmp_path, notebook(COLOUR_MODEL.format(width=8)), pid="1000002"), ctx)
    assert all(c.points == 0 for c in wrong.checks)
    assert "se esperaban las 1000 puntuaciones de ImageNet" in wrong.checks[0].message
