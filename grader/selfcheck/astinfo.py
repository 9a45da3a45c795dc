"""Small facts about the notebook's code that the hazard checks share: what the imported names
are, the dotted name of a call, the text of a string argument, and whether code is guarded."""
from __future__ import annotations

import ast
from typing import Iterator

from .notebook import CodeCell

_GUARD_EXCEPTIONS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException", "OSError"}


def aliases(cells: list[CodeCell]) -> dict[str, str]:
    """Local name -> what it was imported as: `tfds` -> `tensorflow_datasets`, `drive` -> `google.colab.drive`."""
    out: dict[str, str] = {}
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree is not None else []:
            if isinstance(node, ast.Import):
                for a in node.names:
                    out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def constants(cells: list[CodeCell]) -> dict[str, str]:
    """Top-level `NAME = "text"` assignments (the last one wins), to follow `open(DATA_PATH)`."""
    out: dict[str, str] = {}
    for cell in cells:
        for node in cell.tree.body if cell.tree is not None else []:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = string_value(node.value, out)
                if value is not None:
                    out[node.targets[0].id] = value
    return out


def dotted(node: ast.AST) -> str | None:
    """`tf.keras.utils.get_file` for that attribute chain; None when it does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):  # `Path("x").read_text`: keep the method name only
        inner = dotted(node.func)
        return ".".join([inner] + parts[::-1]) if inner else None
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def qualified(node: ast.AST, names: dict[str, str]) -> str | None:
    """The dotted name with its first part replaced by what was imported: `tensorflow.keras.utils.get_file`."""
    text = dotted(node)
    if text is None:
        return None
    head, _, rest = text.partition(".")
    origin = names.get(head, head)
    return f"{origin}.{rest}" if rest else origin


def string_value(node: ast.AST | None, consts: dict[str, str], prefix: bool = False) -> str | None:
    """The text a string expression has without running anything: literals, names of string
    constants, `os.path.join`/`Path(...)`/`/`/`+` of those. With `prefix`, the known beginning
    of a longer text is enough (`f"/content/drive/{name}"` gives `/content/drive/`)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else None for v in node.values]
        if None not in parts:
            return "".join(parts)
        head = parts[:parts.index(None)]
        return "".join(head) if prefix and head else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
        left, right = string_value(node.left, consts, prefix), string_value(node.right, consts)
        joint = "/" if isinstance(node.op, ast.Div) else ""
        if left is not None and right is not None:
            return left + joint + right
        return left + joint if prefix and left is not None else None
    if isinstance(node, ast.Call) and node.args and not node.keywords:
        name = dotted(node.func) or ""
        if name == "str" and len(node.args) == 1:
            return string_value(node.args[0], consts)
        if name.endswith("path.join") or name.split(".")[-1] in ("Path", "PurePath", "PosixPath", "WindowsPath"):
            parts = [string_value(a, consts, prefix and i == 0) for i, a in enumerate(node.args)]
            if None in parts:
                known = parts[:parts.index(None)]
                return "/".join(p.rstrip("/\\") for p in known) + "/" if prefix and known else None
            return "/".join([p.rstrip("/\\") for p in parts[:-1]] + [parts[-1]])
    return None


def walk(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it is guarded: inside an `if`, or a `try` that catches import errors."""
    def visit(node: ast.AST, guarded: bool) -> Iterator[tuple[ast.AST, bool]]:
        yield node, guarded
        if isinstance(node, ast.If):
            yield from visit(node.test, guarded)
            for child in node.body + node.orelse:
                yield from visit(child, True)
            return
        if isinstance(node, ast.Try):
            catches = any(_catches(h) for h in node.handlers)
            for child in node.body:
                yield from visit(child, guarded or catches)
            for child in [*node.orelse, *node.finalbody, *node.handlers]:
                yield from visit(child, guarded)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, guarded)

    yield from visit(tree, False)


def _catches(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((dotted(t) or "").split(".")[-1] in _GUARD_EXCEPTIONS for t in types)


def is_ipython(call: ast.Call) -> bool:
    """`get_ipython().system(...)`: what `!cmd` and `%magic` became (checked as shell lines instead)."""
    node: ast.AST = call.func
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and node.id == "get_ipython"
