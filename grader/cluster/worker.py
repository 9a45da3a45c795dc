"""What runs on a Dask worker: the two sandboxed jobs, in the worker's own sandbox session.

The coordinator sends the notebook's bytes, the student's other files, the rubric's limits,
the probe code and the hidden *inputs* (never labels or expected values), and the Keras data
files once per worker (scattered futures, cached here by sha256). The worker runs the same
`grader.sandbox` jobs as a local batch, under the same limits, and returns a `RunOutput`
(already decoded from the sandbox with allow_pickle=False) plus the executed notebook's bytes.
Everything here is top-level and picklable by reference: workers import `grader` themselves.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from ..model import RunOutput

_lock = threading.Lock()
_root_lock = threading.Lock()
_sessions: dict[tuple, object] = {}  # (python, sandboxed, limits, threads) -> SandboxSession
_batches: dict[str, object] = {}  # batch id -> RunningJobs (what that batch's abort stops)
_data: dict[str, Path] = {}  # sha256 -> the file, written once per worker process


def _root() -> Path:
    """A private folder for this worker process: inside Dask's own local directory (removed
    with the worker), else a fresh temporary one."""
    with _root_lock:
        if "root" not in _data:
            try:
                from distributed import get_worker

                base = Path(get_worker().local_directory)
            except Exception:  # not on a worker (tests call these functions directly)
                base = Path(tempfile.gettempdir())
            _data["root"] = Path(tempfile.mkdtemp(prefix="dl-grader-", dir=base))
        return _data["root"]


def worker_gpus() -> list[str]:
    """The GPUs this worker may hand to sandboxes: GRADER_GPUS, else CUDA_VISIBLE_DEVICES (the
    indices Slurm or the admin gave the worker), else every GPU of the machine."""
    from ..sandbox.gpus import detect_gpus

    for var in ("GRADER_GPUS", "CUDA_VISIBLE_DEVICES"):
        value = os.environ.get(var)
        if value is not None:
            return [g for g in (x.strip() for x in value.split(",")) if g.isdigit()]
    return detect_gpus()


def hold(obj):
    """A batch-wide object (data files, hidden inputs) as a task result on the workers."""
    return obj


def _address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:
        return "local"


def _nthreads() -> int:
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except Exception:
        return 1


def session(python: str | None, sandboxed: bool, limits: str | None, threads: int | None):
    """This worker process's sandbox session for those settings, made on first use."""
    from ..sandbox import SandboxSession
    from ..sandbox.gpus import GpuPool

    python = _kernel_python(python)
    key = (python, sandboxed, limits, threads)
    with _lock:
        if key not in _sessions:
            n = _nthreads()
            s = SandboxSession.create(python, _root() / f"session-{len(_sessions)}",
                                      sandboxed=sandboxed, limits_mechanism=limits)
            s.threads = threads or max(1, (os.cpu_count() or 1) // n)
            # Dask's GPU resource already limits how many runs hold a GPU at once.
            s.gpu_pool = GpuPool(worker_gpus(), jobs_per_gpu=n)
            _sessions[key] = s
        return _sessions[key]


def _batch_session(base, batch: str):
    """The session with a running-jobs registry of its own batch, so stopping one batch
    (Ctrl-C on its coordinator) leaves other batches on the same worker running."""
    from ..sandbox.abort import RunningJobs

    with _lock:
        running = _batches.setdefault(batch, RunningJobs())
    return dataclasses.replace(base, running=running, _own_workroot=False)


def abort_batch(batch: str) -> int:
    """Kill this worker's running sandboxes of `batch` (run on every worker by client.run)."""
    with _lock:
        running = _batches.get(batch)
    return running.abort() if running is not None else 0


def data_file(name: str, sha256: str, blob: bytes) -> Path:
    """The Keras data file `name` with these bytes, written once per worker and checked."""
    with _lock:
        known = _data.get(sha256)
    if known is not None and known.exists():
        return known
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ValueError(f"data file {name}: bytes received do not match sha256 {sha256[:12]}")
    dest = _root() / "data" / sha256 / Path(name).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, dest)
    with _lock:
        _data[sha256] = dest
    return dest


def notebook_job(batch: str, cfg: dict, nb_bytes: bytes, extra: dict[str, bytes],
                 datasets: dict[str, tuple[str, bytes]], probe_inputs: dict | None,
                 kwargs: dict) -> tuple[RunOutput, bytes | None]:
    """grader.sandbox.run_notebook on this worker; (its RunOutput, the executed notebook)."""
    from ..sandbox import run_notebook

    s = _batch_session(session(**cfg), batch)
    files = {name: data_file(name, sha, blob) for name, (sha, blob) in datasets.items()}
    staging = Path(tempfile.mkdtemp(prefix="in-", dir=_root()))
    try:
        rel = kwargs.get("notebook_rel") or "notebook.ipynb"
        nb = staging / "notebook" / Path(rel).name
        nb.parent.mkdir()
        nb.write_bytes(nb_bytes)
        extra_files = {}
        for i, (rel_name, blob) in enumerate(extra.items()):
            p = staging / "extra" / str(i)
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(blob)
            extra_files[rel_name] = p
        run = run_notebook(s, nb, extra_files=extra_files, datasets=files,
                           probe_inputs=probe_inputs, **kwargs)
        run.info["worker"] = _address()
        executed = None
        if run.executed_notebook is not None:
            executed = Path(run.executed_notebook).read_bytes()
            Path(run.executed_notebook).unlink(missing_ok=True)
            run.executed_notebook = None
        return run, executed
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def functions_job(batch: str, cfg: dict, source: str, cases: list, inputs: dict, kwargs: dict) -> RunOutput:
    """grader.sandbox.run_functions on this worker (unit tests: inputs only, no expected values)."""
    from ..sandbox import run_functions

    run = run_functions(_batch_session(session(**cfg), batch), source, cases, inputs, **kwargs)
    run.info["worker"] = _address()
    return run


@functools.lru_cache(maxsize=None)
def _kernel_python(python: str | None) -> str | None:
    """--python, else this node's lean kernel environment, as on a single machine: the same
    kernel (and so the same stored-result keys) whether a batch ran here or on the cluster.
    Chosen once per worker process, not per job."""
    from ..sandbox.kernel_choice import choose_kernel_python

    return choose_kernel_python(python)[0]


def kernel_info(python: str | None) -> dict:
    """The kernel interpreter this worker runs notebooks with, and its packages."""
    from ..sandbox.kernel_env import probe_kernel_env

    env = probe_kernel_env(_kernel_python(python))
    return {"python": str(env.python), "version": env.version, "packages": env.packages}
