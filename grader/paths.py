"""Where the course's files live (rubrics/, assignments/)."""
from __future__ import annotations

import os
from pathlib import Path


def course_dir(arg: str | None = None) -> Path:
    """--course-dir, $GRADER_COURSE_DIR, the current folder if it has rubrics/, else the folder
    this package was installed from (the repository, for an editable install)."""
    for cand in (arg, os.environ.get("GRADER_COURSE_DIR")):
        if cand:
            return Path(cand)
    if Path("rubrics").is_dir():
        return Path(".")
    return Path(__file__).resolve().parent.parent
