"""Progress while grading and a one-screen summary at the end (rich).

Names, flags and messages are student text: they reach rich only as Text (never parsed as
markup) or through safe_text.term() (markup escaped, ANSI escapes and control characters removed).
"""
from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn,
                           TextColumn, TimeElapsedColumn)
from rich.table import Table
from rich.text import Text

from ..model import Result
from .class_report import headline_metric
from .safe_text import clean_text, term

STATUS_STYLE = {"graded": "green", "error": "red", "timeout": "yellow", "invalid": "magenta",
                "no_notebook": "magenta"}


class EtaColumn(ProgressColumn):
    """Time left from the measured per-notebook times (mean of those finished, spread over the
    workers), not from the bar's rate: reused results and a slow first kernel start would
    otherwise make it jump."""

    def __init__(self, workers: int):
        super().__init__()
        self.workers = max(1, workers)

    def render(self, task) -> Text:
        times = task.fields.get("times") or []
        left = (task.total or 0) - task.completed
        if not times:
            return Text("ETA -:--:--", style="progress.remaining")
        secs = int(sum(times) / len(times) * left / min(self.workers, left)) if left > 0 else 0
        return Text(f"ETA {secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}",
                    style="progress.remaining")


@contextmanager
def progress(console: Console, total: int, label: str, workers: int = 1):
    """Yields advance(result) to call as each submission finishes."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), EtaColumn(workers),
                  TextColumn("{task.fields[last]}", markup=False),
                  console=console, transient=False) as p:
        task = p.add_task(term(label), total=total, last="", times=[])
        times: list[float] = []

        def advance(res: Result) -> None:
            name = clean_text(res.full_name or f"Participant {res.participant_id}", 40)
            times.append(float(res.timings.get("total_s", 0.0)))
            p.update(task, advance=1, last=f"{name}: {res.status} {res.score:g}", times=times)

        yield advance


def summary_table(results: list[Result], title: str, rubric=None) -> Table:
    """One row per student: status, grade, the headline metric, the checks that lost points,
    flags. Full names (wrapped, never cut) in 120 columns; at 80 the last column wraps."""
    metric = headline_metric(rubric, results)
    t = Table(title=Text(clean_text(title)), header_style="bold", pad_edge=False)
    t.add_column("Id", justify="right", no_wrap=True)
    t.add_column("Name", min_width=12, max_width=40, overflow="fold")
    t.add_column("Status", no_wrap=True)
    t.add_column("Grade", justify="right", no_wrap=True)
    t.add_column(f"Metric\n{metric}" if metric else "Metric", justify="right", no_wrap=True)
    t.add_column("Points lost, flags", overflow="fold", min_width=16)
    for r in results:
        if r.status in ("invalid", "no_notebook"):
            lost = [Text("all", style="red")]
        else:
            lost = [Text(f"{clean_text(c.id, 40)} {c.points:.3g}/{c.max_points:g}", style="red")
                    for c in r.checks if c.max_points and c.points < c.max_points]
        notes = lost + [Text(clean_text(f, 80), style="yellow") for f in r.flags]
        value = r.metrics.get(metric) if metric else None
        t.add_row(Text(clean_text(r.participant_id, 20)),
                  Text(clean_text(r.full_name, 300) or "-"),
                  Text(r.status, style=STATUS_STYLE.get(r.status, "white")),
                  f"{r.score:.3g}", f"{value:.3f}" if isinstance(value, (int, float)) else "-",
                  Text(", ").join(notes) if notes else Text("-", style="green"))
    return t


def report_line(files: dict) -> str | None:
    """'Class report: file:///…/index.html', for the end of `grader grade` (markup-safe)."""
    path = files.get("report")
    if path is None:
        return None
    return f"[bold]Class report:[/] {term(path.resolve().as_uri())}"
