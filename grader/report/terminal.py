"""Progress while grading and a one-screen summary at the end (rich)."""
from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn,
                           TextColumn, TimeElapsedColumn)
from rich.text import Text
from rich.table import Table

from ..model import Result

# the metric shown per student: the first of these the assignment has
HEADLINE = ("accuracy", "top1_accuracy", "text_loss_ratio")

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
        if not times or left <= 0:
            return Text("ETA -" if left > 0 else "", style="progress.remaining")
        secs = int(sum(times) / len(times) * left / min(self.workers, left))
        return Text(f"ETA {secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}",
                    style="progress.remaining")


@contextmanager
def progress(console: Console, total: int, label: str, workers: int = 1):
    """Yields advance(result) to call as each submission finishes."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), EtaColumn(workers),
                  TextColumn("{task.fields[last]}", markup=False),
                  console=console, transient=False) as p:
        task = p.add_task(escape(label), total=total, last="", times=[])
        times: list[float] = []

        def advance(res: Result) -> None:
            name = res.full_name or f"Participant {res.participant_id}"
            times.append(float(res.timings.get("total_s", 0.0)))
            p.update(task, advance=1, last=f"{name}: {res.status} {res.score:g}", times=times)

        yield advance


def summary_table(results: list[Result], title: str) -> Table:
    """One row per student: status, grade, accuracy, the checks that lost points, flags.
    Compact on purpose: it has to fit an 80-column terminal."""
    t = Table(title=title, header_style="bold", pad_edge=False)
    t.add_column("Id", justify="right", no_wrap=True)
    t.add_column("Name", min_width=10, overflow="ellipsis", no_wrap=True, max_width=20)
    t.add_column("Status", no_wrap=True)
    t.add_column("Grade", justify="right", no_wrap=True)
    t.add_column("Metric", justify="right", no_wrap=True)
    t.add_column("Points lost, flags", overflow="fold")
    for r in results:
        if r.status in ("invalid", "no_notebook"):
            lost = ["[red]all[/]"]
        else:
            lost = [f"[red]{c.id} {c.points:.3g}/{c.max_points:g}[/]" for c in r.checks
                    if c.max_points and c.points < c.max_points]
        notes = lost + [f"[yellow]{f}[/]" for f in r.flags]
        acc = next((r.metrics[k] for k in HEADLINE if k in r.metrics), None)
        t.add_row(r.participant_id, r.full_name or "-",
                  f"[{STATUS_STYLE.get(r.status, 'white')}]{r.status}[/]",
                  f"{r.score:.3g}", f"{acc:.3f}" if acc is not None else "-",
                  ", ".join(notes) or "[green]-[/]")
    return t
