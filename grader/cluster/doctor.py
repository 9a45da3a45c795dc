"""`grader doctor --cluster ADDR`: ask every Dask worker what it can do, and name the ones
that cannot grade (no bubblewrap, a kernel environment without what notebooks need, a test
job that fails, data files it cannot receive, a GPU resource without a GPU)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time

TEST_BLOB = bytes(range(256)) * 4096  # 1 MiB: the data files travel like this (cached by sha256)


def worker_report(python: str | None, tensorflow: bool, blob: bytes, sha256: str) -> dict:
    """Runs on one worker (as a task): the sandbox, the kernel, the GPUs, a tiny sandboxed job,
    and the data path (a file received, checked by sha256, written to the worker's cache)."""
    import numpy as np

    from ..commands.doctor import TF_PROBE
    from ..sandbox.gpus import gpu_names
    from ..sandbox.limits import detect_mechanism
    from . import worker as W

    rep: dict = {"address": W._address(), "host": os.uname().nodename, "cpus": os.cpu_count(),
                 "bwrap": shutil.which("bwrap"), "limits": detect_mechanism(), "problems": []}
    try:
        from distributed import get_worker

        w = get_worker()
        rep["resources"] = dict(w.state.total_resources)
        rep["nthreads"] = w.state.nthreads
    except Exception:
        rep["resources"], rep["nthreads"] = {}, 1
    rep["gpus"], rep["worker_gpus"] = gpu_names(), W.worker_gpus()
    if rep["resources"].get("GPU") and not rep["worker_gpus"]:
        rep["problems"].append("advertises the GPU resource but sees no GPU")
    if not rep["bwrap"]:
        rep["problems"].append("bubblewrap missing (apt-get install bubblewrap)")
    try:
        rep["kernel"] = W.kernel_info(python)
    except Exception as exc:  # SandboxUnavailable: the kernel environment is missing
        rep["kernel"] = None
        rep["problems"].append(f"kernel: {exc}")
    if tensorflow and rep["kernel"] and rep["kernel"]["packages"].get("tensorflow"):
        out = subprocess.run([rep["kernel"]["python"], "-c", TF_PROBE], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        rep["tf"] = out.stdout.strip().splitlines()[-1] if out.returncode == 0 else "import failed"
    try:
        path = W.data_file("doctor.bin", sha256, blob)
        rep["data"] = f"received and checked (sha256), cached in {path.parent.parent}"
        rep["disk_free_mb"] = shutil.disk_usage(path.parent).free >> 20
    except Exception as exc:
        rep["data"] = None
        rep["problems"].append(f"data files: {exc}")
    if rep["bwrap"] and rep["kernel"]:
        t = time.monotonic()
        try:
            run = W.functions_job("doctor", {"python": python, "sandboxed": True, "limits": None,
                                             "threads": 1}, "def f():\n    return 1.0\n",
                                  [{"id": "c", "function": "f", "args": []}], {"x": np.zeros(1)},
                                  {"name": "doctor", "timeout_s": 60})
            works = run.status == "ok" and run.arrays.get("c") is not None
            rep["test_job"] = (f"works ({time.monotonic() - t:.1f} s, limits: {run.info.get('limits')})"
                               if works else f"FAILED: {run.message}")
        except Exception as exc:
            works, rep["test_job"] = False, f"FAILED: {type(exc).__name__}: {exc}"
        if not works:
            rep["problems"].append(f"sandboxed test job {rep['test_job']}")
    return rep


def cluster_doctor(spec: str, *, config=None, python: str | None = None, tensorflow: bool = True) -> int:
    """Print every worker's report; exit status 1 if any worker cannot grade."""
    from .connect import connect

    client, close, address, _ = connect(spec, config=config, gpus=False)
    try:
        workers = sorted(client.scheduler_info()["workers"])
        sha = hashlib.sha256(TEST_BLOB).hexdigest()
        [blob] = client.scatter([TEST_BLOB], broadcast=True)
        futs = {w: client.submit(worker_report, python, tensorflow, blob, sha, workers=[w],
                                 allow_other_workers=False, pure=False, key=f"grader-doctor-{i}-{w}")
                for i, w in enumerate(workers)}
        print(f"cluster:    {address}, {len(workers)} workers")
        bad, reps = [], []
        for w, fut in futs.items():
            try:
                rep = fut.result(timeout=600)
            except Exception as exc:
                rep = {"address": w, "problems": [f"no report ({type(exc).__name__}: {exc})"]}
            _print(rep)
            reps.append(rep)
            if rep["problems"]:
                bad.append(w)
        if bad:
            print(f"cannot grade: {', '.join(bad)}")
            return 1
        differ = kernel_differences(reps)
        if differ:
            print("cannot grade consistently: the workers' kernels differ, so a grade would depend on "
                  f"the worker that ran it: {'; '.join(differ)}")
            return 1
        print("every worker can grade, with the same kernel packages")
        return 0
    finally:
        close()


def kernel_differences(reports: list[dict]) -> list[str]:
    """One line per kernel package whose version is not the same on every worker ("tensorflow:
    2.19.0 on w3; 2.20.0 on w1, w2"); paths may differ (a checkout per node), versions may not."""
    packages = [(rep["address"], (rep.get("kernel") or {}).get("packages") or {}) for rep in reports]
    out = []
    for name in sorted({n for _, pk in packages for n in pk}):
        by: dict[str, list[str]] = {}
        for address, pk in packages:
            by.setdefault(str(pk[name] or "-") if name in pk else "missing", []).append(address)
        if len(by) > 1:
            out.append(f"{name}: " + "; ".join(f"{v} on {', '.join(ws)}" for v, ws in sorted(by.items())))
    return out


def _print(rep: dict) -> None:
    kernel = rep.get("kernel") or {}
    pk = kernel.get("packages") or {}
    print(f"worker {rep['address']} ({rep.get('host', '?')}, {rep.get('cpus', '?')} cpus, "
          f"{rep.get('nthreads', '?')} threads, resources {rep.get('resources') or {}})")
    print(f"  sandbox:  bubblewrap {rep.get('bwrap') or 'MISSING'}, limits {rep.get('limits', '?')}")
    if kernel:
        print(f"  kernel:   {kernel['python']} (Python {kernel['version']}), "
              + ", ".join(f"{k} {v or '-'}" for k, v in pk.items()))
    if "tf" in rep:
        print(f"  tf:       {rep['tf']}")
    print(f"  gpus:     {'; '.join(rep.get('gpus') or []) or 'none'}"
          f" (sandboxes get: {', '.join(rep.get('worker_gpus') or []) or 'CPU only'})")
    if rep.get("data"):
        print(f"  data:     {rep['data']}, {rep.get('disk_free_mb', '?')} MiB free")
    if rep.get("test_job"):
        print(f"  test job: {rep['test_job']}")
    for p in rep.get("problems", []):
        print(f"  PROBLEM:  {p}")
