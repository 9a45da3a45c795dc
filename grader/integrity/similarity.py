"""Which notebooks share long runs of code: pairs, scores and the matching regions.

Every pair of this class is compared, and every notebook of this class with every archived one
(earlier years; archived notebooks are not compared with each other). Only pairs that share a
fingerprint are compared in full (an inverted index), so 200 notebooks cost far less than
19,900 comparisons. A pair's score is the larger of the two shares: the part of one notebook's
own code (the template's k-grams left out) that lies in matches with the other, so a short
copy pasted into a long notebook still shows; but the matches must add up to twice the
minimum match length.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .fingerprints import Fingerprint, compare, fingerprint, kgram_hashes
from .normalize import Stream

WINDOW = 6  # winnowing window: every match of min_match_tokens + WINDOW - 1 tokens is found
# A pair needs matches adding up to this many times min_match_tokens, so that two nearly empty
# notebooks sharing one textbook function (all of their own code) are not a pair.
MIN_MATCHES = 2


@dataclass
class Entry:
    """One notebook to compare. `archive` names the earlier year it comes from (None: this class)."""

    participant_id: str
    name: str
    notebook: str
    stream: Stream
    archive: str | None = None

    @property
    def key(self) -> str:
        """What the flag names: the participant id, prefixed by the archive for earlier years."""
        return f"{self.archive}/{self.participant_id}" if self.archive else self.participant_id


@dataclass
class Region:
    """A stretch of one cell (character span of its source) inside a match; `group` pairs it
    with the regions of the other notebook that match it."""

    cell: int
    start: int
    end: int
    group: int


@dataclass
class Match:
    a: Entry
    b: Entry
    shares: tuple[float, float]  # the part of a's own code, and of b's, in matches
    tokens: tuple[int, int]  # matched tokens in a, in b
    regions_a: list[Region] = field(default_factory=list)
    regions_b: list[Region] = field(default_factory=list)
    evidence: tuple | None = field(default=None, repr=False, compare=False)  # for the regions

    @property
    def score(self) -> float:
        return max(self.shares)

    @property
    def cross_year(self) -> bool:
        return bool(self.a.archive or self.b.archive)


def find_matches(entries: list[Entry], template: Stream | None, threshold: float,
                 min_match_tokens: int, detail: int = 200) -> list[Match]:
    """The pairs scoring at least `threshold`, most similar first; the first `detail` of them
    with their matching regions (what the report shows)."""
    k = min_match_tokens
    skip = np.unique(kgram_hashes(template, k))  # every k-gram of the template, not only winnowed ones
    prints = [fingerprint(e.key, e.stream, k, WINDOW, skip) for e in entries]
    holders: dict[int, list[int]] = defaultdict(list)
    for i, fp in enumerate(prints):
        for h in fp.hashes:
            holders[h].append(i)
    matches = []
    for i, fp in enumerate(prints):
        others = {j for h in fp.hashes for j in holders[h] if j > i}
        for j in sorted(others):
            if entries[i].archive and entries[j].archive:
                continue  # earlier years were compared when they were graded
            m = _match(entries[i], entries[j], fp, prints[j], threshold, MIN_MATCHES * k)
            if m:
                matches.append(m)
    matches.sort(key=lambda m: (-m.score, m.a.key, m.b.key))
    for m in matches[:detail]:
        fa, fb, sa, sb = m.evidence
        group_a, group_b = _groups(fa, fb, sa, sb)
        m.regions_a, m.regions_b = _regions(m.a.stream, sa, group_a), _regions(m.b.stream, sb, group_b)
    for m in matches:
        m.evidence = None
    return matches


def _match(a: Entry, b: Entry, fa: Fingerprint, fb: Fingerprint, threshold: float,
           min_tokens: int) -> Match | None:
    """The pair, or None below the threshold or with fewer than `min_tokens` matching."""
    _, shares, (sa, sb) = compare(fa, fb)
    if not np.size(sa) or max(shares) < threshold:
        return None
    tokens = (int(np.sum(sa[1] - sa[0])), int(np.sum(sb[1] - sb[0])))
    if min(tokens) < min_tokens:
        return None
    return Match(a, b, (float(min(shares[0], 1.0)), float(min(shares[1], 1.0))), tokens,
                 evidence=(fa, fb, sa, sb))


def _groups(fa: Fingerprint, fb: Fingerprint, sa, sb) -> tuple[list[int], list[int]]:
    """Number the slices so that a slice of `a` and the slices of `b` sharing a fingerprint
    with it get the same number (connected components, numbered in `a`'s order)."""
    na = sa.shape[1]
    parent = list(range(na + sb.shape[1]))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    idx_a, idx_b = fa.code.hash_idx, fb.code.hash_idx
    for h in fa.hashes & fb.hashes:
        for pa in idx_a[h]:
            ia = int(np.searchsorted(sa[0], pa, side="right")) - 1
            for pb in idx_b[h]:
                ib = na + int(np.searchsorted(sb[0], pb, side="right")) - 1
                parent[find(ia)] = find(ib)
    numbers: dict[int, int] = {}
    labels = [numbers.setdefault(find(x), len(numbers) + 1) for x in range(len(parent))]
    return labels[:na], labels[na:]


def _regions(stream: Stream, slices, groups: list[int]) -> list[Region]:
    """Token slices -> character spans per cell (a slice crossing cells gives one per cell)."""
    out: list[Region] = []
    for (start, end), group in zip(slices.T.tolist(), groups):
        spans: dict[int, list[int]] = {}
        for tok in stream.tokens[start:end]:
            if tok.cell < 0 or tok.end <= tok.start:
                continue
            span = spans.setdefault(tok.cell, [tok.start, tok.end])
            span[0], span[1] = min(span[0], tok.start), max(span[1], tok.end)
        out += [Region(cell, s, e, group) for cell, (s, e) in spans.items()]
    return out
