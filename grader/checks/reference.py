"""Host-side reference implementations: the expected answers, computed here and never sent in.

Conventions follow the course slides: classes along axis 0, one example per column.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over axis 0; works for (C,) and (C, m)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def cross_entropy(y: np.ndarray, y_hat: np.ndarray) -> float:
    """Cost = -(1/m) sum_i sum_j y_ij log ŷ_ij, y one-hot (C, m); 0·log 0 counts as 0."""
    y = np.asarray(y, dtype=np.float64)
    y_hat = np.asarray(y_hat, dtype=np.float64)
    m = y.shape[1] if y.ndim == 2 else 1
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, y * np.log(y_hat), 0.0)
    return float(-terms.sum() / m)


def adam_step(w, dw, v, s, t, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, *,
              bias_correction: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam update, elementwise; returns (w, v, s) with v, s the moments before correction.

    bias_correction=True is the Adam paper's (and Keras') update, v/(1-β1^t) and s/(1-β2^t), with t
    counted from 1; False is the slides' version, which uses v and s as they are. The rubric picks
    (UnitTestCheck.options)."""
    w, dw, v, s = (np.asarray(a, dtype=np.float64) for a in (w, dw, v, s))
    v = beta1 * v + (1 - beta1) * dw
    s = beta2 * s + (1 - beta2) * dw ** 2
    v_hat, s_hat = (v / (1 - beta1 ** t), s / (1 - beta2 ** t)) if bias_correction else (v, s)
    return w - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon), v, s


REFERENCES: dict[str, Callable[..., object]] = {"softmax": softmax, "cross_entropy": cross_entropy,
                                                "adam_step": adam_step}


def options_of(function: str) -> dict[str, object]:
    """The rubric options (keyword-only parameters, with their defaults) of a reference."""
    import inspect

    fn = REFERENCES.get(function)
    if fn is None:
        return {}
    return {p.name: p.default for p in inspect.signature(fn).parameters.values() if p.kind == p.KEYWORD_ONLY}


def check_options(function: str, options: dict | None) -> None:
    """Raise ValueError naming an option the reference of `function` does not have, or a value
    of the wrong type (the rubric validator calls this, so typos fail when the rubric loads)."""
    known = options_of(function)
    for key, value in (options or {}).items():
        if key not in known:
            have = ", ".join(sorted(known)) or "none"
            raise ValueError(f"unknown option {key!r} for {function} (known: {have})")
        if known[key] is not None and type(value) is not type(known[key]):
            raise ValueError(f"option {key!r} of {function} must be {type(known[key]).__name__}, "
                             f"got {value!r}")


def expected(case, options: dict | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
    """The reference answer for a UnitCase, as a float64 array (0-d for scalars), or a tuple of
    them when the function returns several values (adam_step: w, v, s). `options` come from the
    rubric check (e.g. bias_correction)."""
    try:
        fn = REFERENCES[case.function]
    except KeyError:
        raise ValueError(f"no reference implementation for {case.function!r} "
                         f"(known: {', '.join(sorted(REFERENCES))})") from None
    check_options(case.function, options)
    value = fn(*case.args, **(options or {}))
    if isinstance(value, tuple):
        return tuple(np.asarray(v, dtype=np.float64) for v in value)
    return np.asarray(value, dtype=np.float64)
