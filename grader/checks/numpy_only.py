"""Is a function the course asks for in NumPy written in NumPy? (softmax, cross_entropy, adam_step)

`return tf.nn.softmax(z).numpy()` passes softmax's unit tests without implementing it. The
function is extracted with everything it needs from the notebook (checks/extract.py, nothing
runs); an import of a framework among those statements means the function, or a helper it
calls, uses it.
"""
from __future__ import annotations

import ast

from ..messages import tr
from ..model import CheckResult
from .extract import extract_functions

MESSAGES = {
    "ok": {"es": "`{fn}` está implementada con NumPy.", "en": "`{fn}` is implemented with NumPy."},
    "uses": {"es": "`{fn}` usa {modules}: la práctica pide implementarla con NumPy.",
             "en": "`{fn}` uses {modules}: the assignment asks for it in NumPy."},
    "missing": {"es": "El cuaderno no define `{fn}`.", "en": "The notebook does not define `{fn}`."},
}


def frameworks_used(source: str, forbidden: list[str]) -> list[str]:
    """The forbidden top-level modules `source` imports (import, from-import, __import__ and
    importlib.import_module with a literal name), in order."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and ast.unparse(node.func) in ("__import__", "importlib.import_module"):
            names = [node.args[0].value]
        found += [n.split(".")[0] for n in names if n.split(".")[0] in forbidden]
    return list(dict.fromkeys(found))


def judge_static(nb, chk, rubric, lang: str) -> tuple[CheckResult, list[str]]:
    """The registry's entry (checks/kinds.py)."""
    ext = extract_functions(nb, [chk.function])

    def result(passed: bool, key: str, **kw) -> CheckResult:
        return CheckResult(id=chk.id, points=chk.points if passed else 0.0, max_points=chk.points,
                           passed=passed, message=tr(MESSAGES, key, lang, fn=chk.function, **kw))

    if chk.function in ext.missing or chk.function not in ext.found:
        return result(False, "missing"), []
    used = frameworks_used(ext.source, chk.forbidden)
    if not used:
        return result(True, "ok"), []
    return result(False, "uses", modules=", ".join(f"`{m}`" for m in used)), [f"not_numpy:{chk.function}"]
