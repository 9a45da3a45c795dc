"""Winnowing fingerprints (the algorithm behind MOSS) of a normalized token stream.

The winnowing itself is copydetect's (`CodeFingerprint`, `compare_files`): we hand it the
notebook's normalized tokens spelled one character per token, with its own tokenizer off, so
its k-grams are k *tokens* of Python's tokenizer (with our abstraction of names and literals)
rather than k characters of its Pygments filter, and the slices it returns are token positions
that map back to cells and lines. The template's code is removed here rather than with
copydetect's `boilerplate` argument, for two reasons: that argument only drops fingerprints
equal to the template's, so the k-grams joining a student's short blank to the template code
around it would still match between two students who filled in the same blank; and in 0.5.0
it calls `np.intersect1d(..., assume_unique=True)` on hashes that repeat, which also drops
fingerprints occurring twice in a notebook, template or not.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .normalize import Stream


class Alphabet:
    """Normalized token -> one character, consistent within a run (every notebook, the template
    and the archive are spelled with the same one)."""

    def __init__(self) -> None:
        self._chars: dict[str, str] = {}

    def spell(self, stream: Stream) -> str:
        chars = self._chars
        out = []
        for tok in stream.tokens:
            ch = chars.get(tok.text)
            if ch is None:  # supplementary planes: no surrogates, room for a million tokens
                ch = chars[tok.text] = chr(0x10000 + len(chars))
            out.append(ch)
        return "".join(out)


@dataclass
class Fingerprint:
    """One notebook's fingerprints (a copydetect CodeFingerprint) and its tokens."""

    key: str
    stream: Stream
    code: object  # copydetect.CodeFingerprint, in token positions

    @property
    def hashes(self) -> set:
        return self.code.hashes

    @property
    def own_tokens(self) -> int:
        """Tokens covered by a fingerprint that is not the template's: what can match at all."""
        return int(self.code.token_coverage)


def template_hashes(alphabet: Alphabet, stream: Stream | None, k: int) -> np.ndarray:
    """Every k-gram of the template (not only its winnowed ones), so no k-gram a student got
    from the released notebook can count as copied."""
    from copydetect.utils import hashed_kgrams

    if stream is None or len(stream.tokens) < k:
        return np.zeros(0, dtype=np.int64)
    return np.unique(hashed_kgrams(alphabet.spell(stream), k))


def fingerprint(key: str, stream: Stream, alphabet: Alphabet, k: int, window: int,
                template: np.ndarray) -> Fingerprint:
    """Only fingerprints of the student's own code count: a k-gram touching a token that lies
    in any template k-gram is dropped, so a run of own code shorter than k between template
    code (a short blank filled in) yields no fingerprint at all, and neither do the k-grams
    that join a blank to the template code around it."""
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage, hashed_kgrams

    doc = alphabet.spell(stream)
    code = CodeFingerprint(key, k, window, filter=False, fp=io.StringIO(doc))
    if len(template) and len(doc) >= k:
        starts = np.flatnonzero(np.isin(hashed_kgrams(doc, k), template))
        marks = np.zeros(len(doc) + 1, dtype=np.int64)  # +1 at a template k-gram's start, -1 after it
        np.add.at(marks, starts, 1)
        np.add.at(marks, starts + k, -1)
        in_template = np.cumsum(marks[:-1]) > 0
        touched = np.concatenate([[0], np.cumsum(in_template)])  # template tokens before each position
        clean = touched[k:] - touched[:-k] == 0  # k-gram at p has no template token
        kept = {}
        for h, idx in code.hash_idx.items():
            idx = [p for p in idx if clean[p]]
            if idx:
                kept[h] = idx
        code.hash_idx, code.hashes = kept, set(kept)
        code.token_coverage = get_token_coverage(kept, k, len(doc))
    return Fingerprint(key, stream, code)


def compare(a: Fingerprint, b: Fingerprint):
    """copydetect's comparison: (tokens of `a` in matches, (share of a, share of b),
    (a's slices, b's slices)) with slices as 2 x n arrays of token start/end positions."""
    from copydetect import compare_files

    if not a.code.token_coverage or not b.code.token_coverage:
        return 0, (0.0, 0.0), (np.zeros((2, 0), int), np.zeros((2, 0), int))
    return compare_files(a.code, b.code)
