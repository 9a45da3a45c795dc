"""`grader final` on graded reports written here (results.jsonl + worksheets as `grader grade
--worksheet` leaves them): matching students across assignments, overrides, roster, and a
gradebook CSV that Moodle's import rules (test_moodle_rules.py) accept."""
from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_course
from grader.export.results_jsonl import write_results
from grader.export.worksheet_io import COLUMNS, HIDDEN_USER, render_csv
from grader.final import FinalError, combine, read_overrides
from grader.model import CheckResult, Result
from test_moodle_rules import import_gradebook

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "rubrics" / "course.yaml"
KEYS = ["id", "name", "email", "status", "grade", "max", "changeable", "submitted", "graded", "feedback"]


def result(a, pid, name, score, status="graded", **kw):
    checks = [] if status == "no_notebook" else [CheckResult("all", score, 10, score == 10, "")]
    return Result(a, pid, name, status, 10.0, checks=checks, **kw)


def make_reports(root: Path, spec: dict, worksheets: bool | set = True) -> Path:
    """spec: {assignment: (lang, [(pid, name, email, score | None | (score, status, extra))])}"""
    for a, (lang, people) in spec.items():
        results, rows = [], []
        for pid, name, email, what in people:
            if what is not None:
                score, status, extra = what if isinstance(what, tuple) else (what, "graded", {})
                results.append(result(a, pid, name, score, status, **extra))
            dec = "," if lang == "es" else "."
            cells = {"id": HIDDEN_USER[lang] + pid, "name": name, "email": email,
                     "status": "No submission" if what is None else "Submitted for grading",
                     "grade": "" if what is None else f"{results[-1].score:.2f}".replace(".", dec),
                     "max": f"10{dec}00", "changeable": "Yes", "submitted": "-", "graded": "-",
                     "feedback": ""}
            rows.append([cells[k] for k in KEYS])
        (root / a).mkdir(parents=True)
        write_results(root / a / "results.jsonl", results)
        if worksheets is True or (worksheets and a in worksheets):
            (root / a / "moodle_grading_worksheet.csv").write_text(
                render_csv([COLUMNS[k][lang][0] for k in KEYS], rows), encoding="utf-8")
    return root


JOSE, MARIA, ALVARO, MARTA = ("José Núñez", "jose@x.es"), ("María O'Connor", "maria@x.es"), \
    ("Pérez, Álvaro", "alvaro@x.es"), ("Marta Gil", "marta@x.es")
SPEC = {
    "mnist_cnn": ("en", [("11", *JOSE, 8.2), ("12", *MARIA, 9.5), ("13", *ALVARO, 6.28),
                         ("14", *MARTA, None)]),
    "imagenet_cnn": ("en", [("21", *JOSE, 6.5), ("22", *MARIA, None),
                            ("23", *ALVARO, (0, "invalid", {})), ("24", *MARTA, None)]),
    "rnn_text": ("es", [("31", *JOSE, (7.9, "graded", {"late": True, "hours_late": 2.5})),
                        ("32", *MARIA, None), ("33", *ALVARO, None), ("34", *MARTA, None)]),
}
USERS = {"jose@x.es": 1, "maria@x.es": 2, "alvaro@x.es": 3, "marta@x.es": 4}


def run_final(tmp_path, *args):
    return main(["final", "--out", str(tmp_path), "--course", str(COURSE), *args])


def test_final_grades_are_imported_by_moodle(tmp_path, capsys):
    make_reports(tmp_path, SPEC)
    assert run_final(tmp_path) == 0
    out = capsys.readouterr().out
    raw = (tmp_path / "final_grades.csv").read_bytes()
    assert raw.startswith("\ufeffEmail address,Prácticas\n".encode())
    grades = import_gradebook(raw, USERS, 0, 1)  # Moodle maps every row, nothing aborts
    assert grades == {1: 9.0, 2: 4.75, 3: 3.14, 4: None}
    rows = {r["Email address"]: r for r in csv.DictReader(
        (tmp_path / "final_breakdown.csv").read_text(encoding="utf-8-sig").splitlines())}
    jose = rows["jose@x.es"]
    assert (jose["Counted"], jose["Mean"], jose["Rounded up"], jose["Final"]) == \
        ("mnist_cnn + rnn_text", "8.05", "yes", "9.00")
    assert "late 2.5 h" in jose["rnn_text notes"] and "participant 31" in jose["rnn_text notes"]
    assert rows["maria@x.es"]["Flags"] == "incomplete"
    assert rows["maria@x.es"]["Counted"] == "mnist_cnn + missing (0)"
    assert "imagenet_cnn:invalid" in rows["alvaro@x.es"]["Flags"]
    assert rows["marta@x.es"]["Final"] == "-" and "no_handins" in rows["marta@x.es"]["Flags"]
    assert "4 students in the gradebook CSV, 0 left out" in out
    data = json.loads((tmp_path / "final.json").read_text())
    assert {s["email"]: s["final"] for s in data["students"]} == {
        "jose@x.es": 9.0, "maria@x.es": 4.75, "alvaro@x.es": 3.14, "marta@x.es": None}


def test_matching_falls_back_to_names_and_never_guesses(tmp_path):
    spec = {
        "mnist_cnn": ("en", [("11", *JOSE, 8), ("12", "Ana Ruiz", "ana1@x.es", 7),
                             ("13", "Ana Ruiz", "ana2@x.es", 6)]),
        "imagenet_cnn": ("en", [("21", "jose  NUNEZ", "", 6), ("22", "Ana Ruiz", "", 9),
                                ("23", "Zoë Ibáñez", "", 5)]),
    }
    make_reports(tmp_path, spec, worksheets={"mnist_cnn"})  # imagenet graded without a worksheet
    course = load_course(COURSE)
    comb = combine(course, tmp_path)
    by = {(s.full_name, s.email): s for s in comb.students}
    jose = by[JOSE]
    assert sorted(jose.records) == ["imagenet_cnn", "mnist_cnn"]  # accents, case, spacing
    assert "imagenet_cnn: matched by name (no email)" in jose.notes
    assert jose.final.grade == Decimal("7.00")
    assert any("imagenet_cnn participant 22 (Ana Ruiz): no email, and 2 students have this name"
               in w for w in comb.warnings)
    assert all("imagenet_cnn" not in by[("Ana Ruiz", e)].records for e in ("ana1@x.es", "ana2@x.es"))
    assert any("'Ana Ruiz' has 2 emails (ana1@x.es, ana2@x.es): kept apart" in w for w in comb.warnings)
    zoe = by[("Zoë Ibáñez", "")]
    assert zoe.issue.startswith("no email")
    assert any("rnn_text: not graded" in w and "PROVISIONAL" in w for w in comb.warnings)
    run_final(tmp_path)
    raw = (tmp_path / "final_grades.csv").read_bytes()
    assert b"Z" not in raw.split(b"\n", 1)[1]  # Zoë is left out, so Moodle's import still runs
    import_gradebook(raw, {"jose@x.es": 1, "ana1@x.es": 2, "ana2@x.es": 3}, 0, 1)


def test_same_email_twice_in_one_assignment_is_reported(tmp_path):
    make_reports(tmp_path, {"mnist_cnn": ("en", [("11", *JOSE, 8), ("12", "José N.", JOSE[1], 6)])})
    comb = combine(load_course(COURSE), tmp_path)
    [st] = comb.students
    assert "is participant 11 and 12 in mnist_cnn" in st.issue


def test_roster_gives_id_numbers(tmp_path, capsys):
    make_reports(tmp_path, SPEC)
    roster = tmp_path / "participants.csv"
    roster.write_text("First name,Last name,ID number,Email address\n"
                      "José,Núñez,A001,JOSE@x.es\nMaría,O'Connor,A002,maria@x.es\n"
                      "Marta,Gil,,marta@x.es\n", encoding="utf-8-sig")
    assert run_final(tmp_path, "--roster", str(roster), "--decimal", ",",
                     "--grade-item", "Prácticas DL") == 0
    out = capsys.readouterr().out
    raw = (tmp_path / "final_grades.csv").read_bytes()
    assert raw.decode("utf-8-sig").splitlines() == ["ID number,Prácticas DL", "A001,9", 'A002,"4,75"']
    assert import_gradebook(raw, {"a001": 1, "a002": 2}, 0, 1, decsep=",") == {1: 9.0, 2: 4.75}
    assert "Pérez, Álvaro <alvaro@x.es>: not in the roster export" in out
    assert "Marta Gil <marta@x.es>: no ID number in the roster (line 4)" in out


def test_overrides_are_applied_and_shown(tmp_path, capsys):
    make_reports(tmp_path, SPEC)
    ov = tmp_path / "overrides.yaml"
    ov.write_text("- student: maria@x.es\n  assignment: imagenet_cnn\n  grade: 7.5\n"
                  "  reason: revisión en tutoría\n- student: pérez, álvaro\n  assignment: imagenet_cnn\n"
                  "  grade: '5,5'\n  reason: el zip estaba corrupto, reenviado por correo\n",
                  encoding="utf-8")
    assert run_final(tmp_path, "--overrides", str(ov)) == 0
    out = capsys.readouterr().out
    assert "override: María O'Connor imagenet_cnn = 7.5 (revisión en tutoría; overrides.yaml item 1)" in out
    grades = import_gradebook((tmp_path / "final_grades.csv").read_bytes(), USERS, 0, 1)
    assert grades[2] == 8.5 and grades[3] == 5.89  # (9.5+7.5)/2, (6.28+5.5)/2
    rows = {r["Email address"]: r for r in csv.DictReader(
        (tmp_path / "final_breakdown.csv").read_text(encoding="utf-8-sig").splitlines())}
    assert "set by hand (was -): revisión en tutoría" in rows["maria@x.es"]["imagenet_cnn notes"]
    assert "set by hand (was 0.00)" in rows["alvaro@x.es"]["imagenet_cnn notes"]
    assert "imagenet_cnn:override" in rows["maria@x.es"]["Flags"]


@pytest.mark.parametrize("text,needle", [
    ("- student: nadie@x.es\n  assignment: mnist_cnn\n  grade: 5\n  reason: r\n",
     "item 1: no student match 'nadie@x.es'"),
    ("- student: jose@x.es\n  assignment: mnist_cnn\n  grade: 11\n  reason: r\n",
     "item 1: grade 11 is outside 0..10"),
    ("- student: jose@x.es\n  assignment: mnist_cnn\n  grade: 5\n", "item 1: an override needs a reason"),
    ("- student: jose@x.es\n  assignment: nlp\n  grade: 5\n  reason: r\n", "item 1: assignment 'nlp'"),
    ("- student: jose@x.es\n  assignment: mnist_cnn\n  grade: cinco\n  reason: r\n", "not a number"),
    ("- {student: jose@x.es, assignment: mnist_cnn, grade: 5, reason: r}\n"
     "- {student: JOSE@x.es, assignment: mnist_cnn, grade: 6, reason: r}\n", "item 2: JOSE@x.es / mnist_cnn is already"),
    ("- {student: jose@x.es, assignment: mnist_cnn, grade: 5, reason: r, nota: x}\n", "item 1: unknown key 'nota'"),
    ("- {student: jose@x.es, assignment: mnist_cnn, grade: 5, reasn: r}\n",
     "item 1: an override needs a reason; unknown key 'reasn' (did you mean 'reason'?)"),
    ("- {assignment: mnist_cnn, grade: [5], reason: r}\n",
     "item 1: no student (an email or a full name); grade [5] is not a number"),
    ("- not a mapping\n", "item 1: expected student, assignment, grade, reason"),
])
def test_bad_overrides_name_the_row_and_write_nothing(tmp_path, capsys, text, needle):
    make_reports(tmp_path, SPEC)
    ov = tmp_path / "ov.yaml"
    ov.write_text(text, encoding="utf-8")
    assert run_final(tmp_path, "--overrides", str(ov)) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "final_grades.csv").exists()


def test_overrides_from_csv(tmp_path):
    (tmp_path / "ov.csv").write_text("student,assignment,grade,reason\nmaria@x.es,rnn_text,6,"
                                     "\"entregado por correo, Moodle caído\"\n", encoding="utf-8")
    [ov] = read_overrides(tmp_path / "ov.csv", load_course(COURSE))
    assert (ov.student, ov.assignment, ov.grade, ov.where) == ("maria@x.es", "rnn_text", Decimal(6), "ov.csv line 2")
    assert ov.reason == "entregado por correo, Moodle caído"


def test_nothing_graded_is_an_error(tmp_path, capsys):
    assert run_final(tmp_path) == 2
    assert "no graded assignment under" in capsys.readouterr().err
    with pytest.raises(FinalError):
        combine(load_course(COURSE), tmp_path / "nope")


def test_binary_overrides_file_is_one_line(tmp_path, capsys):
    make_reports(tmp_path, SPEC)
    ov = tmp_path / "ov.csv"
    ov.write_bytes(b"PK\x03\x04\xff\xfe\x00\x81binary")
    assert run_final(tmp_path, "--overrides", str(ov)) == 2
    err = capsys.readouterr().err
    assert "ov.csv: not UTF-8 text" in err and "Traceback" not in err and err.count("\n") == 1
