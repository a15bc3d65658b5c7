"""Confinement of a SPARQL worker process: no network, bounded memory and file size, low priority.

pyoxigraph evaluates ``SERVICE`` with its own HTTP client and has no switch to turn it off. The endpoint
refuses SERVICE before a query runs (:mod:`dfl_graph.sparql.inspection`); this is the second guard, in
the kernel: a seccomp filter makes ``socket()`` fail for every address family except ``AF_UNIX`` (and
``io_uring_setup``, which could open sockets around it), so a query that slipped past the first check
cannot reach the internet or an internal host, or even resolve a name. Installed by each worker before
it opens a store, so every thread the store starts inherits it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import struct
import sys

# struct seccomp_data: nr (u32) @0, arch (u32) @4, instruction_pointer (u64) @8, args[6] (u64) @16
_ARCHES = {
    # machine: (AUDIT_ARCH_*, socket, io_uring_setup, first syscall number of another ABI or None)
    "x86_64": (0xC000003E, 41, 425, 0x40000000),  # x32 syscalls have bit 30 set: refuse them
    "aarch64": (0xC00000B7, 198, 425, None),
}
_BPF_LD_W_ABS = 0x00 | 0x00 | 0x20
_BPF_JEQ_K = 0x05 | 0x10 | 0x00
_BPF_JGE_K = 0x05 | 0x30 | 0x00
_BPF_RET_K = 0x06 | 0x00
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_EACCES = 0x00050000 | 13
_AF_UNIX = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _stmt(code: int, k: int) -> bytes:
    return struct.pack("HBBI", code, 0, 0, k)


def _jump(code: int, k: int, jt: int, jf: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def deny_network() -> bool:
    """Install the seccomp filter in this process (and its future threads). False if unsupported."""
    arch = _ARCHES.get(platform.machine())
    if arch is None or not sys.platform.startswith("linux"):
        return False
    audit_arch, nr_socket, nr_io_uring_setup, foreign_abi = arch
    program = [
        _stmt(_BPF_LD_W_ABS, 4),
        _jump(_BPF_JEQ_K, audit_arch, 1, 0),
        _stmt(_BPF_RET_K, _RET_KILL_PROCESS),
        _stmt(_BPF_LD_W_ABS, 0),
    ]
    if foreign_abi is not None:
        program += [_jump(_BPF_JGE_K, foreign_abi, 0, 1), _stmt(_BPF_RET_K, _RET_EACCES)]
    program += [
        _jump(_BPF_JEQ_K, nr_io_uring_setup, 0, 1),
        _stmt(_BPF_RET_K, _RET_EACCES),
        _jump(_BPF_JEQ_K, nr_socket, 1, 0),
        _stmt(_BPF_RET_K, _RET_ALLOW),
        _stmt(_BPF_LD_W_ABS, 16),  # socket(domain, ...): the low 32 bits of args[0]
        _jump(_BPF_JEQ_K, _AF_UNIX, 0, 1),
        _stmt(_BPF_RET_K, _RET_ALLOW),
        _stmt(_BPF_RET_K, _RET_EACCES),
    ]
    code = ctypes.create_string_buffer(b"".join(program))
    fprog = _SockFprog(len(program), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent (the fork server, which exits with the web
    process) is gone. A watchdog thread would not do: a long query's worker may be stopped (SIGSTOP)
    while it waits for its turn, and a stopped process runs no thread, but SIGKILL still ends it."""
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent went before the request took effect
        os._exit(0)


def limit_resources(memory_bytes: int, file_bytes: int) -> None:
    """Cap the address space (a runaway join fails instead of exhausting the machine) and file sizes."""
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_FSIZE, file_bytes)):
        if value > 0:
            _soft, hard = resource.getrlimit(limit)
            resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def lower_priority(pid: int, niceness: int, idle: bool = False) -> None:
    """Renice every thread of a process (Linux nice values are per thread); with ``idle``, also move them
    to SCHED_IDLE, below any niceness: they run only on CPU time nothing else wants."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        if idle and hasattr(os, "SCHED_IDLE"):
            with contextlib.suppress(OSError):
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
