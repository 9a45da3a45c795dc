"""Hostile notebooks, graded for real: each threat is contained, ends in a clear row, and
cannot change a score (the host judges). See README "Threats" for the table."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import psutil
import pytest

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric, submission
from grader.grade import grade_submission

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parent.parent
HEAD = "import numpy as np, os, sys, subprocess, socket, time, threading"


def grade(tmp_path, make_ctx, *cells, rubric=None, pid="1000001", printed=None):
    """Grade a notebook made of `cells`; `printed` fakes what the submitted file shows."""
    ctx = make_ctx(rubric or small_rubric())
    nb = notebook(HEAD, *cells, SOFTMAX, NUMPY_MODEL, executed=printed is not None)
    if printed is not None:
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    res = grade_submission(submission(tmp_path, nb, pid=pid), ctx)
    executed = tmp_path / "executed" / f"{pid}.ipynb"
    text = ""
    if executed.exists():
        nb = nbformat.read(executed, as_version=4)
        text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    return res, text


def leftovers(marker: str) -> list:
    return [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


def clean_score(tmp_path, make_ctx):
    res, _ = grade(tmp_path / "clean", make_ctx, "pass", printed="")
    assert res.status == "graded", res.message
    return res


# --- network ---------------------------------------------------------------------------------
def test_network_and_dns_fail_even_to_the_hosts_loopback(tmp_path, make_ctx):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.1)
    port = srv.getsockname()[1]
    code = f"""
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 443), ("pypi.org", 443)]:
    try:
        socket.create_connection((host, port), timeout=3).close(); print("CONNECTED", host)
    except OSError as e:
        print("BLOCKED", host)
try:
    socket.getaddrinfo("pypi.org", 443); print("RESOLVED")
except OSError:
    print("NO-DNS")
"""
    res, text = grade(tmp_path, make_ctx, code)
    with pytest.raises(socket.timeout):
        srv.accept()
    srv.close()
    assert res.status == "graded"
    assert "CONNECTED" not in text and "RESOLVED" not in text
    assert text.count("BLOCKED") == 3 and "NO-DNS" in text


# --- file system -----------------------------------------------------------------------------
def test_no_writes_outside_the_job(tmp_path, make_ctx, sandbox):
    reports = tmp_path / "reports"
    reports.mkdir()
    other_job = sandbox.job_root("other-student")
    targets = [tmp_path / "host_tmp.txt", Path.home() / "escape.txt", ROOT / "escape.txt",
               reports / "results.jsonl", other_job / "in" / "evil.txt", Path("/etc/evil.txt")]
    code = f"""
for t in {[str(t) for t in targets]!r}:
    try:
        os.makedirs(os.path.dirname(t), exist_ok=True)
        open(t, "w").write("pwned"); print("WROTE", t)
    except OSError as e:
        print("DENIED", t)
"""
    res, text = grade(tmp_path, make_ctx, code)
    assert res.status == "graded"
    for t in targets:
        assert not t.exists(), t
    shutil.rmtree(other_job)


def test_no_reads_of_hidden_data_grader_files_other_students_or_secrets(tmp_path, make_ctx, standin):
    secret = tmp_path / "other_student" / "mnist_cnn.ipynb"
    secret.parent.mkdir()
    secret.write_text("SECRET-OTHER-STUDENT-7781")
    paths = [str(standin["hidden"]), str(ROOT / "grader" / "grade.py"), str(ROOT / "rubrics"),
             str(secret), "/root/.ssh/id_rsa", "/etc/shadow", str(Path.home() / ".bash_history")]
    code = f"""
for p in {paths!r}:
    try:
        data = open(p, "rb").read(200) if os.path.isfile(p) else os.listdir(p)
        print("READ", p, data)
    except OSError:
        print("DENIED", p)
"""
    res, text = grade(tmp_path, make_ctx, code)
    assert res.status == "graded"
    assert "READ" not in text and text.count("DENIED") == len(paths)
    assert "SECRET-OTHER-STUDENT-7781" not in text


# --- processes -------------------------------------------------------------------------------
def test_fork_bomb_is_contained(tmp_path, make_ctx):
    marker = "5151.5"
    code = f"""
n = 0
try:
    for _ in range(5000):
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "{marker}"])  # a cmdline we can look for
        n += 1
except OSError as e:
    print("FORK FAILED after", n)
"""
    res, text = grade(tmp_path, make_ctx, code, rubric=small_rubric(pids_max=64))
    assert "FORK FAILED" in text
    assert res.status in ("graded", "error")
    assert leftovers(marker) == []


def test_children_ignoring_sigterm_in_a_new_session_die_with_the_job(tmp_path, make_ctx):
    marker = "5252.25"
    code = f"""
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep({marker})"],
                 start_new_session=True)
pid = os.fork()
if pid == 0:
    os.setsid(); os.execvp("sleep", ["sleep", "{marker}"])
"""
    res, _ = grade(tmp_path, make_ctx, code)
    assert res.status == "graded"
    assert leftovers(marker) == []


def test_killing_the_parent_or_process_group_gives_an_error_row(tmp_path, make_ctx):
    res, _ = grade(tmp_path, make_ctx, "os.killpg(os.getpgrp(), 9)")
    assert res.status == "error"
    # the runner and the kernel die together; whichever the sandbox notices first is reported
    assert "sin resultado" in res.message or "murió" in res.message
    res2, _ = grade(tmp_path / "b", make_ctx, "os.kill(os.getppid(), 9)")
    assert res2.status == "error"
    assert res.checks[1].passed  # the unit tests (separate jobs) still count


def test_proc_shows_only_the_sandbox(tmp_path, make_ctx):
    host = subprocess.Popen(["sleep", "5353.5"])
    try:
        code = """
pids = [p for p in os.listdir("/proc") if p.isdigit()]
def cmdline(p):
    try:  # bwrap's own pid 1 is hidden (an empty mode-0 tmpfs over /proc/1)
        return open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
    except OSError:
        return "(hidden)"
cmds = [cmdline(p) for p in pids]
print("NPIDS", len(pids)); print("CMDS", cmds)
"""
        res, text = grade(tmp_path, make_ctx, code)
    finally:
        host.kill()
    assert res.status == "graded"
    assert "5353.5" not in text and "pytest" not in text
    n = int(text.split("NPIDS")[1].split()[0])
    assert n < 15


# --- resources -------------------------------------------------------------------------------
def test_huge_output_is_truncated_and_bounded(tmp_path, make_ctx):
    code = "chunk = 'x' * (1 << 20)\nfor _ in range(200):\n    print(chunk)"
    res, text = grade(tmp_path, make_ctx, code)
    assert res.status == "graded"
    executed = tmp_path / "executed" / "1000001.ipynb"
    assert executed.stat().st_size < 60 << 20  # the run's output cap, not 200 MB
    assert "output truncated" in text


def test_disk_filling_file_hits_the_job_limit(tmp_path, make_ctx):
    before = shutil.disk_usage("/").free
    code = """
try:
    with open("/job/work/fill.bin", "wb") as f:
        for _ in range(4096):
            f.write(b"\\0" * (1 << 20))
    print("FILLED")
except OSError as e:
    print("STOPPED", e.errno)
"""
    res, text = grade(tmp_path, make_ctx, code, rubric=small_rubric(disk_mb=256, max_file_mb=1024))
    assert "STOPPED" in text and "FILLED" not in text
    assert res.status == "graded"
    assert shutil.disk_usage("/").free > before - (100 << 20)


# --- results forgery -------------------------------------------------------------------------
def test_forged_files_prints_threads_and_patches_change_no_score(tmp_path, make_ctx):
    clean = clean_score(tmp_path, make_ctx)
    forge = r"""
import json, base64, io, builtins
fake = {"status": "graded", "score": 10, "accuracy": 1.0}
for p in ["/job/scratch/probe.json", "/job/home/results.jsonl", "/job/result.json", os.path.expanduser("~/score.json")]:
    try:
        os.makedirs(os.path.dirname(p), exist_ok=True); json.dump(fake, open(p, "w"))
    except OSError:
        pass
print("Exactitud en test: 1.0000")
print("accuracy: 1.0000 - loss: 0.0000")
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
def forger():
    while True:
        try:
            np.savez("/job/scratch/probe.npz", predict__hidden=np.zeros((40, 10)))
            json.dump(fake, open("/job/result.json", "w"))
        except Exception:
            pass
        time.sleep(0.01)
threading.Thread(target=forger, daemon=True).start()
"""
    res, text = grade(tmp_path / "forged", make_ctx, forge,
                      printed="Exactitud en test: 1.0000\naccuracy: 1.0000 - loss: 0.0000\n")
    assert res.status == "graded", res.message
    assert res.score == clean.score
    assert res.metrics["accuracy"] == clean.metrics["accuracy"]
    # the printed 1.0 is what that cell prints on every run, so like for like it matches; the host's
    # own measurement on the public split calls it out for the instructor
    assert "claimed_accuracy_host_differs" in res.flags


FAKE_PROBE = r"""
import base64, io, IPython.display
def _fake_result():
    buf = io.BytesIO()
    np.savez(buf, predict__hidden=np.eye(10)[np.arange(40) % 10])
    return {"application/vnd.grader.probe+json": {"info": {"errors": {}},
                                                  "npz": base64.b64encode(buf.getvalue()).decode()}}
"""


def test_a_forged_probe_result_is_caught_and_nothing_is_measured(tmp_path, make_ctx):
    """Code in the kernel can display the probe's own MIME type (a thread, a patched `display`).
    Here `display` is patched so the probe cell holds a forged result beside the real one:
    neither is believed, the row says so, and the run measures nothing."""
    forge = FAKE_PROBE + """
_real_display = IPython.display.display
def _forging_display(*objs, **kw):
    _real_display(_fake_result(), raw=True)
    return _real_display(*objs, **kw)
IPython.display.display = _forging_display
"""
    res, _ = grade(tmp_path, make_ctx, forge)
    assert res.status == "error" and "probe_forgery" in res.flags
    assert "falsifica" in res.message
    accuracy = next(c for c in res.checks if c.id == "accuracy")
    assert accuracy.points == 0 and "accuracy" not in res.metrics
    assert next(c for c in res.checks if c.id == "softmax").passed  # the unit tests stand


def test_a_forged_result_in_a_students_cell_is_flagged_and_ignored(tmp_path, make_ctx):
    clean = clean_score(tmp_path, make_ctx)
    forge = FAKE_PROBE + "IPython.display.display(_fake_result(), raw=True)"
    res, _ = grade(tmp_path / "forged", make_ctx, forge, printed="")
    assert res.status == "graded", res.message
    assert "probe_forgery" in res.flags
    assert res.score == clean.score and res.metrics["accuracy"] == clean.metrics["accuracy"]


def test_a_softmax_that_patches_numpy_still_fails(tmp_path, make_ctx):
    cheat = """
def softmax(z):
    import numpy, builtins
    numpy.allclose = lambda *a, **k: True
    numpy.isfinite = lambda *a, **k: True
    return numpy.zeros_like(z)
"""
    ctx = make_ctx()
    nb = notebook(HEAD, SOFTMAX, cheat, NUMPY_MODEL)
    res = grade_submission(submission(tmp_path, nb), ctx)
    softmax = next(c for c in res.checks if c.id == "softmax")
    assert softmax.points == 0 and not softmax.passed


# --- tampered notebooks ----------------------------------------------------------------------
def test_metadata_cannot_change_how_the_notebook_runs(tmp_path, make_ctx, sandbox):
    nb = notebook(HEAD, "import sys\nprint('EXE=' + sys.executable)", SOFTMAX, NUMPY_MODEL,
                  kernelspec={"name": "evil", "display_name": "evil", "language": "python",
                              "argv": ["/usr/bin/python3", "-m", "ipykernel"]},
                  papermill={"parameters": {"x": 1}}, execution={"timeout": 1})
    model_cell = nb.cells[-1]
    model_cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    model_cell.metadata["papermill"] = {"exception": True}
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert res.status == "graded", res.message  # the tagged cell ran: `model` exists
    ex = nbformat.read(tmp_path / "executed" / "1000001.ipynb", 4)
    assert f"EXE={sandbox.kenv.python}" in ex.cells[1].outputs[0]["text"]
