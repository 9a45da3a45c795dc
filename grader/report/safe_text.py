"""Student-derived text made safe for flags, messages and the instructor's terminal.

Anything a student controls (a module name in an exception, a folder name, an `evalue`) can
carry terminal escape sequences: OSC 0 retitles the window, OSC 52 writes the clipboard, CSI
moves the cursor and erases lines. rich strips only a few control characters (BEL, BS, VT, FF,
CR) and reads `[...]` as markup (`[/]` even raises MarkupError). So:

- `clean(text)` at ingestion (where sandbox output becomes flags and messages): removes C0/C1
  control characters (ESC included, so no sequence survives), DEL and Unicode bidi/format
  controls that reorder what is displayed; keeps newlines and tabs only when asked.
- `clean_tree(obj)`: the same for every string in decoded JSON (keys included).
- `clean_text(text, limit)`: one line (whitespace collapsed), cut with an ellipsis: for plain
  text sinks (the dry run's stdout, messages, titles) and what HTML/CSV sinks escape after it.
- `term(text, limit)`: at every rich markup sink: `clean_text` + `rich.markup.escape`.

The other sinks have one helper each too:
- HTML: `html_env`, jinja2 with autoescape, every `{{ value }}` also cleaned of control
  characters (a bidi override can't reorder a page either);
- CSV: export/worksheet_io.py `csv_text` (control characters out, formula neutralised) for the
  cells a student writes, written by `render_csv`;
- logs and JSON files (results.jsonl, run.json, final.json): `json_text`, the exact text with
  every control/bidi character as a \\u escape (json.dumps leaves C1 and bidi raw).
"""
from __future__ import annotations

import json
import re

# C0 controls but \t \n, DEL, C1 controls; bidi embeddings/overrides/isolates, zero-width and
# other format characters that change what a line looks like
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# what JSON may carry raw but a terminal or an editor would act on (C0 json.dumps escapes itself)
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")
_LINE_BREAKS = re.compile(r"[\t\n]+")
# whole CSI and OSC sequences go, not just their ESC (no "[31m" left behind)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def clean(text, multiline: bool = False, limit: int | None = None, replacement: str = "") -> str:
    """`text` (any object, str() of it) without control characters (each replaced by
    `replacement`); one line unless `multiline` (then newlines and tabs stay); at most `limit`
    characters."""
    s = _CONTROL.sub(replacement, _ANSI.sub("", text if isinstance(text, str) else str(text)))
    if not multiline:
        s = _LINE_BREAKS.sub(" ", s)
    return s[:limit] if limit is not None else s


def clean_tree(obj, depth: int = 0):
    """Every string in a JSON-like value cleaned (multi-line kept: tracebacks, details)."""
    if depth > 50:
        return None
    if isinstance(obj, str):
        return clean(obj, multiline=True)
    if isinstance(obj, dict):
        return {clean(k) if isinstance(k, str) else k: clean_tree(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean_tree(v, depth + 1) for v in obj]
    return obj


def clean_text(text, limit: int | None = None) -> str:
    """One line of untrusted text: `clean` (each control character a space), whitespace
    collapsed, cut to `limit` characters with an ellipsis. Escaping for HTML/terminal markup
    still happens at the sink."""
    text = " ".join(clean(text, replacement=" ").split())
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def term(text, limit: int | None = None) -> str:
    """For a rich markup string: one clean line, markup escaped (`[` can't open a tag)."""
    from rich.markup import escape

    return escape(clean_text(text, limit))


def html_env(folder, **options):
    """The jinja2 environment of every HTML page: autoescape always on, so student text in a
    template is escaped unless a filter marks it Markup on purpose; and every value printed
    cleaned of control characters (`clean`, lines kept)."""
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                              finalize=_visible, **options)


def _visible(value):
    from markupsafe import Markup

    if isinstance(value, Markup):  # already escaped: only the control characters go
        return Markup(clean(str(value), multiline=True))
    return clean(value, multiline=True) if isinstance(value, str) else value


def json_text(obj, **options) -> str:
    """json.dumps for files people read (non-ASCII kept): the same data when loaded, but no raw
    control or bidi character in the file."""
    text = json.dumps(obj, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
