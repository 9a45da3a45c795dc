"""Which Python runs the students' notebooks when `--python` is not given: the lean kernel
environment `.venv-kernel/` that `make setup` builds (only what notebooks import, the versions
of the grader's own venv), else the grader's own interpreter, said in one line.

Why a separate environment: the grader's venv also holds jupyterlab, nbgrader, pytest, dask...;
a kernel started there imports TensorFlow seconds slower, once per notebook.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

LEAN_DIR = ".venv-kernel"
ENV_VAR = "GRADER_KERNEL_PYTHON"


def lean_kernel_python() -> Path | None:
    """$GRADER_KERNEL_PYTHON, else `.venv-kernel/bin/python` beside the repository this package
    runs from or beside the grader's own venv; None when there is none."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    roots = (Path(__file__).resolve().parent.parent.parent, Path(sys.prefix).parent)
    for root in dict.fromkeys(roots):
        python = root / LEAN_DIR / "bin" / "python"
        if python.exists():
            return python
    return None


def choose_kernel_python(python: str | None) -> tuple[str | None, str]:
    """(the interpreter to use, a one-line note when falling back; "" otherwise). None means
    the grader's own interpreter (what `probe_kernel_env(None)` uses)."""
    if python:
        return python, ""
    lean = lean_kernel_python()
    if lean is not None:
        return str(lean), ""
    return None, (f"kernel: no lean kernel environment ({LEAN_DIR}/; `make setup` builds it): "
                  f"notebooks run with this interpreter, {sys.executable}")
