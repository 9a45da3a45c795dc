"""`make demo` leaves the reports a person opens: reports/<assignment>/index.html (with
grades_by_check.csv and the feedback pages beside it) for each demo assignment, written by
`grader grade`, and reports/index.html written by `grader final` (conftest's `demo_reports`
runs both commands as `make demo` does)."""
from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "submissions" / "demo"
ASSIGNMENTS = ("mnist_cnn", "imagenet_cnn", "rnn_text")
pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.xdist_group("demo")]


class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.hrefs, self.imgs = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))


def _files(folder: Path, page: Page) -> list[Path]:
    paths = [folder / unquote(h.split("#")[0]) for h in page.hrefs if not h.startswith("#")]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, missing
    return paths


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_assignment_has_its_class_report(demo_reports, assignment):
    folder = demo_reports / assignment
    results = [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]
    html = (folder / "index.html").read_text(encoding="utf-8")
    page = Page(html)
    assert len(page.imgs) >= 3 and all(s.startswith("data:image/svg+xml;base64,") for s in page.imgs)
    linked = _files(folder, page)
    for r in results:
        assert folder / "feedback" / f"{r['participant_id']}.html" in linked
        if (folder / "executed" / f"{r['participant_id']}.ipynb").exists():
            assert folder / "executed" / f"{r['participant_id']}.ipynb" in linked
        assert r["full_name"].replace("'", "&#39;") in html
    text = (folder / "grades_by_check.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["Participant id"] for r in rows] == [r["participant_id"] for r in results]
    assert [r["Grade"] for r in rows] == [f"{r['score']:.2f}".rstrip("0").rstrip(".").replace(".", ",")
                                          for r in results]


def test_mnist_review_list_names_who_to_look_at(demo_reports):
    html = (demo_reports / "mnist_cnn" / "index.html").read_text(encoding="utf-8")
    review = html.split('id="review-table"')[1].split("</table>")[0]
    assert "Iñaki Etxeberria" in review and "Invalid notebook" in review
    assert "Lucía Fernández-Gómez" in review and "5 min late" in review
    assert "Marta Gil" in review and "No submission" in review  # in the worksheet only
    assert "José Núñez" not in review


def test_course_report_links_every_assignment(demo_reports):
    html = (demo_reports / "index.html").read_text(encoding="utf-8")
    page = Page(html)
    linked = _files(demo_reports, page)
    for a in ASSIGNMENTS:
        assert demo_reports / a / "index.html" in linked
    assert demo_reports / "final_grades.csv" in linked
    incomplete = html.split('id="incomplete"')[1].split("<h2")[0]
    final = json.loads((demo_reports / "final.json").read_text())
    names = [s["full_name"] for s in final["students"] if "incomplete" in s["flags"]]
    assert names and all(n in incomplete for n in names)
