"""The two kinds of sandboxed job, and the host's decoding of what came back.

`run_notebook`: re-execute a whole notebook, then predict on the inputs we send (accuracy).
`run_functions`: call extracted functions on test inputs (unit tests, seconds, no kernel).
Everything returned is untrusted: sizes capped, arrays checked against a budget and the
expected shapes before they are inflated (npz_limits.py), only numeric dtypes kept, the
runner's JSON checked field by field.
"""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from ..model import CellError, RunOutput
from ..report.safe_text import clean, clean_tree
from ..runner import protocol
from ..runner.cases import case_limits
from ..runner.failures import typed
from .npz_limits import RefusedArrays, load_arrays
from .launch import OUT_FD, Mount, SandboxOutcome, SandboxSpec, run_sandboxed
from .session import KERNEL_NAME, SandboxSession

IN = "/opt/grader/in"
DATA = "/opt/grader/data"
PROBE_IN = "/job/.grader_probe_in"  # made by the runner after the last cell, never before
PROBE_FD = "{PROBE_FD}"
_STATUSES = {"ok", "error", "timeout", "memory", "crashed"}


def _status(outcome: SandboxOutcome, info: dict, memory_mb: int, timeout_s: float) -> tuple[str, str, dict, str]:
    """(status, failure code, its parameters, the instructor's one-line detail); the code is ""
    when the job ran to the end (sandbox/failures.py)."""
    if outcome.oom_killed:
        return "memory", "memory", {"limit_mb": memory_mb}, f"memory limit {memory_mb} MB exceeded"
    if outcome.timed_out:
        return "timeout", "timeout", {"limit_s": timeout_s}, f"time limit {timeout_s:g} s exceeded"
    if outcome.pids_exhausted and info.get("status") != "ok":
        return "crashed", "process_limit", {}, "process limit reached (fork bomb?)"
    status = info.get("status")
    if status not in _STATUSES:
        return "crashed", "no_result", {}, "the sandbox returned no result"
    message = str(info.get("message", ""))[:2000]
    if status == "ok":
        return status, "", {}, message
    reason, params = typed(info.get("reason"), info.get("params"))
    return status, reason, params, message


PROBE_ROW_BYTES = 5000 * 8  # per input row a probe may return (a 5,000-way float64 row)
UNIT_BUDGET_FACTOR = 8  # a unit job may return 8x the bytes of its inputs (plus 1 MiB)


def _arrays(run: RunOutput, blob: bytes | None, budget: int, limits: dict[str, int] | None = None) -> None:
    """Fill run.arrays within `budget` bytes; a refused result makes the run an error."""
    try:
        run.arrays = load_arrays(blob, budget, limits)
    except RefusedArrays as exc:
        run.arrays = {}
        run.info["arrays_refused"] = str(exc)
        run.status, run.reason, run.params = "crashed", "result_refused", {}
        run.message = f"result refused: {exc}"


def _decode(outcome: SandboxOutcome, kind: str, memory_mb: int, timeout_s: float,
            max_blob: int) -> tuple[RunOutput, dict[str, bytes]]:
    try:
        info, blobs = protocol.decode(outcome.result, max_blob)
    except protocol.ProtocolError as exc:
        info, blobs = {"status": "crashed", "reason": "no_result", "message": str(exc)}, {}
    info = clean_tree(info)  # what the sandbox says becomes messages and flags: no control chars
    status, reason, params, message = _status(outcome, info, memory_mb, timeout_s)
    if outcome.result_overflow:
        message = (message + "; " if message else "") + "result larger than the output limit"
    errors = []
    for e in info.get("cell_errors", []) if isinstance(info.get("cell_errors"), list) else []:
        if isinstance(e, dict) and isinstance(e.get("cell_index"), int):
            errors.append(CellError(e["cell_index"], clean(e.get("ename", ""), limit=200),
                                    clean(e.get("evalue", ""), multiline=True, limit=2000)))
    clean_info = {k: v for k, v in info.items() if k not in ("cell_errors", "reason", "params")}
    run = RunOutput(kind=kind, status=status, reason=reason, params=params, message=message, wall_s=outcome.wall_s,
                    cell_errors=errors, info=clean_info,
                    stderr_tail=clean(outcome.log_tail[-3000:], multiline=True))
    return run, blobs


def _offline_files(session: SandboxSession, root: Path, datasets: dict[str, Path]) -> tuple[list[Mount], str]:
    """Files Keras may ask for, mounted read-only, and the shim's name -> path map (paths as
    the kernel sees them: in the sandbox, or on the host with --unsafe-no-sandbox)."""
    mounts = [Mount(session.staged(Path(src), name) if session.sandboxed else Path(src), f"{DATA}/{name}")
              for name, src in datasets.items()]
    mapping = {name: f"{DATA}/{name}" if session.sandboxed else str(Path(src).resolve())
               for name, src in datasets.items()}
    (root / "in" / "offline.json").write_text(json.dumps(mapping))
    return mounts, f"{IN}/offline.json"


def run_notebook(session: SandboxSession, notebook: Path, *, name: str, notebook_rel: str = "",
                 extra_files: dict[str, Path] | None = None,
                 datasets: dict[str, Path] | None = None,
                 probes: dict[str, str] | None = None,
                 probe_inputs: dict[str, dict[str, np.ndarray]] | None = None,
                 timeout_s: float = 1800, cell_timeout_s: float = 600, memory_mb: int = 4096,
                 pids_max: int = 512, output_mb: int = 50, max_file_mb: int = 512,
                 disk_mb: int = 1024) -> RunOutput:
    """Re-execute `notebook` (with the student's other files beside it) in the sandbox, then
    the `probes` (see grader/probes.py) in the same kernel on `probe_inputs[probe name]`."""
    from ..probes import probe_cell

    root = session.job_root(name)
    try:
        work = root / "in" / "work"  # read-only in the sandbox; the runner copies it to /job/work
        for rel, src in (extra_files or {}).items():
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        # The notebook keeps its place among the student's files, so relative paths still work.
        rel = PurePosixPath(notebook_rel or notebook.name)
        if rel.is_absolute() or ".." in rel.parts:
            rel = PurePosixPath(notebook.name)
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, work / rel)
        nb_dir = str(PurePosixPath("/job/work") / rel.parent)
        mounts, offline = _offline_files(session, root, datasets or {})
        mounts += [Mount(root / "in", IN)] + session.mounts()
        argv = [str(session.kenv.python), "-m", "grader_runner.execute_notebook",
                "--notebook", f"/job/work/{rel}", "--workdir", nb_dir,
                "--seed", f"{IN}/work", "--seed-into", "/job/work", "--out-fd", OUT_FD,
                "--kernel-name", KERNEL_NAME, "--kernel-log", "/job/kernel.log",
                "--cell-timeout", str(cell_timeout_s), "--output-cap", str((output_mb << 20) // 2),
                "--max-file-mb", str(max_file_mb), "--max-procs", str(pids_max)]
        fds = {}
        if probes:
            # The probe's inputs (hidden test images) are not in any mounted folder: one zip
            # reaches the runner as an open fd, and it unpacks them only after the last cell.
            pack = root / "probe_inputs.zip"
            with zipfile.ZipFile(pack, "w") as z:
                for pname in probes:
                    with z.open(f"probe_{pname}.npz", "w", force_zip64=True) as f:
                        np.savez(f, **(probe_inputs or {}).get(pname, {}))
            probe_in = PROBE_IN if session.sandboxed else str(root / "job" / PROBE_IN[len("/job/"):])
            (root / "in" / "probe.py").write_text(probe_cell(probes, in_dir=probe_in), encoding="utf-8")
            fds[PROBE_FD] = os.open(pack, os.O_RDONLY)
            disk_mb += (pack.stat().st_size >> 20) + 1  # the room the runner reserves for them
            argv += ["--probe", f"{IN}/probe.py", "--probe-inputs-fd", PROBE_FD,
                     "--probe-inputs-dir", PROBE_IN]
        spec = SandboxSpec(argv=argv, job_dir=root / "job", mounts=mounts,
                           env=session.env(offline), timeout_s=timeout_s, disk_mb=disk_mb,
                           memory_mb=memory_mb, pids_max=pids_max,
                           max_result_bytes=output_mb << 20, log_path=root / "sandbox.log", fds=fds)
        try:
            with session.gpu_pool.acquire() as gpu:  # waits for a free GPU when there are GPUs
                spec.gpu = gpu
                outcome = run_sandboxed(spec, session.kenv, session.support,
                                        sandboxed=session.sandboxed,
                                        limits_mechanism=session.limits_mechanism,
                                        running=session.running)
        finally:
            for fd in fds.values():
                os.close(fd)
        run, blobs = _decode(outcome, "notebook", memory_mb, timeout_s, output_mb << 20)
        run.info["limits"] = outcome.mechanism
        run.info["gpu"] = gpu
        limits = {f"{p}__{k}": (1 << 20) + PROBE_ROW_BYTES * len(a)
                  for p, arrs in (probe_inputs or {}).items() for k, a in arrs.items() if np.ndim(a)}
        _arrays(run, blobs.get("probe.npz"), (1 << 20) + sum(limits.values()), limits)
        run.info["probe"] = _small_json(blobs.get("probe.json"))
        if blobs.get("executed.ipynb"):
            out = session.workroot / "executed" / f"{root.name}.ipynb"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(blobs["executed.ipynb"])
            run.executed_notebook = out
        return run
    finally:
        session.finish_job(root)


def _small_json(blob: bytes | None, cap: int = 1 << 20) -> dict:
    """A probe's JSON, or {} if absent, too big, or not an object (untrusted)."""
    if not blob or len(blob) > cap:
        return {}
    try:
        data = json.loads(blob)
    except ValueError:
        return {}
    return clean_tree(data) if isinstance(data, dict) else {}


def run_functions(session: SandboxSession, source: str, cases: list[dict],
                  inputs: dict[str, np.ndarray], *, name: str, timeout_s: float = 60,
                  memory_mb: int = 2048, pids_max: int = 64) -> RunOutput:
    """Call extracted functions on `inputs` (no expected values are sent)."""
    root = session.job_root(name)
    try:
        (root / "in" / "extracted.py").write_text(source, encoding="utf-8")
        (root / "in" / "cases.json").write_text(json.dumps(cases))
        np.savez(root / "in" / "inputs.npz", **inputs)
        case_s, import_s = case_limits(timeout_s)
        argv = [str(session.kenv.python), "-m", "grader_runner.call_functions",
                "--source", f"{IN}/extracted.py", "--cases", f"{IN}/cases.json",
                "--inputs", f"{IN}/inputs.npz", "--out-fd", OUT_FD,
                "--case-timeout", str(case_s), "--import-timeout", str(import_s)]
        spec = SandboxSpec(argv=argv, job_dir=root / "job", mounts=[Mount(root / "in", IN)] + session.mounts(),
                           env=session.env(), cwd="/job/work", timeout_s=timeout_s, disk_mb=64,
                           memory_mb=memory_mb, pids_max=pids_max, max_result_bytes=16 << 20,
                           log_path=root / "sandbox.log")
        outcome = run_sandboxed(spec, session.kenv, session.support, sandboxed=session.sandboxed,
                                limits_mechanism=session.limits_mechanism,
                                running=session.running)
        run, blobs = _decode(outcome, "functions", memory_mb, timeout_s, 16 << 20)
        run.info["limits"] = outcome.mechanism
        _arrays(run, blobs.get("results.npz"),
                (1 << 20) + UNIT_BUDGET_FACTOR * sum(np.asarray(a).nbytes for a in inputs.values()))
        return run
    finally:
        session.finish_job(root)
