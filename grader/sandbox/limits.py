"""Memory and process-count limits for one job: cgroups where the machine has them, else a
watchdog.

cgroup v1 (our machines: root may create groups under /sys/fs/cgroup/memory and /pids) and v2
(most servers) are enforced by the kernel: a memory bomb is OOM-killed, a fork bomb gets
"Cannot fork". Without usable cgroups (unprivileged, no delegation) a thread polls the job's
process tree with psutil and kills the whole sandbox when it goes over; that is coarser (a fast
allocation can overshoot between polls) but still ends the job with a clear status. Files in
the sandbox's tmpfs mounts (/job, /tmp, /dev/shm) are memory too, not in any RSS: the watchdog
adds what they hold (read through /proc/<pid>/root of a process in the sandbox).
"""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path(os.environ.get("GRADER_CGROUP_ROOT", "/sys/fs/cgroup"))
_PREFIX = "dl-grader"


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _v1_usable() -> bool:
    for ctl in ("memory", "pids"):
        base = CGROUP_ROOT / ctl
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            return False
    return True


def _v2_root() -> Path | None:
    for cand in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        ctrl = cand / "cgroup.controllers"
        try:
            if {"memory", "pids"} <= set(ctrl.read_text().split()) and os.access(cand, os.W_OK):
                return cand
        except OSError:
            continue
    return None


def detect_mechanism(force: str | None = None) -> str:
    """'cgroup-v1', 'cgroup-v2' or 'watchdog' ($GRADER_LIMITS=watchdog forces the fallback)."""
    force = force or os.environ.get("GRADER_LIMITS")
    if force in ("watchdog", "cgroup-v1", "cgroup-v2"):
        return force
    if _v1_usable():
        return "cgroup-v1"
    if _v2_root() is not None:
        return "cgroup-v2"
    return "watchdog"


@dataclass
class JobLimits:
    """One job's limits; `procs_files` are where the launched process must write its pid."""

    memory_mb: int
    pids_max: int
    mechanism: str = "watchdog"
    groups: list[Path] = field(default_factory=list)
    oom_watchdog: bool = False  # set by the watchdog when it killed for memory
    pids_watchdog: bool = False

    @property
    def procs_files(self) -> list[str]:
        return [str(g / "cgroup.procs") for g in self.groups]

    # --- set-up / tear-down ---------------------------------------------------------------
    @classmethod
    def create(cls, memory_mb: int, pids_max: int, mechanism: str | None = None) -> "JobLimits":
        lim = cls(memory_mb=memory_mb, pids_max=pids_max, mechanism=detect_mechanism(mechanism))
        name = f"{_PREFIX}-{uuid.uuid4().hex[:12]}"
        try:
            if lim.mechanism == "cgroup-v1":
                mem = CGROUP_ROOT / "memory" / name
                pids = CGROUP_ROOT / "pids" / name
                mem.mkdir()
                lim.groups.append(mem)
                _write(mem / "memory.limit_in_bytes", str(memory_mb << 20))
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    try:  # no swapping around the limit, where swap accounting is on
                        _write(mem / "memory.memsw.limit_in_bytes", str(memory_mb << 20))
                    except OSError:
                        pass
                pids.mkdir()
                lim.groups.append(pids)
                _write(pids / "pids.max", str(pids_max))
            elif lim.mechanism == "cgroup-v2":
                root = _v2_root()
                assert root is not None
                try:
                    _write(root / "cgroup.subtree_control", "+memory +pids")
                except OSError:
                    pass
                g = root / name
                g.mkdir()
                lim.groups.append(g)
                _write(g / "memory.max", str(memory_mb << 20))
                try:
                    _write(g / "memory.swap.max", "0")
                except OSError:
                    pass
                _write(g / "pids.max", str(pids_max))
        except OSError:
            lim.close()
            lim = cls(memory_mb=memory_mb, pids_max=pids_max, mechanism="watchdog")
        return lim

    def oom_killed(self) -> bool:
        if self.oom_watchdog:
            return True
        for g in self.groups:
            for fname, key in (("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill")):
                try:
                    for line in (g / fname).read_text().splitlines():
                        k, _, v = line.partition(" ")
                        if k == key and int(v) > 0:
                            return True
                except (OSError, ValueError):
                    continue
        return False

    def pids_exhausted(self) -> bool:
        if self.pids_watchdog:
            return True
        for g in self.groups:
            for fname in ("pids.events",):
                try:
                    text = (g / fname).read_text()
                    if any(line.startswith("max ") and int(line.split()[1]) > 0 for line in text.splitlines()):
                        return True
                except (OSError, ValueError, IndexError):
                    continue
        return False

    def pids(self) -> set[int]:
        out: set[int] = set()
        for g in self.groups:
            try:
                out.update(int(x) for x in (g / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return out

    def kill_all(self) -> None:
        """SIGKILL everything still in the job's groups (until they are empty)."""
        for g in self.groups:
            kill = g / "cgroup.kill"
            if kill.exists():
                try:
                    _write(kill, "1")
                except OSError:
                    pass
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def close(self) -> None:
        self.kill_all()
        for g in reversed(self.groups):
            for _ in range(100):
                try:
                    g.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.groups.clear()

    # --- the fallback ---------------------------------------------------------------------
    def watch(self, pid: int, kill, tmpfs: tuple[str, ...] = ()) -> threading.Thread | None:
        """Start the psutil watchdog for the process tree under `pid` (no-op with cgroups);
        `tmpfs`: the sandbox's memory-backed mounts, counted with the RSS."""
        if self.mechanism != "watchdog":
            return None
        import psutil

        limit = self.memory_mb << 20

        def loop() -> None:
            try:
                root = psutil.Process(pid)
            except psutil.Error:
                return
            while True:
                try:
                    if not root.is_running() or root.status() == psutil.STATUS_ZOMBIE:
                        return
                    procs = [root] + root.children(recursive=True)
                except psutil.Error:
                    return
                rss = tmpfs_used(procs[1:], tmpfs)
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                if rss > limit:
                    self.oom_watchdog = True
                    kill()
                    return
                if len(procs) > self.pids_max:
                    self.pids_watchdog = True
                    kill()
                    return
                time.sleep(0.2)

        t = threading.Thread(target=loop, name=f"watchdog-{pid}", daemon=True)
        t.start()
        return t


def tmpfs_used(procs, mounts: tuple[str, ...]) -> int:
    """Bytes held in the sandbox's tmpfs `mounts`, seen through the first process whose root
    we may read (bwrap's pid 1 is dumpable; the runner is not). 0 if none can be read."""
    for p in procs:
        try:
            total = 0
            for m in mounts:
                st = os.statvfs(f"/proc/{p.pid}/root{m}")
                total += (st.f_blocks - st.f_bfree) * st.f_frsize
            return total
        except OSError:
            continue
    return 0
