"""rnn_text on the host, no sandbox: the generated corpus, the windows that keep every target
out of the sandbox (a property, checked with hypothesis), and the baselines."""
from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks.text_windows import baseline_loss, codepoints, cut_windows
from grader.data.text_standin import make_text_standin


@pytest.fixture(scope="module")
def corpus():
    return make_text_standin()


def covered_positions(w, length: int) -> set[int]:
    return {int(s) + k for s in w.starts for k in range(length)}


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="abcñé ,.\n¿?", min_size=0, max_size=400),
       length=st.integers(1, 12), max_windows=st.integers(1, 50))
def test_targets_never_enter_the_sandbox(text, length, max_windows):
    w = cut_windows(text, length, max_windows)
    n = len(w.targets)
    assert n == min(max_windows, len(text) // (length + 1))
    assert w.codepoints.shape == (n, length) and w.codepoints.dtype == np.int32
    sent = covered_positions(w, length)
    targets = {int(s) + length for s in w.starts}
    assert not sent & targets, "a target position is inside a window that goes into the sandbox"
    for row, start, target in zip(w.contexts, w.starts.tolist(), w.targets):
        assert row == text[start:start + length]  # what goes in is the text itself...
        assert target == text[start + length]  # ...and what is scored is the character after it


def leaked_targets(starts, length: int) -> int:
    """How many targets (the character after a window) lie inside some window sent."""
    sent = {int(s) + k for s in starts for k in range(length)}
    return sum(int(s) + length in sent for s in starts)


def test_stride_t_would_leak_and_stride_t_plus_one_does_not(corpus):
    _, hidden = corpus
    naive = range(0, len(hidden) - 200, 100)  # consecutive windows: each target starts the next
    assert leaked_targets(naive, 100) == len(naive) - 1
    w = cut_windows(hidden, 100, 400)
    assert len(w.targets) == 400 and leaked_targets(w.starts, 100) == 0


def test_windows_are_shuffled_deterministically(corpus):
    _, hidden = corpus
    a, b = cut_windows(hidden, 100, 400), cut_windows(hidden, 100, 400, seed=7)
    assert np.array_equal(a.codepoints, cut_windows(hidden, 100, 400).codepoints)
    assert not np.all(np.diff(a.starts) > 0), "sent in text order: a model could read the next window"
    assert set(a.starts.tolist()) != set(b.starts.tolist()) or not np.array_equal(a.starts, b.starts)


def test_windows_with_characters_outside_the_training_text_are_left_out():
    text = "abcdX" + "abcde" * 3 + "abcdY"
    w = cut_windows(text, 4, 100, allowed="abcde")
    assert len(w.targets) == 3 and set(w.targets) == {"e"}
    assert all(set(c) <= set("abcde") for c in w.contexts)


def test_codepoints_cover_the_whole_unicode_range():
    assert codepoints("añ—🙂").tolist() == [ord("a"), ord("ñ"), ord("—"), ord("🙂")]


def test_baselines():
    train = Counter({"a": 3, "b": 1})
    assert baseline_loss("uniform", ("a",), train) == pytest.approx(math.log(2))
    want = -(2 * math.log(0.75) + math.log(0.25)) / 3
    assert baseline_loss("unigram", ("a", "a", "b"), train) == pytest.approx(want)
    with pytest.raises(ValueError):
        baseline_loss("unigram", (), train)


def test_standin_corpus_is_deterministic_spanish_like_and_split(corpus):
    train, hidden = corpus
    assert (train, hidden) == make_text_standin()
    assert len(train) >= 100_000 and len(hidden) >= 40_400  # 400 windows of 100 + 1
    assert set(hidden) <= set(train)
    assert set("áéíóúñ¿?¡!—,.\n") <= set(train)
    assert hidden[:2000] not in train
    words = Counter(train.split())
    assert words.most_common(1)[0][1] > 500  # a small lexicon, learnable in a few epochs
    # not memorisable: most held-out sentences never occur in the training text
    sentences = [s for s in hidden.split(". ") if len(s) > 40][:200]
    assert sum(s in train for s in sentences) < len(sentences) // 4


def _rubric(tmp_path, train: str, hidden: bytes | str, **loss):
    from grader.rubric import parse_rubric

    (tmp_path / "train.txt").write_text(train, encoding="utf-8")
    (tmp_path / "hidden.txt").write_bytes(hidden if isinstance(hidden, bytes) else hidden.encode("utf-8"))
    return parse_rubric({
        "assignment": "rnn_text", "data": {"loader": "text", "keras_datasets": {"corpus_es.txt": "train.txt"},
                                           "hidden_test": "hidden.txt"},
        "checks": [{"id": "loss", "kind": "text_loss", "points": 6, "threshold": 0.5, "window": 10, **loss},
                   {"id": "generate", "kind": "generate_text", "points": 3, "calls": [{"start": "ab", "num": 5}]}],
    }, str(tmp_path / "rnn_text.yaml"))


def test_text_loader_reads_counts_and_held_out_text(tmp_path):
    from grader.data.loaders import load_data

    data = load_data(_rubric(tmp_path, "abc ab\r\nc", "cab " * 10))
    assert data["train_counts"] == {"a": 2, "b": 2, "c": 2, " ": 1, "\n": 1}  # universal newlines, as open()
    assert data["train_chars"] == "\n abc" and data["hidden_text"] == "cab " * 10


@pytest.mark.parametrize("train,hidden,loss,words", [
    ("abc", "abc " * 10, {}, "no window of 10 characters"),  # every window has a ' ', never in training
    ("abc ", "ab", {}, "no window of 10 characters"),
    ("abc ", b"\xff\xfeabc", {}, "not UTF-8 text (byte 0)"),
    ("xyz ", "xyz " * 10, {}, "calls[0].start: 'a', 'b' is not in the training text"),
    ("abc ", "", {}, "is empty"),
])
def test_text_loader_rejects_what_would_cost_every_student_points(tmp_path, train, hidden, loss, words):
    from grader.data.loaders import load_data
    from grader.errors import RubricError

    with pytest.raises(RubricError, match=re.escape(words)):
        load_data(_rubric(tmp_path, train, hidden, **loss))


def test_text_loss_rubric_validation():
    from grader.errors import RubricError
    from grader.rubric import parse_rubric

    base = {"assignment": "rnn_text", "checks": [{"id": "loss", "kind": "text_loss", "points": 6,
                                                  "threshold": 0.5, "partial_from": 0.4}]}
    with pytest.raises(RubricError, match=r"partial_from \(0.4\) must be above threshold \(0.5\)"):
        parse_rubric(base)
    with pytest.raises(RubricError, match="unknown key 'nun'"):
        parse_rubric({"assignment": "rnn_text", "checks": [
            {"id": "g", "kind": "generate_text", "points": 3, "calls": [{"start": "La ", "nun": 5}]}]})
