"""`grader grade --worksheet` for real, on a small Moodle zip run in the sandbox (numpy notebooks,
no TensorFlow): submission times from the worksheet or the zip, the late policy, and the files
that go back to Moodle, checked with Moodle's import rules (test_moodle_rules.py)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
import zipfile

import nbformat
import pytest
import yaml

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric
from grader.cli import main
from test_moodle_rules import Assignment, Participant, feedback_zip_target, import_worksheet

pytestmark = pytest.mark.sandbox

HEADER = ('\ufeffIdentifier,"Full name","Email address",Status,Grade,"Maximum grade","Grade can be '
          'changed","Last modified (submission)","Last modified (grade)","Feedback comments"\n')
ROWS = [  # on time / late per the worksheet / worksheet date mangled, late per the zip / nothing
    ('"Participant 301","Ana Pérez",ana@x.es,"Submitted for grading",,10.00,Yes,'
     '"Tuesday, 31 March 2026, 11:58 PM",-,\n'),
    ('"Participant 302","Bruno Díaz",bruno@x.es,"Submitted for grading - 1 hour 2 mins late",,10.00,Yes,'
     '"Wednesday, 1 April 2026, 1:01 AM",-,\n'),
    ('"Participant 303","Carla Gómez",carla@x.es,"Submitted for grading",,10.00,Yes,'
     '"01/04/2026 10:00",-,\n'),
    '"Participant 304","Dani Ruiz",dani@x.es,"No submission",,10.00,Yes,-,-,\n',
]
ZIP_TIMES = {"301": (2026, 3, 31, 23, 58, 0), "302": (2026, 3, 31, 23, 50, 0),
             "303": (2026, 4, 2, 9, 30, 0)}
NAMES = {"301": "Ana Pérez", "302": "Bruno Díaz", "303": "Carla Gómez"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    nb = nbformat.writes(notebook("import numpy as np", SOFTMAX, NUMPY_MODEL, executed=True))
    with zipfile.ZipFile(tmp / "download.zip", "w") as zf:
        for pid, when in ZIP_TIMES.items():
            zf.writestr(zipfile.ZipInfo(f"{NAMES[pid]}_{pid}_assignsubmission_file/mnist_cnn.ipynb",
                                        date_time=when), nb)
    (tmp / "ws.csv").write_bytes((HEADER + "".join(ROWS)).encode("utf-8"))
    rubric = small_rubric().model_dump(mode="json", exclude={"source"})
    (tmp / "rubric.yaml").write_text(yaml.safe_dump(rubric, allow_unicode=True))
    (tmp / "course.yaml").write_text("year: 2026\nassignments: [mnist_cnn, b, c]\n")
    rc = main(["grade", "mnist_cnn", str(tmp / "download.zip"), "--rubric", str(tmp / "rubric.yaml"),
               "--worksheet", str(tmp / "ws.csv"), "--course", str(tmp / "course.yaml"),
               "--late-policy", "reject", "--out", str(tmp / "out"), "--workers", "2",
               "--allow-standin"])
    assert rc == 0
    out = tmp / "out" / "mnist_cnn"
    rows = {json.loads(x)["participant_id"]: json.loads(x)
            for x in (out / "results.jsonl").read_text().splitlines()}
    return out, rows


def test_submission_times_and_the_late_policy(graded):
    _, rows = graded
    ana, bruno, carla = rows["301"], rows["302"], rows["303"]
    assert ana["submitted_at_source"] == "worksheet" and not ana["late"] and ana["score"] > 0
    assert bruno["submitted_at"] == "2026-04-01T01:01:00+02:00" and bruno["submitted_at_source"] == "worksheet"
    assert bruno["late"] and bruno["hours_late"] == pytest.approx(1.03, abs=0.01)
    assert bruno["score"] == 0 and bruno["raw_score"] == ana["raw_score"] > 0
    assert "se califica con 0" in bruno["message"] and "late" in bruno["flags"]
    assert any("the zip's file time is 2026-03-31 23:50" in n for n in bruno["notes"])
    # Carla's worksheet date was rewritten by a spreadsheet: the zip's time is used, and it is late
    assert carla["submitted_at_source"] == "zip" and carla["submitted_at"] == "2026-04-02T09:30:00+02:00"
    assert carla["late"] and carla["score"] == 0
    assert "304" not in rows


def test_moodle_imports_the_filled_worksheet(graded):
    out, rows = graded
    people = {i: Participant(i) for i in (301, 302, 303, 304)}
    result = {o.uniqueid: o for o in import_worksheet((out / "moodle_grading_worksheet.csv").read_bytes(),
                                                      Assignment("en", 10, people))}
    for pid in ("301", "302", "303"):
        assert result[int(pid)].grade_updated and result[int(pid)].grade == rows[pid]["score"]
        assert result[int(pid)].feedback.startswith("<p><strong>Nota:")
    assert "Entrega fuera de plazo: 1 h 2 min de retraso" in result[302].feedback
    assert result[304].reason == "no grade" and result[304].feedback is None
    text = (out / "moodle_grading_worksheet.csv").read_text(encoding="utf-8-sig")
    assert '"01/04/2026 10:00"' in text  # every other cell as downloaded, even the mangled one
    run = json.loads((out / "run.json").read_text())
    assert run["worksheet"]["rows"] == 4 and run["late_policy"]["policy"] == "reject"
    assert any("line 4 (Participant 303)" in w for w in run["warnings"])
    # graded with --allow-standin: run.json says which data, and that it is the stand-in
    data = {d["name"]: d for d in run["data"]}
    assert data["hidden_test"]["kind"] == "standin" and data["mnist.npz"]["kind"] == "standin"
    assert data["hidden_test"]["sha256"] == hashlib.sha256(Path(data["hidden_test"]["path"]).read_bytes()).hexdigest()


def test_each_student_gets_their_feedback_page(graded):
    out, _ = graded
    with zipfile.ZipFile(out / "moodle_feedback_files.zip") as zf:
        targets = {feedback_zip_target(n, {301, 302, 303, 304}): zf.read(n).decode() for n in zf.namelist()}
    assert sorted(t[0] for t in targets) == [301, 302, 303]
    page = next(v for k, v in targets.items() if k[0] == 302)
    assert "Bruno Díaz" in page and "se califica con 0" in page


def test_a_worksheet_of_another_assignment_fails_before_grading(tmp_path, capsys, graded):
    out, _ = graded
    other = tmp_path / "other.csv"
    other.write_text(HEADER + ROWS[0].replace("10.00", "100.00"), encoding="utf-8")
    zip_path = out.parent.parent / "download.zip"
    rc = main(["grade", "mnist_cnn", str(zip_path), "--rubric", str(out.parent.parent / "rubric.yaml"),
               "--worksheet", str(other), "--out", str(tmp_path / "o"), "--allow-standin"])
    assert rc == 2
    assert "maximum grade 100, but the rubric's is 10" in capsys.readouterr().err
    assert not (tmp_path / "o" / "mnist_cnn" / "results.jsonl").exists()


def test_without_a_course_config_the_time_recorded_is_the_one_its_source_names():
    """No course.yaml (no deadline): the row still says when it was handed in, and that time is
    the one the named source gives (the worksheet's), not the zip's."""
    from datetime import datetime, timedelta, timezone

    from grader.export.worksheet_io import WorksheetRow
    from grader.model import Result, Submission
    from grader.roundtrip import RoundTrip

    moodle = datetime(2026, 3, 30, 21, 14, tzinfo=timezone(timedelta(hours=2)))
    sub = Submission("mnist_cnn", "4518203", "José Núñez", submitted_at=datetime(2026, 3, 30, 20, 0))
    rt = RoundTrip("mnist_cnn", rows={"4518203": WorksheetRow(2, "4518203", [], submitted_at=moodle)})
    res = rt.stamp(sub, Result.from_submission(sub, status="graded", max_score=10.0), "es")
    assert res.submitted_at_source == "worksheet" and res.submitted_at == moodle.isoformat()
    bare = RoundTrip("mnist_cnn")
    res = bare.stamp(sub, Result.from_submission(sub, status="graded", max_score=10.0), "es")
    assert res.submitted_at_source == "zip" and res.submitted_at == "2026-03-30T20:00:00"
