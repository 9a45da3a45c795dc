"""The CSV for the gradebook's "Import grades from CSV", and the roster export that maps
students to their ID number.

Moodle's importer (grade/import/csv) maps one column to users (email, username or ID number)
and one per grade item; `-` or blank is "no grade"; grades go through unformat_float with the
importing user's decimal separator; a row it cannot map to a user aborts the WHOLE import, and
a row of one cell is skipped. So every row written here has an identifier and two cells.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import GraderError
from .atomic import write_atomic
from .worksheet_io import norm_name

ID_HEADERS = {"email": "Email address", "idnumber": "ID number"}
ROSTER_COLUMNS = {  # header texts of Moodle's participant and grade exports (en, es)
    "email": ("Email address", "Dirección de correo", "email", "Email"),
    "idnumber": ("ID number", "Número de ID", "idnumber"),
    "first": ("First name", "Nombre"),
    "last": ("Last name", "Surname", "Apellido(s)"),
    "full": ("Full name", "Nombre completo"),
}


class GradebookError(GraderError):
    """The roster export cannot be read, or a row cannot be written."""


@dataclass
class RosterEntry:
    email: str
    idnumber: str
    full_name: str
    line: int


def format_grade(grade: Decimal | None, decimal: str) -> str:
    if grade is None:
        return "-"
    text = f"{grade:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", decimal)


def render_gradebook(rows: list[tuple[str, Decimal | None]], identifier: str, item: str,
                     decimal: str = ".") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([ID_HEADERS[identifier], item])
    seen: set[str] = set()
    for ident, grade in rows:
        if not ident.strip():
            raise GradebookError("a gradebook row without identifier would abort Moodle's import")
        if ident.lower() in seen:
            raise GradebookError(f"{ident}: twice in the gradebook CSV")
        seen.add(ident.lower())
        w.writerow([ident, format_grade(grade, decimal)])
    return "\ufeff" + buf.getvalue()


def write_gradebook(path: Path, rows: list[tuple[str, Decimal | None]], identifier: str,
                    item: str, decimal: str = ".") -> Path:
    return write_atomic(path, render_gradebook(rows, identifier, item, decimal))


def read_roster(path: str | Path) -> list[RosterEntry]:
    """A Moodle participants or grades export (CSV, English or Spanish headers) with the email
    and ID number of every student."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise GradebookError(f"roster not found: {path}") from None
    except UnicodeDecodeError:
        raise GradebookError(f"{path}: not UTF-8 (export it again as CSV UTF-8)") from None
    first = text.splitlines()[0] if text else ""
    delim = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    headers = [h.strip() for h in next(reader, [])]
    col = {k: next((headers.index(h) for h in names if h in headers), None)
           for k, names in ROSTER_COLUMNS.items()}
    if col["email"] is None or col["idnumber"] is None:
        raise GradebookError(f"{path}: needs the columns 'Email address' and 'ID number' "
                             f"('Dirección de correo', 'Número de ID'); it has {headers}")
    out = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(headers):
            raise GradebookError(f"{path.name} line {reader.line_num}: {len(cells)} cells, "
                                 f"the header has {len(headers)}")

        def get(k: str) -> str:
            return cells[col[k]].strip() if col[k] is not None else ""

        full = get("full") or " ".join(p for p in (get("first"), get("last")) if p)
        out.append(RosterEntry(get("email"), get("idnumber"), full, reader.line_num))
    return out


def roster_index(entries: list[RosterEntry]) -> tuple[dict[str, RosterEntry], dict[str, list[RosterEntry]]]:
    """By lower-cased email, and by normalized name (a list: names can repeat)."""
    by_email: dict[str, RosterEntry] = {}
    by_name: dict[str, list[RosterEntry]] = {}
    for e in entries:
        if e.email:
            if e.email.lower() in by_email:
                raise GradebookError(f"roster line {e.line}: {e.email} also on line "
                                     f"{by_email[e.email.lower()].line}")
            by_email[e.email.lower()] = e
        if e.full_name:
            by_name.setdefault(norm_name(e.full_name), []).append(e)
    return by_email, by_name
