"""Take the functions under test out of a notebook without running it.

Unit tests then run in seconds in a fresh sandboxed process instead of after a full re-train.
The result is the text of a Python module: the LAST top-level definition of each requested name
(as a re-run would see it), plus what it needs: imports, helper functions/classes and constants
that are cheap to compute. Anything else (`model = build()`, `x = load_data()`) is left out and
named in `notes` (English, for the instructor).
"""
from __future__ import annotations

import ast
import bisect
import threading
import time
from dataclasses import dataclass, field

from .deps import BUILTIN_NAMES, SAFE_BUILTIN_CALLS, StmtInfo, analyse, cheap_origin
from .text import cell_source

#: Cell magics whose body is ordinary Python run in the user namespace.
_TRANSPARENT_CELL_MAGICS = ("time", "capture")


@dataclass
class Extraction:
    source: str  # a Python module's text
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Stmt:
    pos: int  # order in the notebook
    cell: int  # 1-based position among all cells, as students see it
    node: ast.stmt
    text: str
    info: StmtInfo


# CPython 3.11 (before 3.11.8) can fail with "SystemError: AST constructor recursion depth
# mismatch" when several threads build ASTs at once (cpython#106905); the batch grades in
# threads, so parsing and symbol analysis go one at a time, one cell at a time: another
# student's extraction waits at most for one cell (bounded by MAX_CELL_CHARS), never a whole
# notebook.
_AST_LOCK = threading.RLock()

# What host code will parse of one submission: a cell, the whole notebook, and the time it may
# take (the work is linear; these bound what a hostile notebook can make the host do).
MAX_CELL_CHARS = 200_000
MAX_CODE_CHARS = 1_000_000
BUDGET_S = 20.0


def extract_functions(nb, names: list[str], budget_s: float = BUDGET_S) -> Extraction:
    """The module text that defines `names` as the notebook does, and what could not be found."""
    return _extract(nb, names, time.monotonic() + budget_s)


def _extract(nb, names: list[str], deadline: float) -> Extraction:
    stmts, futures, notes = _statements(nb, deadline)
    by_name: dict[str, list[_Stmt]] = {}
    for s in stmts:
        for n in s.info.defines:
            by_name.setdefault(n, []).append(s)
    positions = {n: [s.pos for s in found] for n, found in by_name.items()}
    stars = [s for s in stmts if s.info.star]

    def lookup(name: str, before: int | None) -> _Stmt | None:
        found = by_name.get(name)
        if not found:
            return None
        i = len(found) if before is None else bisect.bisect_left(positions[name], before)
        return found[i - 1] if i else None

    def includable(s: _Stmt) -> bool:
        if not s.info.cheap:
            return False
        for root in s.info.calls:
            t = lookup(root, s.pos)
            if t is None and root not in SAFE_BUILTIN_CALLS:
                return False
            if t is not None and not cheap_origin(t.info.imports.get(root, "")):
                return False
        return True

    kept: dict[int, set[str]] = {}
    work: list[tuple[str, int | None, str]] = []
    seen: set[tuple[str, int | None]] = set()

    def keep(s: _Stmt, name: str) -> None:
        if s.pos not in kept:
            who = ", ".join(sorted(s.info.defines)) or f"cell {s.cell}"
            work.extend((n, s.pos, who) for n in sorted(s.info.now))
            work.extend((n, None, who) for n in sorted(s.info.later))
        kept.setdefault(s.pos, set()).add(name)

    found, missing = [], []
    for name in names:
        s = lookup(name, None)
        if s is None or not includable(s):
            missing.append(name)
            if s is not None:
                notes.append(f"cell {s.cell}: '{name}' is defined by `{_short(s.text)}`, which the grader does not run")
            continue
        found.append(name)
        if s.info.imports:
            notes.append(f"cell {s.cell}: '{name}' is imported ({s.info.imports[name]}), not written in the notebook")
        keep(s, name)

    while work:
        name, before, who = work.pop(0)
        if (name, before) in seen:
            continue
        seen.add((name, before))
        s = lookup(name, before)
        if s is None:
            candidates = [t for t in stars if before is None or t.pos < before]
            if candidates:
                for t in candidates:
                    kept.setdefault(t.pos, set())
                notes.append(f"'{name}' (used by {who}) may come from `from ... import *`; kept those imports")
            elif lookup(name, None) is not None:
                notes.append(f"'{name}' (used by {who}) is defined only later, in cell {lookup(name, None).cell}")
            elif name not in BUILTIN_NAMES:
                notes.append(f"'{name}' (used by {who}) is not defined at the top level of the notebook")
        elif includable(s):
            keep(s, name)
        else:
            notes.append(f"cell {s.cell}: `{_short(s.text)}` not included (not a cheap definition); "
                         f"{who} uses '{name}'")

    with _AST_LOCK:
        body = [_emit(stmts[p], kept[p]) for p in sorted(kept)]
    header = f"# Extracted by the grader from the notebook, without running it: {', '.join(found) or '(nothing)'}\n"
    future = "from __future__ import " + ", ".join(sorted(futures | {"annotations"})) + "\n"
    return Extraction(source=header + future + "".join(body), found=found, missing=missing, notes=notes)


def _statements(nb, deadline: float = float("inf")) -> tuple[list[_Stmt], set[str], list[str]]:
    """Every top-level statement of every code cell, IPython syntax removed, in notebook order
    (within the size bounds and the deadline; what is left out is named in the notes)."""
    stmts: list[_Stmt] = []
    futures: set[str] = set()
    notes: list[str] = []
    total = 0
    for index, cell in enumerate(nb.get("cells", []), 1):
        if cell.get("cell_type") != "code":
            continue
        src = cell_source(cell)
        if not src.strip():
            continue
        total += len(src)
        if len(src) > MAX_CELL_CHARS or total > MAX_CODE_CHARS:
            notes.append(f"cell {index}: skipped, {len(src):,} characters (the grader reads at most "
                         f"{MAX_CELL_CHARS:,} per cell and {MAX_CODE_CHARS:,} per notebook)")
            continue
        if time.monotonic() > deadline:
            notes.append(f"cell {index} and later: skipped, the notebook's extraction ran out of time")
            break
        with _AST_LOCK:
            _cell_statements(index, src, stmts, futures, notes)
    return stmts, futures, notes


def _cell_statements(index: int, src: str, stmts: list[_Stmt], futures: set[str], notes: list[str]) -> None:
    code, why = to_python(src)
    if code is None:
        notes.append(f"cell {index}: skipped ({why})")
        return
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        notes.append(f"cell {index}: skipped, not valid Python ({e.msg}, line {e.lineno})")
        return
    except (ValueError, RecursionError, MemoryError) as e:
        notes.append(f"cell {index}: skipped, cannot be parsed ({type(e).__name__})")
        return
    lines = _Lines(code)
    for node in tree.body:
        if _is_ipython(node):
            continue  # a magic or shell line: %matplotlib, !pip install, x = !ls
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            futures.update(a.name for a in node.names)
            continue
        try:
            stripper = _StripIPython()
            stripper.visit(node)
            text = ast.unparse(node) if stripper.changed else lines.statement(node)
            info = analyse(node)
        except RecursionError:  # absurdly nested code: the tools walking the tree give up
            notes.append(f"cell {index}: a statement at line {node.lineno} is nested too deeply; skipped")
            continue
        stmts.append(_Stmt(len(stmts), index, node, text, info))


def to_python(src: str) -> tuple[str | None, str]:
    """Cell source with IPython syntax turned into `get_ipython()` calls, or (None, why)."""
    first, _, rest = src.lstrip().partition("\n")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in _TRANSPARENT_CELL_MAGICS:
            return None, f"cell magic %%{magic}"
        src = rest
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # the light self-check install: a simple line-based fallback
        return "\n".join(_fallback_line(line) for line in src.splitlines()) + "\n", ""
    try:
        return TransformerManager().transform_cell(src), ""
    except Exception as e:  # IPython's transformer on hostile input: treat as unparsable
        return None, f"IPython syntax could not be read ({type(e).__name__})"


def _fallback_line(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")):
        return line[: len(line) - len(stripped)] + "get_ipython()"
    return line


def _is_ipython(node: ast.AST) -> bool:
    """A statement that only runs IPython machinery (what magics and `!cmd` become)."""
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    while isinstance(value, (ast.Call, ast.Attribute)):
        value = value.func if isinstance(value, ast.Call) else value.value
    return isinstance(value, ast.Name) and value.id == "get_ipython"


class _StripIPython(ast.NodeTransformer):
    """Magics nested in blocks (`if COLAB: !pip install x`) become `pass`."""

    changed = False

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        return self._maybe_pass(node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        return self._maybe_pass(node)

    def _maybe_pass(self, node: ast.stmt) -> ast.AST:
        if _is_ipython(node):
            self.changed = True
            return ast.copy_location(ast.Pass(), node)
        return node


class _Lines:
    """A cell's lines, split once: ast.get_source_segment re-splits the whole cell on every
    call, which made a cell of thousands of statements quadratic."""

    def __init__(self, code: str):
        self.lines = ast._splitlines_no_ff(code)  # the split ast's own offsets refer to

    def segment(self, node: ast.AST) -> str | None:
        if None in (getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)):
            return None
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:  # column offsets are in UTF-8 bytes
            return self.lines[first].encode()[node.col_offset:node.end_col_offset].decode()
        return (self.lines[first].encode()[node.col_offset:].decode()
                + "".join(self.lines[first + 1:last])
                + self.lines[last].encode()[:node.end_col_offset].decode())

    def statement(self, node: ast.stmt) -> str:
        """The statement's own text (comments and layout kept), decorators included."""
        text = self.segment(node)
        if text is None:
            return ast.unparse(node)
        decorators = getattr(node, "decorator_list", [])
        return "".join(f"@{self.segment(d)}\n" for d in decorators) + text


def _emit(s: _Stmt, names: set[str]) -> str:
    text = s.text
    if isinstance(s.node, (ast.Import, ast.ImportFrom)) and names:
        # keep only the aliases used: `import numpy as np, tensorflow as tf` must not load TF
        aliases = [a for a in s.node.names if _alias_name(s.node, a) in names]
        if len(aliases) < len(s.node.names):
            node = ast.Import(names=aliases) if isinstance(s.node, ast.Import) else \
                ast.ImportFrom(module=s.node.module, names=aliases, level=s.node.level)
            text = ast.unparse(node)
    return f"# cell {s.cell}\n{text}\n"


def _alias_name(node: ast.stmt, alias: ast.alias) -> str:
    if isinstance(node, ast.Import):
        return alias.asname or alias.name.split(".")[0]
    return alias.asname or alias.name


def _short(text: str, limit: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit and "\n" not in text.strip() else line[:limit].rstrip() + " ..."
