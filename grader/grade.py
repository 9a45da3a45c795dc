"""Grade one submission: read, unit-test the extracted functions, re-run, judge on the host.

Every path ends in a Result (the batch goes on whatever one notebook does). Student code runs
only inside the sandbox jobs; expected values and hidden labels stay here.
"""
from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks.cell_errors import explain, instructor_lines
from .checks.kinds import KINDS, in_phase, lazy, title  # noqa: F401  (title: for the exports)
from .checks.locked import release_template  # noqa: F401  (its home is checks/locked.py)
from .checks.run_status import run_status
from .errors import InvalidNotebook
from .ingest.read_notebook import read_notebook
from .messages import tr
from .model import CheckResult, Result, Submission
from .report.safe_text import clean
from .rubric import Rubric, UnitTestCheck
from .run_checks import judge_probes, not_measured, plan_probes
from .sandbox import SandboxSession

CATALOG = {
    "no_notebook": {
        "es": "No se ha encontrado ningún cuaderno de Jupyter (.ipynb) en la entrega{files}.",
        "en": "No notebook (.ipynb) was found in the submission{files}."},
    "invalid": {
        "es": "El fichero «{name}» no es un cuaderno de Jupyter válido: {reason}. "
              "Descárgalo de nuevo desde Jupyter (File → Download) y vuelve a entregarlo.",
        "en": "'{name}' is not a valid Jupyter notebook: {reason}. "
              "Download it again from Jupyter (File → Download) and resubmit."},
    "invalid_too_large": {"es": "ocupa {size_mb} MB, más que el límite de {limit_mb} MB",
                          "en": "it is {size_mb} MB, over the {limit_mb} MB limit"},
    "invalid_empty": {"es": "está vacío", "en": "it is empty"},
    "invalid_not_utf8": {"es": "no es texto UTF-8 (byte {byte})", "en": "it is not UTF-8 text (byte {byte})"},
    "invalid_truncated": {"es": "el JSON está cortado (línea {line}): el fichero parece incompleto",
                          "en": "the JSON is cut short (line {line}): the file looks incomplete"},
    "invalid_not_json": {"es": "no es JSON válido (línea {line}, columna {column})",
                         "en": "it is not valid JSON (line {line}, column {column})"},
    "invalid_not_notebook": {"es": "es JSON pero no un cuaderno (no tiene celdas)",
                             "en": "it is JSON but not a notebook (it has no cells)"},
    "invalid_unreadable": {"es": "nbformat no puede leerlo", "en": "nbformat cannot read it"},
    "invalid_too_deep": {"es": "sus metadatos o salidas están anidados miles de niveles: vuelve a "
                               "guardarlo desde Jupyter sin ellos",
                         "en": "its metadata or outputs are nested thousands of levels deep: save "
                               "it again from Jupyter without them"},
    "invalid_schema": {"es": "no cumple el formato de cuaderno de Jupyter ({detail})",
                       "en": "it does not follow the notebook format ({detail})"},
    "internal": {
        "es": "Error interno del corrector; el profesor revisará esta entrega a mano.",
        "en": "Internal grader error; the instructor will review this submission by hand."},
}

@dataclass
class GradeContext:
    """What every submission of one batch shares."""

    rubric: Rubric
    session: SandboxSession | None  # None when the jobs run elsewhere (a Dask cluster)
    lang: str
    datasets: dict[str, Path]  # keras file name -> host file served inside the sandbox
    data: dict[str, Any]  # hidden inputs and labels, public test split...: host only
    executed_dir: Path | None = None
    unit_suites: dict = field(default_factory=dict)  # suite name -> list of cases
    jobs: Any = None  # where the sandboxed jobs run (grader/cluster/runners.py); None: `session`
    _probe_plan: tuple | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.jobs is None:
            from .cluster.runners import LocalJobs

            self.jobs = LocalJobs(self.session)

    def suite(self, chk: UnitTestCheck) -> list:
        """The unit cases of `chk`'s suite, built once per batch (the hidden file is run once)."""
        if chk.suite_name not in self.unit_suites:
            from .checks import build_suite

            self.unit_suites[chk.suite_name] = build_suite(chk.suite_name, hidden_dir=hidden_cases_dir(self.rubric))
        return self.unit_suites[chk.suite_name]

    def probe_plan(self) -> tuple:
        """run_checks.plan_probes for this batch: the same code and inputs for every submission."""
        if self._probe_plan is None:
            self._probe_plan = plan_probes(self.rubric, self.data)
        return self._probe_plan


def hidden_cases_dir(rubric: Rubric) -> Path | str:
    """The hidden unit-test cases sit beside the rubric: <rubric dir>/hidden_cases/."""
    return Path(rubric.source).parent / "hidden_cases" if rubric.source else "default"


def grade_submission(sub: Submission, ctx: GradeContext) -> Result:
    r = ctx.rubric
    lang = ctx.lang
    t0 = time.monotonic()
    if sub.notebook is None:
        files = f" ({', '.join(sub.files[:5])})" if sub.files else ""
        return Result.failed(sub, "no_notebook", tr(CATALOG, "no_notebook", lang, files=files),
                             r.max_grade, checks=_zero_checks(r, lang))
    try:
        nb, notes = read_notebook(sub.notebook)
    except InvalidNotebook as exc:
        return Result.failed(sub, "invalid", invalid_message(exc, sub.notebook_name, lang),
                             r.max_grade, detail=str(exc), checks=_zero_checks(r, lang))
    from .checks.assignment_mark import wrong_assignment

    wrong = wrong_assignment(nb, r.assignment, lang)
    if wrong:  # another assignment's notebook: its rubric is not this one
        res = Result.failed(sub, "invalid", wrong, r.max_grade, checks=_zero_checks(r, lang))
        res.flags = ["wrong_assignment"]
        return res
    results: dict[str, CheckResult] = {}
    flags: list[str] = []
    metrics: dict[str, float] = {}
    timings: dict[str, float] = {}
    res_notes = list(notes)

    # 1. Static: judged on the submitted notebook alone (was it really executed? locked cells?).
    for chk in in_phase(r, "static"):
        results[chk.id], fl = lazy(KINDS[chk.kind].judge)(nb, chk, r, lang)
        flags += fl

    # 2. Unit tests on extracted functions (seconds, no re-training), one job per function so a
    #    broken helper of one does not zero the other; they run while the notebook re-runs
    #    (3.), since neither needs the other.
    status, message, detail = "graded", "", ""
    run_checks, sources, inputs = ctx.probe_plan()
    units = in_phase(r, "unit")
    with ThreadPoolExecutor(1, thread_name_prefix="unit") as pool:
        unit_jobs = pool.submit(_unit_tests, units, nb, sub, ctx) if units and run_checks else None
        if unit_jobs is None:
            judged_units = _unit_tests(units, nb, sub, ctx)

        # 3. Re-execute the notebook once, run every probe the checks need, judge here.
        if run_checks:
            ts = time.monotonic()
            run = ctx.jobs.notebook(
                sub.notebook, gpu=True, name=f"{sub.participant_id}-run",
                notebook_rel=sub.notebook_name or "", extra_files=_extra_files(sub),
                datasets=ctx.datasets, probes=sources, probe_inputs=inputs,
                timeout_s=r.limits.timeout_s, cell_timeout_s=r.limits.cell_timeout_s,
                memory_mb=r.limits.memory_mb, pids_max=r.limits.pids_max,
                output_mb=r.limits.output_mb, disk_mb=r.limits.disk_mb,
                max_file_mb=r.limits.max_file_mb)
            timings["run_s"] = round(time.monotonic() - ts, 2)
        if unit_jobs is not None:
            judged_units = unit_jobs.result()
    for chk_id, (res, fl, extraction_notes, secs) in judged_units.items():
        results[chk_id] = res
        flags += fl
        res_notes += extraction_notes
        timings[f"{chk_id}_s"] = secs
    if run_checks:
        executed_path = run.executed_notebook
        if run.executed_notebook and ctx.executed_dir:
            ctx.executed_dir.mkdir(parents=True, exist_ok=True)
            executed_path = ctx.executed_dir / f"{sub.participant_id}.ipynb"
            shutil.move(str(run.executed_notebook), executed_path)
        explained = explain(run.cell_errors, nb, sub.notebook, list(ctx.datasets), lang)
        status, message, reason = run_status(run, r, lang, flags, explained)
        sandbox_log = [x for x in (run.message, run.info.get("traceback", ""), run.stderr_tail) if x]
        judge_notes: list[str] = []
        judged, m, fl = judge_probes(run_checks, run.arrays, run.info.get("probe") or {}, ctx.data, nb, lang, reason,
                                     executed=_read_executed(executed_path), notes=judge_notes)
        detail = "\n".join([*instructor_lines(explained), *judge_notes, *sandbox_log])
        results.update(judged)
        metrics.update(m)
        flags += fl

    checks = []
    for chk in r.checks:
        c = results.get(chk.id) or not_measured(chk, message or "-", lang)
        c.title = title(chk, lang)
        checks.append(c)
    timings["total_s"] = round(time.monotonic() - t0, 2)
    res = Result.from_submission(sub, status=status, max_score=r.max_grade, checks=checks,
                                 metrics=metrics, flags=sorted({clean(f, limit=200) for f in flags}), message=message,
                                 detail=_cap(detail), timings=timings)
    res.notes = list(dict.fromkeys(res.notes + res_notes))
    return res


def invalid_message(exc: InvalidNotebook, name: str | None, lang: str) -> str:
    """What a student reads when their file is not a readable notebook."""
    key = f"invalid_{exc.code}"
    reason = tr(CATALOG, key, lang, **exc.params) if key in CATALOG else str(exc)
    return tr(CATALOG, "invalid", lang, name=name, reason=reason)


def _unit_tests(units: list, nb, sub: Submission, ctx: GradeContext) -> dict[str, tuple]:
    """check id -> (CheckResult, flags, extraction notes, seconds) for the unit-test checks."""
    from .checks import case_payload, extract_functions

    out = {}
    r = ctx.rubric
    for chk in units:
        ts = time.monotonic()
        extraction = extract_functions(nb, [chk.function])
        suite = ctx.suite(chk)
        cases, inputs = case_payload(suite, chk.function)
        run = ctx.jobs.functions(extraction.source, cases, inputs, name=f"{sub.participant_id}-{chk.id}",
                                 timeout_s=r.limits.unit_timeout_s, memory_mb=min(r.limits.memory_mb, 2048))
        res = lazy(KINDS[chk.kind].judge)(chk, suite, run, ctx.lang, extraction=extraction,
                                          hidden_cases=r.feedback.hidden_cases)
        flags = ["result_refused"] if run.info.get("arrays_refused") else []
        out[chk.id] = (res, flags, extraction.notes, round(time.monotonic() - ts, 2))
    return out


def _extra_files(sub: Submission) -> dict[str, Path]:
    """The student's other files, placed beside the notebook (data files they read, etc.)."""
    return {rel: p for rel, p in sub.paths.items()
            if p != sub.notebook and not rel.lower().endswith(".ipynb") and p.is_file()}


def _read_executed(path: Path | None, max_mb: int = 64):
    """The re-executed notebook as plain JSON (made in the sandbox: size-capped, never trusted
    beyond its printed text), or None."""
    import json

    try:
        if path is None or Path(path).stat().st_size > max_mb << 20:
            return None
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cells"), list) else None


def _cap(detail: str, limit: int = 6000) -> str:
    """The first lines (the cell errors explained) and the end (the sandbox's last words)."""
    if len(detail) <= limit:
        return detail
    return detail[: limit // 2] + "\n[…]\n" + detail[-(limit // 2):]


def _zero_checks(r: Rubric, lang: str) -> list[CheckResult]:
    """Zero-point rows for every check, so a failed submission still shows the rubric."""
    return [CheckResult(id=c.id, points=0.0, max_points=c.points, passed=False, message="-",
                        title=title(c, lang)) for c in r.checks]
