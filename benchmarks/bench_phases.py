"""Where one notebook's grade goes, phase by phase, beside a bare `nbconvert --execute` of it.

For each notebook (the peers' reference `ref_mnist.ipynb`, then the demo's reference notebook,
José Núñez's), in turns (bare, grade, bare, grade, ...) in the same run:

- bare:  `jupyter nbconvert --to notebook --execute` with the lean kernel environment
         (.venv-kernel) as the kernel, nothing else (the offline Keras shim only);
- grade: `python -m grader grade mnist_cnn ONE_STUDENT.zip --allow-standin` into a fresh
         output folder, with $GRADER_PHASE_LOG set: the grader's and the sandbox runner's own
         timestamps (grader/phases.py; the runner's `info["at"]`) split it into phases.

Prints the median of each phase, the medians of both whole commands, the ratio grade / bare
(median of the pairs' ratios) and the issue's target for it (<= 1.25x on the reference notebook,
<= 1.05x on the demo's). `--full-kernel` also times the bare run with the grader's full venv as
the kernel (the lean env's gain); the peers (nbgrader, Otter) are timed too if their venvs from
../shared/peers-bench/setup.sh exist (/tmp/bench-nbgrader, /tmp/bench-otter).

    .venv/bin/python benchmarks/bench_phases.py [-n 3] [--only ref|demo] [--full-kernel] [--bare-threads]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.sandbox.kernel_choice import lean_kernel_python  # noqa: E402
from grader.sandbox.session import thread_env  # noqa: E402  (the sandbox's own thread limits)

PEERS = Path(os.environ.get("PEERS_BENCH") or next(
    (p for p in (ROOT.parent / "shared" / "peers-bench", ROOT.parent.parent / "shared" / "peers-bench")
     if p.is_dir()), ROOT.parent / "shared" / "peers-bench"))  # ../shared, or ../../ from a worktree
NOTEBOOKS = {  # name -> (where the notebook comes from, target ratio)
    "ref": ("peers-bench/ref_mnist.ipynb", 1.25),
    "demo": ("submissions/demo/mnist_cnn.zip: José Núñez (4518203)", 1.05),
}
DEMO_PID = "4518203"
STUDENT = "Ana Prueba Bench_9000001_assignsubmission_file"

# (label, start event, end event); events are grader/phases.py marks, `at.*` the runner's.
PHASES = [
    ("CLI start (interpreter, imports, rubric)", "launch", "batch"),
    ("ingest", "batch", "ingested"),
    ("data (+ worksheet round trip)", "ingested", "data"),
    ("session (kernel probe, support files)", "data", "session"),
    ("store, fingerprint, suites", "session", "grading"),
    ("static checks, extraction, unit suites", "grading", "unit_start"),
    ("unit-test jobs", "unit_start", "unit_end"),
    ("between unit jobs and the run", "unit_end", "run_start"),
    ("sandbox start (bwrap, runner start)", "run_start", "at.start"),
    ("runner set-up (nbclient import, copy)", "at.start", "at.kernel"),
    ("kernel start", "at.kernel", "at.ready"),
    ("student cells", "at.ready", "at.cells"),
    ("probe", "at.cells", "at.probe"),
    ("kernel shutdown, notebook written", "at.probe", "at.end"),
    ("sandbox exit, result decoded", "at.end", "run_end"),
    ("judging, store", "run_end", "graded"),
    ("exports (worksheet, reports)", "graded", "exported"),
    ("exit", "exported", "exit"),
]


def timed(argv, env, cwd, log: Path) -> tuple[float, float, float]:
    """(launch, exit, cpu seconds) on the monotonic clock (the one grader/phases.py stamps
    with); cpu: user + sys of the command and every process it waited for, which a loaded
    machine disturbs far less than the wall time (the bare runs' only: a sandboxed kernel dies
    with its PID namespace, unwaited, so its CPU time is not counted for `grader grade`)."""
    with open(log, "ab") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        _, status, ru = os.wait4(proc.pid, 0)
        t1 = time.monotonic()
    try:  # anything it left running
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit(f"failed ({rc}): {' '.join(map(str, argv))}; see {log}")
    return t0, t1, ru.ru_utime + ru.ru_stime


def outcome(out: Path) -> str:
    """The graded row, so a fast run that graded nothing cannot pass for a fast grade."""
    rows = [json.loads(x) for x in (out / "mnist_cnn" / "results.jsonl").read_text().splitlines() if x.strip()]
    if len(rows) != 1 or rows[0]["status"] != "graded":
        sys.exit(f"the graded run did not grade the notebook: {[(r['status'], r.get('message')) for r in rows]}")
    return f"{rows[0]['score']:g}/{rows[0]['max_score']:g}"


def kernelspec(folder: Path, python: str) -> Path:
    """A Jupyter data folder whose `bench` kernel is `python` (the bare run's kernel)."""
    spec = folder / "kernels" / "bench"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bench", "language": "python"}))
    return folder


def bare(nb: Path, jupyter_path: Path, offline: Path, tmp: Path, log: Path,
         threads: int | None = None) -> tuple[float, float]:
    """(wall, cpu) of one bare run (`threads`: with the sandbox's thread limits)."""
    env = {**os.environ, "JUPYTER_PATH": str(jupyter_path), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": str(ROOT / "grader" / "runner"), "GRADER_OFFLINE_FILES": str(offline),
           **(thread_env(threads) if threads else {})}
    t0, t1, cpu = timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                         "--ExecutePreprocessor.kernel_name=bench", "--ExecutePreprocessor.timeout=1200",
                         "--output-dir", str(tmp), "--output", "bare-out.ipynb", str(nb)],
                        env, nb.parent, log)
    return t1 - t0, cpu


def grade(zip_path: Path, out: Path, python: str | None, log: Path) -> dict:
    """One `grader grade` run; its events (seconds since launch) and its score."""
    events = out.with_suffix(".phases.jsonl")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADER_PHASE_LOG": str(events)}
    argv = [sys.executable, "-m", "grader", "grade", "mnist_cnn", str(zip_path), "--out", str(out),
            "--allow-standin", "--workers", "1"] + (["--python", python] if python else [])
    t0, t1, _ = timed(argv, env, ROOT, log)
    ev = {"launch": t0, "exit": t1}
    units = []
    for line in events.read_text().splitlines():
        e = json.loads(line)
        if e["name"] == "unit_start":
            units.append([e["t"], None])
        elif e["name"] == "unit_end":
            units[-1][1] = e["t"]
        else:
            ev.setdefault(e["name"], e["t"])
        if e["name"] == "run_end":
            ev.update({f"at.{k}": v for k, v in (e.get("at") or {}).items()})
    out_ev = {k: v - t0 for k, v in ev.items()}
    if units:  # the unit jobs as one phase: first start to last end, and their summed time
        out_ev["unit_start"], out_ev["unit_end"] = units[0][0] - t0, units[-1][1] - t0
        out_ev["unit_sum"] = sum(b - a for a, b in units)
    out_ev["outcome"] = outcome(out)
    return out_ev


def one_student_zip(nb_bytes: bytes, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        z.writestr(f"{STUDENT}/mnist_cnn.ipynb", nb_bytes)
    return dest


def notebook_bytes(which: str) -> bytes:
    if which == "ref":
        if not (PEERS / "ref_mnist.ipynb").is_file():
            sys.exit(f"no reference notebook at {PEERS / 'ref_mnist.ipynb'}: set $PEERS_BENCH to "
                     "the peers-bench folder, or run with --only demo")
        return (PEERS / "ref_mnist.ipynb").read_bytes()
    with zipfile.ZipFile(ROOT / "submissions" / "demo" / "mnist_cnn.zip") as z:
        name = next(n for n in z.namelist() if f"_{DEMO_PID}_" in n and n.endswith(".ipynb"))
        return z.read(name)


def peer_times(n: int, log: Path) -> dict[str, float]:
    """nbgrader and Otter on the reference notebook, if ../shared/peers-bench is set up."""
    got = {}
    for peer, venv in (("nbgrader", "/tmp/bench-nbgrader"), ("otter", "/tmp/bench-otter")):
        if Path(venv, "bin", "python").exists():
            walls = []
            for _ in range(n):
                t0, t1, _ = timed(["bash", str(PEERS / "cmd" / f"{peer}.sh")], dict(os.environ), PEERS, log)
                walls.append(t1 - t0)
            got[peer] = statistics.median(walls)
    return got


def phase_rows(runs: list[dict[str, float]]) -> list[tuple[str, float | None]]:
    rows = []
    for label, a, b in PHASES:
        vals = [r[b] - r[a] for r in runs if a in r and b in r]
        rows.append((label, statistics.median(vals) if vals else None))
    return rows


def bench(which: str, args, tmp: Path, lean: str, offline: Path, log: Path) -> dict:
    nb = tmp / which / "mnist_cnn.ipynb"
    nb.parent.mkdir(parents=True)
    body = notebook_bytes(which)
    nb.write_bytes(body)
    zip_path = one_student_zip(body, tmp / which / "one_student.zip")
    lean_path = kernelspec(tmp / "jupyter-lean", lean)
    full_path = kernelspec(tmp / "jupyter-full", sys.executable)
    res = {k: [] for k in ("bare", "grade", "full", "ratios", "runs", "bare_cpu", "full_cpu", "threads")}
    for i in range(args.n + args.warmup):
        b, b_cpu = bare(nb, lean_path, offline, tmp / which, log)
        ev = grade(zip_path, tmp / which / f"out{i}", args.python, log)
        f, f_cpu = bare(nb, full_path, offline, tmp / which, log) if args.full_kernel else (None, None)
        t = bare(nb, lean_path, offline, tmp / which, log, threads=os.cpu_count())[0] \
            if args.bare_threads else None
        load = os.getloadavg()[0]
        print(f"  [{which} {i + 1 - args.warmup}/{args.n}] bare {b:.2f} s (cpu {b_cpu:.2f}), "
              f"grade {ev['exit']:.2f} s (score {ev['outcome']})"
              + (f", bare with the full venv's kernel {f:.2f} s (cpu {f_cpu:.2f})" if f else "")
              + (f", bare with the sandbox's thread limits {t:.2f} s" if t else "")
              + f"; load {load:.1f}" + (" (warm-up)" if i < args.warmup else ""), flush=True)
        if i < args.warmup:
            continue
        for key, v in (("bare", b), ("grade", ev["exit"]), ("ratios", ev["exit"] / b), ("runs", ev),
                       ("bare_cpu", b_cpu)):
            res[key].append(v)
        if t is not None:
            res["threads"].append(t)
        if f is not None:
            res["full"].append(f)
            res["full_cpu"].append(f_cpu)
    return res


def report(which: str, res: dict) -> None:
    source, target = NOTEBOOKS[which]
    bare_med = statistics.median(res["bare"])
    print(f"\n== {which}: {source}")
    print(f"{'phase of `grader grade`':44s} {'median s':>9s} {'% of bare':>9s}")
    for label, v in phase_rows(res["runs"]):
        print(f"{label:44s} {'-' if v is None else f'{v:9.2f}':>9s} "
              f"{'' if v is None else f'{100 * v / bare_med:8.0f}%':>9s}")
    unit_sum = [r["unit_sum"] for r in res["runs"] if "unit_sum" in r]
    if unit_sum:
        print(f"{'  (unit-test jobs, summed)':44s} {statistics.median(unit_sum):9.2f}")
    rerun = [r["run_end"] - r["run_start"] for r in res["runs"] if "run_end" in r]
    print(f"{'sandboxed re-run (run_start..run_end)':44s} {statistics.median(rerun):9.2f} "
          f"{100 * statistics.median(rerun) / bare_med:8.0f}%")
    med = statistics.median
    print(f"{'whole `grader grade`':44s} {med(res['grade']):9.2f}")
    print(f"{'bare nbconvert --execute, lean kernel env':44s} {bare_med:9.2f}  cpu {med(res['bare_cpu']):6.2f}")
    if res["full"]:
        full = med(res["full"])
        print(f"{'bare nbconvert --execute, full .venv kernel':44s} {full:9.2f}  cpu {med(res['full_cpu']):6.2f}"
              f"  ({full / bare_med:.2f}x the lean env's wall, "
              f"{med(res['full_cpu']) / med(res['bare_cpu']):.2f}x its cpu)")
    if res["threads"]:
        t = med(res["threads"])
        print(f"{'bare, with the sandbox thread limits':44s} {t:9.2f}  (grade / it: {med(res['grade']) / t:.2f}x)")
    ratio = med(res["ratios"])
    print(f"ratio grade / bare, wall (median of {len(res['ratios'])} pairs): {ratio:.2f}x "
          f"(target <= {target:.2f}x: {'met' if ratio <= target else 'NOT met'}; "
          f"pairs {', '.join(f'{r:.2f}' for r in res['ratios'])})")



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=3, help="measured pairs per notebook (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="uncounted pairs first (default 1)")
    ap.add_argument("--only", choices=sorted(NOTEBOOKS), help="just this notebook")
    ap.add_argument("--python", help="kernel for `grader grade` (default: its own default)")
    ap.add_argument("--full-kernel", action="store_true",
                    help="also time the bare run with the grader's full venv as the kernel")
    ap.add_argument("--bare-threads", action="store_true",
                    help="also time the bare run with the thread limits the sandbox sets (one "
                         "per CPU here): how much of the difference is the limits, not the grader")
    ap.add_argument("--json", type=Path, help="write the raw timings here")
    args = ap.parse_args()
    lean = lean_kernel_python()
    if lean is None:
        sys.exit("no lean kernel environment (.venv-kernel): run `make setup` first")
    from grader.data.loaders import load_data
    from grader.rubric import load_rubric

    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} CPUs; "
          f"lean kernel {lean}; grader kernel {args.python or 'its default'}", flush=True)
    data = load_data(load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml"))
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as d:
        tmp = Path(d)
        offline = tmp / "offline.json"
        offline.write_text(json.dumps({k: str(v) for k, v in data["datasets"].items()}))
        log = tmp / "commands.log"
        for which in [args.only] if args.only else list(NOTEBOOKS):
            results[which] = bench(which, args, tmp, str(lean), offline, log)
        peers = peer_times(args.n, log) if (not args.only or args.only == "ref") else {}
    for which, res in results.items():
        report(which, res)
    if "ref" in results:
        bare_med = statistics.median(results["ref"]["bare"])
        for peer, s in peers.items():
            print(f"{peer}: {s:.2f} s, {s / bare_med:.2f}x the lean bare run")
        if not peers:
            print("peers: not set up here (../shared/peers-bench/setup.sh); the issue measured "
                  "nbgrader 1.33x, Otter 1.32x")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
