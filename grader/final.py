"""End of term: combine the graded assignments per student under the course policy.

Participant ids differ per assignment, so students are matched across assignments by the email
in each assignment's worksheet, else by their normalized full name; a record that matches
several students, or none that can be imported, is reported and left out, never guessed.
Overrides (grades set by hand, with a reason) are applied here and shown in the breakdown.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError, ValidationInfo, field_validator

from .config_model import Strict, error_lines
from .course import CourseConfig
from .errors import GraderError
from .export.gradebook import RosterEntry, roster_index
from .export.results_jsonl import read_results
from .export.worksheet_io import WorksheetError, norm_name, read_worksheet
from .model import Result
from .policy import AssignmentGrade, FinalGrade, assignment_grade, final_grade
from .roundtrip import WORKSHEET  # what `grader grade` wrote for each assignment
from .yaml_input import load_yaml


class FinalError(GraderError):
    """The reports or the overrides cannot be combined; the message names the file and row."""


@dataclass
class Record:
    """One participant of one assignment (a worksheet row and/or a results row)."""

    assignment: str
    participant_id: str
    full_name: str
    email: str
    result: Result | None


@dataclass
class Override:
    student: str
    assignment: str
    grade: Decimal
    reason: str
    where: str  # file and row, for messages


@dataclass
class Student:
    full_name: str
    email: str
    records: dict[str, Record] = field(default_factory=dict)  # assignment -> record
    idnumber: str = ""
    grades: dict[str, AssignmentGrade] = field(default_factory=dict)
    overrides: dict[str, Override] = field(default_factory=dict)
    final: FinalGrade | None = None
    issue: str = ""  # why this student is not in the gradebook CSV ('' = they are)
    notes: list[str] = field(default_factory=list)


@dataclass
class Combined:
    students: list[Student]
    graded: list[str]  # assignments with reports
    warnings: list[str] = field(default_factory=list)


def load_assignment(reports: Path, assignment: str, course: CourseConfig) -> tuple[list[Record], list[str]]:
    """The records of one graded assignment: its worksheet's rows joined with results.jsonl."""
    folder = reports / assignment
    warnings: list[str] = []
    results = {r.participant_id: r for r in read_results(folder / "results.jsonl", warnings)}
    rows = {}
    if (folder / WORKSHEET).exists():
        try:
            ws = read_worksheet(folder / WORKSHEET, course.tzinfo)
        except WorksheetError as e:
            raise FinalError(f"{assignment}: {e}") from None
        rows = ws.by_pid()
        if not any(r.email for r in ws.rows):
            warnings.append(f"{assignment}: its worksheet has no emails (graded without "
                            "--worksheet?): students are matched by name")
    else:
        warnings.append(f"{assignment}: no {WORKSHEET}: students are matched by name")
    records = []
    for pid in sorted(set(rows) | set(results), key=int):
        row, res = rows.get(pid), results.get(pid)
        name = res.full_name if res and res.full_name else (row.full_name if row else "")
        records.append(Record(assignment, pid, name, row.email if row else "", res))
        if row and res is None and row.has_submission:
            warnings.append(f"{assignment}: {row.full_name} ({pid}) submitted per the worksheet "
                            "but has no result row: counted as not handed in")
    return records, warnings


def match_students(records: list[Record]) -> tuple[list[Student], list[str]]:
    """Group records into students: by email, else by normalized name when that is unique."""
    students: dict[str, Student] = {}
    warnings = []
    for rec in sorted((r for r in records if r.email), key=lambda r: r.email.lower()):
        st = students.setdefault(rec.email.lower(), Student(rec.full_name, rec.email))
        if rec.assignment in st.records:
            other = st.records[rec.assignment]
            st.issue = (f"{rec.email} is participant {other.participant_id} and "
                        f"{rec.participant_id} in {rec.assignment}: which one is this student?")
            continue
        st.records[rec.assignment] = rec
        if norm_name(rec.full_name) != norm_name(st.full_name):
            st.notes.append(f"{rec.assignment}: named {rec.full_name!r} (matched by email)")
    by_name: dict[str, list[Student]] = {}
    for st in students.values():
        by_name.setdefault(norm_name(st.full_name), []).append(st)
    for same in (v for v in by_name.values() if len(v) > 1):
        warnings.append(f"{same[0].full_name!r} has {len(same)} emails ({', '.join(s.email for s in same)}): "
                        "kept apart; if they are one student, an override can move a grade")
    loose: dict[str, Student] = {}
    for rec in (r for r in records if not r.email):
        key = norm_name(rec.full_name)
        label = f"{rec.assignment} participant {rec.participant_id} ({rec.full_name or 'no name'})"
        if not key or key.startswith(("participant ", "participante")):
            warnings.append(f"{label}: no email and no name (blind marking?): left out")
            continue
        cands = by_name.get(key, [])
        if len(cands) > 1:
            warnings.append(f"{label}: no email, and {len(cands)} students have this name "
                            f"({', '.join(c.email for c in cands)}): left out, not guessed")
            continue
        st = cands[0] if cands else loose.setdefault(key, Student(rec.full_name, ""))
        if rec.assignment in st.records:
            warnings.append(f"{label}: another {rec.assignment} participant has the same name: "
                            "left out, not guessed")
            st.issue = st.issue or f"two {rec.assignment} participants share the name {rec.full_name!r}"
            continue
        st.records[rec.assignment] = rec
        if cands:
            st.notes.append(f"{rec.assignment}: matched by name (no email)")
    out = sorted([*students.values(), *loose.values()], key=lambda s: norm_name(s.full_name))
    return out, warnings


def attach_roster(students: list[Student], roster: list[RosterEntry]) -> None:
    """ID numbers from a roster export: by email, else by a unique normalized name."""
    by_email, by_name = roster_index(roster)
    for st in students:
        entry = by_email.get(st.email.lower()) if st.email else None
        if entry is None:
            cands = by_name.get(norm_name(st.full_name), [])
            entry = cands[0] if len(cands) == 1 else None
        if entry is None:
            st.issue = st.issue or "not in the roster export"
        elif not entry.idnumber:
            st.issue = st.issue or f"no ID number in the roster (line {entry.line})"
        else:
            st.idnumber = entry.idnumber


class OverrideRow(Strict):
    """One row of the overrides file, validated against the course (context `course`)."""

    student: str  # an email or a full name
    assignment: str
    grade: Decimal
    reason: str

    @field_validator("student", "assignment", "reason", mode="before")
    @classmethod
    def _text(cls, v: Any) -> str:
        return "" if v is None else str(v).strip()

    @field_validator("student")
    @classmethod
    def _student(cls, v: str) -> str:
        if not v:
            raise ValueError("no student (an email or a full name)")
        return v

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v:
            raise ValueError("an override needs a reason")
        return v

    @field_validator("assignment")
    @classmethod
    def _assignment(cls, v: str, info: ValidationInfo) -> str:
        known = info.context["course"].assignments
        if v not in known:
            raise ValueError(f"assignment {v!r} is not one of {known}")
        return v

    @field_validator("grade", mode="before")
    @classmethod
    def _grade(cls, v: Any, info: ValidationInfo) -> Decimal:
        try:
            grade = Decimal(str(v).strip().replace(",", "."))
            if not grade.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise ValueError(f"grade {v!r} is not a number") from None
        scale = info.context["course"].scale
        if not 0 <= grade <= Decimal(str(scale)):
            raise ValueError(f"grade {grade} is outside 0..{scale:g}")
        return grade


_MISSING = {"student": "no student (an email or a full name)", "assignment": "no assignment",
            "grade": "no grade", "reason": "an override needs a reason"}


def _override_row(row: Any, where: str, course: CourseConfig) -> OverrideRow:
    if not isinstance(row, dict):
        raise FinalError(f"{where}: expected student, assignment, grade, reason")
    try:
        return OverrideRow.model_validate({str(k): v for k, v in row.items()},
                                          context={"course": course})
    except ValidationError as e:
        lines = error_lines(e, OverrideRow, where=lambda loc: "", special=lambda err: (
            _MISSING.get(str(err["loc"][-1])) if err["type"] == "missing" else None))
        raise FinalError(f"{where}: " + "; ".join(lines)) from None


def read_overrides(path: Path, course: CourseConfig) -> list[Override]:
    """Grades set by hand: YAML (a list of mappings) or CSV, each with student (email or full
    name), assignment, grade (0..scale) and reason. Every bad row is an error naming it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FinalError(f"overrides file not found: {path}") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL in the path
        raise FinalError(f"overrides file {str(path)[:200]!r}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if path.suffix.lower() == ".csv":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise FinalError(f"{path}: not UTF-8 text (byte {e.start}): not an overrides CSV") from None
        try:
            rows = [(f"{path.name} line {i + 2}", r) for i, r in enumerate(csv.DictReader(io.StringIO(text)))]
        except csv.Error as e:
            raise FinalError(f"{path}: not a CSV file: {e}") from None
    else:
        data = load_yaml(raw, str(path), FinalError) or []
        if not isinstance(data, list):
            raise FinalError(f"{path}: expected a list of overrides (- student: ..., assignment: "
                             "..., grade: ..., reason: ...)")
        rows = [(f"{path.name} item {i + 1}", r) for i, r in enumerate(data)]
    out, seen = [], {}
    for where, row in rows:
        ov = _override_row(row, where, course)
        key = (ov.student.lower(), ov.assignment)
        if key in seen:
            raise FinalError(f"{where}: {ov.student} / {ov.assignment} is already overridden at {seen[key]}")
        seen[key] = where
        out.append(Override(ov.student, ov.assignment, ov.grade, ov.reason, where))
    return out


def apply_overrides(students: list[Student], overrides: list[Override]) -> None:
    for ov in overrides:
        if "@" in ov.student:
            cands = [s for s in students if s.email.lower() == ov.student.lower()]
        else:
            cands = [s for s in students if norm_name(s.full_name) == norm_name(ov.student)]
        if len(cands) != 1:
            why = "no student" if not cands else f"{len(cands)} students"
            raise FinalError(f"{ov.where}: {why} match {ov.student!r} (use the email)")
        cands[0].overrides[ov.assignment] = ov


def combine(course: CourseConfig, reports: Path, roster: list[RosterEntry] | None = None,
            overrides: list[Override] | None = None) -> Combined:
    records, warnings, graded = [], [], []
    for a in course.assignments:
        if not (reports / a / "results.jsonl").exists():
            warnings.append(f"{a}: not graded (no {reports / a / 'results.jsonl'}): nobody has "
                            "handed it in as far as these grades know: PROVISIONAL")
            continue
        recs, warns = load_assignment(reports, a, course)
        records += recs
        warnings += warns
        graded.append(a)
    if not graded:
        raise FinalError(f"no graded assignment under {reports} (expected "
                         f"{', '.join(f'{a}/results.jsonl' for a in course.assignments)})")
    students, warns = match_students(records)
    warnings += warns
    if roster is not None:
        attach_roster(students, roster)
    apply_overrides(students, overrides or [])
    for st in students:
        grade_student(st, course)
        if not st.issue and course.gradebook.identifier == "email" and not st.email:
            st.issue = "no email in any worksheet: cannot be imported by email"
    return Combined(students, graded, warnings)


def grade_student(st: Student, course: CourseConfig) -> None:
    for a in course.assignments:
        rec = st.records.get(a)
        g = assignment_grade(a, rec.result if rec else None, course.scale)
        if a in st.overrides:
            ov = st.overrides[a]
            g = AssignmentGrade(a, True, ov.grade, g.status, [*g.flags, "override"])
        st.grades[a] = g
    st.final = final_grade({a: g.grade for a, g in st.grades.items()}, course.policy,
                           course.assignments, course.scale)


# --------------------------------------------------------------------------------- writing


def _num(x: Decimal | None) -> str:
    return "-" if x is None else f"{x.quantize(Decimal('0.01'))}"


def breakdown_rows(comb: Combined, course: CourseConfig) -> list[dict[str, str]]:
    """One row per student, for people: each assignment's grade and why, which counted, the
    mean, the rounding, the flags, and whether the student is in the gradebook CSV."""
    rows = []
    for st in comb.students:
        row = {"Full name": st.full_name, "Email address": st.email}
        if course.gradebook.identifier == "idnumber":
            row["ID number"] = st.idnumber
        for a in course.assignments:
            g, rec = st.grades[a], st.records.get(a)
            notes = [f"participant {rec.participant_id}"] if rec else []
            if rec and rec.result and rec.result.late:
                notes.append(f"late {rec.result.hours_late:g} h")
            notes += [f for f in g.flags if f != "late"]
            if a in st.overrides:
                ov = st.overrides[a]
                auto = assignment_grade(a, rec.result if rec else None, course.scale).grade
                notes.append(f"set by hand (was {_num(auto)}): {ov.reason}")
            row[a] = _num(g.grade) if g.handed_in else ("not graded" if a not in comb.graded else "-")
            row[f"{a} notes"] = "; ".join(notes)
        f = st.final
        row.update({
            "Handed in": str(len(f.handed_in)),
            "Counted": " + ".join(f.counted + ["missing (0)"] * f.missing),
            "Mean": _num(f.mean),
            "Rounded up": "yes" if f.rounded_up else "no",
            "Final": _num(f.grade),
            "Flags": ", ".join(f.flags + [f"{a}:{fl}" for a, g in st.grades.items() for fl in g.flags]),
            "Gradebook CSV": "no: " + st.issue if st.issue else "yes",
        })
        rows.append(row)
    return rows


def gradebook_rows(comb: Combined, course: CourseConfig) -> list[tuple[str, Decimal | None]]:
    ident = course.gradebook.identifier
    return [(st.email if ident == "email" else st.idnumber, st.final.grade)
            for st in comb.students if not st.issue]


def write_final(comb: Combined, out: Path, course: CourseConfig) -> dict[str, Path]:
    from .export.atomic import write_atomic
    from .export.gradebook import write_gradebook
    from .export.worksheet_io import csv_text, render_csv
    from .report.safe_text import json_text

    gb = course.gradebook
    files = {"gradebook": write_gradebook(out / "final_grades.csv", gradebook_rows(comb, course),
                                          gb.identifier, gb.grade_item, gb.decimal_separator)}
    rows = breakdown_rows(comb, course)
    headers = list(rows[0]) if rows else ["Full name"]
    text = set(headers) - {"Handed in", "Mean", "Final", "Rounded up", *course.assignments}
    files["breakdown"] = write_atomic(out / "final_breakdown.csv", render_csv(
        headers, [[csv_text(r[h]) if h in text else r[h] for h in headers] for r in rows]))
    files["json"] = write_atomic(out / "final.json", json_text({
        "course": course.course, "graded": comb.graded, "warnings": comb.warnings,
        "policy": course.policy.model_dump(), "students": [{
            "full_name": st.full_name, "email": st.email, "idnumber": st.idnumber,
            "final": None if st.final.grade is None else float(st.final.grade),
            "mean": None if st.final.mean is None else float(st.final.mean),
            "counted": st.final.counted, "rounded_up": st.final.rounded_up,
            "rule": st.final.rule, "flags": st.final.flags, "issue": st.issue,
            "assignments": {a: {"grade": None if g.grade is None else float(g.grade),
                                "handed_in": g.handed_in, "status": g.status, "flags": g.flags,
                                "participant_id": st.records[a].participant_id if a in st.records else None,
                                "override": st.overrides[a].reason if a in st.overrides else None}
                            for a, g in st.grades.items()},
            "notes": st.notes} for st in comb.students],
    }, indent=1))
    return files
