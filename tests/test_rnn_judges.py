"""The rnn_text judges on the host: per-character loss from raw model outputs (logits or
probabilities, detected), partial credit against the baseline, OOV and malformed outputs;
generate_text's contract. No sandbox: the inputs are what a probe returns."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from grader.checks import judge_generate_text, judge_text_loss
from grader.checks.text_loss import looks_like_probabilities
from grader.checks.text_windows import baseline_loss, cut_windows
from grader.data.text_standin import make_text_standin
from grader.rubric import GenerateTextCheck, TextLossCheck

TRAIN, HIDDEN = make_text_standin()
COUNTS = dict(Counter(TRAIN))
VOCAB = sorted(COUNTS)
C2I = {c: i for i, c in enumerate(VOCAB)}
T = 30
W = cut_windows(HIDDEN, T, 300, "".join(VOCAB))
BASE = baseline_loss("unigram", W.targets, COUNTS)
CHECK = TextLossCheck(id="loss", kind="text_loss", points=6, threshold=0.5, partial_from=1.0,
                      window=T, max_windows=300)


def info(c2i=None, i2c=None, shape=None, **out):
    c2i = C2I if c2i is None else c2i
    return {"char2idx": [[k, v, True] for k, v in c2i.items()],
            "idx2char": list(VOCAB) if i2c is None else i2c,
            "outputs": {"loss": {"type": "ndarray", "shape": shape or [len(W.targets), T, len(VOCAB)], **out}}}


def probs_with_target_p(q: np.ndarray | float, c2i=None) -> np.ndarray:
    """(N, V) probabilities giving each window's target probability q, the rest spread evenly."""
    c2i = C2I if c2i is None else c2i
    n, v = len(W.targets), max(c2i.values()) + 1
    q = np.broadcast_to(np.asarray(q, dtype=np.float64), (n,))
    p = np.repeat(((1 - q) / (v - 1))[:, None], v, axis=1)
    for i, t in enumerate(W.targets):
        if t in c2i:
            p[i, c2i[t]] = q[i]
        else:  # a character the student's vocabulary lacks: any row of probabilities will do
            p[i] = 1 / v
    return p


def for_ratio(r: float) -> np.ndarray:
    return probs_with_target_p(math.exp(-r * BASE))


@pytest.mark.parametrize("ratio,points,passed", [
    (0.3, 6, True), (0.5, 6, True), (0.75, 3, False), (0.9, 1.2, False), (1.0, 0, False), (1.3, 0, False),
])
def test_points_full_linear_and_none(ratio, points, passed):
    res, metrics = judge_text_loss(CHECK, for_ratio(ratio).astype(np.float32), info(), W, COUNTS)
    assert metrics["text_loss"] == pytest.approx(ratio * BASE, abs=2e-4)
    assert metrics["text_loss_ratio"] == pytest.approx(ratio, abs=1e-3)
    assert metrics["text_loss_baseline"] == pytest.approx(BASE, abs=1e-4)
    assert res.points == pytest.approx(points, abs=0.02) and res.passed is passed


def test_all_or_nothing_without_partial_from():
    check = CHECK.model_copy(update={"partial_from": None})
    assert judge_text_loss(check, for_ratio(0.6), info(), W, COUNTS)[0].points == 0


def test_logits_probabilities_and_log_probabilities_give_the_same_loss():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2.5, (len(W.targets), len(VOCAB)))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    cap = -math.log(CHECK.floor_prob)  # no window costs more than the floor
    want = np.mean([min(-math.log(p[i, C2I[t]]), cap) for i, t in enumerate(W.targets)])
    for scores, kind in [(logits, "logits"), (logits + 40, "logits"), (p, "probabilities"),
                         (p.astype(np.float32), "probabilities"), (np.log(p), "logits")]:
        res, metrics = judge_text_loss(CHECK, scores, info(), W, COUNTS)
        assert metrics["text_loss"] == pytest.approx(want, abs=1e-4), kind
        assert f"tratada como {'logits' if kind == 'logits' else 'probabilidades'}" in res.details[0]


def test_probability_detection():
    assert looks_like_probabilities(np.array([[0.2, 0.8], [1.0, 0.0]]))
    assert not looks_like_probabilities(np.array([[0.2, 0.7], [0.5, 0.5]]))  # a row sums to 0.9
    assert not looks_like_probabilities(np.array([[1.5, -0.5], [0.5, 0.5]]))  # sums to 1, not in [0, 1]
    assert not looks_like_probabilities(np.array([[3.0, 1.0], [0.1, 0.2]]))  # logits


def test_a_confident_mistake_costs_at_most_the_floor():
    p = probs_with_target_p(np.where(np.arange(len(W.targets)) == 0, 0.0, 1.0))
    res, metrics = judge_text_loss(CHECK, p, info(), W, COUNTS)
    assert metrics["text_loss"] == pytest.approx(-math.log(1e-4) / len(W.targets), abs=1e-4)
    logits = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -1e4)  # p(target) = e^-10000 in row 0
    assert judge_text_loss(CHECK, logits, info(), W, COUNTS)[1]["text_loss"] == metrics["text_loss"]


def test_characters_outside_char2idx_count_as_misses_and_are_named():
    c2i = {c: i for i, c in enumerate(c for c in VOCAB if c != "ñ")}  # the student lost the ñ
    q = 0.5
    res, metrics = judge_text_loss(CHECK, probs_with_target_p(q, c2i), info(c2i=c2i, i2c=[c for c in VOCAB if c != "ñ"],
                                   shape=[len(W.targets), T, len(c2i)]), W, COUNTS)
    bad = sum("ñ" in ctx or t == "ñ" for ctx, t in zip(W.contexts, W.targets))
    assert 0 < bad < len(W.targets)
    n = len(W.targets)
    want = (bad * -math.log(1e-4) + (n - bad) * -math.log(q)) / n
    assert metrics["text_loss"] == pytest.approx(want, abs=1e-4)
    assert metrics["text_oov_fraction"] == pytest.approx(bad / n, abs=1e-4)
    assert f"{bad} de las {n} predicciones" in res.message and "'ñ'" in res.message
    assert "probabilidad 0.0001" in res.message


@pytest.mark.parametrize("scores,inf,words", [
    (None, info(), "no produjo predicciones"),
    (None, {**info(), "outputs": {"loss": {"type": "tuple"}}}, "no es un array de números (tipo tuple)"),
    (None, info(shape=[300, 30, 59, 1]), "forma (300, 30, 59, 1)"),
    (np.zeros((300, 59)), info(shape=[300, 31, 59]), "forma (300, 31, 59)"),
    (np.zeros((299, 59)), info(shape=[299, 30, 59]), "Para 300 secuencias de 30 caracteres"),
    (np.zeros((300, 20)), info(shape=[300, 30, 20]), "da 20 puntuaciones por posición"),
    (np.where(np.arange(300)[:, None] == 5, np.nan, 0.0) + np.zeros((300, 59)), info(), "1 de las 300"),
    (np.zeros((300, 59)), {"idx2char": []}, "No se pudo leer el vocabulario `char2idx`"),
    (np.zeros((300, 59)), {**info(), "char2idx": [["b'a'", 0, False], ["ab", 1, True]]}, "b'a'"),
])
def test_malformed_outputs_fail_with_a_clear_message(scores, inf, words):
    res, metrics = judge_text_loss(CHECK, scores, inf, W, COUNTS)
    assert res.points == 0 and not res.passed and metrics == {}
    assert words in res.message, res.message


def test_english_messages_and_a_broken_inverse_vocabulary():
    i2c = list(reversed(VOCAB))
    res, _ = judge_text_loss(CHECK, for_ratio(0.3), info(i2c=i2c), W, COUNTS, "en")
    assert res.message.startswith("Mean loss per character on the held-out text:")
    assert "full points at 0.5 or below" in res.message
    assert any("`idx2char` is not the inverse of `char2idx`" in d for d in res.details)


GEN = GenerateTextCheck(id="generate", kind="generate_text", points=3,
                        calls=[{"start": "La ", "num": 10}, {"start": "¿Dónde ", "num": 5}])


def calls(*texts_or_records):
    recs = {}
    for i, t in enumerate(texts_or_records):
        recs[f"generate__{i}"] = {"type": "str", "text": t, "length": len(t)} if isinstance(t, str) else t
    return {"calls": recs}


def test_generate_text_contract():
    ok = calls("La casa roja ", "¿Dónde están")
    res = judge_generate_text(GEN, ok, "".join(VOCAB))
    assert res.points == 3 and res.passed and "2 de 2" in res.message
    assert any("ejemplo" in d and "La casa roja" in d for d in res.details)

    half = judge_generate_text(GEN, calls("casa roja el ", "¿Dónde están"), "".join(VOCAB))
    assert half.points == 1.5 and "no empieza por la semilla 'La '" in half.details[0]

    counted = judge_generate_text(GEN, calls("La casa es", "¿Dónde "), "".join(VOCAB))
    assert counted.points == 0
    assert "tiene 10 caracteres; debería tener 13: la semilla (3) más 10 nuevos" in counted.details[0]
    assert "num_generate cuenta solo los caracteres nuevos" in counted.details[0]

    strange = judge_generate_text(GEN, calls("La c@sa roja ", "¿Dónde están"), "".join(VOCAB))
    assert strange.points == 1.5 and "'@'" in strange.details[0]


@pytest.mark.parametrize("record,words", [
    ({"error": {"ename": "KeyError", "evalue": "'¿'"}}, "lanzó KeyError"),
    ({"type": "list", "repr": "['L', 'a']"}, "devuelve list"),
    (None, "no devolvió nada"),
])
def test_generate_text_failures(record, words):
    rec = calls("La casa roja ", "¿Dónde están")
    if record is None:
        del rec["calls"]["generate__0"]
    else:
        rec["calls"]["generate__0"] = record
    res = judge_generate_text(GEN, rec, "".join(VOCAB), "es")
    assert res.points == 1.5 and words in res.details[0]
    assert judge_generate_text(GEN, {}, "".join(VOCAB), "en").message.startswith("0 of 2 calls")
