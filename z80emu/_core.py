"""The numba run loop of the Z80 core: fetch, decode by bit fields, execute, count T-states.

All registers live in local int64 variables while the loop runs; they are loaded from and
stored back to the int64 state array (layout in _tables.py) at entry and exit. Decoding follows
the x/y/z/p/q split of an opcode (x = op >> 6, y = (op >> 3) & 7, z = op & 7, p = y >> 1,
q = y & 1). DD/FD instructions run through the unprefixed decoder with H/L temporarily
swapped for IXH/IXL or IYH/IYL ("idx" mode): the decoder only has to special-case the (HL)
memory operand (which becomes (IX+d)) and the few instructions that name the real H/L.
Timing comments use M-cycles: f = opcode fetch (4), r/w = memory read/write (3).

This module knows nothing of CP/M or any machine: it stops at traps and lets the caller act.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._tables import SZ, SZP

# flag bits (duplicated as literals so numba folds them)
FC = 0x01
FN = 0x02
FPV = 0x04
FX = 0x08
FH = 0x10
FY = 0x20
FZ = 0x40
FS = 0x80
FXY = 0x28

_SZ = SZ
_SZP = SZP
# IM values of ED 46/4E/56/5E/66/6E/76/7E
_IM_TABLE = np.array([0, 0, 1, 2, 0, 0, 1, 2], dtype=np.int64)


@njit(cache=True)
def _alu(op, a, v, f):
    """ADD ADC SUB SBC AND XOR OR CP (op 0..7) of A and v. Returns (a, f)."""
    if op == 0 or op == 1:
        cy = (f & FC) if op == 1 else 0
        r = a + v + cy
        rr = r & 0xFF
        f = _SZ[rr] | ((r >> 8) & 1) | ((a ^ v ^ r) & FH) | ((((a ^ ~v) & (a ^ r)) & 0x80) >> 5)
        return rr, f
    if op == 2 or op == 3 or op == 7:
        cy = (f & FC) if op == 3 else 0
        r = a - v - cy
        rr = r & 0xFF
        f = (_SZ[rr] & (FS | FZ)) | FN | ((r >> 8) & 1) | ((a ^ v ^ r) & FH) | \
            ((((a ^ v) & (a ^ r)) & 0x80) >> 5)
        if op == 7:
            return a, f | (v & FXY)
        return rr, f | (rr & FXY)
    if op == 4:
        a = a & v
        return a, _SZP[a] | FH
    if op == 5:
        a = a ^ v
        return a, _SZP[a]
    a = a | v
    return a, _SZP[a]


@njit(cache=True)
def _inc8(v, f):
    r = (v + 1) & 0xFF
    f = (f & FC) | _SZ[r] | (FPV if r == 0x80 else 0) | (FH if (r & 0x0F) == 0 else 0)
    return r, f


@njit(cache=True)
def _dec8(v, f):
    r = (v - 1) & 0xFF
    f = (f & FC) | _SZ[r] | FN | (FPV if r == 0x7F else 0) | (FH if (r & 0x0F) == 0x0F else 0)
    return r, f


@njit(cache=True)
def _rot(op, v, f):
    """CB-prefixed shifts/rotates RLC RRC RL RR SLA SRA SLL SRL (op 0..7). Returns (v, f)."""
    if op == 0:
        c = v >> 7
        v = ((v << 1) | c) & 0xFF
    elif op == 1:
        c = v & 1
        v = (v >> 1) | (c << 7)
    elif op == 2:
        c = v >> 7
        v = ((v << 1) | (f & FC)) & 0xFF
    elif op == 3:
        c = v & 1
        v = (v >> 1) | ((f & FC) << 7)
    elif op == 4:
        c = v >> 7
        v = (v << 1) & 0xFF
    elif op == 5:
        c = v & 1
        v = (v >> 1) | (v & 0x80)
    elif op == 6:
        c = v >> 7
        v = ((v << 1) | 1) & 0xFF
    else:
        c = v & 1
        v = v >> 1
    return v, _SZP[v] | c


@njit(cache=True)
def _add16(x, v, f):
    r = x + v
    f = (f & (FS | FZ | FPV)) | ((r >> 16) & 1) | (((x ^ v ^ r) >> 8) & FH) | ((r >> 8) & FXY)
    return r & 0xFFFF, f


@njit(cache=True)
def _adc16(x, v, f):
    r = x + v + (f & FC)
    rr = r & 0xFFFF
    f = ((rr >> 8) & (FS | FXY)) | ((r >> 16) & 1) | (((x ^ v ^ r) >> 8) & FH) | \
        ((((x ^ ~v) & (x ^ r)) & 0x8000) >> 13) | (FZ if rr == 0 else 0)
    return rr, f


@njit(cache=True)
def _sbc16(x, v, f):
    r = x - v - (f & FC)
    rr = r & 0xFFFF
    f = ((rr >> 8) & (FS | FXY)) | ((r >> 16) & 1) | (((x ^ v ^ r) >> 8) & FH) | FN | \
        ((((x ^ v) & (x ^ r)) & 0x8000) >> 13) | (FZ if rr == 0 else 0)
    return rr, f


@njit(cache=True)
def _daa(a, f):
    t = 0
    c = f & FC
    lo = a & 0x0F
    if (f & FH) or lo > 9:
        t = 6
    if c or a > 0x99:
        t |= 0x60
        c = 1
    if f & FN:
        h = FH if ((f & FH) and lo < 6) else 0
        r = (a - t) & 0xFF
    else:
        h = FH if lo > 9 else 0
        r = (a + t) & 0xFF
    return r, _SZP[r] | c | (f & FN) | h


@njit(cache=True)
def _cond(y, f):
    """Condition codes NZ Z NC C PO PE P M."""
    p = y >> 1
    if p == 0:
        bit = f & FZ
    elif p == 1:
        bit = f & FC
    elif p == 2:
        bit = f & FPV
    else:
        bit = f & FS
    if y & 1:
        return bit != 0
    return bit == 0


@njit(cache=True)
def _parity_even(v):
    return (_SZP[v & 0xFF] & FPV) != 0


@njit(cache=True)
def run_core(st, mem, io_in, io_out, addr_flags, budget, single):
    """Run until at least `budget` more T-states have passed (or one instruction when
    `single`), a trap/breakpoint address is reached (checked after each instruction, so never
    on the first one), or the CPU halts. Returns the stop reason (STOP_* in _tables)."""
    a = st[0]; f = st[1]; b = st[2]; c = st[3]; d = st[4]; e = st[5]; h = st[6]; l = st[7]
    af_ = st[8]; bc_ = st[9]; de_ = st[10]; hl_ = st[11]
    ix = st[12]; iy = st[13]; sp = st[14]; pc = st[15]
    ri = st[16]; r = st[17]; wz = st[18]; im = st[19]
    iff1 = st[20]; iff2 = st[21]; halted = st[22]; q = st[23]; pl = st[24]; eil = st[25]
    t = st[26]; ninstr = st[27]
    irq = st[28]; irq_data = st[29]; nmi = st[30]

    # single: stop after one instruction (or one interrupt acceptance)
    target = t if single else t + budget
    reason = 0
    while True:
        # ---- interrupts at the instruction boundary ----
        if nmi != 0 or (irq != 0 and iff1 != 0 and eil == 0):
            if pl != 0:
                f &= ~FPV   # NMOS: interrupt right after LD A,I/R reads IFF2 as already cleared
                pl = 0
            halted = 0
            eil = 0
            q = 0
            r = (r & 0x80) | ((r + 1) & 0x7F)
            sp = (sp - 1) & 0xFFFF
            mem[sp] = pc >> 8
            sp = (sp - 1) & 0xFFFF
            mem[sp] = pc & 0xFF
            if nmi != 0:
                nmi = 0
                iff1 = 0
                pc = 0x66
                wz = pc
                t += 11          # f(5) w(3) w(3)
            else:
                irq = 0
                iff1 = 0
                iff2 = 0
                if im == 2:
                    vec = (ri << 8) | irq_data
                    pc = np.int64(mem[vec]) | (np.int64(mem[(vec + 1) & 0xFFFF]) << 8)
                    t += 19      # ack(7) w(3) w(3) r(3) r(3)
                elif im == 1:
                    pc = 0x38
                    t += 13      # ack(7) w(3) w(3)
                else:
                    # IM 0: the data byte is executed; only RST n (single byte) is supported,
                    # anything else is treated as RST 38h (what a floating 0FFh bus gives).
                    if (irq_data & 0xC7) == 0xC7:
                        pc = irq_data & 0x38
                    else:
                        pc = 0x38
                    t += 13      # ack(6) + RST(5) w(3) w(3) - 4 of RST's fetch overlap
                wz = pc
            fl = addr_flags[pc]
            if fl != 0:
                reason = 2 if (fl & 2) else 1
                break
            if t >= target:  # the acceptance used up the budget (always so when single)
                break
        if halted != 0:
            reason = 3
            break

        # ---- fetch ----
        op = np.int64(mem[pc])
        pc = (pc + 1) & 0xFFFF
        r = (r & 0x80) | ((r + 1) & 0x7F)
        ninstr += 1
        pq = q
        fm = 0       # set when the instruction writes F (the Q latch copies F then)
        pl = 0
        eil = 0
        idx = 0
        if op == 0xDD or op == 0xFD:
            # prefix chain: the last DD/FD wins; each costs one M1 cycle
            while True:
                idx = 1 if op == 0xDD else 2
                t += 4
                op = np.int64(mem[pc])
                pc = (pc + 1) & 0xFFFF
                r = (r & 0x80) | ((r + 1) & 0x7F)
                if op != 0xDD and op != 0xFD:
                    break
            if op == 0xED:
                idx = 0
        x = op >> 6
        y = (op >> 3) & 7
        z = op & 7

        if op == 0xCB and idx != 0:
            # ---------------- DD CB d op / FD CB d op ----------------
            xr = ix if idx == 1 else iy
            dd = np.int64(mem[pc])
            if dd >= 128:
                dd -= 256
            op = np.int64(mem[(pc + 1) & 0xFFFF])
            pc = (pc + 2) & 0xFFFF
            x = op >> 6
            y = (op >> 3) & 7
            z = op & 7
            addr = (xr + dd) & 0xFFFF
            wz = addr
            v = np.int64(mem[addr])
            fm = 1
            if x == 1:
                hit = v & (1 << y)
                f = (f & FC) | FH | (hit & FS) | ((addr >> 8) & FXY) | (0 if hit else (FZ | FPV))
                t += 16          # (prefix 4) f(4) r(3) r(5) r(4)
            else:
                if x == 0:
                    v, f = _rot(y, v, f)
                elif x == 2:
                    v = v & ~(1 << y)
                    fm = 0
                else:
                    v = v | (1 << y)
                    fm = 0
                mem[addr] = v
                t += 19          # (prefix 4) f(4) r(3) r(5) r(4) w(3)
                # undocumented: the result is also copied to register z
                if z == 0:
                    b = v
                elif z == 1:
                    c = v
                elif z == 2:
                    d = v
                elif z == 3:
                    e = v
                elif z == 4:
                    h = v
                elif z == 5:
                    l = v
                elif z == 7:
                    a = v
        elif op == 0xCB:
            # ---------------- CB op ----------------
            op = np.int64(mem[pc])
            pc = (pc + 1) & 0xFFFF
            r = (r & 0x80) | ((r + 1) & 0x7F)
            x = op >> 6
            y = (op >> 3) & 7
            z = op & 7
            if z == 0:
                v = b
            elif z == 1:
                v = c
            elif z == 2:
                v = d
            elif z == 3:
                v = e
            elif z == 4:
                v = h
            elif z == 5:
                v = l
            elif z == 6:
                v = np.int64(mem[(h << 8) | l])
            else:
                v = a
            if x == 1:
                fm = 1
                hit = v & (1 << y)
                if z == 6:
                    xy = (wz >> 8) & FXY
                    t += 12      # f(4) f(4) r(4)
                else:
                    xy = v & FXY
                    t += 8       # f(4) f(4)
                f = (f & FC) | FH | (hit & FS) | xy | (0 if hit else (FZ | FPV))
            else:
                if x == 0:
                    v, f = _rot(y, v, f)
                    fm = 1
                elif x == 2:
                    v = v & ~(1 << y)
                else:
                    v = v | (1 << y)
                if z == 0:
                    b = v
                elif z == 1:
                    c = v
                elif z == 2:
                    d = v
                elif z == 3:
                    e = v
                elif z == 4:
                    h = v
                elif z == 5:
                    l = v
                elif z == 6:
                    mem[(h << 8) | l] = v
                else:
                    a = v
                t += 15 if z == 6 else 8   # f(4) f(4) [r(4) w(3)]
        elif op == 0xED:
            # ---------------- ED op ----------------
            op = np.int64(mem[pc])
            pc = (pc + 1) & 0xFFFF
            r = (r & 0x80) | ((r + 1) & 0x7F)
            x = op >> 6
            y = (op >> 3) & 7
            z = op & 7
            p = y >> 1
            qq = y & 1
            if x == 1:
                if z == 0:
                    # IN r,(C) / IN (C)   f(4) f(4) i(4)
                    bc = (b << 8) | c
                    v = np.int64(io_in[bc])
                    wz = (bc + 1) & 0xFFFF
                    f = (f & FC) | _SZP[v]
                    fm = 1
                    if y == 0:
                        b = v
                    elif y == 1:
                        c = v
                    elif y == 2:
                        d = v
                    elif y == 3:
                        e = v
                    elif y == 4:
                        h = v
                    elif y == 5:
                        l = v
                    elif y == 7:
                        a = v
                    t += 12
                elif z == 1:
                    # OUT (C),r / OUT (C),0   f(4) f(4) o(4)
                    bc = (b << 8) | c
                    if y == 0:
                        v = b
                    elif y == 1:
                        v = c
                    elif y == 2:
                        v = d
                    elif y == 3:
                        v = e
                    elif y == 4:
                        v = h
                    elif y == 5:
                        v = l
                    elif y == 6:
                        v = 0
                    else:
                        v = a
                    io_out[bc] = v
                    wz = (bc + 1) & 0xFFFF
                    t += 12
                elif z == 2:
                    # SBC HL,rr / ADC HL,rr   f(4) f(4) +7
                    if p == 0:
                        v = (b << 8) | c
                    elif p == 1:
                        v = (d << 8) | e
                    elif p == 2:
                        v = (h << 8) | l
                    else:
                        v = sp
                    hl = (h << 8) | l
                    wz = (hl + 1) & 0xFFFF
                    if qq == 0:
                        hl, f = _sbc16(hl, v, f)
                    else:
                        hl, f = _adc16(hl, v, f)
                    fm = 1
                    h = hl >> 8
                    l = hl & 0xFF
                    t += 15
                elif z == 3:
                    # LD (nn),rr / LD rr,(nn)   f(4) f(4) r(3) r(3) w/r(3) w/r(3)
                    nn = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                    pc = (pc + 2) & 0xFFFF
                    wz = (nn + 1) & 0xFFFF
                    if qq == 0:
                        if p == 0:
                            v = (b << 8) | c
                        elif p == 1:
                            v = (d << 8) | e
                        elif p == 2:
                            v = (h << 8) | l
                        else:
                            v = sp
                        mem[nn] = v & 0xFF
                        mem[wz] = v >> 8
                    else:
                        v = np.int64(mem[nn]) | (np.int64(mem[wz]) << 8)
                        if p == 0:
                            b = v >> 8
                            c = v & 0xFF
                        elif p == 1:
                            d = v >> 8
                            e = v & 0xFF
                        elif p == 2:
                            h = v >> 8
                            l = v & 0xFF
                        else:
                            sp = v
                    t += 20
                elif z == 4:
                    # NEG   f(4) f(4)
                    a, f = _alu(2, 0, a, f)
                    fm = 1
                    t += 8
                elif z == 5:
                    # RETN / RETI   f(4) f(4) r(3) r(3)
                    iff1 = iff2
                    pc = np.int64(mem[sp]) | (np.int64(mem[(sp + 1) & 0xFFFF]) << 8)
                    sp = (sp + 2) & 0xFFFF
                    wz = pc
                    t += 14
                elif z == 6:
                    im = _IM_TABLE[y]
                    t += 8
                else:
                    if y == 0:
                        ri = a                   # LD I,A  f(4) f(5)
                        t += 9
                    elif y == 1:
                        r = a                    # LD R,A
                        t += 9
                    elif y == 2 or y == 3:
                        a = ri if y == 2 else r  # LD A,I / LD A,R
                        f = (f & FC) | _SZ[a] | (FPV if iff2 else 0)
                        fm = 1
                        pl = 1
                        t += 9
                    elif y == 4 or y == 5:
                        # RRD / RLD   f(4) f(4) r(3) +4 w(3)
                        hl = (h << 8) | l
                        v = np.int64(mem[hl])
                        if y == 4:
                            mem[hl] = ((a << 4) | (v >> 4)) & 0xFF
                            a = (a & 0xF0) | (v & 0x0F)
                        else:
                            mem[hl] = ((v << 4) | (a & 0x0F)) & 0xFF
                            a = (a & 0xF0) | (v >> 4)
                        f = (f & FC) | _SZP[a]
                        fm = 1
                        wz = (hl + 1) & 0xFFFF
                        t += 18
                    else:
                        t += 8
            elif x == 2 and y >= 4 and z <= 3:
                # block instructions: y=4 I, 5 D, 6 IR, 7 DR
                step = 1 if (y & 1) == 0 else -1
                rep = y >= 6
                hl = (h << 8) | l
                bc = (b << 8) | c
                fm = 1
                if z == 0:
                    # LDI/LDD/LDIR/LDDR   f(4) f(4) r(3) w(5) [+5]
                    de = (d << 8) | e
                    v = np.int64(mem[hl])
                    mem[de] = v
                    hl = (hl + step) & 0xFFFF
                    de = (de + step) & 0xFFFF
                    bc = (bc - 1) & 0xFFFF
                    n = (v + a) & 0xFF
                    f = (f & (FS | FZ | FC)) | (n & FX) | ((n << 4) & FY) | (FPV if bc != 0 else 0)
                    t += 16
                    if rep and bc != 0:
                        pc = (pc - 2) & 0xFFFF
                        wz = (pc + 1) & 0xFFFF
                        f = (f & ~FXY) | ((pc >> 8) & FXY)
                        t += 5
                    d = de >> 8
                    e = de & 0xFF
                elif z == 1:
                    # CPI/CPD/CPIR/CPDR   f(4) f(4) r(3) +5 [+5]
                    v = np.int64(mem[hl])
                    res = (a - v) & 0xFF
                    hf = (a ^ v ^ res) & FH
                    n = (res - (1 if hf else 0)) & 0xFF
                    hl = (hl + step) & 0xFFFF
                    bc = (bc - 1) & 0xFFFF
                    wz = (wz + step) & 0xFFFF
                    f = (f & FC) | FN | (_SZ[res] & (FS | FZ)) | hf | (n & FX) | ((n << 4) & FY) | \
                        (FPV if bc != 0 else 0)
                    t += 16
                    if rep and bc != 0 and res != 0:
                        pc = (pc - 2) & 0xFFFF
                        wz = (pc + 1) & 0xFFFF
                        f = (f & ~FXY) | ((pc >> 8) & FXY)
                        t += 5
                else:
                    if z == 2:
                        # INI/IND/INIR/INDR   f(4) f(5) i(4) w(3) [+5]
                        v = np.int64(io_in[bc])
                        wz = (bc + step) & 0xFFFF
                        b = (b - 1) & 0xFF
                        mem[hl] = v
                        k = v + ((c + step) & 0xFF)
                    else:
                        # OUTI/OUTD/OTIR/OTDR   f(4) f(5) r(3) o(4) [+5]
                        v = np.int64(mem[hl])
                        b = (b - 1) & 0xFF
                        bc = (b << 8) | c
                        io_out[bc] = v
                        wz = (bc + step) & 0xFFFF
                        k = v + ((hl + step) & 0xFF)
                    hl = (hl + step) & 0xFFFF
                    nf = FN if (v & 0x80) else 0
                    cf = (FH | FC) if k > 255 else 0
                    f = _SZ[b] | nf | cf | (_SZP[(k & 7) ^ b] & FPV)
                    t += 16
                    if rep and b != 0:
                        pc = (pc - 2) & 0xFFFF
                        wz = (pc + 1) & 0xFFFF
                        t += 5
                        # flags of the interrupted repeat (D. Banks' measurements, as in SST)
                        f = (f & ~(FXY | FH | FPV)) | ((pc >> 8) & FXY)
                        pv = (_SZP[(k & 7) ^ b] & FPV) != 0
                        if cf:
                            if nf:
                                pv = pv ^ (not _parity_even((b - 1) & 7))
                                if (b & 0x0F) == 0:
                                    f |= FH
                            else:
                                pv = pv ^ (not _parity_even((b + 1) & 7))
                                if (b & 0x0F) == 0x0F:
                                    f |= FH
                        else:
                            pv = pv ^ (not _parity_even(b & 7))
                        if pv:
                            f |= FPV
                h = hl >> 8
                l = hl & 0xFF
                b = bc >> 8 if z <= 1 else b
                c = bc & 0xFF if z <= 1 else c
            else:
                t += 8           # undefined ED xx: two M1 cycles, no effect
        else:
            # ---------------- unprefixed (and DD/FD with H/L swapped for IXH/IXL) ----------------
            sh = h
            sl = l
            if idx == 1:
                h = ix >> 8
                l = ix & 0xFF
            elif idx == 2:
                h = iy >> 8
                l = iy & 0xFF
            if x == 1:
                if op == 0x76:
                    # HALT   f(4); the CPU then executes internal NOPs until an interrupt
                    halted = 1
                    t += 4
                elif z == 6 or y == 6:
                    # LD r,(HL) / LD (HL),r   f(4) r/w(3); (IX+d): +f(4) r(3) +5
                    if idx == 0:
                        addr = (h << 8) | l
                        t += 7
                    else:
                        dd = np.int64(mem[pc])
                        pc = (pc + 1) & 0xFFFF
                        if dd >= 128:
                            dd -= 256
                        addr = (((h << 8) | l) + dd) & 0xFFFF
                        wz = addr
                        t += 15
                        # the plain register operand names the real H/L
                        h = sh
                        l = sl
                    if z == 6:
                        v = np.int64(mem[addr])
                        if y == 0:
                            b = v
                        elif y == 1:
                            c = v
                        elif y == 2:
                            d = v
                        elif y == 3:
                            e = v
                        elif y == 4:
                            h = v
                        elif y == 5:
                            l = v
                        else:
                            a = v
                    else:
                        if z == 0:
                            v = b
                        elif z == 1:
                            v = c
                        elif z == 2:
                            v = d
                        elif z == 3:
                            v = e
                        elif z == 4:
                            v = h
                        elif z == 5:
                            v = l
                        else:
                            v = a
                        mem[addr] = v
                    if idx != 0:
                        # put the (unchanged) index register back where the swap-back expects it
                        sh = h
                        sl = l
                        if idx == 1:
                            h = ix >> 8
                            l = ix & 0xFF
                        else:
                            h = iy >> 8
                            l = iy & 0xFF
                else:
                    # LD r,r'   f(4)
                    if z == 0:
                        v = b
                    elif z == 1:
                        v = c
                    elif z == 2:
                        v = d
                    elif z == 3:
                        v = e
                    elif z == 4:
                        v = h
                    elif z == 5:
                        v = l
                    else:
                        v = a
                    if y == 0:
                        b = v
                    elif y == 1:
                        c = v
                    elif y == 2:
                        d = v
                    elif y == 3:
                        e = v
                    elif y == 4:
                        h = v
                    elif y == 5:
                        l = v
                    else:
                        a = v
                    t += 4
            elif x == 2:
                # ALU A,r   f(4) [r(3)] [(IX+d): f(4) r(3) +5 r(3)]
                if z == 0:
                    v = b
                elif z == 1:
                    v = c
                elif z == 2:
                    v = d
                elif z == 3:
                    v = e
                elif z == 4:
                    v = h
                elif z == 5:
                    v = l
                elif z == 6:
                    if idx == 0:
                        v = np.int64(mem[(h << 8) | l])
                        t += 3
                    else:
                        dd = np.int64(mem[pc])
                        pc = (pc + 1) & 0xFFFF
                        if dd >= 128:
                            dd -= 256
                        wz = (((h << 8) | l) + dd) & 0xFFFF
                        v = np.int64(mem[wz])
                        t += 11
                else:
                    v = a
                a, f = _alu(y, a, v, f)
                fm = 1
                t += 4
            elif x == 0:
                if z == 0:
                    if y == 0:
                        t += 4                               # NOP
                    elif y == 1:
                        tmp = (a << 8) | f                   # EX AF,AF'
                        a = af_ >> 8
                        f = af_ & 0xFF
                        af_ = tmp
                        t += 4
                    elif y == 2:
                        # DJNZ e   f(5) r(3) [+5]
                        b = (b - 1) & 0xFF
                        if b != 0:
                            dd = np.int64(mem[pc])
                            if dd >= 128:
                                dd -= 256
                            pc = (pc + 1 + dd) & 0xFFFF
                            wz = pc
                            t += 13
                        else:
                            pc = (pc + 1) & 0xFFFF
                            t += 8
                    else:
                        # JR e / JR cc,e   f(4) r(3) [+5]
                        if y == 3:
                            take = True
                        else:
                            take = _cond(y - 4, f)
                        if take:
                            dd = np.int64(mem[pc])
                            if dd >= 128:
                                dd -= 256
                            pc = (pc + 1 + dd) & 0xFFFF
                            wz = pc
                            t += 12
                        else:
                            pc = (pc + 1) & 0xFFFF
                            t += 7
                elif z == 1:
                    p = y >> 1
                    if (y & 1) == 0:
                        # LD rr,nn   f(4) r(3) r(3)
                        nn = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                        pc = (pc + 2) & 0xFFFF
                        if p == 0:
                            b = nn >> 8
                            c = nn & 0xFF
                        elif p == 1:
                            d = nn >> 8
                            e = nn & 0xFF
                        elif p == 2:
                            h = nn >> 8
                            l = nn & 0xFF
                        else:
                            sp = nn
                        t += 10
                    else:
                        # ADD HL,rr   f(4) +4 +3
                        if p == 0:
                            v = (b << 8) | c
                        elif p == 1:
                            v = (d << 8) | e
                        elif p == 2:
                            v = (h << 8) | l
                        else:
                            v = sp
                        hl = (h << 8) | l
                        wz = (hl + 1) & 0xFFFF
                        hl, f = _add16(hl, v, f)
                        fm = 1
                        h = hl >> 8
                        l = hl & 0xFF
                        t += 11
                elif z == 2:
                    p = y >> 1
                    if y == 0:
                        bc = (b << 8) | c            # LD (BC),A   f(4) w(3)
                        mem[bc] = a
                        wz = (a << 8) | ((bc + 1) & 0xFF)
                        t += 7
                    elif y == 2:
                        de = (d << 8) | e            # LD (DE),A
                        mem[de] = a
                        wz = (a << 8) | ((de + 1) & 0xFF)
                        t += 7
                    elif y == 1:
                        bc = (b << 8) | c            # LD A,(BC)   f(4) r(3)
                        a = np.int64(mem[bc])
                        wz = (bc + 1) & 0xFFFF
                        t += 7
                    elif y == 3:
                        de = (d << 8) | e            # LD A,(DE)
                        a = np.int64(mem[de])
                        wz = (de + 1) & 0xFFFF
                        t += 7
                    else:
                        nn = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                        pc = (pc + 2) & 0xFFFF
                        n1 = (nn + 1) & 0xFFFF
                        if y == 4:
                            mem[nn] = l              # LD (nn),HL   f(4) r(3) r(3) w(3) w(3)
                            mem[n1] = h
                            wz = n1
                            t += 16
                        elif y == 5:
                            l = np.int64(mem[nn])    # LD HL,(nn)
                            h = np.int64(mem[n1])
                            wz = n1
                            t += 16
                        elif y == 6:
                            mem[nn] = a              # LD (nn),A   f(4) r(3) r(3) w(3)
                            wz = (a << 8) | (n1 & 0xFF)
                            t += 13
                        else:
                            a = np.int64(mem[nn])    # LD A,(nn)
                            wz = n1
                            t += 13
                elif z == 3:
                    # INC rr / DEC rr   f(6)
                    p = y >> 1
                    dlt = 1 if (y & 1) == 0 else -1
                    if p == 0:
                        v = (((b << 8) | c) + dlt) & 0xFFFF
                        b = v >> 8
                        c = v & 0xFF
                    elif p == 1:
                        v = (((d << 8) | e) + dlt) & 0xFFFF
                        d = v >> 8
                        e = v & 0xFF
                    elif p == 2:
                        v = (((h << 8) | l) + dlt) & 0xFFFF
                        h = v >> 8
                        l = v & 0xFF
                    else:
                        sp = (sp + dlt) & 0xFFFF
                    t += 6
                elif z == 4 or z == 5 or z == 6:
                    # INC r / DEC r / LD r,n
                    fm = 1 if z != 6 else 0
                    if y == 6:
                        if idx == 0:
                            addr = (h << 8) | l
                        else:
                            dd = np.int64(mem[pc])
                            pc = (pc + 1) & 0xFFFF
                            if dd >= 128:
                                dd -= 256
                            addr = (((h << 8) | l) + dd) & 0xFFFF
                            wz = addr
                        if z == 6:
                            mem[addr] = mem[pc]      # LD (HL),n f(4) r(3) w(3); (IX+d),n: +f(4) r(3) +2
                            pc = (pc + 1) & 0xFFFF
                            t += 10 if idx == 0 else 15
                        else:
                            v = np.int64(mem[addr])  # INC/DEC (HL) f(4) r(4) w(3); (IX+d): +f(4) r(3) +5
                            if z == 4:
                                v, f = _inc8(v, f)
                            else:
                                v, f = _dec8(v, f)
                            mem[addr] = v
                            t += 11 if idx == 0 else 19
                    else:
                        if y == 0:
                            v = b
                        elif y == 1:
                            v = c
                        elif y == 2:
                            v = d
                        elif y == 3:
                            v = e
                        elif y == 4:
                            v = h
                        elif y == 5:
                            v = l
                        else:
                            v = a
                        if z == 4:
                            v, f = _inc8(v, f)
                            t += 4
                        elif z == 5:
                            v, f = _dec8(v, f)
                            t += 4
                        else:
                            v = np.int64(mem[pc])
                            pc = (pc + 1) & 0xFFFF
                            t += 7
                        if y == 0:
                            b = v
                        elif y == 1:
                            c = v
                        elif y == 2:
                            d = v
                        elif y == 3:
                            e = v
                        elif y == 4:
                            h = v
                        elif y == 5:
                            l = v
                        else:
                            a = v
                else:
                    # z == 7: accumulator/flag ops   f(4)
                    fm = 1
                    t += 4
                    if y == 0:
                        cy = a >> 7                                   # RLCA
                        a = ((a << 1) | cy) & 0xFF
                        f = (f & (FS | FZ | FPV)) | (a & FXY) | cy
                    elif y == 1:
                        cy = a & 1                                    # RRCA
                        a = (a >> 1) | (cy << 7)
                        f = (f & (FS | FZ | FPV)) | (a & FXY) | cy
                    elif y == 2:
                        cy = a >> 7                                   # RLA
                        a = ((a << 1) | (f & FC)) & 0xFF
                        f = (f & (FS | FZ | FPV)) | (a & FXY) | cy
                    elif y == 3:
                        cy = a & 1                                    # RRA
                        a = (a >> 1) | ((f & FC) << 7)
                        f = (f & (FS | FZ | FPV)) | (a & FXY) | cy
                    elif y == 4:
                        a, f = _daa(a, f)                             # DAA
                    elif y == 5:
                        a = a ^ 0xFF                                  # CPL
                        f = (f & (FS | FZ | FPV | FC)) | FH | FN | (a & FXY)
                    elif y == 6:
                        # SCF: X/Y = (A | (F if the last instruction did not write F)) per Q latch
                        f = (f & (FS | FZ | FPV)) | FC | (((pq ^ f) | a) & FXY)
                    else:
                        # CCF
                        f = (f & (FS | FZ | FPV)) | ((f & FC) << 4) | ((f & FC) ^ FC) | \
                            (((pq ^ f) | a) & FXY)
            else:
                # x == 3
                if z == 0:
                    # RET cc   f(5) [r(3) r(3)]
                    if _cond(y, f):
                        pc = np.int64(mem[sp]) | (np.int64(mem[(sp + 1) & 0xFFFF]) << 8)
                        sp = (sp + 2) & 0xFFFF
                        wz = pc
                        t += 11
                    else:
                        t += 5
                elif z == 1:
                    p = y >> 1
                    if (y & 1) == 0:
                        # POP rr   f(4) r(3) r(3)
                        lo = np.int64(mem[sp])
                        hi = np.int64(mem[(sp + 1) & 0xFFFF])
                        sp = (sp + 2) & 0xFFFF
                        if p == 0:
                            b = hi
                            c = lo
                        elif p == 1:
                            d = hi
                            e = lo
                        elif p == 2:
                            h = hi
                            l = lo
                        else:
                            a = hi
                            f = lo
                        t += 10
                    elif p == 0:
                        # RET   f(4) r(3) r(3)
                        pc = np.int64(mem[sp]) | (np.int64(mem[(sp + 1) & 0xFFFF]) << 8)
                        sp = (sp + 2) & 0xFFFF
                        wz = pc
                        t += 10
                    elif p == 1:
                        # EXX (always the real HL)
                        tmp = (b << 8) | c
                        b = bc_ >> 8
                        c = bc_ & 0xFF
                        bc_ = tmp
                        tmp = (d << 8) | e
                        d = de_ >> 8
                        e = de_ & 0xFF
                        de_ = tmp
                        tmp = (sh << 8) | sl
                        sh = hl_ >> 8
                        sl = hl_ & 0xFF
                        hl_ = tmp
                        if idx == 0:
                            h = sh
                            l = sl
                        t += 4
                    elif p == 2:
                        pc = (h << 8) | l            # JP (HL)   f(4)
                        t += 4
                    else:
                        sp = (h << 8) | l            # LD SP,HL  f(6)
                        t += 6
                elif z == 2:
                    # JP cc,nn   f(4) r(3) r(3)
                    nn = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                    wz = nn
                    if _cond(y, f):
                        pc = nn
                    else:
                        pc = (pc + 2) & 0xFFFF
                    t += 10
                elif z == 3:
                    if y == 0:
                        # JP nn   f(4) r(3) r(3)
                        pc = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                        wz = pc
                        t += 10
                    elif y == 2:
                        # OUT (n),A   f(4) r(3) o(4)
                        n = np.int64(mem[pc])
                        pc = (pc + 1) & 0xFFFF
                        io_out[(a << 8) | n] = a
                        wz = (a << 8) | ((n + 1) & 0xFF)
                        t += 11
                    elif y == 3:
                        # IN A,(n)   f(4) r(3) i(4)
                        n = np.int64(mem[pc])
                        pc = (pc + 1) & 0xFFFF
                        port = (a << 8) | n
                        a = np.int64(io_in[port])
                        wz = (port + 1) & 0xFFFF
                        t += 11
                    elif y == 4:
                        # EX (SP),HL   f(4) r(3) r(4) w(3) w(5)
                        lo = np.int64(mem[sp])
                        s1 = (sp + 1) & 0xFFFF
                        hi = np.int64(mem[s1])
                        mem[sp] = l
                        mem[s1] = h
                        h = hi
                        l = lo
                        wz = (hi << 8) | lo
                        t += 19
                    elif y == 5:
                        # EX DE,HL (always the real HL)
                        tmp = d
                        d = sh
                        sh = tmp
                        tmp = e
                        e = sl
                        sl = tmp
                        if idx == 0:
                            h = sh
                            l = sl
                        t += 4
                    elif y == 6:
                        iff1 = 0                     # DI
                        iff2 = 0
                        t += 4
                    else:
                        iff1 = 1                     # EI (no interrupt before the next instruction)
                        iff2 = 1
                        eil = 1
                        t += 4
                elif z == 4:
                    # CALL cc,nn   f(4) r(3) r(4) [w(3) w(3)]
                    nn = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                    pc = (pc + 2) & 0xFFFF
                    wz = nn
                    if _cond(y, f):
                        sp = (sp - 1) & 0xFFFF
                        mem[sp] = pc >> 8
                        sp = (sp - 1) & 0xFFFF
                        mem[sp] = pc & 0xFF
                        pc = nn
                        t += 17
                    else:
                        t += 10
                elif z == 5:
                    p = y >> 1
                    if (y & 1) == 0:
                        # PUSH rr   f(5) w(3) w(3)
                        if p == 0:
                            hi = b
                            lo = c
                        elif p == 1:
                            hi = d
                            lo = e
                        elif p == 2:
                            hi = h
                            lo = l
                        else:
                            hi = a
                            lo = f
                        sp = (sp - 1) & 0xFFFF
                        mem[sp] = hi
                        sp = (sp - 1) & 0xFFFF
                        mem[sp] = lo
                        t += 11
                    else:
                        # CALL nn   f(4) r(3) r(4) w(3) w(3)  (y=3,5,7 are prefixes, handled above)
                        nn = np.int64(mem[pc]) | (np.int64(mem[(pc + 1) & 0xFFFF]) << 8)
                        pc = (pc + 2) & 0xFFFF
                        wz = nn
                        sp = (sp - 1) & 0xFFFF
                        mem[sp] = pc >> 8
                        sp = (sp - 1) & 0xFFFF
                        mem[sp] = pc & 0xFF
                        pc = nn
                        t += 17
                elif z == 6:
                    # ALU A,n   f(4) r(3)
                    v = np.int64(mem[pc])
                    pc = (pc + 1) & 0xFFFF
                    a, f = _alu(y, a, v, f)
                    fm = 1
                    t += 7
                else:
                    # RST p   f(5) w(3) w(3)
                    sp = (sp - 1) & 0xFFFF
                    mem[sp] = pc >> 8
                    sp = (sp - 1) & 0xFFFF
                    mem[sp] = pc & 0xFF
                    pc = y << 3
                    wz = pc
                    t += 11
            if idx != 0:
                # swap back: H/L held the index register during the instruction
                if idx == 1:
                    ix = (h << 8) | l
                else:
                    iy = (h << 8) | l
                h = sh
                l = sl
        q = f if fm else 0
        if halted != 0:
            reason = 3
            break
        # trap/breakpoint before the budget, so a budget stop never skips a trap
        fl = addr_flags[pc]
        if fl != 0:
            reason = 2 if (fl & 2) else 1
            break
        if t >= target:
            break

    st[0] = a; st[1] = f; st[2] = b; st[3] = c; st[4] = d; st[5] = e; st[6] = h; st[7] = l
    st[8] = af_; st[9] = bc_; st[10] = de_; st[11] = hl_
    st[12] = ix; st[13] = iy; st[14] = sp; st[15] = pc
    st[16] = ri; st[17] = r; st[18] = wz; st[19] = im
    st[20] = iff1; st[21] = iff2; st[22] = halted; st[23] = q; st[24] = pl; st[25] = eil
    st[26] = t; st[27] = ninstr
    st[28] = irq; st[29] = irq_data; st[30] = nmi
    return reason
