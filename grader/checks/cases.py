"""Deterministic unit-test suites, by name. Inputs only: expected values come from reference.py.

Each case targets a mistake students make (see the descriptions). `public` cases may be shown to
students in the self-check; the others stay hidden until grading. Values come from a fixed LCG,
not numpy's generators, so suites are identical on every numpy version.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
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


def build_suite(name: str) -> list[UnitCase]:
    """The cases of suite `name` ("softmax", "cross_entropy")."""
    try:
        builder = SUITES[name]
    except KeyError:
        raise ValueError(f"unknown test suite {name!r} (known: {', '.join(sorted(SUITES))})") from None
    cases = builder()
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
        UnitCase("softmax__one_column", f, [_arr(_logits(5, 1, 23))], description={
            "es": "un solo ejemplo como columna, z de forma (5, 1)",
            "en": "a single example as a column, z of shape (5, 1)"},
            hint={"es": "con z de forma (C, 1) el resultado también es (C, 1) y la columna suma 1",
                  "en": "for z of shape (C, 1) the result is (C, 1) too, and the column sums to 1"}),
        UnitCase("softmax__large", f, [_arr([1000, 1001, 1002])], public=True, description={
            "es": "logits grandes, z = [1000, 1001, 1002] (exp(1000) desborda)",
            "en": "large logits, z = [1000, 1001, 1002] (exp(1000) overflows)"},
            hint={"es": "resta el máximo antes de exp: softmax(z) = softmax(z − max(z)) y así exp no desborda",
                  "en": "subtract the maximum before exp: softmax(z) = softmax(z − max(z)), so exp cannot overflow"}),
        UnitCase("softmax__very_negative", f, [_arr([-1, -800, 2, -3])], description={
            "es": "un logit muy negativo, z = [−1, −800, 2, −3]",
            "en": "one very negative logit, z = [−1, −800, 2, −3]"},
            hint={"es": "resta el máximo (no el mínimo) antes de exp: con z − min(z) el exponente llega a 802",
                  "en": "subtract the maximum (not the minimum) before exp: z − min(z) reaches 802"}),
        UnitCase("softmax__columns_apart", f, [_arr([[700, -100], [701, -99], [702, -98]])], description={
            "es": "dos columnas de escalas muy distintas, z de forma (3, 2)",
            "en": "two columns of very different scale, z of shape (3, 2)"},
            hint={"es": "resta el máximo de cada columna (np.max(z, axis=0, keepdims=True)), "
                        "no el de toda la matriz: si no, exp(−800) da 0 y 0/0 = NaN",
                  "en": "subtract each column's maximum (np.max(z, axis=0, keepdims=True)), "
                        "not the whole matrix's: otherwise exp(−800) is 0 and 0/0 = NaN"}),
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
        UnitCase("cross_entropy__uniform", f, [_arr(_one_hot(10, 4, 13)), _arr(np.full((10, 4), 0.1))],
                 description={"es": "predicciones uniformes ŷ = 0,1 con C = 10 y m = 4: "
                                    "la pérdida es ln 10 ≈ 2,303",
                              "en": "uniform predictions ŷ = 0.1 with C = 10 and m = 4: the loss is ln 10 ≈ 2.303"}),
        UnitCase("cross_entropy__few_classes", f, [_arr(_one_hot(3, 8, 17)), _arr(_probs(3, 8, 19))],
                 description={"es": "un lote de m = 8 ejemplos y C = 3 clases, y e ŷ de forma (3, 8)",
                              "en": "a batch of m = 8 examples and C = 3 classes, y and ŷ of shape (3, 8)"}),
    ]


SUITES: dict[str, Callable[[], list[UnitCase]]] = {
    "softmax": _softmax_suite,
    "cross_entropy": _cross_entropy_suite,
}
