"""grades_by_check.csv: one row per student, one column per check's points, for a spreadsheet.

Dialect: what a spreadsheet program set to Spanish opens by double-click without an import
dialog. Excel (es-ES) splits on the list separator, which is `;` wherever the decimal
separator is `,`; it reads UTF-8 only with a BOM (otherwise "José Núñez" becomes "JosÃ©");
numbers with a decimal comma become numbers. LibreOffice detects all three. So: `;`, decimal
comma, UTF-8 with BOM, CRLF line ends, quotes only where needed.

Names and flags are student-controlled: a cell starting with = + - @ (or a tab / carriage
return) would be run as a formula, so it gets a leading apostrophe (shown as text, OWASP's
advice). Numbers are written by us and never negative.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..export.atomic import write_atomic
from ..export.worksheet_io import csv_text
from .class_report import ClassSummary

DELIMITER = ";"
DECIMAL = ","
def number(x: float | None, decimals: int = 2) -> str:
    if x is None:
        return ""
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".").replace(".", DECIMAL) or "0"


def _cell(student, check_id: str, flag: bool) -> str:
    """Points; for a 0-point check (a flag for the instructor) whether it passed."""
    if flag:
        ok = student.passed.get(check_id)
        return "" if ok is None else ("ok" if ok else "FLAG")
    return number(student.points.get(check_id))


def render(summary: ClassSummary) -> str:
    check_ids = [c.id for c in summary.checks]
    metric = summary.metric_name
    headers = (["Participant id", "Full name", "Status", "Grade", "Maximum grade"]
               + [f"{c.id} (/{number(c.max_points)})" if c.max_points else f"{c.id} (flag)"
                  for c in summary.checks]
               + ([f"measured {metric}"] if metric else []) + ["Late", "Hours late", "Flags"])
    flag_checks = {c.id for c in summary.checks if not c.max_points}
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=DELIMITER, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([csv_text(h) for h in headers])
    for s in summary.students:
        w.writerow([csv_text(s.participant_id), csv_text(s.name), s.status, number(s.score),
                    number(s.max_score)]
                   + [_cell(s, cid, cid in flag_checks) for cid in check_ids]
                   + ([number(s.metric, 4)] if metric else [])
                   + ["yes" if s.late else "no", number(s.hours_late),
                      csv_text(", ".join(s.flags))])
    return "\ufeff" + buf.getvalue()


def write_grades_by_check(path: Path, summary: ClassSummary) -> Path:
    return write_atomic(path, render(summary))
