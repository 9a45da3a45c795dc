"""One `grader grade` per output folder at a time: a second one stops at once with a clear
message instead of interleaving its writes. An advisory lock (flock) that the kernel releases
when the holder dies, so a kill -9 leaves no stale lock behind."""
from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from ..errors import GraderError

LOCK_NAME = ".grader.lock"


class OutputLocked(GraderError):
    """Another grader process holds the output folder."""


class OutputLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = f" (pid {holder.get('pid')}, since {holder.get('since')})" if holder else ""
            raise OutputLocked(f"{self.path.parent} is being graded by another grader process{who}; "
                               "wait for it to finish or stop it, then run again") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return json.loads(os.read(fd, 4096) or b"{}")
    except (OSError, ValueError):
        return {}
