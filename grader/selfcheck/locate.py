"""Which assignment a notebook belongs to, and where its rubric is.

The rubric comes from the course folder when there is one (an instructor's checkout, an editable
install), else from the copy shipped inside the package (`rubrics/` beside this file, filled at
build time; see its README). Only public parts ship: the hidden unit tests stay in the course
folder, and the self-check never asks for them.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml

from ..authoring.release import METADATA_KEY
from ..errors import GraderError
from ..messages import tr
from ..paths import course_dir

PACKAGED = Path(__file__).resolve().parent / "rubrics"

CATALOG = {
    "unknown": {"es": "no conozco la práctica «{name}» (conozco: {known}). Instala la versión del corrector "
                      "que da la asignatura (el enlace de la primera celda del enunciado) o indica otra con "
                      "--assignment.",
                "en": "unknown assignment '{name}' (known: {known}). Install the grader's version the course "
                      "hands out (the link in the assignment notebook's first cell) or give another one with "
                      "--assignment."},
    "undetected": {"es": "no sé de qué práctica es «{file}»: el cuaderno no lleva la marca del enunciado "
                         "publicado (¿lo copiaste a un cuaderno nuevo?). Indícala con --assignment "
                         "(una de: {known}).",
                   "en": "cannot tell which assignment '{file}' is: the notebook lacks the released "
                         "template's mark (was it copied into a new notebook?). Give it with --assignment "
                         "(one of: {known})."},
    "none": {"es": "no hay rúbricas instaladas (ni en {dirs})", "en": "no rubrics installed (not in {dirs})"},
    "how_option": {"es": "indicada con --assignment", "en": "given with --assignment"},
    "how_metadata": {"es": "según los metadatos del cuaderno", "en": "from the notebook's metadata"},
    "how_file_name": {"es": "deducida del nombre del fichero", "en": "guessed from the file name"},
    "how_rubric": {"es": "según la rúbrica indicada", "en": "from the rubric given"},
}


def rubric_dirs(course: str | None = None) -> list[Path]:
    """Where rubrics are looked for, best first: the course folder's rubrics/, then the packaged copy."""
    out: list[Path] = []
    for d in (course_dir(course) / "rubrics", PACKAGED):
        if d.is_dir() and all(d.resolve() != o.resolve() for o in out):
            out.append(d)
    return out


def assignment_rubrics(dirs: list[Path]) -> dict[str, tuple[Path, dict]]:
    """assignment id -> (rubric file, its raw YAML); files that are not assignment rubrics are skipped."""
    found: dict[str, tuple[Path, dict]] = {}
    for d in dirs:
        for p in sorted(d.glob("*.yaml")):
            try:
                raw = yaml.safe_load(p.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            if isinstance(raw, dict) and isinstance(raw.get("assignment"), str) and "checks" in raw:
                found.setdefault(raw["assignment"], (p, raw))
    return found


def detect(nb: dict, path: Path, given: str | None, rubrics: dict[str, tuple[Path, dict]],
           lang: str) -> tuple[str, str]:
    """(assignment, how it was found: option | metadata | file_name); GraderError when unknown."""
    known = ", ".join(sorted(rubrics)) or "-"
    if given:
        if given not in rubrics:
            raise GraderError(tr(CATALOG, "unknown", lang, name=given, known=known))
        from ..checks.assignment_mark import wrong_assignment

        wrong = wrong_assignment(nb, given, lang)
        if wrong:
            raise GraderError(wrong)
        return given, "option"
    meta = nb.get("metadata", {}).get(METADATA_KEY) if isinstance(nb.get("metadata"), dict) else None
    name = meta.get("assignment") if isinstance(meta, dict) else None
    if isinstance(name, str) and name:
        if name not in rubrics:
            raise GraderError(tr(CATALOG, "unknown", lang, name=name, known=known))
        return name, "metadata"
    matches = [a for a, (_, raw) in rubrics.items() if _matches(path.name, raw)]
    if len(matches) == 1:
        return matches[0], "file_name"
    raise GraderError(tr(CATALOG, "undetected", lang, file=path.name, known=known))


def _matches(file_name: str, raw: dict) -> bool:
    """The rubric's `notebook.preferred` globs, matched case-insensitively as the grader does."""
    prefs = (raw.get("notebook") or {}).get("preferred") if isinstance(raw.get("notebook"), dict) else None
    return any(isinstance(p, str) and fnmatch.fnmatch(file_name.lower(), p.lower()) for p in prefs or [])
