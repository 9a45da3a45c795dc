"""Which notebook to grade when a student hands in several.

The rule (also in the README):

1. Only ``.ipynb`` files of the file-submission plugin count. Jupyter checkpoint copies
   (``*-checkpoint.ipynb``; anything under ``.ipynb_checkpoints/`` is not even extracted) are
   left out, unless they are all the student handed in.
2. The first pattern of the rubric's ``notebook.preferred`` list (shell globs, matched
   case-insensitively against the file name, without folders) that matches any notebook wins;
   only the notebooks it matches stay in the running.
3. Among those, the most recently modified (the zip entry's timestamp) wins, then the largest,
   then the first by path.

The choice is written to the submission's notes, naming the graded file and the ones not
graded, so the instructor can check it, e.g. "3 notebooks handed in; graded 'mnist_cnn.ipynb'
(matches 'mnist_cnn*.ipynb'); not graded: 'copia.ipynb', 'old.ipynb'".
"""
from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from posixpath import basename


@dataclass(frozen=True)
class Candidate:
    relpath: str  # inside the student's submission
    mtime: datetime | None
    size: int


def is_notebook(relpath: str) -> bool:
    return relpath.lower().endswith(".ipynb")


def is_checkpoint(relpath: str) -> bool:
    return relpath.lower().endswith("-checkpoint.ipynb") or ".ipynb_checkpoints" in relpath.split("/")[:-1]


def _newest_first(c: Candidate) -> tuple:
    stamp = c.mtime.timestamp() if c.mtime else float("-inf")
    return (-stamp, -c.size, c.relpath)


def choose_notebook(notebooks: Sequence[Candidate],
                    preferred: Sequence[str] = ()) -> tuple[Candidate | None, str | None]:
    """The notebook to grade and a note explaining the choice (None when there was no choice)."""
    if not notebooks:
        return None, None
    pool = [c for c in notebooks if not is_checkpoint(c.relpath)]
    reasons: list[str] = []
    if not pool:
        pool = list(notebooks)
        reasons.append("only checkpoint copies were handed in")
    elif len(pool) < len(notebooks):
        reasons.append("checkpoint copies left out")
    for pattern in preferred:
        matching = [c for c in pool if fnmatch.fnmatchcase(basename(c.relpath).lower(), pattern.lower())]
        if matching:
            pool = matching
            reasons.append(f"matches {pattern!r}")
            break
    ranked = sorted(pool, key=_newest_first)
    chosen = ranked[0]
    if len(ranked) > 1:
        reasons.append(_tie_break(chosen, ranked[1]))
    if len(notebooks) == 1:
        return chosen, (f"graded {chosen.relpath!r} ({'; '.join(reasons)})" if reasons else None)
    others = sorted(c.relpath for c in notebooks if c is not chosen)
    return chosen, (f"{len(notebooks)} notebooks handed in; graded {chosen.relpath!r} "
                    f"({'; '.join(reasons)}); not graded: " + ", ".join(repr(o) for o in others))


def _tie_break(first: Candidate, second: Candidate) -> str:
    """Which step of rule 3 separated the winner from the runner-up."""
    if first.mtime != second.mtime:
        return "the most recently modified"
    if first.size != second.size:
        return "the largest of those modified last"
    return "first by name among identical times and sizes"
