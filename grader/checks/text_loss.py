"""Score a character language model on held-out text, on the host, from its raw outputs.

What came back from the sandbox (untrusted): the student's vocabulary as JSON (char2idx as
[key, index, key-is-str] triples, idx2char as strings), the shape of the model's output, and
its scores at the last position (N, V), one row per window of grader/checks/text_windows.py. The targets never left
the host. Per window, the loss is -log p(target), where p comes from:

- probabilities, when every row is in [0, 1] and sums to 1 (a softmax output layer);
- otherwise logits (or log-probabilities): log-softmax here, in float64.

Misses are capped: a window whose target or context has a character missing from char2idx
(the model cannot read the real text) counts as probability `floor_prob`, and no window costs
more than -log(floor_prob), so one absurdly confident mistake cannot outweigh the rest. The
mean over windows is compared with a baseline that ignores context (the training text's
character frequencies, or uniform): full points at or below `threshold` x baseline, linear
credit up to `partial_from` x baseline.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..messages import fmt_num, tr
from ..model import CheckResult
from .text import clean
from .text_windows import Windows, baseline_loss

if TYPE_CHECKING:
    from ..rubric import TextLossCheck

MESSAGES = {
    "score": {"es": "Pérdida media por carácter en el texto oculto: {loss} nats; referencia ({base_name}): "
                    "{base} nats; cociente {ratio} (puntuación completa con {thr} o menos).",
              "en": "Mean loss per character on the held-out text: {loss} nats; baseline ({base_name}): "
                    "{base} nats; ratio {ratio} (full points at {thr} or below)."},
    "partial": {"es": " Crédito parcial entre los cocientes {thr} y {pf}.",
                "en": " Partial credit between ratios {thr} and {pf}."},
    "unigram": {"es": "frecuencias de los caracteres", "en": "character frequencies"},
    "uniform": {"es": "uniforme sobre {v} caracteres", "en": "uniform over {v} characters"},
    "oov": {"es": " {bad} de las {n} predicciones tocan caracteres que no están en `{c2i}` ({chars}): "
                  "cuentan como fallo, con probabilidad {floor}.",
            "en": " {bad} of the {n} predictions involve characters missing from `{c2i}` ({chars}): "
                  "they count as misses, with probability {floor}."},
    "none": {"es": "El modelo no produjo predicciones para el texto oculto.",
             "en": "The model produced no predictions for the held-out text."},
    "no_vocab": {"es": "No se pudo leer el vocabulario `{c2i}`.", "en": "The vocabulary `{c2i}` could not be read."},
    "vocab_keys": {"es": "`{c2i}` debe asociar cada carácter (un str de longitud 1) a su índice (un entero ≥ 0); "
                         "no lo cumplen: {examples}.",
                   "en": "`{c2i}` must map each character (a str of length 1) to its index (an integer ≥ 0); "
                         "these do not: {examples}."},
    "not_numeric": {"es": "La salida del modelo no es un array de números (tipo {type}).",
                    "en": "The model's output is not an array of numbers (type {type})."},
    "shape": {"es": "Para {n} secuencias de {t} caracteres el modelo devolvió forma {shape}; se esperaba "
                    "({n}, {t}, V): V puntuaciones (logits o probabilidades) en cada posición.",
              "en": "For {n} sequences of {t} characters the model returned shape {shape}; expected "
                    "({n}, {t}, V): V scores (logits or probabilities) at each position."},
    "too_few": {"es": "El modelo da {v} puntuaciones por posición, pero `{c2i}` usa índices hasta {top}: "
                      "la capa de salida debe tener una unidad por carácter del vocabulario.",
                "en": "The model gives {v} scores per position, but `{c2i}` uses indexes up to {top}: "
                      "the output layer needs one unit per character of the vocabulary."},
    "not_finite": {"es": "{bad} de las {n} predicciones contienen NaN o infinito.",
                   "en": "{bad} of the {n} predictions contain NaN or infinity."},
    "kind": {"es": "salida del modelo tratada como {kind}; {n} predicciones tras ventanas de {t} caracteres",
             "en": "model output read as {kind}; {n} predictions after windows of {t} characters"},
    "logits": {"es": "logits", "en": "logits"},
    "probabilities": {"es": "probabilidades", "en": "probabilities"},
    "ignored": {"es": "entradas de `{c2i}` que no son un carácter, ignoradas: {examples}",
                "en": "entries of `{c2i}` that are not one character, ignored: {examples}"},
    "idx2char": {"es": "`{i2c}` no es el inverso de `{c2i}` para {n} caracteres (p. ej. {ex}): revisa ambos",
                 "en": "`{i2c}` is not the inverse of `{c2i}` for {n} characters (e.g. {ex}): check both"},
}


def parse_vocab(info: dict) -> tuple[dict[str, int] | None, list[str]]:
    """(char -> index for every well-formed single-character key, the malformed keys)."""
    pairs = info.get("char2idx")
    if not isinstance(pairs, list):
        return None, []
    c2i: dict[str, int] = {}
    bad: list[str] = []
    for item in pairs:
        if not (isinstance(item, list) and len(item) == 3):
            continue
        key, index, is_str = item
        if is_str is True and isinstance(key, str) and len(key) == 1 and isinstance(index, int) \
                and not isinstance(index, bool) and index >= 0:
            c2i[key] = index
        else:
            bad.append(repr(key) if isinstance(key, str) and is_str else str(key))
    return c2i, bad


def looks_like_probabilities(scores: np.ndarray) -> bool:
    """Rows in [0, 1] that sum to 1: a softmax output. Anything else is read as logits."""
    return bool(scores.min() >= -1e-6 and scores.max() <= 1 + 1e-6
                and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3))


def log_probs(scores: np.ndarray) -> tuple[np.ndarray, str]:
    """(log p, "probabilities" | "logits") for (N, V) scores."""
    s = scores.astype(np.float64)
    if looks_like_probabilities(s):
        with np.errstate(divide="ignore"):
            return np.log(np.clip(s, 0.0, 1.0)), "probabilities"
    shifted = s - s.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), "logits"


def _fail(check, message: str, details: list[str] | None = None) -> tuple[CheckResult, dict]:
    return CheckResult(check.id, 0.0, check.points, False, message, details or []), {}


def judge_text_loss(check: TextLossCheck, last: np.ndarray | None, info: dict[str, Any],
                    windows: Windows, train_counts: dict[str, int], lang: str = "es",
                    names: tuple[str, str] = ("char2idx", "idx2char")) -> tuple[CheckResult, dict[str, float]]:
    """The check's points from the model's last-position scores; metrics in nats/char."""
    c2i_name, i2c_name = names
    n, t = len(windows.targets), check.window
    if n == 0:
        raise ValueError(f"check {check.id!r}: the held-out text gave no windows of {t} characters")
    c2i, bad_keys = parse_vocab(info)
    if c2i is None:
        return _fail(check, tr(MESSAGES, "no_vocab", lang, c2i=c2i_name))
    examples = ", ".join(clean(k, 20) for k in bad_keys[:5]) or "{}"
    if not c2i:  # a few extra entries (a padding token, say) are ignored; none usable is a fail
        return _fail(check, tr(MESSAGES, "vocab_keys", lang, c2i=c2i_name, examples=examples))
    out = (info.get("outputs") or {}).get(check.id) if isinstance(info.get("outputs"), dict) else None
    out = out if isinstance(out, dict) else {}
    shape = out.get("shape")
    if last is None:
        if shape is None and out.get("type"):
            return _fail(check, tr(MESSAGES, "not_numeric", lang, type=clean(out["type"], 40)))
        if isinstance(shape, list) and len(shape) not in (2, 3):
            return _fail(check, tr(MESSAGES, "shape", lang, n=n, t=t, shape=tuple(shape)))
        return _fail(check, tr(MESSAGES, "none", lang))
    scores = np.asarray(last)
    shape = tuple(shape) if isinstance(shape, list) and all(isinstance(d, int) for d in shape) else scores.shape
    if scores.dtype.kind not in "biuf":
        return _fail(check, tr(MESSAGES, "not_numeric", lang, type=scores.dtype))
    if scores.ndim != 2 or scores.shape[0] != n or shape[0] != n or len(shape) not in (2, 3) \
            or (len(shape) == 3 and shape[1] != t):
        return _fail(check, tr(MESSAGES, "shape", lang, n=n, t=t, shape=shape))
    top = max(c2i.values())
    if scores.shape[1] <= top:
        return _fail(check, tr(MESSAGES, "too_few", lang, v=scores.shape[1], c2i=c2i_name, top=top))
    finite = np.all(np.isfinite(scores), axis=1)
    if not finite.all():
        return _fail(check, tr(MESSAGES, "not_finite", lang, bad=int((~finite).sum()), n=n))

    logp, kind = log_probs(scores)
    known = np.array(sorted(ord(c) for c in c2i), dtype=np.int32)
    target_idx = np.array([c2i.get(ch, -1) for ch in windows.targets])
    readable = np.isin(windows.codepoints, known).all(axis=1) & (target_idx >= 0)
    cap = -math.log(check.floor_prob)
    per = np.full(n, cap)
    rows = np.flatnonzero(readable)
    per[rows] = np.minimum(-logp[rows, target_idx[rows]], cap)
    loss = float(per.mean())
    base = baseline_loss(check.baseline, windows.targets, train_counts)
    ratio = loss / base

    if ratio <= check.threshold:
        points = check.points
    elif check.partial_from is None or ratio >= check.partial_from:
        points = 0.0
    else:
        points = round(check.points * (check.partial_from - ratio) / (check.partial_from - check.threshold), 2)
    base_name = tr(MESSAGES, check.baseline, lang, v=len(train_counts))
    message = tr(MESSAGES, "score", lang, loss=fmt_num(loss, lang, 3), base_name=base_name,
                 base=fmt_num(base, lang, 3), ratio=fmt_num(ratio, lang, 3), thr=fmt_num(check.threshold, lang, 3))
    if ratio > check.threshold and check.partial_from is not None:
        message += tr(MESSAGES, "partial", lang, thr=fmt_num(check.threshold, lang, 3),
                      pf=fmt_num(check.partial_from, lang, 3))
    oov = int(n - readable.sum())
    if oov:
        missing = sorted({ch for row in windows.contexts for ch in row if ch not in c2i}
                         | {ch for ch in windows.targets if ch not in c2i})
        chars = ", ".join(repr(ch) for ch in missing[:8]) + (", …" if len(missing) > 8 else "")
        message += tr(MESSAGES, "oov", lang, bad=oov, n=n, c2i=c2i_name, chars=chars,
                      floor=f"{check.floor_prob:g}")
    details = [tr(MESSAGES, "kind", lang, kind=tr(MESSAGES, kind, lang), n=n, t=t)]
    details += _inverse_note(info, c2i, lang, c2i_name, i2c_name)
    if bad_keys:
        details.append(tr(MESSAGES, "ignored", lang, c2i=c2i_name, examples=examples))
    metrics = {"text_loss": round(loss, 4), "text_loss_baseline": round(base, 4),
               "text_loss_ratio": round(ratio, 4), "text_oov_fraction": round(oov / n, 4)}
    return CheckResult(check.id, points, check.points, ratio <= check.threshold, message, details), metrics


def _inverse_note(info: dict, c2i: dict[str, int], lang: str, c2i_name: str, i2c_name: str) -> list[str]:
    """A hint (no points) when idx2char does not undo char2idx: generation would print garbage."""
    i2c = info.get("idx2char")
    if not isinstance(i2c, list):
        return []
    wrong = [c for c, i in c2i.items() if i >= len(i2c) or i2c[i] != c]
    if not wrong:
        return []
    return [tr(MESSAGES, "idx2char", lang, i2c=i2c_name, c2i=c2i_name, n=len(wrong), ex=repr(wrong[0]))]
