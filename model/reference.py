"""The exact integer model of ../shared/spec/MODEL.md, vectorised in numpy.

Owns: the IntModel record, the .npz model format (ours and the original
Z80-muLM layout), forward passes over a batch with exact int16 wrap-around,
greedy generation (one query or many at once), per-step traces for the
emulator's verifier, and the engine cost statistics (effective MACs).
Does not own the encoders (model.encode) or the trainer (model.train).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from model.encode import (
    CONTEXT_LEN,
    EOS,
    INPUT_SIZE,
    MAX_CHARSET,
    context_bytes,
    encode_context_windows,
    encode_input,
    encode_query_batch,
    shift_window,
)

MAX_RESPONSE = 50
DEFAULT_SHIFT = 2
FORMAT_VERSION = 2        # 1: shift 2 everywhere; 2: `_shifts` per layer


class ModelFileError(Exception):
    """A model file that cannot be used; the message says why."""


@dataclass
class IntModel:
    weights: list[np.ndarray]          # int8 [out, in], values in {-2,-1,0,1}
    biases: list[np.ndarray]           # int16 [out]
    shifts: list[int]                  # arithmetic right shift per layer
    charset: str                       # output classes, EOS ('\x00') last
    metadata: dict = field(default_factory=dict)

    @property
    def layer_sizes(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @property
    def hidden_sizes(self) -> list[int]:
        return [w.shape[0] for w in self.weights[:-1]]

    @property
    def eos_index(self) -> int:
        return len(self.charset) - 1

    def validate(self) -> None:
        """Raise ModelFileError if the model breaks a rule of MODEL.md."""
        check_model(self.weights, self.biases, self.shifts, self.charset)


def check_model(weights, biases, shifts, charset, where: str = "model") -> None:
    if not weights:
        raise ModelFileError(f"{where}: no layers (expected fc1_weight, fc1_bias, ...)")
    if len(biases) != len(weights) or len(shifts) != len(weights):
        raise ModelFileError(f"{where}: {len(weights)} weight matrices but {len(biases)} "
                             f"bias vectors and {len(shifts)} shifts")
    expected_in = INPUT_SIZE
    for k, (w, b) in enumerate(zip(weights, biases), start=1):
        if w.ndim != 2:
            raise ModelFileError(f"{where}: fc{k}_weight must be 2-D [out, in], got shape {w.shape}")
        if w.shape[1] != expected_in:
            raise ModelFileError(f"{where}: shapes do not chain: fc{k}_weight has {w.shape[1]} "
                                 f"inputs, expected {expected_in}")
        if b.shape != (w.shape[0],):
            raise ModelFileError(f"{where}: fc{k}_bias has shape {b.shape}, expected ({w.shape[0]},)")
        bad = (w < -2) | (w > 1)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ModelFileError(f"{where}: fc{k}_weight[{i},{j}] = {int(w[i, j])} is outside "
                                 f"the 2-bit range {{-2,-1,0,1}}")
        if not 0 <= int(shifts[k - 1]) <= 15:
            raise ModelFileError(f"{where}: shift of layer {k} is {shifts[k - 1]}, expected 0..15")
        expected_in = w.shape[0]
    outputs = weights[-1].shape[0]
    if not charset or charset == EOS:
        raise ModelFileError(f"{where}: the charset is empty")
    if not charset.endswith(EOS) or EOS in charset[:-1]:
        raise ModelFileError(f"{where}: the charset must end with EOS ('\\x00') and contain it once")
    if len(charset) > outputs:
        raise ModelFileError(f"{where}: the charset has {len(charset)} classes but the output "
                             f"layer has only {outputs}")
    if len(charset) > MAX_CHARSET:
        raise ModelFileError(f"{where}: the charset has {len(charset)} classes, at most "
                             f"{MAX_CHARSET} are supported")
    for ch in charset[:-1]:
        if not 32 <= ord(ch) < 127:
            raise ModelFileError(f"{where}: charset character {ch!r} is not printable ASCII")


# ---------------------------------------------------------------- file format

def _text_of(value: np.ndarray, key: str, path) -> str:
    """Read a string stored as bytes/str scalar or a uint8 array."""
    try:
        if value.dtype.kind in "SU" or value.dtype == object:
            item = value.item() if value.ndim == 0 else value.ravel()[0]
            return item.decode("utf-8") if isinstance(item, bytes) else str(item)
        if value.dtype.kind in "ui":
            return bytes(value.astype(np.uint8).ravel().tolist()).decode("utf-8")
    except (UnicodeDecodeError, ValueError, IndexError) as exc:
        raise ModelFileError(f"{path}: key {key} is not valid UTF-8 text ({exc})") from None
    raise ModelFileError(f"{path}: key {key} has dtype {value.dtype}, expected text")


def is_zip_file(path: Path) -> bool:
    """Whether the file at `path` is a zip archive (what every .npz is); OSError if unreadable."""
    with Path(path).open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def load_model(path: str | Path) -> IntModel:
    """Load a .npz model (ours or the original layout); ModelFileError if bad."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        if not is_zip_file(path):  # numpy would try it as .npy or pickle and say so
            raise ModelFileError(f"{path}: not a .npz model file (not a zip archive)")
        with np.load(path, allow_pickle=False) as npz:
            data = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{path}: not a .npz model file ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise ModelFileError(f"{path}: not a .npz model file")

    weights, biases = [], []
    k = 1
    while f"fc{k}_weight" in data:
        w, b = data[f"fc{k}_weight"], data.get(f"fc{k}_bias")
        if b is None:
            raise ModelFileError(f"{path}: missing key fc{k}_bias")
        weights.append(_as_int(w, f"fc{k}_weight", path, np.int8))
        biases.append(_as_int(b, f"fc{k}_bias", path, np.int16))
        k += 1
    if not weights:
        if "_meta" in data and "w0" in data:
            raise ModelFileError(f"{path}: a training checkpoint, not a model; use the .npz "
                                 "that `train -o` wrote")
        raise ModelFileError(f"{path}: missing key fc1_weight (not a model file?)")
    if f"fc{k}_bias" in data:
        raise ModelFileError(f"{path}: fc{k}_bias present but fc{k}_weight missing")
    if "_charset" not in data:
        raise ModelFileError(f"{path}: missing key _charset")
    charset = _text_of(data["_charset"], "_charset", path)
    # A bytes scalar loses trailing NULs in numpy: put the EOS back.
    if not charset.endswith(EOS) and len(charset) == weights[-1].shape[0] - 1:
        charset += EOS
    if "_shifts" in data:
        shifts = [int(s) for s in np.asarray(data["_shifts"]).ravel()]
    else:
        shifts = [DEFAULT_SHIFT] * len(weights)
    metadata = {}
    if "_metadata" in data:
        try:
            metadata = json.loads(_text_of(data["_metadata"], "_metadata", path))
        except json.JSONDecodeError:
            metadata = {}
    check_model(weights, biases, shifts, charset, where=str(path))
    if "_architecture" in data:
        try:
            arch = json.loads(_text_of(data["_architecture"], "_architecture", path))
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"{path}: _architecture is not JSON ({exc})") from None
        hidden = arch.get("hidden_sizes") if isinstance(arch, dict) else None
        if hidden is not None and not isinstance(hidden, list):
            raise ModelFileError(f"{path}: _architecture hidden_sizes is {hidden!r}, expected a list")
        if hidden is not None and hidden != [w.shape[0] for w in weights[:-1]]:
            raise ModelFileError(f"{path}: _architecture says hidden sizes {hidden} but the "
                                 f"weights have {[w.shape[0] for w in weights[:-1]]}")
    return IntModel(weights, biases, shifts, charset, metadata)


def _as_int(value: np.ndarray, key: str, path, dtype) -> np.ndarray:
    if value.dtype.kind not in "iuf":
        raise ModelFileError(f"{path}: {key} has dtype {value.dtype}, expected integers")
    if value.dtype.kind == "f":
        if not np.all(np.isfinite(value)) or np.any(value != np.round(value)):
            raise ModelFileError(f"{path}: {key} holds non-integer values")
    info = np.iinfo(dtype)
    if value.size and (value.min() < info.min or value.max() > info.max):
        if key.endswith("weight"):
            bad = tuple(int(i) for i in np.argwhere((value < -2) | (value > 1))[0])
            raise ModelFileError(f"{path}: {key}[{','.join(map(str, bad))}] = {value[bad]} is "
                                 f"outside the 2-bit range {{-2,-1,0,1}}")
        raise ModelFileError(f"{path}: {key} has values outside {np.dtype(dtype).name}")
    return value.astype(dtype)


def save_model(model: IntModel, path: str | Path) -> None:
    """Write the model as .npz (original keys plus _shifts/_format_version)."""
    model.validate()
    arrays = {}
    for k, (w, b) in enumerate(zip(model.weights, model.biases), start=1):
        arrays[f"fc{k}_weight"] = np.asarray(w, dtype=np.int8)
        arrays[f"fc{k}_bias"] = np.asarray(b, dtype=np.int16)
    # uint8 array, not a bytes scalar: numpy would drop the trailing EOS.
    arrays["_charset"] = np.frombuffer(model.charset.encode("utf-8"), dtype=np.uint8)
    arch = {"input_size": INPUT_SIZE, "hidden_sizes": model.hidden_sizes}
    arrays["_architecture"] = np.frombuffer(json.dumps(arch).encode(), dtype=np.uint8)
    arrays["_shifts"] = np.asarray(model.shifts, dtype=np.int8)
    version = 1 if all(s == DEFAULT_SHIFT for s in model.shifts) else 2
    arrays["_format_version"] = np.asarray(version, dtype=np.int8)
    arrays["_metadata"] = np.frombuffer(json.dumps(model.metadata).encode(), dtype=np.uint8)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


# ---------------------------------------------------------------- arithmetic

def wrap16(values: np.ndarray) -> np.ndarray:
    """Read int64 values modulo 2**16 as signed int16 (kept as int64)."""
    return ((values + 0x8000) & 0xFFFF) - 0x8000


def int_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x @ w.T exactly, as int64.  Done in float64 (BLAS, fast): every partial
    sum is an integer below 2**53 in magnitude (|x| < 2**16, |w| <= 2, few
    thousand inputs), so float64 holds it exactly."""
    return np.rint(np.asarray(x, dtype=np.float64) @ np.asarray(w, dtype=np.float64).T).astype(np.int64)


def layer(model: IntModel, k: int, x: np.ndarray, partial: np.ndarray | None = None):
    """Layer k (0-based) on int64 inputs [N, in] -> (acc, y) both int64 [N, out].

    partial: optional precomputed b + W x for part of the inputs (any order of
    additions gives the same result modulo 2**16)."""
    start = model.biases[k].astype(np.int64) if partial is None else partial
    acc = wrap16(start + int_matmul(x, model.weights[k]))
    y = acc >> model.shifts[k]
    if k < len(model.weights) - 1:
        y = np.maximum(y, 0)
    return acc, y


def forward(model: IntModel, inputs: np.ndarray) -> np.ndarray:
    """Output layer values (int64 [N, classes]) for int16 inputs [N, 256]."""
    x = np.atleast_2d(np.asarray(inputs)).astype(np.int64)
    for k in range(len(model.weights)):
        _, x = layer(model, k, x)
    return x


def predict(model: IntModel, inputs: np.ndarray) -> np.ndarray:
    """Chosen class per row: argmax, lowest index on ties."""
    return np.argmax(forward(model, inputs), axis=1)


def generate(model: IntModel, query: str | bytes, max_chars: int = MAX_RESPONSE) -> str:
    """Greedy response to one query."""
    return generate_batch(model, [query], max_chars)[0]


def generate_batch(model: IntModel, queries: Sequence[str | bytes],
                   max_chars: int = MAX_RESPONSE) -> list[str]:
    """Greedy responses to many queries at once (vectorised over queries)."""
    n = len(queries)
    if n == 0:
        return []
    q = encode_query_batch(queries).astype(np.int64)
    w1 = model.weights[0].astype(np.int64)
    # Layer 1's query part is fixed for the whole response.
    query_part = model.biases[0].astype(np.int64) + int_matmul(q, w1[:, :q.shape[1]])
    windows = np.frombuffer(context_bytes(b"") * n, dtype=np.uint8).reshape(n, CONTEXT_LEN).copy()
    charset_codes = np.frombuffer(model.charset.encode("latin-1"), dtype=np.uint8)
    active = np.arange(n)
    out = [[] for _ in range(n)]
    eos = model.eos_index
    for _ in range(max_chars):
        if active.size == 0:
            break
        ctx = encode_context_windows(windows[active]).astype(np.int64)
        acc = wrap16(query_part[active] + int_matmul(ctx, w1[:, q.shape[1]:]))
        x = acc >> model.shifts[0]
        if len(model.weights) > 1:
            x = np.maximum(x, 0)
        for k in range(1, len(model.weights)):
            _, x = layer(model, k, x)
        choice = np.argmax(x, axis=1)
        going = choice != eos
        for row, c in zip(active[going], choice[going]):
            out[row].append(model.charset[c])
        active = active[going]
        windows[active] = shift_window(windows[active], charset_codes[choice[going]])
    return ["".join(chars) for chars in out]


# ---------------------------------------------------------------- tracing

@dataclass
class StepTrace:
    step: int
    context: str                     # the 8 context bytes of this step
    inputs: np.ndarray               # int16 [256]
    accumulators: list[np.ndarray]   # per layer, int16 [out] (before shift)
    outputs: list[np.ndarray]        # per layer, int16 [out] (after shift/ReLU)
    index: int                       # chosen class
    char: str                        # charset[index] ('\x00' for EOS)


def trace(model: IntModel, query: str | bytes, max_chars: int = MAX_RESPONSE) -> list[StepTrace]:
    """Every number of every step of one greedy response."""
    steps = []
    emitted = ""
    for step in range(max_chars):
        x_in = encode_input(query, emitted)
        x = x_in[None, :].astype(np.int64)
        accs, outs = [], []
        for k in range(len(model.weights)):
            acc, x = layer(model, k, x)
            accs.append(acc[0].astype(np.int16))
            outs.append(x[0].astype(np.int16))
        index = int(np.argmax(x[0]))
        char = model.charset[index]
        steps.append(StepTrace(step, context_bytes(emitted).decode("latin-1"), x_in,
                               accs, outs, index, char))
        if index == model.eos_index:
            break
        emitted += char
    return steps


# ---------------------------------------------------------------- engine cost

@dataclass
class MacStats:
    steps: int                 # inference steps measured
    mean_per_step: float       # effective MACs per step (context part + later layers)
    max_per_step: int
    mean_query_part: float     # layer-1 query-part MACs, paid once per query
    neurons: int               # neurons evaluated per step
    nonzero_weights: int
    weight_sparsity: float     # fraction of zero weights

    def summary(self) -> str:
        return (f"effective MACs/step: mean {self.mean_per_step:.0f}, max {self.max_per_step} "
                f"(+{self.mean_query_part:.0f} once per query), {self.neurons} neurons/step, "
                f"{self.nonzero_weights} nonzero weights ({self.weight_sparsity:.1%} zero)")


def effective_macs(model: IntModel, queries: Sequence[str | bytes]) -> MacStats:
    """What the engine must add per step: for every nonzero input, the nonzero
    weights of its column (layer 1: context inputs only; counted per n-gram
    addition, 21 per step), over the greedy responses to `queries`."""
    nnz_cols = [(w != 0).sum(axis=0).astype(np.int64) for w in model.weights]
    per_step: list[int] = []
    query_parts = []
    from model.encode import context_hashes, query_hashes
    for query in queries:
        query_parts.append(sum(int(nnz_cols[0][b]) for b in query_hashes(query)))
        for st in trace(model, query):
            ctx_cost = sum(int(nnz_cols[0][128 + b]) for b in context_hashes(st.context))
            later = sum(int(nnz_cols[k][st.outputs[k - 1] != 0].sum())
                        for k in range(1, len(model.weights)))
            per_step.append(ctx_cost + later)
    nonzero = int(sum((w != 0).sum() for w in model.weights))
    total = int(sum(w.size for w in model.weights))
    return MacStats(
        steps=len(per_step),
        mean_per_step=float(np.mean(per_step)) if per_step else 0.0,
        max_per_step=int(max(per_step)) if per_step else 0,
        mean_query_part=float(np.mean(query_parts)) if query_parts else 0.0,
        neurons=int(sum(w.shape[0] for w in model.weights)),
        nonzero_weights=nonzero,
        weight_sparsity=1.0 - nonzero / total,
    )
