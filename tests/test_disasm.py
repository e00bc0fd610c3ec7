"""The disassembler: every opcode in every prefix combination prints text
that our assembler turns back into the same bytes, and the text itself is
right for representative and tricky cases."""
from __future__ import annotations

import pytest

from z80emu.asm import assemble
from z80emu.disasm import decode, disassemble, tstates_text
from z80emu.opcodes import BY_CODE, OPCODES

ORG = 0x8000

# Leading bytes for every prefix combination; the opcode byte follows.
PREFIXES = [(), (0xCB,), (0xED,), (0xDD,), (0xFD,), (0xDD, 0xCB, None),
            (0xFD, 0xCB, None), (0xDD, 0xDD), (0xFD, 0xDD), (0xDD, 0xFD),
            (0xDD, 0xED), (0xFD, 0xED), (0xED, 0xCB)]
# Operand bytes after the opcode (two sets: positive and negative values).
OPERANDS = [(0x12, 0x34, 0x56), (0x85, 0xFB, 0x80)]


def _bytes_for(prefix, op, operands):
    if None in prefix:                       # DDCB d op: displacement first
        return bytes(prefix[:2]) + bytes([operands[0], op]) + bytes(operands[1:])
    return bytes(prefix) + bytes([op]) + bytes(operands)


def _roundtrip(code: bytes, addr=ORG):
    mem = bytearray(65536)
    for i, b in enumerate(code):
        mem[(addr + i) & 0xFFFF] = b
    text, length = disassemble(mem, addr)
    res = assemble(f" org {addr}\n {text}\n")
    return text, length, res.binary


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda p: "".join(
    "xx" if b is None else f"{b:02x}" for b in p) or "none")
def test_every_opcode_assembles_back_to_the_same_bytes(prefix):
    for op in range(256):
        for operands in OPERANDS:
            code = _bytes_for(prefix, op, operands)
            text, length, back = _roundtrip(code)
            assert back == code[:length], f"{code.hex()} -> '{text}' -> {back.hex()}"


def test_roundtrip_count_covers_all_groups():
    # 13 prefix combinations x 256 opcodes x 2 operand sets.
    assert len(PREFIXES) * 256 * len(OPERANDS) == 6656
    assert len(OPCODES) == 1268 and len(BY_CODE) == 1268


@pytest.mark.parametrize("code,text", [
    ("00", "nop"),
    ("3e12", "ld a,12h"),
    ("21cdab", "ld hl,0ABCDh"),
    ("dd7e05", "ld a,(ix+05h)"),
    ("fd7efb", "ld a,(iy-05h)"),
    ("dd7e80", "ld a,(ix-80h)"),
    ("dd3605ff", "ld (ix+05h),0FFh"),
    ("ddcb05c6", "set 0,(ix+05h)"),
    ("ddcb05c7", "set 0,(ix+05h),a"),
    ("fdcb0536", "sll (iy+05h)"),
    ("cb37", "sll a"),
    ("dd7c", "ld a,ixh"),
    ("fd6f", "ld iyl,a"),
    ("dd66ff", "ld h,(ix-01h)"),
    ("ed70", "in (c)"),
    ("ed71", "out (c),0"),
    ("ed78", "in a,(c)"),
    ("db12", "in a,(12h)"),
    ("08", "ex af,af'"),
    ("dde9", "jp (ix)"),
    ("ff", "rst 38h"),
    ("ed5e", "im 2"),
    ("10fe", "djnz 8000h"),
    ("18fe", "jr 8000h"),
    ("3810", "jr c,8012h"),
    ("cd3412", "call 1234h"),
    ("ed4b3412", "ld bc,(1234h)"),
    ("dd00", "db 0DDh ; prefix ignored"),
    ("dddd21", "db 0DDh ; prefix ignored"),
    ("ed00", "db 0EDh,00h ; nop (undefined ED opcode)"),
    ("ed4c", "db 0EDh,4Ch ; neg"),
    ("ed633412", "db 0EDh,63h,34h,12h ; ld (1234h),hl"),
    ("ddcb0540", "db 0DDh,0CBh,05h,40h ; bit 0,(ix+05h)"),
])
def test_text(code, text):
    mem = bytearray(65536)
    raw = bytes.fromhex(code)
    mem[ORG:ORG + len(raw)] = raw
    got, length = disassemble(mem, ORG)
    assert got == text
    assert length == {"dd00": 1, "dddd21": 1}.get(code, len(raw))


def test_length_of_ddcb_is_four_and_ed_noop_is_two():
    assert disassemble(bytes.fromhex("ddcb0506"), 0) == ("rlc (ix+05h)", 4)
    assert disassemble(bytes.fromhex("ed00"), 0)[1] == 2


def test_relative_jump_and_memory_wrap_at_64k():
    mem = bytearray(65536)
    mem[0xFFFF] = 0x18          # jr at FFFF: displacement byte at 0000
    mem[0x0000] = 0x05
    text, length = disassemble(mem, 0xFFFF)
    assert (text, length) == ("jr 0006h", 2)


def test_accepts_any_int_indexable_memory():
    import numpy as np
    mem = np.zeros(65536, dtype=np.uint8)
    mem[0:3] = [0xC3, 0x00, 0x01]
    assert disassemble(mem, 0) == ("jp 0100h", 3)
    assert disassemble([0xC9], 0) == ("ret", 1)


@pytest.mark.parametrize("code,t", [
    ("00", "4"), ("20fe", "12/7"), ("10fe", "13/8"), ("c0", "11/5"),
    ("c40000", "17/10"), ("edb0", "21/16"), ("dd7e00", "19"),
    ("dd3400", "23"), ("ddcb0046", "20"), ("ddcb0006", "23"), ("cb46", "12"),
    ("cb40", "8"), ("cb06", "15"), ("cbc6", "15"), ("dd3600ff", "19"),
    ("dd00", "4"), ("ed00", "8"), ("e3", "19"), ("dde3", "23"), ("ed4b0000", "20"),
    ("dd24", "8"), ("dd2e00", "11"), ("ed57", "9"), ("ed6f", "18"), ("edb1", "21/16"),
    ("eda0", "16"), ("ed4d", "14"), ("ed44", "8"), ("f9", "6"), ("ddf9", "10"),
])
def test_tstates(code, t):
    raw = bytes.fromhex(code)
    assert tstates_text(raw + b"\0\0\0", 0) == t


def test_decode_returns_the_table_entry():
    op, length, text = decode(bytes.fromhex("dd213412"), 0)
    assert op.mnemonic == "ld" and op.operands == ("ix", "nn") and length == 4
    assert op.tstates == 14 and text == "ld ix,1234h"


def test_disassemble_range_walks_instruction_by_instruction():
    from z80emu.disasm import disassemble_range
    code = assemble(" org 100h\nstart: ld hl,msg\n jr start\nmsg: db 0DDh\n nop").binary
    mem = bytearray(65536)
    mem[0x100:0x100 + len(code)] = code
    rows = disassemble_range(mem, 0x100, 0x100 + len(code))
    assert rows == [(0x100, bytes.fromhex("210501"), "ld hl,0105h"),
                    (0x103, bytes.fromhex("18fb"), "jr 0100h"),
                    (0x105, bytes.fromhex("dd"), "db 0DDh ; prefix ignored"),
                    (0x106, bytes.fromhex("00"), "nop")]
