"""The README's first command, end to end: the bundled Moodle zip graded in the real sandbox,
and every demo student gets the row submissions/demo/mnist_cnn.expected.json says."""
from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from grader.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "submissions" / "demo"
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    rc = main(["grade", "mnist_cnn", str(DEMO / "mnist_cnn.zip"), "--out", str(out),
               "--course-dir", str(ROOT)])
    assert rc == 0
    rows = [json.loads(line) for line in (out / "mnist_cnn" / "results.jsonl").read_text().splitlines()]
    return out / "mnist_cnn", {r["participant_id"]: r for r in rows}


EXPECTED = {k: v for k, v in json.loads((DEMO / "mnist_cnn.expected.json").read_text()).items()
            if not k.startswith("_")}


def test_one_row_per_student(graded):
    _, rows = graded
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_each_demo_student_gets_the_expected_row(graded, pid):
    _, rows = graded
    row, want = rows[pid], EXPECTED[pid]
    assert row["full_name"] == want["name"]
    assert row["status"] == want["status"], row["message"]
    lo, hi = want["grade"]
    assert lo <= row["score"] <= hi, row
    failed = sorted(c["id"] for c in row["checks"] if c["max_points"] and not c["passed"])
    assert failed == sorted(want["failed"])
    assert set(want["flags"]) <= set(row["flags"])
    assert row["max_score"] == 10
    for c in row["checks"]:
        assert c["message"] and c["title"]
        assert 0 <= c["points"] <= c["max_points"]
    assert set(row) >= {"participant_id", "full_name", "assignment", "status", "score", "max_score",
                        "checks", "metrics", "flags", "sha256", "timings"}


def test_accuracy_is_reproduced_not_claimed(graded):
    _, rows = graded
    for pid, row in rows.items():
        if row["status"] == "graded":
            acc = row["metrics"]["accuracy"]
            assert 0 <= acc <= 1
            points = next(c for c in row["checks"] if c["id"] == "accuracy")["points"]
            assert (points == 5) == (acc >= 0.90)
    # the under-trained model's hidden accuracy is genuinely low
    assert rows["4518239"]["metrics"]["accuracy"] < 0.8


def test_originals_are_kept_byte_for_byte(graded):
    out, rows = graded
    with zipfile.ZipFile(DEMO / "mnist_cnn.zip") as z:
        by_name = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    for pid, row in rows.items():
        entry = next(n for n in by_name if f"_{pid}_" in n and n.endswith("/" + row["notebook"]))
        data = by_name[entry]
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert (out / "originals" / entry).read_bytes() == data


def test_worksheet_is_what_moodle_imports(graded):
    out, rows = graded
    text = (out / "moodle_grading_worksheet.csv").read_text(encoding="utf-8-sig")
    reader = csv.DictReader(text.splitlines(keepends=True))
    assert reader.fieldnames == ["Identifier", "Full name", "Email address", "Status", "Grade",
                                 "Maximum grade", "Grade can be changed",
                                 "Last modified (submission)", "Last modified (grade)",
                                 "Feedback comments"]
    sheet = list(reader)
    assert len(sheet) == len(rows)
    for line in sheet:
        pid = line["Identifier"].removeprefix("Participant ")
        assert line["Identifier"] == f"Participant {pid}" and pid in rows
        assert line["Full name"] == rows[pid]["full_name"]  # commas and accents survive quoting
        assert float(line["Grade"]) == pytest.approx(rows[pid]["score"], abs=0.005)
        assert line["Maximum grade"] == "10.00"
        assert "March 2026" in line["Last modified (submission)"]
        assert "Nota:" in line["Feedback comments"]  # Spanish by default


def test_executed_copies_are_kept_for_the_instructor(graded):
    out, rows = graded
    for pid, row in rows.items():
        assert (out / "executed" / f"{pid}.ipynb").exists() == (row["status"] == "graded")
