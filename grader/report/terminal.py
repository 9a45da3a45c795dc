"""Progress while grading and a one-screen summary at the end (rich). Student-derived text
goes through safe_text.term (no control characters, no markup)."""
from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..model import Result
from .safe_text import term

# the metric shown per student: the first of these the assignment has
HEADLINE = ("accuracy", "top1_accuracy", "text_loss_ratio")

STATUS_STYLE = {"graded": "green", "error": "red", "timeout": "yellow", "invalid": "magenta",
                "no_notebook": "magenta"}


@contextmanager
def progress(console: Console, total: int, label: str):
    """Yields advance(result) to call as each submission finishes."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[last]}"),
                  console=console, transient=False) as p:
        task = p.add_task(label, total=total, last="")

        def advance(res: Result) -> None:
            name = res.full_name or f"Participant {res.participant_id}"
            p.update(task, advance=1, last=f"{term(name)}: {term(res.status)} {res.score:g}")

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
        notes = lost + [f"[yellow]{term(f)}[/]" for f in r.flags]
        acc = next((r.metrics[k] for k in HEADLINE if k in r.metrics), None)
        t.add_row(term(r.participant_id), term(r.full_name or "-"),
                  f"[{STATUS_STYLE.get(r.status, 'white')}]{term(r.status)}[/]",
                  f"{r.score:.3g}", f"{acc:.3f}" if acc is not None else "-",
                  ", ".join(notes) or "[green]-[/]")
    return t
