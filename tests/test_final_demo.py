"""The demo course end to end: the demo worksheets are what Moodle would give for the demo zips,
and `grader final` on the demo's grades gives submissions/demo/final_grades.expected.json.

Fast: final on grades taken from each assignment's *.expected.json (at both ends of its
ranges). Slow (sandbox): the three demo zips really graded with their worksheets, then final,
and every file that goes back to Moodle checked with its import rules."""
from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_course
from grader.export.results_jsonl import write_results
from grader.export.worksheet_io import check_against, read_worksheet
from grader.ingest import ingest
from grader.model import CheckResult, Result
from test_moodle_rules import Assignment, Participant, feedback_zip_target, import_gradebook, import_worksheet

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "submissions" / "demo"
COURSE = load_course(ROOT / "rubrics" / "course.yaml")
ASSIGNMENTS = COURSE.assignments
MISSING = [a for a in ASSIGNMENTS if not (DEMO / f"{a}.zip").exists() or not (DEMO / f"{a}.expected.json").exists()]
needs_all = pytest.mark.skipif(bool(MISSING), reason=f"demo not built yet for {MISSING}")
EXPECTED = {k: v for k, v in json.loads((DEMO / "final_grades.expected.json").read_text(encoding="utf-8")).items()
            if not k.startswith("_")} if (DEMO / "final_grades.expected.json").exists() else {}


def _script():
    spec = importlib.util.spec_from_file_location("make_demo_worksheets", ROOT / "scripts" / "make_demo_worksheets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _roster():
    with open(DEMO / "roster.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("a", [a for a in ASSIGNMENTS if (DEMO / f"{a}.zip").exists()])
def test_demo_worksheet_is_what_moodle_gives_for_the_zip(a, tmp_path):
    ws_path = DEMO / f"{a}.worksheet.csv"
    assert ws_path.read_text(encoding="utf-8") == _script().build(a, _roster()), \
        f"stale: rerun scripts/make_demo_worksheets.py after rebuilding {a}.zip"
    ws = read_worksheet(ws_path, COURSE.tzinfo)
    assert ws.lang == ("es" if a == "rnn_text" else "en") and not ws.warnings
    subs = ingest(DEMO / f"{a}.zip", a, tmp_path).submissions
    assert check_against(ws, subs, 10) == []  # same people, same names, everyone accounted for
    assert {r.participant_id for r in ws.rows if r.has_submission} == {s.participant_id for s in subs}
    assert len(ws.rows) == len(_roster()) + 1  # every student of the course, and Marta Gil


def _synthetic_reports(root: Path, bound: int) -> Path:
    """Reports as `grader grade --worksheet` leaves them, with each demo student's grade at the
    low (0) or high (1) end of the range in <assignment>.expected.json."""
    for a in ASSIGNMENTS:
        expected = {k: v for k, v in json.loads((DEMO / f"{a}.expected.json").read_text()).items()
                    if not k.startswith("_")}
        results = []
        for pid, want in expected.items():
            score = float(want["grade"][bound])
            checks = [] if want["status"] == "no_notebook" else [CheckResult("all", score, 10, score == 10, "")]
            results.append(Result(a, pid, want["name"], want["status"], 10.0, checks=checks))
        (root / a).mkdir(parents=True)
        write_results(root / a / "results.jsonl", results)
        shutil.copy(DEMO / f"{a}.worksheet.csv", root / a / "moodle_grading_worksheet.csv")
    return root


def _check_final(out: Path):
    data = json.loads((out / "final.json").read_text())
    got = {s["email"]: s for s in data["students"]}
    assert sorted(got) == sorted(EXPECTED)
    for email, want in EXPECTED.items():
        s = got[email]
        lo, hi = want["final"] if want["final"] is not None else (None, None)
        assert (s["final"] is None) if lo is None else lo <= s["final"] <= hi, (email, s)
        assert sorted(a for a, g in s["assignments"].items() if g["handed_in"]) == sorted(want["handed_in"])
        assert s["rounded_up"] == want["rounded_up"] and s["flags"] == want["flags"] and not s["issue"]
    users = {email: i for i, email in enumerate(sorted(EXPECTED), 1)}
    grades = import_gradebook((out / "final_grades.csv").read_bytes(), users, 0, 1)
    assert grades == {users[e]: got[e]["final"] for e in EXPECTED}  # every student, Moodle-readable


@needs_all
@pytest.mark.parametrize("bound", [0, 1], ids=["low", "high"])
def test_final_on_the_demo_grades(tmp_path, bound):
    assert EXPECTED, "submissions/demo/final_grades.expected.json is missing"
    _synthetic_reports(tmp_path, bound)
    assert main(["final", "--out", str(tmp_path), "--course-dir", str(ROOT)]) == 0
    _check_final(tmp_path)


# --------------------------------------------------------------------------- graded for real


@pytest.fixture(scope="module")
def graded(demo_reports):
    return demo_reports


@needs_all
@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.xdist_group("demo")
def test_make_demo_gives_the_expected_final_grades(graded):
    _check_final(graded)
    rows = {json.loads(x)["participant_id"]: json.loads(x)
            for x in (graded / "mnist_cnn" / "results.jsonl").read_text().splitlines()}
    lucia = rows["4518224"]  # saved after the deadline: flagged, not penalised (policy: flag)
    assert lucia["late"] and lucia["submitted_at_source"] == "worksheet" and lucia["late_penalty"] == 0
    assert not any(r["late"] for pid, r in rows.items() if pid != "4518224")


@needs_all
@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.xdist_group("demo")
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_moodle_takes_back_every_demo_file(graded, a):
    ws = read_worksheet(DEMO / f"{a}.worksheet.csv")
    people = {int(r.participant_id): Participant(int(r.participant_id)) for r in ws.rows}
    results = {json.loads(x)["participant_id"]: json.loads(x)
               for x in (graded / a / "results.jsonl").read_text().splitlines()}
    outcome = import_worksheet((graded / a / "moodle_grading_worksheet.csv").read_bytes(),
                               Assignment(ws.lang, 10, people))
    assert len(outcome) == len(ws.rows)
    for o in outcome:
        res = results.get(str(o.uniqueid))
        if res is None:
            assert o.reason == "no grade" and o.feedback is None
        else:
            assert o.grade_updated, o
            assert o.grade == pytest.approx(res["score"], abs=0.005) and o.feedback
    import zipfile
    with zipfile.ZipFile(graded / a / "moodle_feedback_files.zip") as zf:
        owners = [feedback_zip_target(n, set(people)) for n in zf.namelist()]
    assert sorted(o[0] for o in owners) == sorted(int(p) for p in results)
