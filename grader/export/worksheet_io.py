"""Read the grading worksheet the instructor downloaded from Moodle and write it back filled.

Moodle's importer (assignfeedback_offline) matches `Identifier`, `Grade` and `Last modified
(grade)` by their exact text in the site language, parses grades with the site's decimal
separator, and skips rows whose grade changed after `Last modified (grade)`. So the file goes
back as it came: same headers (English or Spanish), same column order, delimiter, BOM and line
ends, every cell but Grade and Feedback comments untouched (English sites: Last modified (grade)
included), grades with the worksheet's decimal separator. On Spanish sites the graded rows'
Last modified (grade) is written as the same instant in ISO 8601 with its offset, because
Moodle's importer reads it with strtotime, which cannot read Spanish dates (moodle_dates.py). Cells are quoted the way Moodle's own CSV writer
(PHP fputcsv) quotes them, so an untouched Moodle download is written back byte for byte.
Strings: shared/moodle-strings.md.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from ..errors import GraderError
from .atomic import write_atomic
from .moodle_dates import parse_moodle_date, strtotime_form

COLUMNS = {  # canonical key -> header per site language ("Maximum Grade": older English sites)
    "id": {"en": ("Identifier",), "es": ("Identificador",)},
    "name": {"en": ("Full name",), "es": ("Nombre completo",)},
    "email": {"en": ("Email address",), "es": ("Dirección de correo",)},
    "status": {"en": ("Status",), "es": ("Estado",)},
    "grade": {"en": ("Grade",), "es": ("Calificación",)},
    "max": {"en": ("Maximum grade", "Maximum Grade"), "es": ("Calificación máxima",)},
    "changeable": {"en": ("Grade can be changed",), "es": ("La calificación puede ser cambiada",)},
    "submitted": {"en": ("Last modified (submission)",), "es": ("Última modificación (entrega)",)},
    "graded": {"en": ("Last modified (grade)",), "es": ("Última modificación (calificación)",)},
    "feedback": {"en": ("Feedback comments",), "es": ("Comentarios de retroalimentación",)},
}
REQUIRED = ("id", "grade", "graded")  # what Moodle's importer needs
HIDDEN_USER = {"en": "Participant ", "es": "Participante"}  # the Identifier's prefix
DECIMAL = {"en": ".", "es": ","}
STATUS = {
    "submitted": {"en": "Submitted for grading", "es": "Enviado para calificar"},
    "new": {"en": "No submission", "es": "Sin entrega"},
    "draft": {"en": "Draft (not submitted)", "es": "Borrador (no enviado)"},
}
_ID = re.compile(r"(\d+)\s*$")


class WorksheetError(GraderError):
    """The worksheet cannot be used as it is; the message names the file and the row."""


@dataclass
class WorksheetRow:
    line: int  # line of the file where the row ends (the header is line 1)
    participant_id: str
    cells: list[str]
    full_name: str = ""
    email: str = ""
    status: str = ""
    submitted_at: datetime | None = None  # Last modified (submission), aware; None if unknown

    @property
    def has_submission(self) -> bool:
        return any(self.status.startswith(STATUS["submitted"][lang]) for lang in ("en", "es"))


@dataclass
class Worksheet:
    path: Path
    lang: str  # "en" or "es": the site language of the headers
    headers: list[str]
    col: dict[str, int]  # canonical key -> column index
    rows: list[WorksheetRow]
    delimiter: str = ","
    decimal: str = "."
    bom: bool = True
    newline: str = "\n"
    encoding: str = "utf-8"
    max_grade: float | None = None
    warnings: list[str] = field(default_factory=list)
    # Spanish sites: Last modified (grade) as strtotime reads it, by participant (see fill)
    graded_iso: dict[str, str] = field(default_factory=dict)

    def by_pid(self) -> dict[str, WorksheetRow]:
        return {r.participant_id: r for r in self.rows}

    def where(self, row: WorksheetRow) -> str:
        return f"{self.path.name} line {row.line} ({row.cells[self.col['id']]})"


# --------------------------------------------------------------------------------- reading


def read_worksheet(path: str | Path, tz: tzinfo | None = None) -> Worksheet:
    """Parse a downloaded worksheet (English or Spanish site, comma or semicolon, decimal
    point or comma). Raises WorksheetError naming the row for anything Moodle would reject."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorksheetError(f"worksheet not found: {path}") from None
    text, encoding, bom, warnings = _decode(raw, path)
    if not text.strip():
        raise WorksheetError(f"{path}: the worksheet is empty")
    first = text.splitlines()[0] if text.splitlines() else ""
    newline = "\r\n" if text[len(first):len(first) + 2] == "\r\n" else "\n"
    delimiter, headers = _sniff(first, path)
    lang, col = _columns(headers, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=False)
    next(reader)
    ws = Worksheet(path=path, lang=lang, headers=headers, col=col, rows=[], delimiter=delimiter,
                   bom=bom, newline=newline, encoding=encoding, warnings=warnings)
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            ws.warnings.append(f"{path.name} line {line}: blank line left out (Moodle rejects "
                               "a file with rows of the wrong length)")
            continue
        if len(cells) != len(headers):
            raise WorksheetError(f"{path.name} line {line}: {len(cells)} cells, but the header "
                                 f"has {len(headers)} (a delimiter inside an unquoted cell?); "
                                 "Moodle would reject the whole file")
        ident = cells[col["id"]]
        m = _ID.search(ident)
        if not m:
            raise WorksheetError(f"{path.name} line {line}: identifier {ident!r} is not Moodle's "
                                 f"'{HIDDEN_USER[lang]}<number>'")
        pid = m.group(1)
        if not ident.startswith(HIDDEN_USER[lang].strip()):
            ws.warnings.append(f"{path.name} line {line}: identifier {ident!r} does not start "
                               f"with {HIDDEN_USER[lang]!r}; Moodle may not find this participant")
        if pid in seen:
            raise WorksheetError(f"{path.name} line {line}: participant {pid} appears twice "
                                 f"(also line {seen[pid]}); which row is right?")
        seen[pid] = line
        row = WorksheetRow(line=line, participant_id=pid, cells=list(cells),
                           full_name=_cell(cells, col, "name"), email=_cell(cells, col, "email"),
                           status=_cell(cells, col, "status"))
        ws.rows.append(row)
        row.submitted_at = _row_date(ws, row, tz)
    _grades(ws)
    _spanish_grade_dates(ws, tz)
    if "feedback" not in col:
        ws.warnings.append(f"{path.name}: no {COLUMNS['feedback'][lang][0]!r} column (turn on "
                           "'Feedback comments' in the assignment's settings): only grades are filled")
    return ws


def _decode(raw: bytes, path: Path) -> tuple[str, str, bool, list[str]]:
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or (not utf16 and b"\x00" in raw[:4096]):
        raise WorksheetError(f"{path.name}: a binary file (a zip, an .xlsx or .xls?), not the CSV "
                             "worksheet: in Moodle use Grading action → Download grading worksheet")
    try:
        if raw.startswith(b"\xef\xbb\xbf"):
            return raw.decode("utf-8-sig"), "utf-8", True, []
        if utf16:
            return (raw.decode("utf-16"), "utf-16", True,
                    [f"{path.name}: saved as UTF-16 (Excel 'Unicode text'); written back as UTF-8"])
        try:
            return raw.decode("utf-8"), "utf-8", False, []
        except UnicodeDecodeError:
            pass
        return (raw.decode("cp1252"), "cp1252", False,
                [f"{path.name}: not UTF-8 (saved by Excel as plain 'CSV'?); read as Windows-1252 "
                 "and written back as UTF-8"])
    except UnicodeDecodeError as exc:
        raise WorksheetError(f"{path.name}: not readable as UTF-8, UTF-16 or Windows-1252 text "
                             f"(byte {exc.start}): not a CSV worksheet saved from Moodle or a "
                             "spreadsheet") from None


def _sniff(first: str, path: Path) -> tuple[str, list[str]]:
    """The delimiter is the one that makes an Identifier column appear in the header."""
    ids = {h for c in COLUMNS["id"].values() for h in c}
    for delim in (",", ";", "\t"):
        headers = [h.strip() for h in next(csv.reader([first], delimiter=delim))]
        if ids & set(headers):
            return delim, headers
    raise WorksheetError(f"{path}: not a Moodle grading worksheet: no 'Identifier' or "
                         f"'Identificador' column in the first line ({first[:120]!r})")


def _columns(headers: list[str], path: Path) -> tuple[str, dict[str, int]]:
    dup = sorted({h for h in headers if headers.count(h) > 1})
    if dup:
        raise WorksheetError(f"{path.name}: column {dup[0]!r} appears twice in the header")
    lang = "en" if COLUMNS["id"]["en"][0] in headers else "es"
    col = {}
    for key, names in COLUMNS.items():
        for h in names[lang]:
            if h in headers:
                col[key] = headers.index(h)
    missing = [COLUMNS[k][lang][0] for k in REQUIRED if k not in col]
    if missing:
        site = "an English" if lang == "en" else "a Spanish"
        raise WorksheetError(f"{path.name}: {site} site's worksheet needs the column(s) "
                             f"{', '.join(repr(m) for m in missing)}; Moodle would not import it")
    return lang, col


def _cell(cells: list[str], col: dict[str, int], key: str) -> str:
    return cells[col[key]].strip() if key in col else ""


def parse_number(text: str, decimal: str) -> float | None:
    """'7,50' / '7.50' -> 7.5; '' or '-' -> None; ValueError otherwise."""
    t = text.strip().replace(" ", "")
    if t in ("", "-"):
        return None
    if decimal == ",":
        t = t.replace(".", "").replace(",", ".") if "," in t else t
    return float(t)


def _grades(ws: Worksheet) -> None:
    """Decimal separator (from the Maximum grade cells, else the site language), the maximum
    grade (one value for the whole sheet), and existing grades above it."""
    maxima = [r.cells[ws.col["max"]].strip() for r in ws.rows] if "max" in ws.col else []
    if any("," in m for m in maxima):
        ws.decimal = ","
    elif any("." in m for m in maxima):
        ws.decimal = "."
    else:
        ws.decimal = DECIMAL[ws.lang]
    values = set()
    for row, text in zip(ws.rows, maxima):
        try:
            value = parse_number(text, ws.decimal)
        except ValueError:
            raise WorksheetError(f"{ws.where(row)}: maximum grade {text!r} is not a number") from None
        if value is not None:
            if values and value not in values:
                raise WorksheetError(f"{ws.where(row)}: maximum grade {text} differs from the "
                                     f"other rows' ({min(values):g})")
            values.add(value)
    ws.max_grade = values.pop() if values else None
    for row in ws.rows:
        text = row.cells[ws.col["grade"]]
        try:
            grade = parse_number(text, ws.decimal)
        except ValueError:
            ws.warnings.append(f"{ws.where(row)}: grade {text!r} is not a number")
            continue
        if grade is not None and ws.max_grade is not None and grade > ws.max_grade:
            ws.warnings.append(f"{ws.where(row)}: grade {text} is over the maximum "
                               f"{ws.max_grade:g}; Moodle skips out-of-range grades")


def _row_date(ws: Worksheet, row: WorksheetRow, tz: tzinfo | None) -> datetime | None:
    """Last modified (submission), parsed; a warning naming the row for either date cell that
    is not in Moodle's format (a spreadsheet program rewrote it?)."""
    found = None
    for key in ("graded", "submitted"):
        if key not in ws.col:
            continue
        text = row.cells[ws.col[key]]
        try:
            found = parse_moodle_date(text, ws.lang, tz)
        except ValueError as e:
            found = None
            then = ("the zip's timestamp is used instead" if key == "submitted" else
                    "Moodle may skip this row's grade if it already has one (tick 'Allow updating "
                    "records that have been modified more recently in Moodle')")
            ws.warnings.append(f"{ws.where(row)}: {ws.headers[ws.col[key]]} {text!r}: {e} "
                               f"(changed by a spreadsheet program?); {then}")
    return found if "submitted" in ws.col else None


def _spanish_grade_dates(ws: Worksheet, tz: tzinfo | None) -> None:
    """Spanish sites print `Última modificación (calificación)` in Spanish, which Moodle's own
    importer cannot read back (moodle_dates.py): it would skip every such row that has a grade
    record. The same instant in ISO 8601 with its offset is kept for `fill` to write instead;
    without the course's time zone the instant is unknown, and each such row is a warning."""
    if ws.lang != "es" or "graded" not in ws.col:
        return
    unknown = []
    for row in ws.rows:
        try:
            dt = parse_moodle_date(row.cells[ws.col["graded"]], "es", tz)
        except ValueError:
            continue  # already warned about by _row_date
        if dt is None:
            continue
        if tz is None:
            unknown.append(ws.where(row))
        else:
            ws.graded_iso[row.participant_id] = strtotime_form(dt)
    for where in unknown:
        ws.warnings.append(f"{where}: Spanish date in {ws.headers[ws.col['graded']]!r}, which Moodle "
                           "cannot read back: without the course's time zone (rubrics/course.yaml) it is "
                           "kept as it is, and Moodle skips this row unless 'Ignore modified' is ticked")


# --------------------------------------------------------------------------------- checking


def norm_name(name: str) -> str:
    """'  José  NÚÑEZ ' -> 'jose nunez': accents, case and spacing don't tell students apart
    (nor '_', which Moodle's download turns into a space in folder names)."""
    s = unicodedata.normalize("NFKD", name.replace("_", " "))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(s.casefold().split())


def check_against(ws: Worksheet, submissions, max_grade: float) -> list[str]:
    """Is this the worksheet of the assignment being graded? Raises WorksheetError when the
    maximum grade or the people don't match; returns warnings for single rows."""
    warnings = []
    if ws.max_grade is not None and abs(ws.max_grade - max_grade) > 1e-9:
        raise WorksheetError(f"{ws.path.name}: maximum grade {ws.max_grade:g}, but the rubric's "
                             f"is {max_grade:g}: a worksheet from another assignment?")
    rows = ws.by_pid()
    subs = list(submissions)
    known = [s for s in subs if s.participant_id in rows]
    if subs and not known:
        raise WorksheetError(f"{ws.path.name}: none of the {len(subs)} participants in the "
                             "download is in the worksheet: a worksheet from another assignment?")
    named = [s for s in known if s.full_name and not s.blind]
    wrong = [s for s in named if norm_name(s.full_name) != norm_name(rows[s.participant_id].full_name)]
    if named and len(wrong) * 2 > len(named):
        ex = wrong[0]
        raise WorksheetError(f"{ws.path.name}: {len(wrong)} of {len(named)} names differ from the "
                             f"download's (participant {ex.participant_id} is "
                             f"{rows[ex.participant_id].full_name!r} here, {ex.full_name!r} in the "
                             "zip): a worksheet from another assignment?")
    for s in wrong:
        warnings.append(f"{ws.where(rows[s.participant_id])}: name "
                        f"{rows[s.participant_id].full_name!r}, but {s.full_name!r} in the download")
    for s in subs:
        if s.participant_id not in rows:
            warnings.append(f"participant {s.participant_id} ({s.display_name}) is in the download "
                            f"but not in {ws.path.name}: their grade cannot be uploaded with it")
    in_zip = {s.participant_id for s in subs}
    for row in ws.rows:
        if row.has_submission and row.participant_id not in in_zip:
            warnings.append(f"{ws.where(row)}: status {row.status!r}, but nothing of theirs is in "
                            "the download")
    return warnings


# --------------------------------------------------------------------------------- writing


def php_csv_field(value: str, delimiter: str) -> str:
    """Quote like PHP's fputcsv (Moodle's CSV writer): when the cell has the delimiter, a
    quote, a space, a tab or a line break; quotes doubled."""
    if any(c in value for c in (delimiter, '"', " ", "\t", "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+`, `-`, `@`, tab, CR
    first) gets a leading apostrophe. Only for columns Moodle's importer ignores: it matches
    rows by Identifier and reads Grade, Last modified (grade) and the feedback columns
    (mod/assign/feedback/offline/importgradeslib.php), so Full name may change; a grade or an
    identifier must not."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(value) -> str:
    """A CSV cell a student wrote (a name, a message): control characters out (safe_text.clean,
    lines kept), then `neutralise_formula`. The one helper for student text in our CSVs."""
    from ..report.safe_text import clean

    return neutralise_formula(clean(value, multiline=True))


def render_csv(headers: list[str], rows: list[list[str]], delimiter: str = ",",
               newline: str = "\n", bom: bool = True) -> str:
    lines = [delimiter.join(php_csv_field(c, delimiter) for c in r) for r in [headers, *rows]]
    return ("\ufeff" if bom else "") + newline.join(lines) + newline


def format_grade(x: float, decimal: str) -> str:
    return f"{x:.2f}".replace(".", decimal)


def fill(ws: Worksheet, grades: dict[str, tuple[float, str]]) -> str:
    """The worksheet with Grade (and Feedback comments) set for the participants in `grades`
    ({pid: (grade, feedback html)}); every other cell, and every other row, as downloaded."""
    unknown = sorted(set(grades) - set(ws.by_pid()))
    if unknown:
        raise WorksheetError(f"{ws.path.name}: no row for participant(s) {', '.join(unknown)}")
    rows = []
    for row in ws.rows:
        cells = list(row.cells)
        if "name" in ws.col and ws.col["name"] < len(cells):  # a name is the student's to choose
            cells[ws.col["name"]] = csv_text(cells[ws.col["name"]])
        if row.participant_id in grades:
            grade, feedback = grades[row.participant_id]
            if ws.max_grade is not None and grade > ws.max_grade + 1e-9:
                raise WorksheetError(f"{ws.where(row)}: grade {grade:g} is over the maximum "
                                     f"{ws.max_grade:g}")
            cells[ws.col["grade"]] = format_grade(grade, ws.decimal)
            if row.participant_id in ws.graded_iso:  # Spanish site: a date Moodle can read
                cells[ws.col["graded"]] = ws.graded_iso[row.participant_id]
            if "feedback" in ws.col:
                cells[ws.col["feedback"]] = feedback
        rows.append(cells)
    return render_csv(ws.headers, rows, ws.delimiter, ws.newline, ws.bom or ws.encoding != "utf-8")


def write_filled(ws: Worksheet, path: Path, grades: dict[str, tuple[float, str]]) -> Path:
    return write_atomic(path, fill(ws, grades))
