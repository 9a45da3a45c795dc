"""Score the student's model on the hidden test set, from its predictions, on the host.

The predictions come from student code (untrusted): they are validated here, and a bad shape,
NaN or non-numbers fail the check with a message instead of raising.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..messages import fmt_pct, tr
from ..model import CheckResult

if TYPE_CHECKING:  # type hints only: the judges need no pydantic at run time
    from ..rubric import AccuracyCheck

MESSAGES = {
    "score": {"es": "Exactitud en el conjunto de test oculto: {acc} (umbral {thr}).",
              "en": "Accuracy on the hidden test set: {acc} (threshold {thr})."},
    "partial": {"es": " Por debajo del umbral se da crédito parcial a partir de {pf}.",
                "en": " Below the threshold, partial credit starts at {pf}."},
    "none": {"es": "El modelo no produjo predicciones para el conjunto de test oculto.",
             "en": "The model produced no predictions for the hidden test set."},
    "not_numeric": {"es": "Las predicciones del modelo no son números (tipo {dtype}).",
                    "en": "The model's predictions are not numbers (type {dtype})."},
    "count": {"es": "El modelo dio {got} predicciones para {n} imágenes del test oculto.",
              "en": "The model gave {got} predictions for {n} hidden test images."},
    "shape": {"es": "Las predicciones tienen forma {shape}; se esperaba ({n}, {c}) (una puntuación por clase) "
                    "o ({n},).",
              "en": "The predictions have shape {shape}; expected ({n}, {c}) (one score per class) or ({n},)."},
    "not_finite": {"es": "{bad} de las {n} predicciones contienen NaN o infinito.",
                   "en": "{bad} of the {n} predictions contain NaN or infinity."},
    "score_topk": {"es": "Exactitud top-{k} en el conjunto de test oculto (la clase correcta entre las {k} más "
                         "probables): {acc} (umbral {thr}).",
                   "en": "Top-{k} accuracy on the hidden test set (the right class among the {k} most likely): "
                         "{acc} (threshold {thr})."},
    "topk_scores": {"es": "Para la exactitud top-{k} el modelo debe dar una puntuación por clase, de forma ({n}, {c}), "
                          "no solo la clase predicha.",
                    "en": "For top-{k} accuracy the model must give one score per class, shape ({n}, {c}), "
                          "not just the predicted class."},
    "imagenet_shape": {"es": "Las predicciones tienen forma {shape}; se esperaban las 1000 puntuaciones de ImageNet "
                             "por imagen, forma ({n}, 1000).",
                       "en": "The predictions have shape {shape}; expected the 1000 ImageNet scores per image, "
                             "shape ({n}, 1000)."},
    "not_labels": {"es": "Las predicciones de forma ({n},) deben ser etiquetas de clase: enteros desde 0.",
                   "en": "Predictions of shape ({n},) must be class labels: integers from 0."},
}


def judge_accuracy(check: AccuracyCheck, predictions: np.ndarray | None, labels: np.ndarray,
                   lang: str = "es", class_map: list[list[int]] | None = None) -> tuple[CheckResult, dict[str, float]]:
    """Full points at >= threshold, linear from partial_from (0) to the threshold, else 0.

    With `top_k` a prediction counts when the true class is among the k best scores (ties count
    against it, so constant scores earn nothing). With `class_map` (rubric interface.outputs:
    imagenet) the predictions are 1000 ImageNet scores, mapped to the classes first."""
    labels = np.asarray(labels)
    if labels.ndim == 2:  # one-hot
        labels = labels.argmax(axis=1)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"check {check.id!r}: hidden labels must be a non-empty (N,) array, got {labels.shape}")
    labels = labels.astype(np.int64)
    n, c = labels.size, int(labels.max()) + 1
    if class_map is not None:
        predictions, problem = map_outputs(predictions, class_map, n, lang)
        c = max(c, len(class_map))
        if problem:
            return CheckResult(check.id, 0.0, check.points, False, problem), {}
    k = getattr(check, "top_k", None)
    predicted, problem = _predicted_labels(predictions, n, c, lang)
    if not problem and k and k > 1 and np.ndim(predictions) != 2:
        problem = tr(MESSAGES, "topk_scores", lang, k=k, n=n, c=c)
    if problem:
        return CheckResult(check.id, 0.0, check.points, False, problem), {}
    if k and k > 1:
        scores = np.asarray(predictions, dtype=np.float64)
        true = scores[np.arange(n), labels][:, None]
        rank = np.sum(scores >= true, axis=1) - 1  # other classes scored at least as high
        acc = float(np.mean(rank < k))
    else:
        acc = float(np.mean(predicted == labels))
    points = accuracy_points(check, acc)
    if not k or k == 1:
        message = tr(MESSAGES, "score", lang, acc=fmt_pct(acc, lang), thr=fmt_pct(check.threshold, lang))
    else:
        message = tr(MESSAGES, "score_topk", lang, k=k, acc=fmt_pct(acc, lang), thr=fmt_pct(check.threshold, lang))
    if acc < check.threshold and check.partial_from is not None:
        message += tr(MESSAGES, "partial", lang, pf=fmt_pct(check.partial_from, lang))
    metric = getattr(check, "metric", "accuracy")
    return CheckResult(check.id, points, check.points, acc >= check.threshold, message), {metric: acc}


def map_outputs(pred, class_map: list[list[int]], n: int, lang: str = "es") -> tuple[np.ndarray | None, str | None]:
    """(N, 1000) ImageNet scores -> (N, K): class i gets the best score among its ImageNet indices
    (the max, so it works for probabilities and logits alike). Or (None, the student message)."""
    if pred is None:
        return None, tr(MESSAGES, "none", lang)
    try:
        pred = np.asarray(pred)
    except (ValueError, TypeError):
        return None, tr(MESSAGES, "not_numeric", lang, dtype="object")
    if pred.dtype.kind not in "biuf":
        return None, tr(MESSAGES, "not_numeric", lang, dtype=pred.dtype)
    if pred.ndim != 2 or pred.shape != (n, 1000):
        return None, tr(MESSAGES, "imagenet_shape", lang, shape=pred.shape, n=n)
    pred = pred.astype(np.float64)
    return np.stack([pred[:, idx].max(axis=1) for idx in class_map], axis=1), None


def accuracy_points(check: AccuracyCheck, acc: float) -> float:
    """The rubric's points for an accuracy (also used by the student self-check's estimate)."""
    if acc >= check.threshold:
        return check.points
    if check.partial_from is None or acc <= check.partial_from:
        return 0.0
    return round(check.points * (acc - check.partial_from) / (check.threshold - check.partial_from), 2)


def _predicted_labels(pred, n: int, c: int, lang: str) -> tuple[np.ndarray | None, str | None]:
    """(N,) predicted labels, or (None, the student message saying what is wrong)."""
    if pred is None:
        return None, tr(MESSAGES, "none", lang)
    try:
        pred = np.asarray(pred)
    except (ValueError, TypeError):  # ragged nested lists
        return None, tr(MESSAGES, "not_numeric", lang, dtype="object")
    if pred.dtype.kind not in "biuf":
        return None, tr(MESSAGES, "not_numeric", lang, dtype=pred.dtype)
    if pred.ndim in (1, 2) and pred.shape[0] != n:
        return None, tr(MESSAGES, "count", lang, got=pred.shape[0], n=n)
    if pred.ndim == 2 and pred.shape[1] >= max(c, 2):
        scores = pred.astype(np.float64)
        bad = int(np.sum(~np.all(np.isfinite(scores), axis=1)))
        if bad:
            return None, tr(MESSAGES, "not_finite", lang, bad=bad, n=n)
        return scores.argmax(axis=1), None
    if pred.ndim == 1:
        values = pred.astype(np.float64)
        if not np.all(np.isfinite(values)):
            return None, tr(MESSAGES, "not_finite", lang, bad=int(np.sum(~np.isfinite(values))), n=n)
        if np.any(values != np.round(values)) or values.min() < 0:
            return None, tr(MESSAGES, "not_labels", lang, n=n)
        return values.astype(np.int64), None
    return None, tr(MESSAGES, "shape", lang, shape=pred.shape, n=n, c=c)
