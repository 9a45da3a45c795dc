"""The test accuracy a submitted notebook SHOWS, to compare with what re-execution reproduces.

Never used for the grade (the host computes metrics itself): a large difference is a flag for
the instructor (outputs from another version of the code, or edited outputs).

What counts, best first, the last one found winning within its tier:
  tier 2, labelled as test: Keras `evaluate` logs (a progress line that is not an epoch's line),
          printed lines naming test/prueba/evaluación next to accuracy/acc/exactitud/precisión,
          the `[loss, accuracy]` list shown by a cell that calls `.evaluate(`, or a value
          `test_acc` displayed as a cell's result;
  tier 1, unlabelled accuracy lines (`accuracy: 0.97` printed on its own).
`fit` logs never count as the notebook's test accuracy (epoch lines, anything with
val_/validation/train/entrenamiento); they are tier 0, used only to compare a cell with itself.
Only stdout is read (Keras logs and print() go there; stderr carries TensorFlow's warnings).

The check compares like with like: what a cell printed in the submitted notebook against what the
SAME cell printed when the grader re-ran it (a mismatch means the saved outputs are not what the
code produces). The host's own accuracy on the public test split is supporting evidence for the
instructor (flag `claimed_accuracy_host_differs`), never a verdict: a student may evaluate on a
validation split, and a course's served data may differ slightly from the student's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..messages import fmt_num, fmt_pct, tr
from ..model import CheckResult
from .text import cell_source, terminal_lines

if TYPE_CHECKING:  # type hints only: the judges need no pydantic at run time
    from ..rubric import ClaimedAccuracyCheck

_ACC = r"(?<![a-z])(?:acc(?:uracy)?|compile_metrics|exactitud|tasa de aciertos?|aciertos?)(?![a-z])"
_ACC_LOOSE = r"(?<![a-z])(?:precisi[oó]n)(?![a-z])"  # "precision" only counts when test-labelled
_NUM = r"(\d+(?:[.,]\d+)?)\s*(%)?"
_AFTER_COLON = re.compile(r"[^:=\n]{0,40}?[:=]\s*" + _NUM)
_AFTER_WORDS = re.compile(r"[^\d\n]{0,30}?" + _NUM)
_ACC_RE = re.compile(f"{_ACC}|{_ACC_LOOSE}", re.I)
_STRICT_RE = re.compile(_ACC, re.I)
_TEST = re.compile(r"test|prueba|evaluat|evaluaci", re.I)
_SKIP = re.compile(r"val_|valid|train|entren", re.I)
_EPOCH = re.compile(r"^\s*(?:epoch|época|epoca)\s+\d+\s*/\s*\d+", re.I)
_PROGRESS = re.compile(r"^\s*\d+/\d+\s+(?:\[|━|-\s)")
_FLOAT = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"
_NUMBER_LIST = re.compile(rf"^\s*[\[(]\s*{_FLOAT}\s*,\s*{_FLOAT}[^\])]*[\])]\s*$", re.I)  # [loss, accuracy, ...]
_BARE_NUMBER = re.compile(r"^\s*" + _NUM + r"\s*$")

MESSAGES = {
    "match": {"es": "La exactitud que muestra la celda {cell} ({claimed}) coincide con la que da esa misma celda al "
                    "reejecutar el cuaderno ({reproduced}).",
              "en": "The accuracy cell {cell} shows ({claimed}) matches what the same cell gives when the notebook "
                    "is re-run ({reproduced})."},
    "mismatch": {"es": "La exactitud que muestra la celda {cell} ({claimed}) no es la que da esa misma celda al "
                       "reejecutar el cuaderno ({reproduced}); la diferencia, {diff} puntos, supera la tolerancia de "
                       "{tol}. Suele pasar cuando el código cambia después de ejecutarlo: antes de entregar, reinicia "
                       "el kernel, ejecuta todo y guarda.",
                 "en": "The accuracy cell {cell} shows ({claimed}) is not what the same cell gives when the notebook "
                       "is re-run ({reproduced}); the difference, {diff} points, exceeds the tolerance of {tol}. This "
                       "usually happens when the code changes after it was run: before handing in, restart the "
                       "kernel, run everything and save."},
    "no_claim": {"es": "Las salidas del cuaderno no muestran la exactitud en el conjunto de test (por ejemplo, la "
                       "salida de model.evaluate), así que no hay nada que comparar: muéstrala para poder comprobarla.",
                 "en": "The notebook's outputs do not show the accuracy on the test set (e.g. the output of "
                       "model.evaluate), so there is nothing to compare: show it so that it can be checked."},
    "unverified": {"es": "Tu cuaderno muestra una exactitud de {claimed}, pero al reejecutarlo ninguna celda volvió a "
                         "mostrarla, así que no hay nada que comparar.",
                   "en": "Your notebook shows an accuracy of {claimed}, but when it was re-run no cell showed it "
                         "again, so there is nothing to compare."},
}


@dataclass
class Compared:
    """One cell's accuracy in the submitted notebook and in the grader's re-run."""

    cell: int  # 1-based, as students count cells
    tier: int
    claimed: float
    rerun: float


def find_claimed_accuracy(nb) -> float | None:
    """The test accuracy (a fraction) the notebook's outputs show, or None (fit logs never count):
    the best tier, the last one found within it."""
    claims = [(tier, i, v) for i, (tier, v) in cell_claims(nb).items() if tier > 0]
    return max(claims)[2] if claims else None


def cell_claims(nb) -> dict[int, tuple[int, float]]:
    """Cell index (0-based) -> (tier, value) of the accuracy that cell shows: its best tier, the
    last one within it."""
    out: dict[int, tuple[int, float]] = {}
    for index, cell in enumerate(nb.get("cells", []) if nb is not None else []):
        if cell.get("cell_type") != "code":
            continue
        found = _cell_claims(cell_source(cell), cell.get("outputs") or [])
        if found:
            top = max(t for t, _ in found)
            out[index] = (top, [v for t, v in found if t == top][-1])
    return out


def compare_cells(submitted, executed) -> list[Compared]:
    """Every cell that shows an accuracy both as submitted and in the re-run (same source)."""
    if executed is None:
        return []
    sub, ran = cell_claims(submitted), cell_claims(executed)
    sub_cells, ran_cells = submitted.get("cells", []), executed.get("cells", [])
    out = []
    for i, (tier, value) in sorted(sub.items()):
        if i in ran and i < len(ran_cells) and cell_source(sub_cells[i]) == cell_source(ran_cells[i]):
            out.append(Compared(i + 1, tier, value, ran[i][1]))
    return out


def judge_claimed(check: ClaimedAccuracyCheck, claimed: float | None, compared: list[Compared],
                  host: float | None, lang: str = "es") -> tuple[CheckResult, list[str], str]:
    """(result, flags, the instructor's note). Passed when the cell showing the notebook's accuracy
    (its best-labelled one) printed the same, within the tolerance, in the re-run; neutral
    (passed None) when there is nothing to compare; the host's measurement only adds a flag."""
    flags, notes = [], []
    if claimed is not None and host is not None:
        notes.append(f"host on the public test split: {host:.4f} vs claimed {claimed:.4f}")
        if abs(claimed - host) > check.tolerance + 1e-12:
            flags.append("claimed_accuracy_host_differs")
    if compared:
        notes.insert(0, "cells compared (submitted / re-run): " + ", ".join(
            f"cell {c.cell}: {c.claimed:.4f} / {c.rerun:.4f}" for c in compared))
    main = max(compared, key=lambda c: (c.tier, c.cell)) if compared else None
    note = "; ".join(notes)
    if main is None:
        if claimed is None:
            return _result(check, None, tr(MESSAGES, "no_claim", lang)), flags + ["no_claimed_accuracy"], note
        msg = tr(MESSAGES, "unverified", lang, claimed=fmt_pct(claimed, lang))
        return _result(check, None, msg), flags + ["claimed_accuracy_unverified"], note or "no cell re-printed it"
    diff = abs(main.claimed - main.rerun)
    kw = dict(cell=main.cell, claimed=fmt_pct(main.claimed, lang), reproduced=fmt_pct(main.rerun, lang),
              diff=fmt_num(100 * diff, lang, 1), tol=fmt_num(100 * check.tolerance, lang, 1))
    if diff > check.tolerance + 1e-12:
        return _result(check, False, tr(MESSAGES, "mismatch", lang, **kw)), flags + ["claimed_accuracy_mismatch"], note
    return _result(check, True, tr(MESSAGES, "match", lang, **kw)), flags, note


def _result(check: ClaimedAccuracyCheck, passed: bool | None, message: str) -> CheckResult:
    return CheckResult(check.id, check.points if passed is not False else 0.0, check.points, passed, message)


def _cell_claims(src: str, outputs: list) -> list[tuple[int, float]]:
    """(tier, value) for every accuracy the cell's outputs show, in order."""
    evaluates = ".evaluate(" in src
    fit_only = ".fit(" in src and not evaluates  # its progress lines are all training logs
    last_line = next((ln.strip() for ln in reversed(src.splitlines()) if ln.strip()), "")
    found: list[tuple[int, float]] = []
    pending_epoch = False
    stream = ""
    for out in list(outputs) + [None]:
        kind = out.get("output_type") if out is not None else None
        if kind == "stream":
            if out.get("name", "stdout") == "stdout":  # stderr interleaves TF warnings mid-line
                text = out.get("text", "")
                stream += "".join(text) if isinstance(text, list) else str(text)
            continue
        for line in terminal_lines(stream):  # consecutive stream outputs form one text
            if _EPOCH.match(line):
                pending_epoch = True
            elif _PROGRESS.match(line):
                if not pending_epoch and not fit_only and "val_" not in line:
                    found += [(2, v) for v in _line_values(line, force_test=True)[:1]]
                elif pending_epoch or fit_only:  # an epoch's training accuracy: tier 0
                    found += [(0, v) for v in _line_values(line, force_test=False)[:1]]
                pending_epoch = False
            else:
                found += _text_claims(line, evaluates)
        stream = ""
        if kind in ("execute_result", "display_data"):
            text = (out.get("data") or {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            found += _result_claims(text, evaluates and kind == "execute_result", last_line)
    return found


def _text_claims(line: str, evaluates: bool) -> list[tuple[int, float]]:
    m = _NUMBER_LIST.match(line)
    if m and evaluates:  # print(model.evaluate(...)) -> [loss, accuracy]
        v = _fraction(m.group(2))
        return [(2, v)] if v is not None else []
    return [(2 if test else 1, v) for test, v in _labelled_values(line, evaluates)]


def _result_claims(text: str, evaluate_result: bool, last_line: str) -> list[tuple[int, float]]:
    m = _NUMBER_LIST.match(text)
    if m and evaluate_result:
        v = _fraction(m.group(2))
        return [(2, v)] if v is not None else []
    m = _BARE_NUMBER.match(text)
    if m and re.fullmatch(r"[\w.\[\]'\"-]+", last_line) and _STRICT_RE.search(last_line.replace("_", " ")):
        v = _fraction(m.group(1))
        tier = 2 if _TEST.search(last_line) else 1
        return [(tier, v)] if v is not None else []
    found: list[tuple[int, float]] = []
    for line in terminal_lines(text):
        found += _text_claims(line, evaluate_result)
    return found


def _labelled_values(line: str, evaluates: bool) -> list[tuple[bool, float]]:
    """(test-labelled?, value) for each accuracy word followed by a number in a printed line."""
    out, start = [], 0
    line_test = bool(_TEST.search(line)) or evaluates
    for m in _ACC_RE.finditer(line):
        label = line[start:m.start()] + m.group(0)
        num = _AFTER_COLON.match(line, m.end()) or _AFTER_WORDS.match(line, m.end())
        if num is None:
            continue
        start = num.end()
        if _SKIP.search(label):
            continue
        test = bool(_TEST.search(label)) or (line_test and not _SKIP.search(line))
        if not test and not _STRICT_RE.fullmatch(m.group(0)):
            continue  # "precision" alone is another metric
        v = _fraction(num.group(1))
        if v is not None:
            out.append((test, v))
    return out


def _line_values(line: str, force_test: bool) -> list[float]:
    return [v for _, v in _labelled_values(line, force_test)]


def _fraction(number: str) -> float | None:
    """0.974, "97,4" and "97.4 %" all mean 0.974 (values over 1 are percentages); above 100 is no accuracy."""
    try:
        v = float(number.replace(",", "."))
    except ValueError:
        return None
    if v > 1:
        v = round(v / 100, 6)
    return v if 0 <= v <= 1 else None
