"""What one top-level notebook statement defines and reads: the facts the extractor works on.

Kept apart from the notebook walking so each rule ("what counts as a cheap constant") can be
read and tested on its own. Nothing here runs student code: it only parses and inspects it.
"""
from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field

from .bindings import bindings, target_names

#: Modules whose calls may appear in an extracted constant, e.g. `EPS = np.float32(1e-7)`.
CHEAP_MODULES = ("numpy", "math")
#: Builtins a constant may call (pure and fast on small literals).
SAFE_BUILTIN_CALLS = frozenset({
    "abs", "bool", "complex", "dict", "divmod", "enumerate", "float", "frozenset", "int", "len",
    "list", "max", "min", "pow", "range", "reversed", "round", "set", "sorted", "str", "sum",
    "tuple", "zip",
})
BUILTIN_NAMES = frozenset(dir(builtins))
#: numpy functions that touch files: a constant built with them is not cheap (nor there in the sandbox).
_FILE_IO = frozenset({"load", "loadtxt", "genfromtxt", "fromfile", "fromregex", "memmap", "save", "savez",
                      "savez_compressed", "savetxt", "tofile", "DataSource", "open"})
_COMPREHENSIONS = ("listcomp", "setcomp", "dictcomp", "genexpr")
_NOT_CHEAP = (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)


@dataclass
class StmtInfo:
    defines: set[str] = field(default_factory=set)
    now: set[str] = field(default_factory=set)  # names read when the statement runs
    later: set[str] = field(default_factory=set)  # names read only when its functions are called
    calls: set[str] = field(default_factory=set)  # root names of calls made when it runs
    cheap: bool = False  # safe and fast to run (given `calls` resolve to numpy/math/builtins)
    imports: dict[str, str] = field(default_factory=dict)  # alias -> dotted origin
    star: str | None = None  # module of a `from M import *`


def analyse(node: ast.stmt) -> StmtInfo:
    """Defines, reads and cheapness of one top-level statement."""
    info = StmtInfo(defines=_defines(node))
    if isinstance(node, ast.Import):
        info.imports = {a.asname or a.name.split(".")[0]: (a.name if a.asname else a.name.split(".")[0])
                        for a in node.names}
    elif isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        for a in node.names:
            if a.name == "*":
                info.star = module
            else:
                info.imports[a.asname or a.name] = f"{module}.{a.name}"
    info.now, info.later = _reads(node)
    if isinstance(node, (ast.If, ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        info.now -= info.defines  # a block may define a name and use it right after
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        info.now.add(node.target.id)
    info.cheap = _cheap_stmt(node, info.calls, top=True)
    return info


def cheap_origin(origin: str) -> bool:
    """Whether an import origin ("numpy.float32", "math") is one whose calls a constant may use."""
    return any(origin == m or origin.startswith(m + ".") for m in CHEAP_MODULES)


def _defines(node: ast.stmt) -> set[str]:
    """Names the statement binds, those of `except … as e` included: the handler's own reads of
    `e` are not reads of a global (checks/bindings.py)."""
    return {name for name, kind, _ in bindings(node) if kind != "global"}


def _target_names(t: ast.AST) -> set[str]:
    return set(target_names(t))


def _reads(node: ast.stmt) -> tuple[set[str], set[str]]:
    """Global names read now (module level, class bodies, comprehensions) and later (functions).

    Uses the compiler's own scoping (symtable) on the statement alone; annotations are not
    evaluated (the extracted module starts with `from __future__ import annotations`).
    """
    try:
        table = symtable.symtable("from __future__ import annotations\n" + ast.unparse(node), "<cell>", "exec")
    except (SyntaxError, ValueError):  # RecursionError propagates: the caller skips the statement
        return set(), set()
    now: set[str] = set()
    later: set[str] = set()

    def walk(t: symtable.SymbolTable, immediate: bool) -> None:
        for sym in t.get_symbols():
            if sym.is_referenced() and (t.get_type() == "module" or sym.is_global()):
                (now if immediate else later).add(sym.get_name())
        for child in t.get_children():
            kind = child.get_type()
            walk(child, immediate and (kind == "class" or child.get_name() in _COMPREHENSIONS))

    walk(table, True)
    return now, later - now


def _cheap_stmt(node: ast.stmt, calls: set[str], top: bool = False) -> bool:
    """Imports, definitions, constants from literals/arithmetic/numpy/math, and if/try blocks of those."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass, ast.Global, ast.Nonlocal)):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True  # decorators and defaults are resolved (and judged) as dependencies
    if isinstance(node, ast.ClassDef):
        body = [s for s in node.body if not _is_docstring(s)]
        return all(_cheap_stmt(s, calls) for s in body)
    if isinstance(node, ast.Assign):
        return _cheap_expr(node.value, calls) and all(_target_names(t) or not top for t in node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return node.value is not None and _cheap_expr(node.value, calls)
    if _is_docstring(node):
        return not top
    if isinstance(node, ast.Raise):
        return not top
    if isinstance(node, ast.If):
        return _cheap_expr(node.test, calls) and all(_cheap_stmt(s, calls) for s in node.body + node.orelse)
    if isinstance(node, ast.Try):
        handlers_ok = all((h.type is None or _cheap_expr(h.type, calls)) and all(_cheap_stmt(s, calls) for s in h.body)
                          for h in node.handlers)
        return handlers_ok and all(_cheap_stmt(s, calls) for s in node.body + node.orelse + node.finalbody)
    return False


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _cheap_expr(e: ast.AST, calls: set[str]) -> bool:
    if isinstance(e, _NOT_CHEAP):
        return False
    if isinstance(e, ast.Lambda):
        return True  # defining it runs nothing; its reads are resolved as dependencies
    if isinstance(e, ast.Call):
        root = root_name(e.func)
        if root is None:
            return False
        calls.add(root)
        return all(_cheap_expr(c, calls) for c in [*e.args, *(k.value for k in e.keywords)]) and \
            _cheap_expr(e.func, calls)
    return all(_cheap_expr(c, calls) for c in ast.iter_child_nodes(e))


def root_name(e: ast.AST) -> str | None:
    """`np` for `np.random.default_rng` or `np.ones(3).sum`; None for anything else and for file I/O."""
    while isinstance(e, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(e, ast.Attribute) and e.attr in _FILE_IO:
            return None
        e = e.func if isinstance(e, ast.Call) else e.value
    return e.id if isinstance(e, ast.Name) else None
