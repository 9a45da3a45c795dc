"""The grading interface: every name the grader will look for in the notebook, and its kind.

The names come from the rubric, so a new assignment's checks are picked up by themselves: the
function of each unit test, and every `interface` name that the probes of its re-run checks use
(`preprocess` and `model` for an accuracy check). The notebook is read, never run: what counts
is the last top-level binding of each name, as a re-run would leave it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from ..messages import tr
from ..checks.bindings import bindings
from ..checks.kinds import KINDS, PROBES
from .notebook import CodeCell

CATALOG = {
    "kind_function": {"es": "función", "en": "function"},
    "kind_model": {"es": "modelo", "en": "model"},
    "kind_name": {"es": "definido", "en": "defined"},
    "found_function": {"es": "una función", "en": "a function"},
    "found_class": {"es": "una clase", "en": "a class"},
    "found_import": {"es": "importado", "en": "imported"},
    "found_literal": {"es": "un valor constante", "en": "a constant value"},
    "found_value": {"es": "un objeto", "en": "an object"},
    "found_global": {"es": "asignado dentro de la función `{fn}` (global)",
                     "en": "assigned inside function `{fn}` (global)"},
    "ok": {"es": "`{name}`: {found} en la celda {cell}", "en": "`{name}`: {found} in cell {cell}"},
    "missing": {"es": "`{name}` no está definido al nivel superior de ninguna celda de código; el corrector "
                      "lo busca por su nombre ({kind}). No lo renombres ni lo definas dentro de otra función.",
                "en": "`{name}` is not defined at the top level of any code cell; the grader looks it up "
                      "by name ({kind}). Do not rename it or define it inside another function."},
    "not_function": {"es": "`{name}` es {found} en la celda {cell}, pero el corrector lo llama como función: "
                           "defínelo con `def {name}(...)`.",
                     "en": "`{name}` is {found} in cell {cell}, but the grader calls it as a function: "
                           "define it with `def {name}(...)`."},
    "not_model": {"es": "`{name}` es {found} en la celda {cell}, pero el corrector espera el modelo entrenado "
                        "(un objeto con `predict`, como `tf.keras.Sequential(...)`), no {found}.",
                  "en": "`{name}` is {found} in cell {cell}, but the grader expects the trained model "
                        "(an object with `predict`, such as `tf.keras.Sequential(...)`), not {found}."},
}

_OK = {"function": {"function", "import", "value", "global"}, "model": {"value", "import", "global"},
       "name": {"function", "class", "import", "literal", "value", "global"}}
#: Interface fields that name a function (the others name a model or any other object).
FUNCTIONS = {"preprocess"}


@dataclass
class InterfaceItem:
    name: str
    expected: str  # "function" | "model"
    found: str | None  # function | class | import | literal | value | global | None (missing)
    cell: int | None
    ok: bool
    message: str


def required_names(rubric) -> list[tuple[str, str]]:
    """[(name, "function" | "model" | "name")] the rubric's checks will look up in the notebook:
    each check's `function`, and the interface names its re-run probes use."""
    out: dict[str, str] = {}
    for chk in rubric.checks:
        for name in KINDS[chk.kind].names(rubric, chk):  # the functions the check calls (checks/kinds.py)
            out.setdefault(name, "function")
    used = _probe_names(rubric)
    for field_name, value in rubric.interface:
        if isinstance(value, str) and value in used:
            kind = "model" if field_name.endswith("model") else "function" if field_name in FUNCTIONS else "name"
            out.setdefault(value, kind)
    return list(out.items())


def _probe_names(rubric) -> set[str]:
    """The notebook names the rubric's re-run probes use (checks/kinds.py PROBES)."""
    probes = {KINDS[c.kind].probe for c in rubric.checks if KINDS[c.kind].probe}
    return {n for p in probes for n in PROBES[p].uses(rubric) if isinstance(n, str)}


def check_interface(cells: list[CodeCell], rubric, lang: str) -> list[InterfaceItem]:
    bound: dict[str, tuple[str, int, str]] = {}  # name -> (kind, cell, detail); the last one wins
    for cell in cells:
        if cell.tree is None:
            continue
        for node in cell.tree.body:
            for name, kind, detail in _bindings(node):
                bound[name] = (kind, cell.number, detail)
    items = []
    for name, expected in required_names(rubric):
        kind_text = tr(CATALOG, f"kind_{expected}", lang)
        if name not in bound:
            items.append(InterfaceItem(name, expected, None, None, False,
                                       tr(CATALOG, "missing", lang, name=name, kind=kind_text)))
            continue
        kind, cell, detail = bound[name]
        found = tr(CATALOG, f"found_{kind}", lang, fn=detail)
        if kind in _OK[expected]:
            text = kind_text if kind in ("function", "value") or expected == "name" else found
            items.append(InterfaceItem(name, expected, kind, cell, True,
                                       tr(CATALOG, "ok", lang, name=name, found=text, cell=cell)))
        else:
            key = "not_function" if expected == "function" else "not_model"
            items.append(InterfaceItem(name, expected, kind, cell, False,
                                       tr(CATALOG, key, lang, name=name, found=found, cell=cell)))
    return items


def _bindings(node: ast.stmt) -> list[tuple[str, str, str]]:
    """What a top-level statement leaves bound after it ran (checks/bindings.py; `except … as e`
    is deleted by Python at the end of its handler)."""
    return [b for b in bindings(node) if b[1] != "except"]
