"""Grade one submission: read, unit-test the extracted functions, re-run, judge on the host.

Every path ends in a Result (the batch goes on whatever one notebook does). Student code runs
only inside the sandbox jobs; expected values and hidden labels stay here.
"""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from .checks.cell_errors import explain, instructor_lines, student_text
from .errors import InvalidNotebook
from .ingest.read_notebook import read_notebook
from .report.safe_text import clean
from .messages import tr
from .model import CheckResult, Result, RunOutput, Submission
from .probes import MISSING
from .rubric import ExecutedCheck, Rubric, UnitTestCheck
from .run_checks import PROBE_USES, judge_probes, not_measured, plan_probes
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
    "timeout": {
        "es": "La reejecución del cuaderno superó el límite de tiempo ({limit}).",
        "en": "Re-running the notebook exceeded the time limit ({limit})."},
    "memory": {
        "es": "La reejecución del cuaderno superó el límite de memoria ({limit}).",
        "en": "Re-running the notebook exceeded the memory limit ({limit})."},
    "crashed": {
        "es": "La reejecución del cuaderno falló ({reason}).",
        "en": "Re-running the notebook failed ({reason})."},
    "missing_module": {
        "es": "El cuaderno importa el módulo «{module}», que no está instalado en el entorno de corrección.",
        "en": "The notebook imports module '{module}', which is not installed where notebooks are graded."},
    "missing_interface": {
        "es": "Al terminar la ejecución, el cuaderno no define {names}, {needed} para medir la exactitud.",
        "en": "After running, the notebook does not define {names}, {needed} to measure accuracy."},
    "needed": {"es": "que hace falta", "en": "needed"},
    "needed_plural": {"es": "que hacen falta", "en": "needed"},
    "collect_error": {
        "es": "Error al predecir con `{pre}` y `{model}` sobre las imágenes de test: {ename}: {evalue}",
        "en": "Error predicting with `{pre}` and `{model}` on the test images: {ename}: {evalue}"},
    "missing_names": {
        "es": "Al terminar la ejecución, el cuaderno no define {names}, {needed} para evaluarlo.",
        "en": "After running, the notebook does not define {names}, {needed} to assess it."},
    "probe_error": {
        "es": "Error al usar {names} con los datos del corrector: {ename}: {evalue}",
        "en": "Error using {names} on the grader's data: {ename}: {evalue}"},
    "cell_errors": {
        "es": "Al reejecutar el cuaderno fallaron estas celdas: {cells}.",
        "en": "Re-running the notebook, these cells failed: {cells}."},
    "cell": {"es": "celda {n} ({ename})", "en": "cell {n} ({ename})"},
    "forgery": {
        "es": "Se recibieron {n} resultados del corrector donde solo él produce uno: el cuaderno los "
              "falsifica (p. ej. un hilo o un `display` modificado). No se ha medido nada de la "
              "reejecución; el profesor revisará esta entrega.",
        "en": "The grader received {n} results where only it produces one: the notebook forges them "
              "(e.g. a thread or a patched `display`). Nothing from the re-run was measured; the "
              "instructor will review this submission."},
    "internal": {
        "es": "Error interno del corrector; el profesor revisará esta entrega a mano.",
        "en": "Internal grader error; the instructor will review this submission by hand."},
}

TITLES = {
    "executed_notebook": {"es": "Cuaderno ejecutado", "en": "Executed notebook"},
    "unit_test": {"es": "Función `{function}`", "en": "Function `{function}`"},
    "accuracy": {"es": "Exactitud en el test oculto", "en": "Accuracy on the hidden test set"},
    "claimed_accuracy": {"es": "Exactitud declarada frente a reproducida",
                         "en": "Claimed vs reproduced accuracy"},
    "locked_cells": {"es": "Celdas bloqueadas sin modificar", "en": "Locked cells unchanged"},
    "text_loss": {"es": "Pérdida por carácter en texto oculto", "en": "Per-character loss on held-out text"},
    "generate_text": {"es": "Función `{function}`", "en": "Function `{function}`"},
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


def release_template(rubric: Rubric, chk) -> Path:
    """The released student notebook the locked-cell checksums come from."""
    if chk.template:
        return rubric.resolve_path(chk.template)
    from .paths import course_dir

    base = Path(rubric.source).parent.parent if rubric.source else course_dir()
    return base / "assignments" / rubric.assignment / "release" / f"{rubric.assignment}.ipynb"


def hidden_cases_dir(rubric: Rubric) -> Path | str:
    """The hidden unit-test cases sit beside the rubric: <rubric dir>/hidden_cases/."""
    return Path(rubric.source).parent / "hidden_cases" if rubric.source else "default"


def title(check, lang: str) -> str:
    custom = getattr(check, f"title_{lang}", None)
    if custom:
        return custom
    return tr(TITLES, check.kind, lang, function=getattr(check, "function", ""))


def _fmt_mb(mb: int) -> str:
    return f"{mb / 1024:g} GiB" if mb >= 1024 else f"{mb} MB"


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
    from . import checks as C

    results: dict[str, CheckResult] = {}
    flags: list[str] = []
    metrics: dict[str, float] = {}
    timings: dict[str, float] = {}
    res_notes = list(notes)

    # 1. Static: was the submitted notebook really executed?
    for chk in r.checks:
        if isinstance(chk, ExecutedCheck):
            results[chk.id] = C.check_executed(nb, chk, lang)
        elif chk.kind == "locked_cells":
            from .checks.locked import check_locked_cells

            results[chk.id], fl = check_locked_cells(nb, chk, release_template(r, chk), lang)
            flags += fl

    # 2. Unit tests on extracted functions: seconds, no re-training. One job per function,
    #    so a broken helper of one function does not zero the other.
    for chk in r.checks:
        if isinstance(chk, UnitTestCheck):
            ts = time.monotonic()
            extraction = C.extract_functions(nb, [chk.function])
            res_notes += extraction.notes
            suite = ctx.suite(chk)
            cases, inputs = C.case_payload(suite, chk.function)
            run = ctx.jobs.functions(extraction.source, cases, inputs,
                                     name=f"{sub.participant_id}-{chk.id}",
                                     timeout_s=r.limits.unit_timeout_s,
                                     memory_mb=min(r.limits.memory_mb, 2048))
            results[chk.id] = C.judge_unit(chk, suite, run, lang, extraction=extraction,
                                           hidden_cases=r.feedback.hidden_cases)
            if run.info.get("arrays_refused"):
                flags.append("result_refused")
            timings[f"{chk.id}_s"] = round(time.monotonic() - ts, 2)

    # 3. Re-execute the notebook once, run every probe the checks need, judge here.
    status, message, detail = "graded", "", ""
    run_checks, sources, inputs = ctx.probe_plan()
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
        executed_path = run.executed_notebook
        if run.executed_notebook and ctx.executed_dir:
            ctx.executed_dir.mkdir(parents=True, exist_ok=True)
            executed_path = ctx.executed_dir / f"{sub.participant_id}.ipynb"
            shutil.move(str(run.executed_notebook), executed_path)
        explained = explain(run.cell_errors, nb, sub.notebook, list(ctx.datasets), lang)
        status, message, reason = _run_status(run, r, lang, flags, explained)
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


CRASHES = {  # what the sandbox reports (English, for the log) -> what the student reads
    "no result": {"es": "el proceso del corrector terminó sin resultado (¿el cuaderno "
                                 "mató procesos o salió del intérprete?)",
                           "en": "the grader's process ended without a result (did the notebook "
                                 "kill processes or exit the interpreter?)"},
    "the kernel died": {"es": "el kernel de Python murió durante la ejecución",
                    "en": "the Python kernel died while running"},
    "result refused": {"es": "el resultado devuelto es mucho mayor de lo que la comprobación "
                             "necesita y no se ha leído",
                       "en": "the result sent back is far larger than the check needs and was "
                             "not read"},
    "process limit": {"es": "se alcanzó el límite de procesos (¿demasiados procesos o hilos?)",
                      "en": "the process limit was reached (too many processes or threads?)"},
}


def invalid_message(exc: InvalidNotebook, name: str | None, lang: str) -> str:
    """What a student reads when their file is not a readable notebook."""
    key = f"invalid_{exc.code}"
    reason = tr(CATALOG, key, lang, **exc.params) if key in CATALOG else str(exc)
    return tr(CATALOG, "invalid", lang, name=name, reason=reason)


def _crash_reason(message: str, lang: str) -> str:
    for key, text in CRASHES.items():
        if key in message:
            return text.get(lang) or text["es"]
    return message


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


def _run_status(run: RunOutput, r: Rubric, lang: str, flags: list[str],
                explained: list | None = None) -> tuple[str, str, str]:
    """(status, student message, short reason) for a notebook run."""
    if run.info.get("arrays_refused"):
        flags.append("result_refused")
    missing_mods = []
    for e in run.cell_errors:
        if e.ename in ("ModuleNotFoundError", "ImportError"):
            m = re.search(r"No module named '([^']+)'", e.evalue)
            if m:
                missing_mods.append(m.group(1))
    for mod in dict.fromkeys(missing_mods):
        flags.append(f"missing_module:{mod}")
    parts = [tr(CATALOG, "missing_module", lang, module=m) for m in dict.fromkeys(missing_mods)]
    if run.cell_errors:
        flags.append("cell_errors")
        if explained:
            cells = student_text(explained, lang)
        else:
            cells = ", ".join(tr(CATALOG, "cell", lang, n=e.cell_index + 1, ename=e.ename)
                              for e in run.cell_errors[:5])
        parts.append(tr(CATALOG, "cell_errors", lang, cells=cells))
    if run.status == "timeout":
        flags.append("timeout")
        limit = run.message or f"{r.limits.timeout_s:g} s"
        msg = tr(CATALOG, "timeout", lang, limit=limit)
        return "timeout", " ".join([msg] + parts), msg
    if run.status == "memory":
        flags.append("memory_limit")
        msg = tr(CATALOG, "memory", lang, limit=_fmt_mb(r.limits.memory_mb))
        return "error", " ".join([msg] + parts), msg
    if run.status != "ok":
        msg = tr(CATALOG, "crashed", lang, reason=_crash_reason(run.message or run.status, lang))
        return "error", " ".join([msg] + parts), msg
    elsewhere = run.info.get("probe_displays_elsewhere")
    if isinstance(elsewhere, int) and elsewhere > 0:
        flags.append("probe_forgery")
    if (run.info.get("probe_error") or {}).get("ename") == "ProbeForgery":
        flags.append("probe_forgery")
        n = run.info.get("probe_payloads")
        msg = tr(CATALOG, "forgery", lang, n=n if isinstance(n, int) else "?")
        return "error", " ".join(parts + [msg]), msg
    errors = (run.info.get("probe") or {}).get("errors")
    for name, err in (errors.items() if isinstance(errors, dict) else []):
        if not isinstance(err, dict):
            continue
        evalue = str(err.get("evalue", ""))
        if evalue.startswith(MISSING):
            missing = evalue[len(MISSING):].split(",")
            names = ", ".join(f"`{n}`" for n in missing)
            needed = tr(CATALOG, "needed" if len(missing) == 1 else "needed_plural", lang)
            msg = tr(CATALOG, "missing_interface" if name == "predict" else "missing_names", lang, names=names,
                     needed=needed)
        elif name != "predict" and name in PROBE_USES:  # other assignments' probes (rnn_text...)
            msg = tr(CATALOG, "probe_error", lang, names=", ".join(f"`{n}`" for n in PROBE_USES[name](r)),
                     ename=err.get("ename", ""), evalue=evalue[:300])
        else:
            msg = tr(CATALOG, "collect_error", lang, pre=r.interface.preprocess,
                     model=r.interface.model, ename=err.get("ename", ""), evalue=evalue[:300])
        return "error", " ".join(parts + [msg]), msg
    if run.info.get("probe_error"):  # the probe cell itself failed (e.g. numpy was broken)
        err = run.info["probe_error"]
        msg = tr(CATALOG, "crashed", lang, reason=f"{err.get('ename', '')}: {str(err.get('evalue', ''))[:200]}")
        return "error", " ".join(parts + [msg]), msg
    return "graded", " ".join(parts), ""


def _zero_checks(r: Rubric, lang: str) -> list[CheckResult]:
    """Zero-point rows for every check, so a failed submission still shows the rubric."""
    return [CheckResult(id=c.id, points=0.0, max_points=c.points, passed=False, message="-",
                        title=title(c, lang)) for c in r.checks]
