"""A term's worth of grading, with real `grader grade` processes: a batch interrupted with
SIGINT or SIGKILL resumes to the same rows as an uninterrupted run; unchanged notebooks are
reused (not executed again), changed ones re-graded; --only re-grades one student and leaves
everyone else's rows and worksheet cells byte-identical; a second run on the same folder is
refused."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml

from conftest import NUMPY_MODEL, ROOT, SOFTMAX, notebook, small_rubric_dict

pytestmark = [pytest.mark.sandbox, pytest.mark.xdist_group("store_resume")]

STUDENTS = {"3000001": "Ana Pérez", "3000002": "Bruno Díaz", "3000003": "Carmen Núñez",
            "3000004": "David O'Neil", "3000005": "Elena Ruiz", "3000006": "Félix Gómez"}
MARKER = "5.0737"  # the notebooks' `sleep` runs under this argument: find leftovers by it


def _nb(pid: str, extra: str = "") -> str:
    slow = f"import subprocess\nsubprocess.run(['sleep', '{MARKER}'])"
    nb = notebook("import numpy as np", slow, SOFTMAX + extra, NUMPY_MODEL, f"owner = {pid!r}")
    for i, cell in enumerate(nb.cells):  # fixed ids: the same notebook is the same bytes
        cell.id = f"cell-{i}"
    return nbformat.writes(nb)


def make_zip(path: Path, students: dict[str, str], changed: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for pid, name in students.items():
            z.writestr(f"{name}_{pid}_assignsubmission_file/mnist_cnn.ipynb",
                       _nb(pid, (changed or {}).get(pid, "")))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("store")
    rubric = tmp / "mnist_cnn.yaml"
    rubric.write_text(yaml.safe_dump(small_rubric_dict(timeout_s=120)))
    return tmp, make_zip(tmp / "class.zip", STUDENTS), rubric


def grader(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader", *args]


def grade_cmd(zpath: Path, rubric: Path, out: Path, *extra: str) -> list[str]:
    return grader("grade", "mnist_cnn", str(zpath), "--rubric", str(rubric), "--out", str(out),
                  "--course-dir", str(ROOT), "--workers", "2", "--allow-standin", *extra)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT, **kw)


def rows(out: Path) -> dict[str, dict]:
    """results.jsonl by participant, without the timings (the only thing a re-run changes)."""
    got = {}
    for line in (out / "mnist_cnn" / "results.jsonl").read_text().splitlines():
        row = json.loads(line)
        row.pop("timings")
        got[row["participant_id"]] = row
    return got


def stored_runs(out: Path) -> dict[str, int]:
    """participant id -> the run that produced their stored result."""
    with sqlite3.connect(out / "mnist_cnn" / "grader.sqlite") as db:
        return dict(db.execute("SELECT participant_id, run_id FROM results"))


def wait_for_results(out: Path, n: int, proc: subprocess.Popen, limit_s: float = 300) -> None:
    db = out / "mnist_cnn" / "grader.sqlite"
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        assert proc.poll() is None, proc.communicate()
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as c:
                    if c.execute("SELECT count(*) FROM results").fetchone()[0] >= n:
                        return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.2)
    pytest.fail("no result stored in time")


def leftovers() -> list[int]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if MARKER in (p.info["cmdline"] or []):
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


def wait_gone(limit_s: float = 10) -> list[int]:
    t0 = time.monotonic()
    while leftovers() and time.monotonic() - t0 < limit_s:
        time.sleep(0.2)
    return leftovers()


@pytest.fixture(scope="module")
def reference(setup):
    """An uninterrupted run of the class."""
    tmp, zpath, rubric = setup
    out = tmp / "reference"
    proc = run(grade_cmd(zpath, rubric, out))
    assert proc.returncode == 0, proc.stderr
    assert "0 reused, 6 graded" in proc.stdout
    return out


def test_unchanged_batch_is_reused_not_executed(setup, reference, tmp_path):
    tmp, zpath, rubric = setup
    before = stored_runs(reference)
    executed = {p.name: p.stat().st_ino for p in (reference / "mnist_cnn" / "executed").iterdir()}
    proc = run(grade_cmd(zpath, rubric, reference))
    assert proc.returncode == 0, proc.stderr
    assert "6 reused, 0 graded" in proc.stdout
    assert stored_runs(reference) == before  # every result still from the first run
    assert executed == {p.name: p.stat().st_ino for p in (reference / "mnist_cnn" / "executed").iterdir()}
    assert len(executed) == 6


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_batch_resumes_to_the_same_rows(setup, reference, tmp_path, sig):
    tmp, zpath, rubric = setup
    out = tmp_path / "out"
    proc = subprocess.Popen(grade_cmd(zpath, rubric, out), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_results(out, 2, proc)
    t0 = time.monotonic()
    while not leftovers():  # interrupt while a notebook is running
        assert time.monotonic() - t0 < 60 and proc.poll() is None, "no notebook running"
        time.sleep(0.1)
    t0 = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    stopped_s = time.monotonic() - t0
    assert wait_gone() == [], "a sandbox process outlived the grader"
    kept = stored_runs(out)
    assert len(kept) >= 2  # every finished result survives
    if sig == signal.SIGINT:
        assert proc.returncode == 130, stderr
        assert "run the same command again to resume" in stderr
        assert "Traceback" not in stderr
        assert stopped_s < 30, f"took {stopped_s:.0f} s to stop"
        # the exports were written for what is done
        assert set(rows(out)) == set(kept)
    again = run(grade_cmd(zpath, rubric, out))
    assert again.returncode == 0, again.stderr
    assert f"{len(kept)} reused, {6 - len(kept)} graded" in again.stdout
    assert rows(out) == rows(reference)
    lines = (out / "mnist_cnn" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 6 and len({json.loads(x)["participant_id"] for x in lines}) == 6
    assert sorted(p.name for p in (out / "mnist_cnn" / "executed").iterdir()) == \
        sorted(f"{pid}.ipynb" for pid in STUDENTS)


def _worksheet_rows(out: Path) -> dict[str, list[str]]:
    text = (out / "mnist_cnn" / "moodle_grading_worksheet.csv").read_text(encoding="utf-8-sig")
    return {r[0]: r for r in csv.reader(io.StringIO(text))}


def test_only_regrades_one_student_and_keeps_the_rest_byte_identical(setup, reference, tmp_path):
    tmp, zpath, rubric = setup
    out = tmp_path / "out"
    import shutil

    shutil.copytree(reference, out)
    before_lines = {json.loads(x)["participant_id"]: x for x in
                    (out / "mnist_cnn" / "results.jsonl").read_text().splitlines()}
    before_ws = _worksheet_rows(out)
    before_runs = stored_runs(out)
    proc = run(grade_cmd(zpath, rubric, out, "--only", "carmen nunez"))
    assert proc.returncode == 0, proc.stderr
    assert "1 graded" in proc.stdout
    after_runs = stored_runs(out)
    assert after_runs["3000003"] > before_runs["3000003"]
    assert {p: r for p, r in after_runs.items() if p != "3000003"} == \
        {p: r for p, r in before_runs.items() if p != "3000003"}
    after_lines = {json.loads(x)["participant_id"]: x for x in
                   (out / "mnist_cnn" / "results.jsonl").read_text().splitlines()}
    assert set(after_lines) == set(STUDENTS)
    for pid in STUDENTS:
        if pid != "3000003":
            assert after_lines[pid] == before_lines[pid]
    after_ws = _worksheet_rows(out)
    assert {k: v for k, v in after_ws.items() if "3000003" not in k} == \
        {k: v for k, v in before_ws.items() if "3000003" not in k}
    # by participant id too, and a name that matches nobody stops before any work
    assert run(grade_cmd(zpath, rubric, out, "--only", "3000001")).returncode == 0
    bad = run(grade_cmd(zpath, rubric, out, "--only", "Nadie Nunca"))
    assert bad.returncode == 2 and "nobody in the download" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_later_download_regrades_changed_keeps_missing(setup, reference, tmp_path):
    tmp, zpath, rubric = setup
    out = tmp_path / "out"
    import shutil

    shutil.copytree(reference, out)
    before_runs = stored_runs(out)
    later = dict(STUDENTS)
    del later["3000006"]  # gone from the new download
    later["3000007"] = "Gloria Late"  # a late hand-in
    zlater = make_zip(tmp_path / "later.zip", later, changed={"3000002": "\nreplaced = True\n"})
    proc = run(grade_cmd(zlater, rubric, out))
    assert proc.returncode == 0, proc.stderr
    assert "4 reused, 2 graded" in proc.stdout
    after = stored_runs(out)
    assert after["3000002"] > before_runs["3000002"] and after["3000007"] > before_runs["3000001"]
    for pid in ("3000001", "3000003", "3000004", "3000005", "3000006"):
        assert after[pid] == before_runs[pid]
    got = rows(out)
    assert set(got) == set(STUDENTS) | {"3000007"}
    assert "not_in_download" in got["3000006"]["flags"]
    assert got["3000006"]["score"] == rows(reference)["3000006"]["score"]
    assert all("not_in_download" not in r["flags"] for p, r in got.items() if p != "3000006")
    # --force re-grades everyone in the download
    forced = run(grade_cmd(zlater, rubric, out, "--force"))
    assert forced.returncode == 0 and "0 reused, 6 graded" in forced.stdout


def test_second_run_on_the_same_folder_is_refused(setup, tmp_path):
    tmp, zpath, rubric = setup
    out = tmp_path / "out"
    first = subprocess.Popen(grade_cmd(zpath, rubric, out), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for_results(out, 0, first)
        second = run(grade_cmd(zpath, rubric, out))
        assert second.returncode == 2
        assert "being graded by another grader process" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert wait_gone() == []


def test_results_readers_take_old_and_unknown_rows_and_name_a_broken_line(reference, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(reference, out)
    path = out / "mnist_cnn" / "results.jsonl"
    lines = path.read_text().splitlines()
    old = json.loads(lines[0])
    old.pop("schema")  # a row from before the store
    new = json.loads(lines[1])
    new["from_the_future"] = 1
    new["checks"][0]["also_new"] = True
    path.write_text("\n".join([json.dumps(old), json.dumps(new), *lines[2:]]) + "\n")
    ok = run(grader("final", "--out", str(out), "--course-dir", str(ROOT)))
    assert "Traceback" not in ok.stderr
    assert "from_the_future" in ok.stdout + ok.stderr and "checks.also_new" in ok.stdout + ok.stderr
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][: len(lines[3]) // 2] + "\n")
    bad = run(grader("final", "--out", str(out), "--course-dir", str(ROOT)))
    assert bad.returncode == 2
    assert f"{path}, line 4" in bad.stderr and "Traceback" not in bad.stderr


def test_only_matches_ids_and_names_and_refuses_ambiguity():
    from grader.ingest.select import SelectionError, select
    from grader.model import Submission

    subs = [Submission("mnist_cnn", pid, name) for pid, name in
            [("1", "José Núñez"), ("2", "Ana Núñez"), ("3", "María O'Connor")]]
    assert [s.participant_id for s in select(subs, ["jose NUNEZ"])] == ["1"]
    assert [s.participant_id for s in select(subs, ["Participant 3", "2"])] == ["2", "3"]
    assert [s.participant_id for s in select(subs, ["o'connor"])] == ["3"]
    with pytest.raises(SelectionError, match="matches 2 participants"):
        select(subs, ["nunez"])
    with pytest.raises(SelectionError, match="nobody"):
        select(subs, ["Pedro"])


def test_eta_comes_from_the_measured_notebook_times():
    from rich.progress import Progress

    from grader.report.terminal import EtaColumn

    with Progress(disable=True) as p:
        task = p.add_task("x", total=10, times=[])
        assert "ETA -" in EtaColumn(2).render(p.tasks[task]).plain
        p.update(task, completed=4, times=[30.0, 50.0, 40.0, 40.0])
        # 6 left, 40 s each, over 2 workers: 120 s
        assert EtaColumn(2).render(p.tasks[task]).plain == "ETA 0:02:00"


def test_dry_run_says_what_the_store_would_reuse(setup, reference, tmp_path):
    tmp, zpath, rubric = setup
    before = sorted((p.relative_to(reference), p.stat().st_mtime_ns) for p in reference.rglob("*"))
    same = run(grade_cmd(zpath, rubric, reference, "--dry-run"))
    assert same.returncode == 0, same.stderr
    assert "0 of 6 would be re-run; 6 unchanged" in same.stdout
    later = make_zip(tmp_path / "later.zip", STUDENTS, changed={"3000002": "\nreplaced = True\n"})
    changed = run(grade_cmd(later, rubric, reference, "--dry-run"))
    assert "1 of 6 would be re-run; 5 unchanged" in changed.stdout
    forced = run(grade_cmd(later, rubric, reference, "--dry-run", "--force"))
    assert "6 of 6 would be re-run; 0 unchanged" in forced.stdout
    only = run(grade_cmd(later, rubric, reference, "--dry-run", "--only", "3000004"))
    assert "1 of 6 would be re-run" in only.stdout
    # a dry run writes nothing into the graded folder
    assert sorted((p.relative_to(reference), p.stat().st_mtime_ns) for p in reference.rglob("*")) == before
