"""adam_step: the suite, the reference in both conventions (rubric option bias_correction), the
judge of tuple returns, a named hint for each usual mistake, and the reference against Keras."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pytest

from grader.checks import build_suite, expected
from grader.checks import judge_unit as judge_every_case
from grader.checks import reference as ref
from grader.errors import RubricError
from grader.model import RunOutput
from grader.rubric import UnitTestCheck, parse_rubric

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = ROOT / "rubrics" / "hidden_cases"

#: These tests read each case's detail, hidden ones included (the rubric's feedback.hidden_cases: inputs);
#: the students' default (summary) is tested in test_hidden_cases_feedback.py.
judge_unit = functools.partial(judge_every_case, hidden_cases="inputs")


def sandbox_run(fn, cases) -> RunOutput:
    """What grader/runner/call_functions.py sends back: 0-d inputs passed as Python numbers, a
    tuple split into case__0, case__1... with info parts, anything else as one float64 array."""
    arrays, infos = {}, {}
    for case in cases:
        args = [a.item() if a.ndim == 0 else a.copy() for a in case.args]
        try:
            with np.errstate(all="ignore"):
                value = fn(*args)
            info = {"ok": True, "ename": "", "evalue": ""}
            if isinstance(value, tuple):
                for i, part in enumerate(value):
                    arrays[f"{case.id}__{i}"] = np.asarray(part, dtype=np.float64)
                info["parts"] = len(value)
            else:
                arrays[case.id] = np.asarray(value, dtype=np.float64)
            infos[case.id] = info
        except Exception as e:  # noqa: BLE001 - the runner catches everything the student raises
            infos[case.id] = {"ok": False, "ename": type(e).__name__, "evalue": str(e)}
    return RunOutput(kind="functions", status="ok", arrays=arrays,
                     info={"cases": infos, "module_error": None, "missing": []})


RTOL, ATOL = 1e-6, 1e-9  # as rubrics/imagenet_cnn.yaml: a step of α = 0.001 must be exact, not w


def check(**options) -> UnitTestCheck:
    return UnitTestCheck(id="adam_step", kind="unit_test", function="adam_step", points=3, options=options,
                         rtol=RTOL, atol=ATOL)


def student(bias=True, t_shift=0, square="dw", eps_inside=False, use_dw=False, return_hat=False,
            order=(0, 1, 2), fixed_hparams=False):
    """An adam_step as students write it, with one switch per usual mistake."""
    def adam_step(w, dw, v, s, t, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        if fixed_hparams:
            learning_rate, beta1, beta2, epsilon = 0.001, 0.9, 0.999, 1e-8
        v = beta1 * v + (1 - beta1) * dw
        s = {"dw": beta2 * s + (1 - beta2) * dw ** 2, "none": beta2 * s + (1 - beta2) * dw,
             "scaled": beta2 * s + ((1 - beta2) * dw) ** 2}[square]
        tt = t + t_shift
        v_hat, s_hat = (v / (1 - beta1 ** tt), s / (1 - beta2 ** tt)) if bias else (v, s)
        root = np.sqrt(s_hat + epsilon) if eps_inside else np.sqrt(s_hat) + epsilon
        w = w - learning_rate * (dw if use_dw else v_hat) / root
        out = (w, v_hat, s_hat) if return_hat else (w, v, s)
        return tuple(out[i] for i in order)
    return adam_step


def failed(result, cases) -> set[str]:
    return {c.id for c in cases if any(line.startswith(c.description["es"] + ":") for line in result.details)}


@pytest.fixture(scope="module")
def cases():
    return build_suite("adam_step", hidden_dir=HIDDEN)


def test_suite_is_well_formed_deterministic_and_partly_hidden(cases):
    again = build_suite("adam_step", hidden_dir=HIDDEN)
    assert [c.id for c in cases] == [c.id for c in again]
    for c, d in zip(cases, again):
        assert all(np.array_equal(a, b) for a, b in zip(c.args, d.args))
        assert all(not a.flags.writeable for a in c.args)
        assert c.returns == ("w", "v", "s") and c.description["es"] and c.description["en"]
        assert c.args[4].dtype == np.int64 and c.args[4].ndim == 0 and c.args[4] >= 1  # t counts from 1
        shapes = {a.shape for a in c.args[:4]}
        assert len(shapes) == 1 and np.all(c.args[3] >= 0)  # same shape; s is a mean of squares
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", c.id) for c in cases)
    public = [c for c in cases if c.public]
    assert public and len(public) < len(cases)
    assert {c.args[0].ndim for c in cases} >= {0, 1, 2, 3}  # any shape: scalar to tensor
    assert any(len(c.args) == 9 for c in cases)  # hyperparameters passed explicitly somewhere
    package_text = "".join(p.read_text() for p in (ROOT / "grader").rglob("*.py"))
    for c in cases:
        if not c.public:
            assert c.id not in package_text  # hidden cases are not shipped to students


@pytest.mark.parametrize("bias", [True, False])
def test_reference_scores_full_marks_in_either_convention(cases, bias):
    fn = lambda *a: ref.adam_step(*a, bias_correction=bias)  # noqa: E731
    result = judge_unit(check(bias_correction=bias), cases, sandbox_run(fn, cases), "es")
    assert (result.points, result.passed, result.details) == (3, True, [])


def test_the_two_conventions_differ_on_every_case(cases):
    for case in cases:
        with_bc, without = expected(case, {"bias_correction": True}), expected(case, {"bias_correction": False})
        assert isinstance(with_bc, tuple) and len(with_bc) == 3
        assert not np.allclose(with_bc[0], without[0], rtol=RTOL, atol=ATOL), case.id


def test_default_option_is_bias_correction(cases):
    plain = UnitTestCheck(id="adam_step", kind="unit_test", function="adam_step", points=3, rtol=RTOL, atol=ATOL)
    assert plain.options == {}
    wrong = judge_unit(plain, cases, sandbox_run(student(bias=False), cases), "es")
    assert wrong.points < 3


@pytest.mark.parametrize("mistake,options,words", [
    (dict(bias=False), {}, "falta la corrección de sesgo"),
    (dict(bias=True), {"bias_correction": False}, "sin corrección de sesgo, como en las transparencias"),
    (dict(t_shift=1), {}, "t cuenta desde 1"),
    (dict(square="none"), {}, "s acumula el cuadrado del gradiente"),
    (dict(square="scaled"), {}, "eleva al cuadrado solo dw"),
    (dict(eps_inside=True), {}, "epsilon va fuera de la raíz"),
    (dict(use_dw=True), {}, "usa el momento v̂, no el gradiente dw"),
    (dict(return_hat=True), {}, "devuelve v y s sin corregir"),
    (dict(order=(0, 2, 1)), {}, "el orden de la tupla es (w, v, s)"),
    (dict(fixed_hparams=True), {}, "usa los argumentos learning_rate"),
])
def test_each_usual_mistake_loses_points_with_a_named_hint(cases, mistake, options, words):
    fn = student(**{**dict(bias=options.get("bias_correction", True)), **mistake})
    result = judge_unit(check(**options), cases, sandbox_run(fn, cases), "es")
    assert result.points < 3 and not result.passed
    assert any(words in line for line in result.details), result.details


def test_epsilon_inside_the_root_passes_the_public_cases_and_fails_a_hidden_one(cases):
    result = judge_unit(check(), cases, sandbox_run(student(eps_inside=True), cases), "es")
    assert failed(result, cases) and all(not c.public for c in cases if c.id in failed(result, cases))
    assert 0 < result.points < 3


def test_messages_name_the_returned_value_and_show_the_call(cases):
    first = [c for c in cases if c.id == "adam__first_step"]
    result = judge_unit(check(), first, sandbox_run(student(bias=False), first), "es")
    assert result.details[0].startswith(
        "el primer paso (t = 1, v = s = 0) con los hiperparámetros por defecto: "
        "adam_step([0.5, -1.2, 2], [0.1, -0.3, 0.02], [0, 0, 0], [0, 0, 0], 1) devolvió w = ")
    assert "se esperaba w = [ 0.499 -1.199 1.999]" in result.details[0]
    english = judge_unit(check(), first, sandbox_run(student(bias=False), first), "en")
    assert "returned w = " in english.details[0] and "Hint: the bias correction is missing" in english.details[1]


def test_tuple_shapes_lists_and_counts(cases):
    as_list = judge_unit(check(), cases, sandbox_run(lambda *a: list(ref.adam_step(*a)), cases), "es")
    assert as_list.points == 3  # [w, v, s] arrives stacked: accepted
    two = judge_unit(check(), cases, sandbox_run(lambda *a: ref.adam_step(*a)[:2], cases), "es")
    assert two.points == 0 and "devolvió 2 valores; se esperaba la tupla (w, v, s)" in two.details[0]
    only_w = judge_unit(check(), cases, sandbox_run(lambda *a: ref.adam_step(*a)[0], cases), "es")
    assert only_w.points == 0 and "devolvió un solo array de forma (3,); se esperaba la tupla (w, v, s)" in \
        only_w.details[0]

    def flat(w, dw, v, s, t, *hp):
        w2, v2, s2 = ref.adam_step(w, dw, v, s, t, *hp)
        return np.ravel(w2), v2, s2
    shape = judge_unit(check(), cases, sandbox_run(flat, cases), "es")
    assert any("devolvió w de forma (12,); se esperaba forma (4, 3)" in d for d in shape.details)

    def nan_s(*a):
        w, v, s = ref.adam_step(*a)
        return w, v, s * np.nan
    bad = judge_unit(check(), cases, sandbox_run(nan_s, cases), "es")
    assert bad.points == 0 and "devolvió s = [nan nan nan] (contiene NaN)" in bad.details[0]


def test_rubric_options_are_validated_when_the_rubric_loads():
    base = {"assignment": "imagenet_cnn", "checks": [
        {"id": "adam_step", "kind": "unit_test", "function": "adam_step", "points": 3}]}
    for options, words in [({"bias_corection": True}, "unknown option 'bias_corection' for adam_step "
                                                         "(known: bias_correction)"),
                           ({"bias_correction": "yes"}, "must be bool"),
                           ({"bias_correction": 1}, "must be bool")]:
        raw = {**base, "checks": [{**base["checks"][0], "options": options}]}
        with pytest.raises(RubricError, match=re.escape("checks[0] (id adam_step).options")) as err:
            parse_rubric(raw)
        assert words in str(err.value)
    raw = {**base, "checks": [{**base["checks"][0], "options": {"bias_correction": False}}]}
    assert parse_rubric(raw).checks[0].options == {"bias_correction": False}
    with pytest.raises(RubricError, match="unknown option 'x' for softmax"):
        parse_rubric({**base, "checks": [{"id": "s", "kind": "unit_test", "function": "softmax", "points": 1,
                                          "options": {"x": 1}}]})


def test_the_rubric_of_the_assignment_says_which_convention():
    from grader.rubric import load_rubric

    rubric = load_rubric(ROOT / "rubrics" / "imagenet_cnn.yaml")
    adam = rubric.check("adam_step")
    assert adam.options == {"bias_correction": True} and adam.points == 3
    assert (adam.rtol, adam.atol) == (RTOL, ATOL)


@pytest.mark.slow
def test_reference_matches_keras_adam():
    """Keras folds the bias correction into the step size, α·√(1−β2^t)/(1−β1^t), and adds ε to
    √s (uncorrected), which is the paper's update with ε scaled by √(1−β2^t). So: exact with that
    ε per step, and within a small tolerance with the plain ε (gradients ≫ ε here)."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    w0 = rng.normal(size=(3, 4)).astype(np.float32)
    grads = rng.normal(scale=0.3, size=(6, 3, 4)).astype(np.float32)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    var = tf.Variable(w0)
    opt = tf.keras.optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    exact = plain = w0.astype(np.float64)
    v1 = s1 = v2 = s2 = np.zeros_like(exact)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(tf.convert_to_tensor(g), var)])
        g64 = g.astype(np.float64)
        exact, v1, s1 = ref.adam_step(exact, g64, v1, s1, t, lr, b1, b2, eps / np.sqrt(1 - b2 ** t))
        plain, v2, s2 = ref.adam_step(plain, g64, v2, s2, t, lr, b1, b2, eps)
        np.testing.assert_allclose(var.numpy(), exact, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(var.numpy(), plain, rtol=1e-4, atol=1e-5)
    without = w0.astype(np.float64)
    v = s = np.zeros_like(without)
    for t, g in enumerate(grads, start=1):
        without, v, s = ref.adam_step(without, g.astype(np.float64), v, s, t, lr, b1, b2, eps,
                                      bias_correction=False)
    assert not np.allclose(var.numpy(), without, atol=1e-3)  # the slides' version is another optimizer


def test_a_tuple_where_one_array_is_expected_is_stacked_as_before():
    """The runner now splits tuples; a softmax that returns a tuple of floats still passes."""
    from grader.rubric import UnitTestCheck as U

    cases = build_suite("softmax", hidden_dir=None)
    run = sandbox_run(lambda z: tuple(ref.softmax(z)), cases)
    assert any("parts" in i for i in run.info["cases"].values())
    result = judge_unit(U(id="softmax", kind="unit_test", function="softmax", points=2), cases, run, "es")
    assert result.points == 2, result.details
