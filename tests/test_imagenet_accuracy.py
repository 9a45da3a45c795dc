"""Top-k accuracy, the ImageNet-1000 -> assignment-class mapping, and the rubric/loader checks
of the imagenet_cnn interface (no TensorFlow)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.checks import judge_accuracy
from grader.checks.accuracy import map_outputs
from grader.errors import RubricError
from grader.rubric import AccuracyCheck, load_rubric, parse_rubric

ROOT = Path(__file__).resolve().parent.parent
LABELS = np.arange(800) % 8


def top(k=None, threshold=0.9, partial_from=0.3, **kw) -> AccuracyCheck:
    return AccuracyCheck(id=f"top{k or 1}", kind="accuracy", points=4, threshold=threshold,
                         partial_from=partial_from, top_k=k, **kw)


def ranked(rank: np.ndarray, c: int = 8) -> np.ndarray:
    """(N, c) scores where the true class of row i comes at position rank[i] (0 = best)."""
    scores = np.zeros((len(LABELS), c))
    for i, (y, r) in enumerate(zip(LABELS, rank)):
        others = [k for k in range(c) if k != y]
        order = others[:r] + [y] + others[r:]
        scores[i, order] = np.linspace(1.0, 0.1, c)
    return scores


def test_top_k_counts_the_true_class_among_the_k_best():
    rank = np.arange(len(LABELS)) % 8  # each position 0..7 equally often
    scores = ranked(rank)
    for k in (1, 2, 5):
        res, metrics = judge_accuracy(top(k, threshold=0.99, partial_from=None), scores, LABELS, "es")
        assert metrics == {f"top{k}_accuracy": pytest.approx(k / 8)}
    res, metrics = judge_accuracy(top(None), scores, LABELS, "es")
    assert metrics == {"accuracy": pytest.approx(1 / 8)}  # MNIST's metric name, unchanged


def test_top5_points_are_linear_between_partial_from_and_threshold():
    rank = np.where(np.arange(len(LABELS)) < 680, 0, 6)  # 85 % in the top 5, the rest 7th
    check = top(5, threshold=0.95, partial_from=0.75)
    res, metrics = judge_accuracy(check, ranked(rank), LABELS, "es")
    assert metrics["top5_accuracy"] == pytest.approx(0.85)
    assert res.points == pytest.approx(2.0) and not res.passed  # half way: 4 * 0.5
    assert res.message.startswith("Exactitud top-5 en el conjunto de test oculto (la clase correcta entre las 5 "
                                  "más probables): 85 % (umbral 95 %).")
    en, _ = judge_accuracy(check, ranked(rank), LABELS, "en")
    assert en.message.startswith("Top-5 accuracy on the hidden test set")


def test_ties_count_against_the_student():
    constant = np.full((len(LABELS), 8), 0.125)
    res, metrics = judge_accuracy(top(5), constant, LABELS, "es")
    assert metrics["top5_accuracy"] == 0 and res.points == 0
    rows = np.arange(len(LABELS))
    tie = np.zeros((len(LABELS), 8))
    tie[rows, LABELS] = tie[rows, (LABELS + 1) % 8] = 1.0  # the right class ties with one other
    assert judge_accuracy(top(2), tie, LABELS, "es")[1]["top2_accuracy"] == 1.0
    assert judge_accuracy(top(5), tie, LABELS, "es")[1]["top5_accuracy"] == 1.0


def test_top_k_needs_scores_not_labels():
    res, metrics = judge_accuracy(top(5), LABELS.copy(), LABELS, "es")
    assert res.points == 0 and metrics == {}
    assert "una puntuación por clase, de forma (800, 8)" in res.message
    assert judge_accuracy(top(None), LABELS.copy(), LABELS, "es")[1] == {"accuracy": 1.0}


@pytest.mark.parametrize("bad,words", [
    (None, "no produjo predicciones"),
    (np.zeros((800, 7)), "forma (800, 7)"),
    (np.zeros((799, 8)), "799 predicciones para 800"),
    (np.where(np.arange(800)[:, None] == 5, np.nan, np.ones((800, 8))), "1 de las 800 predicciones contienen NaN"),
])
def test_bad_scores_fail_top_k_with_the_accuracy_messages(bad, words):
    res, metrics = judge_accuracy(top(5), bad, LABELS, "es")
    assert res.points == 0 and metrics == {} and words in res.message, res.message


CLASS_MAP = [[0, 1], [217], [482, 483], [491], [497], [566], [569], [571, 572]]


def test_imagenet_scores_map_to_the_classes_by_their_best_index():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(len(LABELS), 1000))
    for i, y in enumerate(LABELS):  # the right class's second index wins, in logits
        logits[i, CLASS_MAP[y][-1]] = 10.0
    mapped, problem = map_outputs(logits, CLASS_MAP, len(LABELS))
    assert problem is None and mapped.shape == (len(LABELS), 8)
    assert np.array_equal(mapped.argmax(axis=1), LABELS)
    res, metrics = judge_accuracy(top(5), logits, LABELS, "es", class_map=CLASS_MAP)
    assert metrics == {"top5_accuracy": 1.0} and res.points == 4
    res, _ = judge_accuracy(top(None), np.zeros((len(LABELS), 8)), LABELS, "en", class_map=CLASS_MAP)
    assert res.points == 0 and "expected the 1000 ImageNet scores per image, shape (800, 1000)" in res.message


def test_rubric_interface_outputs_and_class_map_are_validated():
    base = {"assignment": "imagenet_cnn", "checks": [{"id": "top5", "kind": "accuracy", "points": 2,
                                                      "threshold": 0.9, "top_k": 5}]}
    ok = parse_rubric({**base, "interface": {"outputs": "imagenet", "class_map": CLASS_MAP}})
    assert ok.interface.class_map == CLASS_MAP and ok.checks[0].metric == "top5_accuracy"
    for interface, words in [({"outputs": "imagenet"}, "needs class_map"),
                             ({"outputs": "imagenet", "class_map": [[1], []]}, "needs class_map"),
                             ({"outputs": "imagenet", "class_map": [[1], [1000]]}, "from 0 to 999"),
                             ({"outputs": "imagenet", "class_map": [[1], [2, 1]]}, "appears in two classes"),
                             ({"class_map": [[1]]}, "only for outputs: imagenet"),
                             ({"outputs": "softmax"}, "interface.outputs")]:
        with pytest.raises(RubricError, match="interface") as err:
            parse_rubric({**base, "interface": interface})
        assert words in str(err.value), str(err.value)
    with pytest.raises(RubricError, match=r"top_k"):
        parse_rubric({**base, "checks": [{**base["checks"][0], "top_k": 0}]})


def test_the_assignment_rubric_loads_with_top1_and_top5():
    rubric = load_rubric(ROOT / "rubrics" / "imagenet_cnn.yaml")
    assert rubric.max_grade == 10 and sum(c.points for c in rubric.checks) == 10
    assert {c.id: c.metric for c in rubric.checks if c.kind == "accuracy"} == {
        "top1": "top1_accuracy", "top5": "top5_accuracy"}
    assert rubric.interface.outputs == "classes" and rubric.interface.input_shape == [96, 96, 3]
    claimed = rubric.check("claimed_accuracy")
    assert claimed.dataset in rubric.data.keras_datasets


def test_top1_message_reads_like_plain_accuracy():
    res, metrics = judge_accuracy(top(1), ranked(np.zeros(len(LABELS), dtype=int)), LABELS, "es")
    assert metrics == {"top1_accuracy": 1.0}
    assert res.message == "Exactitud en el conjunto de test oculto: 100 % (umbral 90 %)."


def test_loader_checks_the_hidden_images_against_the_rubric(tmp_path):
    from grader.data.loaders import load_classification

    hidden = tmp_path / "hidden.npz"
    np.savez(hidden, x=np.zeros((4, 64, 64, 3), np.uint8), y=np.array([0, 1, 2, 9]))
    rubric = parse_rubric({"assignment": "imagenet_cnn", "interface": {"input_shape": [96, 96, 3]},
                           "checks": [{"id": "e", "kind": "executed_notebook", "points": 1}]})
    with pytest.raises(RubricError, match=r"images have shape \(64, 64, 3\), but interface.input_shape "
                                          r"says \(96, 96, 3\)"):
        load_classification(rubric, {}, hidden)
    mapped = parse_rubric({"assignment": "imagenet_cnn", "interface": {"outputs": "imagenet",
                                                                       "class_map": CLASS_MAP},
                           "checks": [{"id": "e", "kind": "executed_notebook", "points": 1}]})
    with pytest.raises(RubricError, match="class_map has 8 classes, but data.hidden_test has label 9"):
        load_classification(mapped, {}, hidden)
    np.savez(hidden, x=np.zeros((4, 64, 64, 3), np.uint8), y=np.array([0, 1, 2, 7]))
    assert load_classification(mapped, {}, hidden)["class_map"] == CLASS_MAP
