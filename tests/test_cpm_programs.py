"""CP/M test programs (tests/cpm/*.asm, each including lib.asm, assembled by z80emu.asm) on the CP/M machine.

Each program prints what the BDOS/BIOS returned; the output is compared with
tests/cpm/NAME.out (reviewed by hand against the CP/M 2.2 documentation, CR LF
kept as written), and the host files a program leaves are checked too.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

asm = pytest.importorskip("z80emu.asm", reason="z80emu.asm (the assembler) is not available")
pytest.importorskip("z80emu.cpu", reason="z80emu.cpu (the CPU core) is not available yet")

from cpm.console import PipedConsole  # noqa: E402
from cpm.machine import EXIT_BUDGET, EXIT_EMULATION, CPMMachine, RunAborted  # noqa: E402

PROGRAMS = Path(__file__).resolve().parent / "cpm"


def build(name: str) -> bytes:
    return bytes(asm.assemble_file(PROGRAMS / f"{name}.asm").binary)


def build_source(source: str) -> bytes:
    return bytes(asm.assemble(source + "\n" + (PROGRAMS / "lib.asm").read_text(), filename="inline.asm").binary)


def run(program: bytes, drives: dict, stdin: bytes = b"", args=(), **kw):
    out = io.BytesIO()
    console = PipedConsole(io.BytesIO(stdin), out)
    machine = CPMMachine(drives=drives, console=console, **kw)
    machine.load(program, list(args))
    result = machine.run()
    return out.getvalue(), result


def expected(name: str) -> bytes:
    return (PROGRAMS / f"{name}.out").read_bytes()


def test_hello_prints_with_bdos_2_and_9_and_ret_warm_boots(tmp_path):
    out, res = run(build("hello"), {"A": tmp_path})
    assert out == b"Hello, CP/M!\r\n"
    assert res.exit_status == 0 and res.message == ""
    assert res.tstates > 0 and res.instructions > 0


def test_command_tail_and_default_fcbs_as_ccp_builds_them(tmp_path):
    out, res = run(build("tail"), {"A": tmp_path}, args=["b:foo*.t?t", "x.y", "extra"])
    assert out == expected("tail")
    assert res.exit_status == 0


def test_console_functions_with_piped_input(tmp_path):
    out, res = run(build("console"), {"A": tmp_path}, stdin=b"khello world long\ntwo\r\nz")
    assert out == expected("console")
    # BDOS 10 echoes the line and ends it with a bare CR; the rest of a too-long line is dropped
    assert b"line? hello worl\r n=0A [hello worl]\r\n" in out
    assert res.exit_status == 0
    assert "end of input" in res.message


def test_sequential_and_random_file_io_rename_delete_search(tmp_path):
    (tmp_path / "PART.TXT").write_bytes(b"x" * 130)
    (tmp_path / "ALPHA.DAT").write_bytes(b"alpha")
    (tmp_path / "beta.dat").write_bytes(b"b" * 20000)
    out, res = run(build("files"), {"A": tmp_path})
    assert out == expected("files")
    assert res.exit_status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NEW.DAT", "PART.TXT", "beta.dat"]
    # records A, B, C, then the random write at record 10 with a zero-filled gap
    assert (tmp_path / "NEW.DAT").read_bytes() == b"A" * 128 + b"B" * 128 + b"C" * 128 + bytes(7 * 128) + b"Z" * 128
    assert (tmp_path / "PART.TXT").read_bytes() == b"x" * 130
    assert (tmp_path / "beta.dat").read_bytes() == b"b" * 20000


def test_file_larger_than_one_extent(tmp_path):
    out, res = run(build("bigfile"), {"A": tmp_path})
    assert out == expected("bigfile")
    data = (tmp_path / "BIG.DAT").read_bytes()
    assert len(data) == 300 * 128
    for record in (0, 127, 128, 255, 256, 299):
        chunk = data[record * 128:(record + 1) * 128]
        assert chunk[0] == record & 0xFF and chunk[1] == record >> 8


def test_disk_vectors_dpb_alv_attributes_and_user(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (b / "file.txt").write_bytes(b"f" * 5000)
    out, res = run(build("disk"), {"A": a, "B": b})
    assert out == expected("disk")
    assert sorted(p.name for p in b.iterdir()) == ["file.txt"]  # R/O drive: nothing made


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else
                                          p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def test_program_cannot_escape_its_drive_folder(tmp_path):
    drive = tmp_path / "drive"
    drive.mkdir()
    (tmp_path / "outside.txt").write_bytes(b"secret")
    os.symlink("../outside.txt", drive / "LINK.TXT")
    (drive / "FILE.TXT").write_bytes(b"f")
    before = snapshot(tmp_path)
    out, res = run(build("escape"), {"A": drive})
    assert out == expected("escape")
    assert out.count(b"=FF") == 8 and b"=00" not in out
    assert snapshot(tmp_path) == before
    assert any("refused" in n for n in res.notes)


def test_bios_entries_called_directly_and_jp_0(tmp_path):
    out, res = run(build("bios"), {"A": tmp_path}, stdin=b"q")
    assert out == expected("bios")
    assert res.exit_status == 0


def test_unknown_bdos_function_stops_with_caller_address(tmp_path):
    out, res = run(build("unknown"), {"A": tmp_path})
    assert res.exit_status == EXIT_EMULATION
    assert "unknown BDOS function 99 (63h)" in res.message and "0108h" in res.message
    assert out == b"calling 99 "


def test_unknown_bdos_function_lenient_returns_zero(tmp_path):
    out, res = run(build("unknown"), {"A": tmp_path}, lenient=True)
    assert res.exit_status == 0
    assert out == b"calling 99 returned=00 \r\n"


def test_t_state_budget_stops_an_endless_loop(tmp_path):
    out, res = run(build_source("org 100h\nloop: jr loop"), {"A": tmp_path}, max_tstates=100_000)
    assert res.exit_status == EXIT_BUDGET
    assert 100_000 <= res.tstates < 100_100


def test_halt_without_interrupts_is_an_emulation_error(tmp_path):
    _, res = run(build_source("org 100h\ndi\nhalt"), {"A": tmp_path})
    assert res.exit_status == EXIT_EMULATION and "halted" in res.message


STATUS_LOOP = """
        org 100h
wait:   ld c,11
        call bdos
        or a
        jr z,wait               ; spins until a key is reported
        ld c,1
        call bdos
        ld c,0
        jp bdos
"""

POLL_LOOP = """
        org 100h
poll:   ld e,0FFh
        ld c,6
        call bdos
        or a
        jr z,poll
        call putc
        jr poll
"""


BUSY_WITH_CTRL_C_CHECKS = """
        org 100h
        ld hl,20000
work:   ld b,150
delay:  djnz delay              ; about 2000 T-states of work between ^C checks
        push hl
        ld c,11
        call bdos
        pop hl
        or a
        jr z,nokey
        ld a,'!'                ; a key was reported: the type-ahead would be eaten
        call putc
nokey:  dec hl
        ld a,h
        or l
        jr nz,work
        ld de,buf
        ld c,10
        call bdos
        ld a,(buf+1)
        call hex8
        ld c,0
        jp bdos
buf:    db 20
        ds 22
"""


def test_status_checks_while_computing_never_eat_piped_type_ahead(tmp_path):
    out, res = run(build_source(BUSY_WITH_CTRL_C_CHECKS), {"A": tmp_path}, stdin=b"typed ahead\n")
    assert out == b"typed ahead\r0B"
    assert res.exit_status == 0


def test_program_waiting_on_console_status_gets_its_key_from_the_pipe(tmp_path):
    out, res = run(build_source(STATUS_LOOP), {"A": tmp_path}, stdin=b"x", max_tstates=50_000_000)
    assert res.exit_status == 0
    assert out == b"x"


def test_program_polling_bdos_6_after_end_of_input_ends_cleanly(tmp_path):
    out, res = run(build_source(POLL_LOOP), {"A": tmp_path}, stdin=b"ab", max_tstates=200_000_000)
    assert out == b"ab"
    assert res.exit_status == 0 and "end of input" in res.message


class Recorder:
    def __init__(self, abort_on: int | None = None):
        self.events = []
        self.output = bytearray()
        self.abort_on = abort_on

    def on_start(self, machine):
        self.events.append("start")

    def on_command_tail(self, tail):
        self.events.append(("tail", tail))

    def on_input_line(self, line):
        self.events.append(("line", line))

    def on_output(self, byte):
        self.output.append(byte)
        if byte == self.abort_on:
            raise RunAborted(f"mismatch at byte {len(self.output)}", 3)

    def on_exit(self, machine):
        self.events.append("exit")


def test_observers_see_tail_input_lines_and_program_output_but_not_echo(tmp_path):
    rec = Recorder()
    out, res = run(build("console"), {"A": tmp_path}, stdin=b"khello world long\ntwo\r\nz",
                   args=["one"], observers=[rec])
    assert rec.events == ["start", ("tail", b" ONE"), ("line", b"hello worl"), ("line", b"two"), "exit"]
    # what the program wrote = the screen without the BDOS echoes, with its TAB unexpanded
    written = (out.replace(b"key? k", b"key? ").replace(b"line? hello worl\r", b"line? ")
               .replace(b"line? two\r", b"line? ").replace(b"a       b", b"a\tb"))
    assert bytes(rec.output) == written


def test_observer_can_abort_the_run_with_its_exit_status(tmp_path):
    rec = Recorder(abort_on=ord("!"))
    out, res = run(build("hello"), {"A": tmp_path}, observers=[rec])
    assert res.exit_status == 3 and res.message == "mismatch at byte 12"
    assert "exit" in rec.events


# -- the command line, end to end (one subprocess each) ---------------------------------------
def cli(repo_root: Path, *args, cwd: Path, stdin: bytes = b""):
    return subprocess.run([sys.executable, "-m", "z80emu", *map(str, args)], input=stdin,
                          capture_output=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(repo_root)})


def test_cli_piped_session_stats_trace_and_exit_note(repo_root, tmp_path):
    com = tmp_path / "CONSOLE.COM"
    com.write_bytes(build("console"))
    stats = tmp_path / "stats.json"
    trace = tmp_path / "trace.txt"
    res = cli(repo_root, "--stats", "--stats-json", stats, "--trace-bdos", trace, com,
              cwd=tmp_path, stdin=b"khello world long\ntwo\r\nz")
    assert res.returncode == 0, res.stderr
    assert res.stdout == expected("console")
    err = res.stderr.decode().splitlines()
    assert err[0].startswith("z80emu: end of input")
    assert err[1].startswith("stats: ") and "MHz emulated" in err[1] and "real 4 MHz Z80" in err[1]
    data = json.loads(stats.read_text())
    assert data["tstates"] > 0 and data["exit_status"] == 0
    lines = trace.read_text().splitlines()
    assert any("BDOS 10 Read Console Buffer" in ln for ln in lines)
    assert any("BDOS 12 Return Version Number" in ln and "-> 0022h" in ln for ln in lines)


def test_cli_a_drive_is_the_current_directory_and_b_is_mounted(repo_root, tmp_path):
    com = tmp_path / "DISK.COM"
    com.write_bytes(build("disk"))
    b = tmp_path / "bdrive"
    b.mkdir()
    (b / "file.txt").write_bytes(b"f" * 5000)
    res = cli(repo_root, "--drive", f"B={b}", "DISK", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == expected("disk")


# -- the model verification hook of the command line (in-process, with a stand-in verifier) ----
class _Std:
    """A stand-in for sys.stdin/sys.stdout/sys.stderr backed by bytes."""

    def __init__(self, data: bytes = b""):
        self.buffer = io.BytesIO(data)
        self._text = io.StringIO()

    def isatty(self):
        return False

    def write(self, text):
        self._text.write(text)

    def flush(self):
        pass

    def text(self) -> str:
        return self._text.getvalue()


def run_main(monkeypatch, argv, stdin=b""):
    from z80emu.__main__ import main
    streams = {"stdin": _Std(stdin), "stdout": _Std(), "stderr": _Std()}
    for name, stream in streams.items():
        monkeypatch.setattr(sys, name, stream)
    status = main([str(a) for a in argv])
    return status, streams["stdout"].buffer.getvalue(), streams["stderr"].text()


def fake_verify_module(abort_at: int | None = None):
    import types
    module = types.ModuleType("model.verify")
    made = []

    class Verifier:
        def __init__(self, model_path, com_path):
            self.paths = (Path(model_path), Path(com_path))
            self.seen = bytearray()
            made.append(self)

        def on_output(self, byte):
            self.seen.append(byte)
            if abort_at is not None and len(self.seen) == abort_at:
                raise RunAborted(f"verification mismatch at character {abort_at}", 3)

        def summary(self):
            return f"verified {len(self.seen)} characters against {self.paths[0].name}"

    module.Verifier = Verifier
    return module, made


def test_cli_uses_the_npz_beside_the_com_as_verifier(monkeypatch, tmp_path):
    com = tmp_path / "HELLO.COM"
    com.write_bytes(build("hello"))
    (tmp_path / "HELLO.npz").write_bytes(b"stand-in")
    module, made = fake_verify_module()
    monkeypatch.setitem(sys.modules, "model.verify", module)
    status, out, err = run_main(monkeypatch, [com])
    assert (status, out) == (0, b"Hello, CP/M!\r\n"), err
    assert made[0].paths == (tmp_path / "HELLO.npz", com)
    assert bytes(made[0].seen) == out
    assert "verified 14 characters against HELLO.npz" in err


def test_cli_verifier_mismatch_exits_3_and_no_verify_skips_it(monkeypatch, tmp_path):
    com = tmp_path / "HELLO.COM"
    com.write_bytes(build("hello"))
    model = tmp_path / "other.npz"
    model.write_bytes(b"stand-in")
    module, made = fake_verify_module(abort_at=5)
    monkeypatch.setitem(sys.modules, "model.verify", module)
    status, out, err = run_main(monkeypatch, ["--model", model, com])
    assert status == 3 and "verification mismatch at character 5" in err, err
    status, out, err = run_main(monkeypatch, ["--no-verify", "--model", model, com])
    assert status == 0 and len(made) == 1


def test_cli_runs_unverified_with_a_note_when_model_verify_is_missing(monkeypatch, tmp_path):
    com = tmp_path / "HELLO.COM"
    com.write_bytes(build("hello"))
    (tmp_path / "HELLO.npz").write_bytes(b"stand-in")
    monkeypatch.setitem(sys.modules, "model.verify", None)
    status, out, err = run_main(monkeypatch, [com])
    assert status == 0 and out == b"Hello, CP/M!\r\n"
    assert "running unverified" in err and err.count("\n") == 1


def test_largest_program_fits_the_tpa_and_one_byte_more_is_refused(tmp_path):
    from cpm.machine import ProgramError
    code = build_source("org 100h\nld a,(0EBFFh)\ncall hex8\nld hl,(6)\ncall hex16\nret")
    image = code + bytes(0xEB00 - len(code) - 1) + b"\x5a"
    out, res = run(image, {"A": tmp_path})
    assert out == b"5AEC06" and res.exit_status == 0
    with pytest.raises(ProgramError, match="does not fit the TPA"):
        run(image + b"\x00", {"A": tmp_path})


def test_type_reads_the_file_named_on_the_command_line_up_to_ctrl_z(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"Line one\r\nLine two\r\n\x1a" + b"\x1a" * 20 + b"junk")
    out, res = run(build("type"), {"A": tmp_path}, args=["notes.txt"])
    assert out == b"Line one\r\nLine two\r\n"
    out, _ = run(build("type"), {"A": tmp_path}, args=["b:notes.txt"])
    assert out == b"No file\r\n"  # B: is not mounted


def test_ask_greets_each_piped_line_until_an_empty_one(tmp_path):
    out, res = run(build("ask"), {"A": tmp_path}, stdin=b"Ada\nGrace\n\n")
    assert out == (b"What is your name? Ada\r\r\nHello, Ada!\r\n"
                   b"What is your name? Grace\r\r\nHello, Grace!\r\n"
                   b"What is your name? \r\r\nBye.\r\n")
    assert res.exit_status == 0 and res.message == ""



def test_cli_says_why_a_first_run_waits_for_the_core_to_compile(monkeypatch, tmp_path):
    import z80emu.__main__ as cli
    com = tmp_path / "HELLO.COM"
    com.write_bytes(build("hello"))
    monkeypatch.setattr(cli, "_core_cache_exists", lambda: False)
    status, out, err = run_main(monkeypatch, [com])
    assert (status, out) == (0, b"Hello, CP/M!\r\n")
    assert err.count("compiling the Z80 core") == 1
    monkeypatch.setattr(cli, "_core_cache_exists", lambda: True)
    status, out, err = run_main(monkeypatch, [com])
    assert status == 0 and "compiling" not in err


def test_core_cache_is_found_once_the_core_has_run():
    import z80emu.__main__ as cli
    from cpm.machine import make_cpu
    make_cpu().step()
    assert cli._core_cache_exists()


# -- regressions from the audit ------------------------------------------------------------
FCB_CALL = """
        org 100h
        ld c,{fn}
        ld de,fcb1
        call sys
        call hex8
        ret
"""

SET_RO_THEN = """
        org 100h
        ld a,(fcb1+9)           ; t1' = R/O, set with BDOS 30
        or 80h
        ld (fcb1+9),a
        ld c,30
        ld de,fcb1
        call sys
        call hex8
        ld a,(fcb1+9)
        and 7Fh
        ld (fcb1+9),a
        ld c,{fn}
        ld de,fcb1
        call sys
        call hex8               ; not reached: the BDOS error warm-boots
        ret
"""

PROTECT_DISK_THEN = """
        org 100h
        ld c,28                 ; write-protect the current disk
        call sys
        ld c,{fn}
        ld de,fcb1
        call sys
        call hex8               ; not reached
        ret
"""


@pytest.mark.parametrize("fn", [19, 23])
def test_delete_and_rename_of_a_file_with_the_ro_attribute_is_a_bdos_error(tmp_path, fn):
    (tmp_path / "KEEP.TXT").write_bytes(b"keep")
    out, res = run(build_source(SET_RO_THEN.format(fn=fn)), {"A": tmp_path}, args=["keep.txt", "gone.txt"])
    assert out == b"00"
    assert res.exit_status == 0 and res.message.startswith("Bdos Err On A: File R/O")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["KEEP.TXT"]


@pytest.mark.parametrize("fn", [19, 23, 22, 30])
def test_changing_a_write_protected_disk_is_a_bdos_error(tmp_path, fn):
    (tmp_path / "KEEP.TXT").write_bytes(b"keep")
    out, res = run(build_source(PROTECT_DISK_THEN.format(fn=fn)), {"A": tmp_path}, args=["keep.txt", "gone.txt"])
    assert out == b""
    assert res.exit_status == 0 and res.message.startswith("Bdos Err On A: R/O")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["KEEP.TXT"]
    assert (tmp_path / "KEEP.TXT").read_bytes() == b"keep"


@pytest.mark.parametrize("fn", [19, 23, 22])
def test_host_file_without_write_permission_is_read_only_even_for_root(tmp_path, fn):
    keep = tmp_path / "KEEP.TXT"
    keep.write_bytes(b"keep")
    keep.chmod(0o444)
    try:
        out, res = run(build_source(FCB_CALL.format(fn=fn)), {"A": tmp_path}, args=["keep.txt", "gone.txt"])
        assert out == b""
        assert res.message.startswith("Bdos Err On A: File R/O")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["KEEP.TXT"]
        assert keep.read_bytes() == b"keep"
    finally:
        keep.chmod(0o644)


WRITE_SEQ_AND_RANDOM = """
        org 100h
        ld c,15
        ld de,fcb1
        call sys
        call hex8
        ld c,{fn}
        ld de,fcb1
        call sys
        call hex8
        ret
"""


@pytest.mark.parametrize("fn", [21, 34])
def test_write_that_the_drive_cannot_do_is_not_reported_as_success(tmp_path, monkeypatch, fn):
    from cpm.drives import Drive
    (tmp_path / "F.TXT").write_bytes(b"f" * 128)
    monkeypatch.setattr(Drive, "write_record", lambda self, host, record, data, zero_fill=True: False)
    out, res = run(build_source(WRITE_SEQ_AND_RANDOM.format(fn=fn)), {"A": tmp_path}, args=["f.txt"])
    assert out == b"00" and "File R/O" in res.message  # before: "0000", success


@pytest.mark.parametrize("fn", [21, 34])
def test_write_on_a_full_host_disk_returns_disk_full(tmp_path, monkeypatch, fn):
    import errno
    from cpm.drives import Drive
    (tmp_path / "F.TXT").write_bytes(b"f" * 128)

    def full(self, host, record, data, zero_fill=True):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Drive, "write_record", full)
    out, res = run(build_source(WRITE_SEQ_AND_RANDOM.format(fn=fn)), {"A": tmp_path}, args=["f.txt"])
    assert out == b"0002" and res.exit_status == 0


S2_GARBAGE = """
        org 100h
        ld a,1
        ld (fcb1+14),a          ; S2 left over from earlier use
        ld c,15
        ld de,fcb1
        call sys
        call hex8               ; open: CP/M 2.2 clears S2 and opens
        ld a,1
        ld (fcb1+14),a
        ld c,17
        ld de,fcb1
        call sys
        call hex8               ; search first clears S2 too
        ld a,1
        ld (fcb1+14),a
        ld c,22
        ld de,fcb1
        call sys
        call hex8               ; make: a fresh file, from record 0
        ld c,21
        ld de,fcb1
        call sys
        call hex8
        ld c,16
        ld de,fcb1
        call sys
        ret
"""


def test_open_search_and_make_clear_fcb_s2_as_cp_m_2_2_does(tmp_path):
    (tmp_path / "SMALL.TXT").write_bytes(b"s" * 300)
    out, res = run(build_source(S2_GARBAGE), {"A": tmp_path}, args=["small.txt"])
    assert out == b"00000000"
    assert (tmp_path / "SMALL.TXT").stat().st_size == 128


class IdleRecorder(PipedConsole):
    """A piped console noting how much output had reached stdout at each idle()."""

    def __init__(self, *a):
        super().__init__(*a)
        self.idles = []

    def idle(self):
        super().idle()
        self.idles.append(self._out.getvalue())


BDOS_HEAVY = """
        org 100h
        ld de,msg
        ld c,9
        call sys
        ld hl,{count}
lp:     ld c,12
        call sys
        dec hl
        ld a,h
        or l
        jr nz,lp
        ld a,'!'
        call putc
        ret
msg:    db 'working$'
"""


def test_output_is_flushed_while_a_program_keeps_calling_the_bdos(tmp_path):
    out = io.BytesIO()
    console = IdleRecorder(io.BytesIO(b""), out)
    machine = CPMMachine(drives={"A": tmp_path}, console=console)
    machine.load(build_source(BDOS_HEAVY.format(count=60000)), [])
    machine.run()
    assert out.getvalue() == b"working!"
    assert b"working" in console.idles  # shown while the program still ran (before: only at the end)


def test_mhz_throttle_holds_for_a_program_calling_the_bdos_constantly(tmp_path):
    _, res = run(build_source(BDOS_HEAVY.format(count=30000)), {"A": tmp_path}, mhz=4)
    # 30000 BDOS calls of about 60 T-states: 1.8M T-states, 0.45 s at 4 MHz (before: unthrottled)
    assert res.emulated_mhz <= 4.3
    assert res.wall_seconds >= 0.95 * res.tstates / 4e6


PRESS_ANY_KEY = """
        org 100h
        ld de,msg
        ld c,9
        call sys
lp:     ld c,11
        call sys
        or a
        jr nz,got
        ld b,200
dl:     djnz dl                 ; about 2600 T-states between polls
        jr lp
got:    ld c,1
        call sys
        call hex8
        ret
msg:    db 'press a key$'
"""


def test_press_any_key_loop_with_a_delay_ends_cleanly_at_end_of_input(tmp_path):
    out, res = run(build_source(PRESS_ANY_KEY), {"A": tmp_path}, max_tstates=200_000_000)
    assert out == b"press a key"
    assert res.exit_status == 0 and "end of input" in res.message  # before: budget exhausted


def test_press_any_key_loop_with_a_delay_gets_its_key_from_the_pipe(tmp_path):
    out, res = run(build_source(PRESS_ANY_KEY), {"A": tmp_path}, stdin=b"x", max_tstates=200_000_000)
    assert out == b"press a keyx78" and res.exit_status == 0


SKIP_COUNTDOWN = """
        org 100h
        ld de,{count}           ; "press a key to skip" countdown
cd:     ld c,11
        call sys
        or a
        jr nz,key
        dec de
        ld a,d
        or e
        jr nz,cd
        jr ask
key:    ld a,'K'
        call putc
ask:    ld de,buf
        ld c,10
        call sys
        ld a,(buf+1)
        call hex8
        ret
buf:    db 20
        ds 22
"""


@pytest.mark.parametrize("count", [15000, 65535])
def test_countdown_polling_status_never_eats_piped_type_ahead(tmp_path, count):
    out, res = run(build_source(SKIP_COUNTDOWN.format(count=count)), {"A": tmp_path}, stdin=b"hello\n")
    assert out == b"hello\r05"  # before: 'K', the key reported after 10,000 polls
    assert res.exit_status == 0


LONG_WORK_WITH_CTRL_C_CHECKS = """
        org 100h
        ld hl,0
work:   ld (count),hl           ; work that changes memory, like an interpreter's loop
        ld b,40                 ; variable, with a ^C check between steps
delay:  djnz delay
        ld c,11
        call sys
        ld hl,(count)
        inc hl
        ld a,h
        or l
        jr nz,work              ; 65,536 steps
        ld a,(rounds)
        dec a
        ld (rounds),a
        jr nz,work              ; twice: 131,072 checks, about 80M T-states
        ld a,'D'
        call putc
        ret
count:  dw 0
rounds: db 2
"""


def test_long_work_checking_for_ctrl_c_after_end_of_input_runs_to_its_end(tmp_path):
    out, res = run(build_source(LONG_WORK_WITH_CTRL_C_CHECKS), {"A": tmp_path}, stdin=b"")
    assert out == b"D" and res.exit_status == 0 and res.message == ""


SPINNER_AFTER_EOF = """
        org 100h
lp:     ld e,0FFh
        ld c,6
        call sys
        or a
        jr nz,lp
        ld b,250
dl:     djnz dl
        ld c,11                 ; status and direct input, spaced out, a little output
        call sys
        jr lp
"""


def test_loose_polling_of_bdos_6_and_11_ends_at_end_of_input(tmp_path):
    out, res = run(build_source(SPINNER_AFTER_EOF), {"A": tmp_path}, stdin=b"ab", max_tstates=300_000_000)
    assert res.exit_status == 0 and "end of input" in res.message


def test_bdos_6_fd_waits_for_a_key_and_fe_is_status_as_console_md_says(tmp_path):
    src = """
        org 100h
        ld e,0FEh
        ld c,6
        call sys
        add a,'0'
        ld e,a
        ld c,6
        call sys
        ld e,0FDh
        ld c,6
        call sys
        ld e,a
        ld c,6
        call sys
        ld e,0FDh
        ld c,6
        call sys
        ld e,'x'
        ld c,6
        call sys
        ret
"""
    out, res = run(build_source(src), {"A": tmp_path}, stdin=b"k")
    # status: no key (piped type-ahead is never reported); FDh reads 'k'; the next FDh
    # waits at end of input, which ends the run cleanly before 'x'
    assert out == b"0k" and res.exit_status == 0 and "end of input" in res.message


def test_bdos_32_keeps_five_bits_of_the_user_number(tmp_path):
    src = """
        org 100h
        ld e,17
        ld c,32
        call sys
        ld e,0FFh
        ld c,32
        call sys
        call hex8
        ld e,35
        ld c,32
        call sys
        ld e,0FFh
        ld c,32
        call sys
        call hex8
        ret
"""
    out, res = run(build_source(src), {"A": tmp_path})
    assert out == b"1103"


def test_bdos_10_masks_bit_7_and_rubout_echoes_the_deleted_character(tmp_path):
    src = """
        org 100h
        ld de,buf
        ld c,10
        call sys
        ld a,(buf+1)
        call hex8
        ld a,(buf+2)
        call hex8
        ld a,(buf+3)
        call hex8
        ret
buf:    db 20
        ds 22
"""
    out, res = run(build_source(src), {"A": tmp_path}, stdin=b"\xc1bx\x7fc\n")
    assert out == b"Abxxc\r034162"  # "Abc": A with bit 7 cleared, x rubbed out (and echoed)


PRINTS_FOREVER = """
        org 100h
lp:     ld a,'x'
        call putc
        jr lp
"""


def test_cli_stops_with_141_when_stdout_is_closed(repo_root, tmp_path):
    (tmp_path / "FOREVER.COM").write_bytes(build_source(PRINTS_FOREVER))
    proc = subprocess.Popen([sys.executable, "-m", "z80emu", "FOREVER.COM"], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(repo_root)})
    assert proc.stdout.read(10) == b"x" * 10
    proc.stdout.close()  # like `| head -c 10`
    try:
        status = proc.wait(timeout=120)  # before: it never ended
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert status == 141
    assert err.decode().strip().splitlines() == ["z80emu: output closed (broken pipe): the run was stopped"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_cli_output_on_a_full_disk_is_one_line_and_status_5(repo_root, tmp_path):
    (tmp_path / "HELLO.COM").write_bytes(build("hello"))
    with open("/dev/full", "wb") as full:
        res = subprocess.run([sys.executable, "-m", "z80emu", "HELLO.COM"], cwd=tmp_path, stdout=full,
                             stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(repo_root)})
    assert res.returncode == 5
    assert res.stderr.decode().strip().splitlines() == [
        "z80emu: cannot write the output (No space left on device): the run was stopped"]


def test_cli_refuses_files_that_are_not_programs(monkeypatch, tmp_path):
    model = tmp_path / "CHAT.npz"
    np_zip = b"PK\x03\x04" + bytes(60)
    model.write_bytes(np_zip)
    disguised = tmp_path / "MODEL.COM"
    disguised.write_bytes(np_zip)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    for path, words in ((model, "a zip archive"), (disguised, "a zip archive"),
                        (text, "a text file, not a CP/M program")):
        status, out, err = run_main(monkeypatch, [path])
        assert (status, out) == (1, b"") and words in err and err.count("\n") == 1, err


def test_cli_says_when_a_model_build_runs_unverified(monkeypatch, tmp_path):
    com = tmp_path / "PG.COM"
    com.write_bytes(build("hello"))
    (tmp_path / "PG.sym").write_text("LAYERS EQU 09ADH\n")
    status, out, err = run_main(monkeypatch, [com])
    assert status == 0 and "not verified: no PG.npz beside PG.COM" in err
    (tmp_path / "PG.sym").unlink()      # not a model build: nothing to say
    status, out, err = run_main(monkeypatch, [com])
    assert status == 0 and "verified" not in err


LOWER_CASE_FCB = """
        org 100h
        ld de,lfcb
        ld c,22                 ; make 'test.bas' (MBASIC's SAVE "test" keeps the case)
        call fcall
        ld de,80h
        ld c,26
        call sys
        ld hl,80h
        ld (hl),'Z'
        ld de,lfcb
        ld c,21                 ; write one record
        call fcall
        ld c,16                 ; close
        call fcall
        xor a
        ld (lfcb+12),a
        ld (lfcb+32),a
        ld c,15                 ; open it again by the same lower-case name
        call fcall
        ld c,20                 ; read the record back
        call fcall
        ld a,(80h)
        call putc
        ld c,17                 ; and find it in the directory
        call fcall
        ret
fcall:  push bc
        ld de,lfcb
        call sys
        call hex8
        pop bc
        ret
lfcb:   db 0,'test    bas',0,0,0,0
        ds 20
"""


def test_files_made_with_a_lower_case_fcb_name_are_found_again(tmp_path):
    out, res = run(build_source(LOWER_CASE_FCB), {"A": tmp_path})
    assert out[:10] == b"0000000000" and out[10:11] == b"Z" and out[11:] != b"FF", out
    assert [p.name for p in tmp_path.iterdir()] == ["TEST.BAS"]


KEY_WAIT_STIRRING_A_SEED = """
        org 100h
        ld de,msg
        ld c,9
        call sys
wait:   ld hl,seed
        inc (hl)                ; a game stirs its random seed while it waits
        ld c,11
        call sys
        or a
        jr z,wait
        ld c,1
        call sys
        ret
msg:    db 'press a key$'
seed:   db 0
"""


def test_a_key_wait_that_changes_memory_gets_its_key_and_ends_at_end_of_input(tmp_path, monkeypatch):
    from cpm.bdos import BDOS
    monkeypatch.setattr(BDOS, "WAIT_POLLS_MAX", 20_000)   # the rule, not its 300,000 (10 s)
    out, res = run(build_source(KEY_WAIT_STIRRING_A_SEED), {"A": tmp_path}, stdin=b"k")
    assert out == b"press a keyk" and res.exit_status == 0
    out, res = run(build_source(KEY_WAIT_STIRRING_A_SEED), {"A": tmp_path}, stdin=b"")
    assert out == b"press a key" and res.exit_status == 0 and "end of input" in res.message


ECHO_KEYS = """
        org 100h
wait:   ld c,11                 ; the classic loop: status until a key, then read it
        call sys
        or a
        jr z,wait
        ld c,6
        ld e,0FFh
        call sys
        ld e,a
        ld c,2
        call sys
        jr wait
"""


def test_a_plain_key_wait_loop_gets_each_piped_key_within_a_few_polls(tmp_path):
    # 200 keys within 2M T-states: not 70,000 polls (about 4M T-states) per key
    out, res = run(build_source(ECHO_KEYS), {"A": tmp_path}, stdin=b"x" * 200,
                   max_tstates=2_000_000)
    assert out == b"x" * 200 and res.exit_status == 0 and "end of input" in res.message
