"""Every export of an assignment, for the whole class, from the results store: results.jsonl,
the Moodle worksheet and feedback zip (through the round trip), and executed/. Written after
every run, finished or interrupted, so what is on disk always matches the store."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..model import Result, Submission
from ..store import ResultStore, StoredResult
from .results_jsonl import write_results

#: flags the batch adds to stored rows at export time (instructor-facing, never in feedback)
NOT_IN_DOWNLOAD = "not_in_download"  # kept from an earlier download; not in this one
REGRADE_PENDING = "regrade_pending"  # the download has a newer notebook, not graded yet


def pid_order(pid: str) -> tuple:
    return (0, int(pid), "") if pid.isdigit() else (1, 0, pid)


def class_pairs(store: ResultStore, stored: dict[str, StoredResult], present: set[str],
                keys: dict[str, str], rt, lang: str) -> list[tuple[Submission, Result]]:
    """(submission, result) for everyone with a stored result (`stored`: store.results(), read
    once for all the exports), stamped with the current worksheet's submission times and the
    late policy, marked when it is not current."""
    subs = store.submissions()
    pairs = []
    for pid, entry in sorted(stored.items(), key=lambda kv: pid_order(kv[0])):
        sub = subs[pid][0]
        res = rt.stamp(sub, entry.result, lang)
        if pid not in present:
            res.flags = sorted(set(res.flags) | {NOT_IN_DOWNLOAD})
        elif keys.get(pid) and keys[pid] != entry.key:
            res.flags = sorted(set(res.flags) | {REGRADE_PENDING})
        pairs.append((sub, res))
    return pairs


def write_class(out_dir: Path, stored: dict[str, StoredResult], pairs: list[tuple[Submission, Result]],
                rt, lang: str, title: str) -> dict[str, Path]:
    files = {"results": write_results(out_dir / "results.jsonl", [r for _, r in pairs]),
             **rt.write(out_dir, pairs, lang, title)}
    files["executed"] = sync_executed(out_dir / "executed", {
        s.participant_id: stored[s.participant_id].executed for s, _ in pairs})
    return files


def sync_executed(folder: Path, executed: dict[str, Path | None]) -> Path:
    """executed/<pid>.ipynb for each result that has an executed notebook in the store (hard
    links to the store's copies), and nothing else: a re-graded student's old notebook never
    lingers."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{pid}.ipynb": path for pid, path in executed.items()
              if path is not None and path.exists()}
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
