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


SUITES: dict[str, Callable[[], list[UnitCase]]] = {
    "softmax": _softmax_suite,
    "cross_entropy": _cross_entropy_suite,
}
