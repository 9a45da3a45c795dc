"""Moodle download (zip or extracted folder) -> one `Submission` per participant.

A zip is extracted safely into ``<workdir>/originals`` (replacing an earlier extraction only once
the new one is complete); a folder is read in place and never written to. Every path is
attributed with `moodle_names.parse_entry`; paths of no Moodle form and OS/Jupyter junk are
reported as ignored, never guessed at. All files of a participant (folder and flat forms, every
plugin) are merged; the notebook to grade is picked by the rule in `choose`.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import IngestError
from ..model import Submission
from .choose import Candidate, choose_notebook, is_notebook
from .extract import ExtractLimits, extract_zip, junk_root
from .moodle_names import EXAMPLE, ParsedEntry, parse_entry


@dataclass
class IngestReport:
    """What ingest found: every participant, plus what it left out and why (for the instructor)."""

    submissions: list[Submission]  # sorted by participant id (numerically)
    ignored: list[str] = field(default_factory=list)  # paths of no Moodle form, and junk
    warnings: list[str] = field(default_factory=list)
    root: Path | None = None  # where the originals are: <workdir>/originals or the source folder


@dataclass(frozen=True)
class _Item:
    """One path of the download, wherever it came from."""

    rel: str  # "/"-separated, relative to the root
    path: Path
    is_dir: bool
    size: int = 0
    mtime: datetime | None = None


def ingest(source: Path, assignment: str, workdir: Path, preferred: Sequence[str] = (),
           limits: ExtractLimits = ExtractLimits()) -> IngestReport:
    """Read Moodle's "Download all submissions" (zip or folder) for `assignment`."""
    source = Path(source)
    warnings: list[str] = []
    if source.is_dir():
        root = source.resolve()
        items, ignored = _walk_folder(root, warnings)
        _require_submissions(source, [i.rel + ("/" if i.is_dir else "") for i in items])
    elif source.exists():
        root = (Path(workdir) / "originals").resolve()
        result = extract_zip(source, root, limits, precheck=lambda names: _require_submissions(source, names),
                             owner=_owner)
        items = [_Item(f.name, f.path, False, f.size, f.mtime) for f in result.files]
        items += [_Item(d, root / d, True) for d in result.dirs]
        ignored = list(result.skipped)
    else:
        raise IngestError(f"{source}: no such file or folder (expected Moodle's 'Download all "
                          "submissions' zip or the folder it was extracted to)")
    groups: dict[str, list[tuple[ParsedEntry, _Item]]] = {}
    for item in sorted(items, key=lambda i: i.rel):
        parsed = parse_entry(item.rel + ("/" if item.is_dir else ""))
        if parsed is None:
            top, sep, _ = item.rel.partition("/")
            ignored.append(top + "/" if sep or item.is_dir else item.rel)
        else:
            groups.setdefault(parsed.participant_id, []).append((parsed, item))
    rejected: dict[str, list[str]] = {}
    for key, why in (result.rejected if not source.is_dir() else []):
        rejected.setdefault(_owner(key), []).append(why)
    for pid, whys in rejected.items():  # a student whose every file was skipped still gets a row
        if pid not in groups:
            key = next(k for k, _ in result.rejected if _owner(k) == pid)  # not on disk: no file
            groups[pid] = [(parse_entry(key), _Item(key, root / key, True))]
    subs = [_submission(assignment, pid, entries, preferred, warnings)
            for pid, entries in sorted(groups.items(), key=lambda kv: int(kv[0]))]
    for sub in subs:
        if sub.participant_id in rejected:
            sub.notes += rejected[sub.participant_id]
            sub.flags.append("files_skipped")
    return IngestReport(subs, sorted(set(ignored)), warnings, root)


def _submission(assignment: str, pid: str, entries: list[tuple[ParsedEntry, _Item]],
                preferred: Sequence[str], warnings: list[str]) -> Submission:
    """Merge every entry of one participant and pick the notebook."""
    names = sorted({p.full_name for p, _ in entries})
    if len(names) > 1:
        warnings.append(f"participant {pid} appears under several names: "
                        + ", ".join(repr(n) for n in names))
    files = [(p, i) for p, i in entries if not i.is_dir]
    by_rel: dict[str, tuple[ParsedEntry, _Item]] = {}
    for p, i in files:
        if p.relpath in by_rel:
            warnings.append(f"participant {pid}: {p.relpath!r} appears twice in the download "
                            f"({by_rel[p.relpath][1].rel!r} and {i.rel!r})")
        by_rel.setdefault(p.relpath, (p, i))
    cands = {Candidate(p.relpath, i.mtime, i.size): (p, i)
             for p, i in files if p.is_file_plugin and is_notebook(p.relpath)}
    chosen, note = choose_notebook(list(cands), preferred)
    # name and folder come from the graded notebook's entry, else from the file plugin's
    lead = cands[chosen][0] if chosen else next((p for p, _ in entries if p.is_file_plugin), entries[0][0])
    sub = Submission(
        assignment=assignment,
        participant_id=pid,
        full_name=lead.full_name,
        blind=lead.blind,
        folder=lead.folder,
        files=sorted(by_rel),
        paths={rel: i.path for rel, (p, i) in sorted(by_rel.items()) if p.is_file_plugin},
        submitted_at=max((i.mtime for _, i in files if i.mtime), default=None),
    )
    if note:
        sub.notes.append(note)
    for p, _ in files:
        if p.is_file_plugin and p.relpath.lower().endswith(".zip"):
            sub.notes.append(f"handed in {p.relpath!r}: notebooks inside archives are not looked into")
    if chosen is not None:
        item = cands[chosen][1]
        sub.notebook, sub.notebook_name = item.path, chosen.relpath
        sub.sha256, sub.size = _sha256(item.path), item.path.stat().st_size
        sub.submitted_at = item.mtime
    return sub


def _owner(key: str) -> str | None:
    parsed = parse_entry(key)
    return parsed.participant_id if parsed else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _walk_folder(root: Path, warnings: list[str]) -> tuple[list[_Item], list[str]]:
    """Every file and folder under `root` (read only). Symbolic links are skipped: in a folder a
    student's zip was extracted to, a link could point at any file of the instructor's."""
    items: list[_Item] = []
    ignored: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for name in sorted(dirnames):
            rel = prefix + name
            if (here / name).is_symlink() or junk_root(rel):
                dirnames.remove(name)
                ignored.append(_ignore(rel + "/", here / name, warnings))
            else:
                items.append(_Item(rel, here / name, True))
        for name in sorted(filenames):
            rel, path = prefix + name, here / name
            if path.is_symlink() or junk_root(rel) or not path.is_file():
                ignored.append(_ignore(rel, path, warnings))
                continue
            st = path.stat()
            items.append(_Item(rel, path, False, st.st_size, datetime.fromtimestamp(st.st_mtime)))
    return items, ignored


def _ignore(rel: str, path: Path, warnings: list[str]) -> str:
    if path.is_symlink():
        warnings.append(f"{rel!r} is a symbolic link; skipped")
        return rel
    return junk_root(rel) or rel


def _require_submissions(source: Path, names: Iterable[str]) -> None:
    """IngestError unless some path is a Moodle submission (said before anything is written)."""
    names = [n for n in names if not junk_root(n)]
    if any(parse_entry(n) for n in names):
        return
    found = sorted({n.partition("/")[0] + ("/" if "/" in n else "") for n in names})
    hint = ""
    tops = {n.partition("/")[0] for n in names if "/" in n}
    if len(tops) == 1 and any(parse_entry(n.partition("/")[2]) for n in names):
        hint = f" The submissions seem to be inside {next(iter(tops))!r}: use that folder."
    shown = ", ".join(repr(n) for n in found[:5]) + (", ..." if len(found) > 5 else "")
    raise IngestError(
        f"{source} holds no Moodle submission. Expected Moodle's 'Download all submissions' "
        f"layout, e.g. {EXAMPLE!r}; found {shown or 'nothing'}.{hint}")
