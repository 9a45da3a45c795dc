"""`--only ID_OR_NAME`: which students of the download to re-grade. A participant id (with or
without Moodle's `Participant `/`Participante ` prefix) or a full name, accents, case and
spacing ignored. A word that matches nobody, or several people, stops the run before any work:
re-grading the wrong student silently is worse than asking."""
from __future__ import annotations

import re

from ..errors import GraderError
from ..export.worksheet_io import norm_name
from ..model import Submission


class SelectionError(GraderError):
    """--only names nobody, or is ambiguous."""


_PREFIX = re.compile(r"^\s*(participant|participante)\s*", re.I)


def select(subs: list[Submission], wanted: list[str]) -> list[Submission]:
    by_id = {s.participant_id: s for s in subs}
    chosen: dict[str, Submission] = {}
    for word in wanted:
        pid = _PREFIX.sub("", word).strip()
        if pid in by_id:
            chosen[pid] = by_id[pid]
            continue
        key = norm_name(word)
        hits = [s for s in subs if s.full_name and norm_name(s.full_name) == key]
        if not hits:  # a unique part of a name ("nunez") is fine too
            hits = [s for s in subs if s.full_name and key and key in norm_name(s.full_name)]
        if not hits:
            raise SelectionError(f"--only {word!r}: nobody in the download has that participant id "
                                 f"or name ({len(subs)} participants)")
        if len(hits) > 1:
            names = ", ".join(f"{s.full_name} ({s.participant_id})" for s in hits[:5])
            raise SelectionError(f"--only {word!r} matches {len(hits)} participants: {names}; "
                                 "give the participant id")
        chosen[hits[0].participant_id] = hits[0]
    return [s for s in subs if s.participant_id in chosen]
