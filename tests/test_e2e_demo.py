"""The README's first command, end to end: every bundled demo Moodle zip that has an
`<assignment>.expected.json` beside it is graded in the real sandbox (with its Moodle worksheet, as
`make demo` does: conftest's `demo_reports`), and every demo student gets the row that file says.
Tests take the assignment as an indirect parameter of `graded`."""
from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from grader.cli import main
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "submissions" / "demo"
pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.xdist_group("demo")]

ASSIGNMENTS = sorted(p.name.removesuffix(".expected.json") for p in DEMO.glob("*.expected.json")
                     if (DEMO / p.name.replace(".expected.json", ".zip")).exists())
EXPECTED = {a: {k: v for k, v in json.loads((DEMO / f"{a}.expected.json").read_text()).items()
                if not k.startswith("_")} for a in ASSIGNMENTS}
ROWS = [(a, pid) for a in ASSIGNMENTS for pid in sorted(EXPECTED[a])]
# The demo's under-trained student of each classification assignment: (participant id, metric, below).
UNDER_TRAINED = {"mnist_cnn": ("4518239", "accuracy", 0.8), "imagenet_cnn": ("5230131", "top1_accuracy", 0.85)}


@pytest.fixture(scope="module")
def grade(demo_reports):
    def rows(assignment: str) -> tuple[str, Path, dict]:
        lines = (demo_reports / assignment / "results.jsonl").read_text().splitlines()
        return assignment, demo_reports / assignment, {json.loads(x)["participant_id"]: json.loads(x) for x in lines}
    return rows


@pytest.fixture
def graded(request, grade):
    """(assignment, its report folder, {participant id: results.jsonl row})."""
    return grade(request.param)


def test_every_demo_zip_has_expectations():
    assert {"mnist_cnn", "imagenet_cnn"} <= set(ASSIGNMENTS)
    assert {p.stem for p in DEMO.glob("*.zip")} <= set(ASSIGNMENTS)


@pytest.mark.parametrize("graded", ASSIGNMENTS, indirect=True)
def test_one_row_per_student(graded):
    assignment, _, rows = graded
    assert sorted(rows) == sorted(EXPECTED[assignment])


@pytest.mark.parametrize("graded,pid", ROWS, indirect=["graded"])
def test_each_demo_student_gets_the_expected_row(graded, pid):
    assignment, _, rows = graded
    row, want = rows[pid], EXPECTED[assignment][pid]
    assert row["full_name"] == want["name"]
    assert row["assignment"] == assignment
    assert row["status"] == want["status"], row["message"]
    lo, hi = want["grade"]
    assert lo <= row["score"] <= hi, row
    failed = sorted(c["id"] for c in row["checks"] if c["max_points"] and not c["passed"])
    assert failed == sorted(want["failed"])
    assert set(want["flags"]) <= set(row["flags"])
    for name, (mlo, mhi) in want.get("metrics", {}).items():
        assert mlo <= row["metrics"][name] <= mhi, (name, row["metrics"])
    assert row["max_score"] == 10
    for c in row["checks"]:
        assert c["message"] and c["title"]
        assert 0 <= c["points"] <= c["max_points"]
    assert set(row) >= {"participant_id", "full_name", "assignment", "status", "score", "max_score",
                        "checks", "metrics", "flags", "sha256", "timings"}


@pytest.mark.parametrize("graded", [a for a in ASSIGNMENTS if a in UNDER_TRAINED], indirect=True)
def test_accuracy_is_reproduced_not_claimed(graded):
    """Every accuracy check (plain, top-1, top-5) is the host's number: full points exactly when
    its metric reaches the rubric's threshold; the under-trained model's is genuinely low."""
    assignment, _, rows = graded
    rubric = load_rubric(ROOT / "rubrics" / f"{assignment}.yaml")
    checks = [c for c in rubric.checks if c.kind == "accuracy"]
    assert checks
    for row in rows.values():
        if row["status"] != "graded":
            assert not any(c.metric in row["metrics"] for c in checks)
            continue
        for chk in checks:
            acc = row["metrics"][chk.metric]
            assert 0 <= acc <= 1
            points = next(c for c in row["checks"] if c["id"] == chk.id)["points"]
            assert (points == chk.points) == (acc >= chk.threshold), (row["full_name"], chk.id, acc)
    pid, metric, below = UNDER_TRAINED[assignment]
    assert rows[pid]["metrics"][metric] < below


@pytest.mark.parametrize("graded", ASSIGNMENTS, indirect=True)
def test_originals_are_kept_byte_for_byte(graded):
    assignment, out, rows = graded
    with zipfile.ZipFile(DEMO / f"{assignment}.zip") as z:
        by_name = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    for pid, row in rows.items():
        if not row["notebook"]:
            continue
        entry = next(n for n in by_name if f"_{pid}_" in n and n.endswith("/" + row["notebook"]))
        data = by_name[entry]
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert (out / "originals" / entry).read_bytes() == data


@pytest.mark.parametrize("graded", ASSIGNMENTS, indirect=True)
def test_worksheet_is_what_moodle_imports(graded):
    """The downloaded worksheet comes back with Grade and Feedback filled, in the site's
    language and format (Moodle's own import rules are checked in test_final_demo.py)."""
    from grader.export.worksheet_io import parse_number, read_worksheet

    assignment, out, rows = graded
    downloaded = read_worksheet(DEMO / f"{assignment}.worksheet.csv")
    filled = read_worksheet(out / "moodle_grading_worksheet.csv")
    assert filled.headers == downloaded.headers and filled.lang == downloaded.lang
    assert [r.participant_id for r in filled.rows] == [r.participant_id for r in downloaded.rows]
    for line in filled.rows:
        grade = line.cells[filled.col["grade"]]
        if line.participant_id not in rows:  # enrolled, handed in nothing: left empty
            assert grade == ""
            continue
        assert parse_number(grade, filled.decimal) == pytest.approx(rows[line.participant_id]["score"], abs=0.005)
        assert line.full_name == rows[line.participant_id]["full_name"]  # commas and accents survive
        assert "Nota:" in line.cells[filled.col["feedback"]]  # Spanish by default


@pytest.mark.parametrize("graded", ASSIGNMENTS, indirect=True)
def test_executed_copies_are_kept_for_the_instructor(graded):
    _, out, rows = graded
    for pid, row in rows.items():
        path = out / "executed" / f"{pid}.ipynb"
        if row["status"] == "graded":
            assert path.exists()
        elif row["status"] in ("invalid", "no_notebook"):  # nothing was run
            assert not path.exists()


@pytest.mark.parametrize("graded", [a for a in ASSIGNMENTS if a == "rnn_text"], indirect=True)
def test_text_loss_is_the_hosts_and_generate_text_feedback_is_specific(graded):
    """rnn_text: the loss is computed on the host from the model's outputs and scored against
    the baseline; the seed-counting generate_text gets the length hint; Zoë's missing char2idx
    is named (José's executed reference solution scores 10, per the expected rows)."""
    _, _, rows = graded
    for row in rows.values():
        loss = next(c for c in row["checks"] if c["id"] == "loss")
        if row["status"] != "graded":
            assert "text_loss" not in row["metrics"] and loss["points"] == 0
            continue
        m = row["metrics"]
        assert m["text_loss_ratio"] == pytest.approx(m["text_loss"] / m["text_loss_baseline"], abs=1e-3)
        assert 2.5 < m["text_loss_baseline"] < 3.5  # the corpus' unigram cross-entropy, in nats
        want = 6 if m["text_loss_ratio"] <= 0.5 else max(0.0, 6 * (1 - m["text_loss_ratio"]) / 0.5)
        assert loss["points"] == pytest.approx(want, abs=0.02)
        assert "logits" in loss["details"][0]  # the reference model ends in Dense(V): logits
    gen = next(c for c in rows["6340226"]["checks"] if c["id"] == "generate")
    assert gen["points"] == 0 and len(gen["details"]) == 3
    assert all("num_generate cuenta solo los caracteres nuevos" in d for d in gen["details"])
    assert "no define `char2idx`, `idx2char`" in rows["6340249"]["message"]


@pytest.mark.parametrize("graded", ASSIGNMENTS, indirect=True)
def test_every_lost_point_says_why(graded):
    """Issue 13: each check below its points has a reason on the page; a crashed re-run names its
    cells, and the instructor's detail names them too; nothing to compare is not a pass."""
    _, _, rows = graded
    for row in rows.values():
        if row["status"] in ("invalid", "no_notebook"):
            assert row["message"], row["full_name"]  # the one reason every check shares
            continue
        for c in row["checks"]:
            if c["points"] < c["max_points"]:
                assert c["message"] not in ("", "-") and (c["details"] or len(c["message"]) > 40), (row["full_name"], c)
        if "cell_errors" in row["flags"]:
            assert "celda " in row["message"] and "Error: " in row["message"], row["message"]
            assert row["detail"].startswith("cell "), row["detail"][:200]
        claimed = next((c for c in row["checks"] if c["id"] == "claimed_accuracy"), None)
        if claimed and {"no_claimed_accuracy", "claimed_accuracy_unverified"} & set(row["flags"]):
            assert claimed["passed"] is None


def test_demo_hand_ins_released_before_the_selfcheck_cell_keep_their_locked_cells():
    """The release's new first cell is outside nbgrader's protected cells: notebooks released
    before it (the demo's, a term's hand-ins) still match every locked-cell checksum."""
    from grader.checks.locked import find_changes, template_checksums

    for assignment in ASSIGNMENTS:
        expected = template_checksums(str(ROOT / "assignments" / assignment / "release" / f"{assignment}.ipynb"))
        assert expected
        with zipfile.ZipFile(DEMO / f"{assignment}.zip") as z:
            for name in z.namelist():
                if not name.endswith(".ipynb") or "checkpoint" in name:
                    continue
                try:
                    nb = json.loads(z.read(name))
                except ValueError:
                    continue  # the demo's truncated notebook
                assert find_changes(nb, expected) == ([], []), name
