"""`grader doctor`: what the sandbox will use on this machine, and whether it works."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from .. import __version__

MECHANISMS = {
    "cgroup-v1": ("cgroup v1 memory.limit_in_bytes (kernel OOM kill)", "cgroup v1 pids.max"),
    "cgroup-v2": ("cgroup v2 memory.max (kernel OOM kill)", "cgroup v2 pids.max"),
    "watchdog": ("watchdog: psutil polls the job's RSS and kills the sandbox",
                 "RLIMIT_NPROC (unprivileged runs) + watchdog process count"),
}

# The doctor's test job: returns 1, whether ptrace is denied to it, and /dev/shm's size in MiB.
TEST_JOB = """
import ctypes, os
def f():
    libc = ctypes.CDLL(None, use_errno=True)
    denied = libc.ptrace(16, 1, 0, 0) != 0 and ctypes.get_errno() == 1  # PTRACE_ATTACH to pid 1
    st = os.statvfs("/dev/shm")
    return [1.0, float(denied), st.f_blocks * st.f_frsize / 2**20]
"""
SHM = {"cgroup-v1": "its pages are charged to the job's memory cgroup",
       "cgroup-v2": "its pages are charged to the job's memory cgroup",
       "watchdog": "the watchdog adds what /job, /tmp and /dev/shm hold to the RSS"}

TF_PROBE = ("import json, tensorflow as tf; print(json.dumps({'version': tf.__version__, "
            "'cuda_build': tf.test.is_built_with_cuda(), "
            "'gpus': [d.name for d in tf.config.list_physical_devices('GPU')]}))")


def add_parser(sub) -> None:
    d = sub.add_parser("doctor", help="show what the sandbox will use on this machine, and test it",
                       description="Print the sandbox backend, how each limit is enforced, the "
                       "kernel environment (Python, TensorFlow, CUDA) and the GPUs seen; then run "
                       "one tiny job in the sandbox. Exit status 1 if something needed is missing.")
    d.add_argument("--python", help="kernel interpreter to inspect (default: what `grader grade` "
                   "uses: the lean .venv-kernel/, else this one)")
    d.add_argument("--no-tensorflow", action="store_true", help="skip importing TensorFlow (~6 s)")
    d.add_argument("--cluster", metavar="ADDR", help="check every worker of a Dask cluster instead "
                   "(tcp://HOST:8786, local:N or slurm): sandbox, kernel, GPUs, data, a test job")
    d.add_argument("--cluster-config", type=Path, metavar="YAML", help="with --cluster slurm")
    d.set_defaults(func=run)


def kernel_origin(given: str | None, python: str | None, note: str) -> str:
    if given:
        return "given with --python"
    if python:
        return "the lean kernel environment (`make setup`; $GRADER_KERNEL_PYTHON picks another)"
    return note.removeprefix("kernel: ")


def _version(dist: str) -> str | None:
    """The grader's own venv's version of `dist`, to show where the kernel's differs."""
    from importlib.metadata import PackageNotFoundError, version

    for name in (dist, "tensorflow-cpu") if dist == "tensorflow" else (dist,):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def run(args) -> int:
    if args.cluster:
        from ..cluster.doctor import cluster_doctor

        return cluster_doctor(args.cluster, config=args.cluster_config, python=args.python,
                              tensorflow=not args.no_tensorflow)
    import shutil

    import numpy as np

    from ..errors import GraderError
    from ..sandbox import SandboxSession, run_functions
    from ..sandbox.gpus import gpu_names
    from ..sandbox.kernel_choice import choose_kernel_python
    from ..sandbox.kernel_env import probe_kernel_env
    from ..sandbox.limits import detect_mechanism
    from ..sandbox.seccomp import DENIED_NAMES, filter_program

    ok = True
    bwrap = shutil.which("bwrap")
    mech = detect_mechanism()
    mem, pids = MECHANISMS[mech]
    print(f"grader {__version__}")
    print(f"sandbox:    bubblewrap {bwrap or 'MISSING (apt-get install bubblewrap)'}")
    print(f"  network:  none (own network namespace, loopback only)")
    print(f"  memory:   {mem}")
    print(f"  procs:    {pids}")
    print(f"  disk:     /job is a size-capped tmpfs; RLIMIT_FSIZE per file")
    print(f"  time:     per cell (nbclient) and per notebook (host kills the sandbox)")
    print(f"  ptrace:   " + (f"denied by a seccomp filter ({', '.join(DENIED_NAMES)}); /proc/1 hidden"
                             if filter_program() else "NOT denied: no seccomp numbers for this CPU"))
    print(f"  /dev/shm: a tmpfs of a quarter of the job's memory (at most 512 MiB); {SHM[mech]}")
    ok &= bool(bwrap)
    python, note = choose_kernel_python(args.python)
    try:
        env = probe_kernel_env(python)
    except GraderError as exc:
        print(f"kernel:     {exc}")
        return 1
    print(f"kernel:     {env.python} (Python {env.version})")
    print(f"  env:      {kernel_origin(args.python, python, note)}")
    print(f"  binds:    {', '.join(str(p) for p in env.prefixes)}")
    for k, v in env.packages.items():
        mine = _version(k)
        differs = f"  (the grader's venv has {mine})" if v and mine and v != mine else ""
        print(f"  {k:12} {v or '-'}{differs}")
    if not args.no_tensorflow and env.packages.get("tensorflow"):
        out = subprocess.run([str(env.python), "-c", TF_PROBE], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        print(f"  tf:       {out.stdout.strip().splitlines()[-1] if out.returncode == 0 else 'import failed'}")
    gpus = gpu_names()
    print(f"gpus:       {'; '.join(gpus) if gpus else 'none (CPU runs)'}")
    print(f"cpus:       {os.cpu_count()}")
    if bwrap:
        session = SandboxSession.create(python)
        t = time.monotonic()
        try:
            res = run_functions(session, TEST_JOB, [{"id": "c", "function": "f", "args": []}],
                                {"x": np.zeros(1)}, name="doctor", timeout_s=60, memory_mb=2048)
        finally:
            session.close()
        out = res.arrays.get("c")
        works = res.status == "ok" and out is not None and out[0] == 1.0
        print(f"test job:   {'works' if works else 'FAILED: ' + res.message} "
              f"({time.monotonic() - t:.1f} s, limits: {res.info.get('limits')})")
        if works:
            print(f"  ptrace:   {'denied' if out[1] else 'ALLOWED'} in the test job; "
                  f"/dev/shm {out[2]:.0f} MiB for a 2048 MB job")
            ok &= bool(out[1]) or filter_program() is None
        ok &= works
    return 0 if ok else 1
