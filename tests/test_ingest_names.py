"""parse_entry: every form of Moodle's "Download all submissions", and what is not one."""
from __future__ import annotations

import unicodedata

import pytest

from grader.ingest.moodle_names import ParsedEntry, parse_entry


@pytest.mark.parametrize("path, expected", [
    # Moodle >= 4.1: folder per student and plugin, no trailing underscore
    ("José Núñez_1234567_assignsubmission_file/mnist_cnn.ipynb",
     ParsedEntry("José Núñez", "1234567", False, "file", "José Núñez_1234567_assignsubmission_file",
                 "mnist_cnn.ipynb")),
    # files keep their sub-folders
    ("Ana López_42_assignsubmission_file/entrega/v2/nb.ipynb",
     ParsedEntry("Ana López", "42", False, "file", "Ana López_42_assignsubmission_file",
                 "entrega/v2/nb.ipynb")),
    # 3.x: trailing underscore on the folder
    ("Núñez, José_77_assignsubmission_file_/nb.ipynb",
     ParsedEntry("Núñez, José", "77", False, "file", "Núñez, José_77_assignsubmission_file_", "nb.ipynb")),
    # blind marking, English and Spanish
    ("Participant_1234567_assignsubmission_file/nb.ipynb",
     ParsedEntry("", "1234567", True, "file", "Participant_1234567_assignsubmission_file", "nb.ipynb")),
    ("Participante_88_assignsubmission_file_/a b.ipynb",
     ParsedEntry("", "88", True, "file", "Participante_88_assignsubmission_file_", "a b.ipynb")),
    # flat ("not in folders"): the file name follows the plugin; it may contain underscores
    ("Seán O'Connor_5_assignsubmission_file_mnist_cnn_v2.ipynb",
     ParsedEntry("Seán O'Connor", "5", False, "file", "Seán O'Connor_5_assignsubmission_file_",
                 "mnist_cnn_v2.ipynb", flat=True)),
    # other plugins are recognised (they are not notebooks: the caller decides)
    ("Mary-Jane  Smith_9_assignsubmission_onlinetext/onlinetext.html",
     ParsedEntry("Mary-Jane  Smith", "9", False, "onlinetext", "Mary-Jane  Smith_9_assignsubmission_onlinetext",
                 "onlinetext.html")),
    # the student's folder itself (a directory entry)
    ("Ana_3_assignsubmission_file/",
     ParsedEntry("Ana", "3", False, "file", "Ana_3_assignsubmission_file", "")),
])
def test_every_moodle_form(path, expected):
    assert parse_entry(path) == expected


def test_first_underscore_separates_name_and_id_and_id_keeps_leading_zeros():
    # Moodle turns "_" in names into spaces, so a name never holds "_": the first one splits.
    p = parse_entry("Ana María de la O_0099_assignsubmission_file/x_1_assignsubmission_file.ipynb")
    assert (p.full_name, p.participant_id, p.relpath) == ("Ana María de la O", "0099",
                                                         "x_1_assignsubmission_file.ipynb")


def test_names_are_nfc():
    nfd = unicodedata.normalize("NFD", "José Núñez_1_assignsubmission_file/Núñez.ipynb")
    p = parse_entry(nfd)
    assert p.full_name == "José Núñez" and unicodedata.is_normalized("NFC", p.full_name)
    assert p.relpath == unicodedata.normalize("NFC", "Núñez.ipynb")


@pytest.mark.parametrize("path", [
    "mnist_cnn.ipynb",  # a loose file
    "__MACOSX/Ana_1_assignsubmission_file/._nb.ipynb",  # not at the top
    "Ana_12a_assignsubmission_file/nb.ipynb",  # id not numeric
    "Ana__assignsubmission_file/nb.ipynb",  # no id
    "_1_assignsubmission_file/nb.ipynb",  # no name
    "Ana_1_assignfeedback_file/nb.ipynb",  # a feedback folder, not a submission
    "Ana_1_assignsubmission_/nb.ipynb",  # no plugin
    "Ana_1_assignsubmission_file_",  # flat with no file name
    "Default group_assignsubmission_file/nb.ipynb",  # team without a group id
    "Ana_1_assignsubmission_File/nb.ipynb",  # plugin names are lower case
    "",
])
def test_other_paths_are_not_guessed(path):
    assert parse_entry(path) is None
