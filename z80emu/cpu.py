"""The Z80 CPU core: every documented and undocumented instruction, cycle-exact.

What it owns: registers (incl. MEMPTR/WZ, the Q and LD-A,I/R latches, R, IFF1/2, IM, HALT),
64 KiB of memory (`mem`, a numpy uint8[65536] you read and write directly), two port arrays
(`io_in`: what IN reads, by full 16-bit port; `io_out`: the last value OUT wrote), T-state and
instruction counters, maskable/non-maskable interrupts, and per-address traps/breakpoints.

What it does not own: any machine. It knows nothing of CP/M, consoles or disks; a machine sets
a trap on an address (e.g. the BDOS entry 0005h), `run()` stops *before* executing there, and
the machine handles the call in Python and resumes (e.g. `cpu.pc = cpu.pop()`).

Behaviour worth knowing:
- HALT leaves PC on the next instruction and sets `halted`; run()/step() then return
  STOP_HALT at once (no T-states pass) until an interrupt is raised, which resumes after HALT.
- Interrupts are accepted at instruction boundaries (IM 0: 13 T, only an RST byte on the bus
  is executed; IM 1: 13 T; IM 2: 19 T; NMI: 11 T). A DD/FD prefix and the instruction it
  modifies count as one instruction.
- `io_in` starts as all 0FFh (a floating bus); the core never calls out for I/O.

The run loop is one numba function (`_core.run_core`) with all registers in local variables;
between calls the int64 state array `cpu.state` is the single source of truth, so the register
properties are cheap array reads.
"""
from __future__ import annotations

import numpy as np

from . import _tables as T
from ._core import run_core
from ._tables import (ADDR_BREAKPOINT, ADDR_TRAP, STOP_BREAKPOINT, STOP_BUDGET, STOP_HALT,
                      STOP_TRAP)

__all__ = ["Z80", "STOP_BUDGET", "STOP_TRAP", "STOP_BREAKPOINT", "STOP_HALT", "STOP_NAMES"]

MAX_BUDGET = 1 << 62  # T-states: about 36,000 years at 4 MHz

STOP_NAMES = {STOP_BUDGET: "budget", STOP_TRAP: "trap", STOP_BREAKPOINT: "breakpoint",
              STOP_HALT: "halt"}


def _reg8(index: int) -> property:
    def get(self: "Z80") -> int:
        return int(self.state[index])

    def set_(self: "Z80", value: int) -> None:
        self.state[index] = int(value) & 0xFF
    return property(get, set_)


def _pair(hi: int, lo: int) -> property:
    def get(self: "Z80") -> int:
        return (int(self.state[hi]) << 8) | int(self.state[lo])

    def set_(self: "Z80", value: int) -> None:
        value = int(value) & 0xFFFF
        self.state[hi] = value >> 8
        self.state[lo] = value & 0xFF
    return property(get, set_)


def _reg16(index: int) -> property:
    def get(self: "Z80") -> int:
        return int(self.state[index])

    def set_(self: "Z80", value: int) -> None:
        self.state[index] = int(value) & 0xFFFF
    return property(get, set_)


def _half(index: int, shift: int) -> property:
    def get(self: "Z80") -> int:
        return (int(self.state[index]) >> shift) & 0xFF

    def set_(self: "Z80", value: int) -> None:
        old = int(self.state[index])
        self.state[index] = (old & ~(0xFF << shift) & 0xFFFF) | ((int(value) & 0xFF) << shift)
    return property(get, set_)


def _flag(index: int) -> property:
    def get(self: "Z80") -> int:
        return int(self.state[index])

    def set_(self: "Z80", value: int) -> None:
        self.state[index] = 1 if value else 0
    return property(get, set_)


class Z80:
    """A Z80 with 64 KiB of memory. See the module docstring and ARCHITECTURE.md."""

    a = _reg8(T.R_A)
    f = _reg8(T.R_F)
    b = _reg8(T.R_B)
    c = _reg8(T.R_C)
    d = _reg8(T.R_D)
    e = _reg8(T.R_E)
    h = _reg8(T.R_H)
    l = _reg8(T.R_L)  # noqa: E741
    i = _reg8(T.R_I)
    r = _reg8(T.R_R)
    q = _reg8(T.R_Q)
    af = _pair(T.R_A, T.R_F)
    bc = _pair(T.R_B, T.R_C)
    de = _pair(T.R_D, T.R_E)
    hl = _pair(T.R_H, T.R_L)
    af_ = _reg16(T.R_AF_)
    bc_ = _reg16(T.R_BC_)
    de_ = _reg16(T.R_DE_)
    hl_ = _reg16(T.R_HL_)
    ix = _reg16(T.R_IX)
    iy = _reg16(T.R_IY)
    sp = _reg16(T.R_SP)
    pc = _reg16(T.R_PC)
    wz = _reg16(T.R_WZ)
    ixh = _half(T.R_IX, 8)
    ixl = _half(T.R_IX, 0)
    iyh = _half(T.R_IY, 8)
    iyl = _half(T.R_IY, 0)
    iff1 = _flag(T.R_IFF1)
    iff2 = _flag(T.R_IFF2)
    halted = _flag(T.R_HALTED)
    p_latch = _flag(T.R_P)    # last instruction was LD A,I / LD A,R
    ei_latch = _flag(T.R_EI)  # last instruction was EI

    def __init__(self) -> None:
        self.state = np.zeros(T.STATE_SIZE, dtype=np.int64)
        self.mem = np.zeros(0x10000, dtype=np.uint8)
        self.io_in = np.full(0x10000, 0xFF, dtype=np.uint8)
        self.io_out = np.zeros(0x10000, dtype=np.uint8)
        self.addr_flags = np.zeros(0x10000, dtype=np.uint8)
        self.reset()

    def reset(self) -> None:
        """Power-on/RESET state: PC=0, I=R=0, IM 0, interrupts off; AF and SP all ones.
        Memory, ports and traps are kept; counters are zeroed."""
        st = self.state
        st[:] = 0
        st[T.R_A] = 0xFF
        st[T.R_F] = 0xFF
        st[T.R_SP] = 0xFFFF
        st[T.R_IRQ_DATA] = 0xFF

    # ---- registers with special ranges ----
    @property
    def im(self) -> int:
        return int(self.state[T.R_IM])

    @im.setter
    def im(self, value: int) -> None:
        if value not in (0, 1, 2):
            raise ValueError(f"interrupt mode must be 0, 1 or 2, not {value!r}")
        self.state[T.R_IM] = value

    @property
    def tstates(self) -> int:
        return int(self.state[T.R_TSTATES])

    @tstates.setter
    def tstates(self, value: int) -> None:
        self.state[T.R_TSTATES] = int(value)

    @property
    def instructions(self) -> int:
        return int(self.state[T.R_INSTR])

    @instructions.setter
    def instructions(self, value: int) -> None:
        self.state[T.R_INSTR] = int(value)

    # ---- traps and breakpoints ----
    def set_trap(self, addr: int, on: bool = True) -> None:
        """run()/step() stop with STOP_TRAP before executing the instruction at addr."""
        self._mark(addr, ADDR_TRAP, on)

    def set_breakpoint(self, addr: int, on: bool = True) -> None:
        """Like a trap, but reported as STOP_BREAKPOINT (wins if both are set)."""
        self._mark(addr, ADDR_BREAKPOINT, on)

    def _mark(self, addr: int, bit: int, on: bool) -> None:
        addr = int(addr) & 0xFFFF
        if on:
            self.addr_flags[addr] |= bit
        else:
            self.addr_flags[addr] &= ~bit & 0xFF

    # ---- running ----
    def run(self, budget: int) -> int:
        """Run at least `budget` more T-states (stopping at the first instruction boundary at or
        after it), or until a trap/breakpoint address is reached (never at the first instruction
        executed, so a handler can resume) or the CPU halts with no interrupt to take.
        Returns STOP_BUDGET, STOP_TRAP, STOP_BREAKPOINT or STOP_HALT. A trap at the boundary
        where the budget runs out is reported as the trap, so a budget stop never skips one."""
        budget = min(max(int(budget), 0), MAX_BUDGET)  # t + budget must stay within int64
        return int(run_core(self.state, self.mem, self.io_in, self.io_out, self.addr_flags,
                            budget, False))

    def step(self) -> int:
        """Execute exactly one instruction (or accept one pending interrupt). Returns STOP_HALT
        if the CPU is halted afterwards, STOP_TRAP/STOP_BREAKPOINT if PC is now on a trap or
        breakpoint address, else STOP_BUDGET."""
        return int(run_core(self.state, self.mem, self.io_in, self.io_out, self.addr_flags,
                            0, True))

    # ---- helpers for machines (no T-states) ----
    def push(self, word: int) -> None:
        sp = (self.sp - 1) & 0xFFFF
        self.mem[sp] = (int(word) >> 8) & 0xFF
        sp = (sp - 1) & 0xFFFF
        self.mem[sp] = int(word) & 0xFF
        self.sp = sp

    def pop(self) -> int:
        sp = self.sp
        word = int(self.mem[sp]) | (int(self.mem[(sp + 1) & 0xFFFF]) << 8)
        self.sp = (sp + 2) & 0xFFFF
        return word

    def irq(self, data: int = 0xFF) -> None:
        """Raise the maskable interrupt; it is taken at the next instruction boundary where
        IFF1 is set (and not right after EI). `data` is the byte the device puts on the bus:
        the low byte of the IM 2 vector address, or the RST instruction in IM 0."""
        self.state[T.R_IRQ] = 1
        self.state[T.R_IRQ_DATA] = int(data) & 0xFF

    def cancel_irq(self) -> None:
        self.state[T.R_IRQ] = 0

    def nmi(self) -> None:
        """Raise the non-maskable interrupt (taken at the next instruction boundary)."""
        self.state[T.R_NMI] = 1

    @property
    def irq_pending(self) -> bool:
        return bool(self.state[T.R_IRQ])

    def load(self, addr: int, data: bytes) -> None:
        """Copy bytes into memory at addr (wrapping at 64 KiB)."""
        buf = np.frombuffer(bytes(data), dtype=np.uint8)
        addr = int(addr) & 0xFFFF
        first = min(len(buf), 0x10000 - addr)
        self.mem[addr:addr + first] = buf[:first]
        if first < len(buf):
            self.mem[:len(buf) - first] = buf[first:]

    def registers(self) -> dict:
        """All registers as a dict (for traces and test failure messages)."""
        names = ("a f b c d e h l i r af_ bc_ de_ hl_ ix iy sp pc wz im iff1 iff2 halted q "
                 "tstates").split()
        return {n: getattr(self, n) for n in names}

    def __repr__(self) -> str:
        return (f"Z80(pc={self.pc:04X} sp={self.sp:04X} af={self.af:04X} bc={self.bc:04X} "
                f"de={self.de:04X} hl={self.hl:04X} ix={self.ix:04X} iy={self.iy:04X} "
                f"t={self.tstates})")
