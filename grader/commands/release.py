"""`grader release`: build the student notebook from the instructor's source (nbgrader), and the
student package (the wheel students install for `grader check`)."""
from __future__ import annotations

from pathlib import Path

from ..errors import GraderError
from ..paths import course_dir


def add_parser(sub) -> None:
    r = sub.add_parser("release", help="build the student notebook and the student package (wheel)",
                       description="Run nbgrader's preprocessors (clear solutions, lock cells, "
                       "checksums) on assignments/ASSIGNMENT/source/ and write release/, with a first "
                       "cell telling students how to install the self-check; then build the student "
                       "package (a wheel with the public rubrics only) into dist/.")
    r.add_argument("assignment", nargs="+", help="one or more assignment ids")
    r.add_argument("--course-dir")
    r.add_argument("--wheel-url", help="where students download the wheel (the course's Moodle or JupyterHub "
                   "URL, or a path on the JupyterHub); default: the wheel's file name, handed out beside the "
                   "notebook")
    r.add_argument("--dist", help="folder for the wheel (default: COURSE_DIR/dist)")
    r.add_argument("--no-wheel", action="store_true", help="release the notebooks only")
    r.set_defaults(func=run)


def run(args) -> int:
    from ..authoring.release import release_notebook
    from ..authoring.student_package import build_student_wheel

    course = course_dir(args.course_dir)
    for assignment in args.assignment:
        base = course / "assignments" / assignment
        sources = sorted((base / "source").glob("*.ipynb"))
        if not sources:
            raise GraderError(f"no source notebook in {base / 'source'}")
        for src in sources:
            out = release_notebook(src, base / "release" / src.name, wheel_url=args.wheel_url)
            print(f"released {src} -> {out}")
    if not args.no_wheel:
        wheel = build_student_wheel(course, Path(args.dist) if args.dist else course / "dist")
        print(f"student package: {wheel} (hand it out on Moodle or the JupyterHub"
              f"{'' if args.wheel_url else ', beside the notebooks'})")
    return 0
