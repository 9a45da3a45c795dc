"""Judge the sandbox's answers to a unit-test suite against the host's reference answers.

The sandbox only ran the student's function on the cases' inputs; every comparison happens here.
RunOutput fields read: status, arrays[case.id], info["cases"][case.id] = {ok, ename, evalue},
info["module_error"] = {ename, evalue} | None, info["missing"] = [function names]. A function that
returns a tuple (adam_step's (w, v, s)) comes back as arrays case.id__0, case.id__1... with
info["cases"][case.id]["parts"] = how many; its reference returns a tuple too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..messages import tr
from ..model import CheckResult, RunOutput
from .cases import UnitCase
from .extract import Extraction
from .adam_hints import diagnose as diagnose_adam
from .hints import diagnose
from .reference import expected as reference_answer
from .text import clean

if TYPE_CHECKING:  # type hints only: the judges need no pydantic at run time
    from ..rubric import UnitTestCheck

MESSAGES = {
    "all_passed": {"es": "`{fn}`: los {total} casos de prueba son correctos.",
                   "en": "`{fn}`: all {total} test cases pass."},
    "some_failed": {"es": "`{fn}`: {passed} de {total} casos de prueba correctos.",
                    "en": "`{fn}`: {passed} of {total} test cases pass."},
    "missing_function": {
        "es": "No se encontró la función `{fn}` en el cuaderno: defínela con `def {fn}(...)` en una celda de "
              "código, al nivel superior (no dentro de otra función ni de un bucle).",
        "en": "The function `{fn}` was not found in the notebook: define it with `def {fn}(...)` in a code "
              "cell, at the top level (not inside another function or a loop)."},
    "module_error": {
        "es": "No se pudo cargar `{fn}` con lo que usa (importaciones, funciones auxiliares, constantes): "
              "{ename}: {evalue}. ¿Usa la función variables que solo existen tras entrenar o cargar datos?",
        "en": "`{fn}` could not be loaded with what it uses (imports, helper functions, constants): "
              "{ename}: {evalue}. Does the function use variables that exist only after training or loading data?"},
    "timeout": {"es": "Las pruebas de `{fn}` no terminaron a tiempo (¿un bucle infinito o un cálculo enorme?).",
                "en": "The tests of `{fn}` did not finish in time (an endless loop or a huge computation?)."},
    "memory": {"es": "Las pruebas de `{fn}` agotaron la memoria.",
               "en": "The tests of `{fn}` ran out of memory."},
    "crashed": {"es": "El proceso que probaba `{fn}` terminó de forma inesperada.",
                "en": "The process testing `{fn}` ended unexpectedly."},
    "raised": {"es": "{what}: {call} lanzó {ename}: {evalue}",
               "en": "{what}: {call} raised {ename}: {evalue}"},
    "no_result": {"es": "{what}: {call} no devolvió un array de números (¿falta el return?)",
                  "en": "{what}: {call} did not return an array of numbers (missing return?)"},
    "not_run": {"es": "{what}: {call} no llegó a terminar",
                "en": "{what}: {call} did not finish"},
    "shape": {"es": "{what}: {call} devolvió un array de forma {got}; se esperaba forma {want}",
              "en": "{what}: {call} returned an array of shape {got}; expected shape {want}"},
    "not_finite": {"es": "{what}: {call} devolvió {got} (contiene {bad}); se esperaba {want}",
                   "en": "{what}: {call} returned {got} (it contains {bad}); expected {want}"},
    "wrong": {"es": "{what}: {call} devolvió {got}; se esperaba {want}",
              "en": "{what}: {call} returned {got}; expected {want}"},
    "hint": {"es": "  Pista: {hint}.", "en": "  Hint: {hint}."},
    "part_count": {"es": "{what}: {call} devolvió {got} valores; se esperaba la tupla ({names})",
                   "en": "{what}: {call} returned {got} values; expected the tuple ({names})"},
    "not_tuple": {"es": "{what}: {call} devolvió un solo array de forma {shape}; se esperaba la tupla ({names})",
                  "en": "{what}: {call} returned a single array of shape {shape}; expected the tuple ({names})"},
    "part_shape": {"es": "{what}: {call} devolvió {name} de forma {got}; se esperaba forma {want}",
                   "en": "{what}: {call} returned {name} of shape {got}; expected shape {want}"},
    "part_not_finite": {"es": "{what}: {call} devolvió {name} = {got} (contiene {bad}); se esperaba {want}",
                        "en": "{what}: {call} returned {name} = {got} (it contains {bad}); expected {want}"},
    "part_wrong": {"es": "{what}: {call} devolvió {name} = {got}; se esperaba {name} = {want}",
                   "en": "{what}: {call} returned {name} = {got}; expected {name} = {want}"},
    "also_wrong": {"es": " (también {names})", "en": " ({names} too)"},
    "max_error": {"es": " (error absoluto máximo: {err})", "en": " (largest absolute error: {err})"},
    "hidden_wrong": {"es": "caso oculto {n}: incorrecto", "en": "hidden case {n}: wrong"},
    "hidden_raised": {"es": "caso oculto {n}: lanzó {ename}", "en": "hidden case {n}: raised {ename}"},
    "hidden_hint": {"es": " ({hint})", "en": " ({hint})"},
    "hidden_not_run": {"es": "caso oculto {n}: no llegó a terminar", "en": "hidden case {n}: did not finish"},
    "hidden_no_result": {"es": "caso oculto {n}: no devolvió un array de números",
                         "en": "hidden case {n}: did not return an array of numbers"},
    "matrix": {"es": "matriz {shape}", "en": "array {shape}"},
}


def judge_unit(check: UnitTestCheck, cases: list[UnitCase], run: RunOutput, lang: str = "es",
               extraction: Extraction | None = None, hidden_cases: str = "summary") -> CheckResult:
    """Score one function's suite; `extraction` adds the functions the host saw missing.

    `hidden_cases` (the rubric's feedback.hidden_cases): `summary` names a failed hidden case by
    its number, with the hint, never its inputs or expected values; `inputs` shows it all."""
    if not cases:
        raise ValueError(f"check {check.id!r}: the suite has no cases")
    fn = check.function
    info = run.info if isinstance(run.info, dict) else {}
    missing = set(getattr(extraction, "missing", []) or [])
    if not isinstance(info.get("module_error"), dict):
        # A module that failed to load never defined its functions: then the load error is the
        # message, not "define it" (the function IS in the notebook).
        missing |= set(_strings(info.get("missing")))

    def result(passed: int, message: str, details: list[str] | None = None) -> CheckResult:
        total = len(cases)
        if check.partial == "all_or_nothing":
            points = check.points if passed == total else 0.0
        else:
            points = round(check.points * passed / total, 2)
        return CheckResult(check.id, points, check.points, passed == total, message, details or [])

    if fn in missing:
        return result(0, tr(MESSAGES, "missing_function", lang, fn=fn))
    module_error = info.get("module_error")
    if isinstance(module_error, dict):
        return result(0, tr(MESSAGES, "module_error", lang, fn=fn, ename=clean(module_error.get("ename"), 60),
                            evalue=clean(module_error.get("evalue"))))

    case_info = info.get("cases") if isinstance(info.get("cases"), dict) else {}
    passed, details, hints = 0, [], []
    hidden_number = 0
    for case in cases:
        hidden_number += not case.public
        line, hint = _judge_case(check, case, run, case_info.get(case.id), lang)
        if line is None:
            passed += 1
            continue
        if not case.public and hidden_cases == "summary":
            details.append(_hidden_summary(hidden_number, case, run, case_info.get(case.id), hint, lang))
            continue
        details.append(line)
        if hint and hint not in hints:
            hints.append(hint)
            details.append(tr(MESSAGES, "hint", lang, hint=hint))
    summary = tr(MESSAGES, "all_passed" if passed == len(cases) else "some_failed", lang,
                 fn=fn, passed=passed, total=len(cases))
    status_key = {"timeout": "timeout", "memory": "memory", "crashed": "crashed", "error": "crashed"}.get(run.status)
    if status_key and passed < len(cases):
        summary = tr(MESSAGES, status_key, lang, fn=fn) + " " + summary
    return result(passed, summary, details)


def _hidden_summary(n: int, case: UnitCase, run: RunOutput, info, hint: str | None, lang: str) -> str:
    """'caso oculto 3: incorrecto (la suma de cada columna no es 1)': no input, no expected value."""
    info = info if isinstance(info, dict) else {}
    arrays = run.arrays if isinstance(run.arrays, dict) else {}
    returned = case.id in arrays or f"{case.id}__0" in arrays
    if info.get("ok") is False:
        text = tr(MESSAGES, "hidden_raised", lang, n=n, ename=clean(info.get("ename"), 60))
    elif not returned:
        key = "hidden_no_result" if info.get("ok") or run.status == "ok" else "hidden_not_run"
        text = tr(MESSAGES, key, lang, n=n)
    else:
        text = tr(MESSAGES, "hidden_wrong", lang, n=n)
    return text + (tr(MESSAGES, "hidden_hint", lang, hint=hint) if hint else "")


def _judge_case(check: UnitTestCheck, case: UnitCase, run: RunOutput, info, lang: str) -> tuple[str | None, str | None]:
    """(None, None) when the case passes, else (the line for the student, a hint or None)."""
    what = case.description.get(lang) or case.description.get("es") or case.id
    call = _call(case, lang)
    fallback = case.hint.get(lang) or case.hint.get("es")
    info = info if isinstance(info, dict) else {}
    out = run.arrays.get(case.id) if isinstance(run.arrays, dict) else None
    if info.get("ok") is False:
        return tr(MESSAGES, "raised", lang, what=what, call=call, ename=clean(info.get("ename"), 60),
                  evalue=clean(info.get("evalue"))), fallback
    if case.returns:
        return _judge_parts(check, case, run, info, lang, what, call, fallback)
    if out is None and isinstance(info.get("parts"), int):  # a tuple where one array was expected:
        parts = [run.arrays.get(f"{case.id}__{i}") for i in range(info["parts"])]  # stack it, as
        if all(isinstance(p, np.ndarray) for p in parts):  # np.asarray(tuple) did before
            try:
                out = np.stack(parts)
            except ValueError:
                out = None
    if out is None:
        key = "no_result" if info.get("ok") or run.status == "ok" else "not_run"
        return tr(MESSAGES, key, lang, what=what, call=call), None
    if not isinstance(out, np.ndarray) or out.dtype.kind not in "biuf":
        return tr(MESSAGES, "no_result", lang, what=what, call=call), None
    out = out.astype(np.float64)
    want = reference_answer(case, getattr(check, "options", None))
    if want.ndim == 0 and out.size == 1:
        out = out.reshape(())
    elif out.shape != want.shape:
        return tr(MESSAGES, "shape", lang, what=what, call=call, got=out.shape, want=want.shape), fallback
    if not np.all(np.isfinite(out)):
        bad = (" and " if lang == "en" else " y ").join(
            k for k, m in (("NaN", np.isnan(out)), ("inf", np.isinf(out))) if m.any())
        return tr(MESSAGES, "not_finite", lang, what=what, call=call, got=_fmt(out), bad=bad, want=_fmt(want)), fallback
    if np.allclose(out, want, rtol=check.rtol, atol=check.atol):
        return None, None
    hint = diagnose(case, out, want, lang) or fallback
    got_text, want_text = _fmt_pair(out, want)
    return tr(MESSAGES, "wrong", lang, what=what, call=call, got=got_text, want=want_text) + _max_error(out, want, lang), hint


# Functions returning several values: a hint naming the mistake from all of them at once.
PART_HINTS = {"adam_step": diagnose_adam}


def _judge_parts(check: UnitTestCheck, case: UnitCase, run: RunOutput, info: dict, lang: str, what: str,
                 call: str, fallback: str | None) -> tuple[str | None, str | None]:
    """Like the single-array path, for a function that returns a tuple (case.returns names it)."""
    options = getattr(check, "options", None) or {}
    want = reference_answer(case, options)
    names = case.returns if len(case.returns) == len(want) else tuple(str(i) for i in range(len(want)))
    kw = dict(what=what, call=call, names=", ".join(names))
    arrays = run.arrays if isinstance(run.arrays, dict) else {}
    parts = info.get("parts")
    if isinstance(parts, int) and not isinstance(parts, bool):
        if parts != len(want):
            return tr(MESSAGES, "part_count", lang, got=parts, **kw), None
        outs = [arrays.get(f"{case.id}__{i}") for i in range(len(want))]
    else:  # a list [w, v, s] or np.array([w, v, s]) arrives stacked as one array
        single = arrays.get(case.id)
        if single is None:
            key = "no_result" if info.get("ok") or run.status == "ok" else "not_run"
            return tr(MESSAGES, key, lang, what=what, call=call), None
        if not (isinstance(single, np.ndarray) and single.ndim >= 1 and single.shape[0] == len(want)
                and all(single.shape[1:] == w.shape for w in want)):
            return tr(MESSAGES, "not_tuple", lang, shape=getattr(single, "shape", ()), **kw), None
        outs = [np.asarray(single[i]) for i in range(len(want))]
    got: list[np.ndarray] = []
    for name, out, w in zip(names, outs, want):
        if not isinstance(out, np.ndarray) or out.dtype.kind not in "biuf":
            return tr(MESSAGES, "no_result", lang, what=what, call=call), None
        out = out.astype(np.float64)
        if w.ndim == 0 and out.size == 1:
            out = out.reshape(())
        elif out.shape != w.shape:
            return tr(MESSAGES, "part_shape", lang, name=name, got=out.shape, want=w.shape, **kw), fallback
        got.append(out)
    wrong = [i for i, (o, w) in enumerate(zip(got, want))
             if not (np.all(np.isfinite(o)) and np.allclose(o, w, rtol=check.rtol, atol=check.atol))]
    if not wrong:
        return None, None
    first, name = wrong[0], names[wrong[0]]
    out, w = got[first], want[first]
    if not np.all(np.isfinite(out)):
        bad = (" and " if lang == "en" else " y ").join(
            k for k, m in (("NaN", np.isnan(out)), ("inf", np.isinf(out))) if m.any())
        line = tr(MESSAGES, "part_not_finite", lang, name=name, got=_fmt(out), bad=bad, want=_fmt(w), **kw)
    else:
        got_text, want_text = _fmt_pair(out, w)
        line = tr(MESSAGES, "part_wrong", lang, name=name, got=got_text, want=want_text, **kw) + _max_error(out, w, lang)
    if len(wrong) > 1:
        line += tr(MESSAGES, "also_wrong", lang, names=", ".join(names[i] for i in wrong[1:]))
    diagnose_parts = PART_HINTS.get(case.function)
    hint = diagnose_parts(case, got, want, lang, options) if diagnose_parts else None
    return line, hint or fallback


def _call(case: UnitCase, lang: str) -> str:
    """`softmax([3, -2, 6])` for small vectors, `cross_entropy(array (10, 6), array (10, 6))` otherwise."""
    parts = []
    for a in case.args:
        if a.ndim == 0:
            parts.append(f"{a.item():g}")
        elif a.ndim == 1 and a.size <= 6:
            parts.append("[" + ", ".join(f"{v:g}" for v in a) + "]")
        else:
            parts.append(tr(MESSAGES, "matrix", lang, shape=a.shape))
    return f"{case.function}({', '.join(parts)})"


def _fmt(a: np.ndarray, precision: int = 4, suppress_small: bool = True) -> str:
    text = np.array2string(a, precision=precision, suppress_small=suppress_small, threshold=12, edgeitems=2,
                           max_line_width=10_000)
    return " ".join(text.split())


def _fmt_pair(got: np.ndarray, want: np.ndarray) -> tuple[str, str]:
    """Both arrays with the fewest digits (4 to 12) at which what is printed differs: a student
    must see where the numbers part, not two identical-looking arrays."""
    for suppress in (True, False):
        for precision in (4, 6, 8, 10, 12):
            a, b = _fmt(got, precision, suppress), _fmt(want, precision, suppress)
            if a != b:
                return a, b
    return _fmt(got, 12, False), _fmt(want, 12, False)


def _max_error(got: np.ndarray, want: np.ndarray, lang: str) -> str:
    err = float(np.max(np.abs(got - want))) if got.size else 0.0
    text = f"{err:.3g}"
    return tr(MESSAGES, "max_error", lang, err=text.replace(".", ",") if lang == "es" else text)


def _strings(value) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
