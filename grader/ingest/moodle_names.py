"""Parse the paths of Moodle's "Download all submissions" zip: who handed in which file.

Moodle (mod/assign downloader.php) builds every path from a prefix
``<Full name>_<participant id>`` (``Participant_<id>`` under blind marking), with every ``_``
in the name replaced by a space, so the FIRST ``_`` separates name and id. Then:

- Moodle >= 4.1, "in folders":  ``<prefix>_assignsubmission_file/<sub/dirs/><file>``
- Moodle 3.x, "in folders":     ``<prefix>_assignsubmission_file_/<file>``
- "not in folders" (flat):      ``<prefix>_assignsubmission_file_<file>``
- other plugins, same shapes:   ``<prefix>_assignsubmission_onlinetext/onlinetext.html``

This is the layout Moodle's own feedback-zip importer accepts (explode('_', part, 5)).
Team submissions use ``<group name>_<group id>``: they parse, with the group id as the id.
A path of any other shape is not guessed at: `parse_entry` returns None.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Moodle's `participant` string (assign): the blind-marking prefix, English and Spanish.
BLIND_WORDS = ("Participant", "Participante")

# name _ id _ assignsubmission _ plugin [ _ tail ]; plugin names have no `_` (Moodle splits on it).
_PREFIX = re.compile(
    r"(?P<name>[^_]+)_(?P<id>[0-9]+)_assignsubmission_(?P<plugin>[a-z][a-z0-9]*)(?:_(?P<tail>.*))?",
    re.DOTALL,
)

#: An example of what we expect, for error messages.
EXAMPLE = "José Núñez_1234567_assignsubmission_file/mnist_cnn.ipynb"


@dataclass(frozen=True)
class ParsedEntry:
    """One path of the download, attributed to a participant."""

    full_name: str  # NFC, outer spaces stripped; "" under blind marking
    participant_id: str  # digits, as written (per assignment, not the Moodle user id)
    blind: bool
    plugin: str  # "file", "onlinetext", ...
    folder: str  # the student's folder as in the download; for flat names the prefix up to the file
    relpath: str  # the file inside the submission ("" for the student's folder itself)
    flat: bool = False

    @property
    def is_file_plugin(self) -> bool:
        return self.plugin == "file"


def parse_entry(path_in_download: str) -> ParsedEntry | None:
    """Attribute a path of the download (``/``-separated) to a participant, or None if it is not
    one of Moodle's forms. A trailing ``/`` marks the student's folder itself (relpath "")."""
    path = unicodedata.normalize("NFC", path_in_download)
    first, sep, rest = path.partition("/")
    m = _PREFIX.fullmatch(first)
    if m is None:
        return None
    name = m["name"].strip()
    if not name:
        return None
    tail = m["tail"]
    if tail is None:  # >= 4.1 folder: Name_1_assignsubmission_file[/...]
        folder, relpath, flat = first, rest, False
    elif tail == "":  # 3.x folder: Name_1_assignsubmission_file_/...
        if not sep:
            return None  # a bare "..._file_" with no file name is no form of Moodle's
        folder, relpath, flat = first, rest, False
    else:  # flat: Name_1_assignsubmission_file_<file>; Moodle's importer also reads tail/rest
        folder = first[: len(first) - len(tail)]
        relpath, flat = (tail + sep + rest), True
    blind = name in BLIND_WORDS
    return ParsedEntry(
        full_name="" if blind else name,
        participant_id=m["id"],
        blind=blind,
        plugin=m["plugin"],
        folder=folder,
        relpath=relpath.rstrip("/"),
        flat=flat,
    )
