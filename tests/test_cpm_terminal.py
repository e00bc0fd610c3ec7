"""`python -m z80emu` at a (pseudo-)terminal: raw keys, prompt_toolkit lines, Ctrl-C rules."""
from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty", reason="needs a POSIX pseudo-terminal")
asm = pytest.importorskip("z80emu.asm", reason="z80emu.asm (the assembler) is not available")
pytest.importorskip("z80emu.cpu", reason="z80emu.cpu (the CPU core) is not available yet")

PROGRAMS = Path(__file__).resolve().parent / "cpm"


class Terminal:
    """Runs the emulator on a pty; answers prompt_toolkit's cursor-position queries."""

    def __init__(self, repo_root: Path, argv: list[str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the emulator
            os.chdir(cwd)
            os.environ["PYTHONPATH"] = str(repo_root)
            os.execv(sys.executable, [sys.executable, "-m", "z80emu", *argv])
        self.out = b""

    def read_until(self, wanted: bytes, timeout: float = 60.0) -> bool:
        end = time.monotonic() + timeout
        while wanted not in self.out and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    return wanted in self.out
                if b"\x1b[6n" in chunk:
                    os.write(self.fd, b"\x1b[1;1R")
                self.out += chunk
        return wanted in self.out

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 30.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read_until(b"\x00never", 0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"emulator did not exit; output so far: {self.out!r}")


@pytest.fixture()
def programs(tmp_path):
    for name in ("ask", "console"):
        (tmp_path / f"{name.upper()}.COM").write_bytes(bytes(asm.assemble_file(PROGRAMS / f"{name}.asm").binary))
    loop = "org 100h\nld de,msg\nld c,9\ncall 5\nloop: jr loop\nmsg: db 'busy$'"
    (tmp_path / "LOOP.COM").write_bytes(bytes(asm.assemble(loop).binary))
    return tmp_path


def test_terminal_line_input_and_raw_key(repo_root, programs):
    term = Terminal(repo_root, ["CONSOLE.COM"], programs)
    assert term.read_until(b"key? ")
    term.send(b"k")                       # one key, no Enter: BDOS 1 takes it at once
    assert term.read_until(b"k 6B")
    assert term.read_until(b"line? ")
    term.send(b"hellp\x7fo\r")            # prompt_toolkit line editing: backspace
    assert term.read_until(b"n=05 [hello]")
    # prompt_toolkit redraws the input line: it must draw the program's prompt again
    first = term.out.index(b"line? ")
    assert b"line? " in term.out[first + 6:term.out.index(b"n=05")]
    assert term.read_until(b"line? ")
    term.send(b"two\r")
    assert term.read_until(b"last? ")
    term.send(b"end\r")
    assert term.wait() == 0
    assert b"not reached" in term.out


def test_terminal_ctrl_c_goes_to_the_program_and_twice_leaves(repo_root, programs):
    term = Terminal(repo_root, ["CONSOLE.COM"], programs)
    assert term.read_until(b"key? ")
    term.send(b"\x03")                    # a single Ctrl-C is a key for the program
    assert term.read_until(b" 03")
    assert term.read_until(b"line? ")
    term.send(b"\x04")                    # Ctrl-D at a line prompt: end of input
    assert term.wait() == 0

    term = Terminal(repo_root, ["LOOP.COM"], programs)
    assert term.read_until(b"busy")
    term.send(b"\x03")
    time.sleep(0.2)
    term.send(b"\x03")
    assert term.wait() == 130
    assert b"Ctrl-C pressed twice" in term.out
