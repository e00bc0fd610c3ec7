"""The opcode table against independent data: SingleStepTests/z80 vectors
(../shared/data/sst-z80). For every instruction file (1,604, every opcode of
every prefix group) the first cases check the decoded length (the PC after a
non-branching instruction) and the table's T-states (taken or not taken,
chosen by where the PC went)."""
from __future__ import annotations

import gzip
import json

import pytest

from z80emu.disasm import decode

CASES_PER_FILE = 3


@pytest.fixture(scope="module")
def sst_cases(shared_data):
    path = shared_data / "sst-z80" / "sst-z80-v1-first50.jsonl.gz"
    if not path.exists():
        pytest.skip(f"missing test data: {path}")
    seen: dict[str, int] = {}
    cases = []
    with gzip.open(path, "rt") as f:
        for line in f:
            # Cheap pre-filter on the file name before parsing the JSON.
            name = line[9:line.index('"', 9)]
            if seen.get(name, 0) >= CASES_PER_FILE:
                continue
            seen[name] = seen.get(name, 0) + 1
            cases.append(json.loads(line))
    return cases


REPEATS = {"ldir", "lddr", "cpir", "cpdr", "inir", "indr", "otir", "otdr"}
BRANCHES = {"jp", "jr", "djnz", "call", "ret", "reti", "retn", "rst", "halt"} | REPEATS


def _timing(mem, pc, final_pc):
    """(T-states by our table, fall-through length, the instruction's
    Opcode or None) for the instruction at pc, ignored prefixes included."""
    op, length, _ = decode(mem, pc)
    if op is None and length == 1:          # ignored DD/FD prefix: 4 T-states,
        t, inner, op = _timing(mem, (pc + 1) & 0xFFFF, final_pc)   # then the next
        return 4 + t, 1 + inner, op
    if op is None:
        return 8, length, None               # ED no-op
    if op.tstates_not_taken is None:
        return op.tstates, length, op
    if op.mnemonic in REPEATS:
        taken = final_pc == pc              # repeats: PC stays on the instruction
    else:
        taken = final_pc != (pc + length) & 0xFFFF
    return (op.tstates if taken else op.tstates_not_taken), length, op


def test_lengths_and_tstates_match_singlesteptests(sst_cases):
    files = set()
    bad = []
    for case in sst_cases:
        ini = case["initial"]
        mem = bytearray(65536)
        for a, v in ini["ram"]:
            mem[a] = v
        pc = ini["pc"]
        final_pc = case["final"]["pc"]
        t, length, op = _timing(mem, pc, final_pc)
        text = decode(mem, pc)[2]
        if t != case["tstates"]:
            bad.append(f"{case['file']}: '{text}' table {t} T-states, SST {case['tstates']}")
        is_branch = op is not None and op.mnemonic in BRANCHES
        if not is_branch and (pc + length) & 0xFFFF != final_pc:
            bad.append(f"{case['file']}: '{text}' length {length}, SST moved PC "
                       f"by {(final_pc - pc) & 0xFFFF}")
        files.add(case["file"])
    assert not bad, f"{len(bad)} mismatches, e.g. " + "; ".join(sorted(set(bad))[:10])
    assert len(files) == 1604
