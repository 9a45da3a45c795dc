"""The results store: every finished result is kept as it arrives (SQLite under the output
folder), so a batch resumes after an interruption, re-grades only what changed, and every
export is written for the whole class from here, never from one run's submissions.

db: the SQLite tables; fingerprint: when a stored result may be reused; lock: one batch per
output folder; codec: Submission/Result <-> JSON.
"""
from __future__ import annotations

from .db import STORE_NAME, ResultStore, StoredResult
from .lock import OutputLock

__all__ = ["ResultStore", "StoredResult", "OutputLock", "STORE_NAME"]
