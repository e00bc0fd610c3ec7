"""Per-layer weight layouts of the Z80 engine and their generated data.

Owns: the two column layouts the engine understands, their exact sizes,
the choice per layer of the fastest layout that fits the .COM size budget,
and the assembly source (db/dw lines) of each layer's data and descriptor.
Does not own the engine (model/engine.asm) or the build driver (model/build.py).

Layouts (one record per input column j, reached through a pointer table):
- ``sparse``: three index lists of row offsets, for weights +1, -1, -2:
  ``[n] rows.. [n] rows.. [n] rows..``.  Zero weights cost neither bytes
  nor time; about one byte per nonzero weight.  Needs every list < 256.
- ``dense``: 2 bits per row (01 = +1, 11 = -1, 10 = -2, 00 = 0), row 4k+j
  in bits 2j+1..2j of byte k.  A quarter byte per weight, slower.

Rows of a layer with R rows live at offsets OFF+i, OFF = 256-R (the
engine's row loops end when the 8-bit offset wraps), so the data stores
row numbers already offset.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPARSE = "sparse"
DENSE = "dense"
MAX_ROWS = 256


@dataclass
class LayerPlan:
    index: int            # 1-based layer number
    rows: int
    cols: int
    kind: str             # SPARSE or DENSE
    shift: int
    hidden: bool
    in_off: int           # row offset of the previous layer (0 for layer 1)
    sparse_bytes: int
    dense_bytes: int
    sparse_ok: bool

    @property
    def off(self) -> int:
        return MAX_ROWS - self.rows

    @property
    def data_bytes(self) -> int:
        return self.sparse_bytes if self.kind == SPARSE else self.dense_bytes


def sparse_size(w: np.ndarray) -> tuple[int, bool]:
    """Bytes of the sparse layout (pointers + counts + rows), and whether it is usable."""
    cols = w.shape[1]
    nonzero = int((w != 0).sum())
    longest = max(int((w == v).sum(axis=0).max()) for v in (1, -1, -2))
    return 2 * cols + 3 * cols + nonzero + 2 * w.shape[0], longest < 256


def dense_size(w: np.ndarray) -> int:
    """Bytes of the dense layout (2-bit columns + biases; no pointer table)."""
    rows, cols = w.shape
    return cols * ((rows + 3) // 4) + 2 * rows


def plan_layers(weights, shifts, budget: int, fixed_bytes: int,
                force: str | None = None) -> list[LayerPlan]:
    """Choose each layer's layout: sparse (fastest) unless the total would
    exceed `budget`; then switch the layers that save most bytes to dense
    first.  `fixed_bytes` is everything but the layer data.  `force`
    (SPARSE or DENSE) overrides the choice where possible."""
    plans = []
    in_off = 0
    for k, (w, s) in enumerate(zip(weights, shifts), start=1):
        rows, cols = w.shape
        if rows > MAX_ROWS:
            raise ValueError(f"layer {k} has {rows} neurons; the engine supports at most {MAX_ROWS}")
        sp, ok = sparse_size(w)
        plans.append(LayerPlan(k, rows, cols, SPARSE if ok else DENSE, int(s),
                               k < len(weights), in_off, sp, dense_size(w), ok))
        in_off = MAX_ROWS - rows
    if force == DENSE:
        for p in plans:
            p.kind = DENSE
        return plans
    if force == SPARSE:
        return plans
    total = fixed_bytes + sum(p.data_bytes for p in plans)
    by_saving = sorted((p for p in plans if p.kind == SPARSE),
                       key=lambda p: p.sparse_bytes - p.dense_bytes, reverse=True)
    for p in by_saving:
        if total <= budget:
            break
        if p.dense_bytes < p.sparse_bytes:
            total -= p.sparse_bytes - p.dense_bytes
            p.kind = DENSE
    return plans


def _db_lines(values, per_line: int = 16) -> list[str]:
    vals = [int(v) & 0xFF for v in values]
    return [f"        db {','.join(str(v) for v in vals[i:i + per_line])}"
            for i in range(0, len(vals), per_line)]


def _dw_lines(exprs: list[str], per_line: int = 8) -> list[str]:
    return [f"        dw {','.join(exprs[i:i + per_line])}"
            for i in range(0, len(exprs), per_line)]


def column_records(w: np.ndarray, plan: LayerPlan) -> list[bytes]:
    """The data record of every input column, in the layer's layout."""
    off = plan.off
    records = []
    if plan.kind == SPARSE:
        for j in range(w.shape[1]):
            col = w[:, j]
            rec = bytearray()
            for v in (1, -1, -2):
                rows = np.nonzero(col == v)[0]
                rec.append(len(rows))
                rec.extend(int(r) + off for r in rows)
            records.append(bytes(rec))
    else:
        code = {0: 0, 1: 1, -1: 3, -2: 2}
        nbytes = (plan.rows + 3) // 4
        for j in range(w.shape[1]):
            rec = bytearray(nbytes)
            for i, v in enumerate(w[:, j]):
                rec[i // 4] |= code[int(v)] << (2 * (i % 4))
            records.append(bytes(rec))
    return records


def layer_source(w: np.ndarray, b: np.ndarray, plan: LayerPlan) -> list[str]:
    """Assembly lines of one layer's data: column pointers, biases, columns."""
    k = plan.index
    records = column_records(w, plan)
    starts, pos = [], 0
    for rec in records:
        starts.append(pos)
        pos += len(rec)
    bias = b.astype(np.int64) & 0xFFFF
    lines = [f"; layer {k}: {plan.rows} x {plan.cols}, {plan.kind}, "
             f"{int((w != 0).sum())} nonzero weights, shift {plan.shift}"]
    if plan.kind == SPARSE:
        lines.append(f"L{k}_COLS:")
        lines += _dw_lines([f"L{k}_DATA+{s}" for s in starts])
    lines.append(f"L{k}_BLO:")
    lines += _db_lines(bias & 0xFF)
    lines.append(f"L{k}_BHI:")
    lines += _db_lines(bias >> 8)
    lines.append(f"L{k}_DATA:")
    for j, rec in enumerate(records):
        if rec:
            lines += _db_lines(rec)
    return lines


def descriptor_source(plans: list[LayerPlan]) -> list[str]:
    """The LAYERS table the engine walks (field order: D_* in engine.asm)."""
    lines = ["; D_OFF of a layer 0: layer 1's inputs start at offset 0",
             "        db 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
             "LAYERS:"]
    for p in plans:
        k = p.index
        colfn = "sparse_col" if p.kind == SPARSE else "dense_col"
        out = f"ACT{k}" if p.hidden else "0"
        inp = f"ACT{k - 1}" if k > 1 else "0"
        nb = (p.rows + 3) // 4
        cols = f"L{k}_COLS-{2 * p.in_off}" if p.kind == SPARSE else f"L{k}_DATA"
        lines.append(f"        dw {cols},{colfn},L{k}_BLO,L{k}_BHI")
        lines.append(f"        db {p.off},{p.shift},{1 if p.hidden else 0},{nb}")
        lines.append(f"        dw {out},{inp}")
    return lines
