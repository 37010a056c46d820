"""Read the seccomp filter a process runs under, and evaluate it.

Where the CPU cannot enter a syscall table at all (no `int $0x80` on some
kernels), a rule for that table cannot be observed by making the call. The
filter itself can still be proved: PTRACE_SECCOMP_GET_FILTER returns the
classic BPF program the kernel installed, and `evaluate` runs it on the
seccomp_data the kernel would build for that call.
"""

import ctypes
import os
import struct

PTRACE_ATTACH = 16
PTRACE_DETACH = 17
PTRACE_SECCOMP_GET_FILTER = 0x420C

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003

SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def _ptrace(request, pid, addr=None, data=None):
    r = _libc.ptrace(request, pid, addr, data)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"ptrace({request:#x}, {pid}): {os.strerror(e)}")
    return r


def read_filters(pid):
    """The programs of every filter PID runs under, newest first, each a
    list of (code, jt, jf, k)."""
    _ptrace(PTRACE_ATTACH, pid)
    try:
        os.waitpid(pid, os.__dict__.get("__WALL", 0x40000000))
        programs = []
        index = 0
        while True:
            try:
                count = _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index)
            except OSError as e:
                if e.errno == 2:  # ENOENT: no filter at that index
                    return programs
                raise
            buf = ctypes.create_string_buffer(count * 8)
            _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, buf)
            programs.append([struct.unpack_from("<HBBI", buf.raw, i * 8) for i in range(count)])
            index += 1
    finally:
        _ptrace(PTRACE_DETACH, pid)


def seccomp_data(nr, arch, args=(0, 0, 0, 0, 0, 0), ip=0):
    """struct seccomp_data as the kernel lays it out."""
    return struct.pack("<iIQ6Q", nr, arch, ip, *(list(args) + [0] * 6)[:6])


# classic BPF opcodes (linux/bpf_common.h)
_CLASS = 0x07
_LD, _LDX, _ST, _STX, _ALU, _JMP, _RET, _MISC = range(8)
_MODE_ABS, _MODE_IMM, _MODE_MEM = 0x20, 0x00, 0x60
_SRC_X = 0x08
_JA, _JEQ, _JGT, _JGE, _JSET = 0x00, 0x10, 0x20, 0x30, 0x40
_ALU_OPS = {0x00: lambda a, b: a + b, 0x10: lambda a, b: a - b, 0x20: lambda a, b: a * b,
            0x40: lambda a, b: a | b, 0x50: lambda a, b: a & b, 0x60: lambda a, b: a << b,
            0x70: lambda a, b: a >> b, 0xA0: lambda a, b: a ^ b}


def evaluate(program, data):
    """Run one classic BPF program on seccomp_data bytes; the return value."""
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        cls = code & _CLASS
        if cls == _LD:
            a = struct.unpack_from("<I", data, k)[0] if code & 0xE0 == _MODE_ABS else \
                mem[k] if code & 0xE0 == _MODE_MEM else k
        elif cls == _LDX:
            x = mem[k] if code & 0xE0 == _MODE_MEM else k
        elif cls == _ST:
            mem[k] = a
        elif cls == _STX:
            mem[k] = x
        elif cls == _ALU:
            b = x if code & _SRC_X else k
            a = _ALU_OPS[code & 0xF0](a, b) & 0xFFFFFFFF
        elif cls == _JMP:
            op = code & 0xF0
            b = x if code & _SRC_X else k
            if op == _JA:
                pc += k
                continue
            taken = {_JEQ: a == b, _JGT: a > b, _JGE: a >= b, _JSET: bool(a & b)}[op]
            pc += jt if taken else jf
        elif cls == _RET:
            return a if code & 0x18 == 0x10 else k
        elif cls == _MISC:
            if code & 0xF8 == 0x00:
                x = a  # TAX
            else:
                a = x  # TXA
        else:
            raise ValueError(f"opcode {code:#x} at {pc - 1}")


def verdict(programs, data):
    """What the kernel does with a call: the most restrictive action of all
    filters (seccomp(2): the lowest action value wins, KILL_PROCESS first)."""
    def rank(ret):
        action = ret & SECCOMP_RET_ACTION_FULL
        return -1 if action == SECCOMP_RET_KILL_PROCESS else action

    return min((evaluate(p, data) for p in programs), key=rank)
