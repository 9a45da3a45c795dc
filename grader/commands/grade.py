"""`grader grade`: the instructor's batch grading of a Moodle download."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import GraderError
from ..paths import course_dir


def add_parser(sub) -> None:
    g = sub.add_parser(
        "grade", help="grade a Moodle 'Download all submissions' zip (or its extracted folder)",
        description="Re-run every submitted notebook in a sandbox (no network, limited time and "
        "memory), check it against the rubric, and write results.jsonl and the Moodle grading "
        "worksheet to OUT/ASSIGNMENT/.", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The worksheet goes back to Moodle with Assignment → View all submissions → "
        "Grading action: Upload grading worksheet.")
    g.add_argument("assignment", help="assignment id, e.g. mnist_cnn (selects rubrics/ASSIGNMENT.yaml)")
    g.add_argument("source", type=Path, help="the Moodle zip, or a folder with its contents")
    g.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports/)")
    g.add_argument("--rubric", type=Path, help="rubric YAML to use instead of rubrics/ASSIGNMENT.yaml")
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a rubric value for this run, e.g. limits.memory_mb=2048, "
                   "data.hidden_test=/data/mnist_hidden.npz, checks.accuracy.threshold=0.95 "
                   "(repeatable)")
    g.add_argument("--timeout-s", type=float, help="shortcut for --set limits.timeout_s=...")
    g.add_argument("--memory-mb", type=int, help="shortcut for --set limits.memory_mb=...")
    g.add_argument("--workers", type=int, help="parallel notebooks (default: what cores and memory allow)")
    g.add_argument("--lang", choices=("es", "en"), help="language of student feedback (default: the rubric's, es)")
    g.add_argument("--python", help="interpreter of the kernel environment (default: this one)")
    g.add_argument("--course-dir", help="folder with rubrics/ and assignments/")
    g.add_argument("--keep-jobs", action="store_true", help="keep the sandbox job folders (debugging)")
    g.add_argument("--limits", choices=("cgroup-v1", "cgroup-v2", "watchdog"),
                   help="force a limit mechanism (default: detect)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code WITHOUT bubblewrap (network and your files exposed); "
                   "only for notebooks you trust")
    g.set_defaults(func=run)


def _load_rubric(args):
    from ..rubric import load_rubric

    path = args.rubric or course_dir(args.course_dir) / "rubrics" / f"{args.assignment}.yaml"
    overrides = list(args.overrides)
    if args.timeout_s:
        overrides.append(f"limits.timeout_s={args.timeout_s}")
    if args.memory_mb:
        overrides.append(f"limits.memory_mb={args.memory_mb}")
    rubric = load_rubric(path, overrides)
    if rubric.assignment != args.assignment:
        raise GraderError(f"rubric {path} is for assignment {rubric.assignment!r}, not {args.assignment!r}")
    return rubric


def run(args) -> int:
    from rich.console import Console

    from ..batch import BatchOptions, grade_batch
    from ..report.terminal import progress, summary_table

    console = Console(stderr=False)
    rubric = _load_rubric(args)
    if not args.source.exists():
        raise GraderError(f"not found: {args.source}")
    if args.unsafe_no_sandbox:
        console.print("[bold red]WARNING: --unsafe-no-sandbox: student code runs with YOUR "
                      "permissions, network and files.[/]")
    opts = BatchOptions(workers=args.workers, lang=args.lang, python=args.python,
                        sandboxed=not args.unsafe_no_sandbox, keep_jobs=args.keep_jobs,
                        limits_mechanism=args.limits)
    state = {}

    def on_start(n):
        console.print(f"Grading {n} submissions of [bold]{rubric.assignment}[/] with {rubric.source}")
        state["cm"] = progress(console, n, rubric.assignment)
        state["advance"] = state["cm"].__enter__()

    try:
        rep = grade_batch(rubric, args.source, args.out, opts,
                          on_result=lambda r: state["advance"](r), on_start=on_start)
    finally:
        if "cm" in state:
            state["cm"].__exit__(None, None, None)
    console.print(summary_table(rep.results, f"{rubric.title or rubric.assignment}"))
    counts = {}
    for r in rep.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
                  + f" — {len(rep.results)} submissions in {rep.wall_s:.0f} s ({rep.workers} workers)")
    for w in rep.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    if rep.ignored:
        console.print(f"ignored {len(rep.ignored)} files that are not Moodle submissions (see run.json)")
    for name, path in rep.files.items():
        console.print(f"  {name:9} {path}")
    return 0


