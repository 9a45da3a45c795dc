"""Moodle's offline grading worksheet ("Download grading worksheet" / "Upload grading worksheet").

Headers are Moodle's exact English strings (see shared/moodle-strings.md): the importer matches
`Identifier`, `Grade` and `Last modified (grade)` by exact text in the site language, and takes
the participant id from after `Participant ` in the Identifier. Written by the same CSV writer
as the filled worksheet (worksheet_io.render_csv: quoted as Moodle's fputcsv quotes, so
"Núñez, José" stays one cell; the name's formula neutralised), UTF-8, atomically. This is the fallback when no
worksheet downloaded from Moodle is given (`grader grade --worksheet`, worksheet_io.py fills that
one instead): we don't know e-mails or grading dates, so those cells are left as Moodle leaves
them for ungraded rows ('' and '-'), and `grader final` matches these students by name.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..model import Result, Submission
from .atomic import write_atomic
from .feedback import feedback_html
from .moodle_dates import format_moodle_date
from .worksheet_io import COLUMNS, STATUS, csv_text, format_grade, render_csv

# Moodle's English headers, in the order of its download
HEADERS = [COLUMNS[k]["en"][0] for k in ("id", "name", "email", "status", "grade", "max", "changeable",
                                         "submitted", "graded", "feedback")]
STATUS_SUBMITTED = STATUS["submitted"]["en"]


def moodle_date(dt: datetime | None) -> str:
    """Moodle's English `strftimedaydatetime`: 'Friday, 6 March 2026, 9:05 PM'."""
    return format_moodle_date(dt, "en")


def fmt_grade(x: float) -> str:
    return format_grade(x, ".")


def worksheet_rows(pairs: list[tuple[Submission, Result]], lang: str) -> list[dict[str, str]]:
    rows = []
    for sub, res in pairs:
        rows.append({
            "Identifier": sub.identifier,
            "Full name": csv_text(sub.full_name or sub.identifier),
            "Email address": "",
            "Status": STATUS_SUBMITTED,
            "Grade": fmt_grade(res.score),
            "Maximum grade": fmt_grade(res.max_score),
            "Grade can be changed": "Yes",
            "Last modified (submission)": moodle_date(sub.submitted_at),
            "Last modified (grade)": "-",
            "Feedback comments": feedback_html(res, lang),
        })
    return rows


def render_worksheet(pairs: list[tuple[Submission, Result]], lang: str) -> str:
    rows = worksheet_rows(pairs, lang)
    return render_csv(HEADERS, [[r[h] for h in HEADERS] for r in rows], bom=False)


def write_worksheet(path: Path, pairs: list[tuple[Submission, Result]], lang: str) -> Path:
    return write_atomic(path, render_worksheet(pairs, lang))
