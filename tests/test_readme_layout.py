"""The README's layout map lists every module of grader/ (one line each, what it does)."""
from __future__ import annotations

import re

from conftest import ROOT


def layout_modules(readme: str) -> set[str]:
    """The `grader/<path>.py` entries of the README's '## Layout' code block."""
    section = readme.split("## Layout", 1)[1].split("```", 2)[1]
    return set(re.findall(r"^  ([\w/]+\.py)\s+\S", section, re.M))


def test_every_module_is_in_the_readme_layout_map():
    listed = layout_modules((ROOT / "README.md").read_text(encoding="utf-8"))
    modules = {p.relative_to(ROOT / "grader").as_posix() for p in (ROOT / "grader").rglob("*.py")
               if p.name != "__init__.py"}
    missing = sorted(modules - listed)
    assert not missing, ("modules missing from the README's layout map (## Layout, one line "
                         f"each: '  path.py  what it does'): {', '.join(missing)}")


def test_the_map_reader_sees_the_entries():
    text = "## Layout\n\n```\ngrader/\n  a.py   does a\n  pkg/b.py  does b\n  pkg/   a package\n```\n"
    assert layout_modules(text) == {"a.py", "pkg/b.py"}
