"""Judge the student's `generate_text(model, start_string, num_generate)` on the host.

The convention is the TensorFlow text-generation tutorial's: the result is the seed followed
by `num_generate` NEW characters, so its length is len(start_string) + num_generate (the seed
is not counted in num_generate). Every character must belong to the training text's alphabet
(the host knows it; the student's idx2char may be missing or wrong, and a generator that
prints characters the corpus never had is broken either way). Sampling is random, so only
these properties are checked, never the text itself. Credit is proportional to the calls
that meet all of them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..messages import tr
from ..model import CheckResult
from .text import clean

if TYPE_CHECKING:
    from ..rubric import GenerateTextCheck

MESSAGES = {
    "summary": {"es": "{ok} de {n} llamadas a `{fn}` devuelven la semilla seguida de num_generate caracteres "
                      "del vocabulario.",
                "en": "{ok} of {n} calls to `{fn}` return the seed followed by num_generate characters "
                      "of the vocabulary."},
    "sample": {"es": "ejemplo: {fn}(model, {start!r}, {num}) → {text}",
               "en": "example: {fn}(model, {start!r}, {num}) → {text}"},
    "call": {"es": "{fn}(model, {start!r}, {num}): {problems}", "en": "{fn}(model, {start!r}, {num}): {problems}"},
    "no_result": {"es": "no devolvió nada (la llamada no llegó a hacerse)",
                  "en": "returned nothing (the call was never made)"},
    "raised": {"es": "lanzó {ename}: {evalue}", "en": "raised {ename}: {evalue}"},
    "not_str": {"es": "devuelve {type} ({value}), no un str", "en": "returns {type} ({value}), not a str"},
    "no_seed": {"es": "no empieza por la semilla {start!r} (empieza por {head!r})",
                "en": "does not start with the seed {start!r} (starts with {head!r})"},
    "length": {"es": "tiene {got} caracteres; debería tener {want}: la semilla ({seed}) más {num} nuevos",
               "en": "has {got} characters; expected {want}: the seed ({seed}) plus {num} new"},
    "seed_counted": {"es": " (num_generate cuenta solo los caracteres nuevos: la semilla va aparte)",
                     "en": " (num_generate counts only the new characters: the seed comes on top)"},
    "alphabet": {"es": "contiene caracteres que no están en el texto de entrenamiento: {chars}",
                 "en": "contains characters that are not in the training text: {chars}"},
}


def call_key(check_id: str, i: int) -> str:
    """How the probe's inputs and results name call `i` of a check."""
    return f"{check_id}__{i}"


def call_problems(rec: Any, start: str, num: int, alphabet: set[str], lang: str) -> list[str]:
    """What is wrong with one call's record (untrusted JSON from the probe); [] when right."""
    if not isinstance(rec, dict) or not rec:
        return [tr(MESSAGES, "no_result", lang)]
    if isinstance(rec.get("error"), dict):
        err = rec["error"]
        return [tr(MESSAGES, "raised", lang, ename=clean(err.get("ename"), 60), evalue=clean(err.get("evalue"), 160))]
    text, length = rec.get("text"), rec.get("length")
    if not isinstance(text, str) or not isinstance(length, int):
        return [tr(MESSAGES, "not_str", lang, type=clean(rec.get("type", "?"), 40), value=clean(rec.get("repr"), 60))]
    problems = []
    if not text.startswith(start):
        problems.append(tr(MESSAGES, "no_seed", lang, start=start, head=text[: len(start) + 10]))
    want = len(start) + num
    if length != want:
        msg = tr(MESSAGES, "length", lang, got=length, seed=len(start), num=num, want=want)
        if length == num and text.startswith(start):
            msg += tr(MESSAGES, "seed_counted", lang)
        problems.append(msg)
    strange = sorted(set(text[len(start):] if text.startswith(start) else text) - alphabet)
    if strange:
        problems.append(tr(MESSAGES, "alphabet", lang, chars=", ".join(repr(c) for c in strange[:8])))
    return problems


def judge_generate_text(check: GenerateTextCheck, info: dict[str, Any], alphabet: str,
                        lang: str = "es") -> CheckResult:
    """Proportional credit over the rubric's calls; the details say what each failed call did."""
    records = info.get("calls") if isinstance(info.get("calls"), dict) else {}
    allowed = set(alphabet)
    ok, details, sample = 0, [], None
    for i, call in enumerate(check.calls):
        rec = records.get(call_key(check.id, i))
        problems = call_problems(rec, call.start, call.num, allowed, lang)
        if problems:
            details.append(tr(MESSAGES, "call", lang, fn=check.function, start=call.start, num=call.num,
                              problems="; ".join(problems)))
        else:
            ok += 1
            if sample is None:
                sample = tr(MESSAGES, "sample", lang, fn=check.function, start=call.start, num=call.num,
                            text=repr(clean(rec["text"], 160)))
    n = len(check.calls)
    if sample:
        details.append(sample)
    points = round(check.points * ok / n, 2)
    message = tr(MESSAGES, "summary", lang, ok=ok, n=n, fn=check.function)
    return CheckResult(check.id, points, check.points, ok == n, message, details)
