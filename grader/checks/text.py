"""Small helpers for text that comes from student code or notebook outputs (untrusted)."""
from __future__ import annotations

import re

from ..report.safe_text import clean_text

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean(value, limit: int = 200) -> str:
    """A message's student text: one line, no terminal colours or control characters, at most
    `limit` characters (safe_text.clean_text, the one cleaner)."""
    return clean_text("" if value is None else value, limit)


def terminal_lines(text: str) -> list[str]:
    """The lines a terminal would finally show: colours removed, `\\r` and `\\b` applied.

    Progress bars (Keras) redraw a line many times; only its last state matters.
    """
    text = _ANSI.sub("", text)
    lines = []
    for raw in text.split("\n"):
        pieces = [p for p in raw.split("\r") if p]
        line = pieces[-1] if pieces else ""
        if "\b" in line:
            kept: list[str] = []
            for ch in line:
                if ch == "\b":
                    if kept:
                        kept.pop()
                else:
                    kept.append(ch)
            line = "".join(kept)
        lines.append(line)
    return lines


def cell_source(cell: dict) -> str:
    """A cell's source as one string (nbformat stores it as a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)
