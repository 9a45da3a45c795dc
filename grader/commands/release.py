"""`grader release`: build the student notebook from the instructor's source (nbgrader)."""
from __future__ import annotations

from ..errors import GraderError
from ..paths import course_dir


def add_parser(sub) -> None:
    r = sub.add_parser("release", help="build the student notebook from the instructor's source",
                       description="Run nbgrader's preprocessors (clear solutions, lock cells, "
                       "checksums) on assignments/ASSIGNMENT/source/ and write release/.")
    r.add_argument("assignment")
    r.add_argument("--course-dir")
    r.set_defaults(func=run)


def run(args) -> int:
    from ..authoring.release import release_notebook

    base = course_dir(args.course_dir) / "assignments" / args.assignment
    sources = sorted((base / "source").glob("*.ipynb"))
    if not sources:
        raise GraderError(f"no source notebook in {base / 'source'}")
    for src in sources:
        out = release_notebook(src, base / "release" / src.name)
        print(f"released {src} -> {out}")
    return 0


