"""T-states per inference step and per output character of tinychat .COMs.

    python benchmarks/cycles_per_char.py [--json] [--no-reference] [MODEL.COM ...]

For each .COM in roms/ (and any given), runs a fixed query set in our Z80 +
CP/M emulator (command-tail mode, one run per query) and prints: .COM size,
T-states per inference step and per output character (median, min, max),
seconds per character on a real 4 MHz Z80, effective multiply-accumulates
per step (when the model .npz is beside the .COM), and a per-routine profile
from the symbol file (breakpoints at the engine's phase labels).

The reference measured in the same run: the same model rebuilt with every
layer in the dense 2-bit layout (no zero skipping by index lists), so the
printed ratio is what the engine's sparse layouts and input skipping buy.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = ["hello", "hi there", "what is your name", "how are you", "are you a robot",
           "tell me a joke", "is it an animal", "is it bigger than a car", "can it fly",
           "do you like music", "good night", "what can you do"]

# phase label in the engine -> profile row ("once" rows are per query)
PHASES = [("tokenize", "tokenize (once per query)"),
          ("layer1_base", "layer 1 query share (once per query)"),
          ("step", "context n-grams"),
          ("layer1", "layer 1 (21 context columns)"),
          ("layer_n", "layer {k}"),
          ("shift_relu", "layer {k} shift+ReLU"),
          ("argmax", "output shift + argmax"),
          ("an_stepped", "console I/O and answer loop")]


def run_profiled(com: Path, query: str, symbols: dict) -> dict:
    """One command-tail run; returns per-step T-states, chars, phase totals."""
    from cpm.console import PipedConsole
    from cpm.bdos import WarmBoot
    from cpm.machine import CPMMachine
    from cpm import layout as L
    from z80emu.cpu import STOP_BREAKPOINT, STOP_HALT, STOP_TRAP
    import io

    out = io.BytesIO()
    machine = CPMMachine(console=PipedConsole(io.BytesIO(b""), out))
    machine.load(com.read_bytes(), [query])
    cpu = machine.cpu
    marks = {}
    for label, name in PHASES:
        if label in symbols:
            marks[symbols[label]] = (label, name)
            cpu.set_breakpoint(symbols[label], True)
    layers_addr = symbols.get("LAYERS", 0)
    phase, since = "startup", cpu.tstates
    totals: dict[str, int] = {}
    steps, step_start = [], None
    answer_start = cpu.tstates
    bios_lo, bios_hi = L.BIOS_STUBS, L.BIOS_STUBS + L.BIOS_ENTRIES
    try:
        while True:
            reason = cpu.run(50_000_000)
            if reason == STOP_BREAKPOINT and cpu.pc in marks:
                now = cpu.tstates
                totals[phase] = totals.get(phase, 0) + now - since
                label, name = marks[cpu.pc]
                k = (cpu.ix - layers_addr) // 16 + 1
                phase, since = name.format(k=k), now
                if label == "step":
                    step_start = now
                elif label == "an_stepped" and step_start is not None:
                    steps.append(now - step_start)
                continue
            if reason in (STOP_TRAP, STOP_BREAKPOINT):
                if cpu.pc == L.BDOS_ENTRY:
                    machine.bdos.call()
                    cpu.pc = cpu.pop()
                elif bios_lo <= cpu.pc < bios_hi:
                    machine.bios.call(cpu.pc - bios_lo)
                    cpu.pc = cpu.pop()
                continue
            if reason == STOP_HALT:
                raise RuntimeError(f"{com}: the CPU halted")
    except WarmBoot:               # BDOS 0: the program has finished
        pass
    totals[phase] = totals.get(phase, 0) + cpu.tstates - since
    machine.console.flush()
    text = out.getvalue()
    chars = len(text.rstrip(b"\r\n"))
    totals.pop("startup", None)
    return {"steps": steps, "chars": chars, "answer_tstates": cpu.tstates - answer_start,
            "phases": totals, "output": text.decode("latin-1").rstrip("\r\n")}


def measure(com: Path) -> dict:
    from model.build import parse_symbols
    symbols = parse_symbols(com.with_suffix(".sym").read_text())
    if "an_stepped" not in symbols:
        raise SystemExit(f"error: {com}: its .sym has no engine phase labels "
                         "(not built by this model/build.py? rebuild it)")
    all_steps, per_char, phases, answers = [], [], {}, []
    for q in QUERIES:
        r = run_profiled(com, q, symbols)
        all_steps += r["steps"]
        # per output character: the whole answer (incl. the query share and the
        # final EOS step) over the characters printed (at least one)
        per_char.append(r["answer_tstates"] / max(r["chars"], 1))
        for name, t in r["phases"].items():
            phases[name] = phases.get(name, 0) + t
        answers.append(r["output"])
    n_steps = max(len(all_steps), 1)
    res = {
        "com": str(com), "com_bytes": com.stat().st_size, "queries": len(QUERIES),
        "steps": len(all_steps),
        "tstates_per_step_median": statistics.median(all_steps),
        "tstates_per_step_min": min(all_steps), "tstates_per_step_max": max(all_steps),
        "tstates_per_char_median": statistics.median(per_char),
        "tstates_per_char_min": min(per_char), "tstates_per_char_max": max(per_char),
        "profile_tstates_per_step": {k: round(v / n_steps) for k, v in
                                     sorted(phases.items(), key=lambda kv: -kv[1])},
    }
    res["seconds_per_char_4mhz"] = res["tstates_per_char_median"] / 4e6
    npz = com.with_suffix(".npz")
    if npz.exists():
        from model.reference import effective_macs, load_model
        stats = effective_macs(load_model(npz), QUERIES)
        res["effective_macs_per_step"] = round(stats.mean_per_step, 1)
        res["tstates_per_mac"] = round(res["tstates_per_step_median"] / max(stats.mean_per_step, 1), 1)
    return res


def reference_build(com: Path, tmp: Path) -> Path | None:
    """The same model, every layer dense: the in-run reference."""
    npz = com.with_suffix(".npz")
    if not npz.exists():
        return None
    from model.build import BuildError, build
    out = tmp / (com.stem + "D.COM")
    try:
        build(npz, out, force="dense", log=lambda _m: None)
    except BuildError:
        return None
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="T-states per inference step and per output "
                                 "character of tinychat .COMs in the emulator.")
    ap.add_argument("coms", nargs="*", type=Path, metavar="MODEL.COM",
                    help="extra .COM files (roms/*.COM are always measured)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the all-dense reference build (faster)")
    args = ap.parse_args(argv)
    coms = sorted((ROOT / "roms").glob("*.COM")) + list(args.coms)
    missing = [c for c in coms if not c.is_file() or not c.with_suffix(".sym").is_file()]
    if missing:
        print(f"error: {missing[0]}: no such .COM (or no .sym beside it)", file=sys.stderr)
        return 1
    if not coms:
        print("error: no .COM in roms/ and none given", file=sys.stderr)
        return 1
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for com in coms:
            print(f"measuring {com.name} ({len(QUERIES)} queries)...", file=sys.stderr)
            res = measure(com)
            ref = None if args.no_reference else reference_build(com, Path(tmp))
            if ref is not None:
                print(f"measuring the all-dense reference build of {com.name}...", file=sys.stderr)
                r = measure(ref)
                res["reference_dense_tstates_per_step_median"] = r["tstates_per_step_median"]
                res["speedup_vs_dense"] = round(r["tstates_per_step_median"] / res["tstates_per_step_median"], 2)
            results.append(res)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        print(f"{r['com']}: {r['com_bytes']} bytes, {r['steps']} steps over {r['queries']} queries")
        print(f"  T-states per step: median {r['tstates_per_step_median']:,.0f}, "
              f"min {r['tstates_per_step_min']:,}, max {r['tstates_per_step_max']:,}")
        print(f"  T-states per char: median {r['tstates_per_char_median']:,.0f}, "
              f"min {r['tstates_per_char_min']:,.0f}, max {r['tstates_per_char_max']:,.0f}"
              f"  ({r['seconds_per_char_4mhz'] * 1000:.1f} ms per char at 4 MHz)")
        if "effective_macs_per_step" in r:
            print(f"  effective MACs per step: {r['effective_macs_per_step']} "
                  f"({r['tstates_per_mac']} T-states per MAC)")
        if "speedup_vs_dense" in r:
            print(f"  reference (all-dense build, same run): median "
                  f"{r['reference_dense_tstates_per_step_median']:,.0f} T/step; "
                  f"ratio {r['speedup_vs_dense']}x")
        print("  profile (T-states per step, averaged):")
        for name, t in r["profile_tstates_per_step"].items():
            print(f"    {name:<40} {t:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
