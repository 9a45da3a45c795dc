"""A re-run's outcome as the student reads it: (status, message, short reason), and the flags.

Everything here reads codes: the failure code the sandbox reported (grader/runner/failures.py),
each probe's error code (grader/probes.py) and the exception class names of failed cells; never
an English message. Each failure is one row of FAILURES.
"""
from __future__ import annotations

import re

from ..messages import tr
from ..model import RunOutput
from .cell_errors import student_text

CATALOG = {
    "timeout": {
        "es": "La reejecución del cuaderno superó el límite de tiempo ({limit}).",
        "en": "Re-running the notebook exceeded the time limit ({limit})."},
    "cell_timeout": {
        "es": "La reejecución del cuaderno superó el límite de tiempo ({limit} por celda, en la celda {cell}).",
        "en": "Re-running the notebook exceeded the time limit ({limit} per cell, in cell {cell})."},
    "probe_timeout": {
        "es": "La reejecución del cuaderno superó el límite de tiempo ({limit} para las comprobaciones del "
              "corrector sobre tu modelo).",
        "en": "Re-running the notebook exceeded the time limit ({limit} for the grader's checks on your model)."},
    "memory": {
        "es": "La reejecución del cuaderno superó el límite de memoria ({limit}).",
        "en": "Re-running the notebook exceeded the memory limit ({limit})."},
    "crashed": {
        "es": "La reejecución del cuaderno falló ({reason}).",
        "en": "Re-running the notebook failed ({reason})."},
    "no_result": {"es": "el proceso del corrector terminó sin resultado (¿el cuaderno mató procesos o salió "
                        "del intérprete?)",
                  "en": "the grader's process ended without a result (did the notebook kill processes or "
                        "exit the interpreter?)"},
    "kernel_died": {"es": "el kernel de Python murió durante la ejecución",
                    "en": "the Python kernel died while running"},
    "result_refused": {"es": "el resultado devuelto es mucho mayor de lo que la comprobación necesita y no se "
                             "ha leído",
                       "en": "the result sent back is far larger than the check needs and was not read"},
    "process_limit": {"es": "se alcanzó el límite de procesos (¿demasiados procesos o hilos?)",
                      "en": "the process limit was reached (too many processes or threads?)"},
    "runner_failed": {"es": "error interno del corrector ({ename}); el profesor revisará esta entrega",
                      "en": "internal grader error ({ename}); the instructor will review this submission"},
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
}

# failure code -> (Result.status, flag, how the student reads it: a CATALOG key that stands
# alone, or None: "the re-run failed (<CATALOG[code]>)")
FAILURES: dict[str, tuple[str, str | None, str | None]] = {
    "timeout": ("timeout", "timeout", "timeout"),
    "cell_timeout": ("timeout", "timeout", "cell_timeout"),
    "probe_timeout": ("timeout", "timeout", "probe_timeout"),
    "memory": ("error", "memory_limit", "memory"),
    "process_limit": ("error", None, None),
    "kernel_died": ("error", None, None),
    "no_result": ("error", None, None),
    "result_refused": ("error", "result_refused", None),
    "runner_failed": ("error", None, None),
}
_MISSING_MODULE = re.compile(r"No module named '([^']+)'")


def fmt_mb(mb: int) -> str:
    return f"{mb / 1024:g} GiB" if mb >= 1024 else f"{mb} MB"


def failure_message(run: RunOutput, lang: str) -> str:
    """The student's sentence for a failed run (run.reason a FAILURES code)."""
    status, _, key = FAILURES.get(run.reason, FAILURES["runner_failed"])
    p = run.params
    if key is None:
        reason = run.reason if run.reason in FAILURES else "runner_failed"
        return tr(CATALOG, "crashed", lang, reason=tr(CATALOG, reason, lang, ename=p.get("ename", "?")))
    limit = fmt_mb(p["limit_mb"]) if "limit_mb" in p else f"{p.get('limit_s', 0):g} s"
    return tr(CATALOG, key, lang, limit=limit, cell=p.get("cell", "?"))


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def probe_failure(name: str, err: dict, uses: list[str], lang: str, missing_key: str, error_key: str) -> str:
    """One probe's error (its code, grader/probes.py) as the student reads it. Only names the
    probe could ask for are believed: the error came out of the student's kernel."""
    if err.get("code") == "missing_names":
        said = err.get("names") if isinstance(err.get("names"), list) else []
        missing = [n for n in uses if n in said] or uses
        needed = tr(CATALOG, "needed" if len(missing) == 1 else "needed_plural", lang)
        return tr(CATALOG, missing_key, lang, names=_names(missing), needed=needed)
    return tr(CATALOG, error_key, lang, names=_names(uses), pre=uses[0] if uses else "", model=uses[-1] if uses else "",
              ename=str(err.get("ename", "")), evalue=str(err.get("evalue", ""))[:300])


def run_status(run: RunOutput, rubric, lang: str, flags: list[str],
               explained: list | None = None) -> tuple[str, str, str]:
    """(status, student message, short reason) for a notebook run; appends its flags."""
    from .kinds import PROBES

    if run.info.get("arrays_refused"):
        flags.append("result_refused")
    parts = _cell_parts(run, lang, flags, explained)
    if run.status != "ok":
        status, flag, _ = FAILURES.get(run.reason, FAILURES["runner_failed"])
        if flag:
            flags.append(flag)
        msg = failure_message(run, lang)
        return status, " ".join([msg] + parts), msg
    elsewhere = run.info.get("probe_displays_elsewhere")
    if isinstance(elsewhere, int) and elsewhere > 0:
        flags.append("probe_forgery")
    probe_error = run.info.get("probe_error") if isinstance(run.info.get("probe_error"), dict) else {}
    if probe_error.get("code") == "forgery":
        flags.append("probe_forgery")
        n = run.info.get("probe_payloads")
        msg = tr(CATALOG, "forgery", lang, n=n if isinstance(n, int) else "?")
        return "error", " ".join(parts + [msg]), msg
    errors = (run.info.get("probe") or {}).get("errors")
    for name, err in (errors.items() if isinstance(errors, dict) else []):
        if isinstance(err, dict) and name in PROBES:
            probe = PROBES[name]
            msg = probe_failure(name, err, [n for n in probe.uses(rubric) if isinstance(n, str)], lang,
                                probe.missing, probe.error)
            return "error", " ".join(parts + [msg]), msg
    if probe_error:  # the probe cell itself failed (e.g. numpy was broken)
        reason = f"{probe_error.get('ename', '')}: {str(probe_error.get('evalue', ''))[:200]}"
        msg = tr(CATALOG, "crashed", lang, reason=reason)
        return "error", " ".join(parts + [msg]), msg
    return "graded", " ".join(parts), ""


def _cell_parts(run: RunOutput, lang: str, flags: list[str], explained: list | None) -> list[str]:
    """The sentences about the notebook's own failed cells (and modules it lacks)."""
    missing_mods = []
    for e in run.cell_errors:
        if e.ename in ("ModuleNotFoundError", "ImportError"):
            m = _MISSING_MODULE.search(e.evalue)
            if m:
                missing_mods.append(m.group(1))
    mods = list(dict.fromkeys(missing_mods))
    flags += [f"missing_module:{m}" for m in mods]
    parts = [tr(CATALOG, "missing_module", lang, module=m) for m in mods]
    if run.cell_errors:
        flags.append("cell_errors")
        if explained:
            cells = student_text(explained, lang)
        else:
            cells = ", ".join(tr(CATALOG, "cell", lang, n=e.cell_index + 1, ename=e.ename)
                              for e in run.cell_errors[:5])
        parts.append(tr(CATALOG, "cell_errors", lang, cells=cells))
    return parts
