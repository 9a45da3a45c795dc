"""Build the student package (the wheel students install for `grader check`) at release time.

The course hands the wheel out itself (Moodle, the JupyterHub's shared folder, a course web page):
the grader is not on a public package index, and telling students to install it by its bare name
would let anyone who registers that name there run code on their machines. The wheel carries the
assignment rubrics that pyproject.toml's package-data allowlist names, never rubrics/hidden_cases/.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import __version__
from ..errors import GraderError

#: What a wheel of this grader is called (PEP 427 name normalisation of dl-notebook-grader).
WHEEL_NAME = f"dl_notebook_grader-{__version__}-py3-none-any.whl"


def project_root() -> Path:
    """The grader's source checkout (the package sits in it); a plain install cannot build wheels."""
    root = Path(__file__).resolve().parent.parent.parent
    if not (root / "pyproject.toml").is_file():
        raise GraderError(f"cannot build the student package: no pyproject.toml beside {root / 'grader'} "
                          "(run `grader release` from a checkout of the grader)")
    return root


def build_student_wheel(course: Path, dist: Path) -> Path:
    """Build the wheel from the grader's sources and `course`/rubrics/ into `dist`; return its path.

    Built from a copy (setuptools leaves build/ and *.egg-info behind), offline, with this
    environment's setuptools (`--no-build-isolation`), so a release needs no network.
    """
    root = project_root()
    rubrics = Path(course) / "rubrics"
    if not rubrics.is_dir():
        raise GraderError(f"cannot build the student package: {rubrics} does not exist")
    dist = Path(dist)
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "hidden_cases")
        shutil.copytree(root / "grader", src / "grader", ignore=ignore)
        shutil.copytree(rubrics, src / "rubrics", ignore=ignore)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, src / name)
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                               str(src), "-w", str(out)], capture_output=True, text=True, timeout=600)
        wheels = sorted(out.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel written"]
            raise GraderError(f"building the student package failed: {tail[0]}")
        dest = dist / wheels[0].name
        tmp_dest = dist / f".{wheels[0].name}.tmp"
        shutil.copyfile(wheels[0], tmp_dest)
        tmp_dest.chmod(0o644)
        tmp_dest.replace(dest)
    return dest
