"""Name the usual adam_step mistake behind a wrong (w, v, s), by recomputing the usual wrong
updates on the host and seeing which one the student's answer matches.

"You forgot the bias correction" is read in a second; three arrays that differ are not.
"""
from __future__ import annotations

import numpy as np

from ..messages import tr

HINTS = {
    "no_bias": {
        "es": "falta la corrección de sesgo: el paso usa v̂ = v / (1 − β1^t) y ŝ = s / (1 − β2^t) "
              "(como en el artículo de Adam y en Keras), y se devuelven v y s sin corregir",
        "en": "the bias correction is missing: the step uses v̂ = v / (1 − β1^t) and ŝ = s / (1 − β2^t) "
              "(as in the Adam paper and Keras), and v and s are returned uncorrected"},
    "bias_unwanted": {
        "es": "en esta práctica Adam va sin corrección de sesgo, como en las transparencias: "
              "w − α·v / (√s + ε)",
        "en": "in this assignment Adam has no bias correction, as in the slides: w − α·v / (√s + ε)"},
    "t_from_0": {
        "es": "t cuenta desde 1 (el primer paso es t = 1): la corrección es 1 − β^t, no 1 − β^(t+1)",
        "en": "t counts from 1 (the first step is t = 1): the correction is 1 − β^t, not 1 − β^(t+1)"},
    "s_not_squared": {
        "es": "s acumula el cuadrado del gradiente: s = β2·s + (1 − β2)·dw²",
        "en": "s accumulates the squared gradient: s = β2·s + (1 − β2)·dw²"},
    "s_square_wrong": {
        "es": "eleva al cuadrado solo dw: s = β2·s + (1 − β2)·dw², no ((1 − β2)·dw)² ni todo el resultado",
        "en": "square dw only: s = β2·s + (1 − β2)·dw², not ((1 − β2)·dw)² nor the whole sum"},
    "eps_inside": {
        "es": "epsilon va fuera de la raíz: √ŝ + ε, no √(ŝ + ε)",
        "en": "epsilon goes outside the root: √ŝ + ε, not √(ŝ + ε)"},
    "dw_in_update": {
        "es": "el paso usa el momento v̂, no el gradiente dw: w − α·v̂ / (√ŝ + ε)",
        "en": "the step uses the momentum v̂, not the gradient dw: w − α·v̂ / (√ŝ + ε)"},
    "hat_returned": {
        "es": "devuelve v y s sin corregir: la corrección de sesgo solo entra en el paso de w, "
              "y el siguiente paso parte de v y s",
        "en": "return v and s uncorrected: the bias correction only enters w's step, "
              "and the next step starts from v and s"},
    "swapped": {"es": "el orden de la tupla es (w, v, s)", "en": "the tuple's order is (w, v, s)"},
    "betas_swapped": {"es": "β1 es para el momento v y β2 para s", "en": "β1 is for the momentum v and β2 for s"},
    "sign": {"es": "el paso va en contra del gradiente: w − α·…, no w + α·…",
             "en": "the step goes against the gradient: w − α·…, not w + α·…"},
}
_DEFAULTS = (0.001, 0.9, 0.999, 1e-8)


def _step(w, dw, v, s, t, lr, b1, b2, eps, *, correct: bool, t_shift: int = 0, square: str = "dw",
          eps_inside: bool = False, use_dw: bool = False, return_hat: bool = False, sign: float = 1.0):
    """Adam with one thing done the way a student might; square: dw | none | scaled | all."""
    v = b1 * v + (1 - b1) * dw
    s = {"dw": b2 * s + (1 - b2) * dw ** 2, "none": b2 * s + (1 - b2) * dw,
         "scaled": b2 * s + ((1 - b2) * dw) ** 2, "all": (b2 * s + (1 - b2) * dw) ** 2}[square]
    tt = t + t_shift
    v_hat, s_hat = (v / (1 - b1 ** tt), s / (1 - b2 ** tt)) if correct else (v, s)
    denom = np.sqrt(s_hat + eps) if eps_inside else np.sqrt(s_hat) + eps
    w = w - sign * lr * (dw if use_dw else v_hat) / denom
    return (w, v_hat, s_hat) if return_hat else (w, v, s)


def variants(case, options: dict) -> list[tuple[str, tuple]]:
    """(hint key, the (w, v, s) that mistake gives) for this case's inputs."""
    args = [np.asarray(a, dtype=np.float64) for a in case.args]
    w, dw, v, s, t = args[:5]
    lr, b1, b2, eps = list(args[5:9]) + list(_DEFAULTS[len(args) - 5:])
    correct = bool(options.get("bias_correction", True))
    base = (w, dw, v, s, t, lr, b1, b2, eps)
    right = _step(*base, correct=correct)
    out = [("bias_unwanted" if not correct else "no_bias", _step(*base, correct=not correct))]
    if correct:
        out += [("t_from_0", _step(*base, correct=True, t_shift=1)),
                ("hat_returned", _step(*base, correct=True, return_hat=True))]
    out += [("s_not_squared", _step(*base, correct=correct, square="none")),
            ("s_square_wrong", _step(*base, correct=correct, square="scaled")),
            ("s_square_wrong", _step(*base, correct=correct, square="all")),
            ("eps_inside", _step(*base, correct=correct, eps_inside=True)),
            ("dw_in_update", _step(*base, correct=correct, use_dw=True)),
            ("betas_swapped", _step(w, dw, v, s, t, lr, b2, b1, eps, correct=correct)),
            ("sign", _step(*base, correct=correct, sign=-1.0)),
            ("swapped", (right[0], right[2], right[1]))]
    return out


def diagnose(case, got: list[np.ndarray], want: tuple, lang: str, options: dict) -> str | None:
    """A hint naming the recognised mistake, or None. `got` already has the expected shapes."""
    with np.errstate(all="ignore"):
        for key, values in variants(case, options or {}):
            if all(np.allclose(g, x, rtol=1e-4, atol=1e-9, equal_nan=True) for g, x in zip(got, values)):
                if not all(np.allclose(x, w, rtol=1e-6, atol=1e-12) for x, w in zip(values, want)):
                    return tr(HINTS, key, lang)
    return None
