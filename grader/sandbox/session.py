"""A grading session's sandbox set-up, shared by all its jobs: the kernel environment, a
read-only support folder (the runner's code, the pinned kernelspec, minimal /etc files) and
the folder where per-job directories are made.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .abort import RunningJobs
from .gpus import GpuPool
from .kernel_env import KernelEnv, probe_kernel_env
from .launch import SANDBOX_UID, Mount, bwrap_path

KERNEL_NAME = "grader-python"
RUNNER_SRC = Path(__file__).resolve().parent.parent / "runner"
LIB = "/opt/grader/lib"
JUPYTER = "/opt/grader/jupyter"

_ETC = {
    "passwd": f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
              f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:/job/home:/bin/sh\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": f"root:x:0:\nstudent:x:{SANDBOX_UID}:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1 localhost grader-sandbox\n::1 localhost ip6-localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
}



def thread_env(n: int) -> dict[str, str]:
    """Each job's thread limits (TensorFlow, OpenMP, BLAS), so parallel jobs don't oversubscribe
    the cores (also the benchmark's bare run with the same limits)."""
    return {k: str(n) for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

@dataclass
class SandboxSession:
    kenv: KernelEnv
    support: Path
    workroot: Path
    sandboxed: bool = True
    keep_jobs: bool = False
    limits_mechanism: str | None = None  # None: detect; "watchdog" forces the fallback
    threads: int = 1  # BLAS/TensorFlow threads per job
    gpu_pool: GpuPool = field(default_factory=lambda: GpuPool([]))
    running: RunningJobs = field(default_factory=RunningJobs)  # what an interrupt must stop
    _own_workroot: bool = False

    @classmethod
    def create(cls, python: str | None = None, workroot: Path | None = None, *,
               sandboxed: bool = True, keep_jobs: bool = False,
               limits_mechanism: str | None = None, threads: int = 1,
               gpus: list[str] | None = None, jobs_per_gpu: int = 1) -> "SandboxSession":
        if sandboxed:
            bwrap_path()  # fails with the install hint
        kenv = probe_kernel_env(python)
        own = workroot is None
        root = Path(workroot or tempfile.mkdtemp(prefix="dl-grader-"))
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        support = root / "support"
        _write_support(support, kenv)
        return cls(kenv=kenv, support=support, workroot=root, sandboxed=sandboxed,
                   keep_jobs=keep_jobs, limits_mechanism=limits_mechanism, threads=threads,
                   gpu_pool=GpuPool(gpus or [], jobs_per_gpu), _own_workroot=own)

    def job_root(self, name: str) -> Path:
        """A fresh host folder for one job: job/ (bound at /job, writable) and in/ (read-only)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
        root = Path(tempfile.mkdtemp(prefix=f"{safe}-", dir=self.workroot))
        for sub in ("job/home", "job/work", "job/scratch", "in"):
            (root / sub).mkdir(parents=True)
        # No chmod needed: the sandbox's uid is mapped to ours, so it owns what we create,
        # and other users of the host can't reach into a job (mkdtemp makes it 0700).
        return root

    def mounts(self) -> list[Mount]:
        """Read-only mounts every job gets: the runner's code and the pinned kernelspec."""
        return [Mount(self.support / "lib", LIB), Mount(self.support / "jupyter", JUPYTER)]

    def staged(self, src: Path, name: str) -> Path:
        """`src` inside the session's support folder (a hard link, else a copy, made once), so
        a bind of it shows no host path of the instructor's in /proc/self/mountinfo."""
        dest = self.support / "data" / f"{abs(hash(str(Path(src).resolve()))):x}" / name
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}")
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        return dest

    def finish_job(self, root: Path) -> None:
        if not self.keep_jobs:
            shutil.rmtree(root, ignore_errors=True)

    def env(self, offline_json: str | None = None) -> dict[str, str]:
        env = {
            "HOME": "/job/home", "USER": "student", "LOGNAME": "student",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp",
            "PATH": f"{self.kenv.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": LIB, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "JUPYTER_PATH": JUPYTER, "JUPYTER_CONFIG_DIR": "/job/home/.jupyter",
            "JUPYTER_DATA_DIR": "/job/home/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": "/job/home/.local/share/jupyter/runtime",
            "IPYTHONDIR": "/job/home/.ipython", "MPLCONFIGDIR": "/job/home/.config/matplotlib",
            "KERAS_HOME": "/job/home/.keras", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2", **thread_env(self.threads),
        }
        if offline_json:
            env["GRADER_OFFLINE_FILES"] = offline_json
        return env

    def close(self) -> None:
        if self._own_workroot and not self.keep_jobs:
            shutil.rmtree(self.workroot, ignore_errors=True)


def _write_support(support: Path, kenv: KernelEnv) -> None:
    lib = support / "lib" / "grader_runner"
    lib.mkdir(parents=True, exist_ok=True)
    for f in RUNNER_SRC.glob("*.py"):
        if f.name == "sitecustomize.py":
            shutil.copy2(f, support / "lib" / f.name)
        else:
            shutil.copy2(f, lib / f.name)
    spec_dir = support / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(kenv.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (grader)", "language": "python",
        "metadata": {"debugger": False},
    }, indent=1))
    etc = support / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    for name, text in _ETC.items():
        (etc / name).write_text(text)
