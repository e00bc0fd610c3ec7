"""The one Z80 opcode description shared by the assembler, the disassembler
and the listings.

`OPCODES` lists every opcode of every prefix group as an `Opcode` record:
its mnemonic and operand templates (the form the assembler matches and the
disassembler prints), its byte layout with placeholders for operands, its
T-states (taken / not-taken pair for conditional instructions), whether
Zilog documents it, and whether it is the *canonical* encoding of its text
(several undocumented encodings duplicate another one, e.g. ED 4C = neg; the
assembler only emits canonical encodings and the disassembler prints the
others as `db` so that they round-trip).

The table is derived from the x/y/z/p/q bit fields of the opcode byte
(x = bits 7-6, y = 5-3, z = 2-0, p = 5-4, q = 3), the way the Z80 decodes
itself, so ~1,500 opcodes come from a few dozen rules.

Operand templates:
  register / condition / fixed names  'a', '(hl)', "af'", 'nz', '(c)', ...
  'n'   8-bit immediate            'nn'   16-bit immediate
  '(n)' 8-bit port address         '(nn)' 16-bit memory address
  'rel' relative jump target (absolute address in the source)
  '(ix+d)', '(iy+d)'  indexed with a signed 8-bit displacement
  int   a fixed number (bit number, interrupt mode, restart address, 0)
Byte layout placeholders: 'n', 'nn' (two bytes, little-endian), 'd', 'rel'.
This module owns no CPU behaviour (see z80emu.cpu) and no syntax (asm).
"""
from __future__ import annotations

from dataclasses import dataclass

GROUPS = ("", "cb", "ed", "dd", "fd", "ddcb", "fdcb")
PREFIX_BYTES = {"": (), "cb": (0xCB,), "ed": (0xED,), "dd": (0xDD,),
                "fd": (0xFD,), "ddcb": (0xDD, 0xCB), "fdcb": (0xFD, 0xCB)}

R = ("b", "c", "d", "e", "h", "l", "(hl)", "a")
RP = ("bc", "de", "hl", "sp")
RP2 = ("bc", "de", "hl", "af")
CC = ("nz", "z", "nc", "c", "po", "pe", "p", "m")
ALU = ("add", "adc", "sub", "sbc", "and", "xor", "or", "cp")
# Operand lists as written in Zilog syntax: add/adc/sbc name the accumulator.
ALU_A = {"add": True, "adc": True, "sbc": True}
ROT = ("rlc", "rrc", "rl", "rr", "sla", "sra", "sll", "srl")
IM_MODE = (0, 0, 1, 2, 0, 0, 1, 2)
# The canonical encoding of each interrupt mode (ED 46/56/5E).
IM_CANONICAL_Y = {0: 0, 1: 2, 2: 3}


@dataclass(frozen=True)
class Opcode:
    group: str              # one of GROUPS
    opcode: int             # the opcode byte within its group
    mnemonic: str           # lower case
    operands: tuple         # operand templates (see module docstring)
    layout: tuple           # bytes and placeholders, e.g. (0xDD, 0x36, 'd', 'n')
    tstates: int            # T-states (taken, for conditional instructions)
    tstates_not_taken: int | None = None
    documented: bool = True
    canonical: bool = True

    @property
    def size(self) -> int:
        return sum(2 if b == "nn" else 1 for b in self.layout)

    def timing_text(self) -> str:
        """'7', or '12/7' for a conditional instruction (taken/not taken)."""
        if self.tstates_not_taken is None:
            return str(self.tstates)
        return f"{self.tstates}/{self.tstates_not_taken}"


def _op(group, opcode, mnemonic, operands, t, nt=None, documented=True,
        canonical=True, tail=()):
    """Build an entry; the layout is prefix + opcode + operand placeholders
    (for ddcb/fdcb: prefix, 'd', opcode)."""
    if group in ("ddcb", "fdcb"):
        layout = PREFIX_BYTES[group] + ("d", opcode)
    else:
        layout = PREFIX_BYTES[group] + (opcode,) + tuple(tail)
    return Opcode(group, opcode, mnemonic, tuple(operands), layout, t, nt,
                  documented, canonical)


def _imm_tail(operands):
    """Operand placeholders in encoding order for the unprefixed/ED forms."""
    tail = []
    for o in operands:
        if o in ("n", "(n)"):
            tail.append("n")
        elif o in ("nn", "(nn)"):
            tail.append("nn")
        elif o == "rel":
            tail.append("rel")
    return tuple(tail)


def _base_table():
    """The unprefixed opcodes: (opcode, mnemonic, operands, t, not_taken)."""
    out = []
    for op in range(256):
        x, y, z = op >> 6, (op >> 3) & 7, op & 7
        p, q = y >> 1, y & 1
        e = None
        if x == 0:
            if z == 0:
                e = [("nop", (), 4), ("ex", ("af", "af'"), 4),
                     ("djnz", ("rel",), 13, 8), ("jr", ("rel",), 12)][y] \
                    if y < 4 else ("jr", (CC[y - 4], "rel"), 12, 7)
            elif z == 1:
                e = ("ld", (RP[p], "nn"), 10) if q == 0 else \
                    ("add", ("hl", RP[p]), 11)
            elif z == 2:
                e = [("ld", ("(bc)", "a"), 7), ("ld", ("a", "(bc)"), 7),
                     ("ld", ("(de)", "a"), 7), ("ld", ("a", "(de)"), 7),
                     ("ld", ("(nn)", "hl"), 16), ("ld", ("hl", "(nn)"), 16),
                     ("ld", ("(nn)", "a"), 13), ("ld", ("a", "(nn)"), 13)][y]
            elif z == 3:
                e = ("inc" if q == 0 else "dec", (RP[p],), 6)
            elif z in (4, 5):
                e = ("inc" if z == 4 else "dec", (R[y],), 11 if y == 6 else 4)
            elif z == 6:
                e = ("ld", (R[y], "n"), 10 if y == 6 else 7)
            else:
                e = (("rlca", "rrca", "rla", "rra", "daa", "cpl", "scf",
                      "ccf")[y], (), 4)
        elif x == 1:
            if op == 0x76:
                e = ("halt", (), 4)
            else:
                e = ("ld", (R[y], R[z]), 7 if 6 in (y, z) else 4)
        elif x == 2:
            e = (ALU[y], _alu_ops(ALU[y], R[z]), 7 if z == 6 else 4)
        else:
            if z == 0:
                e = ("ret", (CC[y],), 11, 5)
            elif z == 1:
                e = ("pop", (RP2[p],), 10) if q == 0 else [
                    ("ret", (), 10), ("exx", (), 4), ("jp", ("(hl)",), 4),
                    ("ld", ("sp", "hl"), 6)][p]
            elif z == 2:
                e = ("jp", (CC[y], "nn"), 10)      # 10 taken or not
            elif z == 3:
                e = [("jp", ("nn",), 10), None, ("out", ("(n)", "a"), 11),
                     ("in", ("a", "(n)"), 11), ("ex", ("(sp)", "hl"), 19),
                     ("ex", ("de", "hl"), 4), ("di", (), 4), ("ei", (), 4)][y]
            elif z == 4:
                e = ("call", (CC[y], "nn"), 17, 10)
            elif z == 5:
                e = ("push", (RP2[p],), 11) if q == 0 else \
                    (("call", ("nn",), 17) if p == 0 else None)
            elif z == 6:
                e = (ALU[y], _alu_ops(ALU[y], "n"), 7)
            else:
                e = ("rst", (y * 8,), 11)
        if e is not None:
            out.append((op,) + tuple(e))
    return out


def _alu_ops(mnemonic, operand):
    return ("a", operand) if mnemonic in ALU_A else (operand,)


def _build():
    table = []
    base = _base_table()
    for op, mn, ops, t, *nt in base:
        table.append(_op("", op, mn, ops, t, nt[0] if nt else None,
                         tail=_imm_tail(ops)))
    # CB: rotates/shifts, bit, res, set.
    for op in range(256):
        x, y, z = op >> 6, (op >> 3) & 7, op & 7
        mem = z == 6
        if x == 0:
            table.append(_op("cb", op, ROT[y], (R[z],), 15 if mem else 8,
                             documented=ROT[y] != "sll"))
        else:
            mn = ("bit", "res", "set")[x - 1]
            t = (12 if x == 1 else 15) if mem else 8
            table.append(_op("cb", op, mn, (y, R[z]), t))
    # ED.
    for op in range(256):
        x, y, z = op >> 6, (op >> 3) & 7, op & 7
        p, q = y >> 1, y & 1
        e = None
        doc, canon = True, True
        if x == 1:
            if z == 0:
                e = ("in", ("(c)",), 12) if y == 6 else ("in", (R[y], "(c)"), 12)
                doc = y != 6
            elif z == 1:
                e = ("out", ("(c)", 0), 12) if y == 6 else ("out", ("(c)", R[y]), 12)
                doc = y != 6
            elif z == 2:
                e = ("sbc" if q == 0 else "adc", ("hl", RP[p]), 15)
            elif z == 3:
                e = ("ld", ("(nn)", RP[p]), 20) if q == 0 else ("ld", (RP[p], "(nn)"), 20)
                canon = p != 2          # ED 63/6B duplicate 22/2A
                doc = p != 2
            elif z == 4:
                e = ("neg", (), 8)
                doc = canon = y == 0
            elif z == 5:
                e = ("reti", (), 14) if y == 1 else ("retn", (), 14)
                doc = canon = y in (0, 1)
            elif z == 6:
                e = ("im", (IM_MODE[y],), 8)
                doc = canon = IM_CANONICAL_Y[IM_MODE[y]] == y
            else:
                e = [("ld", ("i", "a"), 9), ("ld", ("r", "a"), 9),
                     ("ld", ("a", "i"), 9), ("ld", ("a", "r"), 9),
                     ("rrd", (), 18), ("rld", (), 18), None, None][y]
        elif x == 2 and z <= 3 and y >= 4:
            mn = (("ldi", "cpi", "ini", "outi"), ("ldd", "cpd", "ind", "outd"),
                  ("ldir", "cpir", "inir", "otir"),
                  ("lddr", "cpdr", "indr", "otdr"))[y - 4][z]
            e = (mn, (), 21, 16) if y >= 6 else (mn, (), 16)
        if e is not None:
            mn, ops, t, *nt = e
            table.append(_op("ed", op, mn, ops, t, nt[0] if nt else None,
                             documented=doc, canonical=canon,
                             tail=_imm_tail(ops)))
    # DD / FD: every unprefixed opcode that touches HL, H or L.
    for group, ix in (("dd", "ix"), ("fd", "iy")):
        idx = f"({ix}+d)"
        for op, mn, ops, t, *nt in base:
            if op in (0xEB, 0xD9, 0x76):      # ex de,hl / exx / halt: no HL
                continue
            uses_mem = "(hl)" in ops
            new_ops = []
            undoc = False
            for o in ops:
                if o == "(hl)" and mn != "jp":
                    new_ops.append(idx)
                elif o == "(hl)":
                    new_ops.append(f"({ix})")
                elif o == "hl":
                    new_ops.append(ix)
                elif o in ("h", "l") and not uses_mem:
                    new_ops.append(ix + o)
                    undoc = True
                else:
                    new_ops.append(o)
            new_ops = tuple(new_ops)
            if new_ops == ops:
                continue                       # prefix has no effect
            if uses_mem and mn != "jp":
                # (ix+d): +8 for the displacement fetch and address add,
                # except ld (ix+d),n which overlaps n's fetch (19, not 18).
                t2 = 19 if (mn == "ld" and ops[1] == "n") else t + 12
                tail = ("d",) + _imm_tail(new_ops)
            else:
                t2 = t + 4
                tail = _imm_tail(new_ops)
            table.append(_op(group, op, mn, new_ops, t2,
                             (nt[0] + 4) if nt else None,
                             documented=not undoc, tail=tail))
        # DDCB / FDCB d op.
        for op in range(256):
            x, y, z = op >> 6, (op >> 3) & 7, op & 7
            if x == 1:
                table.append(_op(group + "cb", op, "bit", (y, idx), 20,
                                 documented=z == 6, canonical=z == 6))
                continue
            mn = ROT[y] if x == 0 else ("res", "set")[x - 2]
            ops = (idx,) if x == 0 else (y, idx)
            if z != 6:
                ops = ops + (R[z],)         # undocumented: result copied to r
            table.append(_op(group + "cb", op, mn, ops, 23,
                             documented=z == 6 and mn != "sll"))
    return table


OPCODES: tuple[Opcode, ...] = tuple(_build())

# Decoding: (group, opcode byte) -> Opcode.
BY_CODE: dict[tuple[str, int], Opcode] = {(o.group, o.opcode): o for o in OPCODES}

# Encoding: mnemonic -> canonical Opcodes with that mnemonic.
BY_MNEMONIC: dict[str, list[Opcode]] = {}
for _o in OPCODES:
    if _o.canonical:
        BY_MNEMONIC.setdefault(_o.mnemonic, []).append(_o)
del _o

# Alternative mnemonic spellings the assembler accepts.
ALIASES = {"sl1": "sll", "sli": "sll"}
MNEMONICS = frozenset(BY_MNEMONIC) | frozenset(ALIASES)
