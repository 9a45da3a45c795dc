"""`grader check NOTEBOOK`: the student's self-check before handing in (exit 0: nothing blocks
full marks, 1: something does, 2: bad usage)."""
from __future__ import annotations

import argparse
import json
import sys

from ..errors import GraderError

EPILOG = """examples:
  grader check practica1.ipynb
  grader check "/content/drive/MyDrive/practica1.ipynb"      (in Colab: !grader check ...)
  grader check mnist_cnn.ipynb --lang en --json
  grader check mnist_cnn.ipynb --rerun                        (Linux, with bubblewrap: minutes)

The functions under test run on this machine without a sandbox: use it on your own notebook.
Instructors grade with `grader grade`."""


def add_parser(sub) -> None:
    c = sub.add_parser(
        "check", help="student self-check: what will fail when this notebook is graded, and the grade to expect",
        description="Check a notebook before handing it in: executed in order, the functions the grader "
        "tests (public tests), the names it looks up, the accuracy the notebook reports, and what breaks "
        "when it is re-run without network, Drive or your files. In seconds, without re-training.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("notebook", help="the .ipynb to check")
    c.add_argument("--assignment", help="assignment id, e.g. mnist_cnn (default: from the notebook's metadata)")
    c.add_argument("--lang", choices=("es", "en"), default="es", help="language of the report (default: es)")
    c.add_argument("--json", action="store_true", help="print the report as JSON (for tools)")
    c.add_argument("--rerun", action="store_true",
                   help="re-execute the notebook in the grader's sandbox (Linux with bubblewrap; minutes) and "
                   "measure the accuracy for real")
    c.add_argument("--rubric", help="rubric YAML to use instead of the installed one")
    c.add_argument("--max-upload-mb", type=float, help="the assignment's upload limit on Moodle (default: 20)")
    c.add_argument("--python", help="interpreter that runs your functions (default: this one)")
    c.add_argument("--data", action="append", default=[], metavar="NAME=PATH",
                   help="--rerun: the data file the notebook loads, e.g. mnist.npz=~/datos/mnist.npz "
                   "(default: Keras' cache)")
    c.add_argument("--course-dir", help="folder with rubrics/ (instructors)")
    c.set_defaults(func=run)


def run(args) -> int:
    from ..messages import tr
    from ..selfcheck import self_check
    from ..selfcheck.render import render

    data = {}
    for item in args.data:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise GraderError(tr(_CATALOG, "bad_data", args.lang, item=item))
        data[name.strip()] = path.strip()
    if args.data and not args.rerun:
        raise GraderError(tr(_CATALOG, "data_without_rerun", args.lang))
    report = self_check(args.notebook, assignment=args.assignment, rubric_path=args.rubric, lang=args.lang,
                        rerun=args.rerun, course=args.course_dir, max_upload_mb=args.max_upload_mb,
                        python=args.python, data=data)
    _safe_stdout()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(render(report))
    return report.exit_code


_CATALOG = {
    "bad_data": {"es": "--data {item}: se esperaba NOMBRE=RUTA, p. ej. mnist.npz=datos/mnist.npz",
                 "en": "--data {item}: expected NAME=PATH, e.g. mnist.npz=data/mnist.npz"},
    "data_without_rerun": {"es": "--data solo tiene sentido con --rerun",
                           "en": "--data only makes sense with --rerun"},
}


def _safe_stdout() -> None:
    """A Windows console or a redirected file may not encode ✔ or ŷ: replace, never crash."""
    try:
        sys.stdout.reconfigure(errors="replace")
    except (AttributeError, ValueError):
        pass
