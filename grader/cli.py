"""Command line: `grader grade`, `grader release`, `grader doctor`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import GraderError

EPILOG = """examples:
  grader grade mnist_cnn moodle-download.zip --out reports/
  grader grade mnist_cnn submissions/ --rubric my-rubric.yaml --set limits.memory_mb=2048
  grader release mnist_cnn
  grader doctor
"""


def course_dir(arg: str | None) -> Path:
    """Where rubrics/ and assignments/ live: --course-dir, $GRADER_COURSE_DIR, the current
    folder if it has rubrics/, else the folder this package was installed from."""
    for cand in (arg, os.environ.get("GRADER_COURSE_DIR")):
        if cand:
            return Path(cand)
    if Path("rubrics").is_dir():
        return Path(".")
    return Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grader", description="Sandboxed auto-grader for the Deep Learning course's "
        "Jupyter notebooks, with Moodle import/export.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"grader {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

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
    g.set_defaults(func=cmd_grade)

    r = sub.add_parser("release", help="build the student notebook from the instructor's source",
                       description="Run nbgrader's preprocessors (clear solutions, lock cells, "
                       "checksums) on assignments/ASSIGNMENT/source/ and write release/.")
    r.add_argument("assignment")
    r.add_argument("--course-dir")
    r.set_defaults(func=cmd_release)

    d = sub.add_parser("doctor", help="show what the sandbox will use on this machine")
    d.add_argument("--python", help="kernel interpreter to inspect (default: this one)")
    d.set_defaults(func=cmd_doctor)
    return p


def _load_rubric(args):
    from .rubric import load_rubric

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


def cmd_grade(args) -> int:
    from rich.console import Console

    from .batch import BatchOptions, grade_batch
    from .report.terminal import progress, summary_table

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


def cmd_release(args) -> int:
    from .authoring.release import release_notebook

    base = course_dir(args.course_dir) / "assignments" / args.assignment
    sources = sorted((base / "source").glob("*.ipynb"))
    if not sources:
        raise GraderError(f"no source notebook in {base / 'source'}")
    for src in sources:
        out = release_notebook(src, base / "release" / src.name)
        print(f"released {src} -> {out}")
    return 0


def cmd_doctor(args) -> int:
    import shutil

    from .sandbox.kernel_env import probe_kernel_env
    from .sandbox.limits import detect_mechanism

    bwrap = shutil.which("bwrap")
    print(f"grader {__version__}")
    print(f"bubblewrap: {bwrap or 'MISSING (apt-get install bubblewrap)'}")
    print(f"limits:     {detect_mechanism()}")
    env = probe_kernel_env(args.python)
    print(f"kernel:     {env.python} (Python {env.version})")
    for k, v in env.packages.items():
        print(f"  {k:11} {v or '-'}")
    print(f"cpus:       {os.cpu_count()}")
    return 0 if bwrap else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except GraderError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
