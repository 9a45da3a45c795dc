"""The student package: a real wheel ships the assignment rubrics (identical to rubrics/) and never
the hidden unit tests, and `grader check` runs from it with the core dependencies only."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.checks import build_suite

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = "grader/selfcheck/rubrics/"
#: What a core-only install (`pip install` of the course's wheel, no extras) does not have.
NOT_IN_CORE = ("tensorflow", "keras", "IPython", "ipykernel", "nbclient", "jupyter_client", "psutil", "jinja2",
               "nbgrader", "sklearn", "matplotlib", "pandas")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `grader release` builds (pip wheel from a copy of the sources, offline)."""
    from grader.authoring.student_package import build_student_wheel

    return build_student_wheel(ROOT, tmp_path_factory.mktemp("wheel") / "dist")


def assignment_rubrics() -> dict[str, bytes]:
    out = {}
    for p in sorted((ROOT / "rubrics").glob("*.yaml")):
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and "assignment" in raw and "checks" in raw:
            out[p.name] = p.read_bytes()
    return out


def test_wheel_ships_every_assignment_rubric_unchanged(wheel):
    with zipfile.ZipFile(wheel) as z:
        shipped = {n[len(PACKAGED):]: z.read(n) for n in z.namelist() if n.startswith(PACKAGED)}
    expected = assignment_rubrics()
    assert "mnist_cnn.yaml" in expected
    assert shipped == expected  # a new assignment's rubric must be added to pyproject's allowlist


def test_wheel_has_no_hidden_cases_nor_course_files(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        text = "\n".join(z.read(n).decode("utf-8", "replace") for n in names if n.endswith((".py", ".yaml", ".md")))
    assert not any("hidden_cases" in n or n.endswith("course.yaml") for n in names)
    assert {"grader/selfcheck/local_runner.py", "grader/runner/cases.py"} <= set(names)  # the local runner loads cases.py by path
    hidden = [c.id for s in ("softmax", "cross_entropy")
              for c in build_suite(s, hidden_dir=ROOT / "rubrics" / "hidden_cases") if not c.public]
    assert hidden and not [h for h in hidden if h in text]


def test_core_requirements_are_light(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    core = [line.split(":", 1)[1].strip() for line in meta.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert core and not [r for r in core if r.split(">")[0].split("=")[0].strip().lower() in
                         ("tensorflow", "tensorflow-cpu", "nbgrader", "nbclient", "ipykernel", "jupyter", "notebook",
                          "jupyterlab", "jupyter-server", "psutil")]
    assert "Provides-Extra: rerun" in meta


BLOCKER = """
import importlib.abc, sys
BLOCKED = set(sys.argv.pop(1).split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed (simulated core-only install)")
sys.meta_path.insert(0, Block())
import grader
from grader.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"grader": grader.__file__, "loaded": sorted(m for m in BLOCKED if m in sys.modules)}), file=sys.stderr)
sys.exit(rc)
"""


def test_check_runs_from_the_wheel_with_core_dependencies_only(wheel, tmp_path):
    """The wheel unpacked on sys.path, no course folder, every non-core package unimportable."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    with zipfile.ZipFile(ROOT / "submissions" / "demo" / "mnist_cnn.zip") as z:
        name = next(n for n in z.namelist() if "4518217" in n and n.endswith(".ipynb"))  # wrong softmax
        (tmp_path / "practica1.ipynb").write_bytes(z.read(name))
    env = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE_DIR"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", "import json\n" + BLOCKER, ",".join(NOT_IN_CORE), "check",
                          "practica1.ipynb", "--json"], capture_output=True, text=True, timeout=180, cwd=tmp_path,
                         env=env)
    assert out.returncode == 1, out.stderr[-3000:]  # the wrong softmax blocks full marks
    info = json.loads(out.stderr.strip().splitlines()[-1])
    assert info["grader"].startswith(str(site)) and info["loaded"] == []
    report = json.loads(out.stdout)
    softmax = next(c for c in report["checks"] if c["id"] == "softmax")
    assert softmax["points"] == 1.33 and softmax["basis"] == "public_tests"  # public cases only: 2 of 3
    assert any("[1000, 1001, 1002]" in d for d in softmax["details"])
    assert [i["name"] for i in report["interface"] if i["ok"]] == ["softmax", "cross_entropy", "preprocess", "model"]


def test_nothing_advises_installing_the_grader_by_name_from_an_index():
    """The grader is on no public index: anyone could register its name there (issue 13). Every
    install advice names the course's wheel, never the bare project name."""
    import re

    bare = re.compile(r"pip\s+install\s+(?:-[-\w]+\s+)*['\"]?dl[-_]notebook[-_]grader(?![-_.\w…]*\.whl)", re.I)
    files = [ROOT / "README.md", *ROOT.glob("assignments/*/release/*.ipynb"), *ROOT.glob("assignments/*/README.md"),
             *(ROOT / "grader").rglob("*.py"), *(ROOT / "grader").rglob("*.j2"), *(ROOT / "benchmarks").glob("*.py")]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files
             for m in bare.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
    assert bare.search("pip install -U dl-notebook-grader") and not bare.search("pip install dl_notebook_grader-0.1.0-py3-none-any.whl")
