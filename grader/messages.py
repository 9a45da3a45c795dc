"""Student-facing text in the course language (Spanish) with English on request.

Each module keeps its own small catalog next to the code that uses it
({key: {"es": ..., "en": ...}}); this module only picks and formats.
"""
from __future__ import annotations

LANGS = ("es", "en")
DEFAULT_LANG = "es"


def tr(catalog: dict[str, dict[str, str]], key: str, lang: str = DEFAULT_LANG, **kw: object) -> str:
    """Format message `key` from `catalog` in `lang` (falls back to Spanish)."""
    entry = catalog[key]
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**kw) if kw else text


def fmt_num(x: float, lang: str = DEFAULT_LANG, decimals: int = 2) -> str:
    """A number as students read it: decimal comma in Spanish, trailing zeros trimmed."""
    s = f"{x:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{x:.0f}"
    return s.replace(".", ",") if lang == "es" else s


def fmt_pct(x: float, lang: str = DEFAULT_LANG) -> str:
    """A fraction (0.974) as a percentage ("97,4 %")."""
    return f"{fmt_num(100 * x, lang, 1)} %"
