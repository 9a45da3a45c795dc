"""The held-out text, cut so that what a language model must predict never enters the sandbox.

For a language model the inputs ARE the text, so sending the held-out text whole would hand
the student's code every answer. Instead the host cuts it into windows of T characters at a
stride of T + 1:

    text:     [ window 0 (T chars) ][t0][ window 1 (T chars) ][t1][ window 2 ...
    sent:       yes                   no  yes                   no

Only the windows go in (as Unicode code points); the model is asked for its prediction after
each window's LAST character, and the target is the one character skipped after it, which is
in no window at all. The windows go in a seeded random order, so a model cannot read the
start of the next piece of text in the batch either. Targets stay here, with the host.

Windows are kept only when every character, context and target, occurs in the training text
students get: with a real corpus a rare character of the held-out part is nobody's fault.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SHUFFLE_SEED = 20260331


@dataclass(frozen=True)
class Windows:
    codepoints: np.ndarray  # (N, T) int32: what is sent into the sandbox, in this order
    targets: tuple[str, ...]  # the character after each window: host only
    starts: np.ndarray  # (N,) where each window starts in the held-out text (tests, diagnostics)

    @property
    def contexts(self) -> list[str]:
        return ["".join(map(chr, row)) for row in self.codepoints.tolist()]


def codepoints(text: str) -> np.ndarray:
    """The text as int32 Unicode code points (one per character, no surrogates)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int32)


@lru_cache(maxsize=8)
def cut_windows(text: str, length: int, max_windows: int, allowed: str | None = None,
                seed: int = SHUFFLE_SEED) -> Windows:
    """At most `max_windows` windows of `length` characters at stride length + 1 (see the
    module docstring); `allowed`: the characters a window and its target may use."""
    if length < 1 or max_windows < 1:
        raise ValueError("window length and count must be positive")
    cps = codepoints(text)
    slots = len(cps) // (length + 1)
    starts = np.arange(slots, dtype=np.int64) * (length + 1)
    if allowed is not None and slots:
        ok = np.isin(cps, codepoints(allowed))
        block = ok[: slots * (length + 1)].reshape(slots, length + 1).all(axis=1)
        starts = starts[block]
    order = np.random.default_rng(seed).permutation(len(starts))[:max_windows]
    starts = starts[order]
    if not len(starts):
        return Windows(np.zeros((0, length), np.int32), (), starts)
    windows = cps[starts[:, None] + np.arange(length)[None, :]]
    targets = tuple(text[s + length] for s in starts.tolist())
    return Windows(windows.astype(np.int32), targets, starts)


def baseline_loss(kind: str, targets: tuple[str, ...], train_counts: dict[str, int]) -> float:
    """Nats per character of a model that ignores the context, on the same targets:
    "unigram" (the training text's character frequencies) or "uniform" (1 / its alphabet)."""
    if not targets:
        raise ValueError("no targets to compute a baseline on")
    if kind == "uniform":
        return math.log(len(train_counts))
    if kind != "unigram":
        raise ValueError(f"unknown baseline {kind!r}")
    total = sum(train_counts.values())
    counts = Counter(targets)
    # every target is a training character (cut_windows' `allowed`), so no count is zero
    return -sum(n * math.log(train_counts[c] / total) for c, n in counts.items()) / len(targets)
