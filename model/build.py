"""`python -m model build MODEL.npz -o OUT.COM`: compile a model into a CP/M .COM.

Owns: turning a model (.npz) into one assembly source (generated header +
model/engine.asm + generated data), assembling it with our assembler
(z80emu.asm), and writing OUT.COM with OUT.lst (listing) and OUT.sym
(symbols) beside it.  The layout choice per layer is model.layout's; the
engine's arithmetic is ../shared/spec/MODEL.md's.

Rebuild the shipped programs (deterministic, byte-identical) with one command:

    python -m model.build --roms

which is the same as
    python -m model build roms/TINYCHAT.npz -o roms/TINYCHAT.COM
    python -m model build roms/GUESS.npz -o roms/GUESS.COM [--topic cat]
(--topic only if the model file does not name its secret object itself; --roms
takes it from the header of roms/guess.txt then.)
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import layout as lay

ENGINE_SOURCE = Path(__file__).with_name("engine.asm")
COM_BUDGET = 40960            # bytes: the .COM must fit below 0A100h
ORIGIN = 0x100
ACT_BASE = 0xAC00
ACT_STRIDE = 0x400
ENGINE_ESTIMATE = 1900        # bytes of engine code, for the first layout guess


class BuildError(Exception):
    """A model that cannot be built; the message says why."""


@dataclass
class BuildResult:
    com_path: Path
    com_bytes: int
    plans: list
    guess_topic: str | None
    symbols: dict

    def summary(self) -> str:
        parts = [f"L{p.index} {p.rows}x{p.cols} {p.kind} ({p.data_bytes} B)" for p in self.plans]
        text = f"{self.com_path}: {self.com_bytes} bytes; layouts: " + ", ".join(parts)
        if self.guess_topic:
            text += f"; guess game, secret object {self.guess_topic!r}"
        return text


# ---------------------------------------------------------------- assembling

@dataclass
class Assembled:
    binary: bytes
    origin: int
    symbols: dict
    listing: str
    symbol_text: str


def assemble_text(source: str, name: str = "tinychat.asm") -> Assembled:
    """Assemble with our assembler (z80emu.asm); pasmo only while ours is absent."""
    try:
        from z80emu.asm import assemble, AsmError
    except ImportError:
        return _assemble_pasmo(source)
    try:
        res = assemble(source, filename=name)
    except AsmError as exc:
        raise BuildError(f"assembler: {exc}") from None
    return Assembled(bytes(res.binary), res.origin, dict(res.symbols),
                     res.listing_text(), res.symbol_text())


def _assemble_pasmo(source: str) -> Assembled:
    with tempfile.TemporaryDirectory() as tmp:
        src, out, sym = (Path(tmp) / n for n in ("t.asm", "t.bin", "t.sym"))
        src.write_text(source)
        proc = subprocess.run(["pasmo", "--bin", str(src), str(out), str(sym)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise BuildError(f"pasmo: {proc.stderr.strip() or proc.stdout.strip()}")
        symtext = sym.read_text()
        binary = out.read_bytes()
    return Assembled(binary, ORIGIN, parse_symbols(symtext), source, symtext)


def parse_symbols(text: str) -> dict:
    """'NAME EQU 1234H' lines (ours and pasmo's) -> {name: value}."""
    symbols = {}
    for line in text.splitlines():
        m = re.match(r"\s*([A-Za-z_.$?@][\w.$?@]*)\s*:?\s+EQU\s+([0-9A-Fa-f]+)H?\s*$", line, re.I)
        if m:
            symbols[m.group(1)] = int(m.group(2), 16)
    return symbols


# ---------------------------------------------------------------- source

def preprocess(text: str, flags: dict) -> str:
    """Expand the template's `if NAME` / `endif` and `rept N` / `endm` blocks,
    so the generated source needs only org/equ/db/dw/ds and labels."""
    out: list[str] = []
    keep = [True]
    rept: list[str] | None = None
    count = 0
    for line in text.splitlines():
        word = line.split(";")[0].split()
        op = word[0].lower() if word else ""
        if op == "if":
            keep.append(keep[-1] and bool(flags[word[1]]))
            continue
        if op == "endif":
            keep.pop()
            continue
        if not keep[-1]:
            continue
        if op == "rept":
            rept, count = [], int(word[1])
            continue
        if op == "endm":
            out.extend(rept * count)
            rept = None
            continue
        (rept if rept is not None else out).append(line)
    return "\n".join(out) + "\n"


def _text_db(label: str, text: str) -> list[str]:
    data = list(text.encode("latin-1", errors="replace")) + [0]
    return [f"{label}:"] + [f"        db {','.join(str(v) for v in data[i:i + 16])}"
                            for i in range(0, len(data), 16)]


def guess_topic(model_path: Path, metadata: dict) -> str | None:
    """The guess game's secret object: `_topic` key or metadata 'topic'."""
    with np.load(model_path, allow_pickle=False) as npz:
        if "_topic" in npz.files:
            value = npz["_topic"]
            if value.dtype == np.uint8:
                return bytes(value).decode("utf-8")
            return str(value.item() if value.shape == () else value)
    topic = metadata.get("topic") if isinstance(metadata, dict) else None
    return str(topic) if topic else None


def generate_source(model, plans, topic: str | None, name: str) -> str:
    n = len(model.weights)
    sizes = "-".join(str(w.shape[0]) for w in model.weights)
    head = [f"; {name}: generated by model/build.py - do not edit",
            f"; layers {model.weights[0].shape[1]}-{sizes}, shifts {list(model.shifts)}",
            f"NLAYERS equ {n}",
            f"EOSIDX  equ {model.eos_index}",
            f"GUESS   equ {1 if topic else 0}"]
    for p in plans:
        head.append(f"L{p.index}_ROWS equ {p.rows}")
        head.append(f"L{p.index}_OFF equ {p.off}")
        if p.hidden:
            head.append(f"ACT{p.index} equ {ACT_BASE + ACT_STRIDE * (p.index - 1):05X}h")
    head.append(f"RAMTOP  equ {ACT_BASE + ACT_STRIDE * max(n - 1, 0):05X}h")
    l1_sparse = plans[0].kind == lay.SPARSE
    engine = preprocess(ENGINE_SOURCE.read_text(),
                        {"GUESS": bool(topic), "L1_SPARSE": l1_sparse, "L1_DENSE": not l1_sparse})
    title = f"{name}: 20 questions. I have an object in mind." if topic else name
    data = _text_db("msg_banner", f"{title} ({sizes} model). Type ! to quit.\r\n")
    if topic:
        data += _text_db("msg_over", "20 questions and no WIN. I was thinking of: ")
        data += _text_db("msg_topic", topic.upper())
    data += ["CHARSET:"] + [f"        db {','.join(str(ord(c)) for c in model.charset[i:i + 16])}"
                            for i in range(0, len(model.charset), 16)]
    data += lay.descriptor_source(plans)
    for w, b, p in zip(model.weights, model.biases, plans):
        data += lay.layer_source(w, b, p)
    data.append("PROGRAM_END:")
    return "\n".join(head) + "\n" + engine + "\n".join(data) + "\n"


# ---------------------------------------------------------------- build

def build(model_path, com_path, budget: int = COM_BUDGET, force: str | None = None,
          log=print, topic: str | None = None) -> BuildResult:
    """Compile model_path into com_path (+ .lst, .sym).  topic: make it the
    guess game with this secret object (default: the model file's `_topic`
    key or metadata 'topic', if any)."""
    from model.reference import ModelFileError, load_model
    model_path, com_path = Path(model_path), Path(com_path)
    if not 0 < budget <= COM_BUDGET:
        raise BuildError(f"budget {budget}: must be 1..{COM_BUDGET} bytes "
                         f"(the engine's RAM starts at 0A100h)")
    try:
        model = load_model(model_path)
    except ModelFileError as exc:
        raise BuildError(str(exc)) from None
    if len(model.weights) > 8:
        raise BuildError(f"{model_path}: {len(model.weights)} layers; the engine supports at most 8")
    topic = topic or guess_topic(model_path, model.metadata)
    if topic is not None and not (topic.isascii() and topic.isprintable() and 0 < len(topic) <= 40):
        raise BuildError(f"guess topic {topic!r}: expected 1..40 printable ASCII characters")
    fixed = ENGINE_ESTIMATE + 64 + len(model.charset)
    try:
        plans = lay.plan_layers(model.weights, model.shifts, budget, fixed, force)
    except ValueError as exc:
        raise BuildError(f"{model_path}: {exc}") from None
    name = com_path.stem.upper()
    while True:
        source = generate_source(model, plans, topic, name)
        asm = assemble_text(source, name + ".asm")
        if asm.origin != ORIGIN:
            raise BuildError(f"assembled program starts at {asm.origin:04X}h, not 0100h")
        if len(asm.binary) <= budget:
            break
        sparse = [p for p in plans if p.kind == lay.SPARSE and p.dense_bytes < p.sparse_bytes]
        if not sparse or force:
            raise BuildError(f"{model_path}: the program needs {len(asm.binary)} bytes, "
                             f"more than the {budget}-byte budget, even with dense layers")
        max(sparse, key=lambda p: p.sparse_bytes - p.dense_bytes).kind = lay.DENSE
    if not com_path.parent.is_dir():
        raise BuildError(f"{com_path}: folder {com_path.parent} does not exist")
    com_path.write_bytes(asm.binary)
    com_path.with_suffix(".lst").write_text(asm.listing)
    com_path.with_suffix(".sym").write_text(asm.symbol_text)
    result = BuildResult(com_path, len(asm.binary), plans, topic, asm.symbols)
    for p in plans:
        log(f"layer {p.index}: {p.rows} x {p.cols}, {p.kind} layout, {p.data_bytes} bytes "
            f"(sparse {p.sparse_bytes if p.sparse_ok else 'n/a'}, dense {p.dense_bytes})")
    log(result.summary())
    return result


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `python -m model build` (model/__main__.py delegates here)."""
    parser.add_argument("model", metavar="MODEL.npz", help="trained model file (.npz)")
    parser.add_argument("-o", "--output", metavar="OUT.COM",
                        help="program to write (default: MODEL with .COM); "
                             "OUT.lst and OUT.sym are written beside it")
    parser.add_argument("--layout", choices=[lay.SPARSE, lay.DENSE],
                        help="force one weight layout for every layer (default: the fastest that fits)")
    parser.add_argument("--topic", metavar="OBJECT",
                        help="build the 20-questions game with this secret object (default: the "
                             "model's _topic key or metadata 'topic'; none: a plain chat)")
    parser.add_argument("--budget", type=int, default=COM_BUDGET, metavar="BYTES",
                        help=f"largest allowed .COM size (default {COM_BUDGET})")


def run_build(args: argparse.Namespace) -> int:
    out = Path(args.output) if args.output else Path(args.model).with_suffix(".COM")
    if out.suffix.upper() != ".COM":
        print(f"error: the output file must end in .COM, got {out}", file=sys.stderr)
        return 2
    try:
        build(args.model, out, budget=args.budget, force=args.layout, topic=args.topic)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


ROMS_DIR = Path(__file__).resolve().parent.parent / "roms"


def rebuild_roms(roms: Path = ROMS_DIR, log=print) -> int:
    """Rebuild every roms/NAME.COM from roms/NAME.npz (the guess game's object
    from the model file, else from the header of roms/guess.txt)."""
    models = sorted(p for p in roms.glob("*.npz") if p.stem.isupper())
    if not models:
        print(f"error: no NAME.npz models in {roms}", file=sys.stderr)
        return 1
    for npz in models:
        try:
            build(npz, npz.with_suffix(".COM"), log=log, topic=rom_topic(npz))
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


def rom_topic(npz: Path) -> str | None:
    """The guess game's object of a shipped model: the model file's own, else
    for GUESS.npz the header of the data file beside it ("secret object: cat")."""
    from model.reference import ModelFileError, load_model
    try:
        topic = guess_topic(npz, load_model(npz).metadata)
    except ModelFileError as exc:
        raise BuildError(str(exc)) from None
    if topic is None and npz.stem.upper() == "GUESS":
        from model.data import data_topic
        topic = data_topic(npz.parent / f"{npz.stem.lower()}.txt")
    return topic


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--roms"]:
        return rebuild_roms()
    parser = argparse.ArgumentParser(
        prog="python -m model.build",
        description="Compile a trained model (.npz) into a CP/M .COM with its listing and "
                    "symbols.  `python -m model.build --roms` rebuilds every roms/NAME.COM "
                    "from roms/NAME.npz.")
    add_build_arguments(parser)
    return run_build(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
