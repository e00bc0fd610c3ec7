"""The CP/M 2.2 machine: memory map, program loading, run loop, observers.

Owns: building the 64 KB system image (page zero, BDOS entry, BIOS jump table
and disk tables), loading a .COM with its command tail and default FCBs,
running the CPU core between BDOS/BIOS traps, the T-state budget and the
--mhz throttle, and calling observers.  The BDOS functions live in bdos.py,
the BIOS entries in bios.py, files in drives.py, keys/output in console.py.

Observers are objects with any of these methods:
  on_start(machine), on_command_tail(bytes), on_input_line(bytes),
  on_output(byte), on_exit(machine)
and may raise RunAborted(message, exit_status) to stop the run.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from . import layout as L
from .bdos import BDOS, BDOS_NAMES, UnknownFunction, WarmBoot
from .bios import BIOS
from .console import EndOfInput, OutputFailed, UserQuit
from .drives import Drive
from .fcb import build_command

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_EMULATION = 2
EXIT_VERIFY = 3
EXIT_BUDGET = 4
EXIT_OUTPUT = 5          # stdout could not be written (disk full, I/O error)
EXIT_BROKEN_PIPE = 141   # stdout was closed (e.g. `| head`): 128 + SIGPIPE, as shells report it
EXIT_INTERRUPTED = 130


class RunAborted(Exception):
    """Stop the run with a message (printed to stderr) and an exit status."""

    def __init__(self, message: str, exit_status: int = EXIT_EMULATION) -> None:
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


class ProgramError(ValueError):
    """A .COM file that cannot be loaded (missing, empty, too large)."""


@dataclass
class RunResult:
    exit_status: int
    message: str           # why the run ended ("" for a normal warm boot)
    tstates: int
    instructions: int
    wall_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def emulated_mhz(self) -> float:
        return self.tstates / self.wall_seconds / 1e6 if self.wall_seconds > 0 else 0.0

    @property
    def real_z80_seconds(self) -> float:
        """How long the same run takes on a real Z80 at 4 MHz (program T-states only)."""
        return self.tstates / 4e6

    def stats_line(self) -> str:
        return (f"stats: {self.tstates:,} T-states, {self.instructions:,} instructions, "
                f"{self.wall_seconds:.3f} s wall, {self.emulated_mhz:.1f} MHz emulated; "
                f"a real 4 MHz Z80 takes {self.real_z80_seconds:.3f} s")

    def stats_dict(self) -> dict[str, Any]:
        return {"exit_status": self.exit_status, "tstates": self.tstates,
                "instructions": self.instructions, "wall_seconds": self.wall_seconds,
                "emulated_mhz": self.emulated_mhz, "real_z80_4mhz_seconds": self.real_z80_seconds,
                "message": self.message}


def check_program(data: bytes, label: str) -> None:
    if not data:
        raise ProgramError(f"{label}: empty file, nothing to run")
    if len(data) > L.MAX_COM_SIZE:
        raise ProgramError(
            f"{label}: {len(data):,} bytes does not fit the TPA "
            f"(at most {L.MAX_COM_SIZE:,} bytes, 0100h..{L.TPA_END - 1:04X}h)")


def read_program(path: Path | str) -> bytes:
    """The bytes of a .COM file, or ProgramError with one clear line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProgramError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProgramError(f"{path}: is a folder, not a .COM file") from None
    except OSError as err:
        raise ProgramError(f"{path}: cannot read it ({err.strerror})") from None
    # files a user may pick by mistake; a .COM has no header, so only these are told apart
    if data[:4] == b"PK\x03\x04":
        raise ProgramError(f"{path}: a zip archive (a model .npz?), not a CP/M program; "
                           f"run the .COM built from it")
    if path.suffix.lower() in NOT_PROGRAMS:
        raise ProgramError(f"{path}: {NOT_PROGRAMS[path.suffix.lower()]}, not a CP/M program (.COM)")
    check_program(data, str(path))
    return data


NOT_PROGRAMS = {".npz": "a model file", ".txt": "a text file", ".asm": "assembly source "
                "(assemble it with python -m z80emu.asm)", ".lst": "a listing", ".sym": "a symbol file"}


def make_cpu():
    from z80emu.cpu import Z80
    return Z80()


class CPMMachine:
    """A 64 KB CP/M 2.2 system whose BDOS and BIOS run in Python."""

    def __init__(self, drives: dict[str, Path] | None = None, console=None, lenient: bool = False,
                 observers: list | None = None, trace: BinaryIO | Any = None,
                 max_tstates: int | None = None, mhz: float | None = None, cpu=None) -> None:
        if console is None:
            import sys
            from .console import PipedConsole
            console = PipedConsole(sys.stdin.buffer, sys.stdout.buffer)
        self.console = console
        self.lenient = lenient
        self.observers = list(observers or [])
        self.trace = trace
        self.max_tstates = max_tstates
        self.mhz = mhz
        self.notes: list[str] = []
        self.drives: dict[int, Drive] = {}
        for letter, path in (drives or {"A": Path(".")}).items():
            index = ord(letter.upper()) - 0x41
            self.drives[index] = Drive(letter, Path(path))
        self.cpu = cpu if cpu is not None else make_cpu()
        self.bdos = BDOS(self)
        self.bios = BIOS(self)
        self._build_system()

    # -- system image ------------------------------------------------------------
    def _build_system(self) -> None:
        mem = self.cpu.mem
        mem[:] = 0
        bios_wboot = L.BIOS_BASE + 3
        mem[0x0000:0x0003] = [0xC3, bios_wboot & 0xFF, bios_wboot >> 8]
        mem[L.IOBYTE] = 0x95  # CON:=CRT:, RDR:=PTR:, PUN:=PTP:, LST:=LPT: (a common default)
        mem[L.DRIVE_USER] = 0
        mem[0x0005:0x0008] = [0xC3, L.BDOS_ENTRY & 0xFF, L.BDOS_ENTRY >> 8]
        mem[L.BDOS_ENTRY] = 0xC9  # RET, in case someone reads it; the trap comes first
        self.cpu.set_trap(L.BDOS_ENTRY, True)
        for i in range(L.BIOS_ENTRIES):
            entry = L.BIOS_BASE + 3 * i
            stub = L.BIOS_STUBS + i
            mem[entry:entry + 3] = [0xC3, stub & 0xFF, stub >> 8]
            mem[stub] = 0xC9
            self.cpu.set_trap(stub, True)
        dpb = [L.DPB_SPT & 0xFF, L.DPB_SPT >> 8, L.DPB_BSH, L.DPB_BLM, L.DPB_EXM,
               L.DPB_DSM & 0xFF, L.DPB_DSM >> 8, L.DPB_DRM & 0xFF, L.DPB_DRM >> 8,
               L.DPB_AL0, L.DPB_AL1, L.DPB_CKS & 0xFF, L.DPB_CKS >> 8, L.DPB_OFF & 0xFF, L.DPB_OFF >> 8]
        mem[L.DPB_ADDR:L.DPB_ADDR + 15] = dpb
        for index in range(16):
            dph = L.DPH_BASE + 16 * index
            words = [0, 0, 0, 0, L.DIRBUF_ADDR, L.DPB_ADDR, L.CSV_ADDR, L.ALV_ADDR]
            for j, w in enumerate(words):
                mem[dph + 2 * j] = w & 0xFF
                mem[dph + 2 * j + 1] = w >> 8
        self.fill_alv(0)

    def fill_alv(self, index: int) -> None:
        """Mark the directory blocks and the blocks files use on drive `index`."""
        mem = self.cpu.mem
        bits = bytearray((L.DPB_DSM + 1) // 8)
        used = L.DIR_BLOCKS
        drive = self.drive_by_index(index)
        if drive is not None:
            for _key, host in drive.listing():
                records = drive.size_records(host)
                used += (records + L.RECORDS_PER_BLOCK - 1) // L.RECORDS_PER_BLOCK
        used = min(used, L.DPB_DSM + 1)
        for block in range(used):
            bits[block >> 3] |= 0x80 >> (block & 7)
        mem[L.ALV_ADDR:L.ALV_ADDR + len(bits)] = list(bits)

    def drive_by_index(self, index: int) -> Drive | None:
        return self.drives.get(index)

    def load(self, program: bytes | Path | str, args: list[str] | tuple = ()) -> None:
        """Put a .COM at 0100h and build the command tail and FCBs from args."""
        data = read_program(program) if isinstance(program, (str, Path)) else bytes(program)
        check_program(data, "program")
        mem = self.cpu.mem
        mem[L.TPA_START:L.TPA_START + len(data)] = list(data)
        tail, fcb1, fcb2 = build_command(list(args))
        mem[L.FCB1:L.FCB1 + 16] = list(fcb1)
        mem[L.FCB2:L.FCB2 + 16] = list(fcb2)
        mem[L.FCB1 + 32:L.FCB1 + 36] = [0, 0, 0, 0]
        mem[L.DEFAULT_DMA:L.DEFAULT_DMA + 128] = 0
        mem[L.DEFAULT_DMA:L.DEFAULT_DMA + len(tail)] = list(tail)
        self.command_tail = tail[1:]
        cpu = self.cpu
        cpu.pc = L.TPA_START
        # CCP's stack holds a return address; ours sits in the BDOS header
        # (EC04h) so that even a program filling the whole TPA is not overwritten
        cpu.sp = L.BDOS_ENTRY
        cpu.push(0x0000)           # a RET from the program warm-boots
        self.program_size = len(data)

    # -- observers -----------------------------------------------------------------
    def _notify(self, method: str, *args) -> None:
        for obs in self.observers:
            fn = getattr(obs, method, None)
            if fn is not None:
                fn(*args)

    def notify_output(self, byte: int) -> None:
        if self.observers:
            self._notify("on_output", byte)

    def notify_input_line(self, line: bytes) -> None:
        if self.observers:
            self._notify("on_input_line", line)

    def note(self, text: str) -> None:
        """A diagnostic for stderr (printed by the caller after the run, or live via on_note)."""
        self.notes.append(text)
        if self.on_note is not None:
            self.on_note(text)

    on_note = None
    IDLE_WALL = 0.05   # seconds of host time between output flushes, at most
    MAX_LAG = 0.25     # seconds the --mhz throttle may fall behind before it stops catching up

    def trace_bdos(self, fn: int, caller: int, result: int) -> None:
        cpu = self.cpu
        name = BDOS_NAMES.get(fn, "unknown")
        self.trace.write(f"{cpu.tstates:>12} {caller:04X}h BDOS {fn:2d} {name:<28} "
                         f"DE={cpu.de:04X}h -> {result:04X}h\n")

    # -- running ---------------------------------------------------------------------
    def run(self) -> RunResult:
        from z80emu.cpu import STOP_BREAKPOINT, STOP_HALT, STOP_TRAP

        cpu = self.cpu
        start_t = cpu.tstates
        start_i = cpu.instructions
        wall0 = time.perf_counter()
        status, message = EXIT_OK, ""
        # Every slice of emulated time (10 ms at --mhz, else 20M T-states) or IDLE_WALL seconds of
        # host time, whichever comes first, output is flushed and the --mhz throttle sleeps.  The
        # check runs after every BDOS/BIOS trap too: each trap restarts cpu.run, and a program
        # calling the BDOS often would otherwise never reach the end of a slice.
        slice_t = int(self.mhz * 1e6 / 100) if self.mhz else 20_000_000
        bios_lo, bios_hi = L.BIOS_STUBS, L.BIOS_STUBS + L.BIOS_ENTRIES
        clock = time.perf_counter
        next_idle_t = start_t + slice_t
        next_idle_wall = wall0 + self.IDLE_WALL
        throttle_t, throttle_wall = start_t, wall0   # the throttle's reference point
        mhz = self.mhz

        def idle() -> None:
            nonlocal next_idle_t, next_idle_wall, throttle_t, throttle_wall
            self.console.idle()
            now = clock()
            if mhz:
                ahead = (cpu.tstates - throttle_t) / (mhz * 1e6) - (now - throttle_wall)
                if ahead > 0:
                    time.sleep(ahead)
                    now = clock()
                elif ahead < -self.MAX_LAG:
                    # far behind (the program waited for input, or the host is slow): start
                    # afresh instead of running flat out to catch up
                    throttle_t, throttle_wall = cpu.tstates, now
            next_idle_t = cpu.tstates + slice_t
            next_idle_wall = now + self.IDLE_WALL

        output_error = None
        try:
            self._notify("on_start", self)
            self._notify("on_command_tail", self.command_tail)
            while True:
                budget = max(next_idle_t - cpu.tstates, 1)
                if self.max_tstates is not None:
                    left = self.max_tstates - (cpu.tstates - start_t)
                    if left <= 0:
                        raise RunAborted(
                            f"T-state budget exhausted: {self.max_tstates:,} T-states at PC={cpu.pc:04X}h",
                            EXIT_BUDGET)
                    budget = min(budget, left)
                reason = cpu.run(budget)
                if reason == STOP_TRAP or reason == STOP_BREAKPOINT:
                    pc = cpu.pc
                    if pc == L.BDOS_ENTRY:
                        self.bdos.call()
                    elif bios_lo <= pc < bios_hi:
                        self.bios.call(pc - bios_lo)
                    else:
                        raise RunAborted(f"unexpected stop at {pc:04X}h", EXIT_EMULATION)
                    cpu.pc = cpu.pop()      # the RET that is at the trap address
                    cpu.tstates += 10
                    if cpu.tstates >= next_idle_t or clock() >= next_idle_wall:
                        idle()
                elif reason == STOP_HALT:
                    raise RunAborted(f"the CPU halted at {(cpu.pc - 1) & 0xFFFF:04X}h with no "
                                     "interrupt to wake it (this CP/M machine has none)", EXIT_EMULATION)
                else:
                    idle()
        except WarmBoot as wb:
            message = str(wb.args[0]) if wb.args else ""
        except EndOfInput as eoi:
            message = str(eoi)
        except UnknownFunction as err:
            status, message = EXIT_EMULATION, str(err)
        except RunAborted as err:
            status, message = err.exit_status, err.message
        except OutputFailed as err:
            output_error = err
        except UserQuit:
            status, message = EXIT_INTERRUPTED, "stopped: Ctrl-C pressed twice"
        except KeyboardInterrupt:
            status, message = EXIT_INTERRUPTED, "stopped by Ctrl-C"
        finally:
            try:
                self.console.flush()
            except OutputFailed as err:
                output_error = output_error or err
            for drive in self.drives.values():
                drive.close_all()
        if output_error is not None and status in (EXIT_OK, EXIT_INTERRUPTED):
            status = EXIT_BROKEN_PIPE if output_error.broken_pipe else EXIT_OUTPUT
            message = str(output_error)
        try:
            self._notify("on_exit", self)
        except RunAborted as err:
            if status == EXIT_OK:
                status, message = err.exit_status, err.message
        return RunResult(status, message, cpu.tstates - start_t, cpu.instructions - start_i,
                         time.perf_counter() - wall0, list(self.notes))
