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
#: Cell metadata marking the release's first cell (how to run the self-check).
SELFCHECK_CELL = "selfcheck_instructions"

SELFCHECK_TEXT = """### Antes de entregar: comprueba tu cuaderno

El corrector de la asignatura te dice en segundos qué fallará al corregir y qué nota puedes esperar, \
sin volver a entrenar. Guarda antes el cuaderno.

**En Colab o en JupyterHub**: añade al final una celda de código con estas dos líneas y ejecútala. \
**Bórrala antes de entregar** (al corregir no hay red y la instalación fallaría).

```python
%pip install -q "{wheel}"
import grader; grader.check()
```

`grader.check()` busca este cuaderno: en JupyterHub y Jupyter lo encuentra solo; en Colab lo intenta. Si no lo \
encuentra, dale su ruta: `grader.check("{name}")` (en Colab, la de Drive).

**En un terminal** (en JupyterHub: *File → New → Terminal*; o en tu ordenador):

```sh
pip install "{wheel}"
grader check {name}
```

{where}Instala el corrector solo desde ahí: no lo busques por su nombre en PyPI ni en otro índice de paquetes."""

WHERE_FILE = ("El fichero `{wheel}` está en Moodle, junto al enunciado: descárgalo y déjalo en la carpeta "
              "del cuaderno (en Colab, súbelo con el icono de la carpeta). ")


def selfcheck_cell(name: str, wheel_url: str | None):
    """The release's first cell: how to install the student package and check this notebook.

    Markdown, not code: the grader's re-run has no network, so an install cell left in the
    notebook would fail there. It carries no nbgrader metadata (no grade_id, no checksum), so
    the locked-cell comparison of notebooks released without it is unchanged."""
    import nbformat

    from .student_package import WHEEL_NAME

    wheel = wheel_url or WHEEL_NAME
    where = "" if wheel_url else WHERE_FILE.format(wheel=WHEEL_NAME)
    cell = nbformat.v4.new_markdown_cell(SELFCHECK_TEXT.format(wheel=wheel, name=name, where=where))
    cell.metadata[METADATA_KEY] = {"cell": SELFCHECK_CELL}
    cell["id"] = "selfcheck"  # nbformat 4.5 ids are random: keep the release reproducible
    return cell


def build_release(source: Path, assignment: str | None = None, wheel_url: str | None = None):
    """The released notebook (a NotebookNode) for `source`; nothing is written.

    `assignment` defaults to the source file's stem (assignments/<id>/source/<id>.ipynb).
    `wheel_url`: where students get the student package (default: the wheel's file name, handed
    out on Moodle beside the notebook).
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
    nb.cells.insert(0, selfcheck_cell(source.name, wheel_url))
    nbformat.validate(nb)
    return nb


def release_notebook(source: Path, dest: Path, assignment: str | None = None, wheel_url: str | None = None) -> Path:
    """Write the student template of `source` to `dest` atomically and return `dest`.

    Atomic (temporary file + rename) so that a failed release never leaves a half-written
    template where students or the grader could pick it up. Mode 0644: students read it from a
    shared JupyterHub folder (mkstemp's 0600 would lock them out).
    """
    import nbformat

    dest = Path(dest)
    text = nbformat.writes(build_release(source, assignment, wheel_url))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        os.chmod(tmp, 0o644)
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
