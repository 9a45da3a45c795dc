"""Why the grader's re-run of a notebook failed, cell by cell, in words a student can act on.

For each error: the cell (number and first line of code), the exception's type and message, and,
where the self-check's hazard analysis (grader/selfcheck/hazards.py) finds the usual cause in that
cell (a Drive or Windows path, `drive.mount`, `!pip install`, a download), the hint `grader check`
gives for it: the same analysis, not a second copy, so the advice before and after handing in
agrees. The student's text goes to Result.message; the instructor's line (what was compared and
found) to Result.detail.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..messages import tr
from .text import cell_source, clean

MAX_CELLS = 5
#: Hazard kinds that explain an error raised in the same cell (advice-only kinds do not).
CAUSES = ("absolute_path", "drive_mount", "colab_import", "colab_guarded", "pip_install", "system_install",
          "download", "keras_download", "weights", "missing_file", "maybe_extracted")

CATALOG = {
    "cell": {"es": "celda {n} (`{line}`): {ename}: {evalue}", "en": "cell {n} (`{line}`): {ename}: {evalue}"},
    "cell_no_line": {"es": "celda {n}: {ename}: {evalue}", "en": "cell {n}: {ename}: {evalue}"},
    "cause": {"es": "Causa probable: {hint}", "en": "Likely cause: {hint}"},
    "after": {"es": "seguramente por el error de la celda {first}", "en": "probably because of cell {first}'s error"},
    "more": {"es": "y {n} celdas más con error", "en": "and {n} more cells with an error"},
}


@dataclass
class Explained:
    cell: int  # 1-based, as students count cells in Jupyter
    line: str  # the cell's first line of code
    ename: str
    evalue: str
    hint: str = ""  # the self-check's message for the hazard found in that cell
    kind: str = ""  # its kind, for the instructor ("after_error": a NameError after an earlier failure)


def first_line(cell) -> str:
    """The first line of code (comments and blank lines skipped), shortened."""
    for line in cell_source(cell).splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            return clean(text, 80)
    return ""


def hazards_by_cell(nb, notebook: Path | None, served: list[str], lang: str) -> dict[int, list]:
    """The self-check's blocking-cause findings of the submitted notebook, by cell number."""
    from ..selfcheck.hazards import find_hazards
    from ..selfcheck.notebook import code_cells

    if notebook is None or not Path(notebook).is_file():
        return {}
    try:
        findings = find_hazards(code_cells(nb), Path(notebook), served, lang, float("inf"))
    except (RecursionError, ValueError, OSError):  # an odd notebook must not cost the student their row
        return {}
    out: dict[int, list] = {}
    for f in findings:
        if f.cell is not None and f.kind in CAUSES:
            out.setdefault(f.cell, []).append(f)
    for found in out.values():
        found.sort(key=lambda f: not f.blocking)  # a blocking cause first
    return out


def explain(errors, nb, notebook: Path | None, served: list[str], lang: str) -> list[Explained]:
    """One Explained per cell error of the re-run (CellError.cell_index is 0-based among all cells)."""
    cells = nb.get("cells", []) if nb is not None else []
    hazards = hazards_by_cell(nb, notebook, served, lang) if errors else {}
    out = []
    for e in errors:
        n = e.cell_index + 1
        cell = cells[e.cell_index] if 0 <= e.cell_index < len(cells) else None
        found = hazards.get(n, [])
        hint, kind = (found[0].message, found[0].kind) if found else ("", "")
        if not hint and out and e.ename == "NameError":  # a name an earlier failing cell never defined
            hint, kind = tr(CATALOG, "after", lang, first=out[0].cell), "after_error"
        out.append(Explained(n, first_line(cell) if cell is not None else "", clean(e.ename, 60),
                             clean(e.evalue, 300), hint, kind))
    return out


def student_text(items: list[Explained], lang: str) -> str:
    """'celda 11 (`WEIGHTS = …`): ValueError: …. Causa probable: …; celda 13 …'"""
    parts = []
    for x in items[:MAX_CELLS]:
        key = "cell" if x.line else "cell_no_line"
        text = tr(CATALOG, key, lang, n=x.cell, line=x.line.replace("`", "'"), ename=x.ename,
                  evalue=x.evalue.replace("`", "'"))
        if x.kind == "after_error":
            text += f" ({x.hint})"
        elif x.hint:
            text += ". " + tr(CATALOG, "cause", lang, hint=x.hint.rstrip("."))
        parts.append(text)
    if len(items) > MAX_CELLS:
        parts.append(tr(CATALOG, "more", lang, n=len(items) - MAX_CELLS))
    return "; ".join(parts)


def instructor_lines(items: list[Explained]) -> list[str]:
    """For results.jsonl's `detail`: every error, with the hazard the self-check recognises."""
    return [f"cell {x.cell} ({x.line!r}): {x.ename}: {x.evalue}"
            + (f" [{x.hint}]" if x.kind == "after_error" else f" [self-check hazard {x.kind}: {x.hint}]" if x.kind
               else "") for x in items]
