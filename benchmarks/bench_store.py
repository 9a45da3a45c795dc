"""What the results store buys: re-running `grader grade` on an unchanged download against
grading it, and the grader's own peak memory (its process only, not the sandboxes) for a small
and a large class. Both measured in the same run, with real `grader grade` processes.

Submissions are N distinct copies (names, ids) of one notebook (the copy search is off unless
--similarity: identical copies would flag all N*(N-1)/2 pairs): `--notebook small` (default: a
NumPy model, seconds per re-run) or `--notebook demo` (the demo's reference MNIST notebook,
which trains with TensorFlow: minutes for a big N).

    .venv/bin/python benchmarks/bench_store.py [--n 200] [--small-n 20] [--notebook small|demo]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import NUMPY_MODEL, SOFTMAX, notebook, small_rubric_dict  # noqa: E402


def notebook_bytes(kind: str) -> bytes:
    if kind == "demo":
        with zipfile.ZipFile(ROOT / "submissions" / "demo" / "mnist_cnn.zip") as z:
            name = next(n for n in z.namelist() if n.endswith(".ipynb") and "4518203" in n)
            return z.read(name)
    import nbformat

    nb = notebook("import numpy as np", SOFTMAX, NUMPY_MODEL)
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    return nbformat.writes(nb).encode()


def make_zip(path: Path, n: int, body: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for i in range(n):
            pid = str(5000000 + i)
            z.writestr(f"Alumno {i:03d} Prueba_{pid}_assignsubmission_file/mnist_cnn.ipynb", body)
    return path


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak RSS (bytes) of the grader's own process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"grader failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--small-n", type=int, default=20)
    ap.add_argument("--notebook", choices=("small", "demo"), default="small")
    ap.add_argument("--similarity", action="store_true",
                    help="keep the copy search on (the copies are identical: every pair is flagged, "
                    "a worst case that measures the similarity report, not the store)")
    args = ap.parse_args()
    body = notebook_bytes(args.notebook)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        tmp = Path(tmp)
        if args.notebook == "demo":
            rubric = ROOT / "rubrics" / "mnist_cnn.yaml"
        else:
            rubric = tmp / "mnist_cnn.yaml"
            rubric.write_text(yaml.safe_dump({**small_rubric_dict(timeout_s=600),
                                              "similarity": {"enabled": args.similarity}}))
        rows = {}
        for n in (args.small_n, args.n):
            zpath = make_zip(tmp / f"class-{n}.zip", n, body)
            cmd = [sys.executable, "-m", "grader", "grade", "mnist_cnn", str(zpath), "--rubric",
                   str(rubric), "--out", str(tmp / f"out-{n}"), "--course-dir", str(ROOT), "--allow-standin"]
            print(f"grading {n} submissions ...", flush=True)
            grade = timed(cmd)
            regrade = timed(cmd)
            rows[n] = (grade, regrade)
        print(f"\n{'submissions':>12} {'grade s':>9} {'re-run s':>9} {'speed-up':>9} "
              f"{'grade MB':>9} {'re-run MB':>9}")
        for n, ((gw, gm), (rw, rm)) in rows.items():
            print(f"{n:>12} {gw:9.1f} {rw:9.2f} {gw / rw:8.0f}x {gm / 2**20:9.0f} {rm / 2**20:9.0f}")
        (_, gm_s), (_, rm_s) = rows[args.small_n]
        (_, gm_l), (_, rm_l) = rows[args.n]
        print(f"\nunchanged re-run vs grading, {args.n} submissions: "
              f"{rows[args.n][0][0] / rows[args.n][1][0]:.0f}x faster (target >= 100x)")
        print(f"grader peak memory, {args.n} vs {args.small_n} submissions: grading "
              f"{gm_l / gm_s:.2f}x, re-run {rm_l / rm_s:.2f}x (target: flat, ~1x)")


if __name__ == "__main__":
    main()
