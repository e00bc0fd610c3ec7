"""BIOS entry points a program may call directly (the jump table at FA00h).

Owns: what each of the 17 CP/M 2.2 BIOS entries does when a program calls
it.  The console entries share the console with the BDOS; the disk entries
answer with the machine's disk tables but there is no sector-level disk
(READ/WRITE report an error), since drives are host folders.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import layout as L
from .bdos import WarmBoot

if TYPE_CHECKING:
    from .machine import CPMMachine


class BIOS:
    def __init__(self, machine: "CPMMachine") -> None:
        self.m = machine
        self.track = 0
        self.sector = 0
        self.dma = L.DEFAULT_DMA

    def call(self, index: int) -> None:
        cpu = self.m.cpu
        bdos = self.m.bdos
        console = self.m.console
        if self.m.trace is not None:
            self.m.trace.write(f"{cpu.tstates:>12} BIOS {L.BIOS_NAMES[index]}\n")
        if index <= 1:                      # BOOT, WBOOT
            raise WarmBoot()
        if index not in (2, 4):             # anything but CONST/CONOUT ends a wait for a key
            bdos.activity()
        if index == 2:                      # CONST
            ready = console.status() if console.interactive else bdos.piped_key_ready()
            if not ready:
                bdos.poll_missed()
            cpu.a = 0xFF if ready else 0
        elif index == 3:                    # CONIN
            cpu.a = console.read_key()
        elif index == 4:                    # CONOUT
            bdos.output_seen()
            self.m.notify_output(cpu.c)
            console.write(cpu.c)
        elif index in (5, 6):               # LIST, PUNCH: no device, bytes dropped
            pass
        elif index == 7:                    # READER: end of file
            cpu.a = 0x1A
        elif index == 8:                    # HOME
            self.track = 0
        elif index == 9:                    # SELDSK: HL = DPH or 0
            drive = cpu.c & 0x0F
            cpu.hl = L.DPH_BASE + 16 * drive if self.m.drive_by_index(drive) is not None else 0
        elif index == 10:                   # SETTRK
            self.track = cpu.bc
        elif index == 11:                   # SETSEC
            self.sector = cpu.bc
        elif index == 12:                   # SETDMA
            self.dma = cpu.bc
        elif index in (13, 14):             # READ, WRITE: no raw sectors behind a host folder
            cpu.a = 1
        elif index == 15:                   # LISTST: always ready
            cpu.a = 0xFF
        elif index == 16:                   # SECTRAN: no skew
            cpu.hl = cpu.bc
