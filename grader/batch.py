"""The instructor's batch: ingest the Moodle download, grade every submission in parallel,
write results.jsonl and the Moodle worksheet. One bad notebook never costs the batch.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .export.atomic import write_atomic
from .export.results_jsonl import dumps_row, write_results
from .grade import CATALOG, GradeContext, _zero_checks, grade_submission, hidden_cases_dir
from .ingest import ingest
from .messages import tr
from .model import Result, Submission
from .data.loaders import load_data
from .roundtrip import RoundTrip
from .rubric import Rubric
from .sandbox import SandboxSession


@dataclass
class BatchOptions:
    workers: int | None = None  # None: what the machine can take
    lang: str | None = None  # None: the rubric's
    python: str | None = None  # kernel interpreter; None: the grader's own
    sandboxed: bool = True
    keep_jobs: bool = False
    limits_mechanism: str | None = None
    gpus: list[str] = field(default_factory=list)  # GPU indices for notebook runs; [] = CPU
    jobs_per_gpu: int = 1
    worksheet: Path | None = None  # the grading worksheet downloaded from Moodle, to fill
    course: object = None  # CourseConfig: deadline and late policy (None: no late policy)
    data_dir: Path | None = None  # prepared data (grader data); None: the default


@dataclass
class BatchReport:
    out_dir: Path
    results: list[Result]
    pairs: list[tuple[Submission, Result]]
    ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0
    workers: int = 1


def default_workers(memory_mb: int) -> int:
    """As many parallel jobs as cores, but no more than the memory limits fit in RAM."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import psutil

        avail_mb = psutil.virtual_memory().available >> 20
    except Exception:
        avail_mb = memory_mb * cpus
    return max(1, min(cpus, avail_mb // max(memory_mb, 1)))


def grade_batch(rubric: Rubric, source: Path, out_root: Path, opts: BatchOptions,
                on_result=None, on_start=None) -> BatchReport:
    t0 = time.monotonic()
    lang = opts.lang or rubric.lang
    out_dir = Path(out_root) / rubric.assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ingest(Path(source), rubric.assignment, out_dir, preferred=rubric.notebook.preferred)
    rt = RoundTrip.start(rubric.assignment, opts.course, opts.worksheet, report.submissions,
                         rubric.max_grade)  # a wrong worksheet fails here, before any grading
    report.warnings += rt.warnings
    data = load_data(rubric, opts.data_dir)
    workers = max(1, min(opts.workers or default_workers(rubric.limits.memory_mb),
                         len(report.submissions) or 1))
    cpus = os.cpu_count() or 1
    threads = rubric.limits.threads or max(1, cpus // workers)
    session = SandboxSession.create(opts.python, sandboxed=opts.sandboxed,
                                    keep_jobs=opts.keep_jobs,
                                    limits_mechanism=opts.limits_mechanism, threads=threads,
                                    gpus=opts.gpus, jobs_per_gpu=opts.jobs_per_gpu)
    ctx = GradeContext(rubric=rubric, session=session, lang=lang, datasets=data.pop("datasets"),
                       data=data, executed_dir=out_dir / "executed")
    for chk in rubric.checks:  # build every unit suite once; say so if hidden cases are missing
        if chk.kind == "unit_test" and chk.suite_name not in ctx.unit_suites:
            suite = ctx.suite(chk)
            if all(c.public for c in suite):
                report.warnings.append(f"no hidden cases for {chk.suite_name!r} in "
                                       f"{hidden_cases_dir(rubric)}: graded on public cases only")
    shutil.rmtree(out_dir / "executed", ignore_errors=True)  # derived: never mix two runs
    partial = out_dir / "results.partial.jsonl"
    results: dict[str, Result] = {}
    if on_start:
        on_start(len(report.submissions))
    try:
        with open(partial, "w", encoding="utf-8") as part, ThreadPoolExecutor(workers) as pool:
            futures = {pool.submit(_safe_grade, sub, ctx): sub for sub in report.submissions}
            for fut in as_completed(futures):
                res = rt.stamp(futures[fut], fut.result(), lang)
                results[res.participant_id] = res
                part.write(dumps_row(res) + "\n")
                part.flush()
                if on_result:
                    on_result(res)
    finally:
        session.close()
    pairs = [(s, results[s.participant_id]) for s in report.submissions]
    ordered = [r for _, r in pairs]
    files = {
        "results": write_results(out_dir / "results.jsonl", ordered),
        **rt.write(out_dir, pairs, lang, rubric.title),
    }
    files["run"] = write_atomic(out_dir / "run.json", json.dumps({
        "grader_version": __version__, "assignment": rubric.assignment, "rubric": rubric.source,
        "rubric_resolved": rubric.model_dump(mode="json", exclude={"source"}),
        "source": str(source), "lang": lang, "workers": workers, "threads_per_job": threads,
        "gpus": opts.gpus, "jobs_per_gpu": opts.jobs_per_gpu,
        "sandboxed": opts.sandboxed, "kernel_python": str(session.kenv.python),
        "kernel_packages": session.kenv.packages, "hidden_test": data["hidden_path"],
        "datasets": {k: str(v) for k, v in ctx.datasets.items()}, "data": data["sources"],
        "host": platform.node(), "finished": datetime.now(timezone.utc).isoformat(),
        "wall_s": round(time.monotonic() - t0, 2),
        "ignored": report.ignored, "warnings": report.warnings, **rt.run_info(),
    }, indent=1, ensure_ascii=False))
    partial.unlink(missing_ok=True)
    return BatchReport(out_dir=out_dir, results=ordered, pairs=pairs, ignored=report.ignored,
                       warnings=report.warnings, files=files,
                       wall_s=round(time.monotonic() - t0, 2), workers=workers)


def _safe_grade(sub: Submission, ctx: GradeContext) -> Result:
    """Whatever happens (a bug of ours included), the submission gets a row."""
    try:
        return grade_submission(sub, ctx)
    except Exception:
        return Result.failed(sub, "error", tr(CATALOG, "internal", ctx.lang), ctx.rubric.max_grade,
                             detail=traceback.format_exc()[-6000:],
                             checks=_zero_checks(ctx.rubric, ctx.lang))
