"""Moodle's import rules, re-implemented from its source (see shared/moodle-strings.md), as the
oracle for the round-trip tests: what Moodle does with each row of an uploaded grading
worksheet, each file of a feedback zip, each line of a gradebook CSV. Written from the PHP,
not from the grader's code, so a grader bug cannot hide in both. The tests at the bottom check
the oracle itself rejects what Moodle rejects.

- csvlib.class.php csv_import_reader::load_csv_content: decode, trim the BOM, \\r\\n -> \\n, trim,
  fgetcsv; every row must have as many cells as the header ('csvweirdcolumns').
- assignfeedback_offline importgradeslib.php + locallib.php process_import_grades: headers
  matched exactly in the site language; id = substr(idstr, strlen(hiddenuser)); grade through
  unformat_float; skip unchanged, empty/negative, stale (grade modified > Last modified (grade)
  + 60 s, unless 'ignore modified'), out of range; feedback set when it differs.
- assignfeedback_file importziplib.php is_valid_filename_for_import.
- grade/import/csv load_data.php: user mapping must succeed for every row, '-'/'' no grade,
  unformat_float(strict).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pytest

SITE = {
    "en": {"recordid": "Identifier", "gradenoun": "Grade", "lastmodifiedgrade": "Last modified (grade)",
           "feedback": "Feedback comments", "hiddenuser": "Participant ", "decsep": "."},
    "es": {"recordid": "Identificador", "gradenoun": "Calificación",
           "lastmodifiedgrade": "Última modificación (calificación)",
           "feedback": "Comentarios de retroalimentación", "hiddenuser": "Participante", "decsep": ","},
}


class MoodleRejects(Exception):
    """The whole upload is refused (Moodle shows an error, nothing is imported)."""


def fgetcsv_all(text: str, delim: str) -> list[list[str]]:
    """PHP fgetcsv (enclosure '"', escape '\\\\'), line by line, on already-normalized text."""
    rows, i, n = [], 0, len(text)
    while i < n:
        row, cell, quoted = [], [], False
        while i < n:
            c = text[i]
            if quoted:
                if c == "\\" and i + 1 < n:  # escape: both kept, next char literal
                    cell += [c, text[i + 1]]
                    i += 2
                    continue
                if c == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        cell.append('"')
                        i += 2
                        continue
                    quoted = False
                    i += 1
                    continue
                cell.append(c)
                i += 1
                continue
            if c == '"' and not "".join(cell).strip():
                quoted, cell = True, []
                i += 1
            elif c == delim:
                row.append("".join(cell))
                cell = []
                i += 1
            elif c == "\n":
                i += 1
                break
            else:
                cell.append(c)
                i += 1
        row.append("".join(cell))
        rows.append(row)
    return rows


def load_csv_content(content: bytes, encoding: str = "utf-8", separator: str = "comma") -> list[list[str]]:
    text = content.decode(encoding)
    text = text.removeprefix("\ufeff")
    text = re.sub(r"\r\n?", "\n", text).strip()
    delim = {"comma": ",", "semicolon": ";", "colon": ":", "tab": "\t"}[separator]
    rows = fgetcsv_all(text, delim)
    if not rows or not rows[0]:
        raise MoodleRejects("csvemptyfile")
    for r in rows:
        if len(r) != len(rows[0]):
            raise MoodleRejects("csvweirdcolumns")
    return rows


def php_float(s: str) -> float:
    m = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s)
    return float(m.group(0)) if m else 0.0


def unformat_float(value: str, decsep: str, strict: bool = False):
    v = value.strip()
    if v == "":
        return None
    v = v.replace(" ", "").replace(decsep, ".")
    if strict and not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", v):
        return False
    return php_float(v)


def strtotime(text: str):
    """PHP strtotime on Moodle's English date and on ISO 8601 with an offset ("Compound
    formats" of PHP's date parser: 2026-03-06T21:05:00+01:00); False for '-' and for Spanish
    month names."""
    try:
        return datetime.strptime(text.strip(), "%A, %d %B %Y, %I:%M %p").timestamp()
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return dt.timestamp() if dt.tzinfo is not None else False


@dataclass
class Participant:
    uniqueid: int
    grade: float | None = None  # the grade already in Moodle, if any
    grade_modified: float = 0.0  # its timemodified
    feedback: str = ""


@dataclass
class Outcome:
    uniqueid: int
    grade_updated: bool
    reason: str  # why the grade was (not) updated
    grade: float | None = None
    feedback: str | None = None  # the new feedback text, when it is set


@dataclass
class Assignment:
    lang: str
    maxgrade: float
    participants: dict[int, Participant] = field(default_factory=dict)


def import_worksheet(content: bytes, a: Assignment, separator: str = "comma",
                     ignoremodified: bool = False) -> list[Outcome]:
    s = SITE[a.lang]
    rows = load_csv_content(content, "utf-8", separator)
    columns, data = rows[0], rows[1:]
    idx = {k: columns.index(s[k]) if s[k] in columns else -1
           for k in ("recordid", "gradenoun", "lastmodifiedgrade", "feedback")}
    if min(idx["recordid"], idx["gradenoun"], idx["lastmodifiedgrade"]) < 0:
        raise MoodleRejects("invalidgradeimport")
    out = []
    for rec in data:
        ident = rec[idx["recordid"]][len(s["hiddenuser"]):]
        if not ident.strip().isdigit() or int(ident) not in a.participants:
            continue  # importer's next(): rows it cannot map are passed over
        p = a.participants[int(ident)]
        grade = unformat_float(rec[idx["gradenoun"]], s["decsep"])
        modified = strtotime(rec[idx["lastmodifiedgrade"]]) or 0
        stale = p.grade is not None and p.grade_modified > modified + 60
        if p.grade is not None and grade is not None and p.grade == grade:
            o = Outcome(p.uniqueid, False, "unchanged")
        elif grade is None or grade < 0:
            o = Outcome(p.uniqueid, False, "no grade")
        elif not ignoremodified and stale:
            o = Outcome(p.uniqueid, False, "modified in Moodle after the download")
        elif grade > a.maxgrade:
            o = Outcome(p.uniqueid, False, "out of range")
        else:
            o = Outcome(p.uniqueid, True, "updated", grade)
        if (ignoremodified or not stale) and idx["feedback"] > 0:  # PHP: !empty($index)
            new = rec[idx["feedback"]]
            if new != p.feedback:
                o.feedback = new
        out.append(o)
    return out


PLUGINS = {("assignsubmission", "file"), ("assignsubmission", "onlinetext"),
           ("assignsubmission", "comments"), ("assignfeedback", "file"),
           ("assignfeedback", "comments"), ("assignfeedback", "editpdf"), ("assignfeedback", "offline")}


def feedback_zip_target(entry: str, participants: set[int]) -> tuple[int, str] | None:
    """importziplib is_valid_filename_for_import: (uniqueid, stored filename) or None."""
    if entry.endswith("/"):
        return None
    basename = entry.rsplit("/", 1)[-1]
    if basename.startswith((".", "~")):
        return None
    parts = ("/import/" + entry).split("/")
    while parts:
        part = parts.pop(0)
        info = part.split("_", 4)
        if len(info) < 4:
            continue
        if not re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)", info[1]):
            continue
        pid = int(float(info[1]))
        if pid not in participants:
            continue
        if (info[2], info[3]) not in PLUGINS:
            continue
        rest = info[4] if len(info) == 5 else ""
        return pid, "/".join([rest, *parts])
    return None


def import_gradebook(content: bytes, users: dict[str, int], id_column: int, grade_column: int,
                     decsep: str = ".") -> dict[int, float | None]:
    """grade/import/csv: any row it cannot map to a user aborts everything."""
    rows = load_csv_content(content)
    out = {}
    for line in rows[1:]:
        if len(line) <= 1:
            continue
        user = users.get(line[id_column].strip().lower())
        if user is None:
            raise MoodleRejects(f"usermappingerrorusernotfound: {line[id_column]!r}")
        value = line[grade_column].strip()
        if value in ("", "-"):
            out[user] = None
            continue
        grade = unformat_float(value, decsep, strict=True)
        if grade is False:
            raise MoodleRejects(f"badgrade: {value!r}")
        out[user] = grade
    return out


# ------------------------------------------------------------------ the oracle fails when it must


def test_oracle_rejects_ragged_rows_and_missing_headers():
    with pytest.raises(MoodleRejects, match="csvweirdcolumns"):
        load_csv_content(b"Identifier,Grade,Last modified (grade)\nParticipant 1,5\n")
    with pytest.raises(MoodleRejects, match="invalidgradeimport"):
        import_worksheet("Identificador,Grade,Last modified (grade)\nParticipante1,5,-\n".encode(),
                         Assignment("es", 10, {1: Participant(1)}))


def test_oracle_reads_grades_with_the_site_separator():
    a_en, a_es = Assignment("en", 10, {1: Participant(1)}), Assignment("es", 10, {1: Participant(1)})
    en = import_worksheet(b'Identifier,Grade,Last modified (grade)\nParticipant 1,"7,50",-\n', a_en)
    es = import_worksheet('Identificador,Calificación,Última modificación (calificación)\n'
                          'Participante1,"7,50",-\n'.encode(), a_es)
    assert en[0].grade == 7.0  # what an English site makes of a decimal comma: silently wrong
    assert es[0].grade == 7.5


def test_oracle_skips_stale_rows_and_out_of_range():
    a = Assignment("en", 10, {1: Participant(1, grade=5, grade_modified=datetime(2026, 4, 2).timestamp()),
                              2: Participant(2)})
    text = (b'Identifier,Grade,Last modified (grade)\n'
            b'Participant 1,8,"Wednesday, 1 April 2026, 9:00 AM"\nParticipant 2,11,-\n')
    o = {x.uniqueid: x for x in import_worksheet(text, a)}
    assert o[1].reason.startswith("modified") and o[2].reason == "out of range"
    assert import_worksheet(text, a, ignoremodified=True)[0].grade_updated


def test_oracle_zip_names():
    ids = {4518203}
    assert feedback_zip_target("José Núñez_4518203_assignsubmission_file/f.html", ids) == (4518203, "/f.html")
    assert feedback_zip_target("José Núñez_4518203_assignsubmission_file_/f.html", ids) == (4518203, "/f.html")
    assert feedback_zip_target("José_Núñez_4518203_assignsubmission_file/f.html", ids) is None
    assert feedback_zip_target("José Núñez_4518203_assignsubmission_file/.f.html", ids) is None
    assert feedback_zip_target("José Núñez_999_assignsubmission_file/f.html", ids) is None


def test_oracle_gradebook_aborts_on_unknown_user():
    with pytest.raises(MoodleRejects, match="usermapping"):
        import_gradebook(b"Email address,P\na@x.es,7\nb@x.es,8\n", {"a@x.es": 1}, 0, 1)
    assert import_gradebook(b"Email address,P\na@x.es,-\n", {"a@x.es": 1}, 0, 1) == {1: None}
