"""The SQLite store of one assignment's output folder (`OUT/<assignment>/grader.sqlite`).

WAL mode, one transaction per finished result: a Ctrl-C, a kill -9 or a power cut loses at
most the results still running. Tables: `runs` (every `grader grade`, what it did),
`submissions` (the latest hand-in seen of each participant), `results` (the current result of
each participant, with the key it was graded under and the run that produced it) and
`history` (every result ever stored, so a re-grade never erases the previous one). Deleting
the file only costs re-grading.
"""
from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..errors import GraderError
from ..model import Result, Submission
from .codec import dump_result, dump_submission, load_result, load_submission

STORE_NAME = "grader.sqlite"
STORE_DIR = ".store"  # beside the database: kept originals and executed notebooks
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, state TEXT NOT NULL,
    grader_version TEXT, source TEXT, fingerprint TEXT, info TEXT);
CREATE TABLE IF NOT EXISTS submissions (
    participant_id TEXT PRIMARY KEY, data TEXT NOT NULL, last_seen_run INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    participant_id TEXT PRIMARY KEY, key TEXT NOT NULL, reusable INTEGER NOT NULL,
    row TEXT NOT NULL, run_id INTEGER NOT NULL, executed TEXT, graded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, participant_id TEXT NOT NULL, key TEXT NOT NULL, row TEXT NOT NULL,
    run_id INTEGER NOT NULL, graded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
"""


class StoreError(GraderError):
    """The store cannot be opened or read (not a database, a newer schema...)."""


@dataclass
class StoredResult:
    participant_id: str
    key: str
    reusable: bool
    result: Result
    run_id: int
    executed: Path | None  # the executed notebook kept in the store, if any
    graded_at: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ResultStore:
    """One assignment's results, as they arrive. Not shared between threads: the batch's
    main thread is its only writer (results come to it from the workers)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME
        self.files = self.folder / STORE_DIR
        for sub in ("notebooks", "executed", "staging"):
            (self.files / sub).mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            version = self._meta("schema_version")
            if version is None:
                self._set_meta("schema_version", str(SCHEMA_VERSION))
            elif int(version) > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: written by a newer grader (store schema {version}, "
                                 f"this grader reads up to {SCHEMA_VERSION}); upgrade the grader")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable results store ({exc}); move it away "
                             "to start afresh (that only costs re-grading)") from None

    # -- small helpers ---------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()

    # -- runs ------------------------------------------------------------------------------
    def begin_run(self, grader_version: str, source: str, fingerprint: str, info: dict) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started, state, grader_version, source, fingerprint, info) "
            "VALUES (?, 'running', ?, ?, ?, ?)",
            (_now(), grader_version, source, fingerprint, json.dumps(info, ensure_ascii=False)))
        return int(cur.lastrowid)

    def end_run(self, run_id: int, state: str, info: dict) -> None:
        self.db.execute("UPDATE runs SET finished=?, state=?, info=? WHERE id=?",
                        (_now(), state, json.dumps(info, ensure_ascii=False), run_id))

    def runs(self) -> list[dict]:
        cols = ("id", "started", "finished", "state", "grader_version", "source", "fingerprint", "info")
        return [dict(zip(cols, r)) for r in self.db.execute(f"SELECT {', '.join(cols)} FROM runs ORDER BY id")]

    # -- submissions -----------------------------------------------------------------------
    def keep_original(self, sub: Submission) -> Submission:
        """A copy of `sub` whose notebook is the store's own copy of the original (by sha256),
        so a later download that drops or replaces it never loses the bytes graded."""
        if sub.notebook is None or not sub.sha256:
            return sub
        kept = self.files / "notebooks" / f"{sub.sha256}.ipynb"
        if not kept.exists():
            tmp = kept.with_name(f".{kept.name}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(Path(sub.notebook).read_bytes())
            os.replace(tmp, kept)
        return replace(sub, notebook=kept)

    def record_submissions(self, subs: list[Submission], run_id: int) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?)",
                [(s.participant_id, dump_submission(s), run_id) for s in subs])

    def submissions(self) -> dict[str, tuple[Submission, int]]:
        """Every participant ever seen: (their latest submission, the run that last saw it)."""
        return {pid: (load_submission(data), seen) for pid, data, seen in
                self.db.execute("SELECT participant_id, data, last_seen_run FROM submissions")}

    # -- results ---------------------------------------------------------------------------
    def staging(self, name: str) -> Path:
        return self.files / "staging" / name

    def put(self, res: Result, key: str, run_id: int, *, reusable: bool = True,
            executed: Path | None = None) -> None:
        """Store one finished result (one transaction), with its executed notebook."""
        kept = None
        if executed is not None and executed.exists():
            kept = self.files / "executed" / f"{res.participant_id}-{uuid.uuid4().hex[:12]}.ipynb"
            os.replace(executed, kept)
        row, when = dump_result(res), _now()
        old = self.db.execute("SELECT executed FROM results WHERE participant_id=?",
                              (res.participant_id,)).fetchone()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (res.participant_id, key, int(reusable), row, run_id,
                             kept.name if kept else None, when))
            self.db.execute("INSERT INTO history (participant_id, key, row, run_id, graded_at) "
                            "VALUES (?, ?, ?, ?, ?)", (res.participant_id, key, row, run_id, when))
        if old and old[0] and (kept is None or old[0] != kept.name):
            (self.files / "executed" / old[0]).unlink(missing_ok=True)

    def get(self, pid: str) -> StoredResult | None:
        row = self.db.execute("SELECT participant_id, key, reusable, row, run_id, executed, graded_at "
                              "FROM results WHERE participant_id=?", (pid,)).fetchone()
        return self._stored(row) if row else None

    def results(self) -> dict[str, StoredResult]:
        return {r[0]: self._stored(r) for r in self.db.execute(
            "SELECT participant_id, key, reusable, row, run_id, executed, graded_at FROM results")}

    def history(self, pid: str) -> list[tuple[int, Result]]:
        return [(run, load_result(row)) for run, row in self.db.execute(
            "SELECT run_id, row FROM history WHERE participant_id=? ORDER BY id", (pid,))]

    def _stored(self, r) -> StoredResult:
        return StoredResult(participant_id=r[0], key=r[1], reusable=bool(r[2]), result=load_result(r[3]),
                            run_id=int(r[4]), executed=self.files / "executed" / r[5] if r[5] else None,
                            graded_at=r[6])

    def sweep(self) -> None:
        """Remove leftovers of interrupted runs: staged notebooks and executed notebooks no
        result refers to."""
        for f in (self.files / "staging").iterdir():
            f.unlink(missing_ok=True)
        used = {r[0] for r in self.db.execute("SELECT executed FROM results WHERE executed IS NOT NULL")}
        for f in (self.files / "executed").iterdir():
            if f.name not in used:
                f.unlink(missing_ok=True)

    # -- file hashes (cached by size and mtime) --------------------------------------------
    def file_sha256(self, path: Path) -> str:
        import hashlib

        path = Path(path).resolve()
        st = path.stat()
        row = self.db.execute("SELECT size, mtime_ns, sha256 FROM file_hashes WHERE path=?",
                              (str(path),)).fetchone()
        if row and row[0] == st.st_size and row[1] == st.st_mtime_ns:
            return row[2]
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        self.db.execute("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)",
                        (str(path), st.st_size, st.st_mtime_ns, digest))
        return digest


def stored_notebooks(folder: Path) -> dict[str, str]:
    """participant id -> sha256 of the notebook their stored result graded, read without
    writing anything (for --dry-run); {} when there is no store."""
    path = Path(folder) / STORE_NAME
    if not path.exists():
        return {}
    try:
        # immutable: a read-only open of a WAL database would otherwise create its -wal/-shm
        # files; when a -wal exists (a run in progress or killed), read through it
        wal = path.with_name(path.name + "-wal").exists()
        db = sqlite3.connect(f"file:{path}?mode=ro" + ("" if wal else "&immutable=1"), uri=True, timeout=5)
        try:
            return {pid: json.loads(row).get("sha256") for pid, row in
                    db.execute("SELECT participant_id, row FROM results WHERE reusable=1")}
        finally:
            db.close()
    except (sqlite3.DatabaseError, ValueError):
        return {}
