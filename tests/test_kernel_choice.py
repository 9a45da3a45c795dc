"""The kernel environment `grader grade` picks by default: the lean `.venv-kernel/` built by
`make setup` (same versions as the grader's venv), `--python` or $GRADER_KERNEL_PYTHON over it,
and a one-line note when it is missing."""
from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from grader.sandbox import kernel_choice
from grader.sandbox.kernel_choice import choose_kernel_python, lean_kernel_python
from grader.sandbox.kernel_env import probe_kernel_env


def _no_lean(monkeypatch, tmp_path):
    monkeypatch.delenv(kernel_choice.ENV_VAR, raising=False)
    monkeypatch.setattr(kernel_choice, "LEAN_DIR", ".venv-kernel-absent")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / ".venv"))


def test_python_given_wins(monkeypatch):
    monkeypatch.setenv(kernel_choice.ENV_VAR, "/elsewhere/bin/python")
    assert choose_kernel_python("/opt/k/bin/python") == ("/opt/k/bin/python", "")


def test_environment_variable_picks_another(monkeypatch):
    monkeypatch.setenv(kernel_choice.ENV_VAR, "/opt/k/bin/python")
    assert choose_kernel_python(None) == ("/opt/k/bin/python", "")


def test_lean_env_beside_the_graders_venv_is_found(monkeypatch, tmp_path):
    _no_lean(monkeypatch, tmp_path)
    monkeypatch.setattr(kernel_choice, "LEAN_DIR", ".venv-kernel-here")
    python = tmp_path / ".venv-kernel-here" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert lean_kernel_python() == python
    assert choose_kernel_python(None) == (str(python), "")


def test_missing_lean_env_falls_back_in_one_line(monkeypatch, tmp_path):
    _no_lean(monkeypatch, tmp_path)
    python, note = choose_kernel_python(None)
    assert python is None  # the grader's own interpreter
    assert "\n" not in note and ".venv-kernel-absent" in note and "make setup" in note
    assert sys.executable in note


def _dist_version(name: str) -> str | None:
    for dist in (name, "tensorflow-cpu") if name == "tensorflow" else (name,):
        try:
            return version(dist)
        except PackageNotFoundError:
            pass
    return None


@pytest.mark.skipif(lean_kernel_python() is None or os.environ.get(kernel_choice.ENV_VAR),
                    reason="no .venv-kernel here (make setup builds it)")
def test_lean_env_has_the_graders_versions():
    """Grades cannot depend on which environment ran the notebook: same versions as the
    grader's venv for every package both have, and what the runner needs is there."""
    env = probe_kernel_env(str(lean_kernel_python()))
    assert env.packages["ipykernel"] and env.packages["nbclient"] and env.packages["tensorflow"]
    differ = {k: (v, _dist_version(k)) for k, v in env.packages.items()
              if v and _dist_version(k) and v != _dist_version(k)}
    assert not differ
    assert env.prefixes and Path(env.python).exists()
