"""How long the class report takes: index.html (with its plots), grades_by_check.csv and the
feedback pages, for generated classes of 20 and 200 students of each assignment, in one run.
Prints the medians and the 200/20 ratio (10x the students; the plots cost the same for any
class size, so the ratio stays well under 10).

    .venv/bin/python benchmarks/bench_class_report.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from class_gen import make_class  # noqa: E402
from grader.report.assignment_report import write_assignment_report  # noqa: E402


def build(assignment: str, n: int, root: Path) -> float:
    rub, pairs = make_class(assignment, n, seed=n)
    out = root / f"{assignment}-{n}"
    (out / "executed").mkdir(parents=True, exist_ok=True)
    for _, r in pairs:
        (out / "executed" / f"{r.participant_id}.ipynb").write_text("{}")
    t = time.perf_counter()
    write_assignment_report(out, rub, pairs, lang="es")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build("mnist_cnn", 5, Path(tmp))  # warm-up: imports matplotlib and jinja2 once
        print(f"{'assignment':14} {'20 students':>12} {'200 students':>13} {'ratio':>7}")
        for a in ("mnist_cnn", "imagenet_cnn", "rnn_text"):
            t = {n: [] for n in (20, 200)}
            for _ in range(args.repeat):
                for n in (20, 200):  # alternating, so both see the same machine load
                    t[n].append(build(a, n, Path(tmp)))
            m20, m200 = statistics.median(t[20]), statistics.median(t[200])
            print(f"{a:14} {m20:11.2f}s {m200:12.2f}s {m200 / m20:6.2f}x")


if __name__ == "__main__":
    main()
