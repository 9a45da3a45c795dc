"""The Python environment that runs student notebooks: found once, pinned by path.

Never a kernel *name*: a user-level kernelspec in ~/.local/share/jupyter silently wins over a
venv's own `python3`, and notebooks name kernels that don't exist here. We ask the interpreter
itself where it lives, so the sandbox can bind exactly those directories (a venv's `python` is a
symlink into the base interpreter's prefix: both must be visible).
"""
from __future__ import annotations

import functools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxUnavailable

_PROBE = r"""
import json, os, sys
def ver(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None
tf = ver("tensorflow") or ver("tensorflow-cpu")
print(json.dumps({
    "executable": sys.executable,
    "realpath": os.path.realpath(sys.executable),
    "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}),
    "version": sys.version.split()[0],
    "packages": {"ipykernel": ver("ipykernel"), "nbclient": ver("nbclient"),
                 "nbformat": ver("nbformat"), "numpy": ver("numpy"), "tensorflow": tf,
                 "keras": ver("keras"), "h5py": ver("h5py"), "matplotlib": ver("matplotlib"),
                 "scikit-learn": ver("scikit-learn"), "pandas": ver("pandas"),
                 "pillow": ver("pillow")},
}))
"""

REQUIRED = ("ipykernel", "nbclient", "nbformat", "numpy")


@dataclass(frozen=True)
class KernelEnv:
    python: Path  # the interpreter students' code runs with (as given, maybe a venv symlink)
    realpath: Path
    prefixes: tuple[Path, ...]  # directories the sandbox must bind read-only
    version: str
    packages: dict

    @property
    def bin_dir(self) -> Path:
        return self.python.parent


@functools.lru_cache(maxsize=8)
def probe_kernel_env(python: str | None = None) -> KernelEnv:
    """Ask `python` (default: the grader's own interpreter) about itself; fail clearly."""
    exe = python or sys.executable
    try:
        out = subprocess.run([exe, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"kernel python {exe!r} cannot be started: {exc}") from None
    if out.returncode != 0:
        raise SandboxUnavailable(f"kernel python {exe!r} failed: {out.stderr.strip()[-500:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    env = KernelEnv(
        python=Path(exe) if Path(exe).is_absolute() else Path(data["executable"]),
        realpath=Path(data["realpath"]),
        prefixes=tuple(Path(p) for p in data["prefixes"]),
        version=data["version"],
        packages=data["packages"],
    )
    missing = [m for m in REQUIRED if not env.packages.get(m)]
    if missing:
        raise SandboxUnavailable(
            f"kernel python {exe} lacks {', '.join(missing)}; install them there "
            f"(pip install {' '.join(missing)}) or point --python at another environment")
    return env
