"""One self-check item per rubric check, without re-running the notebook.

Each check kind names its estimator in grader/checks/kinds.py; the points come from the instructor's own judges wherever the
self-check can run them (the executed-notebook rule, the public unit tests), else from what the
notebook reports about itself (labelled as such). A kind without an estimator (a new assignment's
metric) is listed as pending: verified only when the instructor re-runs the notebook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from ..checks import find_claimed_accuracy, judge_claimed
from ..checks.accuracy import accuracy_points
from ..checks.locked import MESSAGES as LOCKED, carried_checksums, find_changes
from ..messages import fmt_num, fmt_pct, tr
from ..checks.kinds import KINDS, lazy
from .report import CheckItem
from .unit import UnitRun

CATALOG = {
    "self_reported": {
        "es": "Tu cuaderno muestra una exactitud en test de {acc} (autodeclarada: no comprobada aquí). Con el "
              "umbral de {thr} valdría {pts} de {max} puntos; el corrector la medirá al reejecutar el cuaderno, "
              "sobre un conjunto de test oculto.",
        "en": "Your notebook shows a test accuracy of {acc} (self-reported: not checked here). With the threshold "
              "of {thr} it would be worth {pts} of {max} points; the grader measures it when it re-runs the "
              "notebook, on a hidden test set."},
    "no_claim": {
        "es": "Tu cuaderno no muestra la exactitud en test (la salida de la celda de evaluación), así que no se "
              "puede estimar. Ejecuta el cuaderno entero y guárdalo con sus salidas.",
        "en": "Your notebook does not show its test accuracy (the output of the evaluation cell), so it cannot be "
              "estimated. Run the whole notebook and save it with its outputs."},
    "claim_later": {
        "es": "Tu cuaderno muestra {acc}; el corrector la comparará con la que obtenga al reejecutarlo "
              "(tolerancia: {tol} puntos). No da puntos: si no coinciden, el profesor revisará la entrega.",
        "en": "Your notebook shows {acc}; the grader compares it with what it gets when re-running it "
              "(tolerance: {tol} points). No points: if they differ, the instructor reviews the submission."},
    "no_public": {
        "es": "No hay tests públicos de `{fn}` en esta versión del corrector: se comprobará al corregir.",
        "en": "This version of the grader has no public tests for `{fn}`: it is checked when grading."},
    "pending": {"es": "Se comprueba cuando el profesor corrige (reejecutando el cuaderno).",
                "en": "Checked when the instructor grades (re-running the notebook)."},
    "locked_ok": {"es": "Las celdas bloqueadas y de test del enunciado están sin modificar (si borraste alguna, "
                        "se verá al corregir).",
                  "en": "The assignment's locked and test cells are unchanged (a deleted one shows when grading)."},
    "locked_unknown": {"es": "Tu cuaderno no trae las sumas de verificación del enunciado publicado (¿partiste "
                             "de otra copia?); se comprobará al corregir, contra el enunciado.",
                       "en": "Your notebook does not carry the released notebook's checksums (did you start "
                             "from another copy?); it is checked when grading, against the release."},
    "pending_deleted": {"es": "celdas bloqueadas borradas", "en": "deleted locked cells"},
    "pending_hidden": {"es": "los tests ocultos de `{fn}`", "en": "the hidden tests of `{fn}`"},
    "pending_accuracy": {"es": "«{title}»: la exactitud al reejecutar el cuaderno, sobre el test oculto",
                         "en": "'{title}': the accuracy when the notebook is re-run, on the hidden test set"},
    "pending_check": {"es": "«{title}»", "en": "'{title}'"},
}


@dataclass
class Context:
    nb: dict
    lang: str
    titles: dict[str, str]  # check id -> title in the report's language
    units: dict[str, UnitRun] = field(default_factory=dict)
    rubric: Any = None
    _claimed: list = field(default_factory=list)

    @property
    def claimed(self) -> float | None:
        if not self._claimed:
            self._claimed.append(find_claimed_accuracy(self.nb))
        return self._claimed[0]


def estimate(chk, ctx: Context) -> tuple[CheckItem, list[str]]:
    """The item for one rubric check, and what about it stays unverified until grading."""
    kind = KINDS[chk.kind]
    fallback = static if kind.phase == "static" else pending
    item, later = (lazy(kind.estimate) or fallback)(chk, ctx)
    item.at_risk = kind.phase == "run"
    return item, later


def _item(chk, ctx: Context, points, passed, message, basis, blocking, details=None) -> CheckItem:
    return CheckItem(chk.id, ctx.titles.get(chk.id, chk.id), points, chk.points, passed, message, basis,
                     blocking, list(details or []))


def static(chk, ctx: Context):
    """A static kind without an estimator of its own: its grading judge, on the student's copy."""
    res, _ = lazy(KINDS[chk.kind].judge)(ctx.nb, chk, ctx.rubric, ctx.lang)
    return _item(chk, ctx, res.points, res.passed, res.message, "verified", not res.passed, res.details), []


def unit(chk, ctx: Context):
    run = ctx.units.get(chk.id)
    hidden = [tr(CATALOG, "pending_hidden", ctx.lang, fn=chk.function)]
    if run is None or run.result is None:
        return _item(chk, ctx, None, None, tr(CATALOG, "no_public", ctx.lang, fn=chk.function), "pending",
                     False), hidden
    res = run.result
    return _item(chk, ctx, res.points, res.passed, res.message, "public_tests", not res.passed, res.details), hidden


def accuracy(chk, ctx: Context):
    later = [tr(CATALOG, "pending_accuracy", ctx.lang, title=ctx.titles.get(chk.id, chk.id))]
    acc = ctx.claimed
    if acc is None:
        return _item(chk, ctx, None, None, tr(CATALOG, "no_claim", ctx.lang), "pending", True), later
    pts = accuracy_points(chk, acc)
    msg = tr(CATALOG, "self_reported", ctx.lang, acc=fmt_pct(acc, ctx.lang), thr=fmt_pct(chk.threshold, ctx.lang),
             pts=fmt_num(pts, ctx.lang), max=fmt_num(chk.points, ctx.lang))
    passed = acc >= chk.threshold
    return _item(chk, ctx, pts, passed, msg, "self_reported", not passed), later


def claimed(chk, ctx: Context):
    later = [tr(CATALOG, "pending_check", ctx.lang, title=ctx.titles.get(chk.id, chk.id))]
    acc = ctx.claimed
    if acc is None:  # the grader's verdict does not depend on the re-run then
        res, _, _ = judge_claimed(chk, None, [], None, ctx.lang)
        return _item(chk, ctx, res.points, res.passed, res.message, "verified", False), []
    msg = tr(CATALOG, "claim_later", ctx.lang, acc=fmt_pct(acc, ctx.lang),
             tol=fmt_num(100 * chk.tolerance, ctx.lang, 1))
    return _item(chk, ctx, None if chk.points else 0.0, None, msg, "pending", False), later


def locked(chk, ctx: Context):
    """Edited locked/test cells, from the checksums the student's copy carries from the release
    (the instructor's run compares with the released notebook itself)."""
    expected = carried_checksums(ctx.nb)
    later = [tr(CATALOG, "pending_deleted", ctx.lang)]
    if not expected:
        return _item(chk, ctx, None, None, tr(CATALOG, "locked_unknown", ctx.lang), "pending", False), \
            [tr(CATALOG, "pending_check", ctx.lang, title=ctx.titles.get(chk.id, chk.id))]
    edited, _ = find_changes(ctx.nb, expected)
    if not edited:
        return _item(chk, ctx, chk.points, True, tr(CATALOG, "locked_ok", ctx.lang), "verified", False), later
    items = [tr(LOCKED, "edited_cell", ctx.lang, gid=g, n=n) for g, n in edited]
    msg = tr(LOCKED, "edited", ctx.lang, cells=", ".join(items))
    return _item(chk, ctx, 0.0, False, msg, "verified", True, items), later


def pending(chk, ctx: Context):
    title = ctx.titles.get(chk.id, chk.id)
    return _item(chk, ctx, None, None, tr(CATALOG, "pending", ctx.lang), "pending", False), \
        [tr(CATALOG, "pending_check", ctx.lang, title=title)] if chk.points else []
