"""Name the usual mistake behind a wrong answer, by recomputing the usual wrong answers on the host.

A student reads "you normalised along axis 1" far faster than two matrices that differ.
"""
from __future__ import annotations

import numpy as np

from ..messages import tr

HINTS = {
    "softmax_axis1": {
        "es": "normalizaste a lo largo del eje 1 (por filas); las clases están en el eje 0: usa axis=0, keepdims=True",
        "en": "you normalised along axis 1 (rows); classes are along axis 0: use axis=0, keepdims=True"},
    "softmax_global": {
        "es": "dividiste entre la suma de toda la matriz; cada columna (un ejemplo) debe sumar 1: "
              "np.sum(e, axis=0, keepdims=True)",
        "en": "you divided by the sum of the whole matrix; each column (one example) must sum to 1: "
              "np.sum(e, axis=0, keepdims=True)"},
    "softmax_not_normalised": {
        "es": "cada columna del resultado debería sumar 1, y suma {sums}",
        "en": "each column of the result should sum to 1, and it sums to {sums}"},
    "ce_sign": {
        "es": "el signo está cambiado: la pérdida es −(1/m) Σ y·log ŷ, un número positivo",
        "en": "the sign is flipped: the loss is −(1/m) Σ y·log ŷ, a positive number"},
    "ce_log10": {
        "es": "usaste el logaritmo en base 10; la entropía cruzada usa el logaritmo natural (np.log)",
        "en": "you used the base-10 logarithm; cross-entropy uses the natural log (np.log)"},
    "ce_sum_m": {
        "es": "sumaste sobre los m ejemplos sin promediar: divide entre m (el número de columnas)",
        "en": "you summed over the m examples without averaging: divide by m (the number of columns)"},
    "ce_mean_all": {
        "es": "promediaste sobre las C·m entradas; hay que sumar sobre las clases y promediar solo sobre "
              "los m ejemplos",
        "en": "you averaged over all C·m entries; sum over the classes and average over the m examples only"},
    "ce_divide_c": {
        "es": "dividiste entre C (y.shape[0]) en lugar de m (y.shape[1]): ¿ejes traspuestos? "
              "Las clases están en el eje 0",
        "en": "you divided by C (y.shape[0]) instead of m (y.shape[1]): axes swapped? Classes are along axis 0"},
    "ce_forgot_y": {
        "es": "el resultado no depende de y: multiplica por y para quedarte solo con log ŷ de la clase correcta",
        "en": "the result ignores y: multiply by y to keep only log ŷ of the correct class"},
}


def diagnose(case, out: np.ndarray, expected: np.ndarray, lang: str) -> str | None:
    """A hint naming the recognised mistake, or None. `out` already has the expected shape."""
    with np.errstate(all="ignore"):
        if case.function == "softmax":
            return _softmax(np.asarray(case.args[0], dtype=np.float64), out, lang)
        if case.function == "cross_entropy":
            y, y_hat = (np.asarray(a, dtype=np.float64) for a in case.args[:2])
            return _cross_entropy(y, y_hat, float(out.reshape(())), float(expected.reshape(())), lang)
    return None


def _close(a, b) -> bool:
    return bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=1e-3, atol=1e-6)


def _softmax(z: np.ndarray, out: np.ndarray, lang: str) -> str | None:
    if z.ndim == 2:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        if _close(out, e / e.sum(axis=1, keepdims=True)):
            return tr(HINTS, "softmax_axis1", lang)
    if z.ndim == 2 and z.shape[1] > 1:
        e = np.exp(z - z.max())
        if _close(out, e / e.sum()):
            return tr(HINTS, "softmax_global", lang)
    sums = out.sum(axis=0)
    if np.all(np.isfinite(sums)) and not np.allclose(sums, 1, atol=1e-3):
        text = np.array2string(np.atleast_1d(sums), precision=4, threshold=6, edgeitems=2)
        return tr(HINTS, "softmax_not_normalised", lang, sums=text)
    return None


def _cross_entropy(y: np.ndarray, y_hat: np.ndarray, out: float, want: float, lang: str) -> str | None:
    if y.ndim != 2 or not np.isfinite(out):
        return None
    c, m = y.shape
    candidates = [
        ("ce_sign", -want),
        ("ce_log10", want / np.log(10)),
        ("ce_sum_m", want * m if m > 1 else None),
        ("ce_mean_all", want / c),
        ("ce_divide_c", want * m / c if c != m else None),
        ("ce_forgot_y", -np.mean(np.log(y_hat))),
        ("ce_forgot_y", -np.sum(np.log(y_hat)) / m),
    ]
    for key, value in candidates:
        if value is not None and _close(out, value):
            return tr(HINTS, key, lang)
    return None
