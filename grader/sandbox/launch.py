"""Start one job in bubblewrap under its limits, wait with a wall-clock deadline, tear it down.

Whatever the student code does, this returns a SandboxOutcome and leaves no process behind:
the sandbox has its own pid namespace (its init dies with bwrap, taking every process in it),
bwrap dies with us (--die-with-parent), and on timeout we SIGKILL the whole cgroup and the
process group. Results come back over a pipe only the runner holds (see runner/protocol.py).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SandboxUnavailable
from .gpus import device_args, gpu_env
from .kernel_env import KernelEnv
from .abort import RunningJobs
from .limits import JobLimits

OUT_FD = "{OUT_FD}"  # placeholder in argv for the result pipe's fd number
SANDBOX_UID = 1000
JOB = "/job"

BWRAP_INSTALL_HINT = (
    "bubblewrap (bwrap) is not installed; the grader runs student code only inside it.\n"
    "  Debian/Ubuntu: sudo apt-get install bubblewrap    Fedora: sudo dnf install bubblewrap\n"
    "  (or run ./scripts/setup.sh as root). To run WITHOUT any sandbox, on code you trust, pass\n"
    "  --unsafe-no-sandbox.")


@dataclass
class Mount:
    src: Path  # on the host
    dest: str  # inside the sandbox
    rw: bool = False


@dataclass
class SandboxSpec:
    """What to run, with which files and limits. Paths in argv/env/cwd are sandbox paths."""

    argv: list[str]
    job_dir: Path  # host folder standing in for /job when running without bwrap
    mounts: list[Mount] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = JOB
    timeout_s: float = 600
    memory_mb: int = 4096
    pids_max: int = 512
    tmp_mb: int = 256
    disk_mb: int = 1024  # /job is a tmpfs of this size: a disk-filling notebook hits its end
    max_result_bytes: int = 50 << 20
    log_path: Path | None = None  # bwrap's and the runner's own stdout/stderr
    gpu: str | None = None  # the one GPU this job may use (see gpus.py), None: CPU only


@dataclass
class SandboxOutcome:
    returncode: int | None
    timed_out: bool
    oom_killed: bool
    pids_exhausted: bool
    wall_s: float
    result: bytes
    result_overflow: bool
    log_tail: str
    mechanism: str  # how limits were enforced


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if not path:
        raise SandboxUnavailable(BWRAP_INSTALL_HINT)
    return path


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
              "/etc/fonts", "/etc/alternatives", "/etc/mime.types", "/etc/matplotlibrc",
              # CPU topology and cache sizes, which oneDNN/OpenBLAS read to size their threads
              # and blocks (read-only facts about the hardware, nothing of the host's state)
              "/sys/devices/system/cpu"):
        args += ["--ro-bind-try", f, f]
    return args


def bwrap_argv(spec: SandboxSpec, kenv: KernelEnv, support: Path) -> list[str]:
    """The full bwrap command line (pure: easy to test and to read in `grader doctor`)."""
    a = [bwrap_path(),
         "--unshare-all", "--unshare-user", "--disable-userns",
         "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
         "--hostname", "grader-sandbox", "--die-with-parent", "--new-session",
         "--cap-drop", "ALL"]
    a += _system_mounts()
    for f in ("passwd", "group", "hosts", "nsswitch.conf"):
        a += ["--ro-bind", str(support / "etc" / f), f"/etc/{f}"]
    a += ["--proc", "/proc", "--dev", "/dev"] + device_args(spec.gpu)
    a += ["--size", str(spec.tmp_mb << 20), "--tmpfs", "/tmp"]
    for p in kenv.prefixes:
        if not str(p).startswith("/usr/"):
            a += ["--ro-bind", str(p), str(p)]
    for m in spec.mounts:
        a += ["--bind" if m.rw else "--ro-bind", str(m.src), m.dest]
    # /job: the only writable place, a size-capped tmpfs (its pages count as the job's memory);
    # inputs come in read-only under /opt/grader/in and the runner copies what it needs.
    a += ["--size", str(spec.disk_mb << 20), "--tmpfs", JOB]
    for d in ("work", "home", "scratch"):
        a += ["--dir", f"{JOB}/{d}"]
    a += ["--remount-ro", "/",  # the sandbox's own root: nothing writable but /job and /tmp
          "--chdir", spec.cwd, "--clearenv"]
    for k, v in spec.env.items():
        a += ["--setenv", k, v]
    return a + ["--"] + spec.argv


def _translate(value: str, table: list[tuple[str, str]]) -> str:
    for dest, src in table:
        if value == dest or value.startswith(dest + "/"):
            return src + value[len(dest):]
    return value


def _unsandboxed(spec: SandboxSpec) -> tuple[list[str], dict[str, str], str]:
    """Same job without bwrap: sandbox paths mapped back to host paths (trusted code only)."""
    table = sorted([(m.dest, str(m.src)) for m in spec.mounts] + [(JOB, str(spec.job_dir))],
                   key=lambda t: -len(t[0]))
    argv = [_translate(x, table) for x in spec.argv]
    env = {k: ":".join(_translate(p, table) for p in v.split(":")) for k, v in spec.env.items()}
    return argv, env, _translate(spec.cwd, table)


class _Reader(threading.Thread):
    """Drains the result pipe, keeping at most `cap` bytes (the rest is read and dropped)."""

    def __init__(self, fd: int, cap: int):
        super().__init__(daemon=True)
        self.fd, self.cap = fd, cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def run(self) -> None:
        with os.fdopen(self.fd, "rb", buffering=0) as f:
            while True:
                chunk = f.read(1 << 16)
                if not chunk:
                    return
                if self.size + len(chunk) > self.cap:
                    self.overflow = True
                    continue
                self.chunks.append(chunk)
                self.size += len(chunk)


def _tail(path: Path | None, n: int = 4000) -> str:
    if not path or not path.exists():
        return ""
    with open(path, "rb") as f:
        f.seek(max(path.stat().st_size - n, 0))
        return f.read().decode("utf-8", "replace")


def run_sandboxed(spec: SandboxSpec, kenv: KernelEnv, support: Path, *, sandboxed: bool = True,
                  limits_mechanism: str | None = None, running: RunningJobs | None = None) -> SandboxOutcome:
    if running is not None:
        running.check()  # interrupted: start nothing new
    limits = JobLimits.create(spec.memory_mb, spec.pids_max, limits_mechanism)
    r, w = os.pipe()
    os.set_inheritable(w, True)
    spec.env = {**spec.env, **gpu_env(spec.gpu)}
    keep_fds = [w]
    if sandboxed:
        full = [str(w) if x == OUT_FD else x for x in bwrap_argv(spec, kenv, support)]
        # Options go through --args FD: the sandbox's pid 1 is bwrap, and its command line
        # (readable in /proc/1/cmdline) would otherwise show every host path we bind.
        cut = full.index("--")
        options = tempfile.TemporaryFile()
        options.write(b"\0".join(x.encode() for x in full[1:cut]) + b"\0")
        options.seek(0)
        keep_fds.append(options.fileno())
        argv = [full[0], "--args", str(options.fileno())] + full[cut:]
        env, cwd = dict(os.environ), None
    else:
        argv, env, cwd = _unsandboxed(spec)
        argv = [str(w) if x == OUT_FD else x for x in argv]
    if limits.procs_files:  # join the cgroups before exec, so every descendant is inside
        env = {**env, "GRADER_CGROUP_PROCS": " ".join(limits.procs_files)}
        argv = ["/bin/sh", "-c",
                'for p in $GRADER_CGROUP_PROCS; do echo $$ > "$p" || exit 125; done; '
                'unset GRADER_CGROUP_PROCS; exec "$@"', "sh"] + argv
    log = open(spec.log_path, "wb") if spec.log_path else subprocess.DEVNULL
    reader = _Reader(r, spec.max_result_bytes)
    t0 = time.monotonic()
    timed_out = False
    try:
        try:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=log, pass_fds=tuple(keep_fds), start_new_session=True)
        except OSError as exc:
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from None
        finally:
            os.close(w)
            if sandboxed:
                options.close()
        reader.start()

        def kill() -> None:
            limits.kill_all()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

        limits.watch(proc.pid, kill)
        token = running.started(kill) if running is not None else None
        try:
            proc.wait(timeout=spec.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill()
            proc.wait()
        finally:
            if token is not None:
                running.finished(token)
        wall = time.monotonic() - t0
        limits.kill_all()  # nothing may outlive the job
        reader.join(timeout=10)
        return SandboxOutcome(
            returncode=proc.returncode, timed_out=timed_out, oom_killed=limits.oom_killed(),
            pids_exhausted=limits.pids_exhausted(), wall_s=round(wall, 3),
            result=b"".join(reader.chunks), result_overflow=reader.overflow,
            log_tail=_tail(spec.log_path), mechanism=limits.mechanism)
    finally:
        if log is not subprocess.DEVNULL:
            log.close()
        limits.close()
