"""Hidden unit-test cases live in the course folder, not in the installed package."""
from __future__ import annotations

from pathlib import Path

from grader.checks import build_suite

ROOT = Path(__file__).resolve().parent.parent


def test_hidden_cases_are_added_from_the_course_folder_only():
    for suite in ("softmax", "cross_entropy"):
        public = build_suite(suite, hidden_dir=None)
        full = build_suite(suite, hidden_dir=ROOT / "rubrics" / "hidden_cases")
        assert all(c.public for c in public)
        hidden = [c for c in full if not c.public]
        assert hidden, suite
        package_text = "".join(p.read_text() for p in (ROOT / "grader").rglob("*.py"))
        for c in hidden:
            assert c.id not in package_text  # not shipped to students
