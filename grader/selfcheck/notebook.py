"""Read the notebook for the self-check, and split its code cells into Python and shell lines.

A well-formed v4 notebook is read as plain JSON: importing nbformat costs seconds wherever
jsonschema has its format extras (Jupyter, Colab), and the self-check must answer in seconds.
Anything unusual (another nbformat version, a missing key, broken JSON) goes through the
instructor's own `read_notebook`, so an "invalid notebook" verdict is exactly the grader's.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.extract import _TRANSPARENT_CELL_MAGICS, to_python
from ..checks.text import cell_source
from ..ingest.read_notebook import MAX_NOTEBOOK_MB, read_notebook

_CELL_TYPES = {"code", "markdown", "raw"}
_OUTPUT_KEYS = {"stream": ("name", "text"), "display_data": ("data",), "execute_result": ("data",),
                "error": ("ename", "evalue", "traceback")}
_SHELL_CELL_MAGICS = ("bash", "sh", "script", "system")
_SHELL_ASSIGN = re.compile(r"^\s*[A-Za-z_]\w*\s*=\s*!(.*)$")


@dataclass
class CodeCell:
    number: int  # 1-based position among ALL cells, as students count them in Jupyter
    source: str
    tree: ast.Module | None  # None when the cell is not Python (a %%bash cell, a syntax error)
    shell: list[tuple[str, str]] = field(default_factory=list)  # ("!" or "%", the command line)

    def line_of(self, needle: str) -> str:
        """The first source line containing `needle` (for messages), stripped and shortened."""
        for line in self.source.splitlines():
            if needle in line:
                text = line.strip()
                return text if len(text) <= 100 else text[:99] + "…"
        return needle[:100]


def read(path: Path):
    """(notebook as dicts, notes). Raises InvalidNotebook exactly as the grader would."""
    path = Path(path)
    size = path.stat().st_size
    if 0 < size <= MAX_NOTEBOOK_MB << 20:
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if _plain_v4(data):
            return data, []
    nb, notes = read_notebook(path)  # the slow, exact path (raises InvalidNotebook)
    return json.loads(json.dumps(nb)), notes


def _plain_v4(nb) -> bool:
    """True when nbformat would accept `nb` unchanged: version 4 and the keys the schema needs."""
    if not (isinstance(nb, dict) and nb.get("nbformat") == 4 and isinstance(nb.get("nbformat_minor"), int)
            and isinstance(nb.get("metadata"), dict) and isinstance(nb.get("cells"), list)):
        return False
    for cell in nb["cells"]:
        if not (isinstance(cell, dict) and cell.get("cell_type") in _CELL_TYPES
                and isinstance(cell.get("metadata"), dict) and _text(cell.get("source"))):
            return False
        if cell["cell_type"] != "code":
            continue
        count = cell.get("execution_count", 0)
        if not (count is None or (isinstance(count, int) and not isinstance(count, bool))):
            return False
        outputs = cell.get("outputs")
        if not isinstance(outputs, list):
            return False
        for out in outputs:
            keys = _OUTPUT_KEYS.get(out.get("output_type")) if isinstance(out, dict) else None
            if keys is None or any(k not in out for k in keys):
                return False
    return True


def _text(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(s, str) for s in value))


def code_cells(nb: dict) -> list[CodeCell]:
    """Every non-empty code cell: its Python (IPython syntax removed) and its shell/magic lines."""
    out = []
    for number, cell in enumerate(nb.get("cells", []), 1):
        if cell.get("cell_type") != "code":
            continue
        src = cell_source(cell)
        if not src.strip():
            continue
        first, _, rest = src.lstrip().partition("\n")
        magic = (first[2:].split() or [""])[0] if first.startswith("%%") else None
        if magic in _SHELL_CELL_MAGICS:  # a %%bash cell: every line is a shell command
            lines = [("!", ln.strip()) for ln in rest.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            out.append(CodeCell(number, src, None, lines))
        elif magic is not None and magic not in _TRANSPARENT_CELL_MAGICS:  # %%writefile x.py, %%html...
            out.append(CodeCell(number, src, None, [("%%", first[2:].strip())]))
        else:
            out.append(CodeCell(number, src, _parse(src), _shell_lines(src)))
    return out


def _parse(src: str) -> ast.Module | None:
    code, _ = to_python(src)
    if code is None:
        return None
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _shell_lines(src: str) -> list[tuple[str, str]]:
    """`!cmd`, `x = !cmd` and `%magic args` lines (continuation backslashes joined)."""
    lines, pending = [], None
    for raw in src.splitlines():
        text = raw.strip()
        if pending is not None:
            pending = (pending[0], pending[1] + " " + text.rstrip("\\").strip())
            if not text.endswith("\\"):
                lines.append(pending)
                pending = None
            continue
        m = _SHELL_ASSIGN.match(raw)
        if text.startswith("!") or m:
            item = ("!", (m.group(1) if m else text[1:]).strip())
        elif text.startswith("%") and not text.startswith("%%"):
            item = ("%", text[1:].strip())
        else:
            continue
        if text.endswith("\\"):
            pending = (item[0], item[1].rstrip("\\").strip())
        else:
            lines.append(item)
    if pending is not None:
        lines.append(pending)
    return lines
