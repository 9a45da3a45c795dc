"""judge_accuracy: the host scores the model's predictions on the hidden test set."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import judge_accuracy
from grader.rubric import AccuracyCheck

CHECK = AccuracyCheck(id="accuracy", kind="accuracy", points=5, threshold=0.9, partial_from=0.5)
LABELS = np.arange(1000) % 10


def predictions(accuracy: float) -> np.ndarray:
    """(N, 10) softmax-like scores, right on the first `accuracy` fraction of the images."""
    right = np.arange(LABELS.size) < round(accuracy * LABELS.size)
    predicted = np.where(right, LABELS, (LABELS + 1) % 10)
    scores = np.full((LABELS.size, 10), 0.01)
    scores[np.arange(LABELS.size), predicted] = 0.91
    return scores


@pytest.mark.parametrize("acc,points,passed", [
    (0.931, 5, True), (0.90, 5, True), (0.70, 2.5, False), (0.50, 0, False), (0.30, 0, False),
])
def test_points_full_linear_and_none(acc, points, passed):
    result, metrics = judge_accuracy(CHECK, predictions(acc), LABELS, "es")
    assert metrics == {"accuracy": pytest.approx(acc)}
    assert result.points == pytest.approx(points) and result.passed is passed


def test_message_in_both_languages():
    result, _ = judge_accuracy(CHECK, predictions(0.931), LABELS, "es")
    assert result.message == "Exactitud en el conjunto de test oculto: 93,1 % (umbral 90 %)."
    result, _ = judge_accuracy(CHECK, predictions(0.7), LABELS, "en")
    assert result.message.startswith("Accuracy on the hidden test set: 70 % (threshold 90 %).")
    assert "partial credit starts at 50 %" in result.message


def test_all_or_nothing_without_partial_from():
    check = AccuracyCheck(id="accuracy", kind="accuracy", points=5, threshold=0.9)
    assert judge_accuracy(check, predictions(0.89), LABELS, "es")[0].points == 0


def test_integer_labels_and_logits_are_accepted():
    labels_pred = predictions(0.95).argmax(axis=1)
    assert judge_accuracy(CHECK, labels_pred, LABELS, "es")[1]["accuracy"] == pytest.approx(0.95)
    assert judge_accuracy(CHECK, labels_pred.astype(np.float32), LABELS, "es")[0].points == 5
    logits = np.log(predictions(0.95)) * 3 - 7
    assert judge_accuracy(CHECK, logits, LABELS, "es")[0].points == 5


@pytest.mark.parametrize("bad,words", [
    (None, "no produjo predicciones"),
    (np.zeros((999, 10)), "999 predicciones para 1000"),
    (np.zeros((1000, 10, 1)), "forma (1000, 10, 1)"),
    (np.zeros((1000, 1)), "forma (1000, 1)"),
    (np.array(["7"] * 1000), "no son números"),
    (np.array([object()] * 1000), "no son números"),
    (np.where(np.arange(1000)[:, None] == 3, np.nan, predictions(0.95)), "1 de las 1000 predicciones contienen NaN"),
    (np.full(1000, 2.5), "etiquetas de clase"),
    ([[0], [1, 2]], "no son números"),
])
def test_bad_predictions_fail_with_a_clear_message(bad, words):
    result, metrics = judge_accuracy(CHECK, bad, LABELS, "es")
    assert result.points == 0 and not result.passed and metrics == {}
    assert words in result.message, result.message
