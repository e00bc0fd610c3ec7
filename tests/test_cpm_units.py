"""CP/M machine parts that need no CPU: FCB parsing, names, drives, consoles, CLI checks."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from cpm.console import EndOfInput, EscapeTranslator, PipedConsole
from cpm.drives import Drive, DriveAccessRefused
from cpm.fcb import (build_command, fcb_name_to_host, host_to_fcb_name, name_matches,
                     parse_filespec, position_fields, record_of)


# -- command tail and default FCBs, as CCP builds them ----------------------------------
def test_command_tail_is_upper_cased_with_leading_space_and_length_byte():
    tail, _, _ = build_command(["hello", "World.txt"])
    assert tail == bytes([16]) + b" HELLO WORLD.TXT"


def test_empty_command_tail_is_a_zero_length_byte_and_blank_fcbs():
    tail, f1, f2 = build_command([])
    assert tail == b"\x00"
    assert f1 == b"\x00" + b" " * 11 + b"\x00" * 4
    assert f2 == f1


def test_fcb_parse_drive_letter_and_star_wildcards():
    _, f1, f2 = build_command(["b:foo*.t*", "*.*"])
    assert f1[0] == 2 and f1[1:12] == b"FOO?????T??"
    assert f2[0] == 0 and f2[1:12] == b"?" * 11


def test_fcb_parse_truncates_long_fields_like_ccp():
    p = parse_filespec(b"VERYLONGNAME.TEXT")
    assert p.name == b"VERYLONGTEX"


def test_command_tail_is_cut_at_127_characters():
    tail, _, _ = build_command(["X" * 200])
    assert tail[0] == 127 and len(tail) == 128


# -- names ---------------------------------------------------------------------------
def test_fcb_name_to_host_strips_attribute_bits_and_padding():
    name = bytearray(b"READ    ME ")
    name[9] |= 0x80  # t1' (read-only) on 'M'
    assert fcb_name_to_host(bytes(name)) == "READ.ME"


@pytest.mark.parametrize("bad", [b"../ETC  TXT", b"A/B     TXT", b"A\\B     TXT", b"        TXT",
                                 b"A?      TXT", b"A\x00B     TXT"])
def test_fcb_names_that_could_leave_the_folder_are_refused(bad):
    with pytest.raises(ValueError):
        fcb_name_to_host(bad)


@pytest.mark.parametrize("host,fcb", [("foo.txt", b"FOO     TXT"), ("README", b"README     "),
                                      ("a.b", b"A       B  ")])
def test_host_names_map_case_insensitively_to_8_3(host, fcb):
    assert host_to_fcb_name(host) == fcb


@pytest.mark.parametrize("host", ["toolongname.txt", "a.text", ".hidden", "a.b.c", "sp ace.txt", "ünï.txt"])
def test_host_names_that_are_not_8_3_are_invisible(host):
    assert host_to_fcb_name(host) is None


def test_wildcard_match_ignores_attribute_bits():
    assert name_matches(b"????????DAT", b"ALPHA   DAT")
    assert not name_matches(b"????????DAT", b"ALPHA   TXT")
    assert name_matches(b"ALPHA   DAT", bytes([0x41 | 0x80]) + b"LPHA   DAT")


def test_record_positions_round_trip_across_extents_and_modules():
    for record in (0, 127, 128, 300, 4095, 4096, 65535):
        ex, s2, cr = position_fields(record)
        assert record_of(ex, s2, cr) == record
    assert position_fields(300) == (2, 0, 44)
    assert position_fields(32 * 128) == (0, 1, 0)


# -- the file layer --------------------------------------------------------------------
def test_partial_last_record_reads_padded_with_1a(tmp_path):
    (tmp_path / "part.txt").write_bytes(b"x" * 130)
    d = Drive("A", tmp_path)
    host = d.host_name(b"PART    TXT")
    assert host == "part.txt"
    assert d.size_records(host) == 2
    assert d.read_record(host, 1) == b"xx" + b"\x1a" * 126
    assert d.read_record(host, 2) is None


def test_writing_past_the_end_zero_fills_the_gap(tmp_path):
    d = Drive("A", tmp_path)
    host = d.create(b"NEW     DAT")
    assert d.write_record(host, 3, b"Z" * 128)
    d.close_all()
    data = (tmp_path / "NEW.DAT").read_bytes()
    assert data == b"\x00" * 384 + b"Z" * 128


def test_symlink_leading_out_of_the_drive_is_invisible_and_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    folder = tmp_path / "drive"
    folder.mkdir()
    os.symlink(outside, folder / "LINK.TXT")
    d = Drive("A", folder)
    assert d.host_name(b"LINK    TXT") is None
    assert d.listing() == []
    with pytest.raises(DriveAccessRefused):
        d.create(b"LINK    TXT")
    assert outside.read_bytes() == b"secret"


def test_rename_onto_an_existing_name_is_refused(tmp_path):
    (tmp_path / "A.TXT").write_bytes(b"a")
    (tmp_path / "B.TXT").write_bytes(b"b")
    d = Drive("A", tmp_path)
    assert d.rename("A.TXT", b"B       TXT") is None
    assert (tmp_path / "B.TXT").read_bytes() == b"b"


# -- the piped console (../shared/spec/CONSOLE.md) -----------------------------------------
def piped(data: bytes):
    out = io.BytesIO()
    return PipedConsole(io.BytesIO(data), out), out


def test_piped_line_ends_lf_and_crlf_both_give_one_cr():
    con, _ = piped(b"a\r\nb\nc")
    keys = [con.read_key() for _ in range(5)]
    assert keys == [ord("a"), 0x0D, ord("b"), 0x0D, ord("c")]
    with pytest.raises(EndOfInput):
        con.read_key()


def test_piped_read_line_echoes_and_ends_with_bare_cr():
    con, out = piped(b"hello\r\nnext\n")
    assert con.read_line(80) == b"hello"
    assert con.read_line(80) == b"next"
    con.flush()
    assert out.getvalue() == b"hello\rnext\r"


def test_piped_read_line_applies_backspace_and_truncates_full_buffer():
    con, out = piped(b"abx\x08c\nlonger line\nnext\n")
    assert con.read_line(10) == b"abc"
    assert con.read_line(4) == b"long"
    assert con.read_line(10) == b"next"


def test_piped_status_never_reports_type_ahead_and_poll_returns_none_at_eof():
    con, _ = piped(b"k")
    assert con.status() is False
    assert con.poll_key() == ord("k")
    assert con.poll_key() is None
    assert con.at_eof


def test_piped_read_line_at_end_of_input_ends_the_run():
    con, _ = piped(b"")
    with pytest.raises(EndOfInput):
        con.read_line(10)


def test_vt52_and_adm3a_escapes_translate_to_ansi():
    t = EscapeTranslator()
    out = b"".join(t.feed(b) for b in b"\x1bY" + bytes([0x20 + 4, 0x20 + 9]) + b"x\x1bK\x1a")
    assert out == b"\x1b[5;10Hx\x1b[K\x1b[H\x1b[2J"


# -- the command line, for the checks that happen before any emulation ------------------------
def run_cli(*args, cwd, stdin=b""):
    return subprocess.run([sys.executable, "-m", "z80emu", *args], input=stdin, capture_output=True,
                          cwd=cwd, timeout=60, env={**os.environ, "PYTHONPATH": str(cwd)})


def test_cli_help_explains_options_and_exit_statuses(repo_root):
    res = run_cli("--help", cwd=repo_root)
    assert res.returncode == 0
    text = res.stdout.decode()
    for word in ("--drive", "--mhz", "--stats", "--stats-json", "--max-tstates", "--trace-bdos",
                 "--lenient", "--model", "exit status"):
        assert word in text


def test_cli_missing_program_is_one_clear_line(repo_root, tmp_path):
    res = run_cli(str(tmp_path / "NOPE.COM"), cwd=repo_root)
    assert res.returncode == 1
    assert res.stderr.decode().count("\n") == 1 and "no such file" in res.stderr.decode()


def test_cli_oversized_program_is_refused(repo_root, tmp_path):
    big = tmp_path / "BIG.COM"
    big.write_bytes(b"\x00" * 0xF000)
    res = run_cli(str(big), cwd=repo_root)
    assert res.returncode == 1
    assert "does not fit the TPA" in res.stderr.decode()
    assert "Traceback" not in res.stderr.decode()


def test_cli_bad_drive_option_is_a_usage_error(repo_root, tmp_path):
    com = tmp_path / "X.COM"
    com.write_bytes(b"\xc9")
    res = run_cli("--drive", "B=/no/such/folder", str(com), cwd=repo_root)
    assert res.returncode == 1
    assert "does not exist" in res.stderr.decode()


def test_fcbs_are_parsed_from_the_command_tail_like_ccp():
    # one shell word with a blank in it (`PROG "a b"`) is two names on the CP/M command line
    tail, fcb1, fcb2 = build_command(["a b"])
    assert tail == b"\x04 A B"
    assert fcb1[1:12] == b"A          " and fcb2[1:12] == b"B          "


def test_piped_read_line_ctrl_x_backs_over_the_line():
    con, out = piped(b"ab\x18cd\n")
    assert con.read_line(10) == b"cd"
    con.flush()
    assert out.getvalue() == b"ab\b \b\b \bcd\r"
