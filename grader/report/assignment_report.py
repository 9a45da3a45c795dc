"""`reports/<assignment>/index.html`: the instructor's page for one graded assignment, with
`grades_by_check.csv` and each student's feedback page written beside it (`feedback/<id>.html`,
the page of the Moodle feedback zip) so that every link opens a file on disk.

HTML from jinja2 templates with autoescaping: names, messages and flags are student text.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import shutil
import statistics
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ..export.atomic import write_atomic
from ..model import Result, Submission
from . import plots
from .class_report import ClassSummary, summarize
from .grades_by_check import write_grades_by_check
from .review import missing_from_worksheet, review_items
from .safe_text import html_env

TEMPLATES = Path(__file__).parent / "templates"
REPORT = "index.html"
BY_CHECK = "grades_by_check.csv"
FEEDBACK_DIR = "feedback"
EXECUTED_DIR = "executed"  # where grade.py writes each re-run notebook
SIMILARITY = "similarity.html"  # the integrity report, when there is one
_SAFE = re.compile(r"[^0-9A-Za-z_-]")


@functools.lru_cache(maxsize=1)
def environment():
    env = html_env(TEMPLATES, trim_blocks=True, lstrip_blocks=True)
    from ..export.feedback import _code

    env.filters["code"] = _code  # `name` -> <code>name</code>, after escaping
    env.globals.update(num=num, pct=pct, median=lambda v: statistics.median(v) if v else None)
    return env


@functools.lru_cache(maxsize=1)
def script() -> tuple[str, str]:
    """The sort script and its CSP hash (the page allows that script and no other)."""
    text = (TEMPLATES / "sort.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return text, f"sha256-{digest}"


def render_page(template: str, **kw) -> str:
    from markupsafe import Markup

    text, digest = script()
    return environment().get_template(template).render(script=Markup(text), script_hash=digest, **kw)


def num(x: float | None, decimals: int = 2) -> str:
    if x is None:
        return "–"
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".") or "0"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def file_stem(participant_id: str) -> str:
    return _SAFE.sub("_", participant_id) or "_"


def write_feedback_pages(out_dir: Path, pairs: list[tuple[Submission, Result]], lang: str,
                         title: str) -> dict[str, str]:
    """Each student's feedback page in `feedback/`, replaced as a whole folder (built aside,
    then swapped in): no stale page of an earlier run, no half-written folder.
    Returns participant id -> link relative to the report."""
    from ..export.feedback_zip import feedback_page

    final = out_dir / FEEDBACK_DIR
    tmp = Path(tempfile.mkdtemp(prefix=".feedback.", dir=out_dir))
    links = {}
    try:
        for sub, res in pairs:
            name = f"{file_stem(res.participant_id)}.html"
            (tmp / name).write_text(feedback_page(sub, res, lang, title), encoding="utf-8")
            links[res.participant_id] = f"{FEEDBACK_DIR}/{quote(name)}"
        os.chmod(tmp, 0o755)
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=".feedback.old.", dir=out_dir))
            os.replace(final, old / FEEDBACK_DIR)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return links


def _notebook_links(out_dir: Path, results: list[Result]) -> dict[str, str]:
    links = {}
    for r in results:
        name = f"{file_stem(r.participant_id)}.ipynb"
        if (out_dir / EXECUTED_DIR / name).is_file():
            links[r.participant_id] = f"{EXECUTED_DIR}/{quote(name)}"
    return links


def build_summary(out_dir: Path, rubric, results: list[Result], feedback: dict[str, str],
                  missing=None) -> tuple[ClassSummary, list[str]]:
    """The summary with its review list; notes for the page (e.g. an unreadable worksheet)."""
    from ..roundtrip import WORKSHEET

    notes = []
    notebooks = _notebook_links(out_dir, results)
    summary = summarize(results, rubric, links={
        r.participant_id: (feedback.get(r.participant_id), notebooks.get(r.participant_id))
        for r in results})
    if missing is None:
        missing, note = missing_from_worksheet(out_dir / WORKSHEET, {r.participant_id for r in results})
        notes += [note] if note else []
    similarity = SIMILARITY if (out_dir / SIMILARITY).is_file() else None
    summary.review = review_items(results, missing, similarity_link=similarity)
    summary.missing = len(missing)
    return summary, notes


def render_assignment(summary: ClassSummary, files: list[tuple[str, str]], notes: list[str]) -> str:
    g = summary.grades
    uris = {"grades": plots.grade_histogram(g.scores, g.max_score),
            "checks": plots.check_pass_rates(summary.checks),
            "metrics": [(c.id, plots.metric_distribution(c.metric, c.id))
                        for c in summary.checks if c.metric is not None]}
    return render_page(
        "assignment.html.j2", s=summary, g=g, review=summary.review, plots=uris,
        missing=summary.missing, files=files, notes=notes,
        row_ids={st.participant_id for st in summary.students},
        when=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip())


def write_assignment_report(out_dir: Path, rubric, pairs: list[tuple[Submission, Result]], *,
                            lang: str | None = None, missing=None) -> dict[str, Path]:
    """Write index.html, grades_by_check.csv and feedback/ into `out_dir` (the assignment's
    output folder, beside results.jsonl and executed/). `missing`: review.MissingStudent list;
    None reads them from the worksheet `grader grade` wrote there."""
    out_dir = Path(out_dir)
    lang = lang or rubric.lang
    results = [r for _, r in pairs]
    feedback = write_feedback_pages(out_dir, pairs, lang, rubric.title)
    summary, notes = build_summary(out_dir, rubric, results, feedback, missing)
    files = {"by_check": write_grades_by_check(out_dir / BY_CHECK, summary)}
    listed = [(label, quote(name)) for label, name in (
        ("grades_by_check.csv: points per check (spreadsheet, Spanish locale)", BY_CHECK),
        ("results.jsonl: every result row", "results.jsonl"),
        ("moodle_grading_worksheet.csv: upload to Moodle", "moodle_grading_worksheet.csv"),
        ("moodle_feedback_files.zip: upload to Moodle", "moodle_feedback_files.zip"),
        ("similarity.html: code similarity", SIMILARITY),
        ("run.json: how this run was made", "run.json")) if (out_dir / name).is_file()]
    files["report"] = write_atomic(out_dir / REPORT, render_assignment(summary, listed, notes))
    return files


def write_report_from_results(out_dir: Path, rubric, *, lang: str | None = None) -> dict[str, Path]:
    """The same report, rebuilt from the results.jsonl already in `out_dir` (no grading): for
    a step that changes the folder afterwards, e.g. one that adds similarity.html or flags."""
    from ..export.results_jsonl import read_results

    results = read_results(Path(out_dir) / "results.jsonl")
    pairs = [(Submission(r.assignment, r.participant_id, r.full_name, blind=not r.full_name,
                         notebook_name=r.notebook), r) for r in results]
    return write_assignment_report(out_dir, rubric, pairs, lang=lang)
