"""The zip for Moodle's "Upload multiple feedback files in a zip": one folder per student, named
as Moodle's own download names it, holding that student's feedback page.

Moodle's importer (assignfeedback_file importziplib.php) splits each path part at `_` (at most
5 pieces): piece 1 must be the participant id, pieces 2-3 a plugin (`assignsubmission`,
`file`); piece 0, the name, is not checked. Moodle >= 4.1 writes `<Full name>_<id>_assign
submission_file/` (no trailing `_`), with `_` in names turned into spaces; that is what we write.
A file whose name matches one the student submitted is imported only if its content differs,
so the page gets a name of its own. Files starting with `.` or `~` would be skipped.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from ..messages import tr
from ..model import Result, Submission
from ..report.safe_text import clean_text
from .atomic import write_atomic
from .feedback import feedback_html, template

CATALOG = {
    "file": {"es": "correccion_{assignment}.html", "en": "feedback_{assignment}.html"},
    "title": {"es": "Corrección de la práctica «{assignment}»: {name}", "en": "Feedback on the assignment '{assignment}': {name}"},
    "participant": {"es": "Participante", "en": "Participant"},
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')  # what Moodle's clean_filename drops


def folder_name(sub: Submission, lang: str) -> str:
    """`<Full name>_<participant id>_assignsubmission_file`, as Moodle >= 4.1 downloads it."""
    name = tr(CATALOG, "participant", lang) if sub.blind or not sub.full_name else sub.full_name
    name = " ".join(_UNSAFE.sub("", clean_text(name.replace("_", " "))).split()) or tr(CATALOG, "participant", lang)
    return f"{name}_{sub.participant_id}_assignsubmission_file"


def feedback_page(sub: Submission, res: Result, lang: str, title: str = "") -> str:
    """The zip's page (templates/feedback_page.html.j2, autoescaped) around feedback_html."""
    from markupsafe import Markup

    heading = tr(CATALOG, "title", lang, assignment=title or res.assignment,
                 name=sub.display_name)
    return template("feedback_page.html.j2").render(
        lang=lang, title=heading, body=Markup(feedback_html(res, lang)))  # already escaped


def render_feedback_zip(pairs: list[tuple[Submission, Result]], lang: str, title: str = "",
                        when: datetime | None = None) -> bytes:
    when = when or datetime.now()
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for sub, res in pairs:
            name = f"{folder_name(sub, lang)}/{tr(CATALOG, 'file', lang, assignment=res.assignment)}"
            info = zipfile.ZipInfo(name, date_time=stamp)  # non-ASCII names get the UTF-8 flag
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, feedback_page(sub, res, lang, title).encode("utf-8"))
    return buf.getvalue()


def write_feedback_zip(path: Path, pairs: list[tuple[Submission, Result]], lang: str,
                       title: str = "") -> Path:
    return write_atomic(path, render_feedback_zip(pairs, lang, title))
