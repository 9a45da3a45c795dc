"""The class report's data, CSV, HTML and terminal summary, on generated classes (no grading:
the rows `grader grade` writes). The browser tests are in test_report_browser.py."""
from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from rich.console import Console

from class_gen import HOSTILE, make_class
from grader.model import CheckResult, Result, Submission
from grader.report.assignment_report import write_assignment_report
from grader.report.class_report import clean_text, summarize
from grader.export.worksheet_io import csv_text
from grader.report.grades_by_check import render
from grader.report.review import MissingStudent, review_items
from grader.report.terminal import summary_table

WORKSHEET_HEAD = ('\ufeffIdentifier,"Full name","Email address",Status,Grade,"Maximum grade",'
                  '"Grade can be changed","Last modified (submission)","Last modified (grade)",'
                  '"Feedback comments"\n')


def worksheet(pairs, extra=()) -> str:
    rows = [(s.participant_id, s.full_name, "Submitted for grading") for s, _ in pairs] + list(extra)
    lines = [f'"Participant {pid}","{name.replace(chr(34), chr(34) * 2)}",,"{status}",,10.00,Yes,-,-,'
             for pid, name, status in rows]
    return WORKSHEET_HEAD + "\n".join(lines) + "\n"


def result(pid, score_parts, status="graded", flags=(), **kw) -> Result:
    checks = [CheckResult(cid, pts, mx, pts >= mx, "m") for cid, pts, mx in score_parts]
    return Result("mnist_cnn", pid, f"Student {pid}", status, 10.0, checks=checks,
                  flags=list(flags), **kw)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.scripts, self.imgs = [], 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.imgs.append(a.get("src", ""))


def test_statistics_per_class_and_check():
    results = [result("1", [("a", 2, 2), ("b", 8, 8)]),  # 10
               result("2", [("a", 1, 2), ("b", 3, 8)]),  # 4
               result("3", [("a", 0, 2), ("b", 0, 8)], status="invalid")]  # 0
    s = summarize(results)
    assert (s.grades.n, s.grades.mean, s.grades.median, s.grades.passed) == (3, 4.67, 4, 1)
    assert s.grades.statuses == {"graded": 2, "invalid": 1}
    a, b = s.checks
    assert (a.id, a.passed, a.n, a.mean_points) == ("a", 1, 3, 1.0)
    assert b.pass_rate == pytest.approx(1 / 3) and b.mean_points == pytest.approx(3.67)


def test_metric_series_use_the_rubric_thresholds():
    rub, pairs = make_class("imagenet_cnn", 30, seed=3)
    s = summarize([r for _, r in pairs], rub)
    series = {c.id: c.metric for c in s.checks if c.metric}
    assert set(series) == {"top1", "top5"}
    assert series["top1"].name == "top1_accuracy" and series["top1"].threshold == 0.9
    assert series["top5"].partial_from == 0.7
    measured = sum(1 for _, r in pairs if "top1_accuracy" in r.metrics)
    assert len(series["top1"].values) == measured and series["top1"].missing == 30 - measured
    rub, pairs = make_class("rnn_text", 10)
    s = summarize([r for _, r in pairs], rub)
    loss = next(c.metric for c in s.checks if c.id == "loss")
    assert loss.name == "text_loss_ratio" and not loss.higher_is_better and s.metric_name == "text_loss_ratio"


def test_review_list_has_every_kind_with_one_line_reasons():
    results = [
        result("1", [("a", 0, 2)], status="error", message="el kernel murió\nline two"),
        result("2", [("a", 0, 2)], status="timeout", message="tardó demasiado"),
        result("3", [("a", 0, 2)], status="invalid", message="JSON cortado"),
        result("4", [("a", 2, 2)], flags=["claimed_accuracy_mismatch"],
               metrics={"claimed_accuracy": 0.99, "reproduced_public_accuracy": 0.61}),
        result("5", [("a", 2, 2)], flags=["edited_locked_cells", "similar_to:6"]),
        result("6", [("a", 2, 2)], flags=["similar_to:5", "late", "no_claimed_accuracy"], late=True,
               hours_late=26.5, submitted_at="2026-04-02T02:29:00+02:00"),
        result("7", [("a", 2, 2)], flags=["some_new_flag"]),
    ]
    missing = [MissingStudent("8", "Marta Gil", "No submission", False),
               MissingStudent("9", "Pepe Ruiz", "Submitted for grading", True)]
    items = review_items(results, missing, similarity_link="similarity.html")
    got = [(i.participant_id, i.category) for i in items]
    assert got == [("1", "error"), ("2", "timeout"), ("3", "invalid"), ("4", "claimed"),
                   ("5", "locked"), ("5", "similar"), ("6", "similar"), ("7", "flag"),
                   ("6", "late"), ("8", "missing"), ("9", "missing")]
    reasons = {(i.participant_id, i.category): i for i in items}
    assert all("\n" not in i.reason for i in items)
    assert "0.99" in reasons["4", "claimed"].reason and "0.61" in reasons["4", "claimed"].reason
    assert reasons["5", "similar"].reason == "code similar to Student 6 (6)"
    assert reasons["5", "similar"].link == "similarity.html"
    assert reasons["6", "late"].reason == "submitted 2026-04-02 02:29, 1 d 2 h late"
    assert "download it again" in reasons["9", "missing"].reason
    assert "no_claimed_accuracy" not in " ".join(i.reason for i in items)


def test_clean_text_removes_terminal_escapes_and_control_characters():
    assert clean_text("a\x1b[31mred\x1b[0m\x07b\nc\u202eevil") == "ared b c evil"
    assert clean_text("x" * 50, 10) == "x" * 9 + "…"


def test_csv_opens_in_a_spanish_spreadsheet_and_neutralises_formulas():
    rub, pairs = make_class("mnist_cnn", 12, hostile=True)
    text = render(summarize([r for _, r in pairs], rub))
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    head, body = rows[0], rows[1:]
    assert head[:4] == ["Participant id", "Full name", "Status", "Grade"]
    assert "accuracy (/5)" in head and "locked_cells (flag)" in head and "measured accuracy" in head
    assert len(body) == 12 and all(len(r) == len(head) for r in body)
    for row, (_, res) in zip(body, pairs):
        assert row[3] == f"{res.score:.2f}".rstrip("0").rstrip(".").replace(".", ",")
        assert "." not in row[3]
        assert not row[1].startswith(("=", "+", "-", "@"))  # shown as text, never a formula
    names = [r[1] for r in body]
    assert "'=HYPERLINK(\"http://x\")" in names and "'+34 600 000 000" in names
    assert "'@SUM(A1)" in names and "'-1+2" in names and "<script>alert(1)</script>" in names
    assert csv_text("María") == "María" and csv_text("-") == "'-"


def _write(tmp_path, assignment="mnist_cnn", n=12, hostile=True, executed=True, extra=()):
    rub, pairs = make_class(assignment, n, hostile=hostile)
    out = tmp_path / assignment
    (out / "executed").mkdir(parents=True)
    for _, r in pairs:
        if executed and r.status not in ("invalid", "no_notebook"):
            (out / "executed" / f"{r.participant_id}.ipynb").write_text("{}")
    (out / "moodle_grading_worksheet.csv").write_text(worksheet(pairs, extra), encoding="utf-8")
    files = write_assignment_report(out, rub, pairs, lang="es")
    return rub, pairs, out, files


def test_html_report_links_resolve_and_student_text_is_escaped(tmp_path):
    rub, pairs, out, files = _write(tmp_path, extra=[("4699999", "Marta <i>Gil</i>", "No submission")])
    assert files["report"] == out / "index.html" and files["by_check"].exists()
    html = files["report"].read_text(encoding="utf-8")
    parser = Links()
    parser.feed(html)
    assert parser.scripts == 1  # ours; no student's
    # grades, pass rate per check, the accuracy check's metric
    assert len(parser.imgs) == 3 and all(s.startswith("data:image/svg+xml;base64,") for s in parser.imgs)
    local = [h for h in parser.hrefs if not h.startswith("#")]
    assert all(not re.match(r"[a-z]+:", h) for h in local)  # nothing off disk
    for h in local:
        assert (out / unquote(h)).is_file(), h
    feedback = [h for h in local if h.startswith("feedback/")]
    notebooks = [h for h in local if h.startswith("executed/")]
    assert len(feedback) == 12
    assert len(notebooks) == sum(r.status not in ("invalid", "no_notebook") for _, r in pairs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "[/bold]" in html and "Marta &lt;i&gt;Gil&lt;/i&gt;" in html and "\x1b" not in html
    page = (out / "feedback" / f"{pairs[0][1].participant_id}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Nota" in page
    for anchor in (h[1:] for h in parser.hrefs if h.startswith("#")):
        assert f'id="{anchor}"' in html


def test_review_section_lists_missing_students_from_the_worksheet(tmp_path):
    _, pairs, out, files = _write(tmp_path, n=6, hostile=False,
                                  extra=[("4699999", "Marta Gil", "No submission")])
    html = files["report"].read_text(encoding="utf-8")
    review = html.split('id="review-table"')[1].split("</table>")[0]
    assert "Marta Gil" in review and "No submission" in review
    assert "Similar code" in review and pairs[3][1].participant_id in review


def test_feedback_folder_is_replaced_not_mixed(tmp_path):
    rub, pairs, out, _ = _write(tmp_path, n=6)
    write_assignment_report(out, rub, pairs[:3], lang="es")
    assert sorted(p.stem for p in (out / "feedback").iterdir()) == sorted(r.participant_id for _, r in pairs[:3])
    assert not [p for p in out.iterdir() if p.name.startswith(".feedback")]


def test_terminal_summary_fits_120_columns_with_full_names_and_no_markup():
    rub, pairs = make_class("mnist_cnn", 12, hostile=True)
    long_name = "María del Carmen Fernández-Gómez de la Concepción"  # 49 characters
    pairs[11][1].full_name = long_name
    console = Console(width=120, record=True, color_system=None, force_terminal=False)
    console.print(summary_table([r for _, r in pairs], "MNIST [bold]", rub))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "Metric" in text and "accuracy" in text
    for name in ("<script>alert(1)</script>", "[/bold]", "MNIST [bold]", "O'Brien & <b>Sons</b>"):
        assert name in text
    for word in long_name.split():  # wrapped at most, never cut with an ellipsis
        assert word in text
    assert "…" not in text and "\x1b" not in text
    assert "[red]Rojo[/red]" in text  # shown, not interpreted


def test_plots_are_svg_and_reproducible():
    from grader.report import plots

    a = plots.grade_histogram([1, 5, 9.5, 10], 10)
    assert a == plots.grade_histogram([1, 5, 9.5, 10], 10)
    assert a.startswith("data:image/svg+xml;base64,")


def test_an_empty_class_and_blind_marking_still_give_a_report(tmp_path):
    from class_gen import rubric

    rub = rubric("rnn_text")
    files = write_assignment_report(tmp_path, rub, [], lang="en")
    html = files["report"].read_text(encoding="utf-8")
    assert "0 submissions" in html and "Nothing to review" in html
    blind = result("77", [("a", 0, 2)], status="error", message="x")
    blind.full_name = ""
    write_assignment_report(tmp_path, rub, [(Submission("rnn_text", "77", "", blind=True), blind)])
    html = files["report"].read_text(encoding="utf-8")
    assert html.count("Participant 77") >= 2  # in the review list and the table


def test_progress_shows_an_eta_and_student_names_as_plain_text():
    from grader.report.terminal import progress

    rub, pairs = make_class("mnist_cnn", 3, hostile=True)
    console = Console(width=120, record=True, color_system=None, force_terminal=True)
    with progress(console, 3, "mnist [bold]") as advance:
        for _, r in pairs:
            advance(r)
    text = console.export_text()
    assert re.search(r"ETA\s+(\d+:\d\d:\d\d|-:--:--)", text), text  # from the measured notebook times
    assert "3/3" in text and "mnist [bold]" in text
    assert "[red]Rojo[/red] ANSI: " in text  # markup and escapes of the name neither run nor leak


def test_report_rebuilt_from_results_jsonl_links_the_similarity_report(tmp_path):
    from grader.export.results_jsonl import write_results
    from grader.report.assignment_report import write_report_from_results

    rub, pairs, out, files = _write(tmp_path, n=6, hostile=False)
    before = files["report"].read_text(encoding="utf-8")
    assert 'href="similarity.html"' not in before
    write_results(out / "results.jsonl", [r for _, r in pairs])
    (out / "similarity.html").write_text("<html></html>")
    write_report_from_results(out, rub, lang="es")
    after = files["report"].read_text(encoding="utf-8")
    assert after.count('href="similarity.html"') == 3  # two review lines and the file list
    assert sorted(p.stem for p in (out / "feedback").iterdir()) == sorted(r.participant_id for _, r in pairs)
