"""Command line: one module per subcommand in grader/commands/, registered here."""
from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import check, data, doctor, final, grade, release, similarity
from .errors import GraderError

# Each module has add_parser(subparsers) (which sets func=run) and run(args) -> exit code.
COMMANDS = [grade, similarity, final, release, check, doctor, data]

EPILOG = """examples:
  grader grade mnist_cnn moodle-download.zip --out reports/
  grader grade mnist_cnn submissions/ --rubric my-rubric.yaml --set limits.memory_mb=2048
  grader grade mnist_cnn moodle-download.zip --worksheet grading-worksheet.csv
  grader similarity mnist_cnn --out reports/   (copied notebooks; also run by grade)
  grader final --out reports/
  grader release mnist_cnn
  grader check practica1.ipynb          (students, before handing in)
  grader doctor
  grader data mnist_cnn --mnist mnist.npz --hidden qmnist/    (once per term: real data)
  grader data status
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grader", description="Sandboxed auto-grader for the Deep Learning course's "
        "Jupyter notebooks, with Moodle import/export.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"grader {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS:
        cmd.add_parser(sub)
    return p


def _skip_slow_optional_imports() -> None:
    """jsonschema (imported by nbformat) imports `rfc3987_syntax` when it is installed (the
    grader's venv has it through jupyterlab's dependencies), which compiles 38 grammars at
    import: about 1 s of every command, for the `iri` string format that nbformat's validation
    never checks (jsonschema skips the format without it). Only in the grader's own process:
    `grader.check()` inside a student's notebook must not change what that notebook imports."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # `import` then raises ImportError


def main(argv: list[str] | None = None) -> int:
    from . import phases

    phases.mark("cli")
    _skip_slow_optional_imports()
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except GraderError as exc:
        from .report.safe_text import clean

        label = "grader:" if exc.exit_code == 130 else "grader: error:"  # 130: Ctrl-C, results kept
        print(f"{label} {clean(exc, multiline=True)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
