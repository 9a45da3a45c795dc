"""One Moodle download mixing hostile and normal notebooks: the batch finishes, every student
gets the right row, and the normal students' grades are exactly what they'd get alone. The
progress display given to the batch breaks on the first result too: that costs a warning, not
the batch."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric
from grader.batch import BatchOptions, grade_batch

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.xdist_group("hostile_batch")]
HEAD = "import numpy as np, os, sys, socket, time, threading"

STUDENTS = {  # participant id: (name, hostile cell, expected status)
    "2000001": ("Ana Normal", "pass", "graded"),
    "2000002": ("Bea Fork", "n = 0\ntry:\n    for _ in range(3000):\n        if os.fork() == 0:\n"
                "            os.execvp('sleep', ['sleep', '6161.5'])\nexcept OSError:\n    print('stopped')", "graded"),
    "2000003": ("Carla Memoria", "blocks = [np.ones(2**20 * 2) for _ in range(300)]", "error"),
    "2000004": ("Dani Bucle", "while True:\n    pass", "timeout"),
    "2000005": ("Eva Mata", "os.kill(os.getppid(), 9)", "error"),
    "2000006": ("Fran Salida", "s = 'y' * (1 << 20)\nfor _ in range(40):\n    print(s)", "graded"),
    "2000007": ("Gema Disco", "try:\n    with open('/job/work/f', 'wb') as f:\n"
                "        for _ in range(400):\n            f.write(b'0' * (1 << 20))\n"
                "except OSError as e:\n    print('full', e)", "graded"),
    "2000008": ("Hugo Red", "try:\n    socket.create_connection(('1.1.1.1', 443), timeout=2)\n"
                "except OSError:\n    print('no network')", "graded"),
    "2000009": ("Inés Normal", "x = 1", "graded"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    zpath = tmp / "download.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for pid, (name, cell, _) in STUDENTS.items():
            nb = notebook(HEAD, cell, SOFTMAX, NUMPY_MODEL)
            z.writestr(f"{name}_{pid}_assignsubmission_file/mnist_cnn.ipynb", nbformat.writes(nb))
    rubric = small_rubric(memory_mb=700, cell_timeout_s=8, timeout_s=60, disk_mb=256, pids_max=64,
                          output_mb=8)
    shown = []

    def broken_display(row):
        shown.append(row.participant_id)
        raise ValueError("display bug")

    rep = grade_batch(rubric, zpath, tmp / "reports", BatchOptions(workers=2), on_result=broken_display)
    return rep, tmp / "reports" / "mnist_cnn", shown


def test_every_student_has_the_expected_status(batch):
    rep, _, _ = batch
    got = {r.participant_id: r.status for r in rep.results}
    assert got == {pid: status for pid, (_, _, status) in STUDENTS.items()}
    for r in rep.results:
        assert r.message or r.status == "graded"


def test_normal_students_are_unaffected_by_their_neighbours(batch):
    rep, _, _ = batch
    rows = {r.participant_id: r for r in rep.results}
    normal = [rows[p] for p in ("2000001", "2000009", "2000002", "2000006", "2000007", "2000008")]
    assert len({r.score for r in normal}) == 1  # hostile-but-contained ones score like the normal
    assert len({r.metrics["accuracy"] for r in normal}) == 1
    assert "memory_limit" in rows["2000003"].flags and "límite de memoria" in rows["2000003"].message
    assert "límite de tiempo" in rows["2000004"].message


def test_outputs_are_complete_and_nothing_is_left_running(batch):
    rep, out, _ = batch
    lines = (out / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["participant_id"] for x in lines) == sorted(STUDENTS)
    assert not (out / "results.partial.jsonl").exists()
    assert len((out / "moodle_grading_worksheet.csv").read_text().splitlines()) >= len(STUDENTS) + 1
    assert [p for p in psutil.process_iter(["cmdline"]) if "6161.5" in " ".join(p.info["cmdline"] or [])] == []


def test_a_display_that_raises_costs_a_warning_not_the_batch(batch):
    rep, _, shown = batch
    assert len(shown) == 1  # called once, then no more
    assert [w for w in rep.warnings if w.startswith("progress display failed (ValueError: display bug)")]
    assert len(rep.results) == len(STUDENTS)
