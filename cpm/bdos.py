"""BDOS functions 0..40 of CP/M 2.2, run in Python when the CPU reaches the BDOS trap.

Owns: the meaning of each function number, FCB field updates (extent,
current record, random record), directory entries for search first/next,
and the register conventions of the return (A = L, B = H).  File bytes come
from drives.py, keys and output go through the console (console.py), and the
machine (machine.py) owns the CPU, the run loop and the observers.
"""
from __future__ import annotations

import errno
import time
from typing import TYPE_CHECKING

import numpy as np

from z80emu import _tables as T

from . import layout as L
from .drives import DriveAccessRefused
from .fcb import RECORD_SIZE, RECORDS_PER_EXTENT, name_matches, position_fields, record_of

if TYPE_CHECKING:
    from .machine import CPMMachine

MAX_RECORDS = 65536  # CP/M 2.2 files end at 8 MB

BDOS_NAMES = {
    0: "System Reset", 1: "Console Input", 2: "Console Output", 3: "Reader Input",
    4: "Punch Output", 5: "List Output", 6: "Direct Console I/O", 7: "Get IOBYTE",
    8: "Set IOBYTE", 9: "Print String", 10: "Read Console Buffer", 11: "Console Status",
    12: "Return Version Number", 13: "Reset Disk System", 14: "Select Disk",
    15: "Open File", 16: "Close File", 17: "Search for First", 18: "Search for Next",
    19: "Delete File", 20: "Read Sequential", 21: "Write Sequential", 22: "Make File",
    23: "Rename File", 24: "Return Login Vector", 25: "Return Current Disk",
    26: "Set DMA Address", 27: "Get Addr(Alloc)", 28: "Write Protect Disk",
    29: "Get R/O Vector", 30: "Set File Attributes", 31: "Get Addr(DPB)",
    32: "Set/Get User Code", 33: "Read Random", 34: "Write Random",
    35: "Compute File Size", 36: "Set Random Record", 37: "Reset Drive",
    38: "Access Drive (unused)", 39: "Free Drive (unused)", 40: "Write Random with Zero Fill",
}


class WarmBoot(Exception):
    """The program asked for a warm boot: the run ends normally."""


class BdosError(WarmBoot):
    """A CP/M 2.2 BDOS error ("Bdos Err On A: R/O", "... File R/O"): the real BDOS prints it
    and warm-boots, so the run ends (the message goes to stderr, as diagnostics do)."""


class UnknownFunction(Exception):
    def __init__(self, number: int, caller: int) -> None:
        super().__init__(
            f"unknown BDOS function {number} ({number:02X}h) called from {caller:04X}h "
            "(CP/M 2.2 has functions 0..40; use --lenient to return 0 and go on)")
        self.number = number
        self.caller = caller


class BDOS:
    """The CP/M 2.2 BDOS, operating on a CPMMachine's memory and registers."""

    def __init__(self, machine: "CPMMachine") -> None:
        self.m = machine
        self.dma = L.DEFAULT_DMA
        self.current_drive = 0
        self.user = 0
        self.login_vector = 1
        self.ro_vector = 0
        self.column = 0
        self.attributes: dict[tuple[int, str], bytes] = {}  # (drive, host) -> 11 bytes of high bits
        self._search: list[int] = []   # remaining directory indices for search next
        self._directory: list[bytes] = []
        self.poll_streak = 0   # console polls in a tight loop (for the terminal's idle sleep)
        self._last_poll = 0
        # the current wait: polls that found no key, with no input read, little output and no
        # other BDOS/BIOS call since it began (see poll_missed)
        self.wait_polls = 0
        self.wait_output = 0
        self.wait_memory = None  # the TPA as it was at the start of the memory window
        self.waiting = False     # the program is in a wait loop (see poll_missed)
        self.cycle_regs = None   # registers at the last missed poll, and memory when they
        self.cycle_mem = None    # matched the poll before it (the exact-cycle rule)
        self._last_nap = 0.0
        self.key_offered = False

    # -- helpers -------------------------------------------------------------
    @property
    def mem(self):
        return self.m.cpu.mem

    def read_bytes(self, addr: int, n: int) -> bytes:
        addr &= 0xFFFF
        if addr + n <= 0x10000:
            return bytes(self.mem[addr:addr + n])
        return bytes(self.mem[(addr + i) & 0xFFFF] for i in range(n))

    def write_bytes(self, addr: int, data: bytes) -> None:
        addr &= 0xFFFF
        if addr + len(data) <= 0x10000:
            self.mem[addr:addr + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)
            return
        for i, b in enumerate(data):
            self.mem[(addr + i) & 0xFFFF] = b

    def _drive_of(self, fcb: int):
        dr = int(self.mem[fcb & 0xFFFF])
        index = self.current_drive if dr in (0, 0x3F) else (dr & 0x1F) - 1
        drive = self.m.drive_by_index(index)
        if drive is not None:
            self.login_vector |= 1 << index
        return index, drive

    # -- console ---------------------------------------------------------------
    def conout(self, ch: int, *, expand_tabs: bool = True) -> None:
        """Console output by the program: observers see the byte it wrote."""
        self.output_seen()
        self.m.notify_output(ch)
        self._show(ch, expand_tabs)

    def _show(self, ch: int, expand_tabs: bool = True) -> None:
        console = self.m.console
        if ch == 0x09 and expand_tabs:
            console.write(0x20)
            self.column += 1
            while self.column % 8:
                console.write(0x20)
                self.column += 1
            return
        console.write(ch)
        if ch == 0x0D:
            self.column = 0
        elif ch == 0x08:
            self.column = max(self.column - 1, 0)
        elif ch >= 0x20:
            self.column += 1

    def _echo(self, ch: int) -> None:
        # CP/M 2.2 function 1 echoes graphic characters, CR, LF, BS and TAB only
        if ch >= 0x20 or ch in (0x0D, 0x0A, 0x08, 0x09):
            self._show(ch)

    # A program is "waiting for a key" when it has done nothing but poll the console (BDOS 11,
    # BIOS CONST, BDOS 6 FFh finding nothing) and either
    # - is in exactly the same state (registers and all of memory, R aside) at two polls in a
    #   row: the machine is deterministic, so it would go round that loop for ever; only a key
    #   can end it (a plain "press any key" loop is seen within three polls, whatever it
    #   prints between them), or
    # - has polled WAIT_POLLS times with no input read, at most WAIT_OUTPUT bytes of output, no
    #   other BDOS/BIOS call, and not one byte of memory changed over the last WAIT_WINDOW
    #   polls (a loop that counts in its registers).  70,000 polls is more than any 16-bit
    #   countdown ("press a key to skip") makes, or
    # - has done nothing but poll for WAIT_POLLS_MAX polls (a wait loop that keeps changing
    #   memory, such as one that stirs a random seed; silent work seldom checks for ^C that
    #   often: it is 2.5 minutes of a 4 MHz Z80 at 2,000 T-states a check).
    # Work that checks for ^C between steps changes memory or registers from poll to poll (an
    # interpreter's loop variable, a counter pushed on the stack), however long it runs.  All
    # of it counts emulated events, so piped runs stay deterministic.  With piped input left,
    # the careful typist of CONSOLE.md types the next key then (status reports it); at end of
    # input the run ends cleanly.
    WAIT_POLLS = 70_000
    WAIT_WINDOW = 10_000
    WAIT_POLLS_MAX = 300_000
    WAIT_OUTPUT = 256
    # program-visible registers: A..I, IM, IFF1, IFF2 (not R, WZ, the latches or counters)
    CYCLE_REGS = np.array(list(range(T.R_R)) + [T.R_IM, T.R_IFF1, T.R_IFF2])

    def activity(self) -> None:
        """The program did something other than poll (input read, another BDOS/BIOS call)."""
        self.poll_streak = 0
        self.wait_polls = 0
        self.key_offered = False

    def output_seen(self) -> None:
        self.poll_streak = 0
        if self.wait_polls:
            self.wait_output += 1
            if self.wait_output > self.WAIT_OUTPUT:
                self.wait_polls = 0

    def poll_missed(self) -> None:
        """A console poll found no key. Keep the host CPU calm; end a hopeless wait at EOF."""
        cpu = self.m.cpu
        now = cpu.tstates
        self.poll_streak = self.poll_streak + 1 if now - self._last_poll < 1000 else 1
        self._last_poll = now
        if self.wait_polls == 0:
            self.wait_output = 0
            self.wait_memory = None
            self.waiting = False
            self.cycle_regs = self.cycle_mem = None
        self.wait_polls += 1
        if not self.waiting:
            self._watch_for_a_wait_loop(cpu)
        console = self.m.console
        if console.interactive:
            # sleep until a key (10 ms at most) in a wait loop; a tight poll loop that is not
            # seen as one naps at most a tenth of the time, so work with ^C checks stays fast
            if self.waiting:
                console.wait_briefly()
            elif self.poll_streak > 1000 and time.monotonic() - self._last_nap > 0.1:
                console.wait_briefly()
                self._last_nap = time.monotonic()
        elif console.at_eof and self.waiting_for_key():
            raise WarmBoot("end of input while the program kept polling for a key")

    def _watch_for_a_wait_loop(self, cpu) -> None:
        if self.wait_polls >= self.WAIT_POLLS_MAX:
            self.waiting = True
            return
        regs = cpu.state[self.CYCLE_REGS]
        if self.cycle_regs is not None and np.array_equal(regs, self.cycle_regs):
            if self.cycle_mem is not None and np.array_equal(cpu.mem, self.cycle_mem):
                self.waiting = True
                return
            self.cycle_mem = cpu.mem.copy()  # registers repeat: does memory too, next time?
        else:
            self.cycle_mem = None
        self.cycle_regs = regs
        if (self.wait_polls >= self.WAIT_POLLS - self.WAIT_WINDOW
                and self.wait_polls % self.WAIT_WINDOW == 0):
            mem = cpu.mem
            if self.wait_memory is not None and np.array_equal(mem, self.wait_memory):
                self.waiting = True
            else:  # the program still changes memory: it works between polls; watch again
                self.wait_memory = mem.copy()

    def waiting_for_key(self) -> bool:
        return self.wait_polls > 0 and self.waiting

    def piped_key_ready(self) -> bool:
        """Piped status: 00h while the program may be checking for ^C during work; once it has
        done nothing but poll for the whole wait window, the next piped key is typed (FFh until
        it is read).  At end of input such a wait ends the run."""
        if self.key_offered:
            return True
        if not self.wait_polls or not self.waiting_for_key():
            return False
        console = self.m.console
        if console.has_input():
            self.key_offered = True
            return True
        raise WarmBoot("end of input while the program kept polling for a key")

    # -- the dispatcher ------------------------------------------------------------
    def call(self) -> None:
        cpu = self.m.cpu
        fn = cpu.c
        handler = getattr(self, f"f{fn}", None) if fn <= 40 else None
        caller = (int(self.mem[cpu.sp]) | int(self.mem[(cpu.sp + 1) & 0xFFFF]) << 8) - 3
        if fn not in (2, 6, 9, 11):
            self.activity()
        if handler is None:
            if not self.m.lenient:
                raise UnknownFunction(fn, caller & 0xFFFF)
            self.m.note(f"unknown BDOS function {fn} ({fn:02X}h) from {caller & 0xFFFF:04X}h: returned 0")
            result = 0
        else:
            result = handler(cpu.de)
        if result is None:
            result = 0
        result &= 0xFFFF
        cpu.hl = result
        cpu.a = result & 0xFF
        cpu.b = result >> 8
        if self.m.trace is not None:
            self.m.trace_bdos(fn, caller & 0xFFFF, result)

    # -- 0..12: console and system -------------------------------------------------
    def f0(self, de):
        raise WarmBoot()

    def f1(self, de):
        self.activity()
        ch = self.m.console.read_key()
        self._echo(ch)
        return ch

    def f2(self, de):
        self.conout(de & 0xFF)

    def f3(self, de):
        return 0x1A  # no reader device: end of file

    def f4(self, de):
        return 0

    def f5(self, de):
        return 0

    def f6(self, de):
        # E=FFh: the next key or 00h (CP/M 2.2).  E=FEh (status) and E=FDh (wait for a key)
        # are CP/M 3's, kept because ../shared/spec/CONSOLE.md counts FDh among the calls
        # that read; a 2.2 program would print those two bytes, which no terminal shows.
        # Any other E is output of that byte.
        e = de & 0xFF
        console = self.m.console
        if e == 0xFF:
            ch = console.poll_key()
            if ch is None:
                self.poll_missed()
                return 0
            self.activity()
            return ch
        if e == 0xFE:
            return self.f11(de)
        if e == 0xFD:
            self.activity()
            return console.read_key()
        self.output_seen()
        self.m.notify_output(e)
        console.write(e)
        return 0

    def f7(self, de):
        return int(self.mem[L.IOBYTE])

    def f8(self, de):
        self.mem[L.IOBYTE] = de & 0xFF

    def f9(self, de):
        addr = de
        for _ in range(0x10000):
            ch = int(self.mem[addr & 0xFFFF])
            if ch == 0x24:
                break
            self.conout(ch)
            addr += 1

    def f10(self, de):
        self.activity()
        console = self.m.console
        max_len = int(self.mem[de & 0xFFFF])
        line = console.read_line(max_len)
        if line[:1] == b"\x03":
            raise WarmBoot()
        self.column = 0
        line = line[:max_len]
        self.mem[(de + 1) & 0xFFFF] = len(line)
        self.write_bytes(de + 2, line)
        self.m.notify_input_line(line)

    def f11(self, de):
        console = self.m.console
        ready = console.status() if console.interactive else self.piped_key_ready()
        if not ready:
            self.poll_missed()
        return 0xFF if ready else 0

    def f12(self, de):
        return 0x0022

    # -- 13..32: disks, directory, vectors -----------------------------------------
    def f13(self, de):
        self.dma = L.DEFAULT_DMA
        self.current_drive = 0
        self.login_vector = 1
        self.ro_vector = 0
        self.mem[L.DRIVE_USER] = (self.user & 0x0F) << 4
        return 0

    def f14(self, de):
        index = de & 0x0F
        if self.m.drive_by_index(index) is None:
            self.m.note(f"BDOS error on {chr(0x41 + index)}: select (no such drive; use --drive)")
            return 0xFF
        self.current_drive = index
        self.login_vector |= 1 << index
        self.mem[L.DRIVE_USER] = ((self.user & 0x0F) << 4) | index
        return 0

    def _name(self, fcb: int) -> bytes:
        return self.read_bytes(fcb + 1, 11)

    def _host(self, fcb: int):
        """(drive index, drive, host name or None) for the file an FCB names."""
        index, drive = self._drive_of(fcb)
        if drive is None:
            return index, None, None
        name = self._name(fcb)
        if b"?" in bytes(b & 0x7F for b in name):
            found = drive.matching(name)
            if not found:
                return index, drive, None
            self.write_bytes(fcb + 1, found[0][0])
            return index, drive, found[0][1]
        return index, drive, drive.host_name(name)

    def _fill_extent(self, fcb: int, drive, host: str, extent: int) -> None:
        """Set RC and the allocation map for the extent the FCB is in."""
        total = drive.size_records(host)
        in_extent = min(max(total - extent * RECORDS_PER_EXTENT, 0), RECORDS_PER_EXTENT)
        self.mem[(fcb + 15) & 0xFFFF] = in_extent
        blocks = (in_extent + L.RECORDS_PER_BLOCK - 1) // L.RECORDS_PER_BLOCK
        alloc = bytearray(16)
        for i in range(blocks):
            block = L.DIR_BLOCKS + extent * 8 + i
            alloc[2 * i] = block & 0xFF
            alloc[2 * i + 1] = block >> 8
        self.write_bytes(fcb + 16, bytes(alloc))

    def _file_op(self, fcb: int, op):
        try:
            return op()
        except DriveAccessRefused as err:
            self.m.note(str(err))
            return 0xFF
        except OSError as err:
            self.m.note(f"host file error: {err}")
            return 0xFF

    def f15(self, de):
        self.mem[(de + 14) & 0xFFFF] = 0  # CP/M 2.2 clears the module number (S2) first
        def op():
            index, drive, host = self._host(de)
            if host is None:
                return 0xFF
            extent = (int(self.mem[(de + 14) & 0xFFFF]) & 0x3F) * 32 + (int(self.mem[(de + 12) & 0xFFFF]) & 0x1F)
            total = drive.size_records(host)
            if extent > 0 and extent * RECORDS_PER_EXTENT >= total:
                return 0xFF
            self.mem[(de + 13) & 0xFFFF] = 0
            self._fill_extent(de, drive, host, extent)
            if drive.is_read_only(host) or (self.attributes.get((index, host), b"\0" * 11)[8] & 0x80):
                self.mem[(de + 9) & 0xFFFF] |= 0x80
            return 0
        return self._file_op(de, op)

    def f16(self, de):
        def op():
            index, drive, host = self._host(de)
            if host is None:
                return 0xFF
            drive.close_file(host)  # reopened on the next access: programs often go on using an FCB
            return 0
        return self._file_op(de, op)

    def _build_directory(self, index: int, drive) -> list[bytes]:
        """The drive's files as CP/M 2.2 directory entries, one per 16 KB extent."""
        entries: list[bytes] = []
        block = L.DIR_BLOCKS
        for key, host in drive.listing():
            total = drive.size_records(host)
            extents = max((total + RECORDS_PER_EXTENT - 1) // RECORDS_PER_EXTENT, 1)
            high = self.attributes.get((index, host))
            name = bytearray(key)
            if high is not None:
                for i in range(11):
                    name[i] |= high[i] & 0x80
            if drive.is_read_only(host):
                name[8] |= 0x80
            for ext in range(extents):
                rc = min(total - ext * RECORDS_PER_EXTENT, RECORDS_PER_EXTENT)
                alloc = bytearray(16)
                for i in range((rc + L.RECORDS_PER_BLOCK - 1) // L.RECORDS_PER_BLOCK):
                    alloc[2 * i] = block & 0xFF
                    alloc[2 * i + 1] = (block >> 8) & 0xFF
                    block += 1
                entries.append(bytes([self.user]) + bytes(name)
                               + bytes([ext & 0x1F, 0, (ext >> 5) & 0x3F, rc]) + bytes(alloc))
        return entries[: L.DPB_DRM + 1]

    def _search_next_result(self, pattern: bytes) -> int:
        while self._search:
            i = self._search.pop(0)
            entry = self._directory[i]
            if self._entry_matches(pattern, entry):
                record = bytearray(b"\xE5" * RECORD_SIZE)
                first = i - i % 4
                for j in range(4):
                    if first + j < len(self._directory):
                        record[32 * j:32 * j + 32] = self._directory[first + j]
                self.write_bytes(self.dma, bytes(record))
                return i % 4
        return 0xFF

    @staticmethod
    def _entry_matches(pattern: bytes, entry: bytes) -> bool:
        if pattern[0] == 0x3F:
            return True
        if not name_matches(pattern[1:12], entry[1:12]):
            return False
        ex, s2 = pattern[12], pattern[14]  # S1 (13) is not compared
        if ex != 0x3F and (ex ^ entry[12]) & 0x1F:
            return False
        return s2 == 0x3F or not (s2 ^ entry[14]) & 0x3F

    def f17(self, de):
        # CP/M 2.2 clears S2 unless the search is for every entry (dr or ex is '?')
        if int(self.mem[de & 0xFFFF]) != 0x3F and int(self.mem[(de + 12) & 0xFFFF]) != 0x3F:
            self.mem[(de + 14) & 0xFFFF] = 0
        index, drive = self._drive_of(de)
        self._pattern = self.read_bytes(de, 15)
        if drive is None:
            self._search = []
            return 0xFF
        self._directory = self._build_directory(index, drive)
        self._search = list(range(len(self._directory)))
        return self._search_next_result(self._pattern)

    def f18(self, de):
        return self._search_next_result(getattr(self, "_pattern", b"?" * 15))

    def f19(self, de):
        def op():
            index, drive = self._drive_of(de)
            if drive is None:
                return 0xFF
            self._check_disk(index, drive)
            found = drive.matching(self._name(de))
            for _key, host in found:  # every match is checked before any is deleted
                self._check_file(index, drive, host)
            for _key, host in found:
                drive.delete(host)
                self.attributes.pop((index, host), None)
            return 0 if found else 0xFF
        return self._file_op(de, op)

    def _advance_extent(self, fcb: int, drive, host) -> None:
        """CP/M moves to the next extent lazily, when CR has reached 128."""
        if self.mem[(fcb + 32) & 0xFFFF] >= RECORDS_PER_EXTENT:
            extent = (int(self.mem[(fcb + 14) & 0xFFFF]) & 0x3F) * 32 + (int(self.mem[(fcb + 12) & 0xFFFF]) & 0x1F) + 1
            self.mem[(fcb + 12) & 0xFFFF] = extent & 0x1F
            self.mem[(fcb + 14) & 0xFFFF] = (extent >> 5) & 0x3F
            self.mem[(fcb + 32) & 0xFFFF] = 0
            if host is not None:
                self._fill_extent(fcb, drive, host, extent)

    def _position(self, fcb: int) -> int:
        return record_of(int(self.mem[(fcb + 12) & 0xFFFF]), int(self.mem[(fcb + 14) & 0xFFFF]), int(self.mem[(fcb + 32) & 0xFFFF]))

    def f20(self, de):
        def op():
            _index, drive, host = self._host(de)
            if host is None:
                return 1
            self._advance_extent(de, drive, host)
            record = self._position(de)
            data = drive.read_record(host, record) if record < MAX_RECORDS else None
            if data is None:
                return 1
            self.write_bytes(self.dma, data)
            self.mem[(de + 32) & 0xFFFF] = int(self.mem[(de + 32) & 0xFFFF]) + 1
            return 0
        return self._file_op(de, op)

    # CP/M 2.2 refuses to change a write-protected disk (BDOS 28) or a read-only file (t1'
    # attribute, or a host file without write permission): it prints "Bdos Err On A: R/O" or
    # "Bdos Err On A: File R/O" and warm-boots.  Here the message goes to stderr.
    def _check_disk(self, index, drive) -> None:
        if self.ro_vector & (1 << index):
            raise BdosError(f"Bdos Err On {drive.letter}: R/O (the disk is write-protected, BDOS 28); "
                            "the BDOS warm-booted, as CP/M 2.2 does")

    def _file_read_only(self, index, drive, host) -> bool:
        high = self.attributes.get((index, host))
        return bool(high is not None and high[8] & 0x80) or drive.is_read_only(host)

    def _file_ro_error(self, drive, host) -> BdosError:
        return BdosError(f"Bdos Err On {drive.letter}: File R/O ({host} is read-only); "
                         "the BDOS warm-booted, as CP/M 2.2 does")

    def _check_file(self, index, drive, host) -> None:
        if self._file_read_only(index, drive, host):
            raise self._file_ro_error(drive, host)

    def _check_writable(self, index, drive, host) -> None:
        self._check_disk(index, drive)
        self._check_file(index, drive, host)

    def _write(self, drive, host, record: int) -> int | None:
        """Write the DMA record; None when done, else the BDOS error code (2: disk full)."""
        try:
            ok = drive.write_record(host, record, self.read_bytes(self.dma, RECORD_SIZE))
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                self.m.note(f"host file error: {err}")
                return 2
            raise
        if not ok:  # the host file could not be opened for writing
            raise self._file_ro_error(drive, host)
        return None

    def f21(self, de):
        def op():
            index, drive, host = self._host(de)
            if host is None:
                return 1
            self._advance_extent(de, drive, host)
            record = self._position(de)
            if record >= MAX_RECORDS:
                return 2
            self._check_writable(index, drive, host)
            failed = self._write(drive, host, record)
            if failed is not None:
                return failed
            cr = int(self.mem[(de + 32) & 0xFFFF]) + 1
            self.mem[(de + 32) & 0xFFFF] = cr
            self.mem[(de + 15) & 0xFFFF] = max(int(self.mem[(de + 15) & 0xFFFF]), cr)
            return 0
        return self._file_op(de, op)

    def f22(self, de):
        self.mem[(de + 14) & 0xFFFF] = 0  # CP/M 2.2 clears the module number (S2) first
        def op():
            index, drive = self._drive_of(de)
            if drive is None:
                return 0xFF
            name = self._name(de)
            if b"?" in bytes(b & 0x7F for b in name):
                return 0xFF
            self._check_disk(index, drive)
            existing = drive.host_name(name)
            if existing is not None:
                # making an existing name replaces the host file: never a read-only one
                self._check_file(index, drive, existing)
            if existing is not None and self.mem[(de + 12) & 0xFFFF]:
                host = existing  # a further extent of a file being written
            else:
                host = drive.create(name)
                self.attributes.pop((index, host), None)
            self.mem[(de + 13) & 0xFFFF] = 0
            self.mem[(de + 15) & 0xFFFF] = 0
            self.write_bytes(de + 16, bytes(16))
            return 0
        return self._file_op(de, op)

    def f23(self, de):
        def op():
            index, drive = self._drive_of(de)
            if drive is not None:
                self._check_disk(index, drive)
            index, drive, host = self._host(de)
            if host is None or b"?" in self.read_bytes(de + 1, 11):
                return 0xFF
            self._check_file(index, drive, host)
            new_name = self.read_bytes(de + 17, 11)
            if b"?" in bytes(b & 0x7F for b in new_name):
                return 0xFF
            new_host = drive.rename(host, new_name)
            if new_host is None:
                self.m.note(f"rename refused: {drive.letter}:{drive.check_name(new_name)} exists already")
                return 0xFF
            high = self.attributes.pop((index, host), None)
            if high is not None:
                self.attributes[(index, new_host)] = high
            return 0
        return self._file_op(de, op)

    def f24(self, de):
        return self.login_vector

    def f25(self, de):
        return self.current_drive

    def f26(self, de):
        self.dma = de & 0xFFFF

    def f27(self, de):
        self.m.fill_alv(self.current_drive)
        return L.ALV_ADDR

    def f28(self, de):
        self.ro_vector |= 1 << self.current_drive

    def f29(self, de):
        return self.ro_vector

    def f30(self, de):
        def op():
            index, drive, host = self._host(de)
            if host is None:
                return 0xFF
            self._check_disk(index, drive)
            self.attributes[(index, host)] = bytes(b & 0x80 for b in self._name(de))
            return 0
        return self._file_op(de, op)

    def f31(self, de):
        return L.DPB_ADDR

    def f32(self, de):
        e = de & 0xFF
        if e == 0xFF:
            return self.user
        self.user = e & 0x1F  # CP/M 2.2 keeps 5 bits (CCP only offers users 0..15)
        self.mem[L.DRIVE_USER] = ((self.user & 0x0F) << 4) | self.current_drive
        return 0

    # -- 33..40: random access -----------------------------------------------------
    def _random_record(self, fcb: int) -> tuple[int, int]:
        r = self.read_bytes(fcb + 33, 3)
        return r[0] | r[1] << 8, r[2]

    def _seek(self, fcb: int, record: int, drive, host) -> None:
        ex, s2, cr = position_fields(record)
        self.mem[(fcb + 12) & 0xFFFF] = ex
        self.mem[(fcb + 14) & 0xFFFF] = s2
        self.mem[(fcb + 32) & 0xFFFF] = cr
        self._fill_extent(fcb, drive, host, record // RECORDS_PER_EXTENT)

    def f33(self, de):
        def op():
            _index, drive, host = self._host(de)
            record, r2 = self._random_record(de)
            if r2:
                return 6
            if host is None:
                return 4
            total = drive.size_records(host)
            extent = record // RECORDS_PER_EXTENT
            if extent > 0 and extent * RECORDS_PER_EXTENT >= total:
                return 4  # seek to unwritten extent
            self._seek(de, record, drive, host)
            data = drive.read_record(host, record)
            if data is None:
                return 1  # reading unwritten data
            self.write_bytes(self.dma, data)
            return 0
        return self._file_op(de, op)

    def f34(self, de):
        def op():
            index, drive, host = self._host(de)
            record, r2 = self._random_record(de)
            if r2:
                return 6
            if host is None:
                return 5
            self._check_writable(index, drive, host)
            failed = self._write(drive, host, record)
            if failed is not None:
                return failed
            self._seek(de, record, drive, host)
            return 0
        return self._file_op(de, op)

    def f35(self, de):
        def op():
            _index, drive, host = self._host(de)
            total = drive.size_records(host) if host is not None else 0
            self.write_bytes(de + 33, bytes([total & 0xFF, (total >> 8) & 0xFF, total >> 16]))
            return 0 if host is not None else 0xFF
        return self._file_op(de, op)

    def f36(self, de):
        record = self._position(de)
        self.write_bytes(de + 33, bytes([record & 0xFF, (record >> 8) & 0xFF, record >> 16]))

    def f37(self, de):
        self.login_vector &= ~de & 0xFFFF
        self.ro_vector &= ~de & 0xFFFF
        self.login_vector |= 1 << self.current_drive
        return 0

    def f38(self, de):
        return 0

    def f39(self, de):
        return 0

    def f40(self, de):
        return self.f34(de)
