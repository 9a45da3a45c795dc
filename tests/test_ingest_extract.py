"""extract_zip: zip-slip, zip bombs, corrupt archives, names without the UTF-8 flag, exact bytes."""
from __future__ import annotations

import io
import os
import stat
import struct
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from grader.errors import IngestError, UnsafeArchive
from grader.ingest.extract import ExtractLimits, entry_name, extract_zip

OK = "Ana_1_assignsubmission_file/nb.ipynb"


def make_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]],
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def leftovers(parent: Path) -> list[str]:
    """Everything beside the archive: a failed extraction must leave nothing."""
    return sorted(p.name for p in parent.iterdir() if p.suffix != ".zip")


@pytest.mark.parametrize("evil", ["../evil.ipynb", "Ana_1_assignsubmission_file/../../evil.ipynb",
                                  "/tmp/evil.ipynb", "C:/evil.ipynb", "..\\evil.ipynb"])
def test_zip_slip_is_refused_naming_the_entry(tmp_path, evil):
    z = make_zip(tmp_path / "in.zip", [(OK, b"{}"), (evil, b"pwned")])
    with pytest.raises(UnsafeArchive) as e:
        extract_zip(z, tmp_path / "out")
    assert repr(evil) in str(e.value)
    assert leftovers(tmp_path) == []  # not even the good entry, nor a temp folder
    assert not (tmp_path.parent / "evil.ipynb").exists()


def test_symlink_entry_is_refused(tmp_path):
    link = zipfile.ZipInfo("Ana_1_assignsubmission_file/nb.ipynb")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = make_zip(tmp_path / "in.zip", [(link, b"/etc/passwd")])
    with pytest.raises(UnsafeArchive, match="symbolic link") as e:
        extract_zip(z, tmp_path / "out")
    assert "Ana_1_assignsubmission_file/nb.ipynb" in str(e.value)
    assert leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def zeros_50mb() -> bytes:
    return b"\0" * (50 << 20)


def test_zip_bomb_declared_size_is_refused_before_writing(tmp_path, zeros_50mb):
    z = make_zip(tmp_path / "in.zip", [(OK, b"{}"), ("Ana_1_assignsubmission_file/big.bin", zeros_50mb)])
    with pytest.raises(UnsafeArchive, match=r"big\.bin.*52,428,800.*limit per file is 10,485,760"):
        extract_zip(z, tmp_path / "out", ExtractLimits(max_file_bytes=10 << 20))
    with pytest.raises(UnsafeArchive, match=r"big\.bin.*compression ratio.*limit is 200"):
        extract_zip(z, tmp_path / "out")  # default limits: 50 MB of zeros is ~1000:1
    assert leftovers(tmp_path) == []


def test_total_size_limit(tmp_path):
    data = os.urandom(300_000)
    z = make_zip(tmp_path / "in.zip", [(f"Ana_1_assignsubmission_file/{i}.bin", data) for i in range(4)])
    with pytest.raises(UnsafeArchive, match=r"1,200,000 bytes .* '.*3\.bin'.* limit is 1,000,000"):
        extract_zip(z, tmp_path / "out", ExtractLimits(max_total_bytes=1_000_000))
    assert len(extract_zip(z, tmp_path / "out", ExtractLimits(max_total_bytes=1_200_000)).files) == 4


def test_entry_count_limit(tmp_path):
    z = make_zip(tmp_path / "in.zip", [(f"Ana_1_assignsubmission_file/{i}", b"") for i in range(11)])
    with pytest.raises(UnsafeArchive, match="11 entries; the limit is 10"):
        extract_zip(z, tmp_path / "out", ExtractLimits(max_entries=10))


def _patch_headers(blob: bytes, size: int | None = None, flags: int | None = None) -> bytes:
    """Make the (single) entry's local and central headers say something else."""
    zf = zipfile.ZipFile(io.BytesIO(blob))
    local, central = zf.infolist()[0].header_offset, blob.index(b"PK\x01\x02", zf.start_dir)
    out = bytearray(blob)
    if size is not None:
        struct.pack_into("<I", out, local + 22, size)
        struct.pack_into("<I", out, central + 24, size)
    if flags is not None:
        struct.pack_into("<H", out, local + 6, flags)
        struct.pack_into("<H", out, central + 8, flags)
    return bytes(out)


def test_entry_whose_header_lies_about_its_size_is_caught_while_extracting(tmp_path, zeros_50mb):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Ana_1_assignsubmission_file/nb.ipynb", zeros_50mb)
    z = tmp_path / "liar.zip"
    z.write_bytes(_patch_headers(buf.getvalue(), size=1000))
    assert zipfile.ZipFile(z).infolist()[0].file_size == 1000  # passes every declared check
    with pytest.raises(UnsafeArchive, match=r"nb\.ipynb.*more than the 1,000 bytes its header declares"):
        extract_zip(z, tmp_path / "out")
    assert leftovers(tmp_path) == []


def test_entry_shorter_than_declared_is_corrupt(tmp_path):
    blob = make_zip(tmp_path / "in.zip", [(OK, os.urandom(5000))]).read_bytes()
    (tmp_path / "in.zip").write_bytes(_patch_headers(blob, size=6000))
    with pytest.raises(IngestError, match=r"holds 5,000 bytes but its header declares 6,000") as e:
        extract_zip(tmp_path / "in.zip", tmp_path / "out")
    assert not isinstance(e.value, UnsafeArchive) and leftovers(tmp_path) == []


def test_not_a_zip_truncated_and_corrupt_entries(tmp_path):
    (tmp_path / "a.zip").write_text("this is a notebook, promise")
    with pytest.raises(IngestError, match="not a readable zip"):
        extract_zip(tmp_path / "a.zip", tmp_path / "out")
    blob = make_zip(tmp_path / "b.zip", [(OK, os.urandom(5000))], zipfile.ZIP_STORED).read_bytes()
    (tmp_path / "b.zip").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IngestError, match="not a readable zip"):
        extract_zip(tmp_path / "b.zip", tmp_path / "out")
    flipped = bytearray(blob)
    flipped[100] ^= 0xFF  # inside the stored data: the CRC no longer matches
    (tmp_path / "c.zip").write_bytes(bytes(flipped))
    with pytest.raises(IngestError, match=r"'Ana_1_assignsubmission_file/nb\.ipynb' cannot be read.*CRC"):
        extract_zip(tmp_path / "c.zip", tmp_path / "out")
    with pytest.raises(IngestError, match="no such file"):
        extract_zip(tmp_path / "missing.zip", tmp_path / "out")
    assert leftovers(tmp_path) == []


def test_utf8_names_without_the_utf8_flag_are_recovered(tmp_path):
    real = "José Núñez_7_assignsubmission_file/Ñandú.ipynb"
    raw = real.encode("utf-8")
    placeholder = b"X" * len(raw)  # ASCII, so zipfile writes it without the UTF-8 flag ...
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w") as zf:
        zf.writestr(placeholder.decode(), b"{}")
    z = tmp_path / "legacy.zip"
    z.write_bytes(blob.getvalue().replace(placeholder, raw))  # ... then the raw UTF-8 bytes go in
    info = zipfile.ZipFile(z).infolist()[0]
    assert not info.flag_bits & 0x800 and info.filename == raw.decode("cp437")  # "JosÚ..." as Python sees it
    result = extract_zip(z, tmp_path / "out")
    assert [f.name for f in result.files] == [real]
    assert (tmp_path / "out" / real).read_bytes() == b"{}"


def test_names_that_are_not_utf8_stay_cp437_and_flagged_names_are_trusted():
    raw = b"Ana_1_assignsubmission_file/r\x82sum\x82.txt"  # not UTF-8; cp437 0x82 is "e acute"
    assert entry_name(zipfile.ZipInfo(raw.decode("cp437"))) == "Ana_1_assignsubmission_file/résumé.txt"
    flagged = zipfile.ZipInfo("\u251c\u2310.ipynb")  # cp437 for the UTF-8 bytes of "é" ...
    flagged.flag_bits |= 0x800  # ... but the flag says UTF-8, so it is not decoded again
    assert entry_name(flagged) == "\u251c\u2310.ipynb"


def test_bytes_timestamps_and_junk(tmp_path):
    nb = os.urandom(3000) + "Núñez".encode()
    stamp = (2024, 3, 31, 23, 58, 30)
    info = zipfile.ZipInfo(OK, date_time=stamp)
    z = make_zip(tmp_path / "in.zip", [
        (info, nb),
        ("Ana_1_assignsubmission_file/sub/", b""),
        ("__MACOSX/Ana_1_assignsubmission_file/._nb.ipynb", b"\0\5\26\7"),
        ("Ana_1_assignsubmission_file/.ipynb_checkpoints/nb-checkpoint.ipynb", b"{}"),
        ("Ana_1_assignsubmission_file/.DS_Store", b"\0"),
        ("Thumbs.db", b"\0"),
    ])
    result = extract_zip(z, tmp_path / "out")
    assert [f.name for f in result.files] == [OK] and result.dirs == ["Ana_1_assignsubmission_file/sub"]
    assert result.skipped == ["Ana_1_assignsubmission_file/.DS_Store",
                              "Ana_1_assignsubmission_file/.ipynb_checkpoints/", "Thumbs.db", "__MACOSX/"]
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "Ana_1_assignsubmission_file", OK, "Ana_1_assignsubmission_file/sub"]
    assert (out / OK).read_bytes() == nb
    assert result.files[0].mtime == datetime(*stamp)
    assert (out / OK).stat().st_mtime == time.mktime(datetime(*stamp).timetuple())


def test_replaces_an_earlier_extraction_only_when_complete(tmp_path):
    out = tmp_path / "out"
    extract_zip(make_zip(tmp_path / "1.zip", [(OK, b"first"), ("Ana_1_assignsubmission_file/old.txt", b"")]), out)
    bad = make_zip(tmp_path / "2.zip", [(OK, b"second"), ("../evil", b"")])
    with pytest.raises(UnsafeArchive):
        extract_zip(bad, out)
    assert (out / OK).read_bytes() == b"first" and leftovers(tmp_path) == ["out"]
    extract_zip(make_zip(tmp_path / "3.zip", [(OK, b"third")]), out)
    assert (out / OK).read_bytes() == b"third"
    assert not (out / "Ana_1_assignsubmission_file/old.txt").exists()  # replaced, not merged
    assert leftovers(tmp_path) == ["out"]


def test_precheck_refuses_before_anything_is_written(tmp_path):
    seen = []

    def refuse(names):
        seen.extend(names)
        raise IngestError("nope")

    z = make_zip(tmp_path / "in.zip", [(OK, b"{}"), ("__MACOSX/x", b""), ("Ana_1_assignsubmission_file/d/", b"")])
    with pytest.raises(IngestError, match="nope"):
        extract_zip(z, tmp_path / "out", precheck=refuse)
    assert seen == [OK, "Ana_1_assignsubmission_file/d/"] and leftovers(tmp_path) == []


def test_duplicate_and_encrypted_entries(tmp_path):
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate name
        z = make_zip(tmp_path / "dup.zip", [(OK, b"a"), (OK, b"b")])
    with pytest.raises(UnsafeArchive, match="more than once"):
        extract_zip(z, tmp_path / "out")
    blob = make_zip(tmp_path / "enc.zip", [(OK, b"x")]).read_bytes()
    (tmp_path / "enc.zip").write_bytes(_patch_headers(blob, flags=0x1))
    assert zipfile.ZipFile(tmp_path / "enc.zip").infolist()[0].flag_bits & 0x1
    with pytest.raises(IngestError, match=r"'Ana_1_assignsubmission_file/nb\.ipynb' is encrypted"):
        extract_zip(tmp_path / "enc.zip", tmp_path / "out")
    assert leftovers(tmp_path) == []
