"""The names a top-level notebook statement binds: one answer for the extraction of functions
(checks/deps.py) and the self-check's interface check (selfcheck/interface.py).

Two bindings are marked so each reader can decide: `global` (a name a function declares global:
bound only when it is called) and `except` (`except E as e`: bound inside the handler only,
Python deletes it after).
"""
from __future__ import annotations

import ast


def bindings(node: ast.stmt) -> list[tuple[str, str, str]]:
    """(name, kind, detail) for each name `node` binds, in order. kind: function, class,
    import, literal, value, global (detail: the function), except."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _globals_in(node) + [(node.name, "function", "")]
    if isinstance(node, ast.ClassDef):
        return [(node.name, "class", "")]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [((a.asname or a.name).split(".")[0], "import", "") for a in node.names if a.name != "*"]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        if node.value is None:
            return []
        kind = _value_kind(node.value)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [(n, kind if isinstance(t, ast.Name) else "value", "") for t in targets for n in target_names(t)]
    if isinstance(node, ast.AugAssign):
        return [(n, "value", "") for n in target_names(node.target)]
    out: list[tuple[str, str, str]] = []
    if isinstance(node, (ast.For, ast.AsyncFor)):
        out += [(n, "value", "") for n in target_names(node.target)]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        out += [(n, "value", "") for item in node.items if item.optional_vars is not None
                for n in target_names(item.optional_vars)]
    for block in ("body", "orelse", "finalbody"):
        for child in getattr(node, block, []) or []:
            out += bindings(child)
    for handler in getattr(node, "handlers", []) or []:
        if handler.name:
            out.append((handler.name, "except", ""))
        for child in handler.body:
            out += bindings(child)
    return out


def target_names(target: ast.AST) -> list[str]:
    """Names an assignment target binds; attribute/subscript targets change an object, no name."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in target_names(e)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def _value_kind(value: ast.AST) -> str:
    if isinstance(value, ast.Lambda):
        return "function"
    if isinstance(value, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr)):
        return "literal"
    return "value"


def _globals_in(fn: ast.AST) -> list[tuple[str, str, str]]:
    """Names a function declares `global` (bound when it is called, e.g. `def train(): global model`)."""
    return [(n, "global", fn.name) for node in ast.walk(fn) if isinstance(node, ast.Global) for n in node.names]
