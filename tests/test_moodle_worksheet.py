"""Reading the worksheet downloaded from Moodle (English and Spanish sites, Excel re-saves) and
writing it back filled: Moodle's import rules (test_moodle_rules.py) accept it row by row, and
bad files are refused naming the row, without writing anything."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.export.moodle_dates import format_moodle_date, parse_moodle_date
from grader.export.worksheet_io import WorksheetError, check_against, fill, read_worksheet, write_filled
from grader.model import Submission
from test_moodle_rules import Assignment, Participant, import_worksheet

ROOT = Path(__file__).resolve().parent.parent
MADRID = ZoneInfo("Europe/Madrid")

# As Moodle 4.x downloads them: BOM, comma, PHP fputcsv quoting (cells with spaces quoted).
EN = ('\ufeffIdentifier,"Full name","Email address",Status,Grade,"Maximum grade",'
      '"Grade can be changed","Last modified (submission)","Last modified (grade)","Feedback comments"\n'
      '"Participant 4518203","José Núñez",jose.nunez@alumnos.example.es,"Submitted for grading",,'
      '10.00,Yes,"Monday, 30 March 2026, 10:41 PM",-,\n'
      '"Participant 4518239","Pérez, Álvaro",alvaro.perez@alumnos.example.es,"Submitted for grading '
      '- 5 mins late",,10.00,Yes,"Wednesday, 1 April 2026, 12:04 AM",-,\n'
      '"Participant 4518269","Marta Gil",marta.gil@alumnos.example.es,"No submission",,10.00,Yes,-,-,\n')
ES = ('\ufeffIdentificador,"Nombre completo","Dirección de correo",Estado,Calificación,'
      '"Calificación máxima","La calificación puede ser cambiada","Última modificación (entrega)",'
      '"Última modificación (calificación)","Comentarios de retroalimentación"\n'
      'Participante6340215,"José Núñez",jose.nunez@alumnos.example.es,"Enviado para calificar",,'
      '"10,00",Sí,"lunes, 30 de marzo de 2026, 09:05",-,\n'
      'Participante6340226,"Lucía Fernández-Gómez",lucia.fernandez@alumnos.example.es,'
      '"Enviado para calificar - Calificado","6,50","10,00",Sí,"sábado, 28 de marzo de 2026, 17:30",'
      '"domingo, 29 de marzo de 2026, 10:00",<p>antes</p>\n'
      'Participante6340252,"María O\'Connor",maria.oconnor@alumnos.example.es,"Sin entrega",,"10,00",'
      'Sí,-,-,\n')
# The Spanish one after Excel (Spanish locale) opened and saved it: semicolons, CRLF, no BOM,
# quotes only where needed, Windows-1252.
ES_EXCEL = "\r\n".join(";".join(row) for row in csv.reader(io.StringIO(ES.removeprefix("\ufeff")))) + "\r\n"


def write(tmp_path, text, name="ws.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def participants(ws):
    return {int(r.participant_id): Participant(int(r.participant_id)) for r in ws.rows}


# --------------------------------------------------------------------------- reading


def test_english_site_worksheet(tmp_path):
    ws = read_worksheet(write(tmp_path, EN), MADRID)
    assert (ws.lang, ws.delimiter, ws.decimal, ws.bom, ws.max_grade) == ("en", ",", ".", True, 10)
    assert [r.participant_id for r in ws.rows] == ["4518203", "4518239", "4518269"]
    assert ws.rows[1].full_name == "Pérez, Álvaro" and ws.rows[1].email == "alvaro.perez@alumnos.example.es"
    assert ws.rows[0].submitted_at == datetime(2026, 3, 30, 22, 41, tzinfo=MADRID)
    assert ws.rows[1].submitted_at == datetime(2026, 4, 1, 0, 4, tzinfo=MADRID)
    assert [r.has_submission for r in ws.rows] == [True, True, False]
    assert ws.rows[2].submitted_at is None and not ws.warnings


def test_spanish_site_worksheet(tmp_path):
    ws = read_worksheet(write(tmp_path, ES), MADRID)
    assert (ws.lang, ws.decimal, ws.max_grade) == ("es", ",", 10)
    assert ws.rows[0].submitted_at == datetime(2026, 3, 30, 9, 5, tzinfo=MADRID)
    assert [r.has_submission for r in ws.rows] == [True, True, False]
    assert not ws.warnings


def test_excel_resave_semicolons_crlf_windows_1252(tmp_path):
    ws = read_worksheet(write(tmp_path, ES_EXCEL, encoding="cp1252"), MADRID)
    assert (ws.lang, ws.delimiter, ws.decimal, ws.newline, ws.bom) == ("es", ";", ",", "\r\n", False)
    assert any("Windows-1252" in w for w in ws.warnings)
    out = fill(ws, {"6340215": (7.5, "<p>bien</p>")})
    assert out.startswith("\ufeff") and out.count("\r\n") == 4  # written back as UTF-8
    assert "Participante6340215;José Núñez;" in out.replace('"', "")
    results = import_worksheet(out.encode("utf-8"), Assignment("es", 10, participants(ws)),
                               separator="semicolon")
    assert results[0].grade_updated and results[0].grade == 7.5


@pytest.mark.parametrize("name", ["mnist_cnn.worksheet.csv"])
def test_an_untouched_download_is_written_back_byte_for_byte(tmp_path, name):
    for text in (EN, ES):
        p = write(tmp_path, text)
        assert fill(read_worksheet(p), {}).encode("utf-8") == p.read_bytes()
    demo = ROOT / "submissions" / "demo" / name
    assert fill(read_worksheet(demo), {}).encode("utf-8") == demo.read_bytes()


# --------------------------------------------------------------------------- writing back


@pytest.mark.parametrize("text,lang", [(EN, "en"), (ES, "es")])
def test_moodle_accepts_the_filled_worksheet_row_by_row(tmp_path, text, lang):
    ws = read_worksheet(write(tmp_path, text), MADRID)
    graded = {r.participant_id: (6.28 + i, f"<p>Nota {i}, “ok” &amp; <code>x</code></p>")
              for i, r in enumerate(ws.rows) if r.has_submission}
    out = write_filled(ws, tmp_path / "filled.csv", graded)
    moodle = import_worksheet(out.read_bytes(), Assignment(lang, 10, participants(ws)))
    assert [o.uniqueid for o in moodle] == [int(r.participant_id) for r in ws.rows]  # every row found
    for o in moodle:
        pid = str(o.uniqueid)
        if pid in graded:
            assert o.grade_updated and o.grade == pytest.approx(graded[pid][0]), o
            assert o.feedback == graded[pid][1]
        else:  # no submission: the grade cell stays empty, the feedback as it was
            assert not o.grade_updated and o.reason == "no grade" and o.feedback is None
    # every other cell is as downloaded
    before, after = read_worksheet(write(tmp_path, text)), read_worksheet(out)
    changed = ("grade", "feedback") + (("graded",) if lang == "es" else ())  # es: see below
    keep = [i for i, h in enumerate(before.headers) if h not in [before.headers[before.col[k]] for k in changed]]
    assert after.headers == before.headers
    for b, a in zip(before.rows, after.rows):
        assert [b.cells[i] for i in keep] == [a.cells[i] for i in keep]
    if lang == "es":  # Last modified (grade): the same instant, in a form Moodle's strtotime reads
        col = before.col["graded"]
        assert [a.cells[col] for a in after.rows] == ["-", "2026-03-29T10:00:00+02:00", "-"]
    sep = "," if lang == "es" else "."
    assert f"6{sep}28" in out.read_text(encoding="utf-8-sig")


def test_moodle_skips_a_row_regraded_in_moodle_after_the_download(tmp_path):
    """Last modified (grade) is kept as downloaded: a grade changed in Moodle since then is not
    overwritten behind the instructor's back."""
    ws = read_worksheet(write(tmp_path, EN))
    out = fill(ws, {"4518203": (9.0, "<p>x</p>")})
    people = participants(ws)
    people[4518203] = Participant(4518203, grade=5, grade_modified=datetime(2026, 4, 5).timestamp())
    o = import_worksheet(out.encode(), Assignment("en", 10, people))[0]
    assert not o.grade_updated and o.reason.startswith("modified in Moodle")


def test_spanish_site_regrading_a_row_moodle_already_graded(tmp_path):
    """Moodle reads Last modified (grade) with strtotime, which returns false for Spanish dates:
    as downloaded, every row with a grade record would be skipped as "modified since". Written
    as ISO 8601 with its offset, the unchanged row is updated and a row regraded in Moodle after
    the download is still skipped."""
    ws = read_worksheet(write(tmp_path, ES), MADRID)
    download = datetime(2026, 3, 29, 10, 0, 30, tzinfo=MADRID).timestamp()  # Moodle keeps seconds
    people = participants(ws)
    people[6340226] = Participant(6340226, grade=6.5, grade_modified=download)
    as_downloaded = ES.replace("Calificado\",\"6,50\"", "Calificado\",\"8,00\"").encode("utf-8")
    o = {x.uniqueid: x for x in import_worksheet(as_downloaded, Assignment("es", 10, people))}
    assert not o[6340226].grade_updated and o[6340226].reason.startswith("modified")  # the trap
    out = fill(ws, {"6340226": (8.0, "<p>x</p>")})
    o = {x.uniqueid: x for x in import_worksheet(out.encode("utf-8"), Assignment("es", 10, people))}
    assert o[6340226].grade_updated and o[6340226].grade == 8.0
    people[6340226] = Participant(6340226, grade=5, grade_modified=datetime(2026, 4, 5, tzinfo=MADRID).timestamp())
    o = {x.uniqueid: x for x in import_worksheet(out.encode("utf-8"), Assignment("es", 10, people))}
    assert not o[6340226].grade_updated and o[6340226].reason.startswith("modified")
    # without the course's time zone the instant is unknown: the date stays, with a warning
    ws = read_worksheet(write(tmp_path, ES))
    assert ws.graded_iso == {} and any("line 3" in w and "Ignore modified" in w for w in ws.warnings)
    assert "domingo, 29 de marzo de 2026, 10:00" in fill(ws, {"6340226": (8.0, "<p>x</p>")})


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("mangle,needle", [
    (lambda t: t.replace("Participant 4518239", "Participant 4518203"), "line 3: participant 4518203 appears twice (also line 2)"),
    (lambda t: t.replace('"Participant 4518239"', '"Student X"'), "line 3: identifier 'Student X'"),
    (lambda t: t.replace('"Pérez, Álvaro"', "Pérez, Álvaro"), "line 3: 11 cells, but the header has 10"),
    (lambda t: t.replace("10.00,Yes,-,-", "20.00,Yes,-,-"), "line 4 (Participant 4518269): maximum grade 20.00 differs"),
    (lambda t: t.replace('"Last modified (grade)",', ""), "needs the column(s) 'Last modified (grade)'"),
    (lambda t: t.replace("Identifier", "Id"), "not a Moodle grading worksheet"),
    (lambda t: t.replace("Grade,", "Status,", 1), "column 'Status' appears twice"),
    (lambda t: "\ufeff", "the worksheet is empty"),
])
def test_bad_worksheets_are_refused_naming_the_row(tmp_path, mangle, needle):
    with pytest.raises(WorksheetError) as e:
        read_worksheet(write(tmp_path, mangle(EN)))
    assert needle in str(e.value)


def test_spanish_site_with_an_english_grade_column_is_refused(tmp_path):
    with pytest.raises(WorksheetError, match="'Calificación'"):
        read_worksheet(write(tmp_path, ES.replace("Calificación,", "Grade,", 1)))


def test_excel_mangled_dates_are_warnings_naming_the_row(tmp_path):
    text = EN.replace('"Monday, 30 March 2026, 10:41 PM"', "30/03/2026 22:41").replace(
        '"Wednesday, 1 April 2026, 12:04 AM",-', '"Wednesday, 1 April 2026, 12:04 AM",46113.5')
    ws = read_worksheet(write(tmp_path, text))
    assert ws.rows[0].submitted_at is None  # the zip's time will be used
    [w1, w2] = ws.warnings
    assert "line 2 (Participant 4518203): Last modified (submission) '30/03/2026 22:41'" in w1
    assert "zip's timestamp is used instead" in w1
    assert "line 3 (Participant 4518239): Last modified (grade) '46113.5'" in w2


def test_a_wrong_weekday_is_not_taken_for_a_date():
    with pytest.raises(ValueError, match="weekday"):
        parse_moodle_date("Tuesday, 30 March 2026, 10:41 PM", "en")


def test_grades_over_the_maximum(tmp_path):
    ws = read_worksheet(write(tmp_path, EN.replace("Submitted for grading\",,10.00", "Submitted for grading\",12.00,10.00", 1)))
    assert "line 2 (Participant 4518203): grade 12.00 is over the maximum 10" in ws.warnings[0]
    target = tmp_path / "filled.csv"
    target.write_text("previous upload\n")
    with pytest.raises(WorksheetError, match="line 2 .*grade 10.5 is over the maximum 10"):
        write_filled(ws, target, {"4518203": (10.5, "")})
    assert target.read_text() == "previous upload\n"  # never a partial file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["filled.csv", "ws.csv"]
    with pytest.raises(WorksheetError, match="no row for participant"):
        fill(ws, {"999": (1.0, "")})


def sub(pid, name, blind=False):
    return Submission("mnist_cnn", pid, name, blind=blind)


def test_worksheet_from_another_assignment(tmp_path):
    ws = read_worksheet(write(tmp_path, EN))
    with pytest.raises(WorksheetError, match="maximum grade 10, but the rubric's is 100"):
        check_against(ws, [sub("4518203", "José Núñez")], 100)
    with pytest.raises(WorksheetError, match="none of the 2 participants"):
        check_against(ws, [sub("5230114", "José Núñez"), sub("5230127", "María O'Connor")], 10)
    with pytest.raises(WorksheetError, match="2 of 2 names differ"):
        check_against(ws, [sub("4518203", "Ana"), sub("4518239", "Eva")], 10)


def test_single_mismatches_are_warnings(tmp_path):
    ws = read_worksheet(write(tmp_path, EN))
    warns = check_against(ws, [sub("4518203", "jose  NUNEZ"), sub("4518239", "Pérez, Álvaro"),
                               sub("4518269", "Participant 4518269", blind=True), sub("7", "Eva")], 10)
    assert any("participant 7 (Eva) is in the download but not in ws.csv" in w for w in warns)
    assert not any("4518203" in w for w in warns)  # accents, case and spacing are not a mismatch
    ws2 = read_worksheet(write(tmp_path, EN, "b.csv"))
    warns = check_against(ws2, [sub("4518203", "José Núñez")], 10)
    assert any("line 3 (Participant 4518239): status 'Submitted for grading - 5 mins late', but "
               "nothing of theirs is in the download" in w for w in warns)


# --------------------------------------------------------------------------- dates


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
       st.sampled_from(["en", "es"]))
def test_moodle_dates_round_trip(dt, lang):
    dt = dt.replace(second=0, microsecond=0)
    assert parse_moodle_date(format_moodle_date(dt, lang), lang) == dt


def test_moodle_date_formats():
    assert format_moodle_date(datetime(2026, 3, 6, 21, 5), "en") == "Friday, 6 March 2026, 9:05 PM"
    assert format_moodle_date(datetime(2026, 3, 31, 0, 59), "en") == "Tuesday, 31 March 2026, 12:59 AM"
    assert format_moodle_date(datetime(2026, 3, 7, 9, 5), "es") == "sábado, 7 de marzo de 2026, 09:05"


@pytest.mark.parametrize("text,lang", [(EN, "en"), (ES, "es")])
def test_feedback_quoting_windows_paths_survives_moodles_csv_escape(tmp_path, text, lang):
    """PHP's fgetcsv (Moodle's reader) takes a backslash inside quotes as an escape, so a
    `\\"` pair would not read back as written. The feedback is HTML: quotes are escaped there,
    and a message quoting a Windows path ending in a backslash reaches Moodle intact."""
    from grader.export.feedback import feedback_html
    from grader.model import CheckResult, Result

    ws = read_worksheet(write(tmp_path, text), MADRID)
    msg = 'No existe "C:\\datos\\" ni \'D:\\x\\\'; ruta \\\\servidor\\'
    graded = {}
    for r in ws.rows:
        if r.has_submission:
            res = Result("mnist_cnn", r.participant_id, "x", "error", 10.0, message=msg,
                         checks=[CheckResult("executed", 0.0, 1.0, False, msg)])
            graded[r.participant_id] = (0.0 + 1, feedback_html(res, lang))
    html = next(iter(graded.values()))[1]
    assert '\\"' not in html and "C:\\datos\\" in html
    out = write_filled(ws, tmp_path / "filled.csv", graded)
    moodle = {str(o.uniqueid): o for o in import_worksheet(out.read_bytes(), Assignment(lang, 10, participants(ws)))}
    for pid, (_, feedback) in graded.items():
        assert moodle[pid].feedback == feedback


@pytest.mark.parametrize("content", [b"PK\x03\x04" + bytes(range(256)) * 8,  # an .xlsx (a zip)
                                     b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,  # an .xls
                                     b"\xef\xbb\xbfIdentifier,Grade\n\x9d\xff\xfe\n",  # a BOM, then junk
                                     bytes(range(1, 256)) * 4],  # no NUL, and not Windows-1252 text
                         ids=["xlsx", "xls", "bom-junk", "undecodable"])
def test_a_binary_or_undecodable_worksheet_is_one_clear_line(tmp_path, content):
    import subprocess
    import sys

    ws = tmp_path / "worksheet.csv"
    ws.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "mnist_cnn",
                           str(ROOT / "submissions" / "demo" / "mnist_cnn.zip"), "--worksheet", str(ws),
                           "--out", str(tmp_path / "out"), "--dry-run"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "worksheet.csv" in lines[0], proc.stderr
