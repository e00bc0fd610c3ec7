"""Flag lookup tables and state-array layout shared by the numba core and its Python wrapper.

Flag bits: S Z Y H X P/V N C (bit 7..0). Y and X are the undocumented bits 5 and 3.
"""
from __future__ import annotations

import numpy as np

FLAG_C = 0x01
FLAG_N = 0x02
FLAG_PV = 0x04
FLAG_X = 0x08
FLAG_H = 0x10
FLAG_Y = 0x20
FLAG_Z = 0x40
FLAG_S = 0x80


def _build_sz() -> np.ndarray:
    """S, Z and the undocumented X/Y bits of an 8-bit result."""
    table = np.zeros(256, dtype=np.int64)
    for v in range(256):
        f = v & (FLAG_S | FLAG_X | FLAG_Y)
        if v == 0:
            f |= FLAG_Z
        table[v] = f
    return table


def _build_szp() -> np.ndarray:
    """SZ plus P/V set when the result has even parity."""
    table = _build_sz()
    for v in range(256):
        if bin(v).count("1") % 2 == 0:
            table[v] |= FLAG_PV
    return table


SZ = _build_sz()
SZP = _build_szp()

# Index of each field in the int64 state array (the single source of truth between run() calls).
# _core.run_core loads and stores these by literal index: change both together. numba's cache
# is keyed on _core.py, so after editing this file touch _core.py (or clear __pycache__).
R_A, R_F, R_B, R_C, R_D, R_E, R_H, R_L = range(8)
R_AF_, R_BC_, R_DE_, R_HL_ = 8, 9, 10, 11
R_IX, R_IY, R_SP, R_PC = 12, 13, 14, 15
R_I, R_R, R_WZ, R_IM = 16, 17, 18, 19
R_IFF1, R_IFF2, R_HALTED, R_Q, R_P, R_EI = 20, 21, 22, 23, 24, 25
R_TSTATES, R_INSTR = 26, 27
R_IRQ, R_IRQ_DATA, R_NMI = 28, 29, 30
STATE_SIZE = 32

# run() stop reasons
STOP_BUDGET = 0
STOP_TRAP = 1
STOP_BREAKPOINT = 2
STOP_HALT = 3

# bits of the per-address flag array
ADDR_TRAP = 1
ADDR_BREAKPOINT = 2
