"""Regenerate tests/golden/demo/ (what tests/test_demo_pinned.py compares the demo against).

Run it ONLY when a change is meant to change the demo's outputs (a new message, a fixed grade),
then review `git diff tests/golden/` line by line and commit it with the change that caused it.
A restructuring that should keep behaviour never regenerates: the test failing is the point.

    .venv/bin/python tests/golden/regen.py                  # grades the demo (a few minutes)
    .venv/bin/python tests/golden/regen.py --from reports/  # a folder `make demo` already wrote
    .venv/bin/python tests/golden/regen.py --check DIR      # compare DIR with the golden copies

It grades exactly as the test fixture `demo_reports` does (conftest.grade_demo), and pins
what tests/demo_golden.collect takes (its docstring lists what is left out and why).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from conftest import DEMO_ASSIGNMENTS, grade_demo  # noqa: E402
from demo_golden import GOLDEN, collect, read_golden  # noqa: E402
from test_demo_pinned import first_difference  # noqa: E402


def write_golden(files: dict[str, bytes]) -> None:
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)  # a file no longer produced must not stay pinned
    for rel, data in files.items():
        path = GOLDEN / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="reports", type=Path, help="a reports folder already graded as the demo")
    p.add_argument("--check", type=Path, help="only compare this reports folder with the golden copies")
    args = p.parse_args()
    if args.check:
        diff = first_difference(read_golden(), collect(args.check, DEMO_ASSIGNMENTS))
        print(diff or "identical to the golden copies")
        return 1 if diff else 0
    with tempfile.TemporaryDirectory(prefix="demo-golden-") as tmp:
        out = args.reports or Path(tmp) / "reports"
        if not args.reports:
            grade_demo(out)
        files = collect(out, DEMO_ASSIGNMENTS)
    write_golden(files)
    print(f"wrote {len(files)} files under {GOLDEN}; review `git diff {GOLDEN}` before committing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
