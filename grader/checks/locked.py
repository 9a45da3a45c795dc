"""Were the released notebook's locked and test cells left as they were? (nbgrader checksums)

The release step stores a checksum in every locked or test cell (nbgrader's own
`compute_checksum`: source, type, flags, grade_id, points). A submitted cell with the same
grade_id whose content no longer matches was edited; a grade_id that disappeared was deleted.
Solution cells are the students' to change and are not checked. By default this is a flag for
the instructor (0 points): an edited test cell is worth a look, not an automatic zero.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from ..messages import tr
from ..model import CheckResult

MESSAGES = {
    "ok": {"es": "Las celdas bloqueadas y de test del enunciado están sin modificar.",
           "en": "The assignment's locked and test cells are unchanged."},
    "edited": {"es": "Se han modificado celdas bloqueadas o de test del enunciado: {cells}. "
                     "No cambies esas celdas; el profesor revisará esta entrega.",
               "en": "Locked or test cells of the assignment were changed: {cells}. "
                     "Do not change those cells; the instructor will review this submission."},
    "edited_cell": {"es": "«{gid}» (celda {n}) editada", "en": "'{gid}' (cell {n}) edited"},
    "deleted_cell": {"es": "«{gid}» borrada", "en": "'{gid}' deleted"},
    "not_template": {"es": "El cuaderno no parte del enunciado publicado: no contiene ninguna de sus {n} "
                            "celdas bloqueadas o de test. Descarga el enunciado de la práctica y trabaja "
                            "sobre él; el profesor revisará esta entrega.",
                      "en": "The notebook does not start from the released assignment: it has none of its "
                            "{n} locked or test cells. Download the assignment's notebook and work on it; "
                            "the instructor will review this submission."},
    "no_template": {"es": "No se pudo comprobar: falta el cuaderno publicado ({path}).",
                    "en": "Could not be checked: the released notebook is missing ({path})."},
}


def _nbgrader(cell) -> dict:
    md = cell.get("metadata", {}).get("nbgrader")
    return md if isinstance(md, dict) else {}


def protected(cell) -> bool:
    md = _nbgrader(cell)
    gid = md.get("grade_id")
    return isinstance(gid, str) and bool(gid) and bool(md.get("locked") or (md.get("grade") and not md.get("solution")))


@functools.lru_cache(maxsize=8)
def template_checksums(path: str) -> dict[str, str]:
    """grade_id -> checksum of every protected cell of the released notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return {_nbgrader(c)["grade_id"]: _nbgrader(c).get("checksum") or checksum(c)
            for c in nb.cells if protected(c)}


def checksum(cell) -> str | None:
    """nbgrader's `compute_checksum` (nbgrader.utils), step for step, on plain dicts.

    Written out because the student package (`grader check`) must not install nbgrader; the
    tests pin it to nbgrader's own on every protected cell of every released notebook."""
    try:
        md = cell["metadata"]["nbgrader"]
        grade, solution = md.get("grade", False), md.get("solution", False)
        locked = False if solution else (True if grade else md.get("locked", False))
        source = cell["source"]
        parts = ["".join(source) if isinstance(source, list) else source, cell["cell_type"],
                 str(grade), str(solution), str(locked), md["grade_id"]]
        if grade:
            parts.append(str(float(md["points"])))
        m = hashlib.md5()
        for part in parts:
            m.update(part.encode("utf-8"))
        return m.hexdigest()
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def carried_checksums(nb) -> dict[str, str]:
    """grade_id -> the checksum each protected cell carries from the release: what the student's
    own copy can say about itself (a deleted cell takes its checksum with it)."""
    return {_nbgrader(c)["grade_id"]: _nbgrader(c)["checksum"] for c in nb.get("cells", [])
            if protected(c) and isinstance(_nbgrader(c).get("checksum"), str)}


def find_changes(nb, expected: dict[str, str]) -> tuple[list[tuple[str, int]], list[str]]:
    """(edited [(grade_id, 1-based cell number)], deleted [grade_id])."""
    seen: dict[str, int] = {}
    edited = []
    for n, cell in enumerate(nb.get("cells", []), 1):
        gid = _nbgrader(cell).get("grade_id")
        if isinstance(gid, str) and gid in expected and gid not in seen:  # a list: unhashable
            seen[gid] = n
            if checksum(cell) != expected[gid]:
                edited.append((gid, n))
    deleted = [gid for gid in expected if gid not in seen]
    return edited, deleted


def check_locked_cells(nb, check, template: Path, lang: str = "es") -> tuple[CheckResult, list[str]]:
    def result(passed: bool, message: str, details=()):
        return CheckResult(id=check.id, points=check.points if passed else 0.0,
                           max_points=check.points, passed=passed, message=message,
                           details=list(details))

    if not Path(template).is_file():
        return result(False, tr(MESSAGES, "no_template", lang, path=template)), ["locked_cells_unchecked"]
    expected = template_checksums(str(template))
    edited, deleted = find_changes(nb, expected)
    if expected and len(deleted) == len(expected):  # not one of them: another notebook altogether
        return result(False, tr(MESSAGES, "not_template", lang, n=len(expected))), ["not_from_template"]
    if not edited and not deleted:
        return result(True, tr(MESSAGES, "ok", lang)), []
    items = [tr(MESSAGES, "edited_cell", lang, gid=g, n=n) for g, n in edited]
    items += [tr(MESSAGES, "deleted_cell", lang, gid=g) for g in deleted]
    return result(False, tr(MESSAGES, "edited", lang, cells=", ".join(items[:5]) +
                            (f" (+{len(items) - 5})" if len(items) > 5 else "")), items), \
        ["edited_locked_cells"]


def release_template(rubric, chk) -> Path:
    """The released student notebook the locked-cell checksums come from."""
    if getattr(chk, "template", None):
        return rubric.resolve_path(chk.template)
    from ..paths import course_dir

    base = Path(rubric.source).parent.parent if rubric.source else course_dir()
    return base / "assignments" / rubric.assignment / "release" / f"{rubric.assignment}.ipynb"


def judge_static(nb, chk, rubric, lang: str) -> tuple[CheckResult, list[str]]:
    """The registry's entry (checks/kinds.py): judged against the release the rubric names."""
    return check_locked_cells(nb, chk, release_template(rubric, chk), lang)


def template_files(rubric, chk) -> list[Path]:
    """The host files this check's verdict depends on (part of the store's reuse key)."""
    return [release_template(rubric, chk)]
