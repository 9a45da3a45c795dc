"""One notebook through the self-check: read it, find its assignment and rubric, then the checks,
the grading interface and the grading-time hazards, into one SelfCheckReport.

Without --rerun nothing here imports TensorFlow or Jupyter: the notebook is read as JSON, the
functions under test run in a small subprocess, and the rest is static analysis.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..checks.kinds import in_phase
from ..errors import GraderError, InvalidNotebook
from ..messages import tr
from . import locate
from . import notebook as nbread
from .estimate import Context, estimate
from .hazards import find_hazards
from .interface import check_interface
from .report import SelfCheckReport
from .unit import run_unit_checks

#: Moodle's upload limit for the assignment, unless --max-upload-mb says otherwise.
DEFAULT_UPLOAD_MB = 20.0

CATALOG = {
    "not_found": {"es": "no existe el fichero «{path}»", "en": "no such file: '{path}'"},
    "not_file": {"es": "«{path}» no es un fichero (indica el .ipynb)",
                 "en": "'{path}' is not a file (give the .ipynb)"},
    "mismatch": {"es": "la rúbrica {rubric} es de la práctica «{found}», no de «{given}»",
                 "en": "rubric {rubric} is for assignment '{found}', not '{given}'"},
}


def self_check(path: str | Path, *, assignment: str | None = None, rubric_path: str | Path | None = None,
               lang: str = "es", rerun: bool = False, course: str | None = None,
               max_upload_mb: float | None = None, python: str | None = None,
               data: dict[str, str] | None = None, no_alarm: bool = False) -> SelfCheckReport:
    """Check one notebook as the grader would; GraderError for bad usage (the CLI's exit 2)."""
    from ..grade import invalid_message, title
    from ..rubric import load_rubric, parse_rubric

    t0 = time.monotonic()
    path = Path(path).expanduser()
    if not path.exists():
        raise GraderError(tr(CATALOG, "not_found", lang, path=path))
    if not path.is_file():
        raise GraderError(tr(CATALOG, "not_file", lang, path=path))
    rubrics = {} if rubric_path else locate.assignment_rubrics(locate.rubric_dirs(course))
    try:
        nb, notes = nbread.read(path)
    except InvalidNotebook as exc:
        msg = invalid_message(exc, path.name, lang)
        raw = rubrics.get(assignment, (None, {}))[1] if assignment else {}
        return SelfCheckReport(notebook=str(path), assignment=assignment, lang=lang,
                               max_grade=float(raw.get("max_grade", 10)), invalid=msg, notes=[str(exc)],
                               timings={"total_s": _since(t0)})
    if rubric_path:
        rubric, how = load_rubric(rubric_path), "rubric"
        if assignment and assignment != rubric.assignment:
            raise GraderError(tr(CATALOG, "mismatch", lang, rubric=rubric_path, found=rubric.assignment,
                                 given=assignment))
    else:
        if not rubrics:
            dirs = ", ".join(str(d) for d in locate.rubric_dirs(course)) or str(locate.PACKAGED)
            raise GraderError(tr(locate.CATALOG, "none", lang, dirs=dirs))
        name, how = locate.detect(nb, path, assignment, rubrics, lang)
        rubric = parse_rubric(rubrics[name][1], str(rubrics[name][0]))  # already read by locate
    timings = {"read_s": _since(t0)}
    cells = nbread.code_cells(nb)
    report = SelfCheckReport(notebook=str(path), assignment=rubric.assignment, lang=lang,
                             max_grade=rubric.max_grade, mode="rerun" if rerun else "static", how=how,
                             title=rubric.title, notes=list(notes))
    report.interface = check_interface(cells, rubric, lang)
    limit = max_upload_mb or DEFAULT_UPLOAD_MB
    report.findings = find_hazards(cells, path, list(rubric.data.keras_datasets), lang, limit)
    timings["static_s"] = _since(t0) - timings["read_s"]
    titles = {c.id: _title(title, c, lang) for c in rubric.checks}
    if rerun:
        _rerun(report, path, rubric, lang, python, data)
    else:
        ts = time.monotonic()
        units = run_unit_checks(nb, in_phase(rubric, "unit"), lang, python,
                                rubric.limits.unit_timeout_s, no_alarm)
        timings["unit_s"] = _since(ts)
        ctx = Context(nb, lang, titles, units, rubric=rubric)
        for chk in rubric.checks:
            item, later = estimate(chk, ctx)
            report.checks.append(item)
            report.pending += later
        for run in units.values():
            report.notes += run.notes
            if run.imported:
                report.notes.append(f"{run.check_id}: the extracted functions imported {', '.join(run.imported)}")
    report.pending = list(dict.fromkeys(report.pending))
    report.notes = list(dict.fromkeys(report.notes))
    timings["total_s"] = _since(t0)
    report.timings = {**report.timings, **timings}  # keeps what _rerun measured (rerun_s)
    return report


def _rerun(report: SelfCheckReport, path: Path, rubric, lang: str, python, data) -> None:
    from .rerun import items, rerun

    extra = {}
    for f in report.findings:
        if f.path and (path.parent / f.path).is_file():
            extra[f.path] = path.parent / f.path
    ts = time.monotonic()
    res, label = rerun(path, rubric, lang, python=python, data=data, extra_files=extra)
    report.timings["rerun_s"] = _since(ts)
    report.checks, report.pending = items(res, rubric, label, lang)
    report.run_status, report.run_message = res.status, res.message
    report.notes += res.notes


def _title(title, chk, lang: str) -> str:
    try:
        return title(chk, lang)
    except KeyError:  # a check kind newer than the titles table
        return chk.id


def _since(t0: float) -> float:
    return round(time.monotonic() - t0, 3)
