"""The .COM builder: layouts, size budget, listing/symbols, errors, shipped ROMs."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from model import layout as lay
from model.build import COM_BUDGET, BuildError, add_build_arguments, build, parse_symbols, run_build
from model.reference import generate, load_model
from model.verify import run_program
from test_engine_support import random_queries, save_random, shipped_topic

ROMS = Path(__file__).resolve().parent.parent / "roms"


def quiet(_msg):
    pass


def test_small_model_builds_sparse_with_listing_and_symbols(tmp_path):
    npz = save_random(tmp_path / "m.npz", [64, 48, 31], seed=1)
    res = build(npz, tmp_path / "M.COM", log=quiet)
    assert [p.kind for p in res.plans] == [lay.SPARSE] * 3
    data = (tmp_path / "M.COM").read_bytes()
    assert len(data) == res.com_bytes <= COM_BUDGET
    symbols = parse_symbols((tmp_path / "M.sym").read_text())
    for name in ("ACT1", "ACT2", "ACCLO", "CTX", "LAYERS", "apply", "argmax", "tokenize"):
        assert name in symbols, name
    listing = (tmp_path / "M.lst").read_text()
    assert "sparse_col" in listing and "L3_DATA" in listing


def test_forced_dense_is_smaller_and_still_exact(tmp_path):
    npz = save_random(tmp_path / "m.npz", [64, 48, 31], seed=2)
    sparse = build(npz, tmp_path / "S.COM", log=quiet)
    dense = build(npz, tmp_path / "D.COM", force=lay.DENSE, log=quiet)
    assert dense.com_bytes < sparse.com_bytes
    model = load_model(npz)
    for q in random_queries(4, seed=3):
        if q.strip():
            out, res, _ = run_program(tmp_path / "D.COM", args=[q.decode()])
            assert res.exit_status == 0
            assert out == generate(model, q.upper()).encode() + b"\r\n"


def test_layout_choice_prefers_sparse_until_the_budget_forces_dense():
    w = np.random.default_rng(0).choice([-1, 0, 1], size=(128, 256)).astype(np.int8)
    roomy = lay.plan_layers([w], [2], budget=COM_BUDGET, fixed_bytes=2000)
    assert roomy[0].kind == lay.SPARSE
    tight = lay.plan_layers([w], [2], budget=2000 + roomy[0].dense_bytes, fixed_bytes=2000)
    assert tight[0].kind == lay.DENSE


def test_dense_packing_round_trips():
    w = np.random.default_rng(1).choice([-2, -1, 0, 1], size=(13, 7)).astype(np.int8)
    plan = lay.plan_layers([w], [2], 10**6, 0, force=lay.DENSE)[0]
    decode = {0: 0, 1: 1, 3: -1, 2: -2}
    for j, rec in enumerate(lay.column_records(w, plan)):
        got = [decode[(rec[i // 4] >> (2 * (i % 4))) & 3] for i in range(13)]
        assert got == list(w[:, j])


def test_original_layout_model_fits_and_runs_exactly(tmp_path):
    # Z80-uLM layout: 256-256-192-128-N, about 27% nonzero weights
    npz = save_random(tmp_path / "orig.npz", [256, 192, 128, 40], density=0.27, seed=4)
    res = build(npz, tmp_path / "ORIG.COM", log=quiet)
    assert res.com_bytes <= COM_BUDGET
    out, result, verifier = run_program(tmp_path / "ORIG.COM", args=["hello there"], model_path=npz)
    assert result.exit_status == 0, result.message
    assert out == generate(load_model(npz), b" HELLO THERE").encode() + b"\r\n"
    assert verifier.answers == 1


def test_too_small_budget_is_a_clear_error(tmp_path):
    npz = save_random(tmp_path / "m.npz", [64, 31], seed=5)
    with pytest.raises(BuildError, match="budget"):
        build(npz, tmp_path / "X.COM", budget=3000, log=quiet)
    assert not (tmp_path / "X.COM").exists()


def _cli(argv):
    parser = argparse.ArgumentParser()
    add_build_arguments(parser)
    return run_build(parser.parse_args(argv))


def test_cli_bad_inputs_give_one_line_and_nonzero_status(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert _cli([str(bad), "-o", str(tmp_path / "B.COM")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    assert _cli([str(tmp_path / "missing.npz")]) == 1
    npz = save_random(tmp_path / "m.npz", [32, 31], seed=6)
    assert _cli([str(npz), "-o", str(tmp_path / "m.txt")]) == 2
    assert _cli([str(npz), "-o", str(tmp_path / "OK.COM")]) == 0
    assert "layer 2" in capsys.readouterr().out


def test_verifier_reports_the_first_differing_layer(tmp_path):
    npz = save_random(tmp_path / "m.npz", [64, 48, 31], seed=7)
    build(npz, tmp_path / "M.COM", log=quiet)
    symbols = parse_symbols((tmp_path / "M.sym").read_text())
    data = bytearray((tmp_path / "M.COM").read_bytes())
    # push every layer-1 bias high byte to +127: layer 1 goes wrong first
    model = load_model(npz)
    for i in range(64):
        data[symbols["L1_BHI"] - 0x100 + i] = 0x7F
    bad = tmp_path / "BAD.COM"
    bad.write_bytes(bytes(data))
    (tmp_path / "BAD.sym").write_text((tmp_path / "M.sym").read_text())
    out, result, verifier = run_program(bad, args=["what is it"], model_path=npz)
    assert result.exit_status == 3
    assert "step 0" in result.message and "first differing layer: 1" in result.message
    assert "what is it" in result.message.lower()
    assert verifier.summary() == ""      # no "no mismatch" line after the report


@pytest.mark.parametrize("name", ["TINYCHAT", "GUESS"])
def test_shipped_rom_rebuilds_byte_identical(tmp_path, name):
    npz = ROMS / f"{name}.npz"
    if not npz.exists():
        pytest.skip(f"shipped model not found: {npz}")
    res = build(npz, tmp_path / f"{name}.COM", log=quiet, topic=shipped_topic(npz))
    assert (tmp_path / f"{name}.COM").read_bytes() == (ROMS / f"{name}.COM").read_bytes()
    assert res.com_bytes <= COM_BUDGET


def test_cycles_benchmark_reports_the_agreed_json_keys(tmp_path, capsys):
    import importlib.util
    import json
    spec = importlib.util.spec_from_file_location(
        "cycles_per_char", Path(__file__).resolve().parent.parent / "benchmarks" / "cycles_per_char.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    npz = save_random(tmp_path / "B.npz", [32, 24], seed=41)
    build(npz, tmp_path / "B.COM", log=quiet)
    bench.QUERIES = bench.QUERIES[:3]
    bench.ROOT = tmp_path                      # no roms/ there: only the given .COM
    assert bench.main(["--json", "--no-reference", str(tmp_path / "B.COM")]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    for key in ("com_bytes", "tstates_per_step_median", "tstates_per_char_median",
                "effective_macs_per_step", "profile_tstates_per_step"):
        assert key in res, key
    assert res["com_bytes"] == (tmp_path / "B.COM").stat().st_size
    assert res["tstates_per_step_min"] <= res["tstates_per_step_median"] <= res["tstates_per_step_max"]
    assert "layer 1 (21 context columns)" in res["profile_tstates_per_step"]


def test_generated_source_assembles_identically_with_pasmo(tmp_path):
    import shutil
    import subprocess
    from model.build import generate_source
    if shutil.which("pasmo") is None:
        pytest.skip("pasmo not installed (Debian package pasmo)")
    npz = save_random(tmp_path / "m.npz", [48, 40, 20], seed=51)
    model = load_model(npz)
    for force in (None, lay.DENSE):
        res = build(npz, tmp_path / "P.COM", force=force, log=quiet)
        src = tmp_path / "p.asm"
        src.write_text(generate_source(model, res.plans, None, "P"))
        subprocess.run(["pasmo", "--bin", str(src), str(tmp_path / "p.bin")], check=True,
                       capture_output=True)
        assert (tmp_path / "p.bin").read_bytes() == (tmp_path / "P.COM").read_bytes()


def test_roms_recipe_is_the_documented_one():
    import model.roms as roms
    documented = [line.split()[3:] for line in roms.__doc__.splitlines()
                  if line.strip().startswith("python -m model ")]
    assert documented == roms.commands(Path("roms"))
    assert roms.commands(Path("roms"), train=False) == []


def test_a_trained_guess_model_builds_as_the_game_with_its_own_name(tmp_path):
    from model.__main__ import main as model_main
    data = tmp_path / "dog.txt"
    assert model_main(["data", "guess", "--topic", "dog", "-o", str(data)]) == 0
    lines = data.read_text().splitlines()
    small = tmp_path / "small.txt"
    small.write_text("\n".join(lines[:2] + lines[2::40]) + "\n")   # header kept, a few pairs
    npz = tmp_path / "DOG.npz"
    assert model_main(["train", str(small), "-o", str(npz), "--epochs", "2",
                       "--hidden-sizes", "16"]) == 0
    assert load_model(npz).metadata["topic"] == "dog"
    res = build(npz, tmp_path / "DOG.COM", log=quiet)
    assert res.guess_topic == "dog"
    out, result, _ = run_program(tmp_path / "DOG.COM", lines=[b"!"])
    assert out.startswith(b"DOG: 20 questions.")
    with pytest.raises(BuildError, match="does not exist"):
        build(npz, tmp_path / "nodir" / "DOG.COM", log=quiet)
