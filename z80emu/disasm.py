"""Z80 disassembler built on the shared table in z80emu.opcodes.

disassemble(mem, addr) -> (text, length) prints Zilog syntax that our
assembler turns back into the same bytes: numbers as 0FFh / 1234h,
relative jumps as their absolute target, (ix+05h) / (ix-80h).

Byte sequences that have no canonical mnemonic are printed as `db` with the
meaning in a comment, so they still round-trip:
  - a DD/FD prefix that does not change the next instruction (DD 00, DD DD,
    DD ED ...): `db 0DDh ; prefix ignored`, length 1 (the CPU spends 4
    T-states on it and then decodes the next byte as a new instruction);
  - ED opcodes that do nothing (8 T-states): `db 0EDh,00h ; nop`;
  - duplicate encodings (ED 4C = neg, ED 63 = ld (nn),hl, DDCB bit with a
    register field, ...): `db 0EDh,4Ch ; neg`.
`decode(mem, addr)` returns the Opcode record too (for traces and T-states).
Memory wraps at 64K. This module owns no assembly syntax beyond printing.
"""
from __future__ import annotations

from z80emu.opcodes import BY_CODE, Opcode


def hex8(v: int) -> str:
    s = f"{v & 0xFF:02X}h"
    return "0" + s if s[0].isalpha() else s


def hex16(v: int) -> str:
    s = f"{v & 0xFFFF:04X}h"
    return "0" + s if s[0].isalpha() else s


def _db(bs) -> str:
    return "db " + ",".join(hex8(b) for b in bs)


def decode(mem, addr: int):
    """(Opcode or None, length, text). None means a `db` line (ignored
    prefix or ED no-op); the text is what disassemble() returns."""
    def rd(i):
        try:
            return int(mem[(addr + i) & 0xFFFF])
        except IndexError:          # a short buffer: read past its end as 0
            return 0

    b0 = rd(0)
    if b0 == 0xCB:
        group, code, start = "cb", rd(1), 2
    elif b0 == 0xED:
        group, code, start = "ed", rd(1), 2
        if (group, code) not in BY_CODE:
            return None, 2, f"{_db((b0, code))} ; nop (undefined ED opcode)"
    elif b0 in (0xDD, 0xFD):
        b1 = rd(1)
        g = "dd" if b0 == 0xDD else "fd"
        if b1 == 0xCB:
            group, code, start = g + "cb", rd(3), 4
        elif (g, b1) in BY_CODE:
            group, code, start = g, b1, 2
        else:
            return None, 1, f"{_db((b0,))} ; prefix ignored"
    else:
        group, code, start = "", b0, 1
    op: Opcode = BY_CODE[(group, code)]
    length = op.size
    raw = [rd(i) for i in range(length)]
    # Operand values in layout order.
    vals = []
    i = 0
    for b in op.layout:
        if b == "nn":
            vals.append(raw[i] | (raw[i + 1] << 8))
            i += 2
        else:
            if not isinstance(b, int):
                vals.append(raw[i])
            i += 1
    texts = []
    vi = 0
    for t in op.operands:
        if isinstance(t, int):
            texts.append(hex8(t) if op.mnemonic == "rst" else str(t))
        elif t in ("n", "nn", "(n)", "(nn)"):
            v = vals[vi]
            vi += 1
            s = hex8(v) if t in ("n", "(n)") else hex16(v)
            texts.append(f"({s})" if t.startswith("(") else s)
        elif t == "rel":
            v = vals[vi]
            vi += 1
            disp = v - 256 if v >= 128 else v
            texts.append(hex16(addr + length + disp))
        elif t.endswith("+d)"):
            v = vals[vi]
            vi += 1
            sign = "-" if v >= 128 else "+"
            texts.append(f"({t[1:3]}{sign}{hex8(256 - v if v >= 128 else v)})")
        else:
            texts.append(t)
    text = op.mnemonic + (" " + ",".join(texts) if texts else "")
    if not op.canonical:
        return op, length, f"{_db(raw)} ; {text}"
    return op, length, text


def disassemble(mem, addr: int) -> tuple[str, int]:
    """Text and length in bytes of the instruction at addr."""
    _, length, text = decode(mem, addr)
    return text, length


def tstates_text(mem, addr: int) -> str:
    """'7', '12/7', or '4' for an ignored prefix, '8' for an ED no-op."""
    op, length, _ = decode(mem, addr)
    if op is None:
        return "4" if length == 1 else "8"
    return op.timing_text()


def disassemble_range(mem, start: int, end: int):
    """(address, bytes, text) for each instruction from start up to end
    (exclusive); the last one may run past end."""
    out = []
    addr = start
    while addr < end:
        text, length = disassemble(mem, addr)
        out.append((addr, bytes(int(mem[(addr + i) & 0xFFFF]) for i in range(length)), text))
        addr += length
    return out
