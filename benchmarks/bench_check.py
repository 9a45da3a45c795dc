"""Time of the student self-check (`grader check NOTEBOOK`) against a full re-run of the notebook.

Each demo notebook is checked the way a student runs it: a fresh `grader check` process (Python
start-up and imports included), repeated, median. The baseline, in the same run, is a full
re-execution of the reference notebook with `jupyter nbconvert --execute` (what "does it pass?"
costs without the self-check; the grader's sandboxed re-run is slower still). Also reports
whether TensorFlow was imported by the check (it must not be: the demo functions are NumPy).

    .venv/bin/python benchmarks/bench_check.py [--repeat 3] [--rerun] [--install]

--rerun   also times `grader check --rerun` (the sandboxed re-run, Linux with bubblewrap)
--install measures a clean virtual environment with only the student package: wheel build,
          `pip install` time (from the package index, no cache), size on disk, and a check from it
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
REFERENCE = "4518203"  # José Núñez


def demo_notebooks(tmp: Path) -> dict[str, Path]:
    with zipfile.ZipFile(ROOT / "submissions" / "demo" / "mnist_cnn.zip") as z:
        z.extractall(tmp / "demo")
    out = {}
    for nb in sorted((tmp / "demo").glob("*/*.ipynb")):
        out[nb.parent.name.split("_")[0]] = nb
    return out


def timed(argv: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    return time.perf_counter() - t, out


def check_times(python: str, nb: Path, repeat: int, cwd: Path) -> tuple[float, dict]:
    times, report = [], {}
    for _ in range(repeat):
        s, out = timed([python, "-m", "grader", "check", str(nb), "--json"], cwd=cwd, timeout=300)
        if out.returncode not in (0, 1):
            raise SystemExit(f"grader check failed on {nb}:\n{out.stderr[-2000:]}")
        times.append(s)
        report = json.loads(out.stdout)
    return statistics.median(times), report


def imports_tensorflow(python: str, nb: Path, cwd: Path) -> bool:
    _, out = timed([python, "-X", "importtime", "-m", "grader", "check", str(nb)], cwd=cwd, timeout=300)
    return any(line.rstrip().endswith(("| tensorflow", "| keras")) for line in out.stderr.splitlines())


def nbconvert(nb: Path, tmp: Path) -> float:
    from grader.data.standin import ensure_mnist_standin

    offline = tmp / "offline.json"
    offline.write_text(json.dumps({"mnist.npz": str(ensure_mnist_standin()["mnist.npz"])}))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "grader" / "runner"), "GRADER_OFFLINE_FILES": str(offline),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    s, out = timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.kernel_name=python3", "--output-dir", str(tmp), "--output", "out.ipynb",
                    str(nb)], env=env, cwd=tmp, timeout=1800)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return s


def rerun_time(nb: Path, tmp: Path) -> tuple[float, subprocess.CompletedProcess]:
    return timed([sys.executable, "-m", "grader", "check", str(nb), "--rerun", "--data", "mnist.npz=standin"],
                 cwd=tmp, timeout=1800)


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def install(tmp: Path, nb: Path) -> None:
    """A clean venv with the student package only, as a student's `pip install` of the course's wheel makes it."""
    from grader.authoring.student_package import build_student_wheel

    wheel = build_student_wheel(ROOT, tmp / "dist")  # as `grader release` builds it
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    empty = du(venv)
    s, out = timed([py, "-m", "pip", "install", "--no-cache-dir", "-q", str(wheel)], timeout=1200)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    size = du(venv) - empty
    _, frozen = timed([py, "-m", "pip", "freeze"], timeout=120)
    dists = [ln.split("==")[0] for ln in frozen.stdout.split() if "==" in ln]
    heavy = [d for d in dists if d.lower() in ("tensorflow", "tensorflow-cpu", "nbgrader", "nbclient", "ipykernel",
                                               "jupyter-server", "notebook", "jupyterlab", "ipython")]
    cold, out = timed([py, "-m", "grader", "check", str(nb)], cwd=tmp, timeout=300)
    warm, _ = timed([py, "-m", "grader", "check", str(nb)], cwd=tmp, timeout=300)
    print(f"clean venv install of {wheel.name} (no pip cache, from the package index):")
    print(f"  pip install                    {s:6.1f} s")
    print(f"  size on disk                   {size / 2**20:6.1f} MiB in {len(dists)} distributions")
    print(f"  heavy packages                 {', '.join(heavy) or 'none'}")
    print(f"  grader check, first run        {cold:6.2f} s   (exit {out.returncode})")
    print(f"  grader check, second run       {warm:6.2f} s")
    print(f"  distributions: {', '.join(sorted(dists, key=str.lower))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rerun", action="store_true")
    ap.add_argument("--install", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        notebooks = demo_notebooks(tmp)
        ref = next(p for name, p in notebooks.items() if REFERENCE in str(p))
        print(f"grader check, fresh process per run, median of {args.repeat}, {os.cpu_count()} CPUs:")
        checks = []
        for name, nb in notebooks.items():
            s, report = check_times(sys.executable, nb, args.repeat, tmp)
            checks.append(s)
            verdict = "invalid" if report.get("invalid") else f"exit {report['exit_code']}"
            inside = report.get("timings", {}).get("total_s", 0)
            print(f"  {name:24.24} {s:6.2f} s  ({verdict}; {inside:.2f} s inside the check)")
        tf = imports_tensorflow(sys.executable, ref, tmp)
        print(f"  TensorFlow imported by the check process: {'YES' if tf else 'no'}")
        base = nbconvert(ref, tmp)
        median = statistics.median(checks)
        print(f"\nfull re-run of the reference notebook (jupyter nbconvert --execute): {base:6.1f} s")
        print(f"grader check (median over the demo notebooks):                     {median:6.2f} s")
        print(f"ratio check / full re-run: {median / base:.3f}  ({base / median:.0f}x faster)")
        if args.rerun:
            s, out = rerun_time(ref, tmp)
            if "Traceback" in out.stderr or out.returncode not in (0, 1):
                print(f"grader check --rerun FAILED: {out.stderr.strip().splitlines()[-1:]}")
            else:
                print(f"grader check --rerun (sandboxed re-run + judges):                    {s:6.1f} s "
                      f"(exit {out.returncode}), {s / base:.2f}x the plain re-run")
        if args.install:
            print()
            install(tmp, ref)


if __name__ == "__main__":
    main()
