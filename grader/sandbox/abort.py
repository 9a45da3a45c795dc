"""Stop every running sandbox of a session at once (Ctrl-C): each job registers how to kill
itself while it runs; after `abort()` no new job starts."""
from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import GraderError


class Aborted(GraderError):
    """The batch was interrupted: this job was not started, or was stopped."""


class RunningJobs:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kills: dict[int, Callable[[], None]] = {}
        self._next = 0
        self.aborted = threading.Event()

    def check(self) -> None:
        if self.aborted.is_set():
            raise Aborted("interrupted: job not started")

    def started(self, kill: Callable[[], None]) -> int:
        """Register a running job; if the session was aborted meanwhile, kill it at once."""
        with self._lock:
            self._next += 1
            token = self._next
            self._kills[token] = kill
        if self.aborted.is_set():
            kill()
        return token

    def finished(self, token: int) -> None:
        with self._lock:
            self._kills.pop(token, None)

    def running(self) -> int:
        with self._lock:
            return len(self._kills)

    def abort(self) -> int:
        """Kill every running job (their whole process trees); returns how many."""
        self.aborted.set()
        with self._lock:
            kills = list(self._kills.values())
        for kill in kills:
            try:
                kill()
            except Exception:  # a job that is already gone
                pass
        return len(kills)
