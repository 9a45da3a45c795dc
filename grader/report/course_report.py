"""`reports/index.html` for `grader final`: each assignment's summary (linking to its class
report), the final-grade distribution, who is incomplete or left out of the gradebook CSV,
and every student's grades. Built from what `grader final` combined, plus each assignment's
results.jsonl for its statistics.
"""
from __future__ import annotations

import os
import statistics
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ..export.atomic import write_atomic
from ..export.results_jsonl import read_results
from . import plots
from .assignment_report import REPORT, render_page
from .class_report import GradeStats, summarize
from .safe_text import clean_text

COURSE_REPORT = "index.html"


def _link(target: Path, base: Path) -> str | None:
    if not target.is_file():
        return None
    return quote(Path(os.path.relpath(target, base)).as_posix())


def assignment_rows(comb, course, reports: Path, out: Path) -> list[dict]:
    rows = []
    for a in course.assignments:
        row = {"id": a, "graded": a in comb.graded, "link": _link(reports / a / REPORT, out),
               "stats": None}
        if row["graded"]:
            row["stats"] = summarize(read_results(reports / a / "results.jsonl"), assignment=a).grades
        row["counted"] = sum(1 for st in comb.students if st.final and a in st.final.counted)
        row["handed_in"] = sum(1 for st in comb.students if st.grades.get(a) and st.grades[a].handed_in)
        rows.append(row)
    return rows


def student_rows(comb, course) -> list[dict]:
    out = []
    for st in comb.students:
        f = st.final
        out.append({
            "name": clean_text(st.full_name, 300), "email": clean_text(st.email, 200),
            "grades": [(a, st.grades[a]) for a in course.assignments],
            "counted": set(f.counted), "final": None if f.grade is None else float(f.grade),
            "handed_in": len(f.handed_in), "rounded_up": f.rounded_up,
            "flags": [clean_text(x, 80) for x in f.flags + [f"{a}:{fl}" for a, g in st.grades.items() for fl in g.flags]],
            "issue": clean_text(st.issue, 240), "incomplete": "incomplete" in f.flags})
    return out


def render_course(comb, course, reports: Path, out: Path) -> str:
    students = student_rows(comb, course)
    finals = [s["final"] for s in students if s["final"] is not None]
    stats = GradeStats(n=len(finals), max_score=course.scale,
                       mean=round(statistics.fmean(finals), 2) if finals else None,
                       median=round(statistics.median(finals), 2) if finals else None,
                       passed=sum(1 for x in finals if x >= course.scale / 2), scores=finals, statuses={})
    return render_page(
        "course.html.j2", course=course, comb=comb, assignments=assignment_rows(comb, course, reports, out),
        students=students, g=stats, plot=plots.grade_histogram(finals, course.scale, "Final grades"),
        incomplete=[s for s in students if s["incomplete"]], left_out=[s for s in students if s["issue"]],
        warnings=[clean_text(w, 400) for w in comb.warnings],
        files=[(label, _link(out / name, out)) for label, name in (
            ("final_grades.csv: the gradebook import", "final_grades.csv"),
            ("final_breakdown.csv: which grades counted and why", "final_breakdown.csv"),
            ("final.json", "final.json")) if (out / name).is_file()],
        when=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip())


def write_course_report(comb, course, out: Path, reports: Path | None = None) -> dict[str, Path]:
    """reports/index.html; `reports`: where the graded assignments are (default `out`)."""
    out = Path(out)
    html = render_course(comb, course, Path(reports or out), out)
    return {"course_report": write_atomic(out / COURSE_REPORT, html)}
