"""Winnowing fingerprints (the algorithm behind MOSS) of a normalized token stream.

The winnowing and the comparison are copydetect's (`utils.winnow`, `compare_files`: shared
fingerprints -> copied slices -> shares of each document). What we give it instead of its own
front end: k-grams of *tokens* of Python's tokenizer (with our abstraction of names and
literals) rather than k characters of its Pygments filter, so slices are token positions that
map back to cells; and a stable hash (blake2b of each token, a polynomial over the k-gram)
instead of its `hash()` of strings, which Python salts per process: winnowing keeps the
smallest hash of each window, so with a salted hash the same class would score a little
differently on every run.

The template's code is removed here rather than with copydetect's `boilerplate` argument, for
two reasons: that argument only drops fingerprints equal to the template's, so the k-grams
joining a student's short blank to the template code around it would still match between two
students who filled in the same blank; and in 0.5.0 it calls `np.intersect1d(...,
assume_unique=True)` on hashes that repeat, which also drops fingerprints occurring twice in a
notebook, template or not.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .normalize import Stream

_BASE = np.uint64(1_000_003)
_MASK = np.uint64((1 << 53) - 1)  # exact as a float: copydetect's winnow compares in float64


@lru_cache(maxsize=None)
def _token_id(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def kgram_hashes(stream: Stream | None, k: int) -> np.ndarray:
    """The hash of every k-gram of tokens, position by position (int64, the same in every run)."""
    n = len(stream.tokens) - k + 1 if stream else 0
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    ids = np.fromiter((_token_id(t.text) for t in stream.tokens), dtype=np.uint64, count=len(stream.tokens))
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):  # wraps modulo 2**64, as meant
            h = h * _BASE + ids[j:j + n]
    return (h & _MASK).astype(np.int64)


@dataclass
class Code:
    """What copydetect's `compare_files` reads of a document (its CodeFingerprint's fields)."""

    k: int
    filtered_code: range  # only its length is read: the number of tokens
    hashes: set = field(default_factory=set)
    hash_idx: dict = field(default_factory=dict)  # hash -> token positions of its k-grams
    token_coverage: int = 0
    offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))


@dataclass
class Fingerprint:
    key: str
    stream: Stream
    code: Code

    @property
    def hashes(self) -> set:
        return self.code.hashes


def fingerprint(key: str, stream: Stream, k: int, window: int, template: np.ndarray) -> Fingerprint:
    """Only fingerprints of the student's own code count: a k-gram touching a token that lies
    in any template k-gram is dropped, so a run of own code shorter than k between template
    code (a short blank filled in) yields no fingerprint at all, and neither do the k-grams
    that join a blank to the template code around it."""
    from copydetect.utils import get_token_coverage, winnow

    n = len(stream.tokens)
    code = Code(k, range(n))
    hashes = kgram_hashes(stream, k)
    if not len(hashes):
        return Fingerprint(key, stream, code)
    clean = np.ones(len(hashes), dtype=bool)
    if len(template):
        starts = np.flatnonzero(np.isin(hashes, template))
        marks = np.zeros(n + 1, dtype=np.int64)  # +1 where a template k-gram starts, -1 after it
        np.add.at(marks, starts, 1)
        np.add.at(marks, starts + k, -1)
        touched = np.concatenate([[0], np.cumsum(np.cumsum(marks[:-1]) > 0)])
        clean = touched[k:] - touched[:-k] == 0  # the k-gram at p has no template token
    chosen, positions = winnow(hashes, window, remove_duplicates=False)
    for h, p in zip(chosen.tolist(), positions.tolist()):
        if clean[p]:
            code.hash_idx.setdefault(h, []).append(p)
    code.hashes = set(code.hash_idx)
    code.token_coverage = int(get_token_coverage(code.hash_idx, k, n))
    return Fingerprint(key, stream, code)


def compare(a: Fingerprint, b: Fingerprint):
    """copydetect's comparison: (tokens of `a` in matches, (share of a, share of b),
    (a's slices, b's slices)) with slices as 2 x n arrays of token start/end positions."""
    from copydetect import compare_files

    if not a.code.token_coverage or not b.code.token_coverage:
        return 0, (0.0, 0.0), (np.zeros((2, 0), int), np.zeros((2, 0), int))
    return compare_files(a.code, b.code)
