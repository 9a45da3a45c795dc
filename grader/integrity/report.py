"""similarity.html: the suspicious pairs, most similar first, each with both notebooks'
matching regions side by side. Jinja2 with autoescaping: names and code are the students'
(untrusted); the page never builds markup from them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..export.atomic import write_atomic
from ..report.safe_text import html_env
from .similarity import Entry, Match, Region

SHOWN_PAIRS = 200  # a page an instructor can read (find_matches' `detail`); the rest are counted, and still flagged


@dataclass
class Cell:
    number: int  # 1-based, as Jupyter users count
    segments: list[tuple[str, int]]  # (text, match group; 0 = not in a match)


def render(matches: list[Match], entries: list[Entry], assignment: str, title: str,
           threshold: float, min_match_tokens: int, shared: int, warnings: list[str]) -> str:
    env = html_env(Path(__file__).parent / "templates", trim_blocks=True, lstrip_blocks=True)
    pairs = [{"match": m, "left": _cells(m.a, m.regions_a), "right": _cells(m.b, m.regions_b)}
             for m in matches[:SHOWN_PAIRS]]
    return env.get_template("similarity.html.j2").render(
        assignment=assignment, title=title, pairs=pairs, hidden=max(0, len(matches) - SHOWN_PAIRS),
        n_class=sum(1 for e in entries if not e.archive),
        n_archive=sum(1 for e in entries if e.archive), threshold=threshold,
        min_match_tokens=min_match_tokens, shared=shared, warnings=warnings,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write_report(path: Path, html: str) -> Path:
    return write_atomic(path, html)


def _cells(entry: Entry, regions: list[Region]) -> list[Cell]:
    """The cells with a match, in notebook order, cut into plain and matching stretches."""
    by_cell: dict[int, list[Region]] = {}
    for r in regions:
        by_cell.setdefault(r.cell, []).append(r)
    cells = []
    for index in sorted(by_cell):
        source = entry.stream.sources.get(index, "")
        segments, pos = [], 0
        for r in sorted(by_cell[index], key=lambda r: (r.start, r.end)):
            start, end = max(r.start, pos), max(r.end, pos)
            if start > pos:
                segments.append((source[pos:start], 0))
            if end > start:
                segments.append((source[start:end], r.group))
            pos = end
        if pos < len(source):
            segments.append((source[pos:], 0))
        cells.append(Cell(index + 1, segments))
    return cells
