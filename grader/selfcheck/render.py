"""The self-check report as text for a terminal or a Colab cell (`!grader check ...`).

Plain lines (no markup to escape: messages quote student code), colours only on a terminal.
Messages quote the notebook (names, code, outputs, the file name), so the whole text is cleaned
of control characters (ANSI/OSC sequences, bidi overrides) first and coloured after: no escape
sequence reaches the terminal but the marks' own colours.
"""
from __future__ import annotations

import os
import re

from ..messages import fmt_num, tr
from ..report.safe_text import clean
from .report import SelfCheckReport

CATALOG = {
    "header": {"es": "Comprobación de «{file}» — {title}", "en": "Checking '{file}' — {title}"},
    "header_file": {"es": "Comprobación de «{file}»", "en": "Checking '{file}'"},
    "header_how": {"es": "práctica {assignment}, {how}", "en": "assignment {assignment}, {how}"},
    "rerun_mode": {"es": "re-ejecutado en el sandbox del corrector", "en": "re-run in the grader's sandbox"},
    "invalid": {"es": "El fichero no se puede corregir:", "en": "The file cannot be graded:"},
    "checks": {"es": "Comprobaciones de la rúbrica", "en": "Rubric checks"},
    "points": {"es": "{pts}/{max} pt", "en": "{pts}/{max} pt"},
    "no_points": {"es": "?/{max} pt", "en": "?/{max} pt"},
    "basis_verified": {"es": "comprobado", "en": "checked"},
    "basis_public_tests": {"es": "tests públicos", "en": "public tests"},
    "basis_rerun": {"es": "re-ejecutado", "en": "re-run"},
    "basis_rerun_public": {"es": "re-ejecutado, test público", "en": "re-run, public test split"},
    "basis_self_reported": {"es": "autodeclarado", "en": "self-reported"},
    "basis_pending": {"es": "pendiente", "en": "pending"},
    "interface": {"es": "Interfaz de corrección (nombres que busca el corrector)",
                  "en": "Grading interface (names the grader looks up)"},
    "findings": {"es": "Lo que fallará al corregir (sin red, sin Drive, sin tus ficheros)",
                 "en": "What breaks when graded (no network, no Drive, none of your files)"},
    "cell": {"es": "celda {n}", "en": "cell {n}"},
    "run_failed": {"es": "La reejecución no terminó bien: {message}",
                   "en": "The re-run did not finish well: {message}"},
    "expected": {"es": "Nota esperada: {grade} / {max}", "en": "Expected grade: {grade} / {max}"},
    "range": {"es": "entre {low} y {high}", "en": "between {low} and {high}"},
    "at_risk": {"es": "(La nota más baja da por perdido lo que depende de reejecutar el cuaderno, {checks}, "
                      "porque lo marcado con ✘ puede hacer fallar la reejecución.)",
                "en": "(The lowest grade counts as lost what depends on re-running the notebook, {checks}, "
                      "because what is marked ✘ may make the re-run fail.)"},
    "pending": {"es": "Pendiente hasta que corrija el profesor: {items}.",
                "en": "Not verified until the instructor grades: {items}."},
    "ok": {"es": "Resultado: no se ha encontrado nada que impida la nota máxima.",
           "en": "Result: nothing found that stands in the way of full marks."},
    "blocked": {"es": "Resultado: hay problemas que quitan puntos (arriba, con ✘).",
                "en": "Result: there are problems that cost points (above, marked ✘)."},
}

_MARK = {True: "✔", False: "✘", None: "·"}
_COLOURS = {"✔": "32", "✘": "31", "⚠": "33", "·": "2"}


def render(report: SelfCheckReport, colour: bool | None = None) -> str:
    lang = report.lang
    colour = _use_colour() if colour is None else colour

    name = os.path.basename(report.notebook)
    lines = [tr(CATALOG, "header", lang, file=name, title=report.title or report.assignment)
             if report.title or report.assignment else tr(CATALOG, "header_file", lang, file=name)]
    if report.assignment:
        how = tr(CATALOG, "rerun_mode", lang) if report.mode == "rerun" else ""
        from .locate import CATALOG as LOC

        detail = tr(LOC, f"how_{report.how}", lang) if f"how_{report.how}" in LOC else report.how
        lines.append("  " + tr(CATALOG, "header_how", lang, assignment=report.assignment, how=detail)
                     + (f"; {how}" if how else ""))
    if report.invalid:
        lines += ["", f"✘ {tr(CATALOG, 'invalid', lang)} {report.invalid}"]
    if report.checks:
        lines += ["", tr(CATALOG, "checks", lang)]
        for c in report.checks:
            pts = tr(CATALOG, "no_points", lang, max=fmt_num(c.max_points, lang)) if c.points is None else \
                tr(CATALOG, "points", lang, pts=fmt_num(c.points, lang), max=fmt_num(c.max_points, lang))
            symbol = "✘" if c.blocking else ("✔" if c.passed else "·")
            basis = tr(CATALOG, f"basis_{c.basis}", lang)
            lines.append(f"{symbol} {c.title} ({pts}, {basis}): {c.message}")
            lines += [f"    {d.strip()}" if not d.startswith("  ") else f"    {d}" for d in c.details]
    if report.run_status not in (None, "graded"):
        failed = tr(CATALOG, "run_failed", lang, message=report.run_message or report.run_status)
        lines.append(f"✘ {failed}")
    if report.interface:
        lines += ["", tr(CATALOG, "interface", lang)]
        lines += [f"{_MARK[i.ok]} {i.message}" for i in report.interface]
    if report.findings:
        lines += ["", tr(CATALOG, "findings", lang)]
        for f in report.findings:
            where = f"{tr(CATALOG, 'cell', lang, n=f.cell)}: " if f.cell else ""
            snippet = f"\n      {f.snippet}" if f.snippet and f.snippet not in f.message else ""
            lines.append(f"{'✘' if f.blocking else '⚠'} {where}{f.message}{snippet}")
    low, high = report.expected()
    grade = fmt_num(low, lang) if low == high else \
        tr(CATALOG, "range", lang, low=fmt_num(low, lang), high=fmt_num(high, lang))
    lines += ["", tr(CATALOG, "expected", lang, grade=grade, max=fmt_num(report.max_grade, lang))]
    if report.rerun_blocked and any(c.at_risk for c in report.checks) and not report.invalid:
        at_risk = ", ".join(c.title for c in report.checks if c.at_risk and c.max_points)
        lines.append(tr(CATALOG, "at_risk", lang, checks=at_risk))
    if report.pending and not report.invalid:
        lines.append(tr(CATALOG, "pending", lang, items="; ".join(report.pending)))
    lines.append(tr(CATALOG, "blocked" if report.blocking else "ok", lang))
    text = clean("\n".join(lines), multiline=True) + "\n"
    if colour:
        text = _MARKS.sub(lambda m: f"{m[1]}\x1b[{_COLOURS[m[2]]}m{m[2]}\x1b[0m ", text)
    return text


_MARKS = re.compile(r"^( *)([✔✘⚠·]) ", re.M)  # a mark at the start of a line is ours


def _use_colour() -> bool:
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
