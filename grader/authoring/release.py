"""Build the student template of an assignment from the instructor's nbgrader source notebook.

We reuse nbgrader's own preprocessors (the same ones `nbgrader generate_assignment` chains), but
without its database or course directory: the release is one pure function of the source file,
so the checked-in template can be rebuilt and compared in a test. The checksums that
ComputeChecksums stores let the grader later tell whether a student edited a locked or test cell.
nbgrader is an optional, instructor-only dependency, hence the imports inside the function.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Notebook-level metadata key the grader reads to tell which assignment a notebook belongs to.
METADATA_KEY = "grader"


def build_release(source: Path, assignment: str | None = None):
    """The released notebook (a NotebookNode) for `source`; nothing is written.

    `assignment` defaults to the source file's stem (assignments/<id>/source/<id>.ipynb).
    """
    import nbformat
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme,
                                        ClearOutput, ClearSolutions, ComputeChecksums, LockCells)

    source = Path(source)
    nb = nbformat.read(source, as_version=nbformat.NO_CONVERT)
    # Same order as nbgrader's GenerateAssignment, minus the steps that need its database or
    # a course directory (SaveCells, IncludeHeaderFooter, InstantiateTests). ComputeChecksums
    # runs again after the hidden tests and mark schemes are cut, as nbgrader does.
    steps = [LockCells(), ClearSolutions(), ClearOutput(), CheckCellMetadata(), ComputeChecksums(),
             ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata()]
    resources: dict = {"metadata": {"path": str(source.parent), "name": source.stem}}
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    nb.metadata[METADATA_KEY] = {"assignment": assignment or source.stem}
    nbformat.validate(nb)
    return nb


def release_notebook(source: Path, dest: Path, assignment: str | None = None) -> Path:
    """Write the student template of `source` to `dest` atomically and return `dest`.

    Atomic (temporary file + rename) so that a failed release never leaves a half-written
    template where students or the grader could pick it up.
    """
    import nbformat

    dest = Path(dest)
    text = nbformat.writes(build_release(source, assignment))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.authoring.release SOURCE DEST [--assignment ID]`, until the CLI has it."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--assignment", default=None, help="default: the source file's stem")
    args = parser.parse_args(argv)
    print(release_notebook(args.source, args.dest, args.assignment))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
