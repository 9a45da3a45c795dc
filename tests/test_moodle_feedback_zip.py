"""The feedback zip: Moodle's importer (re-implemented in test_moodle_rules.py) gives every file
to the right student, and each student's page is theirs, escaped, with the late notice."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime

from grader.export.feedback_zip import render_feedback_zip, write_feedback_zip
from grader.ingest.moodle_names import parse_entry
from grader.model import CheckResult, Result, Submission
from test_moodle_rules import feedback_zip_target


def pair(pid, name, score, blind=False, submitted_at=None, **kw):
    sub = Submission("mnist_cnn", pid, name, blind=blind, submitted_at=submitted_at)
    res = Result.from_submission(sub, status="graded", max_score=10, checks=[
        CheckResult("softmax", score, 10, score == 10, "<script>alert(1)</script> `softmax`")],
        detail="Traceback: secret instructor detail", **kw)
    return sub, res


PAIRS = [pair("4518203", "José Núñez", 10), pair("4518239", "Pérez, Álvaro", 6.28),
         pair("4518217", "María O'Connor", 9.67), pair("4518290", "Ana_Luisa Sanz", 5),
         pair("4518291", "", 4, blind=True), pair("4518292", 'Eva "Evi" Ruiz/Gil', 3),
         pair("4518224", "Lucía Fernández-Gómez", 8.5, late=True, hours_late=0.08,
              submitted_at=datetime(2026, 4, 1, 0, 4))]


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def test_moodle_gives_each_file_to_its_student():
    files = entries(render_feedback_zip(PAIRS, "es", when=datetime(2026, 4, 2, 10, 0)))
    ids = {int(s.participant_id) for s, _ in PAIRS}
    got = {}
    for name, data in files.items():
        target = feedback_zip_target(name, ids)
        assert target is not None, f"Moodle would ignore {name!r}"
        pid, stored = target
        assert stored == "/correccion_mnist_cnn.html"
        got[str(pid)] = data.decode("utf-8")
    assert sorted(got) == sorted(s.participant_id for s, _ in PAIRS)
    for sub, res in PAIRS:
        page = got[sub.participant_id]
        assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
        assert f"Nota: {res.score:g}".replace(".", ",") in page
        assert "<script>" not in page and "&lt;script&gt;" in page  # student text is escaped
        assert "secret instructor detail" not in page  # tracebacks stay with the instructor


def test_folder_names_are_moodles_and_read_back_as_the_same_participant():
    files = entries(render_feedback_zip(PAIRS, "es"))
    folders = {n.split("/")[0] for n in files}
    assert "José Núñez_4518203_assignsubmission_file" in folders
    assert "Pérez, Álvaro_4518239_assignsubmission_file" in folders
    assert "Ana Luisa Sanz_4518290_assignsubmission_file" in folders  # '_' in names: a space
    assert "Participante_4518291_assignsubmission_file" in folders  # blind marking
    assert "Eva Evi RuizGil_4518292_assignsubmission_file" in folders  # no quotes or slashes
    for name in files:  # our own ingest reads it as Moodle's download form, same participant
        parsed = parse_entry(name)
        assert parsed is not None and f"_{parsed.participant_id}_" in name


def test_late_notice_and_english(tmp_path):
    path = write_feedback_zip(tmp_path / "fb.zip", PAIRS, "en")
    files = entries(path.read_bytes())
    late = files["Lucía Fernández-Gómez_4518224_assignsubmission_file/feedback_mnist_cnn.html"].decode()
    assert "Late submission: 5 min late (submitted 2026-04-01 00:04)." in late
    on_time = files["José Núñez_4518203_assignsubmission_file/feedback_mnist_cnn.html"].decode()
    assert "Late" not in on_time and "Grade: 10 / 10" in on_time
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fb.zip"]  # written atomically
