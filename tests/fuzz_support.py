"""Shared by the fuzz tests (test_fuzz_inputs.py, test_fuzz_configs.py): settings, value
strategies, and the cheap real command paths each example goes through."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from grader.cli import main

ROOT = Path(__file__).resolve().parent.parent
RELEASED = ROOT / "assignments" / "mnist_cnn" / "release" / "mnist_cnn.ipynb"
FOLDER = "José Núñez_4518203_assignsubmission_file"  # a student of the demo worksheet
# CI: 50 examples per input, the same ones every run. A deeper hunt, with new examples each time:
# GRADER_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_inputs.py tests/test_fuzz_configs.py
DEEP = int(os.environ.get("GRADER_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=DEEP or 50, deadline=None, derandomize=not DEEP, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])  # capsys: read out per example

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
HOSTILE_TEXT = st.sampled_from(["", "\x00", "\ufeff", "=HYPERLINK(\"x\")", "[/bold]", "\x1b[31m",
                                "a;b,c\"d\n", "../../etc/passwd", "é" * 300, "\u202e"])


@contextlib.contextmanager
def scratch():
    """A fresh folder per example (pytest's tmp_path is one per test, hypothesis runs many)."""
    d = tempfile.mkdtemp(prefix="fuzz-")
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`grader ARGV` in this process: an exception escaping main() fails the test as it is."""
    capsys.readouterr()
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def dry_run(capsys, d: Path, zip_bytes: bytes, *extra: str) -> tuple[int, str, str]:
    """`grader grade mnist_cnn d/download.zip --dry-run EXTRA` with `zip_bytes` as the download."""
    (d / "download.zip").write_bytes(zip_bytes)
    return run_cli(capsys, "grade", "mnist_cnn", str(d / "download.zip"), "--dry-run", "--out",
                   str(d / "out"), "--course-dir", str(ROOT), *extra)


def assert_clear_failure_or_success(rc: int, err: str) -> None:
    """Exit 0/1 (1: a dry run that would stop on stand-in data), or one `grader: error:` report."""
    event(f"exit code {rc}")  # --hypothesis-show-statistics: how many got how far
    assert "Traceback" not in err
    if rc not in (0, 1):
        assert rc == 2 and err.startswith("grader: error: "), (rc, err[:500])
        assert len(err) < 5000, f"an error of {len(err)} characters"


def moodle_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 3, 30, 10, 0, 0)), data)
    return buf.getvalue()


def cut(data: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, len(data)).map(lambda n: data[:n])


NB_BYTES = RELEASED.read_bytes()
ONE_STUDENT_ZIP = moodle_zip({f"{FOLDER}/mnist_cnn.ipynb": NB_BYTES})


def laughs(levels: int = 9) -> bytes:
    """A billion laughs: `levels` lines of YAML that expand to 9**levels strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()
