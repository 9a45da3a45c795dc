"""Every export of an assignment, for the whole class, from the results store: results.jsonl,
the Moodle worksheet and feedback zip (through the round trip), and executed/. Written after
every run, finished or interrupted, so what is on disk always matches the store."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..model import Result, Submission
from ..store import ResultStore
from .results_jsonl import write_results

#: flags the batch adds to stored rows at export time (instructor-facing, never in feedback)
NOT_IN_DOWNLOAD = "not_in_download"  # kept from an earlier download; not in this one
REGRADE_PENDING = "regrade_pending"  # the download has a newer notebook, not graded yet


def pid_order(pid: str) -> tuple:
    return (0, int(pid), "") if pid.isdigit() else (1, 0, pid)


def class_pairs(store: ResultStore, present: set[str], keys: dict[str, str], rt,
                lang: str) -> list[tuple[Submission, Result]]:
    """(submission, result) for everyone with a stored result, stamped with the current
    worksheet's submission times and the late policy, marked when it is not current."""
    subs = store.submissions()
    pairs = []
    for pid, stored in sorted(store.results().items(), key=lambda kv: pid_order(kv[0])):
        sub = subs[pid][0]
        res = rt.stamp(sub, stored.result, lang)
        if pid not in present:
            res.flags = sorted(set(res.flags) | {NOT_IN_DOWNLOAD})
        elif keys.get(pid) and keys[pid] != stored.key:
            res.flags = sorted(set(res.flags) | {REGRADE_PENDING})
        pairs.append((sub, res))
    return pairs


def write_class(out_dir: Path, store: ResultStore, pairs: list[tuple[Submission, Result]], rt,
                lang: str, title: str) -> dict[str, Path]:
    files = {"results": write_results(out_dir / "results.jsonl", [r for _, r in pairs]),
             **rt.write(out_dir, pairs, lang, title)}
    files["executed"] = sync_executed(out_dir / "executed", store, {s.participant_id for s, _ in pairs})
    return files


def sync_executed(folder: Path, store: ResultStore, pids: set[str]) -> Path:
    """executed/<pid>.ipynb for each stored result that has one (hard links to the store's
    copies), and nothing else: a re-graded student's old notebook never lingers."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for pid, stored in store.results().items():
        if pid in pids and stored.executed is not None and stored.executed.exists():
            wanted[f"{pid}.ipynb"] = stored.executed
    for f in folder.iterdir():
        if f.name not in wanted:
            if f.is_dir():
                shutil.rmtree(f, ignore_errors=True)
            else:
                f.unlink(missing_ok=True)
    for name, src in wanted.items():
        dst = folder / name
        try:
            if dst.exists() and os.path.samefile(src, dst):
                continue
        except OSError:
            pass
        tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            os.link(src, tmp)
        except OSError:  # another file system: copy
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    return folder
