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
    r = g.add_argument_group("re-grading (results are kept in OUT/ASSIGNMENT/grader.sqlite)")
    r.add_argument("--only", action="append", default=[], metavar="ID_OR_NAME",
                   help="re-grade just this student (participant id, or full name with accents "
                   "and case ignored; repeatable); everyone else keeps their stored result")
    r.add_argument("--force", action="store_true",
                   help="re-grade everyone, even unchanged notebooks whose result is stored")
    g.add_argument("--workers", type=int, help="parallel notebooks (default: what cores and memory allow)")
    g.add_argument("--lang", choices=("es", "en"), help="language of student feedback (default: the rubric's, es)")
    g.add_argument("--python", help="interpreter of the kernel environment (default: the lean "
                   ".venv-kernel/ that `make setup` builds, else this one)")
    g.add_argument("--course-dir", help="folder with rubrics/ and assignments/")
    g.add_argument("--keep-jobs", action="store_true", help="keep the sandbox job folders (debugging)")
    g.add_argument("--limits", choices=("cgroup-v1", "cgroup-v2", "watchdog"),
                   help="force a limit mechanism (default: detect)")
    g.add_argument("--gpus", metavar="LIST", help="GPUs for the notebook runs: 'all' or indices "
                   "such as 0,1; each run gets one GPU and waits for a free one (default: CPU only)")
    g.add_argument("--jobs-per-gpu", type=int, default=1, metavar="N",
                   help="notebook runs sharing one GPU at a time (default: 1)")
    g.add_argument("--allow-standin", action="store_true",
                   help="grade on stand-in data although this is not the bundled demo (trial runs only)")
    g.add_argument("--data-dir", type=Path, help="prepared data (default: <course>/data; see grader data)")
    g.add_argument("--dry-run", action="store_true", help="say what would happen (notebooks, data, "
                   "limits, time) without running any student code")
    c = g.add_argument_group("cluster (Dask distributed; see the README's cluster section)")
    c.add_argument("--cluster", metavar="ADDR",
                   help="run the sandboxed jobs on Dask workers: tcp://HOST:8786 (a running "
                   "`dask scheduler`), local:N (N worker processes here) or slurm (dask-jobqueue, "
                   "configured by --cluster-config); with --gpus, notebook runs ask for the "
                   "worker resource GPU=1")
    c.add_argument("--cluster-config", type=Path, metavar="YAML",
                   help="with --cluster slurm: partition, jobs, cores, memory, walltime, "
                   "gpus_per_job... (default: ./cluster.yaml)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code WITHOUT bubblewrap (network and your files exposed); "
                   "only for notebooks you trust")
    m = g.add_argument_group("Moodle round trip and late policy")
    m.add_argument("--worksheet", type=Path, metavar="CSV",
                   help="the grading worksheet downloaded from this assignment in Moodle (English "
                   "or Spanish site): written back with Grade and Feedback comments filled, "
                   "every other cell as downloaded; submission times are taken from it")
    m.add_argument("--course", type=Path, metavar="YAML",
                   help="course config with the deadline and late policy (default: rubrics/course.yaml)")
    m.add_argument("--late-policy", choices=("flag", "reject", "penalty"),
                   help="late submissions: flag (default), reject (grade 0) or penalty")
    m.add_argument("--late-penalty-per-day", type=float, metavar="POINTS",
                   help="with --late-policy penalty: points off per started day late")
    g.add_argument("--similarity-archive", type=Path, metavar="FOLDER",
                   help="earlier years' graded output (e.g. last year's reports/) to compare "
                   "with too; see `grader similarity --help` for how copies are found")
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


def _load_course(args):
    """The course config (deadline, late policy), with the command line's changes; None when
    there is none and nothing asks for it."""
    from ..course import load_course

    path = args.course or course_dir(args.course_dir) / "rubrics" / "course.yaml"
    changes = {}
    if args.late_policy:
        changes["late.policy"] = args.late_policy
    if args.late_penalty_per_day is not None:
        changes["late.penalty_per_day"] = args.late_penalty_per_day
    if not path.exists() and not args.course and not changes:
        return None
    return load_course(path, changes)


def run(args) -> int:
    from rich.console import Console

    from ..batch import BatchOptions, Interrupted, grade_batch
    from ..sandbox.gpus import parse_gpus
    from ..report.safe_text import term
    from ..report.terminal import progress, report_line, summary_table

    console = Console(stderr=False)
    rubric = _load_rubric(args)
    if not args.source.exists():
        raise GraderError(f"not found: {args.source}")
    course = _load_course(args)
    if args.similarity_archive and not args.similarity_archive.is_dir():
        raise GraderError(f"--similarity-archive {args.similarity_archive}: not a folder")
    if args.dry_run:
        from ..dryrun import dry_run

        return dry_run(rubric, args, course)
    from ..data.guard import check_standin
    from ..data.sources import describe

    sources, data_warnings = check_standin(rubric, args.source, args.allow_standin, args.course_dir, args.data_dir)
    console.print("Data:", *describe(sources), sep="\n  ", markup=False, highlight=False, soft_wrap=True)
    for w in data_warnings:
        console.print(f"[bold yellow]warning:[/] {term(w)}")
    if args.unsafe_no_sandbox:
        console.print("[bold red]WARNING: --unsafe-no-sandbox: student code runs with YOUR "
                      "permissions, network and files.[/]")
    python = args.python
    if not args.cluster:  # a cluster's workers choose the same way on their own node
        from ..sandbox.kernel_choice import choose_kernel_python

        python, note = choose_kernel_python(args.python)
        if note:
            console.print(note, markup=False, highlight=False, soft_wrap=True)
    opts = BatchOptions(workers=args.workers, lang=args.lang, python=python,
                        sandboxed=not args.unsafe_no_sandbox, keep_jobs=args.keep_jobs,
                        limits_mechanism=args.limits,
                        gpus=([args.gpus] if args.gpus else []) if args.cluster else parse_gpus(args.gpus),
                        jobs_per_gpu=args.jobs_per_gpu, worksheet=args.worksheet, course=course,
                        only=args.only, force=args.force, cluster=args.cluster,
                        cluster_config=args.cluster_config,
                        similarity_archive=args.similarity_archive, data_dir=args.data_dir)
    state = {}

    def on_start(n, reused=0, workers=1):
        kept = f" ({reused} unchanged, their stored results reused)" if reused else ""
        console.print(f"Grading {n} submissions of [bold]{term(rubric.assignment)}[/] with "
                      f"{term(str(rubric.source))}{kept}")
        state["cm"] = progress(console, n, rubric.assignment, workers)
        state["advance"] = state["cm"].__enter__()

    try:
        rep = grade_batch(rubric, args.source, args.out, opts,
                          on_result=lambda r: state["advance"](r), on_start=on_start)
    except Interrupted:
        if "cm" in state:
            state["cm"].__exit__(None, None, None)
            state.pop("cm")
        raise
    finally:
        if "cm" in state:
            state["cm"].__exit__(None, None, None)
    console.print(summary_table(rep.results, f"{rubric.title or rubric.assignment}", rubric))
    counts = {}
    for r in rep.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
                  + f" — {len(rep.results)} students: {rep.reused} reused, {rep.graded} graded "
                  f"in {rep.wall_s:.0f} s ({rep.workers} workers)")
    late = [r for r in rep.results if r.late]
    if late:
        console.print(f"late ({course.late.policy if course else 'no policy'}): " + ", ".join(
            f"{term(r.full_name or r.participant_id)} {r.hours_late:g} h" for r in late))
    for w in rep.warnings:
        console.print(f"[yellow]warning:[/] {term(w)}")
    if rep.ignored:
        console.print(f"ignored {len(rep.ignored)} files that are not Moodle submissions (see run.json)")
    for name, path in rep.files.items():
        console.print(f"  {name:9} {term(path)}")
    console.print(report_line(rep.files))
    return 0


