"""The IDX format of MNIST and QMNIST (`*-ubyte.gz`, `*-idx2-int.gz`), read and written.

Header: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64), the number of dimensions, then each dimension as a big-endian uint32; the data
follows, big-endian, row-major. Gzipped or not (the first two bytes tell).
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from .provenance import DataError

TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
         0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
CODES = {np.dtype(t).newbyteorder("=").str: code for code, t in TYPES.items()}
MAX_BYTES = 2 << 30  # the largest file read (QMNIST's biggest is far under)


def _raw(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc}); a truncated download?") from None
    if len(data) > MAX_BYTES:
        raise DataError(f"{path}: larger than {MAX_BYTES >> 20} MiB: not an MNIST-sized IDX file")
    return data


def read_idx(path: str | Path) -> np.ndarray:
    """The array of an IDX file (native byte order)."""
    path = Path(path)
    data = _raw(path)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in TYPES:
        raise DataError(f"{path}: not an IDX file (MNIST format): bad magic number")
    dtype, ndim = TYPES[data[2]], data[3]
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: IDX header cut short")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = data[4 + 4 * ndim:]
    if len(body) != need:
        raise DataError(f"{path}: IDX header says {shape} ({need} bytes of data) but the file has "
                        f"{len(body)}: truncated or not what it claims")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, compress: bool = True) -> Path:
    """Write `array` as IDX (gzipped by default): the format of the published files."""
    a = np.asarray(array)
    code = CODES.get(a.dtype.newbyteorder("=").str)
    if code is None:
        raise ValueError(f"IDX has no type for {a.dtype}")
    body = bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + \
        a.astype(TYPES[code]).tobytes()
    path = Path(path)
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(body)
    else:
        path.write_bytes(body)
    return path
