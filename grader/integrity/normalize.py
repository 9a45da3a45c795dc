"""A notebook's code as a normalized token stream, for copy detection.

Python's own tokenizer: names a student chooses (variables, functions, parameters, imported
aliases) become `V`, numbers `N`, strings `S`; comments, docstrings, blank lines, layout and
outputs are gone. What a copier cannot rename without changing behaviour stays as written:
keywords, operators, builtins, attribute names (`.fit`, `.Conv2D`) and keyword-argument names
(`activation=`), so renamed variables and reformatted code still match, while two students who
merely use the same API are told apart by structure. IPython magics and shell escapes are
dropped; a cell that does not tokenize (a syntax error) is tokenized line by line instead, so
every notebook yields a stream. Each token keeps its cell and character span, so matches can be
shown in the code as the student wrote it.
"""
from __future__ import annotations

import builtins
import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field

CELL = "<cell>"  # between cells; a token like any other
_BUILTINS = frozenset(dir(builtins)) - {"_"}
_KEYWORDS = frozenset(keyword.kwlist)
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_BODY_MAGICS = {"time", "timeit", "capture", "prun", "debug"}  # %%magic whose body is Python
_MAGIC_LINE = re.compile(r"^\s*([%!?]|\w[\w.]*\s*\?{1,2}\s*$|[\w\s,]+=\s*[%!])")
_OPEN, _CLOSE = {"(", "[", "{"}, {")", "]", "}"}
_FALLBACK = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\S")


@dataclass
class Token:
    text: str  # the normalized form ("V", "N", "S", "def", "(", "fit", ...)
    cell: int  # index of the cell among the notebook's cells (-1: the separator)
    start: int  # character span in that cell's source
    end: int


@dataclass
class Stream:
    """One notebook's normalized tokens, with the sources they point into."""

    tokens: list[Token] = field(default_factory=list)
    sources: dict[int, str] = field(default_factory=dict)  # cell index -> source as handed in
    fallback_cells: list[int] = field(default_factory=list)  # cells that did not tokenize


def code_cells(nb) -> list[tuple[int, str]]:
    """(index, source) of every code cell; outputs and markdown play no part."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append((i, "".join(src) if isinstance(src, list) else str(src)))
    return out


def notebook_stream(nb) -> Stream:
    stream = Stream()
    for index, source in code_cells(nb):
        tokens, ok = cell_tokens(source, index)
        if not tokens:
            continue
        stream.sources[index] = source
        if not ok:
            stream.fallback_cells.append(index)
        stream.tokens.append(Token(CELL, -1, 0, 0))
        stream.tokens.extend(tokens)
    return stream


def strip_magics(source: str) -> str:
    """The cell with IPython-only lines blanked (kept as empty lines, so positions still hold);
    a cell magic whose body is not Python (%%bash, %%writefile, ...) blanks the whole cell."""
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if name not in _BODY_MAGICS:
            return "\n" * (len(lines) - 1)
        lines[0] = ""
    return "\n".join("" if _MAGIC_LINE.match(line) else line for line in lines)


def cell_tokens(source: str, cell: int) -> tuple[list[Token], bool]:
    """(tokens, whether Python's tokenizer read the whole cell)."""
    code = strip_magics(source)
    starts = [0]
    for line in source.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    try:
        raw = list(tokenize.generate_tokens(io.StringIO(code).readline))
        return _normalize(raw, starts, cell), True
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    out: list[Token] = []
    for row, line in enumerate(code.split("\n")):
        if not line.strip():
            continue
        try:
            raw = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
            shift = len(line) - len(line.lstrip())
            out += _normalize(raw, [starts[row] + shift, starts[row] + len(line) + 1], cell)
        except (tokenize.TokenError, SyntaxError, ValueError):
            for m in _FALLBACK.finditer(line):
                text = m.group()
                kind = ("V" if text[0].isalpha() or text[0] == "_" else "N" if text[0].isdigit() else text)
                if kind == "V" and (text in _KEYWORDS or text in _BUILTINS):
                    kind = text
                out.append(Token(kind, cell, starts[row] + m.start(), starts[row] + m.end()))
    return out, False


def _normalize(raw: list[tokenize.TokenInfo], starts: list[int], cell: int) -> list[Token]:
    out: list[Token] = []
    depth = 0
    at_statement_start = True
    skip_newline = False
    for i, tok in enumerate(raw):
        if tok.type in _SKIP or (tok.type == tokenize.ERRORTOKEN and not tok.string.strip()):
            continue
        span = (starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1])
        text = tok.string
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            if tok.type == tokenize.NEWLINE and (skip_newline or not out or out[-1].text == ";"):
                skip_newline = False
                continue
            text = {tokenize.NEWLINE: ";", tokenize.INDENT: "<indent>", tokenize.DEDENT: "<dedent>"}[tok.type]
            at_statement_start = True
            out.append(Token(text, cell, span[0], span[0]))
            continue
        if tok.type == tokenize.STRING:
            nxt = _next_significant(raw, i)
            if at_statement_start and (nxt is None or nxt.type == tokenize.NEWLINE):
                skip_newline = True
                continue  # a docstring or a bare string: text, not code
            text = "S"
        elif tok.type == tokenize.NUMBER:
            text = "N"
        elif tok.type == tokenize.NAME:
            prev = out[-1].text if out else ""
            nxt = _next_significant(raw, i)
            if text in _KEYWORDS or text in _BUILTINS or prev == "." or (
                    depth > 0 and nxt is not None and nxt.string == "=" and prev in ("(", ",")):
                pass  # as written: the language's words, attributes, keyword arguments
            else:
                text = "V"
        elif tok.type == tokenize.OP:
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE and depth > 0:
                depth -= 1
            if text == ";":
                if out and out[-1].text == ";":
                    continue
                at_statement_start = True
                out.append(Token(";", cell, *span))
                continue
        at_statement_start = False
        out.append(Token(text, cell, *span))
    return out


def _next_significant(raw, i):
    for tok in raw[i + 1:]:
        if tok.type not in _SKIP:
            return tok
    return None
