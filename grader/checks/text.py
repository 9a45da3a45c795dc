"""Small helpers for text that comes from student code or notebook outputs (untrusted)."""
from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean(value, limit: int = 200) -> str:
    """One line, no terminal colours, at most `limit` characters."""
    text = " ".join(_ANSI.sub("", str(value if value is not None else "")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
