"""The test accuracy a submitted notebook SHOWS, to compare with what re-execution reproduces.

Never used for the grade (the host computes metrics itself): a large difference is a flag for
the instructor (outputs from another version of the code, or edited outputs).

What counts, best first, the last one found winning within its tier:
  tier 2, labelled as test: Keras `evaluate` logs (a progress line that is not an epoch's line),
          printed lines naming test/prueba/evaluación next to accuracy/acc/exactitud/precisión,
          the `[loss, accuracy]` list shown by a cell that calls `.evaluate(`, or a value
          `test_acc` displayed as a cell's result;
  tier 1, unlabelled accuracy lines (`accuracy: 0.97` printed on its own).
`fit` logs never count (epoch lines, anything with val_/validation/train/entrenamiento).
Only stdout is read (Keras logs and print() go there; stderr carries TensorFlow's warnings).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import re

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
    "match": {"es": "La exactitud en test que muestra tu cuaderno ({claimed}) coincide con la obtenida al "
                    "re-ejecutarlo ({reproduced}).",
              "en": "The test accuracy your notebook shows ({claimed}) matches what re-running it gives "
                    "({reproduced})."},
    "mismatch": {"es": "La exactitud en test que muestra tu cuaderno ({claimed}) no coincide con la obtenida al "
                       "re-ejecutarlo ({reproduced}): la diferencia, {diff} puntos, supera la tolerancia de {tol} "
                       "puntos. ¿Guardaste el cuaderno tras volver a ejecutarlo con el código final?",
                 "en": "The test accuracy your notebook shows ({claimed}) does not match what re-running it gives "
                       "({reproduced}): the difference, {diff} points, exceeds the tolerance of {tol} points. Did you "
                       "save the notebook after re-running it with the final code?"},
    "no_claim": {"es": "No se encontró en las salidas del cuaderno la exactitud sobre el conjunto de test (por "
                       "ejemplo, la salida de model.evaluate): muéstrala para que se pueda comprobar.",
                 "en": "The notebook's outputs do not show the accuracy on the test set (e.g. the output of "
                       "model.evaluate): show it so that it can be checked."},
    "unverified": {"es": "Tu cuaderno muestra una exactitud en test de {claimed}, pero no se pudo reproducir al "
                         "re-ejecutarlo, así que no se ha comparado.",
                   "en": "Your notebook shows a test accuracy of {claimed}, but re-running it did not reproduce one, "
                         "so it was not compared."},
}


def find_claimed_accuracy(nb) -> float | None:
    """The test accuracy (a fraction) the notebook's outputs show, or None."""
    best: dict[int, float] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell_source(cell)
        for tier, value in _cell_claims(src, cell.get("outputs") or []):
            best[tier] = value  # the last one wins within a tier
    return best[max(best)] if best else None


def judge_claimed(check: ClaimedAccuracyCheck, claimed: float | None, reproduced: float | None,
                  lang: str = "es") -> tuple[CheckResult, list[str]]:
    """Passed unless both numbers exist and differ by more than the tolerance; flags for the instructor."""
    if claimed is None:
        return _result(check, True, tr(MESSAGES, "no_claim", lang)), ["no_claimed_accuracy"]
    if reproduced is None:
        msg = tr(MESSAGES, "unverified", lang, claimed=fmt_pct(claimed, lang))
        return _result(check, True, msg), ["claimed_accuracy_unverified"]
    diff = abs(claimed - reproduced)
    kw = dict(claimed=fmt_pct(claimed, lang), reproduced=fmt_pct(reproduced, lang),
              diff=fmt_num(100 * diff, lang, 1), tol=fmt_num(100 * check.tolerance, lang, 1))
    if diff > check.tolerance + 1e-12:
        return _result(check, False, tr(MESSAGES, "mismatch", lang, **kw)), ["claimed_accuracy_mismatch"]
    return _result(check, True, tr(MESSAGES, "match", lang, **kw)), []


def _result(check: ClaimedAccuracyCheck, passed: bool, message: str) -> CheckResult:
    return CheckResult(check.id, check.points if passed else 0.0, check.points, passed, message)


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
