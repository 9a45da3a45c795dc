"""The sandbox really isolates: no network, no writes outside the job dir, non-root, own pid
namespace, limits enforced, nothing left running. Each test runs real code in real bwrap."""
from __future__ import annotations

import os
import socket
import textwrap
import threading
from pathlib import Path

import numpy as np
import psutil
import pytest

from grader.errors import SandboxUnavailable
from grader.sandbox import SandboxSession, run_functions

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    s = SandboxSession.create(workroot=tmp_path_factory.mktemp("jobs"))
    yield s
    s.close()


def call(session, source: str, fn: str = "probe", timeout_s: float = 20, **kw):
    """Run `fn()` from `source` in the sandbox; returns (RunOutput, value or None)."""
    run = run_functions(session, textwrap.dedent(source), [{"id": "c", "function": fn, "args": []}],
                        {"unused": np.zeros(1)}, name="t", timeout_s=timeout_s, **kw)
    val = run.arrays.get("c")
    return run, (None if val is None else val.tolist())


def test_unit_job_returns_values_and_errors(session):
    src = """
    import numpy as np
    def probe():
        return np.array([1.0, 2.0])
    """
    run, val = call(session, src)
    assert run.status == "ok"
    assert val == [1.0, 2.0]


def test_no_network_not_even_the_hosts_loopback(session):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    port = srv.getsockname()[1]
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(srv.accept()), daemon=True)
    t.start()
    src = f"""
    import socket
    def probe():
        results = []
        for host, port in (("127.0.0.1", {port}), ("1.1.1.1", 53), ("pypi.org", 443)):
            try:
                socket.create_connection((host, port), timeout=2).close()
                results.append(1.0)
            except OSError:
                results.append(0.0)
        try:
            socket.getaddrinfo("pypi.org", 443)
            results.append(1.0)
        except OSError:
            results.append(0.0)
        return results
    """
    run, val = call(session, src)
    srv.close()
    assert run.status == "ok", run.message
    assert val == [0.0, 0.0, 0.0, 0.0]  # host loopback, IP, hostname, DNS: all fail
    assert not accepted


def test_writes_outside_the_job_dir_fail(session, tmp_path):
    repo = Path(__file__).resolve().parent.parent
    targets = [tmp_path / "escape.txt", Path("/root/escape.txt"), repo / "escape.txt",
               Path("/usr/escape.txt"), Path("/etc/escape.txt")]
    src = f"""
    def probe():
        out = []
        for path in {[str(t) for t in targets]!r} + ["/job/work/inside.txt"]:
            try:
                with open(path, "w") as f:
                    f.write("x")
                out.append(1.0)
            except OSError:
                out.append(0.0)
        return out
    """
    preexisting = {t for t in targets if t.exists()}
    created: list[Path] = []
    try:
        run, val = call(session, src)
    finally:  # if the protection is broken, don't leave the evidence on the host
        created = [t for t in targets if t.exists() and t not in preexisting]
        for t in created:
            t.unlink()
    assert created == [], f"writes reached the host: {created}"
    assert run.status == "ok", run.message
    assert val[-1] == 1.0  # the job dir itself is writable
    for t, wrote in zip(targets, val[:-1]):
        assert not t.exists(), f"{t} was written on the host"
        # The sandbox's /tmp is a private tmpfs: a path under it may be writable *inside*
        # (e.g. a repo cloned to /tmp), but never reaches the host. Everything else is read-only.
        if not str(t).startswith("/tmp/"):
            assert wrote == 0.0, f"{t} was writable inside the sandbox"


def test_host_secrets_and_grader_files_are_not_visible(session):
    repo = Path(__file__).resolve().parent.parent
    src = f"""
    import os
    def probe():
        paths = ["/etc/shadow", "/root/.ssh", {str(repo / 'rubrics')!r}, {str(repo / 'grader')!r},
                 os.path.expanduser("~/.cache")]
        return [1.0 if os.path.exists(p) else 0.0 for p in paths]
    """
    run, val = call(session, src)
    assert run.status == "ok", run.message
    assert val == [0.0] * 5


def test_runs_as_non_root_in_its_own_pid_namespace(session):
    src = """
    import os
    def probe():
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        return [os.getuid(), os.getgid(), max(pids), len(pids)]
    """
    run, val = call(session, src)
    assert run.status == "ok", run.message
    uid, gid, max_pid, n = val
    assert uid != 0 and gid != 0
    assert max_pid < 50 and n < 10  # a fresh pid namespace: only our few processes


def test_wall_clock_timeout_kills_everything(session):
    marker = "4242.125"
    src = f"""
    import signal, subprocess, time
    def probe():
        subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # defeat the per-case alarm
        while True:
            time.sleep(0.1)
    """
    run, _ = call(session, src, timeout_s=3)
    assert run.status == "timeout"
    assert "time limit" in run.message
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []


def test_background_processes_do_not_outlive_the_job(session):
    marker = "4343.25"
    src = f"""
    import os, subprocess
    def probe():
        if os.fork() == 0:
            os.setsid()
            subprocess.Popen(["sleep", "{marker}"])
            os._exit(0)
        return 1.0
    """
    run, val = call(session, src)
    assert run.status == "ok" and val == 1.0
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []


@pytest.mark.parametrize("mechanism", ["auto", "watchdog"])
def test_memory_bomb_is_killed_and_reported(tmp_path, mechanism):
    s = SandboxSession.create(workroot=tmp_path, limits_mechanism=None if mechanism == "auto" else mechanism)
    src = """
    def probe():
        blocks = []
        for _ in range(400):
            blocks.append(bytearray(10 * 2**20))
            blocks[-1][::4096] = b"x" * len(blocks[-1][::4096])
        return len(blocks)
    """
    run, val = call(s, src, memory_mb=300, timeout_s=60)
    assert run.status == "memory", (run.status, run.message)
    assert "memory limit 300 MB" in run.message
    assert val is None


def test_fork_bomb_is_contained(session):
    src = """
    import os
    def probe():
        n = 0
        try:
            for _ in range(10000):
                if os.fork() == 0:
                    import time
                    time.sleep(30)
                    os._exit(0)
                n += 1
        except OSError:
            return [n, 1.0]
        return [n, 0.0]
    """
    run, val = call(session, src, timeout_s=30, pids_max=40)
    assert val is not None and val[1] == 1.0  # fork failed at the limit
    assert val[0] < 40


def test_missing_bwrap_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        SandboxSession.create(workroot=tmp_path)


def test_kernel_environment_has_what_notebooks_commonly_import(session):
    src = """
    def probe():
        import matplotlib, sklearn, pandas, PIL, numpy
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.plot([1, 2]); plt.savefig("/job/work/fig.png")
        return 1.0
    """
    run, val = call(session, src, timeout_s=60)
    assert run.status == "ok" and val == 1.0, run.info


def test_unsafe_no_sandbox_runs_the_same_job_without_bwrap(tmp_path):
    s = SandboxSession.create(workroot=tmp_path, sandboxed=False)
    src = """
    import os
    def probe():
        return [float(os.getuid()), float(os.path.isdir("/job"))]
    """
    run, val = call(s, src)
    assert run.status == "ok", run.message
    assert val == [float(os.getuid()), 0.0]  # really outside: host uid, no /job mount


def test_fork_bomb_under_the_watchdog_fallback(tmp_path):
    """Without usable cgroups (forced here) the watchdog counts the job's processes and kills
    the whole sandbox when they pass pids_max."""
    s = SandboxSession.create(workroot=tmp_path, limits_mechanism="watchdog")
    marker = "4545.75"
    src = f"""
    import os, time
    def probe():
        for _ in range(1500):
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "{marker}"])  # a cmdline we can look for
            time.sleep(0.002)
        return 1.0
    """
    run, val = call(s, src, timeout_s=60, pids_max=40)
    assert run.status == "crashed" and "process limit" in run.message
    assert val is None
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert left == []


@pytest.mark.parametrize("sandboxed", [True, False])
def test_offline_keras_files_are_reachable_with_and_without_the_sandbox(tmp_path, sandboxed):
    import nbformat

    from grader.sandbox import run_notebook

    data = tmp_path / "mnist.npz"
    np.savez(data, x_train=np.zeros((2, 28, 28), np.uint8))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import json, os, numpy as np\n"
        "m = json.load(open(os.environ['GRADER_OFFLINE_FILES']))\n"
        "print('SHAPE', np.load(m['mnist.npz'])['x_train'].shape)")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    s = SandboxSession.create(workroot=tmp_path / "jobs", sandboxed=sandboxed)
    run = run_notebook(s, path, name="offline", datasets={"mnist.npz": data}, timeout_s=60)
    out = nbformat.read(run.executed_notebook, 4).cells[0].outputs
    assert run.status == "ok" and "SHAPE (2, 28, 28)" in out[0]["text"], out
