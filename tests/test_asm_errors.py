"""Every error names file:line:col and says what is wrong; the CLI prints
that one line, exits 1, never shows a traceback and never writes output on
failure."""
from __future__ import annotations

import subprocess
import sys

import pytest

from z80emu.asm import AsmError, assemble, assemble_file
from z80emu.asm.__main__ import main


@pytest.mark.parametrize("src,expected", [
    (" jp nowhere", "t.asm:1:5: error: undefined symbol 'nowhere'"),
    (" org 0\nx: jr far\n ds 200\nfar: nop",
     "t.asm:2:7: error: relative jump out of range: target is 200 bytes away (allowed -128..127)"),
    ("back: nop\n ds 130\n djnz back",
     "t.asm:3:7: error: relative jump out of range: target is -133 bytes away (allowed -128..127)"),
    (" ld a,300", "t.asm:1:7: error: value 300 out of range for a byte (-128..255)"),
    (" ld a,(ix+200)", "t.asm:1:7: error: index displacement 200 out of range (-128..127)"),
    (" out (300),a", "t.asm:1:6: error: value 300 out of range for a port number (0..255)"),
    (" db 256", "t.asm:1:5: error: value 256 out of range for a byte (-128..255)"),
    (" db 1, -129", "t.asm:1:8: error: value -129 out of range for a byte (-128..255)"),
    (" dw 70000", "t.asm:1:5: error: value 70000 out of range for a word (-32768..65535)"),
    (" frob a,b", "t.asm:1:2: error: unknown mnemonic or directive 'frob'"),
    (" im 3", "t.asm:1:5: error: 'im' operand must be one of 0, 1, 2, got 3"),
    (" rst 9", "t.asm:1:6: error: 'rst' operand must be one of 00h, 08h, 10h, 18h, "
               "20h, 28h, 30h, 38h, got 09h"),
    (" bit 8,a", "t.asm:1:6: error: 'bit' operand must be one of 0, 1, 2, 3, 4, 5, 6, 7, got 8"),
    ("x: nop\nx: nop", "t.asm:2:1: error: symbol 'x' is already defined"),
    (" ld a,(1+", "t.asm:1:10: error: expression ends too early"),
    (" ld a,1/0", "t.asm:1:8: error: division by zero"),
    (" db 'abc", "t.asm:1:5: error: unterminated string (missing closing ')"),
    (' include "nofile.asm"', "t.asm:1:10: error: file 'nofile.asm' not found"),
    (" if 1\n nop", "t.asm:1:1: error: 'if' without 'endif'"),
    (" endif", "t.asm:1:2: error: 'endif' without 'if'"),
    (" else", "t.asm:1:2: error: 'else' without 'if'"),
    (" if 1\n nop\n else\n nop\n else\n endif",
     "t.asm:5:2: error: second 'else' for the 'if' at line 1"),
    (" if 1\n if 0\n else\n else\n endif\n endif",
     "t.asm:4:2: error: second 'else' for the 'if' at line 2"),
    (" rept 2\n nop", "t.asm:1:1: error: block has no matching 'endm'/'endr'"),
    (".loc: nop", "t.asm:1:1: error: local label '.loc' before any global label"),
    ("nop: nop", "t.asm:1:1: error: 'nop' is a reserved word and cannot be a label"),
    (" push ix,", "t.asm:1:10: error: empty operand"),
    (" org 10000h", "t.asm:1:6: error: 'org' address 65536 out of range (0..0FFFFH)"),
    (" org 0FFFFh\n ld hl,0", "t.asm:2:2: error: code runs past address 0FFFFH"),
    (" db 1\n org 0\n db 2", "t.asm:3:2: error: bytes overlap code already emitted at 0000H"),
    (" ds UNKNOWN", "t.asm:1:5: error: undefined symbol 'UNKNOWN'"),
    (" ld a,hl", "t.asm:1:5: error: bad operands for 'ld': 'a,hl' (accepted forms: "
                 "ld a,(bc); ld a,(de); ld a,(hl); ld a,(ix+d); ld a,(iy+d); ld a,(nn); "
                 "ld a,a; ld a,b ...)"),
    (" ex de,ix", "t.asm:1:5: error: bad operands for 'ex': 'de,ix' (accepted forms: ex de,hl)"),
    (" nop\n\tld\tb,c\n  djnz $+200",
     "t.asm:3:8: error: relative jump out of range: target is 198 bytes away (allowed -128..127)"),
    (" ld a,c d", "t.asm:1:9: error: unexpected 'd' in expression"),
    ("m macro\n endm\n m 1", "t.asm:3:4: error: macro 'm' takes 0 arguments, got 1"),
    ("m macro\n m\n endm\n m", "t.asm:2:1: error: macros nested too deeply (does 'm' call itself?)"),
    ("m macro v\n nop\n ld a,v\n endm\n nop\n m 300",
     "t.asm:3:7: error: value 300 out of range for a byte (-128..255) (in macro 'm' called at t.asm:6)"),
    ("inner macro\n ld a,nothere\n endm\nouter macro\n nop\n inner\n endm\n outer",
     "t.asm:2:7: error: undefined symbol 'nothere' "
     "(in macro 'inner' called at t.asm:6, in macro 'outer' called at t.asm:8)"),
    # The error is in an equ outside the macro: no macro note.
    ("m macro\n ld a,QA\n endm\n m\nQA equ QB\nQB equ nothere",
     "t.asm:6:8: error: undefined symbol 'nothere'"),
    (" ld a,@", "t.asm:1:7: error: unexpected character '@'"),
    (" ld a,1+?", "t.asm:1:9: error: unexpected character '?'"),
    (" ld hl,$$", "t.asm:1:9: error: unexpected '$' in expression"),
    (" ld a,1 0", "t.asm:1:9: error: unexpected '0' in expression"),
    (" ld a,(and)", "t.asm:1:8: error: unexpected 'and' in expression"),
    (' db "h\u00e9\u20ac"', "t.asm:1:8: error: character '\u20ac' does not fit in a byte "
                           "(use ASCII or latin-1)"),
    (" ld a," + "-" * 3000 + "1", "t.asm:1:7: error: expression nested too deeply"),
    ("a1 equ b1\nb1 equ a1",
     "t.asm:2:8: error: circular definition: 'b1' depends on itself (through 'a1')"),
    ("x equ x+1", "t.asm:1:7: error: circular definition: 'x' depends on itself"),
    (" ld a,c1\nc1 equ c2\nc2 equ c3*2\nc3 equ 1+c1",
     "t.asm:4:10: error: circular definition: 'c3' depends on itself (through 'c1', 'c2')"),
    ("p1 equ p2\np2 equ nothere", "t.asm:2:8: error: undefined symbol 'nothere'"),
    (" db 0" + "+1" * 3000, "t.asm:1:5: error: value 3000 out of range for a byte (-128..255)"),
])
def test_error_messages(src, expected):
    with pytest.raises(AsmError) as ei:
        assemble(src, "t.asm")
    assert str(ei.value) == expected


def test_sizes_without_a_fixed_point_are_an_error_not_wrong_bytes():
    # END_ = N and N = END_ + 1: every pass grows both.
    with pytest.raises(AsmError, match=r"^t\.asm:2:1: error: symbol 'END_' changed value "
                                       r"between passes \(\w+ -> \w+\); a size depends on "
                                       r"a forward reference$"):
        assemble(" ds N\nEND_:\nN equ END_ + 1", "t.asm")


def test_error_inside_an_include_names_the_included_file(tmp_path):
    (tmp_path / "inc.asm").write_text(" nop\n ld a,undefined_thing\n")
    (tmp_path / "main.asm").write_text(' nop\n include "inc.asm"\n')
    with pytest.raises(AsmError) as ei:
        assemble_file(tmp_path / "main.asm")
    e = ei.value
    assert e.filename.endswith("inc.asm") and (e.line, e.col) == (2, 7)
    assert "undefined symbol 'undefined_thing'" in str(e)


def test_missing_source_file_is_an_asm_error(tmp_path):
    with pytest.raises(AsmError, match="source file not found"):
        assemble_file(tmp_path / "nope.asm")


# ---------------------------------------------------------------- CLI

def test_cli_writes_binary_listing_and_symbols(tmp_path, capsys):
    src = tmp_path / "prog.asm"
    src.write_text(" org 100h\nstart: ld a,1\n ret\n")
    out, lst, sym = tmp_path / "P.COM", tmp_path / "p.lst", tmp_path / "p.sym"
    rc = main([str(src), "-o", str(out), "--listing", str(lst), "--symbols", str(sym)])
    assert rc == 0
    assert out.read_bytes() == bytes.fromhex("3e01c9")
    assert "0100  3E 01" in lst.read_text()
    assert sym.read_text() == "start EQU 0100H\n"
    assert "3 bytes, 0100H-0102H" in capsys.readouterr().out


def test_cli_default_output_name(tmp_path):
    src = tmp_path / "prog.asm"
    src.write_text(" nop\n")
    assert main([str(src), "-q"]) == 0
    assert (tmp_path / "prog.com").read_bytes() == b"\x00"


def test_cli_error_is_one_line_and_nothing_is_written(tmp_path, capsys):
    src = tmp_path / "bad.asm"
    src.write_text(" nop\n jp nowhere\n")
    out = tmp_path / "bad.com"
    out.write_bytes(b"keep me")
    assert main([str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"{src}:2:5: error: undefined symbol 'nowhere'\n"
    assert out.read_bytes() == b"keep me"


def test_cli_missing_input_and_unwritable_output(tmp_path, capsys):
    assert main([str(tmp_path / "none.asm")]) == 1
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'none.asm'}: error: source file not found"
    src = tmp_path / "ok.asm"
    src.write_text(" nop\n")
    target = tmp_path / "no_such_dir" / "x.com"
    assert main([str(src), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{target}: error: cannot write:") and "\n" not in err


@pytest.mark.parametrize("bad", ["listing", "symbols", "output"])
def test_cli_writes_nothing_when_any_output_cannot_be_written(tmp_path, capsys, bad):
    src = tmp_path / "ok.asm"
    src.write_text(" org 100h\nstart: nop\n")
    paths = {"output": tmp_path / "ok.com", "listing": tmp_path / "ok.lst",
             "symbols": tmp_path / "ok.sym"}
    (tmp_path / "ok.lst").write_text("old listing")  # an existing file stays as it was
    paths[bad] = tmp_path / "no_such_dir" / f"x.{bad}"
    argv = [str(src), "-o", str(paths["output"]), "--listing", str(paths["listing"]),
            "--symbols", str(paths["symbols"])]
    assert main(argv) == 1
    assert capsys.readouterr().err.strip().startswith(f"{paths[bad]}: error: cannot write:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.asm", "ok.lst"]
    assert (tmp_path / "ok.lst").read_text() == "old listing"


def test_cli_rewrites_existing_outputs_completely(tmp_path):
    src = tmp_path / "ok.asm"
    src.write_text(" nop\n")
    out = tmp_path / "ok.com"
    out.write_bytes(b"a longer old file")
    assert main([str(src), "-o", str(out), "-q"]) == 0
    assert out.read_bytes() == b"\x00"


def test_cli_refuses_to_overwrite_the_source(tmp_path, capsys):
    src = tmp_path / "same.asm"
    src.write_text(" nop\n")
    assert main([str(src), "-o", str(src)]) == 1
    assert main([str(src), "-o", str(tmp_path / "x.com"), "--listing", str(src)]) == 1
    assert src.read_text() == " nop\n" and not (tmp_path / "x.com").exists()
    assert "would overwrite the source" in capsys.readouterr().err


def test_python_dash_m_entry_point_has_help_and_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "z80emu.asm", "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "--listing" in r.stdout and "examples:" in r.stdout
    bad = tmp_path / "bad.asm"
    bad.write_text(" ld a,(ix+999)\n")
    r = subprocess.run([sys.executable, "-m", "z80emu.asm", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"{bad}:1:7: error: index displacement 999 out of range (-128..127)"
