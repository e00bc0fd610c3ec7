"""SingleStepTests/z80 golden vectors: every register (incl. WZ, Q, R, IFF1/2, IM and the
EI/P latches), memory, ports and the exact T-state count of one instruction, for all 80,200
cases of ../shared/data/sst-z80/sst-z80-v1-first50.jsonl.gz.

The file is parsed once; every case runs through the public API (state array + cpu.step()).
A failure lists, per instruction file, the first failing case and which fields differ.
"""
from __future__ import annotations

import gzip
import json
from collections import defaultdict

import numpy as np
import pytest

from z80emu import _tables as T
from z80emu.cpu import Z80

SST_NAME = "sst-z80/sst-z80-v1-first50.jsonl.gz"

# SST field -> state-array index (8-bit registers and 16-bit ones alike)
FIELDS = {
    "a": T.R_A, "f": T.R_F, "b": T.R_B, "c": T.R_C, "d": T.R_D, "e": T.R_E, "h": T.R_H,
    "l": T.R_L, "i": T.R_I, "r": T.R_R, "af_": T.R_AF_, "bc_": T.R_BC_, "de_": T.R_DE_,
    "hl_": T.R_HL_, "ix": T.R_IX, "iy": T.R_IY, "sp": T.R_SP, "pc": T.R_PC, "wz": T.R_WZ,
    "im": T.R_IM, "iff1": T.R_IFF1, "iff2": T.R_IFF2, "q": T.R_Q, "p": T.R_P, "ei": T.R_EI,
}


@pytest.fixture(scope="module")
def sst_cases(shared_data):
    path = shared_data / SST_NAME
    if not path.is_file():
        pytest.skip(f"SST vectors not found: {path}")
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh]


def run_case(cpu: Z80, case: dict) -> list[str]:
    """Run one SST case on `cpu` (memory must be all zero on entry; it is left all zero).
    Returns a list of mismatch descriptions."""
    st = cpu.state
    st[:] = 0
    init = case["initial"]
    for name, idx in FIELDS.items():
        st[idx] = init[name]
    mem = cpu.mem
    for addr, val in init["ram"]:
        mem[addr] = val
    for port, val, kind in case.get("ports", ()):
        if kind == "r":
            cpu.io_in[port] = val
    cpu.step()
    errors = []
    fin = case["final"]
    for name, idx in FIELDS.items():
        if int(st[idx]) != fin[name]:
            errors.append(f"{name}: got {int(st[idx])} want {fin[name]}")
    if int(st[T.R_TSTATES]) != case["tstates"]:
        errors.append(f"tstates: got {int(st[T.R_TSTATES])} want {case['tstates']}")
    for addr, val in fin["ram"]:
        if int(mem[addr]) != val:
            errors.append(f"mem[{addr:04X}]: got {int(mem[addr])} want {val}")
        mem[addr] = 0
    for addr, _ in init["ram"]:
        mem[addr] = 0
    if mem.any():
        stray = np.flatnonzero(mem)
        errors.append(f"unexpected writes at {[f'{a:04X}' for a in stray[:4]]}")
        mem[:] = 0
    for port, val, kind in case.get("ports", ()):
        if kind == "w" and int(cpu.io_out[port]) != val:
            errors.append(f"out port {port:04X}: got {int(cpu.io_out[port])} want {val}")
    if case.get("ports"):
        cpu.io_in[:] = 0xFF
        cpu.io_out[:] = 0
    return errors


def test_sst_all_cases(sst_cases):
    assert len(sst_cases) == 80200
    cpu = Z80()
    cpu.mem[:] = 0
    failed = defaultdict(list)
    field_counts = defaultdict(int)
    for case in sst_cases:
        errors = run_case(cpu, case)
        if errors:
            failed[case["file"]].append((case["name"], errors))
            for err in errors:
                field_counts[err.split(":")[0].split("[")[0]] += 1
    if failed:
        n_cases = sum(len(v) for v in failed.values())
        lines = [f"{n_cases} of {len(sst_cases)} cases fail in {len(failed)} instruction files; "
                 f"failing fields: {dict(field_counts)}"]
        for fname, items in list(failed.items())[:40]:
            name, errs = items[0]
            lines.append(f"  [{fname}] {len(items)} cases, first {name}: {'; '.join(errs[:6])}")
        pytest.fail("\n".join(lines))


def test_sst_groups_covered(sst_cases):
    """The data covers every prefix group we claim to implement."""
    files = {c["file"] for c in sst_cases}
    assert len(files) == 1604
    for group in ("cb ", "ed ", "dd ", "fd ", "dd cb __ ", "fd cb __ "):
        assert any(f.startswith(group) for f in files), group
