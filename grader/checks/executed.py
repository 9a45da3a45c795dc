"""Is the SUBMITTED notebook executed, in order and without errors? (The course asks for it.)

The rule, kept simple so students can predict it:
  1. every non-empty code cell has an execution count (it was run);
  2. the counts strictly increase in cell order (one top-to-bottom run, no going back);
  3. no cell has an error output;
  4. the notebook shows results: not every code cell is without outputs. Cells that only define
     things (imports, `def`, assignments) legitimately print nothing, so no single cell is
     required to have output.
Cell numbers are 1-based positions among ALL cells, as students count them in Jupyter.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..messages import tr
from ..model import CheckResult
from .text import cell_source, clean

if TYPE_CHECKING:  # type hints only: the judges need no pydantic at run time
    from ..rubric import ExecutedCheck

MAX_NAMED = 5

MESSAGES = {
    "ok": {"es": "El cuaderno está ejecutado en orden, sin errores y con sus resultados visibles.",
           "en": "The notebook is executed in order, without errors, with its results visible."},
    "failed": {
        "es": "El cuaderno entregado debe estar ejecutado de principio a fin, en orden y sin errores: "
              "{problems}. Usa «Kernel → Restart & Run All» (en Colab, «Entorno de ejecución → "
              "Reiniciar y ejecutar todo») y guarda el cuaderno antes de entregarlo.",
        "en": "The submitted notebook must be executed top to bottom, in order and without errors: "
              "{problems}. Use \"Kernel → Restart & Run All\" (in Colab, \"Runtime → Restart and run all\") "
              "and save the notebook before handing it in."},
    "no_code": {"es": "El cuaderno no tiene celdas de código.", "en": "The notebook has no code cells."},
    "sum_not_executed": {"es": "{n} celdas sin ejecutar", "en": "{n} cells not executed"},
    "sum_not_executed_1": {"es": "1 celda sin ejecutar", "en": "1 cell not executed"},
    "sum_order": {"es": "ejecución fuera de orden", "en": "out-of-order execution"},
    "sum_errors": {"es": "{n} celdas con error", "en": "{n} cells with an error"},
    "sum_errors_1": {"es": "1 celda con error", "en": "1 cell with an error"},
    "sum_no_outputs": {"es": "no se ve ningún resultado", "en": "no results are visible"},
    "not_executed": {"es": "Sin ejecutar (sin número de ejecución): {cells}.",
                     "en": "Not executed (no execution count): {cells}."},
    "order": {"es": "Fuera de orden: {pairs}.", "en": "Out of order: {pairs}."},
    "pair": {"es": "la celda {cell} [{count}] se ejecutó después de la celda {prev} [{prev_count}]",
             "en": "cell {cell} [{count}] ran after cell {prev} [{prev_count}]"},
    "errors": {"es": "Con error: {cells}.", "en": "With an error: {cells}."},
    "error_cell": {"es": "celda {cell} ({ename}: {evalue})", "en": "cell {cell} ({ename}: {evalue})"},
    "no_outputs": {"es": "Ninguna celda de código muestra salida: ¿se borraron las salidas antes de guardar?",
                   "en": "No code cell shows any output: were the outputs cleared before saving?"},
    "cell": {"es": "celda {cell}", "en": "cell {cell}"},
    "more": {"es": "y {n} más", "en": "and {n} more"},
}


def check_executed(nb, check: ExecutedCheck, lang: str = "es") -> CheckResult:
    """All-or-nothing: full points when the notebook passes the four rules above."""
    code = []  # (cell number, cell) of non-empty code cells
    for number, cell in enumerate(nb.get("cells", []), 1):
        src = cell_source(cell)
        if cell.get("cell_type") == "code" and src.strip():
            code.append((number, cell))
    if not code:
        return CheckResult(check.id, 0.0, check.points, False, tr(MESSAGES, "no_code", lang))

    not_run = [n for n, c in code if not isinstance(c.get("execution_count"), int)]
    pairs, prev = [], None
    for n, c in code:
        count = c.get("execution_count")
        if not isinstance(count, int):
            continue
        if prev is not None and count <= prev[1]:
            pairs.append(tr(MESSAGES, "pair", lang, cell=n, count=count, prev=prev[0], prev_count=prev[1]))
        prev = (n, count)
    errors = [tr(MESSAGES, "error_cell", lang, cell=n, ename=clean(o.get("ename"), 60), evalue=clean(o.get("evalue")))
              for n, c in code for o in c.get("outputs", []) or [] if o.get("output_type") == "error"]
    no_outputs = all(not c.get("outputs") for _, c in code)

    summary, details = [], []
    if not_run:
        summary.append(tr(MESSAGES, "sum_not_executed" + ("_1" if len(not_run) == 1 else ""), lang, n=len(not_run)))
        details.append(tr(MESSAGES, "not_executed", lang,
                          cells=_listing([tr(MESSAGES, "cell", lang, cell=n) for n in not_run], lang)))
    if pairs:
        summary.append(tr(MESSAGES, "sum_order", lang))
        details.append(tr(MESSAGES, "order", lang, pairs=_listing(pairs, lang, sep="; ")))
    if errors:
        summary.append(tr(MESSAGES, "sum_errors" + ("_1" if len(errors) == 1 else ""), lang, n=len(errors)))
        details.append(tr(MESSAGES, "errors", lang, cells=_listing(errors, lang, sep="; ")))
    if no_outputs:
        summary.append(tr(MESSAGES, "sum_no_outputs", lang))
        details.append(tr(MESSAGES, "no_outputs", lang))
    if not summary:
        return CheckResult(check.id, check.points, check.points, True, tr(MESSAGES, "ok", lang))
    return CheckResult(check.id, 0.0, check.points, False,
                       tr(MESSAGES, "failed", lang, problems=", ".join(summary)), details)


def _listing(items: list[str], lang: str, sep: str = ", ") -> str:
    """At most MAX_NAMED items, then "y N más"."""
    shown = sep.join(items[:MAX_NAMED])
    rest = len(items) - MAX_NAMED
    return shown + (f"{sep}{tr(MESSAGES, 'more', lang, n=rest)}" if rest > 0 else "")



def judge_static(nb, chk, rubric, lang: str) -> tuple[CheckResult, list[str]]:
    """The registry's entry (checks/kinds.py)."""
    return check_executed(nb, chk, lang), []
