"""Start one job in bubblewrap under its limits, wait with a wall-clock deadline, tear it down.

Whatever the student code does, this returns a SandboxOutcome and leaves no process behind:
the sandbox has its own pid namespace (its init dies with bwrap, taking every process in it),
bwrap dies with us (--die-with-parent), and on timeout we SIGKILL the whole cgroup and the
process group. Results come back over a pipe only the runner holds (see runner/protocol.py).

bwrap's own pid 1 in the sandbox is dumpable and holds the job's pipes, so: a seccomp filter
denies ptrace to every process of the job (seccomp.py), /proc/1 is covered by an empty mode-0
tmpfs (no /proc/1/mem, /proc/1/fd), its stdout/stderr are a pipe we drain with a cap (no host
file), and the job ends as soon as the runner's report is complete, whatever is still running.
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
from ..runner import protocol
from .gpus import device_args, gpu_env
from .kernel_env import KernelEnv
from .abort import RunningJobs
from .limits import JobLimits
from .seccomp import filter_program

OUT_FD = "{OUT_FD}"  # placeholder in argv for the result pipe's fd number
SECCOMP_FD = "{SECCOMP_FD}"  # placeholder for the seccomp program's fd (see seccomp.py)
LOG_CAP = 64 << 10  # bytes of bwrap's and the runner's own stdout/stderr kept (the tail)
REPORTED_GRACE_S = 3.0  # after the runner's complete report, how long the job may take to end
SANDBOX_UID = 1000
JOB = "/job"
TMPFS = (JOB, "/tmp", "/dev/shm")  # the sandbox's memory-backed mounts

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
    log_path: Path | None = None  # where the tail of bwrap's and the runner's output is saved
    gpu: str | None = None  # the one GPU this job may use (see gpus.py), None: CPU only
    fds: dict[str, int] = field(default_factory=dict)  # argv placeholder -> open fd to pass in


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
    reported: bool = False  # the runner's report arrived complete (the job was then ended)


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
    if filter_program() is not None:
        a += ["--seccomp", SECCOMP_FD]
    a += _system_mounts()
    for f in ("passwd", "group", "hosts", "nsswitch.conf"):
        a += ["--ro-bind", str(support / "etc" / f), f"/etc/{f}"]
    a += ["--proc", "/proc", "--dev", "/dev"] + device_args(spec.gpu)
    # bwrap's pid 1 out of reach: no /proc/1/mem to write, no /proc/1/fd to reopen
    a += ["--perms", "0000", "--size", "4096", "--tmpfs", "/proc/1"]
    # /dev itself read-only; /dev/shm a tmpfs inside the job's memory limit (see shm_mb)
    a += ["--size", str(shm_mb(spec) << 20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
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


def shm_mb(spec: SandboxSpec) -> int:
    """/dev/shm's size: a quarter of the job's memory, at most 512 MiB (shared memory is the
    job's memory; the watchdog also counts what lies in the job's tmpfs, see limits.py)."""
    return max(16, min(spec.memory_mb // 4, 512))


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


def _chunks(fd: int):
    """What a pipe delivers until its writers are gone (the fd is closed afterwards)."""
    with os.fdopen(fd, "rb", buffering=0) as f:
        while chunk := f.read(1 << 16):
            yield chunk


class _Reader(threading.Thread):
    """Drains the result pipe, keeping at most `cap` bytes (the rest is read and dropped);
    sets `done` once a whole report has arrived (its header says how long it is)."""

    def __init__(self, fd: int, cap: int, done: threading.Event):
        super().__init__(daemon=True)
        self.fd, self.cap, self.done = fd, cap, done
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False
        self.expected: float | None = None  # the report's length, once its header is in
        self.complete = False

    def run(self) -> None:
        for chunk in _chunks(self.fd):
            if self.size + len(chunk) > self.cap:
                self.overflow = True
                continue
            self.chunks.append(chunk)
            self.size += len(chunk)
            if self.expected is None:
                self.expected = protocol.expected_length(b"".join(self.chunks))
            if not self.complete and self.expected is not None and self.size >= self.expected:
                self.complete = True
                self.done.set()


class _Tail(threading.Thread):
    """Drains bwrap's stdout/stderr pipe, keeping the last `cap` bytes (no host file)."""

    def __init__(self, fd: int, cap: int = LOG_CAP):
        super().__init__(daemon=True)
        self.fd, self.cap = fd, cap
        self.buf = bytearray()

    def run(self) -> None:
        for chunk in _chunks(self.fd):
            self.buf += chunk
            if len(self.buf) > 2 * self.cap:
                del self.buf[:-self.cap]

    def text(self) -> str:
        return bytes(self.buf[-self.cap:]).decode("utf-8", "replace")


def run_sandboxed(spec: SandboxSpec, kenv: KernelEnv, support: Path, *, sandboxed: bool = True,
                  limits_mechanism: str | None = None, running: RunningJobs | None = None) -> SandboxOutcome:
    if running is not None:
        running.check()  # interrupted: start nothing new
    limits = JobLimits.create(spec.memory_mb, spec.pids_max, limits_mechanism)
    r, w = os.pipe()
    os.set_inheritable(w, True)
    spec.env = {**spec.env, **gpu_env(spec.gpu)}
    keep_fds = [w] + list(spec.fds.values())
    for fd in spec.fds.values():
        os.set_inheritable(fd, True)
    spec.argv = [str(spec.fds[x]) if x in spec.fds else x for x in spec.argv]
    seccomp = None
    if sandboxed:
        full = [str(w) if x == OUT_FD else x for x in bwrap_argv(spec, kenv, support)]
        if SECCOMP_FD in full:
            seccomp = tempfile.TemporaryFile()
            seccomp.write(filter_program())
            seccomp.seek(0)
            keep_fds.append(seccomp.fileno())
            full = [str(seccomp.fileno()) if x == SECCOMP_FD else x for x in full]
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
    log_r, log_w = os.pipe()
    done = threading.Event()  # the runner reported, or bwrap exited
    reader = _Reader(r, spec.max_result_bytes, done)
    tail = _Tail(log_r)
    t0 = time.monotonic()
    timed_out = False
    try:
        try:
            proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log_w,
                                    stderr=log_w, pass_fds=tuple(keep_fds), start_new_session=True)
        except OSError as exc:
            os.close(log_r)
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from None
        finally:
            os.close(w)
            os.close(log_w)
            if sandboxed:
                options.close()
            if seccomp is not None:
                seccomp.close()
        reader.start()
        tail.start()
        threading.Thread(target=lambda: (proc.wait(), done.set()), daemon=True).start()

        def kill() -> None:
            limits.kill_all()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

        limits.watch(proc.pid, kill, TMPFS if sandboxed else ())
        token = running.started(kill) if running is not None else None
        try:
            if not done.wait(timeout=spec.timeout_s):
                timed_out = True
                kill()
            elif reader.complete:
                # The runner has reported: whatever else still runs (a stopped pid 1, a student's
                # daemon) gets a short grace, then the job ends; the report stands.
                try:
                    proc.wait(timeout=REPORTED_GRACE_S)
                except subprocess.TimeoutExpired:
                    kill()
            proc.wait()
        finally:
            if token is not None:
                running.finished(token)
        wall = time.monotonic() - t0
        limits.kill_all()  # nothing may outlive the job
        reader.join(timeout=10)
        tail.join(timeout=2)  # a stray unsandboxed child may hold the pipe: not waited for
        log_tail = tail.text()
        if spec.log_path:
            spec.log_path.write_text(log_tail, encoding="utf-8")
        return SandboxOutcome(
            returncode=proc.returncode, timed_out=timed_out, oom_killed=limits.oom_killed(),
            pids_exhausted=limits.pids_exhausted(), wall_s=round(wall, 3),
            result=b"".join(reader.chunks), result_overflow=reader.overflow,
            log_tail=log_tail, mechanism=limits.mechanism, reported=reader.complete)
    finally:
        limits.close()
