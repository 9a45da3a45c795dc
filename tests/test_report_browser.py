"""The class and course reports in a real headless Chromium (Debian's `chromium` and
`chromium-driver`, installed by scripts/setup.sh), driven by selenium: the page renders, the
plots load, every link opens a file, hostile names show as text and run nothing, the table
sorts, and one screenshot."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from class_gen import ROOT, make_class
from grader.report.assignment_report import write_assignment_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.skipif(  # one browser per run
    not (CHROMIUM and DRIVER),
    reason="no chromium/chromedriver on PATH: install Debian's chromium and chromium-driver "
           "(scripts/setup.sh does, as root with apt-get)")]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1300,1000", "--hide-scrollbars",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as e:  # a broken install is a reason to skip, said plainly
        pytest.skip(f"chromium did not start under chromedriver: {str(e).splitlines()[0]}")
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Three generated assignments (hostile names first) with their class reports, combined
    by `grader final`'s own code into the course report."""
    from grader.course import load_course
    from grader.final import combine, write_final
    from grader.report.course_report import write_course_report

    out = tmp_path_factory.mktemp("reports")
    for a in ("mnist_cnn", "imagenet_cnn", "rnn_text"):
        rub, pairs = make_class(a, 14, seed=len(a), hostile=True)
        (out / a / "executed").mkdir(parents=True)
        for _, r in pairs:
            if r.status not in ("invalid", "no_notebook"):
                (out / a / "executed" / f"{r.participant_id}.ipynb").write_text("{}")
        from grader.export.results_jsonl import write_results

        write_results(out / a / "results.jsonl", [r for _, r in pairs])
        write_assignment_report(out / a, rub, pairs, lang="es")
    course = load_course(ROOT / "rubrics" / "course.yaml")
    comb = combine(course, out)
    write_final(comb, out, course)
    write_course_report(comb, course, out)
    return out


def _local_links(drv) -> list[str]:
    return drv.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")


def _assert_links_resolve(drv, page: Path):
    hrefs = _local_links(drv)
    assert hrefs
    for href in hrefs:
        url = urlparse(href)
        assert url.scheme == "file", href  # nothing leaves the disk
        assert Path(unquote(url.path)).is_file(), href
        if url.fragment:
            assert drv.execute_script("return document.getElementById(arguments[0]) !== null",
                                      url.fragment), href


def _assert_images_loaded(drv, at_least: int):
    sizes = drv.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(sizes) >= at_least
    assert all(done and w > 100 and h > 50 for done, w, h in sizes), sizes


def _no_alert(drv):
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        drv.switch_to.alert.text  # noqa: B018


def test_class_report_renders_with_plots_links_and_hostile_names_as_text(browser, reports):
    page = reports / "mnist_cnn" / "index.html"
    browser.get(page.as_uri())
    assert "class report" in browser.title
    assert browser.find_element("css selector", "h1").text == "Clasificación de números (MNIST) con redes CNN"
    _assert_images_loaded(browser, 3)
    _assert_links_resolve(browser, page)
    _no_alert(browser)
    assert browser.execute_script("return document.scripts.length") == 1
    row = browser.find_element("id", "p4600000")
    assert row.find_element("css selector", "td.name").text == "<script>alert(1)</script>"
    assert browser.find_element("id", "p4600001").find_element("css selector", "td.name").text == "[/bold]"
    assert browser.find_element("id", "p4600009").find_element("css selector", "td.name").text == "O'Brien & <b>Sons</b>"
    review = browser.find_element("id", "review-table").text
    assert "Similar code" in review and "Late" in review
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors  # e.g. a CSP refusal of our own script


def test_student_table_sorts_by_a_clicked_column(browser, reports):
    browser.get((reports / "imagenet_cnn" / "index.html").as_uri())
    table = browser.find_element("id", "students-table")
    header = next(th for th in table.find_elements("css selector", "thead th") if th.text == "Grade")
    col = [th.text for th in table.find_elements("css selector", "thead th")].index("Grade")

    def grades():
        return [float(tr.find_elements("css selector", "td")[col].get_attribute("data-sort"))
                for tr in table.find_elements("css selector", "tbody tr")]

    before = grades()
    header.click()
    assert grades() == sorted(before) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert grades() == sorted(before, reverse=True)


def test_feedback_link_opens_the_students_page(browser, reports):
    browser.get((reports / "rnn_text" / "index.html").as_uri())
    browser.find_element("css selector", "#p4600000 a.feedback").click()
    assert browser.current_url.endswith("/feedback/4600000.html")
    assert "<script>alert(1)</script>" in browser.find_element("css selector", "h1").text
    _no_alert(browser)


def test_course_report_renders_and_links_to_each_assignment(browser, reports):
    page = reports / "index.html"
    browser.get(page.as_uri())
    assert "final grades" in browser.title
    _assert_images_loaded(browser, 1)
    _assert_links_resolve(browser, page)
    links = browser.find_elements("css selector", "a.assignment-report")
    assert len(links) == 3
    text = browser.find_element("id", "students-table").text
    assert "<script>alert(1)</script>" in text and "[/bold]" in text
    _no_alert(browser)


def test_screenshot_of_the_class_report(browser, reports, tmp_path):
    browser.get((reports / "mnist_cnn" / "index.html").as_uri())
    shot = tmp_path / "class_report.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == tuple(browser.execute_script("return [innerWidth, innerHeight]"))
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 20) or []
    assert len(colors) > 50  # text, bars and plots, not a blank page
    # the grade histogram's green bars are on screen
    assert any(g > 140 and r < 120 and b < 120 for _, (r, g, b) in colors)
