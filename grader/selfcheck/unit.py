"""The public unit tests, on the functions extracted from the notebook, run on this machine.

Same extraction, same public cases and same judge (`judge_unit`) as the instructor's grader; only
the process differs: a plain subprocess with time limits (local_runner.py) instead of the
bubblewrap sandbox, so it works on Windows, macOS and Colab. One process per function (as the
grader does: a broken helper of one function must not zero the other), all started at once.
Nothing here imports TensorFlow; the subprocess does only when the student's functions do.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import build_suite, case_payload, extract_functions, judge_unit
from ..model import CheckResult, RunOutput
from ..runner.cases import case_limits
from ..runner.failures import typed

RUNNER = Path(__file__).resolve().parent / "local_runner.py"
_STATUSES = {"ok", "crashed"}


@dataclass
class UnitRun:
    check_id: str
    result: CheckResult | None  # None: no public test of this function in this grader version
    cases: int = 0
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    imported: list[str] = field(default_factory=list)  # heavy frameworks the functions loaded


def run_unit_checks(nb: dict, checks: list, lang: str, python: str | None = None,
                    timeout_s: float = 60, no_alarm: bool = False) -> dict[str, UnitRun]:
    """check id -> UnitRun for every unit_test check, run in parallel subprocesses."""
    if not checks:
        return {}
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        futures = {c.id: pool.submit(_one, nb, c, lang, python or sys.executable, timeout_s, no_alarm)
                   for c in checks}
        return {cid: f.result() for cid, f in futures.items()}


def _one(nb: dict, chk, lang: str, python: str, timeout_s: float, no_alarm: bool) -> UnitRun:
    t0 = time.monotonic()
    try:
        suite = build_suite(chk.suite_name, public_only=True)
    except ValueError:
        return UnitRun(chk.id, None)
    if not suite:
        return UnitRun(chk.id, None)
    extraction = extract_functions(nb, [chk.function])
    cases, inputs = case_payload(suite, chk.function)
    run = run_locally(extraction.source, cases, inputs, python, timeout_s, no_alarm)
    try:
        result = judge_unit(chk, suite, run, lang, extraction=extraction)
    except ValueError:  # no reference answer for this function in this grader version
        return UnitRun(chk.id, None)
    return UnitRun(chk.id, result, len(suite), extraction.notes, round(time.monotonic() - t0, 3),
                   list(run.info.get("imported") or []))


def run_locally(source: str, cases: list[dict], inputs: dict[str, np.ndarray], python: str,
                timeout_s: float = 60, no_alarm: bool = False) -> RunOutput:
    """Call the extracted functions in a subprocess; a RunOutput shaped like the sandbox's."""
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        d = Path(tmp)
        (d / "extracted.py").write_text(source, encoding="utf-8")
        (d / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
        np.savez(d / "inputs.npz", **inputs)
        out = d / "out"
        out.mkdir()
        case_s, import_s = case_limits(timeout_s)
        argv = [python, str(RUNNER), "--source", str(d / "extracted.py"), "--cases", str(d / "cases.json"),
                "--inputs", str(d / "inputs.npz"), "--out", str(out),
                "--case-timeout", str(case_s), "--import-timeout", str(import_s)] + (["--no-alarm"] if no_alarm else [])
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
               "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
        t0 = time.monotonic()
        timed_out, stderr = _run(argv, env, d / "work", timeout_s)
        return _collect(out, timed_out, stderr, round(time.monotonic() - t0, 3), timeout_s)


def _run(argv: list[str], env: dict, cwd: Path, timeout_s: float) -> tuple[bool, str]:
    cwd.mkdir()
    posix = os.name == "posix"
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=posix)
    try:
        _, err = proc.communicate(timeout=timeout_s)
        return False, err.decode("utf-8", "replace")[-3000:]
    except subprocess.TimeoutExpired:
        if posix:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        proc.kill()
        _, err = proc.communicate()
        return True, err.decode("utf-8", "replace")[-3000:]


def _collect(out: Path, timed_out: bool, stderr: str, wall_s: float, timeout_s: float) -> RunOutput:
    try:
        info = json.loads((out / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    info = info if isinstance(info, dict) else {}
    arrays = {}
    for f in out.glob("case_*.npy"):
        try:
            a = np.load(f, allow_pickle=False)
        except (OSError, ValueError):
            continue
        if isinstance(a, np.ndarray) and a.dtype.kind in "biuf":
            arrays[f.stem[len("case_"):]] = a
    reason, params = "", {}
    if timed_out:
        status, message = "timeout", f"time limit {timeout_s:g} s exceeded"
        reason, params = "timeout", {"limit_s": timeout_s}
    elif info.get("status") in _STATUSES:
        status, message = info["status"], str(info.get("message", ""))
        if status != "ok":
            reason, params = typed(info.get("reason"), info.get("params"))
    else:
        status, message, reason = "crashed", "the functions' process returned no result", "no_result"
    return RunOutput(kind="functions", status=status, reason=reason, params=params, message=message,
                     wall_s=wall_s, arrays=arrays,
                     info=info, stderr_tail=stderr)
