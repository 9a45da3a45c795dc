"""Read a submitted notebook as untrusted input: capped size, every problem named, never
modifying the original (a repair is made on a copy and noted)."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InvalidNotebook

MAX_NOTEBOOK_MB = 100


def read_notebook(path: Path, max_mb: int = MAX_NOTEBOOK_MB):
    """(notebook, notes). Raises InvalidNotebook with a reason a student can act on."""
    try:
        return _read(path, max_mb)
    except RecursionError:  # JSON nested thousands deep (json, nbformat and jsonschema recurse)
        raise InvalidNotebook("the JSON is nested too deeply (thousands of levels)", "too_deep") from None


def _read(path: Path, max_mb: int):
    import nbformat
    from nbformat.validator import ValidationError, normalize

    path = Path(path)
    size = path.stat().st_size
    if size > max_mb << 20:
        raise InvalidNotebook(f"the file is {size / 2**20:.0f} MB, over the {max_mb} MB limit",
                              "too_large", size_mb=round(size / 2**20), limit_mb=max_mb)
    if size == 0:
        raise InvalidNotebook("the file is empty", "empty")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(f"not UTF-8 text ({exc.reason} at byte {exc.start})", "not_utf8",
                              byte=exc.start) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or "Unterminated" in exc.msg
        hint = " (truncated file?)" if truncated else ""
        raise InvalidNotebook(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}",
                              "truncated" if truncated else "not_json", line=exc.lineno,
                              column=exc.colno) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise InvalidNotebook("valid JSON but not a Jupyter notebook (no 'cells')", "not_notebook")
    notes: list[str] = []
    try:
        nb = nbformat.reads(text, as_version=4)
    except ValidationError as exc:
        raise InvalidNotebook(f"not a valid notebook: {str(exc.message)[:300]}",
                              "schema", detail=str(exc.message)[:200]) from None
    except Exception as exc:  # nbformat raises several types for unreadable versions
        raise InvalidNotebook(f"not a readable notebook: {type(exc).__name__}: {exc}"[:500],
                              "unreadable") from None
    try:
        nbformat.validate(nb)
    except ValidationError as invalid:
        try:
            changes, fixed = normalize(json.loads(nbformat.writes(nb)),
                                       strip_invalid_metadata=True)
            nbformat.validate(fixed)
        except ValidationError as exc:
            raise InvalidNotebook(f"not a valid notebook: {str(exc.message)[:300]}",
                                  "schema", detail=str(exc.message)[:200]) from None
        except Exception:  # too broken to write back (a cell without cell_type: AttributeError)
            raise InvalidNotebook(f"not a valid notebook: {str(invalid.message)[:300]}",
                                  "schema", detail=str(invalid.message)[:200]) from None
        nb = nbformat.from_dict(fixed)
        notes.append(f"notebook did not validate; a copy was repaired ({changes} changes)")
    return nb, notes
