"""`grader.check()` in a notebook cell: find the notebook this kernel runs, then `grader check` it.

Where each environment says which notebook a kernel belongs to:
  - Jupyter Server ≥ 2 (JupyterLab, Notebook 7, JupyterHub): the kernel's JPY_SESSION_NAME
    environment variable, the notebook's path (absolute, or relative to the server's root; the
    kernel's working folder is the notebook's, so the file name finds it there);
  - VS Code: `__vsc_ipynb_file__` in the kernel's namespace;
  - Google Colab: the notebook is not a file; its frontend hands the kernel the current contents
    (google.colab._message's `get_ipynb`), written to a temporary file. That is Colab's internal
    API: it cannot be exercised offline, so it is tried, and on any failure the student is asked
    for the path (`grader.check("/content/drive/MyDrive/...")`);
  - else the only .ipynb in the working folder.
The check reads the SAVED file (except in Colab): the message says when it was saved.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..messages import tr

CATALOG = {
    "not_found": {"es": "no sé qué cuaderno comprobar: indícalo, p. ej. grader.check(\"practica1.ipynb\") "
                        "(en Colab, la ruta en Drive: \"/content/drive/MyDrive/Colab Notebooks/practica1.ipynb\").",
                  "en": "cannot tell which notebook to check: give it, e.g. grader.check(\"practica1.ipynb\") "
                        "(in Colab, its path in Drive: \"/content/drive/MyDrive/Colab Notebooks/practica1.ipynb\")."},
    "missing": {"es": "no existe el cuaderno «{path}»", "en": "no such notebook: '{path}'"},
    "checking": {"es": "Comprobando «{path}» (guardado hace {age}; guarda antes los últimos cambios).",
                 "en": "Checking '{path}' (saved {age} ago; save your latest changes first)."},
    "checking_colab": {"es": "Comprobando el cuaderno abierto en Colab (su contenido actual).",
                       "en": "Checking the notebook open in Colab (its current contents)."},
}


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, int(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"


def _session_path(value: str, cwd: Path) -> Path | None:
    """JPY_SESSION_NAME: absolute, relative to the server root, or at least the file's name."""
    if not value:
        return None
    p = Path(value)
    for cand in (p, cwd / p, cwd / p.name):
        if cand.suffix == ".ipynb" and cand.is_file():
            return cand
    return None


def _ipython_namespace() -> dict:
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip is not None and hasattr(ip, "get_ipython") else None
    return getattr(shell, "user_ns", None) or {}


def _colab_notebook(tmp: Path) -> Path | None:
    """The notebook as Colab's frontend holds it, or None (not in Colab, or the API failed)."""
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=60)
        nb = reply["ipynb"] if isinstance(reply, dict) else None
    except Exception:  # noqa: BLE001 - any failure means: ask the student for the path
        return None
    if not isinstance(nb, dict):
        return None
    out = tmp / "colab_notebook.ipynb"
    out.write_text(json.dumps(nb), encoding="utf-8")
    return out


def find_current_notebook(cwd: Path | None = None, env: dict | None = None,
                          namespace: dict | None = None) -> Path | None:
    """The notebook file this kernel runs, where the environment says so (see the module doc)."""
    cwd = Path(cwd or Path.cwd())
    env = os.environ if env is None else env
    found = _session_path(env.get("JPY_SESSION_NAME", ""), cwd)
    if found:
        return found
    vsc = (namespace if namespace is not None else _ipython_namespace()).get("__vsc_ipynb_file__")
    if isinstance(vsc, str) and Path(vsc).is_file():
        return Path(vsc)
    candidates = [p for p in cwd.glob("*.ipynb") if not p.name.endswith("-checkpoint.ipynb")]
    return candidates[0] if len(candidates) == 1 else None


def check(notebook: str | os.PathLike | None = None, lang: str = "es", *options: str) -> int:
    """Run `grader check` on `notebook` (default: the current one) and print its report.

    A subprocess of this interpreter, so a crash in the student's functions cannot take the
    kernel with it; returns the exit code (0: nothing stands in the way of full marks)."""
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        if notebook is not None:
            path = Path(notebook).expanduser()
            if not path.is_file():
                print(tr(CATALOG, "missing", lang, path=path))
                return 2
            colab = False
        else:
            path = find_current_notebook()
            colab = path is None and (path := _colab_notebook(Path(tmp))) is not None
            if path is None:
                print(tr(CATALOG, "not_found", lang))  # a notebook cell: one line, no traceback
                return 2
        if colab:
            print(tr(CATALOG, "checking_colab", lang))
        else:
            print(tr(CATALOG, "checking", lang, path=path, age=_age(time.time() - path.stat().st_mtime)))
        proc = subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--lang", lang, *options],
                              capture_output=True, text=True, encoding="utf-8", errors="replace")
    sys.stdout.write(proc.stdout)
    if proc.stderr:
        sys.stdout.write(proc.stderr)
    return proc.returncode
