"""Emulation speed of our numba Z80 core against the C++ core of the PyPI `z80` package.

Both cores run the same workloads in this process for the same T-state budget; emulated MHz
= T-states / wall seconds / 1e6, and the ratio is ours / reference. Workloads:
  mixed  - loops over every instruction group (LD, ALU, DAA, CB, ED, DD/FD, DDCB/FDCB,
           16-bit arithmetic, stack, EX/EXX, CALL/RET, DJNZ, LDIR/CPIR)
  mac    - index-list driven 16-bit adds into a page-aligned accumulator table, the inner
           loop of the sparse 2-bit inference engine
  com    - a CP/M .COM (e.g. roms/TINYCHAT.COM) run raw: loaded at 0100h, BDOS calls (CALL 5)
           return at once through a trap (a line-input call gets the next canned query, so
           a chat program spends its time in inference), a jump to 0000h restarts it
           (only with --com)
Also prints the cold numba compile time (a subprocess with an empty NUMBA_CACHE_DIR) and the
warm start time (import + first run with the cache in place).

  python benchmarks/emu_speed.py                 # table
  python benchmarks/emu_speed.py --json          # JSON object per workload
  python benchmarks/emu_speed.py --com roms/TINYCHAT.COM --tstates 300000000
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from z80emu.asm import assemble  # noqa: E402
from z80emu.cpu import STOP_BUDGET, STOP_HALT, STOP_TRAP, Z80  # noqa: E402

MIXED_SRC = """
        org 100h
start:  ld sp,0F000h
        ld ix,8000h
        ld iy,9000h
loop:   ld b,16
inner:  ld a,b
        add a,7
        daa
        ld (ix+5),a
        add a,(iy+3)
        sla a
        rr a
        bit 0,a
        set 0,a
        ld hl,1234h
        ld de,0111h
        adc hl,de
        sbc hl,de
        add hl,de
        push hl
        push bc
        exx
        ex af,af'
        pop hl
        pop bc
        exx
        ex af,af'
        neg
        ex de,hl
        inc hl
        dec de
        inc (ix+1)
        rlc (ix+2)
        bit 0,(iy+4)
        add ix,bc
        ld ix,8000h
        call alu
        djnz inner
        ld hl,8000h
        ld de,0A000h
        ld bc,32
        ldir
        ld hl,8000h
        ld bc,16
        ld a,0FFh
        cpir
        jp loop
alu:    xor a
        or h
        and l
        xor 55h
        cp 20h
        inc a
        dec a
        rlca
        rra
        cpl
        scf
        ccf
        ret
"""

# accumulators: low bytes on page 40h, high bytes on page 41h, indexed by neuron number
MAC_SRC = """
        org 100h
start:  ld sp,0F000h
        ld b,40h            ; accumulator page
outer:  ld ix,weights
        ld e,(ix+0)
        ld d,(ix+1)
        ld hl,list
next:   ld a,(hl)           ; neuron index (0 ends the list)
        inc hl
        or a
        jr z,outer
        ld c,a
        ld a,(bc)           ; acc[index] += DE
        add a,e
        ld (bc),a
        inc b
        ld a,(bc)
        adc a,d
        ld (bc),a
        dec b
        jr next
weights: dw 1234h
list:   db 3,17,99,200,5,64,128,255,7,33,12,90,45,150,222,1
        db 8,19,71,130,210,66,31,47,111,173,249,2,80,160,240,11
        db 0
"""


def build(source: str) -> tuple[int, bytes]:
    res = assemble(source, filename="bench.asm")
    return res.origin, bytes(res.binary)


# ---------------- running ----------------

QUERIES = [b"hello", b"what is your name", b"how are you today", b"tell me a joke"]


class FakeBdos:
    """The least BDOS that lets a chat .COM run inference: function 10 (read console buffer)
    gets the next query, every other call returns at once. The same object serves both
    cores, so its Python cost is the same on both sides."""

    def __init__(self) -> None:
        self.n = 0

    def call(self, func: int, de: int) -> tuple[int, bytes] | None:
        """(address, bytes to write) for this call, or None."""
        if func != 10:
            return None
        text = QUERIES[self.n % len(QUERIES)]
        self.n += 1
        return (de + 1) & 0xFFFF, bytes([len(text)]) + text

def run_ours(origin: int, image: bytes, tstates: int, com: bool) -> tuple[int, float, int]:
    cpu = Z80()
    cpu.load(origin, image)
    cpu.pc = origin
    cpu.sp = 0xFFFE
    if com:
        cpu.set_trap(0x0005)
        cpu.set_trap(0x0000)
        cpu.mem[0x0006] = 0x00      # BDOS entry address at 0006h: top of TPA F000h
        cpu.mem[0x0007] = 0xF0
    cpu.run(1000)                   # compile/warm-up outside the timing
    cpu.tstates = 0
    traps = 0
    bdos = FakeBdos()
    t0 = time.perf_counter()
    while cpu.tstates < tstates:
        reason = cpu.run(tstates - cpu.tstates)
        if reason == STOP_TRAP:
            traps += 1
            if cpu.pc == 0x0005:
                reply = bdos.call(cpu.c, cpu.de)
                if reply is not None:
                    cpu.load(*reply)
                cpu.pc = cpu.pop()
            else:                     # warm boot: start again
                cpu.load(origin, image)
                cpu.pc = origin
                cpu.sp = 0xFFFE
        elif reason == STOP_HALT:
            break
    wall = time.perf_counter() - t0
    return cpu.tstates, wall, traps


def run_reference(origin: int, image: bytes, tstates: int, com: bool) -> tuple[int, float]:
    import z80
    m = z80.Z80Machine()
    m.set_memory_block(origin, image)
    m.pc = origin
    m.sp = 0xFFFE
    if com:
        m.set_breakpoint(0x0005)
        m.set_breakpoint(0x0000)
        m.set_memory_block(0x0006, bytes([0x00, 0xF0]))
    done = 0
    bdos = FakeBdos()
    chunk = 1 << 30                 # ticks_to_stop is 32-bit
    t0 = time.perf_counter()
    while done < tstates:
        want = min(chunk, tstates - done)
        m.ticks_to_stop = want
        events = m.run()
        left = m.ticks_to_stop
        done += want - left if left <= want else 0
        if events & m._BREAKPOINT_HIT:
            if m.pc == 0x0005:
                reply = bdos.call(m.c, m.de)
                if reply is not None:
                    m.set_memory_block(*reply)
                sp = m.sp
                mem = m.memory
                m.pc = mem[sp] | (mem[(sp + 1) & 0xFFFF] << 8)
                m.sp = (sp + 2) & 0xFFFF
            else:
                m.set_memory_block(origin, image)
                m.pc = origin
                m.sp = 0xFFFE
        elif m.halted:
            break
    wall = time.perf_counter() - t0
    return done, wall


def measure_start_times() -> tuple[float, float]:
    """(cold, warm) seconds for: import the core, build a Z80, run 1000 T-states."""
    snippet = ("import time; t=time.perf_counter(); from z80emu.cpu import Z80; c=Z80(); "
               "c.run(1000); print(time.perf_counter()-t)")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        env["NUMBA_CACHE_DIR"] = tmp
        cold = float(subprocess.check_output([sys.executable, "-c", snippet], cwd=REPO,
                                             env=env, text=True).strip())
        warm = float(subprocess.check_output([sys.executable, "-c", snippet], cwd=REPO,
                                             env=env, text=True).strip())
    return cold, warm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Emulated MHz = T-states / wall seconds / 1e6.")
    ap.add_argument("--tstates", type=int, default=400_000_000,
                    help="T-states per workload and core (default 400,000,000)")
    ap.add_argument("--com", type=Path, help="a CP/M .COM to run as workload 3")
    ap.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    ap.add_argument("--no-start-times", action="store_true",
                    help="skip the cold/warm start measurement (it compiles in a subprocess)")
    args = ap.parse_args(argv)
    if args.tstates <= 0:
        ap.error("--tstates must be positive")
    try:
        import z80  # noqa: F401
    except ImportError:
        print("error: the reference core (PyPI package 'z80') is not installed: "
              "pip install z80", file=sys.stderr)
        return 1

    workloads = [("mixed", *build(MIXED_SRC), False), ("mac", *build(MAC_SRC), False)]
    notes = []
    if args.com is not None:
        if not args.com.is_file():
            print(f"error: no such .COM file: {args.com}", file=sys.stderr)
            return 1
        data = args.com.read_bytes()
        if not 0 < len(data) <= 0xFE00 - 0x100:
            print(f"error: {args.com} is empty or too big for the TPA", file=sys.stderr)
            return 1
        workloads.append(("com", 0x100, data, True))
    else:
        notes.append("workload 'com' skipped: pass --com roms/TINYCHAT.COM to include it")

    results = {}
    for name, origin, image, com in workloads:
        if not args.json:
            print(f"running {name} ...", file=sys.stderr, flush=True)
        ot, ow, traps = run_ours(origin, image, args.tstates, com)
        rt, rw = run_reference(origin, image, args.tstates, com)
        ours = ot / ow / 1e6
        ref = rt / rw / 1e6
        results[name] = {"ours_mhz": round(ours, 1), "reference_mhz": round(ref, 1),
                         "ratio": round(ours / ref, 3), "tstates": ot, "traps": traps,
                         "ours_seconds": round(ow, 3), "reference_seconds": round(rw, 3)}
    out = {"workloads": results, "notes": notes}
    if not args.no_start_times:
        if not args.json:
            print("measuring cold compile (fresh numba cache) ...", file=sys.stderr, flush=True)
        try:
            cold, warm = measure_start_times()
        except (subprocess.CalledProcessError, ValueError) as exc:
            notes.append(f"start times not measured: the subprocess failed ({exc})")
        else:
            out["cold_start_seconds"] = round(cold, 2)
            out["warm_start_seconds"] = round(warm, 3)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{'workload':10} {'ours MHz':>10} {'ref MHz':>10} {'ratio':>7}")
    for name, r in results.items():
        print(f"{name:10} {r['ours_mhz']:10.1f} {r['reference_mhz']:10.1f} {r['ratio']:7.2f}")
    if "cold_start_seconds" in out:
        print(f"cold start (compile, empty cache): {out['cold_start_seconds']:.2f} s; "
              f"warm start (cached): {out['warm_start_seconds']:.3f} s")
    for note in notes:
        print("note:", note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
