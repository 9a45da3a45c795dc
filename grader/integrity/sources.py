"""Where the notebooks to compare come from: this batch's submissions, an already graded
folder (results.jsonl and the originals the grader kept), earlier years' graded folders, and
the code everyone may share (the released template, the rubric's `similarity.exclude`)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..errors import GraderError, InvalidNotebook
from ..export.results_jsonl import read_results
from ..ingest.read_notebook import read_notebook
from ..model import Result, Submission
from ..rubric import Rubric
from .normalize import Stream, cell_tokens, notebook_stream
from .similarity import Entry


def shared_code(rubric: Rubric) -> tuple[list[Stream], list[str]]:
    """The template and the rubric's `exclude` files as streams, and what could not be read."""
    from ..checks.locked import release_template  # the same default path as the locked-cells check

    cfg = rubric.similarity
    paths = [release_template(rubric, cfg)] + [rubric.resolve_path(p) for p in cfg.exclude]
    streams, warnings = [], []
    for i, path in enumerate(paths):
        try:
            if path.suffix == ".py":
                tokens, _ = cell_tokens(path.read_text(encoding="utf-8", errors="replace"), 0)
                streams.append(Stream(tokens=tokens))
            else:
                streams.append(notebook_stream(read_notebook(path)[0]))
        except (OSError, InvalidNotebook) as exc:
            what = "the released template" if i == 0 else "similarity.exclude"
            warnings.append(f"similarity: {what} {path} could not be read ({exc}); "
                            "its code is not left out")
    return streams, warnings


def entry(sub_or_row, notebook: Path | None, archive: str | None = None) -> tuple[Entry | None, str | None]:
    """One notebook to compare, or why it is left out."""
    pid, name = sub_or_row.participant_id, sub_or_row.full_name or f"Participant {sub_or_row.participant_id}"
    label = f"{archive}/{pid}" if archive else pid
    if notebook is None:
        return None, None  # nothing handed in that could be compared
    try:
        nb, _ = read_notebook(notebook)
    except (OSError, InvalidNotebook) as exc:
        return None, f"similarity: {label} left out, the notebook could not be read ({exc})"
    stream = notebook_stream(nb)
    return Entry(pid, name, notebook.name, stream, archive), None


UNREADABLE = ("invalid", "no_notebook")  # statuses whose row already says there is no notebook to read


def batch_entries(pairs: list[tuple[Submission, Result]]) -> tuple[list[Entry], list[str]]:
    entries, warnings = [], []
    for sub, res in pairs:
        e, w = entry(sub, None if res.status in UNREADABLE else sub.notebook)
        entries += [e] if e else []
        warnings += [w] if w else []
    return entries, warnings


def graded_folder(folder: Path, rubric: Rubric) -> tuple[list[Result], dict[str, Path], list[str]]:
    """An earlier `grader grade` output (OUT/ASSIGNMENT): its rows and, per participant, the
    notebook it graded, from the originals it kept (a zip's extraction in originals/, or the
    source folder run.json names)."""
    from ..ingest import ingest

    results = folder / "results.jsonl"
    if not results.exists():
        raise GraderError(f"{results} not found: grade the assignment first (grader grade "
                          f"{rubric.assignment} SOURCE --out {folder.parent})")
    rows = read_results(results)
    run = {}
    if (folder / "run.json").exists():
        try:
            run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run = {}
    # the results store keeps every graded notebook by sha256, whatever later downloads dropped
    kept = {r.participant_id: folder / ".store" / "notebooks" / f"{r.sha256}.ipynb"
            for r in rows if r.sha256 and r.notebook}
    if kept and all(p.is_file() for p in kept.values()):
        return rows, kept, []
    source = Path(run["source"]) if run.get("source") else None
    root = folder / "originals"
    if source is not None and source.is_dir():
        root = source
    if not root.is_dir():
        raise GraderError(f"{folder}: the graded notebooks are gone (no originals/ folder"
                          + (f", and the source folder {source} is not there" if source else "") + ")")
    warnings = []
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:  # a folder is read in place
        try:
            found = {s.participant_id: s for s in ingest(root, rubric.assignment, Path(tmp),
                                                         preferred=rubric.notebook.preferred).submissions}
        except GraderError as exc:
            raise GraderError(f"{folder}: the originals in {root} could not be read: {exc}") from None
    notebooks = {}
    for row in rows:
        sub = found.get(row.participant_id)
        path = sub.paths.get(row.notebook) if sub and row.notebook else None
        if path is None and row.notebook:
            warnings.append(f"similarity: {row.participant_id}'s graded notebook {row.notebook!r} "
                            f"is not in {root}; left out")
        elif path is not None:
            if row.sha256 and sub.notebook == path and sub.sha256 != row.sha256:
                warnings.append(f"similarity: {row.participant_id}'s notebook in {root} changed "
                                "since it was graded (sha256 differs); compared as it is now")
            notebooks[row.participant_id] = path
    return rows, notebooks, warnings


def archive_entries(archive: Path, rubric: Rubric) -> tuple[list[Entry], list[str]]:
    """Every graded folder of this assignment under `archive` (e.g. last year's reports/), each
    labelled by its path below the archive's parent, e.g. `reports-2025`."""
    archive = Path(archive)
    if not archive.is_dir():
        raise GraderError(f"--similarity-archive {archive}: not a folder")
    folders = sorted({p.parent for p in archive.rglob("results.jsonl")
                      if _assignment_of(p) == rubric.assignment})
    if not folders:
        raise GraderError(f"--similarity-archive {archive}: no graded {rubric.assignment} found "
                          f"(a results.jsonl of an earlier `grader grade`, with its originals)")
    entries, warnings = [], []
    for folder in folders:
        parts = [archive.name, *folder.relative_to(archive).parts]
        if len(parts) > 1 and parts[-1] == rubric.assignment:
            parts.pop()
        label = "/".join(parts)
        rows, notebooks, w = graded_folder(folder, rubric)
        warnings += w
        for row in rows:
            path = None if row.status in UNREADABLE else notebooks.get(row.participant_id)
            e, w = entry(row, path, archive=label)
            entries += [e] if e else []
            warnings += [w] if w else []
    return entries, warnings


def _assignment_of(results: Path) -> str | None:
    try:
        with open(results, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    return json.loads(line).get("assignment")
    except (OSError, ValueError, AttributeError):
        return None
    return None
