"""A seccomp filter (classic BPF) that bubblewrap installs with `--seccomp FD` before the job's
command runs: every process of the job is denied ptrace and its relatives.

Why: bwrap's own pid 1 in the sandbox is dumpable and shares the job's uid, so without this a
student could attach to it (and through it reach whatever it holds). The runner makes itself
non-dumpable, but a filter closes the whole class for every process at once. Denied (EPERM):
ptrace, process_vm_readv/writev (read/write another process's memory), pidfd_getfd (steal
another process's file descriptors). On x86_64 the x32 ABI is refused outright and the i386
ABI gets the same list under its own numbers, so no alternative syscall table gets around it.

The program is a few instructions assembled here with `struct` (no libseccomp binding needed):
    for each ABI of this machine:  arch == A ?  nr in DENIED[A] -> EPERM  else ALLOW
    any other arch: EPERM
Layout of one instruction: struct sock_filter {u16 code; u8 jt; u8 jf; u32 k} (native endian).
"""
from __future__ import annotations

import platform
import struct

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = seccomp_data[k]
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data
_ALLOW = 0x7FFF0000
_EPERM = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
_X32_BIT = 0x40000000

# (audit arch, denied syscall numbers, refuse the x32 range): ptrace, process_vm_readv,
# process_vm_writev, pidfd_getfd
_ABIS = {
    "x86_64": [(0xC000003E, (101, 310, 311, 438), True),  # AUDIT_ARCH_X86_64
               (0x40000003, (26, 347, 348, 438), False)],  # AUDIT_ARCH_I386
    "aarch64": [(0xC00000B7, (117, 270, 271, 438), False),  # AUDIT_ARCH_AARCH64
                (0x40000028, (26, 376, 377, 438), False)],  # AUDIT_ARCH_ARM
}
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
DENIED_NAMES = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd")


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> tuple:
    return (code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes | None:
    """The BPF program for this machine's ABIs, or None where we don't know its numbers."""
    abis = _ABIS.get(_MACHINES.get((machine or platform.machine()).lower(), ""))
    if not abis:
        return None
    sections = []
    for arch, denied, refuse_x32 in abis:
        body = [_ins(_LD_W_ABS, _NR)]
        if refuse_x32:
            body.append(("x32",))
        body += [("deny", n) for n in denied]
        body.append(_ins(_RET, _ALLOW))
        sections.append((arch, body))
    prog: list = []
    for arch, body in sections:
        prog.append(_ins(_LD_W_ABS, _ARCH))
        prog.append(("arch", arch, len(body)))  # not this arch: skip the section's body
        for item in body:
            prog.append(item)
    deny_at = len(prog)
    prog.append(_ins(_RET, _EPERM))
    out = []
    for i, item in enumerate(prog):
        if item[0] == "arch":
            out.append(_ins(_JEQ, item[1], 0, item[2]))
        elif item[0] == "x32":
            out.append(_ins(_JGE, _X32_BIT, deny_at - i - 1, 0))
        elif item[0] == "deny":
            out.append(_ins(_JEQ, item[1], deny_at - i - 1, 0))
        else:
            out.append(item)
    assert all(0 <= ins[1] < 256 and 0 <= ins[2] < 256 for ins in out)
    return b"".join(struct.pack("=HBBI", *ins) for ins in out)
