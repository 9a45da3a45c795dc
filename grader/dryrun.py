"""`grader grade ... --dry-run`: what a grade run would do, without running student code.

It reads the download (into a temporary folder, removed afterwards), picks each student's
notebook as grading would and says why, reads each notebook statically (not a notebook, another
assignment's notebook), resolves the data (stand-ins included: the run would stop), and prints
the limits and an estimate of the time: gradable notebooks x seconds per notebook / workers,
the seconds measured by the last run in OUT/ASSIGNMENT/results.jsonl, else the configured
limit (limits.timeout_s, an upper bound).
"""
from __future__ import annotations

import json
import math
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .report.safe_text import clean_text


@dataclass
class Plan:
    assignment: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, name, notebook, note
    gradable: int = 0
    reused: int = 0  # unchanged since the last run: their stored results would be kept
    data: list[str] = field(default_factory=list)
    data_stop: str | None = None  # the stand-in guard's message, when the real run would stop
    limits: dict = field(default_factory=dict)
    workers: int = 1
    per_notebook_s: float = 0.0
    per_notebook_from: str = ""
    warnings: list[str] = field(default_factory=list)
    ignored: int = 0

    @property
    def estimate_s(self) -> float:
        return math.ceil(self.to_run / max(self.workers, 1)) * self.per_notebook_s

    @property
    def to_run(self) -> int:
        return self.gradable - self.reused


def measured_seconds(out_dir: Path) -> list[float]:
    """Per-notebook wall times of the last run of this assignment (results.jsonl)."""
    path = out_dir / "results.jsonl"
    times = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            t = (row.get("timings") or {}).get("total_s")
            if isinstance(t, (int, float)) and row.get("status") in ("graded", "error", "timeout"):
                times.append(float(t))
    except (OSError, ValueError, AttributeError):
        return []
    return times


def _static(sub, rubric, lang: str) -> tuple[bool, str]:
    """(gradable, note) from reading the notebook, as grading would before running it."""
    from .checks.assignment_mark import wrong_assignment
    from .errors import InvalidNotebook
    from .grade import invalid_message
    from .ingest.read_notebook import read_notebook

    if sub.notebook is None:
        return False, "nothing gradable: no notebook" + (f" ({', '.join(sub.files[:3])})" if sub.files else "")
    try:
        nb, _ = read_notebook(sub.notebook)
    except InvalidNotebook as exc:
        return False, "invalid: " + invalid_message(exc, sub.notebook_name, lang)
    wrong = wrong_assignment(nb, rubric.assignment, lang)
    if wrong:
        return False, "invalid: " + wrong
    return True, "; ".join(sub.notes) or "the only notebook"


def plan(rubric, source: Path, out_root: Path, workers: int | None = None, allow_standin: bool = False,
         course: str | None = None, data_root: Path | None = None, lang: str = "en",
         worksheet: Path | None = None, course_config=None, only: list[str] | None = None,
         force: bool = False) -> Plan:
    from .batch import default_workers
    from .data.guard import StandinError, check_standin
    from .data.sources import describe, resolve_sources
    from .ingest import ingest
    from .ingest.select import select
    from .store.db import stored_notebooks

    p = Plan(rubric.assignment)
    stored = {} if force else stored_notebooks(Path(out_root) / rubric.assignment)
    with tempfile.TemporaryDirectory(prefix="grader-dryrun-") as tmp:
        report = ingest(Path(source), rubric.assignment, Path(tmp), preferred=rubric.notebook.preferred)
        p.warnings, p.ignored = list(report.warnings), len(report.ignored)
        if worksheet is not None:  # a worksheet of another assignment fails here, as in the run
            from .roundtrip import RoundTrip

            p.warnings += RoundTrip.start(rubric.assignment, course_config, worksheet,
                                          report.submissions, rubric.max_grade).warnings
        chosen = {s.participant_id for s in select(report.submissions, only)} if only else None
        for sub in report.submissions:
            ok, note = _static(sub, rubric, lang)
            if chosen is not None and sub.participant_id not in chosen:
                ok, note = False, "not selected by --only: keeps the stored result"
            elif ok and chosen is None and sub.sha256 and stored.get(sub.participant_id) == sub.sha256:
                p.reused += 1
                note = ("unchanged since the last run: its stored result is reused (unless the "
                        "rubric or the data changed)")
            p.gradable += ok
            p.rows.append((sub.participant_id, sub.full_name or sub.identifier, sub.notebook_name or "-", note))
    try:
        sources, warns = check_standin(rubric, source, allow_standin, course, data_root)
        p.warnings += warns
    except StandinError as exc:
        p.data_stop = str(exc)
        sources = resolve_sources(rubric, data_root, generate=False)
    p.data = describe(sources)
    p.limits = rubric.limits.model_dump()
    p.workers = max(1, min(workers or default_workers(rubric.limits.memory_mb), p.to_run or 1))
    times = measured_seconds(Path(out_root) / rubric.assignment)
    if times:
        p.per_notebook_s = statistics.median(times)
        p.per_notebook_from = f"median of {len(times)} notebooks measured in the last run"
    else:
        p.per_notebook_s = float(rubric.limits.timeout_s)
        p.per_notebook_from = "limits.timeout_s (nothing measured yet: an upper bound)"
    return p


def render(p: Plan) -> str:
    lines = [f"DRY RUN of {p.assignment}: no student code is run.", "", "Submissions:"]
    for pid, name, nb, note in p.rows:
        lines.append(f"  {pid:>8}  {clean_text(name, 30):<30}  {clean_text(nb, 40)}")
        lines.append(f"            {clean_text(note, 300)}")
    lines += ["", f"{p.to_run} of {len(p.rows)} would be re-run; {p.reused} unchanged (stored results "
              f"reused); {len(p.rows) - p.gradable} have nothing gradable or are not selected."]
    if p.ignored:
        lines.append(f"{p.ignored} files are not Moodle submissions and would be ignored.")
    lines += ["", "Data:"] + [f"  {d}" for d in p.data]
    if p.data_stop:
        lines += ["", f"THE RUN WOULD STOP HERE: {p.data_stop}"]
    lim = p.limits
    lines += ["", f"Limits per notebook: {lim['timeout_s']:g} s in all, {lim['cell_timeout_s']:g} s per cell, "
              f"{lim['memory_mb']} MB memory, {lim['pids_max']} processes, {lim['disk_mb']} MB disk; "
              f"unit tests {lim['unit_timeout_s']:g} s"]
    hours = p.estimate_s / 3600
    lines.append(f"Estimate: {p.to_run} notebooks x {p.per_notebook_s:.0f} s / {p.workers} workers "
                 f"= about {p.estimate_s / 60:.0f} min ({hours:.1f} h); seconds per notebook: {p.per_notebook_from}")
    lines += [f"warning: {clean_text(w, 300)}" for w in p.warnings]
    return "\n".join(lines) + "\n"


def dry_run(rubric, args, course_config=None) -> int:
    """The `--dry-run` of `grader grade` (args: its parsed arguments). Exit code 0, or 1 when
    the real run would stop (stand-in data)."""
    import sys

    p = plan(rubric, args.source, args.out, workers=args.workers, allow_standin=args.allow_standin,
             course=args.course_dir, data_root=args.data_dir, lang=args.lang or "en",
             worksheet=args.worksheet, course_config=course_config, only=args.only,
             force=args.force)
    sys.stdout.write(render(p))
    return 1 if p.data_stop else 0
