"""Arrays back from the sandbox, loaded only after their declared sizes pass a budget.

An `.npz` is a zip: a few MB on the wire can declare gigabytes of zeros (DEFLATE), and numpy
would inflate each member in full. So before anything is decompressed we read the zip's
directory (declared uncompressed sizes) and each member's `.npy` header (shape, dtype) and
refuse the whole result when a member is bigger than the check can need (`limits`: bytes per
array name, from the inputs it was computed on) or the total goes over `budget` bytes; members
that are not plain numeric arrays are dropped.
Reading a member never yields more than its declared size (zipfile stops there), and nothing is
unpickled (allow_pickle=False).
"""
from __future__ import annotations

import io
import math
import zipfile

import numpy as np

MAX_MEMBERS = 4096


class RefusedArrays(ValueError):
    """The result's arrays are not what the check expects; the message says why (English)."""


def load_arrays(blob: bytes | None, budget: int, limits: dict[str, int] | None = None
                ) -> dict[str, np.ndarray]:
    """Numeric arrays by name; raises RefusedArrays (no partial result) when limits are broken."""
    if not blob:
        return {}
    limits = limits or {}
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return {}  # malformed: treated as no arrays, as before
    if len(infos) > MAX_MEMBERS:
        raise RefusedArrays(f"{len(infos)} arrays in the result")
    if sum(i.file_size for i in infos) > budget:
        raise RefusedArrays(f"result arrays declare {sum(i.file_size for i in infos) >> 20} MiB "
                            f"(limit {budget >> 20} MiB)")
    out = {}
    for info in infos:
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        try:
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(f)
                if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields:
                    continue  # not a plain numeric array: dropped, as before
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > info.file_size:
                    raise RefusedArrays(f"array {name!r} is larger than its declared size")
                if nbytes > limits.get(name, budget):
                    raise RefusedArrays(f"array {name!r} of shape {tuple(shape)} is larger "
                                        f"than the check can need ({limits[name] >> 10} KiB)")
                data = f.read(nbytes)
        except RefusedArrays:
            raise
        except (ValueError, OSError, zipfile.BadZipFile, EOFError):
            continue  # a malformed member is no answer
        if len(data) != nbytes:
            continue
        a = np.frombuffer(data, dtype=dtype)
        out[name] = (a.reshape(shape[::-1]).T if fortran else a.reshape(shape)).copy()
    return out
