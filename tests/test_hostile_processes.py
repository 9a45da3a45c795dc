"""Sandbox, round two: attacks on the host through the sandbox's own machinery (its pid 1, the
arrays it returns, its memory-backed mounts). Real code in real bubblewrap, each from a job
that otherwise works; each test fails when its protection is removed (scripts/check_protections.py).
"""
from __future__ import annotations

import sys
from pathlib import Path
import textwrap

import nbformat
import numpy as np
import pytest

from grader.runner import protocol
from grader.sandbox import SandboxSession, run_functions
from grader.sandbox.launch import OUT_FD, Mount, SandboxSpec, run_sandboxed

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    s = SandboxSession.create(workroot=tmp_path_factory.mktemp("jobs"))
    yield s
    s.close()


def call(session, source: str, timeout_s: float = 30, **kw):
    run = run_functions(session, textwrap.dedent(source), [{"id": "c", "function": "probe", "args": []}],
                        {"unused": np.zeros(1)}, name="t", timeout_s=timeout_s, **kw)
    val = run.arrays.get("c")
    return run, (None if val is None else val.tolist())


# --- item 3: ptrace of the sandbox's first process -------------------------------------------
PTRACE = """
import ctypes, os
def probe():
    libc = ctypes.CDLL(None, use_errno=True)
    out = []
    # PTRACE_ATTACH to bwrap's pid 1 and leave it stopped (the attack kept the job alive)
    out.append(float(libc.ptrace(16, 1, 0, 0) == 0))
    # process_vm_readv on pid 1 (x86_64: 310; aarch64: 270)
    nr = 310 if os.uname().machine == "x86_64" else 270
    buf = ctypes.create_string_buffer(8)
    iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
    out.append(float(libc.syscall(nr, 1, iov, 1, iov, 1, 0) >= 0 or ctypes.get_errno() != 1))
    for path, mode in (("/proc/1/mem", "r+b"), ("/proc/1/fd/1", "wb"), ("/proc/1/fd/2", "wb")):
        try:
            with open(path, mode, buffering=0) as f:
                if "fd" in path:
                    f.write(b"INJECTED-INTO-PID-1\\n")
            out.append(1.0)
        except OSError:
            out.append(0.0)
    return out
"""


def test_pid_one_cannot_be_traced_or_reached_through_proc(session):
    run, val = call(session, PTRACE, timeout_s=30)
    assert run.status == "ok", run.message  # not "timeout": the job ended when it reported
    assert val == [0.0, 0.0, 0.0, 0.0, 0.0], "ptrace, process_vm_readv, /proc/1/mem, /proc/1/fd/1, /proc/1/fd/2"
    assert "INJECTED" not in run.stderr_tail


STAY_AFTER_REPORT = """
import os, sys, time
sys.path.insert(0, "/opt/grader/lib")
from grader_runner import protocol
fd = int(sys.argv[1])
protocol.write(os.fdopen(fd, "wb", buffering=0), {"status": "ok", "message": "done"}, {})
time.sleep(600)  # something keeps the job alive after the report
"""


def test_the_job_ends_once_the_runner_has_reported(session, tmp_path):
    root = session.job_root("stay")
    (root / "in" / "stay.py").write_text(STAY_AFTER_REPORT)
    spec = SandboxSpec(argv=[str(session.kenv.python), "/opt/grader/in/stay.py", OUT_FD],
                       job_dir=root / "job", mounts=[Mount(root / "in", "/opt/grader/in")] + session.mounts(),
                       env=session.env(), timeout_s=60)
    out = run_sandboxed(spec, session.kenv, session.support)
    assert out.reported and not out.timed_out
    info, _ = protocol.decode(out.result, 1 << 20)
    assert info["message"] == "done"


# --- item 1: host memory through returned arrays ---------------------------------------------
BOMB = """
import numpy, zipfile
_savez = numpy.savez
def bomb_savez(file, *args, **kw):
    _savez(file, *args, **kw)
    with zipfile.ZipFile(file, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("c_extra.npy", "w", force_zip64=True) as f:
            numpy.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (%d,)})
            zeros = bytes(16 << 20)
            for _ in range(%d):
                f.write(zeros)
"""


def test_a_deflate_bomb_in_returned_arrays_is_refused_before_it_is_inflated(session):
    src = BOMB % ((1 << 30) // 8, 64) + """
def probe():
    numpy.savez = bomb_savez
    return numpy.ones(3)
"""
    run, val = call(session, src, timeout_s=60)
    assert "arrays_refused" in run.info, run.message
    assert run.status == "crashed" and "refused" in run.message
    assert run.arrays == {}


# --- item 4: /dev/shm and the job's tmpfs under the watchdog ---------------------------------
SHM = """
import os
def probe():
    written = 0
    try:
        with open("/dev/shm/fill", "wb") as f:
            for _ in range(1536):
                f.write(b"\\1" * (1 << 20)); written += 1
    except OSError:
        pass
    try:
        open("/dev/evil", "wb").write(b"x"); dev = 1.0
    except OSError:
        dev = 0.0
    return [float(written), dev]
"""


def test_dev_shm_is_bounded_by_the_job_memory_under_the_watchdog(tmp_path):
    s = SandboxSession.create(workroot=tmp_path, limits_mechanism="watchdog")
    try:
        run, val = call(s, SHM, memory_mb=512, timeout_s=60)
    finally:
        s.close()
    if run.status == "memory":  # the watchdog may get there first: also bounded
        return
    assert run.status == "ok", run.message
    written, dev = val
    assert written <= 512 // 4, f"{written} MiB in /dev/shm with a 512 MiB job"
    assert dev == 0.0, "/dev itself is writable"


FILL_JOB = """
import time
with open("/job/fill", "wb") as f:
    for _ in range(900):
        f.write(b"\\1" * (1 << 20))
time.sleep(60)
"""


def test_files_in_the_job_tmpfs_count_as_memory_under_the_watchdog(tmp_path):
    s = SandboxSession.create(workroot=tmp_path, limits_mechanism="watchdog")
    try:
        root = s.job_root("fill")
        spec = SandboxSpec(argv=[sys.executable if not s.sandboxed else str(s.kenv.python), "-c", FILL_JOB],
                           job_dir=root / "job", env=s.env(), timeout_s=60, memory_mb=400, disk_mb=1024)
        out = run_sandboxed(spec, s.kenv, s.support, limits_mechanism="watchdog")
    finally:
        s.close()
    assert out.oom_killed and not out.timed_out


# --- item 8: hidden test images only while the probe runs ------------------------------------
@pytest.mark.parametrize("when", ["cell", "thread"])
def test_hidden_images_are_not_in_the_sandbox_while_student_code_runs(tmp_path, make_ctx, when):
    from conftest import NUMPY_MODEL, SOFTMAX, notebook, submission
    from grader.grade import grade_submission

    look = """
import os, zipfile
def _look():  # any readable file holding the hidden images (an npz, or a zip of npz)
    found = []
    for top in ("/opt", "/job", "/tmp", "/dev/shm"):
        for d, _, files in os.walk(top):
            for f in files:
                try:
                    with zipfile.ZipFile(os.path.join(d, f)) as z:
                        names = z.namelist()
                except Exception:
                    continue
                if "hidden.npy" in names or any(n.startswith("probe_") for n in names):
                    found.append(os.path.join(d, f))
    return found
"""
    if when == "cell":
        cell = look + "print('FOUND', _look())"
    else:  # a thread that keeps looking until the kernel ends: it sees them only at probe time
        cell = look + """
import threading, time
seen = []
def _watch():
    while True:
        if _look():
            seen.append(time.monotonic()); return
        time.sleep(0.01)
threading.Thread(target=_watch, daemon=True).start()
"""
    last = "print('SEEN-BEFORE-END', bool(seen))" if when == "thread" else "pass"
    nb = notebook("import numpy as np", cell, SOFTMAX, NUMPY_MODEL, "import time; time.sleep(0.3)\n" + last)
    res = grade_submission(submission(tmp_path, nb), make_ctx())
    assert res.status == "graded", res.message
    assert "accuracy" in res.metrics  # the probe still found its inputs
    ex = nbformat.read(tmp_path / "executed" / "1000001.ipynb", 4)
    text = "".join(o.get("text", "") for c in ex.cells for o in c.get("outputs", []))
    if when == "cell":
        assert "FOUND []" in text
    else:
        assert "SEEN-BEFORE-END False" in text


def test_mountinfo_shows_no_path_of_the_instructors(tmp_path, make_ctx, standin):
    from conftest import NUMPY_MODEL, SOFTMAX, notebook, submission
    from grader.grade import grade_submission

    cell = "print('MOUNTINFO'); print(open('/proc/self/mountinfo').read())"
    res = grade_submission(submission(tmp_path, notebook("import numpy as np", cell, SOFTMAX, NUMPY_MODEL)),
                           make_ctx())
    assert res.status == "graded", res.message
    ex = nbformat.read(tmp_path / "executed" / "1000001.ipynb", 4)
    text = "".join(o.get("text", "") for c in ex.cells for o in c.get("outputs", []))
    assert "MOUNTINFO" in text and "/opt/grader/data/mnist.npz" in text
    assert str(Path(standin["mnist.npz"]).parent) not in text  # the dataset cache (the home)
