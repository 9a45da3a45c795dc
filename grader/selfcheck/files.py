"""Files a notebook needs when it is graded: absolute paths (they exist only on the student's
machine or Drive) and relative files it reads (they exist only if handed in beside the notebook:
the grader puts a student's other files next to the notebook and runs it from that folder).

Read statically: string literals and simple constants (`DATA = "datos.csv"`, `os.path.join`,
`Path(...) / "x"`) passed to calls that read or write files. A file the notebook writes before
reading it (`model.save("m.keras")` ... `load_model("m.keras")`) is fine.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .astinfo import dotted, is_ipython, qualified, string_value
from .notebook import CodeCell
from .shell import commands

#: Absolute paths that do exist where notebooks are graded (or are harmless to write to).
SYSTEM_DIRS = ("/tmp", "/dev", "/proc", "/sys", "/usr", "/etc", "/bin", "/lib", "/lib64", "/var/tmp")
_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]|^\\\\[^\\]")
_UNIX = re.compile(r"^(/[A-Za-z0-9_.~-][^\n]*|~[/\\][^\n]*)$")
#: Calls whose string arguments are only shown, never opened.
SHOWN = {"print", "display", "Markdown", "HTML", "Latex", "IFrame", "write", "set_title", "title",
         "suptitle", "xlabel", "ylabel", "text", "annotate", "legend", "info", "warning", "warn", "debug",
         "error", "startswith", "endswith", "split", "rsplit", "replace", "strip", "lstrip", "rstrip",
         "format", "removeprefix", "removesuffix", "compile", "match", "search", "sub", "findall"}
READS = {"open", "load", "loadtxt", "genfromtxt", "fromfile", "memmap", "load_model", "load_weights", "imread",
         "load_img", "image_dataset_from_directory", "text_dataset_from_directory",
         "audio_dataset_from_directory", "TextLineDataset", "TFRecordDataset", "read_file", "File", "listdir",
         "scandir", "glob", "iglob", "read_text", "read_bytes", "read_csv", "read_excel", "read_json",
         "read_parquet", "read_table", "read_pickle", "read_feather", "read_hdf", "ZipFile", "unpack_archive"}
WRITES = {"save", "savez", "savez_compressed", "savetxt", "tofile", "to_csv", "to_excel", "to_json", "to_parquet",
          "to_pickle", "savefig", "save_weights", "save_model", "imwrite", "imsave", "write_text", "write_bytes",
          "dump", "makedirs", "mkdir", "copy", "copyfile", "copy2", "copytree", "move", "urlretrieve",
          "extractall", "ModelCheckpoint", "CSVLogger"}
_SECOND_ARG = {"dump", "copy", "copyfile", "copy2", "copytree", "move", "urlretrieve"}
_PATH_KEYWORDS = ("file", "fname", "filepath", "filename", "path", "filepath_or_buffer", "directory", "fp")
_EXTRACTS = {"extractall", "unpack_archive", "unzip", "tar", "7z"}
_ARCHIVES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z")
#: Modules whose `load(...)` opens a file (tfds.load, hub.load, yaml.load take other things).
FILE_LOADERS = {"numpy", "np", "joblib", "torch", "pickle", "dill", "cloudpickle"}


@dataclass
class FileUse:
    cell: int
    path: str  # as written, "/" separators
    kind: str  # "read" | "write"
    snippet: str


@dataclass
class FileFacts:
    absolute: list[tuple[int, str, str]]  # (cell, path, snippet)
    uses: list[FileUse]
    extracts: bool  # the notebook unpacks an archive: read files may come from it


def is_absolute(text: str) -> bool:
    """A path that points outside the notebook's folder and is not a system folder."""
    t = text.strip().strip("'\"")
    if not t or len(t) > 300 or "\n" in t or "://" in t:
        return False
    if _WINDOWS.match(t):
        return True
    if not _UNIX.match(t) or t.startswith("//"):
        return False
    return t.startswith("~") or not any(t == d or t.startswith(d + "/") for d in SYSTEM_DIRS)


def analyse(cells: list[CodeCell], names: dict[str, str], consts: dict[str, str]) -> FileFacts:
    facts = FileFacts([], [], False)
    for cell in cells:
        for marker, line in cell.shell:
            _shell(cell, marker, line, facts)
        if cell.tree is None:
            continue
        for text in _strings(cell.tree, consts):
            if is_absolute(text):
                facts.absolute.append((cell.number, text, cell.line_of(text[:40])))
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.Call) and not is_ipython(node):
                _call(cell, node, names, consts, facts)
    return facts


def _strings(tree: ast.AST, consts: dict[str, str]) -> Iterator[str]:
    """String values in code (not docstrings, not text only printed or used to edit other text)."""
    def visit(node: ast.AST) -> Iterator[str]:
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            return
        if isinstance(node, ast.Call):
            name = (dotted(node.func) or "").split(".")[-1]
            if is_ipython(node) or name in SHOWN:
                return
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Constant):
                return  # "/".join(parts), "{}/{}".format(...)
        if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Call)):
            value = string_value(node, consts, prefix=True)
            if value is not None:
                yield value
                return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child)

    yield from visit(tree)


def _call(cell: CodeCell, node: ast.Call, names: dict[str, str], consts: dict[str, str], facts: FileFacts) -> None:
    full = qualified(node.func, names) or ""
    name = full.split(".")[-1]
    if name in _EXTRACTS:
        facts.extracts = True
    if name not in READS and name not in WRITES:
        return
    if name == "load" and full.split(".")[0] not in FILE_LOADERS:
        return  # tfds.load("mnist"), hub.load(url): names, not files
    kind = "write" if name in WRITES else "read"
    if name == "open":
        mode = string_value(node.args[1], consts) if len(node.args) > 1 else \
            string_value(next((k.value for k in node.keywords if k.arg == "mode"), None), consts)
        kind = "write" if mode and any(c in mode for c in "wax") else "read"
    arg = _path_arg(node, 1 if name in _SECOND_ARG else 0)
    if arg is None and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
        inner = node.func.value  # Path("x").read_text(), zipfile.ZipFile("a.zip").extractall()
        if (dotted(inner.func) or "").split(".")[-1] in ("Path", "PurePath", "ZipFile", "open") and inner.args:
            arg = inner.args[0]
    path = string_value(arg, consts)
    if path is None or "://" in path or is_absolute(path) or not path.strip():
        return
    facts.uses.append(FileUse(cell.number, _norm(path), kind, cell.line_of(path[:40])))


def _path_arg(node: ast.Call, position: int) -> ast.AST | None:
    if len(node.args) > position:
        return node.args[position]
    for key in _PATH_KEYWORDS:
        for k in node.keywords:
            if k.arg == key:
                return k.value
    return None


def _shell(cell: CodeCell, marker: str, line: str, facts: FileFacts) -> None:
    for cmd in commands(marker, line):
        words = cmd.words or cmd.text.split()
        if not words:
            continue
        program = words[0].rsplit("/", 1)[-1]
        if program in _EXTRACTS:
            facts.extracts = True
            facts.uses += [FileUse(cell.number, _norm(w), "read", line) for w in words[1:]
                           if w.lower().endswith(_ARCHIVES) and not w.startswith("-") and not is_absolute(w)]
        for w in words[1:]:
            if is_absolute(w):
                facts.absolute.append((cell.number, w, cell.line_of(w[:40])))
        if marker == "%%" and program == "writefile" and len(words) > 1:
            facts.uses.append(FileUse(cell.number, _norm(words[-1]), "write", f"%%{line}"))
        elif marker == "%" and program in ("run", "load") and len(words) > 1 and not is_absolute(words[-1]):
            facts.uses.append(FileUse(cell.number, _norm(words[-1]), "read", f"%{line}"))
        elif program in ("wget", "curl"):
            out = _option(words, ("-O", "-o", "--output-document", "--output"))
            urls = [w for w in words if "://" in w]
            for target in [out] if out else [u.rstrip("/").rsplit("/", 1)[-1].split("?")[0] for u in urls]:
                if target:
                    facts.uses.append(FileUse(cell.number, _norm(target), "write", line))
        elif program in ("mkdir", "cp", "mv", "touch") and len(words) > 1:
            facts.uses.append(FileUse(cell.number, _norm(words[-1]), "write", line))


def _option(words: list[str], names: tuple[str, ...]) -> str | None:
    for i, w in enumerate(words[:-1]):
        if w in names:
            return words[i + 1]
    return None


def _norm(path: str) -> str:
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def needed_files(uses: list[FileUse]) -> list[FileUse]:
    """Reads of files the notebook did not write before (or in the same cell), first use only."""
    written: list[str] = []
    out, seen = [], set()
    for use in sorted(uses, key=lambda u: (u.cell, u.kind != "write")):
        if use.kind == "write":
            written.append(use.path.rstrip("/"))
            continue
        base = _wild_free(use.path)
        if not base or base in seen or any(base == w or base.startswith(w + "/") for w in written):
            continue
        seen.add(base)
        out.append(FileUse(use.cell, base, "read", use.snippet))
    return out


def _wild_free(path: str) -> str:
    """The part of a glob pattern without wildcards: `data/*.png` -> `data`."""
    parts = []
    for part in path.split("/"):
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    return "/".join(parts).rstrip("/")


def present(notebook_dir: Path, path: str) -> bool:
    return (notebook_dir / path).exists()
