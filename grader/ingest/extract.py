"""Safe extraction of the Moodle download: no file outside the target, no zip bomb, no half result.

The zip holds files chosen by students, so it is untrusted: every entry name is checked (no
absolute path, drive letter, ``..`` component or symlink), sizes are checked as declared AND as
really decompressed (declared sizes can lie), and everything is written into a temporary folder
beside the target that replaces the target only when the whole archive went through. So a
target that exists is always a complete extraction. Files keep their exact bytes and the entry's
timestamp as mtime (the submission time Moodle wrote).

Given `owner` (entry name -> participant id), one student cannot refuse the whole class: an
entry over the per-file, ratio or per-student limits is skipped and reported in `rejected`
(the total stays bounded by `max_total_bytes`), and two entries whose names are equal once
normalised to NFC (a macOS upload: NFD beside NFC) are resolved by DUPLICATE_RULE.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import stat
import struct
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import IngestError, UnsafeArchive

_GiB, _MiB = 1 << 30, 1 << 20
_CHUNK = 1 << 20
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_DRIVE = re.compile(r"^[A-Za-z]:")
_NAME_MAX = 255  # bytes in one path component (Linux, macOS, Windows)

#: Folders and files that operating systems and Jupyter add, never handed in on purpose.
JUNK_DIRS = frozenset({"__MACOSX", ".ipynb_checkpoints"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db"})


@dataclass(frozen=True)
class ExtractLimits:
    """Zip-bomb limits: far above any real class download, far below a full disk."""

    max_total_bytes: int = 4 * _GiB  # all entries, uncompressed
    max_file_bytes: int = 512 * _MiB  # one entry, uncompressed
    max_entries: int = 20_000
    max_ratio: float = 200.0  # uncompressed / compressed ...
    ratio_min_bytes: int = 1 * _MiB  # ... checked for entries larger than this
    max_student_bytes: int = 1 * _GiB  # one participant's entries, uncompressed (with `owner`)


@dataclass(frozen=True)
class ExtractedFile:
    name: str  # relative, "/"-separated, NFC
    path: Path  # where it is now (inside the final target)
    size: int
    mtime: datetime | None  # the entry's timestamp (local time of the zip); None if invalid


@dataclass
class Extraction:
    target: Path
    files: list[ExtractedFile] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)  # directory entries, without the trailing "/"
    skipped: list[str] = field(default_factory=list)  # junk entries, not extracted
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (entry, why): one student's, skipped


def junk_root(relpath: str) -> str | None:
    """The junk part of a relative path (``a/__MACOSX/`` or ``a/.DS_Store``), or None."""
    parts = relpath.strip("/").split("/")
    for i, part in enumerate(parts):
        if part in JUNK_DIRS:
            return "/".join(parts[: i + 1]) + "/"
    return relpath if parts[-1] in JUNK_FILES else None


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's real name: zips often hold UTF-8 names without the UTF-8 flag, which Python
    then decodes as cp437 ("JosÚ"); undo that when the bytes are valid UTF-8. NFC."""
    name = info.filename
    if not info.flag_bits & _UTF8_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def _safe_parts(name: str, info: zipfile.ZipInfo) -> list[str]:
    """The path components of an entry, or UnsafeArchive if it could land outside the target.
    Backslashes count as separators too (zips made on Windows; "..\\x" is a traversal there)."""
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        raise UnsafeArchive(f"zip entry {_shown(name)} has an absolute path; refusing the archive")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"zip entry {_shown(name)} contains '..' (path traversal); refusing the archive")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeArchive(f"zip entry {_shown(name)} is a symbolic link; refusing the archive")
    if not parts:
        raise UnsafeArchive(f"zip entry {_shown(name)} has an empty name; refusing the archive")
    return parts


DUPLICATE_RULE = ("of two entries with the same name (once normalised to NFC), the one with the "
                  "later timestamp is kept (on a tie, the later one in the archive)")


#: what zipfile raises on a damaged archive (a local header's name not UTF-8 is a
#: UnicodeDecodeError, a damaged deflate stream a zlib.error, a short header a struct.error)
_CORRUPT = (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
            struct.error, zlib.error)


def _shown_error(exc: BaseException, limit: int = 300) -> str:
    """zipfile's message, cut (it can quote a whole damaged header)."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _shown(name: str, limit: int = 120) -> str:
    """An entry's name for a message: quoted, and cut (a name can be 65,535 bytes long)."""
    return repr(name if len(name) <= limit else name[:limit - 21] + "…" + name[-20:])


def _check_declared(name: str, info: zipfile.ZipInfo, total: int, lim: ExtractLimits,
                    student_total: int | None = None) -> None:
    size, packed = info.file_size, info.compress_size
    if any(len(part.encode("utf-8")) > _NAME_MAX for part in name.replace("\\", "/").split("/")):
        raise UnsafeArchive(f"zip entry {_shown(name)} has a file or folder name over {_NAME_MAX} "
                            "bytes, more than a file system holds")
    if student_total is not None and student_total > lim.max_student_bytes:
        raise UnsafeArchive(f"zip entry {_shown(name)}: this participant's files declare {student_total:,} "
                            f"bytes in all; the limit per participant is {lim.max_student_bytes:,}")
    if size > lim.max_file_bytes:
        raise UnsafeArchive(f"zip entry {_shown(name)} declares {size:,} bytes uncompressed; "
                            f"the limit per file is {lim.max_file_bytes:,} (zip bomb?)")
    if total > lim.max_total_bytes:
        raise UnsafeArchive(f"the archive declares {total:,} bytes uncompressed in all (reached at "
                            f"{_shown(name)}); the limit is {lim.max_total_bytes:,} (zip bomb?)")
    if size > lim.ratio_min_bytes and size > lim.max_ratio * packed:
        ratio = f"{size / packed:,.0f}" if packed else "infinite"
        raise UnsafeArchive(f"zip entry {_shown(name)} declares a compression ratio of {ratio} "
                            f"({packed:,} -> {size:,} bytes); the limit is {lim.max_ratio:g} (zip bomb?)")


def _timestamp(info: zipfile.ZipInfo) -> datetime | None:
    try:
        return datetime(*info.date_time)
    except (ValueError, TypeError):
        return None


def _copy_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, dest: Path,
                lim: ExtractLimits) -> int:
    """Write one entry, counting the real bytes; returns the bytes written.

    The real size may not exceed the declared one, so the checks on declared sizes (per file,
    total, ratio) bound what really lands on disk."""
    # zipfile stops reading at the declared size, and a lying header would then only show up as
    # a bad CRC (or not at all). Let it read one byte past every limit and count ourselves.
    probe = copy.copy(info)
    probe.file_size = min(lim.max_file_bytes, lim.max_total_bytes) + 1
    written = 0
    with zf.open(probe) as src, open(dest, "xb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise UnsafeArchive(f"zip entry {_shown(name)} holds more than the {info.file_size:,} "
                                    "bytes its header declares (zip bomb?)")
            out.write(chunk)
    if written != info.file_size:
        raise IngestError(f"zip entry {_shown(name)} holds {written:,} bytes but its header declares "
                          f"{info.file_size:,}; the archive is corrupt")
    return written


def _plan(zf: zipfile.ZipFile, lim: ExtractLimits, owner: Callable[[str], str | None] | None = None
          ) -> tuple[list[tuple[zipfile.ZipInfo, str, list[str]]], list[tuple[str, str]]]:
    """Check every entry before writing anything: (info, name, parts) for each entry to write,
    and the (name, why) of entries skipped because of their participant (needs `owner`)."""
    infos = zf.infolist()
    if len(infos) > lim.max_entries:
        raise UnsafeArchive(f"the archive has {len(infos):,} entries; the limit is {lim.max_entries:,}")
    entries: dict[str, tuple[zipfile.ZipInfo, str, list[str]]] = {}
    rejected: list[tuple[str, str]] = []
    for info in infos:
        name = entry_name(info)
        parts = _safe_parts(name, info)
        key = "/".join(parts)
        if key in entries:
            if owner is None or owner(key) is None:
                raise UnsafeArchive(f"zip entry {_shown(name)} appears more than once; refusing the archive")
            old = entries[key][0]
            keep_new = _stamp(info) >= _stamp(old)
            rejected.append((key, f"{_shown(key)} appears twice (NFC/NFD spellings?): {DUPLICATE_RULE}; "
                                  f"kept the one dated {_stamp(info if keep_new else old)}"))
            if not keep_new:
                continue
        entries[key] = (info, name, parts)
    plan, total, per_student = [], 0, {}
    for key, (info, name, parts) in entries.items():
        if junk_root(key) is None and not info.is_dir():
            if info.flag_bits & _ENCRYPTED_FLAG:
                raise IngestError(f"zip entry {_shown(name)} is encrypted; download the submissions again "
                                  "without a password")
            who = owner(key) if owner is not None else None
            if who is not None:
                try:
                    _check_declared(name, info, 0, lim, per_student.get(who, 0) + info.file_size)
                except UnsafeArchive as exc:
                    rejected.append((key, f"{exc}; skipped"))
                    continue
                per_student[who] = per_student.get(who, 0) + info.file_size
            total += info.file_size
            _check_declared(name, info, total, lim)
        plan.append((info, name, parts))
    return plan, rejected


def _stamp(info: zipfile.ZipInfo) -> str:
    ts = _timestamp(info)
    return ts.isoformat(sep=" ") if ts else "0000"


def extract_zip(archive: Path, target: Path, limits: ExtractLimits = ExtractLimits(),
                precheck: Callable[[list[str]], None] | None = None,
                owner: Callable[[str], str | None] | None = None) -> Extraction:
    """Extract `archive` into `target`, replacing a previous extraction only on success.

    `precheck` gets the names that will be extracted (directories end in "/") before anything
    is written, and may raise to refuse the archive (e.g. "no Moodle submission in it").
    """
    archive, target = Path(archive), Path(target)
    try:
        zf = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise IngestError(f"{archive}: no such file") from None
    except (OSError, *_CORRUPT) as e:
        raise IngestError(f"{archive} is not a readable zip file ({_shown_error(e)})") from None
    with zf:
        plan, rejected = _plan(zf, limits, owner)
        keep = [(i, n, p) for i, n, p in plan if junk_root("/".join(p)) is None]
        if precheck is not None:
            precheck(["/".join(p) + ("/" if i.is_dir() else "") for i, _, p in keep]
                     + [key for key, _ in rejected])
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            result = Extraction(target=target, rejected=rejected)
            result.skipped = sorted({junk_root("/".join(p)) for _, _, p in plan} - {None})
            for info, name, parts in keep:
                dest = tmp.joinpath(*parts)
                key = "/".join(parts)
                try:
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        result.dirs.append(key)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    size = _copy_entry(zf, info, name, dest, limits)
                except _CORRUPT as e:
                    raise IngestError(f"zip entry {_shown(name)} cannot be read ({_shown_error(e)}); "
                                      "the archive is corrupt or uses an unsupported feature") from None
                except OSError as e:
                    raise IngestError(f"zip entry {_shown(name)} cannot be written ({e.strerror or e})") from None
                mtime = _timestamp(info)
                if mtime is not None:
                    stamp = time.mktime(mtime.timetuple())
                    os.utime(dest, (stamp, stamp))
                result.files.append(ExtractedFile(key, target.joinpath(*parts), size, mtime))
            _replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return result


def _replace(new: Path, target: Path) -> None:
    """Put `new` at `target`; an old `target` is moved aside first and deleted after, so the
    path holds either the old or the new complete extraction (or, for an instant, nothing)."""
    old = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "x")
    os.rename(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
