"""Memory map of the emulated 64 KB CP/M 2.2 system (addresses only).

  0000h  JP WBOOT (BIOS+3)         0003h IOBYTE   0004h current drive/user
  0005h  JP BDOS_ENTRY             005Ch FCB1     006Ch FCB2   0080h tail/DMA
  0100h  TPA (the .COM is loaded here) ... up to BDOS_BASE
  E400h  CCP (may be overwritten by programs, as on a real system)
  EC00h  BDOS; its entry EC06h is a trap handled in Python (bdos.py)
  FA00h  BIOS jump table of 17 entries; each jumps to a one-byte trap stub
  FA60h  DPB, FA80h DPHs (16 drives), FB80h directory buffer, FC00h ALV
"""
from __future__ import annotations

CCP_BASE = 0xE400
BDOS_BASE = 0xEC00
BDOS_ENTRY = 0xEC06
BIOS_BASE = 0xFA00
BIOS_ENTRIES = 17
BIOS_STUBS = 0xFA40       # BIOS_STUBS + i is the trap address of entry i
DPB_ADDR = 0xFA60
DPH_BASE = 0xFA80         # 16 bytes per drive
DIRBUF_ADDR = 0xFB80
ALV_ADDR = 0xFC00         # 256 bytes: DSM = 2047 blocks of 2 KB
CSV_ADDR = 0xFD00

TPA_START = 0x0100
TPA_END = BDOS_BASE        # a .COM must end below the BDOS (it may overwrite the CCP)
MAX_COM_SIZE = TPA_END - TPA_START

DEFAULT_DMA = 0x0080
FCB1 = 0x005C
FCB2 = 0x006C
IOBYTE = 0x0003
DRIVE_USER = 0x0004

# Disk parameter block: 64 records/track, 2 KB blocks, 2048 blocks (4 MB),
# 1024 directory entries, no checksum vector, no reserved tracks.
DPB_SPT = 64
DPB_BSH = 4
DPB_BLM = 15
DPB_EXM = 0
DPB_DSM = 2047
DPB_DRM = 1023
DPB_AL0 = 0xFF
DPB_AL1 = 0xFF
DPB_CKS = 0
DPB_OFF = 0
DIR_BLOCKS = 16
RECORDS_PER_BLOCK = 16

BIOS_NAMES = ("BOOT", "WBOOT", "CONST", "CONIN", "CONOUT", "LIST", "PUNCH", "READER",
              "HOME", "SELDSK", "SETTRK", "SETSEC", "SETDMA", "READ", "WRITE",
              "LISTST", "SECTRAN")
