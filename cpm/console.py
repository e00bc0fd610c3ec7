"""The CP/M console: piped (scriptable) and terminal (interactive).

Owns: how console bytes reach stdout and how keys and lines come from stdin.
Both consoles offer write(byte), read_key(), poll_key(), status(),
read_line(max_len), flush(), idle() and close().  The piped console follows
../shared/spec/CONSOLE.md exactly; the terminal console gives raw single keys
and prompt_toolkit line editing with history.  Knows nothing of the BDOS:
tab expansion and echo rules of each BDOS function live in bdos.py.
"""
from __future__ import annotations

import os
import select
import sys
import time
from typing import BinaryIO

CR, LF, BS, DEL, CTRL_C = 0x0D, 0x0A, 0x08, 0x7F, 0x03


class EndOfInput(Exception):
    """The program must wait for input, but piped input has ended."""


class UserQuit(Exception):
    """The user pressed Ctrl-C twice within a second at the terminal."""


class OutputFailed(Exception):
    """stdout cannot take the program's output (closed pipe, full disk...): the run must stop.

    Raised once; later flushes drop their bytes silently."""

    def __init__(self, err: OSError) -> None:
        self.error = err
        if isinstance(err, BrokenPipeError):
            text = "output closed (broken pipe): the run was stopped"
        else:
            text = f"cannot write the output ({err.strerror or err}): the run was stopped"
        super().__init__(text)

    @property
    def broken_pipe(self) -> bool:
        return isinstance(self.error, BrokenPipeError)


def _write_out(console, data: bytes) -> None:
    """Write and flush `data` to console._out; OutputFailed on the first host error."""
    if console.output_failed is not None:
        return
    try:
        console._out.write(data)
        console._out.flush()
    except OSError as err:
        console.output_failed = err
        raise OutputFailed(err) from None


class PipedConsole:
    """stdin is not a terminal: a deterministic, scriptable console."""

    interactive = False

    def __init__(self, inp: BinaryIO, out: BinaryIO) -> None:
        self._in = inp
        self._out = out
        self._buf = bytearray()
        self._skip_lf = False   # a CR was returned; a following LF belongs to it
        self._peeked: list[int | None] = []  # a byte has_input() read ahead
        self.at_eof = False
        self.output_failed: OSError | None = None

    # -- output ------------------------------------------------------------
    def write(self, byte: int) -> None:
        self._buf.append(byte)
        if len(self._buf) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            _write_out(self, data)

    # -- input -------------------------------------------------------------
    def _next_raw(self) -> int | None:
        if self.at_eof:
            return None
        self.flush()
        data = self._in.read(1)
        if not data:
            self.at_eof = True
            return None
        return data[0]

    def has_input(self) -> bool:
        """Whether piped input remains (reads one byte ahead, waiting for it if need be)."""
        if not self._peeked:
            self._peeked.append(self._next())
        return self._peeked[0] is not None

    def _next(self) -> int | None:
        """Next input byte with LF and CR LF both turned into one CR."""
        if self._peeked:
            return self._peeked.pop()
        ch = self._next_raw()
        if ch == LF and self._skip_lf:
            self._skip_lf = False
            ch = self._next_raw()
        self._skip_lf = False
        if ch == CR:
            self._skip_lf = True
        elif ch == LF:
            ch = CR
        return ch

    def read_key(self) -> int:
        ch = self._next()
        if ch is None:
            raise EndOfInput("end of input while the program waited for a key")
        return ch

    def poll_key(self) -> int | None:
        """BDOS 6 E=FFh: the next byte if input remains, else None."""
        return self._next()

    def status(self) -> bool:
        return False  # never report type-ahead: programs polling for ^C must not eat it

    def read_line(self, max_len: int) -> bytes:
        """BDOS 10: one pipe line (CP/M editing keys applied), echoed, ended by CR."""
        first = self._next()
        if first is None:
            raise EndOfInput("end of input while the program waited for a line")
        line = bytearray()
        ch: int | None = first
        while ch is not None:
            ch &= 0x7F  # CP/M 2.2 masks the parity bit of each key
            if ch == CR:
                break
            if ch == BS:
                if line:
                    line.pop()
                    for b in b"\b \b":
                        self.write(b)
            elif ch == DEL:  # rubout: CP/M 2.2 removes the last character and echoes it
                if line:
                    self._echo(line.pop())
            elif ch == 0x15:  # ^U: cancel the line so far, '#' and a new line
                line.clear()
                self.write(ord("#"))
                self.write(CR)
                self.write(LF)
            elif ch == 0x18:  # ^X: back over the whole line and start again
                for c in line:
                    for _ in range(2 if c < 0x20 and c != 0x09 else 1):
                        for b in b"\b \b":
                            self.write(b)
                line.clear()
            elif len(line) < max_len:
                line.append(ch)
                self._echo(ch)
            if len(line) >= max_len:
                # CP/M ends a full buffer at once; the rest of this pipe line is dropped
                while ch is not None and ch != CR:
                    ch = self._next()
                break
            ch = self._next()
        self.write(CR)
        return bytes(line)

    def _echo(self, ch: int) -> None:
        if ch < 0x20 and ch not in (0x09,):
            self.write(ord("^"))
            self.write(ch + 0x40)
        else:
            self.write(ch)

    def idle(self) -> None:
        self.flush()

    def close(self) -> None:
        self.flush()


class TerminalConsole:
    """stdin is a terminal: raw keys, line editing with history, Ctrl-C rules.

    During a run the terminal is in cbreak mode without signals, so Ctrl-C
    arrives as 03h and is given to the program; a second Ctrl-C within a
    second raises UserQuit.  Output can be translated from VT52/ADM-3A
    escapes to ANSI (`translate=True`).
    """

    interactive = True

    def __init__(self, inp=None, out=None, translate: bool = True) -> None:
        self._in = inp or sys.stdin
        self._out = out or sys.stdout.buffer
        self._fd = self._in.fileno()
        self._buf = bytearray()
        self._pending: list[int] = []
        self._last_ctrl_c = 0.0
        self._saved = None
        self._session = None
        self._translator = EscapeTranslator() if translate else None
        self._line = bytearray()  # what the program printed since the last CR/LF: its prompt
        self.at_eof = False
        self.output_failed: OSError | None = None
        self._enter_raw()

    def _enter_raw(self) -> None:
        import termios
        try:
            self._saved = termios.tcgetattr(self._fd)
        except termios.error:
            self._saved = None
            return
        mode = termios.tcgetattr(self._fd)
        mode[0] &= ~(termios.ICRNL | termios.IXON | termios.INLCR)
        mode[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG)
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(self._fd, termios.TCSADRAIN, mode)

    def close(self) -> None:
        self.flush()
        if self._saved is not None:
            import termios
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    # -- output ------------------------------------------------------------
    def write(self, byte: int) -> None:
        if self._translator is not None:
            self._buf.extend(self._translator.feed(byte))
        else:
            self._buf.append(byte)
        if byte in (CR, LF):
            self._line.clear()
        elif 0x20 <= byte < 0x7F and len(self._line) < 200:
            self._line.append(byte)
        if len(self._buf) >= 1024:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            _write_out(self, data)

    # -- input -------------------------------------------------------------
    def _take(self, ch: int) -> int:
        if ch == CTRL_C:
            now = time.monotonic()
            if now - self._last_ctrl_c < 1.0:
                raise UserQuit("Ctrl-C pressed twice")
            self._last_ctrl_c = now
        return ch

    def _gather(self, timeout: float) -> None:
        """Move keys already typed into the pending queue (waits up to timeout)."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            data = os.read(self._fd, 64)
            if not data:
                self.at_eof = True
            for ch in data:
                self._pending.append(self._take(ch))

    def read_key(self) -> int:
        self.flush()
        while not self._pending:
            if self.at_eof:
                raise EndOfInput("end of input while the program waited for a key")
            self._gather(None)
        return self._pending.pop(0)

    def poll_key(self) -> int | None:
        if not self._pending:
            self.flush()
            self._gather(0.0)
        return self._pending.pop(0) if self._pending else None

    def status(self) -> bool:
        if not self._pending:
            self.flush()
            self._gather(0.0)
        return bool(self._pending)

    def wait_briefly(self) -> None:
        """Called when a program polls the console in a tight loop: sleep until a key or 10 ms."""
        self.flush()
        if not self._pending:
            self._gather(0.01)

    def idle(self) -> None:
        """Between CPU slices: show output and notice a double Ctrl-C."""
        self.flush()
        self._gather(0.0)

    def read_line(self, max_len: int) -> bytes:
        self.flush()
        typed = bytearray()
        while self._pending:  # keys typed ahead start the line
            typed.append(self._pending.pop(0))
        if CR in typed:
            line, rest = typed.split(bytes([CR]), 1)
            self._pending[:0] = list(rest)
            line = bytes(line[:max_len])
            for ch in line:
                self.write(ch)
            self.write(CR)
            self.flush()
            return line
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import InMemoryHistory
        if self._session is None:
            self._session = PromptSession(history=InMemoryHistory())
        # prompt_toolkit redraws the whole input line, so it is given the program's prompt
        # ("> ") to draw again instead of erasing it
        prompt = self._line.decode("ascii")
        self._out.write(b"\r")
        self._out.flush()
        try:
            text = self._session.prompt(prompt, default=typed.decode("latin-1"))
        except KeyboardInterrupt:
            return b"\x03"
        except EOFError:
            self.at_eof = True
            raise EndOfInput("end of input (Ctrl-D) while the program waited for a line") from None
        # prompt_toolkit moved to the next line; CP/M ends a line with a bare CR
        self._out.write(b"\x1b[A\r")
        self._out.flush()
        return text.encode("latin-1", "replace")[:max_len]


class EscapeTranslator:
    """VT52 / ADM-3A cursor and clear sequences -> ANSI, byte by byte."""

    def __init__(self) -> None:
        self._seq = bytearray()

    def feed(self, ch: int) -> bytes:
        seq = self._seq
        if not seq:
            if ch == 0x1B:
                seq.append(ch)
                return b""
            if ch == 0x1A:  # ADM-3A clear screen
                return b"\x1b[H\x1b[2J"
            if ch == 0x1E:  # ADM-3A home
                return b"\x1b[H"
            return bytes([ch])
        seq.append(ch)
        cmd = seq[1]
        if cmd in (ord("Y"), ord("=")):  # ESC Y row col / ESC = row col (+20h offsets)
            if len(seq) < 4:
                return b""
            row, col = seq[2] - 0x1F, seq[3] - 0x1F
            seq.clear()
            return f"\x1b[{max(row, 1)};{max(col, 1)}H".encode()
        seq.clear()
        table = {
            ord("A"): b"\x1b[A", ord("B"): b"\x1b[B", ord("C"): b"\x1b[C", ord("D"): b"\x1b[D",
            ord("H"): b"\x1b[H", ord("J"): b"\x1b[J", ord("K"): b"\x1b[K",
            ord("E"): b"\x1b[H\x1b[2J", ord("*"): b"\x1b[H\x1b[2J",
            ord("T"): b"\x1b[K", ord("Y"): b"", ord("["): None,
        }
        out = table.get(cmd)
        if out is None:  # already ANSI or unknown: pass through unchanged
            return bytes([0x1B, cmd])
        return out
