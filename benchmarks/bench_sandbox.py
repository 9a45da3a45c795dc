"""What the sandbox costs: the same jobs with bubblewrap + limits and without (--unsafe-no-sandbox).

Two jobs, each run both ways in the same process, alternating, `--repeat` times:
  - a unit-test job (calls `softmax` on the suite: start-up dominated),
  - the demo's reference MNIST notebook (kernel start, TensorFlow import, training, probe).
Prints medians and the sandboxed/unsandboxed ratio.

    .venv/bin/python benchmarks/bench_sandbox.py [--repeat 3]
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


from grader.checks import build_suite, case_payload  # noqa: E402
from grader.data.loaders import load_data  # noqa: E402
from grader.ingest import ingest  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader.sandbox import SandboxSession, run_functions, run_notebook  # noqa: E402

SOFTMAX = "import numpy as np\ndef softmax(z):\n    e = np.exp(z - z.max(axis=0))\n    return e / e.sum(axis=0)\n"


def unit_job(session):
    spec, inputs = case_payload(build_suite("softmax", hidden_dir=None), "softmax")
    t = time.perf_counter()
    run = run_functions(session, SOFTMAX, spec, inputs, name="bench-unit", timeout_s=60)
    assert run.status == "ok", run.message
    return time.perf_counter() - t


def notebook_job(session, sub, data):
    t = time.perf_counter()
    run = run_notebook(session, sub.notebook, name="bench-nb", datasets=data["datasets"],
                       timeout_s=900, cell_timeout_s=900)
    assert run.status == "ok", run.message
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rubric = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")
    data = load_data(rubric)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sub = next(s for s in ingest(ROOT / "submissions/demo/mnist_cnn.zip", "mnist_cnn", tmp).submissions
                   if s.participant_id == "4518203")
        boxed = SandboxSession.create(workroot=tmp / "a", threads=2)
        bare = SandboxSession.create(workroot=tmp / "b", sandboxed=False, threads=2)
        times = {k: [] for k in ("unit_boxed", "unit_bare", "nb_boxed", "nb_bare")}
        for _ in range(args.repeat):
            times["unit_boxed"].append(unit_job(boxed))
            times["unit_bare"].append(unit_job(bare))
            times["nb_boxed"].append(notebook_job(boxed, sub, data))
            times["nb_bare"].append(notebook_job(bare, sub, data))
    m = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.repeat} runs each, medians (same machine, same run):")
    print(f"  unit-test job   no sandbox {m['unit_bare']:6.2f} s   sandbox {m['unit_boxed']:6.2f} s"
          f"   ratio {m['unit_boxed'] / m['unit_bare']:.2f}x   (+{m['unit_boxed'] - m['unit_bare']:.2f} s)")
    print(f"  MNIST notebook  no sandbox {m['nb_bare']:6.2f} s   sandbox {m['nb_boxed']:6.2f} s"
          f"   ratio {m['nb_boxed'] / m['nb_bare']:.2f}x   (+{m['nb_boxed'] - m['nb_bare']:.2f} s)")


if __name__ == "__main__":
    main()
