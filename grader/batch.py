"""The instructor's batch: ingest the Moodle download, grade what is new or changed in
parallel, keep every finished result in the store as it arrives, and write the exports for the
whole class from the store. One bad notebook never costs the batch; an interrupt never costs a
finished result (run the same command again to resume).
"""
from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, phases
from .errors import GraderError
from .export.atomic import write_atomic
from .export.class_exports import class_pairs, write_class
from .checks.kinds import KINDS, lazy
from .grade import CATALOG, GradeContext, _zero_checks, grade_submission, hidden_cases_dir
from .ingest import ingest
from .ingest.select import select
from .integrity import flag_similar
from .messages import tr
from .model import Result, Submission
from .data.loaders import load_data
from .roundtrip import RoundTrip
from .report.assignment_report import write_assignment_report
from .report.safe_text import json_text
from .rubric import Rubric
from .cluster.runners import ClusterLost, LocalJobs
from .sandbox import SandboxSession
from .store import OutputLock, ResultStore
from .store.fingerprint import rubric_fingerprint, submission_key

KEPT_WORKSHEET = "worksheet.csv"  # the last worksheet given, kept in the store's folder


class Interrupted(GraderError):
    """Ctrl-C during a batch: running sandboxes stopped, finished results kept."""

    exit_code = 130


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
    only: list[str] = field(default_factory=list)  # --only: re-grade just these students
    force: bool = False  # --force: re-grade everyone, stored results or not
    similarity_archive: Path | None = None  # earlier years' graded folders to compare with
    data_dir: Path | None = None  # prepared data (grader data); None: the default
    cluster: str | None = None  # --cluster: the sandboxed jobs go to Dask workers (None: here)
    cluster_config: Path | None = None  # --cluster slurm: its YAML file


@dataclass
class BatchReport:
    out_dir: Path
    results: list[Result]  # the whole class, from the store, in participant order
    pairs: list[tuple[Submission, Result]]
    ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0
    workers: int = 1
    graded: int = 0  # graded in this run
    reused: int = 0  # in this download, unchanged: stored result kept
    pending: int = 0  # still to grade (an interrupted run)
    run_id: int = 0


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
    out_dir = Path(out_root) / rubric.assignment
    with OutputLock(out_dir):
        store = ResultStore(out_dir)
        try:
            return _grade(rubric, Path(source), out_dir, store, opts, on_result, on_start)
        finally:
            store.close()


def _worksheet(opts: BatchOptions, store: ResultStore, warnings: list[str]) -> Path | None:
    """The worksheet given, kept for later runs; or the one kept from an earlier run, so an
    `--only` re-grade without --worksheet still fills the same file."""
    kept = store.files / KEPT_WORKSHEET
    if opts.worksheet is not None:
        return opts.worksheet
    if kept.exists():
        warnings.append(f"filling the worksheet given to an earlier run (kept as {kept}); "
                        "give --worksheet to use another")
        return kept
    return None


def _grade(rubric, source, out_dir, store: ResultStore, opts, on_result, on_start) -> BatchReport:
    t0 = time.monotonic()
    phases.mark("batch")
    lang = opts.lang or rubric.lang
    report = ingest(source, rubric.assignment, out_dir, preferred=rubric.notebook.preferred)
    phases.mark("ingested")
    selected = {s.participant_id for s in select(report.submissions, opts.only)} if opts.only \
        else {s.participant_id for s in report.submissions}
    worksheet = _worksheet(opts, store, report.warnings)
    rt = RoundTrip.start(rubric.assignment, opts.course, worksheet, report.submissions,
                         rubric.max_grade)  # a wrong worksheet fails here, before any grading
    if opts.worksheet is not None:
        write_atomic(store.files / KEPT_WORKSHEET, Path(opts.worksheet).read_bytes())
    report.warnings += rt.warnings
    data = load_data(rubric, opts.data_dir)
    phases.mark("data")
    runner = _runner(opts)
    phases.mark("session")
    try:
        kernel_python, kernel_packages = runner.kernel
        datasets = data.pop("datasets")
        data_files = [*datasets.values(), Path(data["hidden_path"])]
        hidden = hidden_cases_dir(rubric)
        if isinstance(hidden, Path):
            data_files.append(hidden)
        data_files += [f for c in rubric.checks if KINDS[c.kind].data_files
                       for f in lazy(KINDS[c.kind].data_files)(rubric, c)]
        fingerprint, parts = rubric_fingerprint(
            rubric, data_files, lang=lang, grader_version=__version__,
            kernel_python=kernel_python, sandboxed=opts.sandboxed, sha=store.file_sha256)
        store.sweep()
        subs = [store.keep_original(s) for s in report.submissions]
        keys = {s.participant_id: submission_key(s, fingerprint, store.file_sha256) for s in subs}
        stored = store.results()
        todo = [s for s in subs if s.participant_id in selected and (
            opts.force or opts.only or s.participant_id not in stored
            or not stored[s.participant_id].reusable or stored[s.participant_id].key != keys[s.participant_id])]
        reused = len(selected) - len(todo)
        run_id = store.begin_run(__version__, str(source), fingerprint, {
            "argv": sys.argv[1:], "only": opts.only, "force": opts.force, "to_grade": len(todo),
            "reused": reused, "fingerprint_parts": {k: v for k, v in parts.items() if k != "rubric"}})
        store.record_submissions(subs, run_id)
        slots = runner.slots() if opts.cluster else default_workers(rubric.limits.memory_mb)
        workers = max(1, min(opts.workers or slots, len(todo) or 1))
        threads = rubric.limits.threads or (None if opts.cluster else max(1, (os.cpu_count() or 1) // workers))
        runner.set_threads(threads)
        ctx = GradeContext(rubric=rubric, session=runner.session, lang=lang, datasets=datasets,
                           data=data, executed_dir=store.files / "staging", jobs=runner)
        for chk in rubric.checks:  # build every unit suite once; say so if hidden cases are missing
            if KINDS[chk.kind].phase == "unit" and chk.suite_name not in ctx.unit_suites and todo:
                if all(c.public for c in ctx.suite(chk)):
                    report.warnings.append(f"no hidden cases for {chk.suite_name!r} in {hidden}: "
                                           "graded on public cases only")
        (out_dir / "results.partial.jsonl").unlink(missing_ok=True)  # from graders before the store
        if on_start:
            on_start(len(todo), reused=reused, workers=workers)
        phases.mark("grading")
        graded, interrupted = _run_all(todo, ctx, store, keys, run_id, workers, rt, lang,
                                       on_result, report.warnings)
        phases.mark("graded")
    finally:
        runner.close()
    present = {s.participant_id for s in subs}
    stored = store.results()  # read once for every export
    pairs = class_pairs(store, stored, present, keys, rt, lang)
    similar = flag_similar(pairs, rubric, out_dir, archive=opts.similarity_archive)
    pairs, report.warnings = similar.pairs, report.warnings + similar.warnings
    files = write_class(out_dir, stored, pairs, rt, lang, rubric.title)
    if similar.report:
        files["similarity"] = similar.report
    pending = len(todo) - graded
    wall = round(time.monotonic() - t0, 2)
    info = {"graded": graded, "reused": reused, "pending": pending, "class": len(pairs),
            "state": "interrupted" if interrupted else "finished", "wall_s": wall,
            "cluster": opts.cluster and getattr(runner, "address", opts.cluster)}
    store.end_run(run_id, info["state"], info)
    files["run"] = write_atomic(out_dir / "run.json", json_text({
        "grader_version": __version__, "assignment": rubric.assignment, "rubric": rubric.source,
        "rubric_resolved": rubric.model_dump(mode="json", exclude={"source"}),
        "source": str(source), "lang": lang, "workers": workers, "threads_per_job": threads,
        "gpus": opts.gpus, "jobs_per_gpu": opts.jobs_per_gpu,
        "sandboxed": opts.sandboxed, "kernel_python": kernel_python,
        "kernel_packages": kernel_packages, "hidden_test": data["hidden_path"],
        "datasets": {k: str(v) for k, v in ctx.datasets.items()}, "data": data["sources"],
        "host": platform.node(), "finished": datetime.now(timezone.utc).isoformat(),
        "store": str(store.path), "run_id": run_id, "only": opts.only, "force": opts.force, **info,
        "cluster_jobs": getattr(runner, "placement", None),
        "ignored": report.ignored, "warnings": report.warnings, **rt.run_info(),
    }, indent=1))
    files["store"] = store.path
    # the class report last: it links the files above (also after an interrupt: what is done)
    files.update(write_assignment_report(out_dir, rubric, pairs, lang=opts.lang))
    rep = BatchReport(out_dir=out_dir, results=[r for _, r in pairs], pairs=pairs,
                      ignored=report.ignored, warnings=report.warnings, files=files, wall_s=wall,
                      workers=workers, graded=graded, reused=reused, pending=pending, run_id=run_id)
    phases.mark("exported")
    if isinstance(interrupted, ClusterLost):
        raise ClusterLost(f"{interrupted}: {graded} graded in this run and {len(pairs)} results kept "
                          f"in {store.path}; {pending} not graded yet. Run the same command again "
                          "(with a working cluster, or without --cluster) to resume.")
    if interrupted:
        raise Interrupted(f"interrupted: {graded} graded in this run and {len(pairs)} results kept "
                          f"in {store.path}; {pending} not graded yet. Exports written for what is "
                          "done; run the same command again to resume.")
    return rep


def _runner(opts: BatchOptions):
    """Where this batch's sandboxed jobs run: this machine's sandbox, or a Dask cluster."""
    if opts.cluster:
        from .cluster.connect import open_runner

        return open_runner(opts.cluster, config=opts.cluster_config, python=opts.python,
                           sandboxed=opts.sandboxed, limits_mechanism=opts.limits_mechanism,
                           gpus=bool(opts.gpus))
    return LocalJobs(SandboxSession.create(
        opts.python, sandboxed=opts.sandboxed, keep_jobs=opts.keep_jobs,
        limits_mechanism=opts.limits_mechanism, threads=1, gpus=opts.gpus,
        jobs_per_gpu=opts.jobs_per_gpu))


def _run_all(todo, ctx, store, keys, run_id, workers, rt, lang, on_result, warnings):
    """Grade `todo` on `workers` threads, storing each result as it arrives. On Ctrl-C (or a
    lost cluster): stop every running sandbox at once, keep what had finished before, and
    return what stopped the batch (False when nothing did)."""
    stored: set = set()
    pool = ThreadPoolExecutor(workers)
    futures = {pool.submit(_safe_grade, sub, ctx, store): sub for sub in todo}

    def keep(fut) -> bool:
        sub = futures[fut]
        res, executed, reusable, clean = fut.result()
        if not clean:  # its sandbox may have been stopped by the interrupt: not a result
            return False
        store.put(res, keys[sub.participant_id], run_id, reusable=reusable, executed=executed)
        stored.add(fut)
        return True

    interrupted = False
    try:
        for fut in as_completed(futures):
            try:
                keep(fut)
            except ClusterLost as exc:  # finished results stay; this one is not a result
                interrupted = exc
                ctx.jobs.abort()
                break
            if on_result:
                try:
                    on_result(rt.stamp(futures[fut], fut.result()[0], lang))
                except Exception as exc:  # a display bug must not cost the batch
                    warnings.append(f"progress display failed ({type(exc).__name__}: {exc}); "
                                    "grading went on")
                    on_result = None
    except KeyboardInterrupt:
        interrupted = True
        ctx.jobs.abort()  # kill every running sandbox; start no new one
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if interrupted:  # results that finished before the interrupt but were not stored yet
        for fut in futures:
            if fut not in stored and fut.done() and not fut.cancelled() and fut.exception() is None:
                keep(fut)  # (clean results only: those cut short by the stop are not kept)
    return len(stored), interrupted


def _safe_grade(sub: Submission, ctx: GradeContext, store: ResultStore) -> tuple:
    """(result, executed notebook, reusable, clean). Whatever happens (a bug of ours included),
    the submission gets a row; one that is our fault is not reused by the next run, and one
    that finished after an interrupt (clean=False) is not kept at all."""
    staged = store.staging(f"{sub.participant_id}.ipynb")
    staged.unlink(missing_ok=True)
    try:
        res = grade_submission(sub, ctx)
        out = res, staged if staged.exists() else None, True
    except ClusterLost:
        raise  # not the student's result: nothing is stored, the batch stops
    except Exception:
        out = (Result.failed(sub, "error", tr(CATALOG, "internal", ctx.lang), ctx.rubric.max_grade,
                             detail=traceback.format_exc()[-6000:],
                             checks=_zero_checks(ctx.rubric, ctx.lang)), None, False)
    return (*out, not ctx.jobs.aborted())
