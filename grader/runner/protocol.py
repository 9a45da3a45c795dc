"""The one channel from the sandbox to the host: a header (JSON) and named binary blobs.

The runner writes it to a pipe that the host created and that student code cannot reach
(close-on-exec before the kernel starts, and the runner is made non-dumpable so /proc/<pid>/fd
is closed to processes of the same uid). The host reads at most a capped number of bytes and
parses with size and schema checks; nothing is ever unpickled.
"""
import json
import os
import struct

MAGIC = b"GRADER-RESULT-1\n"
_LEN = struct.Struct(">Q")
MAX_HEADER = 1 << 20


def open_channel(fd: int):
    """Take over the result fd: not inherited by children, not reachable through /proc."""
    os.set_inheritable(fd, False)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass
    return os.fdopen(fd, "wb", buffering=0)


def limit_files(max_mb: int, max_procs: int = 0) -> None:
    """No single file bigger than `max_mb` (and no core dumps); at most `max_procs` processes
    of this uid (the fallback where no pids cgroup is usable: it binds when the grader runs as
    an unprivileged user; for root the kernel exempts the host's uid 0). Set before student
    code starts, so every process it creates inherits them."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if max_mb > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_mb << 20, max_mb << 20))
    if max_procs > 0:
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (max_procs, max_procs))
        except (ValueError, OSError):
            pass


def encode(info: dict, blobs: dict) -> bytes:
    header = json.dumps({"info": info, "blobs": [[k, len(v)] for k, v in blobs.items()]},
                        default=str).encode()
    return MAGIC + _LEN.pack(len(header)) + header + b"".join(blobs.values())


def write(channel, info: dict, blobs: dict) -> None:
    data = encode(info, blobs)
    view = memoryview(data)
    while view:
        n = channel.write(view)
        view = view[n:]
    channel.close()


def expected_length(head: bytes) -> float | None:
    """The whole report's length from its first bytes: None while the header is incomplete,
    infinity when it is malformed (the host then waits for the runner to exit)."""
    fixed = len(MAGIC) + _LEN.size
    if len(head) < fixed:
        return None if MAGIC.startswith(head[:len(MAGIC)]) else float("inf")
    (hlen,) = _LEN.unpack_from(head, len(MAGIC))
    if not head.startswith(MAGIC) or hlen > MAX_HEADER:
        return float("inf")
    if len(head) < fixed + hlen:
        return None
    try:
        blobs = json.loads(head[fixed:fixed + hlen])["blobs"]
        return fixed + hlen + sum(int(size) for _, size in blobs)
    except (ValueError, KeyError, TypeError):
        return float("inf")


class ProtocolError(ValueError):
    pass


def decode(data: bytes, max_blob: int) -> tuple:
    """(info, blobs) from bytes the runner sent; raises ProtocolError on anything malformed."""
    if not data.startswith(MAGIC):
        raise ProtocolError("no result from the sandbox" if not data else "malformed result header")
    pos = len(MAGIC)
    if len(data) < pos + _LEN.size:
        raise ProtocolError("truncated result")
    (hlen,) = _LEN.unpack_from(data, pos)
    pos += _LEN.size
    if hlen > MAX_HEADER or len(data) < pos + hlen:
        raise ProtocolError("result header too large or truncated")
    try:
        header = json.loads(data[pos:pos + hlen])
    except ValueError as exc:
        raise ProtocolError(f"result header is not JSON: {exc}") from None
    pos += hlen
    if not isinstance(header, dict) or not isinstance(header.get("info"), dict) \
            or not isinstance(header.get("blobs"), list):
        raise ProtocolError("result header has the wrong shape")
    blobs = {}
    for item in header["blobs"]:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], int) and 0 <= item[1] <= max_blob):
            raise ProtocolError("bad blob entry in result header")
        name, size = item
        if len(data) < pos + size:
            raise ProtocolError(f"blob {name!r} truncated")
        blobs[name] = data[pos:pos + size]
        pos += size
    return header["info"], blobs
