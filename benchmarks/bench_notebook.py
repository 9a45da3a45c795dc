"""Time per notebook: the grader (sandbox + checks) against a plain `jupyter nbconvert --execute`.

Runs the demo's reference notebook (José Núñez) both ways on this machine, in the same run,
and prints the ratio. The baseline gets the same offline Keras data (the grader's shim), or it
could not run at all without network.

    .venv/bin/python benchmarks/bench_notebook.py [--repeat 3]
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

from grader.data.loaders import load_data  # noqa: E402
from grader.grade import GradeContext, grade_submission  # noqa: E402
from grader.ingest import ingest  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402
from grader.sandbox import SandboxSession, run_notebook  # noqa: E402

PID = "4518203"  # José Núñez: the reference solution


def nbconvert(nb: Path, offline: Path, tmp: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "grader" / "runner"),
           "GRADER_OFFLINE_FILES": str(offline), "TF_CPP_MIN_LOG_LEVEL": "2"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.kernel_name=python3", "--output-dir", str(tmp),
                    "--output", "out.ipynb", str(nb)], check=True, env=env, cwd=tmp,
                   capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rubric = load_rubric(ROOT / "rubrics" / "mnist_cnn.yaml")
    data = load_data(rubric)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rep = ingest(ROOT / "submissions/demo/mnist_cnn.zip", "mnist_cnn", tmp)
        sub = next(s for s in rep.submissions if s.participant_id == PID)
        offline = tmp / "offline.json"
        offline.write_text(json.dumps({k: str(v) for k, v in data["datasets"].items()}))
        cpus = os.cpu_count() or 1
        session = SandboxSession.create(workroot=tmp / "jobs", threads=cpus)
        ctx = GradeContext(rubric=rubric, session=session, lang="es", datasets=data["datasets"],
                           data=data)
        base, sandboxed, full = [], [], []
        for _ in range(args.repeat):
            base.append(nbconvert(sub.notebook, offline, tmp))
            t = time.perf_counter()
            run = run_notebook(session, sub.notebook, name="bench", datasets=data["datasets"],
                               timeout_s=600, cell_timeout_s=600)
            sandboxed.append(time.perf_counter() - t)
            assert run.status == "ok", run.message
            t = time.perf_counter()
            res = grade_submission(sub, ctx)
            full.append(time.perf_counter() - t)
            assert res.status == "graded", res.message
        session.close()
    b = statistics.median(base)
    print(f"notebook: {sub.notebook_name} of {sub.full_name}, {args.repeat} runs each, {cpus} CPUs, median seconds")
    print(f"  jupyter nbconvert --execute (no sandbox)  {b:6.1f} s   1.00x")
    print(f"  sandboxed re-run only (bwrap + limits)    {statistics.median(sandboxed):6.1f} s   "
          f"{statistics.median(sandboxed) / b:.2f}x")
    print(f"  grader, whole submission (unit jobs +     {statistics.median(full):6.1f} s   "
          f"{statistics.median(full) / b:.2f}x")
    print("   re-run + hidden predictions + judging)")
    print(f"  unit-test jobs alone (no re-training)     {res.timings.get('softmax_s', 0) + res.timings.get('cross_entropy_s', 0):6.1f} s")


if __name__ == "__main__":
    main()
