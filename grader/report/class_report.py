"""How the class did on one assignment, as plain data: grade statistics, per-check pass rates,
metric distributions and one row per student. The HTML page, the CSV, the terminal and the
course report all read this, so every number is computed once, here.

Works from results alone (the course report reads results.jsonl without the rubric); the
rubric adds what only it knows: the metric checks' thresholds and the checks' order.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..checks.kinds import KINDS
from ..model import STATUSES, Result
from .safe_text import clean_text

#: metric checks: rubric kind -> (metric name or None for the check's own, higher is better)


@dataclass
class GradeStats:
    n: int
    max_score: float
    mean: float | None
    median: float | None
    passed: int  # grade >= half the maximum (5 of 10)
    scores: list[float]
    statuses: dict[str, int]

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.n if self.n else None


@dataclass
class MetricSeries:
    """One metric check's measured values against its threshold (None: not measured)."""

    name: str
    values: list[float]
    missing: int  # submissions where nothing was measured (invalid, crashed, ...)
    threshold: float | None = None
    partial_from: float | None = None
    higher_is_better: bool = True


@dataclass
class CheckStats:
    id: str
    title: str
    max_points: float
    n: int
    passed: int
    mean_points: float | None
    metric: MetricSeries | None = None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.n if self.n else None


@dataclass
class StudentRow:
    participant_id: str
    name: str
    status: str
    score: float
    max_score: float
    points: dict[str, float]  # check id -> points
    passed: dict[str, bool]  # check id -> passed
    metric: float | None
    late: bool
    hours_late: float
    flags: list[str]
    message: str
    feedback: str | None = None  # link, relative to the report
    notebook: str | None = None


@dataclass
class ClassSummary:
    assignment: str
    title: str
    grades: GradeStats
    checks: list[CheckStats]
    students: list[StudentRow]
    metric_name: str | None = None  # the headline metric (terminal "Metric" column)
    missing: int = 0  # students in the worksheet without a submission
    review: list = field(default_factory=list)  # review.ReviewItem, filled by review.review_items


def display_name(r: Result) -> str:
    """The student's name, one clean line; under blind marking Moodle's `Participant <id>`."""
    return clean_text(r.full_name, 300) or f"Participant {r.participant_id}"


def metric_checks(rubric) -> list[tuple[str, str, bool, float | None, float | None]]:
    """(check id, metric name, higher is better, threshold, partial_from) of the rubric's
    metric checks, in rubric order."""
    out = []
    for chk in rubric.checks if rubric is not None else []:
        metric = KINDS[chk.kind].metric if chk.kind in KINDS else None
        if metric:
            name, higher = metric
            out.append((chk.id, name or chk.metric, higher, chk.threshold, chk.partial_from))
    return out


def headline_metric(rubric, results: list[Result]) -> str | None:
    """The metric the terminal and the student table show: the rubric's first metric check's,
    else the first of the usual names found in the results."""
    found = metric_checks(rubric)
    if found:
        return found[0][1]
    for name in ("accuracy", "top1_accuracy", "text_loss_ratio"):
        if any(name in r.metrics for r in results):
            return name
    return None


def _grade_stats(results: list[Result]) -> GradeStats:
    scores = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=10.0)
    statuses = {s: 0 for s in STATUSES}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return GradeStats(
        n=len(scores), max_score=max_score,
        mean=round(statistics.fmean(scores), 2) if scores else None,
        median=round(statistics.median(scores), 2) if scores else None,
        passed=sum(1 for r in results if r.score >= r.max_score / 2), scores=scores,
        statuses={k: v for k, v in statuses.items() if v})


def _check_order(rubric, results: list[Result]) -> list[tuple[str, str, float]]:
    """(id, title, max points) of every check: the rubric's order, then any the results add."""
    seen: dict[str, tuple[str, str, float]] = {}
    for r in results:
        for c in r.checks:
            if c.id not in seen or (c.title and not seen[c.id][1]):
                seen[c.id] = (c.id, c.title, c.max_points)
    order = [c.id for c in rubric.checks] if rubric is not None else []
    for chk in rubric.checks if rubric is not None else []:
        seen.setdefault(chk.id, (chk.id, getattr(chk, "title_en", None) or "", chk.points))
    return [seen[i] for i in order if i in seen] + [v for k, v in seen.items() if k not in order]


def summarize(results: list[Result], rubric=None, assignment: str = "", title: str = "",
              links: dict[str, tuple[str | None, str | None]] | None = None) -> ClassSummary:
    """The class summary. `links`: participant id -> (feedback page, executed notebook),
    relative to the report."""
    links = links or {}
    metrics = {cid: (name, hi, thr, pf) for cid, name, hi, thr, pf in metric_checks(rubric)}
    headline = headline_metric(rubric, results)
    checks = []
    for cid, ctitle, max_points in _check_order(rubric, results):
        judged = [c for r in results for c in r.checks if c.id == cid]
        series = None
        if cid in metrics:
            name, higher, thr, pf = metrics[cid]
            vals = [float(r.metrics[name]) for r in results
                    if isinstance(r.metrics.get(name), (int, float))]
            series = MetricSeries(name, vals, len(results) - len(vals), thr, pf, higher)
        checks.append(CheckStats(
            id=cid, title=clean_text(ctitle, 120), max_points=max_points, n=len(judged),
            passed=sum(1 for c in judged if c.passed),
            mean_points=round(statistics.fmean(c.points for c in judged), 2) if judged else None,
            metric=series))
    students = []
    for r in results:
        fb, nb = links.get(r.participant_id, (None, None))
        m = r.metrics.get(headline) if headline else None
        students.append(StudentRow(
            participant_id=r.participant_id, name=display_name(r),
            status=r.status, score=r.score, max_score=r.max_score,
            points={c.id: c.points for c in r.checks}, passed={c.id: c.passed for c in r.checks},
            metric=float(m) if isinstance(m, (int, float)) else None,
            late=r.late, hours_late=r.hours_late, flags=[clean_text(f, 120) for f in r.flags],
            message=clean_text(r.message, 300), feedback=fb, notebook=nb))
    first = results[0] if results else None
    return ClassSummary(
        assignment=assignment or (rubric.assignment if rubric is not None else "")
        or (first.assignment if first else ""),
        title=title or (rubric.title if rubric is not None else ""), grades=_grade_stats(results),
        checks=checks, students=students, metric_name=headline)
