"""The Moodle worksheet round-trips through csv: quoting, UTF-8, Moodle's date and id formats."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from grader.export.worksheet import HEADERS, moodle_date, render_worksheet
from grader.model import CheckResult, Result, Submission


def pair(pid, name, points, status="graded"):
    sub = Submission(assignment="mnist_cnn", participant_id=pid, full_name=name,
                     submitted_at=datetime(2026, 3, 6, 21, 5))
    res = Result.from_submission(sub, status=status, max_score=10, checks=[
        CheckResult("softmax", points, 2, points == 2, 'softmax("x") devolvió <b>NaN</b>, "hola"\nlínea 2',
                    title="Función `softmax`"),
        CheckResult("accuracy", 8, 8, True, "ok")])
    return sub, res


def test_rows_survive_commas_quotes_newlines_and_html():
    pairs = [pair("11", "Núñez, José", 1), pair("12", "María O'Connor", 2), pair("13", 'Ana "la" Pérez', 0)]
    text = render_worksheet(pairs, "es")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == HEADERS
    assert [r["Full name"] for r in rows] == ["Núñez, José", "María O'Connor", 'Ana "la" Pérez']
    assert [r["Identifier"] for r in rows] == ["Participant 11", "Participant 12", "Participant 13"]
    assert [r["Grade"] for r in rows] == ["9.00", "10.00", "8.00"]
    fb = rows[0]["Feedback comments"]
    assert "&lt;b&gt;NaN&lt;/b&gt;" in fb  # student-influenced text is escaped
    assert "<code>softmax</code>" in fb and "Nota: 9 / 10" in fb
    assert "\n" not in fb


def test_english_feedback_on_request():
    text = render_worksheet([pair("11", "Ann", 2)], "en")
    assert "Grade: 10 / 10" in next(csv.DictReader(io.StringIO(text)))["Feedback comments"]


def test_moodle_date_format():
    assert moodle_date(datetime(2026, 3, 6, 21, 5)) == "Friday, 6 March 2026, 9:05 PM"
    assert moodle_date(datetime(2026, 3, 31, 0, 59)) == "Tuesday, 31 March 2026, 12:59 AM"
    assert moodle_date(None) == "-"


def test_fallback_worksheet_is_written_like_the_filled_one():
    """The fallback goes through worksheet_io.render_csv, Moodle's own (fputcsv) quoting: a cell
    with a space is quoted, as in a downloaded worksheet; a formula-like name is neutralised."""
    text = render_worksheet([pair("11", "=HYPERLINK(\"x\") Ann", 2)], "en")
    header, row = text.splitlines()[:2]
    assert header.startswith('Identifier,"Full name","Email address",Status,Grade,')
    assert row.startswith('"Participant 11","\'=HYPERLINK(""x"") Ann",,"Submitted for grading",10.00,')
    assert not text.startswith("\ufeff") and text.endswith("\n") and "\r" not in text
