"""The feedback a student reads in Moodle: grade, status, one line per check with its points.

HTML through jinja2 with autoescaping (student-controlled text such as exception messages
ends up in here). Tracebacks and sandbox logs never do: those are for the instructor only.
"""
from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

from ..messages import fmt_num, tr
from ..model import Result

CATALOG = {
    "grade": {"es": "Nota", "en": "Grade"},
    "notebook": {"es": "Cuaderno corregido", "en": "Graded notebook"},
    "late": {"es": "Entrega fuera de plazo: {late} de retraso (entregado el {when}).",
             "en": "Late submission: {late} late (submitted {when})."},
    "raw": {"es": "Nota sin la penalización por retraso: {raw}.",
            "en": "Grade before the late penalty: {raw}."},
}


@functools.lru_cache(maxsize=2)
def template(name: str):
    """feedback.html.j2 (the feedback itself) or feedback_page.html.j2 (the zip's page)."""
    from ..report.safe_text import html_env

    env = html_env(Path(__file__).parent / "templates", trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=True)
    env.filters["code"] = _code
    return env.get_template(name)


def _code(text: str):
    """Escape, then show `name` as <code>name</code> (messages mark code with backticks)."""
    from markupsafe import Markup, escape

    parts = str(escape(text)).split("`")
    if len(parts) % 2 == 0:  # unbalanced backticks: leave them as they are
        return Markup("`".join(parts))
    return Markup("".join(p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts)))


def feedback_html(res: Result, lang: str) -> str:
    return template("feedback.html.j2").render(
        t={k: tr(CATALOG, k, lang) for k in ("grade", "notebook")},
        score=fmt_num(res.score, lang), max_score=fmt_num(res.max_score, lang),
        message=res.message, checks=res.checks, fmt=lambda x: fmt_num(x, lang),
        notebook=res.notebook, sha=(res.sha256 or "")[:12], late=late_notice(res, lang),
    ).replace("\n", "").strip()  # one line: safer in CSV cells and spreadsheets


def late_notice(res: Result, lang: str) -> str:
    """'Late submission: 5 min late (submitted 2026-04-01 00:04).' or '' when on time."""
    if not res.late:
        return ""
    from ..policy import late_text

    when = res.submitted_at or ""
    try:
        dt = datetime.fromisoformat(when)
        when = dt.strftime("%d/%m/%Y %H:%M" if lang == "es" else "%Y-%m-%d %H:%M")
    except ValueError:
        pass
    text = tr(CATALOG, "late", lang, late=late_text(res.hours_late, lang), when=when)
    if res.late_penalty:
        text += " " + tr(CATALOG, "raw", lang, raw=fmt_num(res.raw_score, lang))
    return text
