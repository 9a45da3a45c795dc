"""The entry points: compare a class, write similarity.html, flag both rows of every pair.

`flag_similar` is what `grader grade` calls before writing its exports; `similarity_for_folder`
is `grader similarity` on an already graded folder. Neither takes points; a failure of the
comparison itself is a warning, never a lost batch.
"""
from __future__ import annotations

import dataclasses
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GraderError
from ..export.results_jsonl import write_results
from ..model import Result, Submission
from ..rubric import Rubric
from .normalize import CELL, Stream, Token
from .report import render, write_report
from .similarity import Entry, Match, find_matches
from .sources import UNREADABLE, archive_entries, batch_entries, entry, graded_folder, shared_code

FLAG = "similar_to:"


@dataclass
class Flagged:
    pairs: list[tuple[Submission, Result]]  # the batch's pairs, results with their flags
    report: Path | None  # similarity.html (None: similarity is off in the rubric, or failed)
    matches: list[Match] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def flag_similar(pairs: list[tuple[Submission, Result]], rubric: Rubric, out_dir: Path,
                 archive: Path | None = None) -> Flagged:
    """The whole class's (Submission, Result) pairs -> the same pairs with `similar_to:` flags,
    and OUT/ASSIGNMENT/similarity.html. Whatever goes wrong here (an archive without graded
    folders included) leaves the results as they were, with a warning: hours of grading are
    never lost to it."""
    if not rubric.similarity.enabled:
        return Flagged(pairs, None)
    try:
        entries, warnings = batch_entries(pairs)
        results, matches, report, more = _run(entries, [r for _, r in pairs], rubric, out_dir, archive)
    except GraderError as exc:
        return Flagged(pairs, None, warnings=[f"similarity: not computed: {exc}"])
    except Exception:
        return Flagged(pairs, None, warnings=["similarity: not computed, an internal error: "
                                              + traceback.format_exc(limit=3).splitlines()[-1]])
    return Flagged([(s, r) for (s, _), r in zip(pairs, results)], report, matches, warnings + more)


def similarity_for_folder(out_root: Path, rubric: Rubric, archive: Path | None = None) -> Flagged:
    """`grader similarity`: OUT/ASSIGNMENT/results.jsonl rewritten with the flags (atomically;
    earlier `similar_to:` flags replaced), and similarity.html beside it."""
    folder = Path(out_root) / rubric.assignment
    rows, notebooks, warnings = graded_folder(folder, rubric)
    entries = []
    for row in rows:
        e, w = entry(row, None if row.status in UNREADABLE else notebooks.get(row.participant_id))
        entries += [e] if e else []
        warnings += [w] if w else []
    results, matches, report, more = _run(entries, rows, rubric, folder, archive)
    write_results(folder / "results.jsonl", results)
    return Flagged([], report, matches, warnings + more)


def _run(entries: list[Entry], results: list[Result], rubric: Rubric, out_dir: Path,
         archive: Path | None):
    cfg = rubric.similarity
    shared, warnings = shared_code(rubric)
    if archive is not None:
        old, more = archive_entries(archive, rubric)
        entries, warnings = entries + old, warnings + more
    sep = Token(CELL, -1, 0, 0)  # between shared files
    template = Stream(tokens=[t for s in shared for t in s.tokens + [sep]]) if shared else None
    matches = find_matches(entries, template, cfg.threshold, cfg.min_match_tokens)
    html = render(matches, entries, rubric.assignment, rubric.title, cfg.threshold,
                  cfg.min_match_tokens, len(shared), warnings)
    report = write_report(Path(out_dir) / "similarity.html", html)
    return with_flags(results, matches), matches, report, warnings


def with_flags(results: list[Result], matches: list[Match]) -> list[Result]:
    """Each result with `similar_to:<key>` for every partner, earlier such flags replaced."""
    partners: dict[str, set[str]] = defaultdict(set)
    for m in matches:
        for me, other in ((m.a, m.b), (m.b, m.a)):
            if not me.archive:
                partners[me.participant_id].add(other.key)
    out = []
    for r in results:
        flags = [f for f in r.flags if not f.startswith(FLAG)]
        flags += [FLAG + key for key in sorted(partners.get(r.participant_id, ()))]
        out.append(r if flags == r.flags else dataclasses.replace(r, flags=flags))
    return out

