"""The command line explains itself and fails with clear, non-zero errors on bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for cmd in ("grade", "release", "doctor"):
        assert cmd in out.stdout


def test_grade_help_explains_the_options():
    out = run("grade", "--help")
    assert out.returncode == 0
    for opt in ("--out", "--rubric", "--set", "--workers", "--lang", "--unsafe-no-sandbox", "Moodle"):
        assert opt in out.stdout


def test_bad_override_is_a_clear_error(capsys):
    rc = main(["grade", "mnist_cnn", str(ROOT / "submissions/demo/mnist_cnn.zip"),
               "--set", "limits.memory_mb=lots", "--course-dir", str(ROOT)])
    assert rc == 2
    assert "limits.memory_mb" in capsys.readouterr().err


def test_missing_source_and_wrong_rubric(capsys, tmp_path):
    assert main(["grade", "mnist_cnn", str(tmp_path / "nope.zip"), "--course-dir", str(ROOT)]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["grade", "rnn_text", str(ROOT / "submissions/demo/mnist_cnn.zip"),
                 "--rubric", str(ROOT / "rubrics/mnist_cnn.yaml")]) == 2
    assert "is for assignment 'mnist_cnn'" in capsys.readouterr().err


def test_not_a_moodle_zip(capsys, tmp_path):
    junk = tmp_path / "junk.zip"
    import zipfile
    with zipfile.ZipFile(junk, "w") as z:
        z.writestr("random/file.txt", "hello")
    assert main(["grade", "mnist_cnn", str(junk), "--out", str(tmp_path / "out"),
                 "--course-dir", str(ROOT), "--allow-standin"]) == 2
    assert "no Moodle submission" in capsys.readouterr().err


def test_doctor_reports_the_sandbox():
    out = run("doctor", "--no-tensorflow")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "bubblewrap /" in out.stdout and "memory:" in out.stdout
    assert "kernel:" in out.stdout and "nbclient" in out.stdout
    assert "  env:      " in out.stdout  # which kernel environment: lean, --python, or the fallback
    assert "test job:   works" in out.stdout
    assert "ptrace:   denied in the test job" in out.stdout  # measured, not assumed
    assert "/dev/shm 512 MiB for a 2048 MB job" in out.stdout
