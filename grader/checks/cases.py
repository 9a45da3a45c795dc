"""Deterministic unit-test suites, by name. Inputs only: expected values come from reference.py.

Each case targets a mistake students make (see the descriptions). The cases here are PUBLIC:
they ship with the package, so the student self-check can run them. The hidden cases live in
the course folder, `rubrics/hidden_cases/<suite>.py` (a function `hidden_cases()` returning
UnitCases), which is not part of the installed package; the instructor's grader adds them.
Values come from a fixed LCG, not numpy's generators, so suites are identical everywhere.
"""
from __future__ import annotations

import re
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

_ID = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass
class UnitCase:
    id: str  # unique, [A-Za-z0-9_]+; the key of the sandbox's result arrays
    function: str  # name of the student function to call
    args: list[np.ndarray]  # positional, float64, read-only
    description: dict[str, str]  # lang -> what is tested
    public: bool = False
    hint: dict[str, str] = field(default_factory=dict)  # lang -> advice when it fails unexplained
    returns: tuple[str, ...] = ()  # names of the values a tuple-returning function gives back (w, v, s)


def default_hidden_dir() -> Path:
    from ..paths import course_dir

    return course_dir() / "rubrics" / "hidden_cases"


def hidden_cases(name: str, hidden_dir: Path | None) -> list[UnitCase]:
    """The instructor's hidden cases of suite `name`, or [] when there are none here."""
    path = Path(hidden_dir) / f"{name}.py" if hidden_dir else None
    if path is None or not path.is_file():
        return []
    module = runpy.run_path(str(path))  # the instructor's own file: trusted
    return list(module["hidden_cases"]())


def build_suite(name: str, hidden_dir: Path | None | str = "default", public_only: bool = False) -> list[UnitCase]:
    """The cases of suite `name` ("softmax", "cross_entropy"): public ones, then the hidden
    ones from `hidden_dir` (default: the course folder's rubrics/hidden_cases)."""
    try:
        builder = SUITES[name]
    except KeyError:
        raise ValueError(f"unknown test suite {name!r} (known: {', '.join(sorted(SUITES))})") from None
    cases = builder()
    if not public_only:
        hidden = hidden_cases(name, default_hidden_dir() if hidden_dir == "default" else hidden_dir)
        for c in hidden:
            c.public = False
        cases += hidden
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids) and all(_ID.match(i) for i in ids), ids
    return cases


def case_payload(suite: list[UnitCase], function: str) -> tuple[list[dict], dict[str, np.ndarray]]:
    """What the function runner gets for `suite`: the calls ({id, function, args: keys}) and the
    argument arrays by key. Expected values stay here."""
    cases, inputs = [], {}
    for case in suite:
        keys = [f"{case.id}__{i}" for i in range(len(case.args))]
        inputs.update({k: np.asarray(a) for k, a in zip(keys, case.args)})
        cases.append({"id": case.id, "function": function, "args": keys})
    return cases, inputs


def _arr(values) -> np.ndarray:
    a = np.array(values, dtype=np.float64)
    a.setflags(write=False)  # a student's in-place `z -= z.max()` must not change the case
    return a


def _lcg(n: int, seed: int) -> np.ndarray:
    """n numbers in [0, 1), the same on every platform and numpy version."""
    out, state = [], seed
    for _ in range(n):
        state = (1103515245 * state + 12345) % 2**31
        out.append(state / 2**31)
    return np.array(out)


def _logits(c: int, m: int, seed: int, scale: float = 3.0) -> np.ndarray:
    return np.round(scale * (2 * _lcg(c * m, seed) - 1), 3).reshape(c, m)


def _one_hot(c: int, m: int, seed: int) -> np.ndarray:
    labels = (_lcg(m, seed) * c).astype(int)
    y = np.zeros((c, m))
    y[labels, np.arange(m)] = 1
    return y


def _probs(c: int, m: int, seed: int) -> np.ndarray:
    z = _logits(c, m, seed, 2.0)
    e = np.exp(z - z.max(axis=0))
    return np.round(e / e.sum(axis=0), 6)


def _softmax_suite() -> list[UnitCase]:
    f = "softmax"
    return [
        UnitCase("softmax__slides", f, [_arr([3, -2, 6])], public=True, description={
            "es": "ejemplo de las transparencias, z = [3, −2, 6]",
            "en": "the slides' example, z = [3, −2, 6]"}),
        UnitCase("softmax__batch", f, [_arr(_logits(4, 3, 11))], public=True, description={
            "es": "un lote: z de forma (4, 3), 4 clases en el eje 0 y un ejemplo por columna",
            "en": "a batch: z of shape (4, 3), 4 classes along axis 0, one example per column"},
            hint={"es": "las clases están en el eje 0: cada columna debe sumar 1 (axis=0, keepdims=True)",
                  "en": "classes are along axis 0: every column must sum to 1 (axis=0, keepdims=True)"}),
        UnitCase("softmax__large", f, [_arr([1000, 1001, 1002])], public=True, description={
            "es": "logits grandes, z = [1000, 1001, 1002] (exp(1000) desborda)",
            "en": "large logits, z = [1000, 1001, 1002] (exp(1000) overflows)"},
            hint={"es": "resta el máximo antes de exp: softmax(z) = softmax(z − max(z)) y así exp no desborda",
                  "en": "subtract the maximum before exp: softmax(z) = softmax(z − max(z)), so exp cannot overflow"}),
    ]


def _cross_entropy_suite() -> list[UnitCase]:
    f = "cross_entropy"
    return [
        UnitCase("cross_entropy__slides", f, [_arr([[0], [1], [0], [0]]), _arr([[0.3], [0.2], [0.1], [0.4]])],
                 public=True, description={
                     "es": "ejemplo del gato de las transparencias: y = (0, 1, 0, 0), ŷ = (0,3; 0,2; 0,1; 0,4) "
                           "como columnas (4, 1)",
                     "en": "the slides' cat example: y = (0, 1, 0, 0), ŷ = (0.3, 0.2, 0.1, 0.4) as (4, 1) columns"}),
        UnitCase("cross_entropy__batch", f, [_arr(_one_hot(10, 6, 5)), _arr(_probs(10, 6, 7))], public=True,
                 description={"es": "un lote de m = 6 ejemplos y C = 10 clases, y e ŷ de forma (10, 6)",
                              "en": "a batch of m = 6 examples and C = 10 classes, y and ŷ of shape (10, 6)"}),
    ]


def _int(value: int) -> np.ndarray:
    """A read-only 0-d integer argument (the runner passes 0-d arguments as Python numbers)."""
    a = np.array(value, dtype=np.int64)
    a.setflags(write=False)
    return a


def _adam_args(shape: tuple[int, ...], seed: int, t: int, grad_scale: float = 0.5) -> list[np.ndarray]:
    """w, dw, v, s for step t of adam_step, v and s from t - 1 earlier steps (so they are
    consistent: s >= 0, of the gradients' squared scale), and t."""
    n = int(np.prod(shape))
    w = np.round(2 * _lcg(n, seed) - 1, 4).reshape(shape)
    grads = grad_scale * (2 * _lcg(n * t, seed + 1) - 1).reshape(t, *shape)
    v, s = np.zeros(shape), np.zeros(shape)
    for g in grads[:-1]:
        v, s = 0.9 * v + 0.1 * g, 0.999 * s + 0.001 * g ** 2
    return [_arr(w), _arr(grads[-1]), _arr(v), _arr(s), _int(t)]


ADAM_RETURNS = ("w", "v", "s")


def _adam_suite() -> list[UnitCase]:
    f = "adam_step"
    first = [_arr([0.5, -1.2, 2.0]), _arr([0.1, -0.3, 0.02]), _arr([0, 0, 0]), _arr([0, 0, 0]), _int(1)]
    return [
        UnitCase("adam__first_step", f, first, public=True, returns=ADAM_RETURNS, description={
            "es": "el primer paso (t = 1, v = s = 0) con los hiperparámetros por defecto",
            "en": "the first step (t = 1, v = s = 0) with the default hyperparameters"},
            hint={"es": "en el primer paso, con corrección de sesgo, cada peso se mueve casi exactamente "
                        "learning_rate en sentido contrario al gradiente",
                  "en": "on the first step, with bias correction, each weight moves almost exactly "
                        "learning_rate against its gradient"}),
        UnitCase("adam__matrix", f, _adam_args((4, 3), 31, 7), public=True, returns=ADAM_RETURNS, description={
            "es": "una matriz de pesos (4, 3) con v y s de pasos anteriores, t = 7",
            "en": "a (4, 3) weight matrix with v and s from earlier steps, t = 7"}),
    ]


SUITES: dict[str, Callable[[], list[UnitCase]]] = {
    "softmax": _softmax_suite,
    "cross_entropy": _cross_entropy_suite,
    "adam_step": _adam_suite,
}
