"""The equivalence suite: the .COM in our emulator prints exactly what the
numpy reference (model.reference) generates, character by character, in
chat mode and in command-tail mode, for the shipped models (every training
query + 1,000 random strings) and for random models (incl. 16-bit overflow,
per-layer shifts, dense layouts, a model without hidden layers)."""
from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from model import layout as lay
from model.build import build, guess_topic
from model.reference import generate_batch, load_model
from model.verify import run_program
from test_engine_support import (chat_transcript, random_queries, save_random, shipped_topic,
                                 strip_banner)

ROMS = Path(__file__).resolve().parent.parent / "roms"
RANDOM_MODELS = {
    # name: (layer sizes, kwargs for random_model, build layout)
    "sparse3": ([64, 48, 31], dict(seed=11), None),
    "dense3": ([64, 48, 31], dict(seed=12), lay.DENSE),
    # big biases, shift 0: accumulators wrap around 16 bits, activations >= 256
    "overflow": ([48, 40, 24], dict(seed=13, density=0.6, bias_range=32000, shifts=[0, 0, 3]), None),
    "overflow_dense": ([48, 24], dict(seed=14, density=0.6, bias_range=32000, shifts=[0, 5]), lay.DENSE),
    "shifts": ([96, 64, 20], dict(seed=15, shifts=[1, 3, 0]), None),
    "one_layer": ([28], dict(seed=16, shifts=[4]), None),
    "wide": ([256, 32], dict(seed=17, density=0.2), None),
}


def _overflows(model, queries) -> bool:
    """Whether some layer's sum leaves the int16 range (first step of each query)."""
    import numpy as np
    from model.reference import trace
    for q in queries:
        st = trace(model, q, max_chars=1)[0]
        x = st.inputs.astype(np.int64)
        for k, w in enumerate(model.weights):
            raw = model.biases[k].astype(np.int64) + w.astype(np.int64) @ x
            if ((raw < -32768) | (raw > 32767)).any():
                return True
            x = st.outputs[k].astype(np.int64)
    return False


@pytest.fixture(scope="module")
def random_builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name, (sizes, kwargs, force) in RANDOM_MODELS.items():
        npz = save_random(root / f"{name}.npz", sizes, **kwargs)
        com = root / f"{name.upper()}.COM"
        build(npz, com, force=force, log=lambda _m: None)
        out[name] = (npz, com)
    return out


def check_chat(npz: Path, com: Path, queries: list[bytes], topic=None, cpu=None, verify=True):
    """One chat session over all queries; its transcript must be exactly the
    reference's.  verify: also run the emulator's Verifier (slower: it asks
    the reference one query at a time)."""
    model = load_model(npz)
    output, result, verifier = run_program(com, lines=queries, model_path=npz if verify else None,
                                           cpu=cpu)
    assert result.exit_status == 0, result.message
    expected = chat_transcript(model, queries, topic)
    got = strip_banner(output)
    if got != expected:
        at = next(i for i in range(min(len(got), len(expected)) + 1)
                  if got[i:i + 1] != expected[i:i + 1])
        pytest.fail(f"chat transcript differs at byte {at}: "
                    f"got {got[max(0, at - 60):at + 20]!r}, expected {expected[max(0, at - 60):at + 20]!r}")
    return verifier


def check_tail(npz: Path, com: Path, queries: list[bytes], cpu=None) -> int:
    model = load_model(npz)
    program = com.read_bytes()
    queries = [q for q in queries if q.strip(b" ")]
    tails = [b" " + q.upper() for q in queries]        # what CCP stores at 0080h
    answers = generate_batch(model, tails)
    for query, answer in zip(queries, answers):
        output, result, _ = run_program(program, args=[query.decode()], cpu=cpu)
        assert result.exit_status == 0, result.message
        assert output == answer.encode() + b"\r\n", f"query {query!r}"
    return len(queries)


@pytest.mark.parametrize("name", list(RANDOM_MODELS))
def test_random_model_chat_and_tail(random_builds, name):
    npz, com = random_builds[name]
    queries = random_queries(60, seed=zlib.crc32(name.encode()))
    if name.startswith("overflow"):
        assert _overflows(load_model(npz), queries), "the overflow model must overflow"
    verifier = check_chat(npz, com, queries)
    assert verifier.answers == sum(1 for q in queries if q)
    assert check_tail(npz, com, queries[:20]) > 10


def _cpu():
    from cpm.machine import make_cpu
    return make_cpu()


def _training_queries(npz: Path) -> list[bytes]:
    """The queries of the shipped data file the model was trained on
    (roms/tinychat.txt for TINYCHAT.npz, roms/guess.txt for GUESS.npz)."""
    from model.data import load_pairs
    data = npz.parent / f"{npz.stem.lower()}.txt"
    if not data.exists():
        pytest.skip(f"training data not found: {data}")
    queries = sorted({pair.query for pair in load_pairs(data, warn=lambda _m: None)})
    return [q.encode("latin-1", "replace")[:200] for q in queries]


@pytest.mark.parametrize("name", ["TINYCHAT", "GUESS"])
def test_shipped_model_every_training_query_and_1000_random(name):
    npz, com = ROMS / f"{name}.npz", ROMS / f"{name}.COM"
    for path in (npz, com):
        if not path.exists():
            pytest.skip(f"shipped file not found: {path}")
    topic = shipped_topic(npz)
    queries = _training_queries(npz) + random_queries(1000, seed=2026)
    queries = [q for q in queries if q != b"!"]
    cpu = _cpu()
    # chat mode: batches of queries per emulator run (one transcript each)
    for i in range(0, len(queries), 400):
        check_chat(npz, com, queries[i:i + 400], topic, cpu=cpu, verify=False)
    # command-tail mode: one run per query, the CPU object reused
    assert check_tail(npz, com, [q for q in queries if len(q) <= 120], cpu=cpu) > 1000


def test_guess_game_numbers_questions_and_reveals_the_object(tmp_path):
    import numpy as np
    npz = save_random(tmp_path / "g.npz", [40, 20], seed=21)
    with np.load(npz) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["_topic"] = np.frombuffer(b"teapot", dtype=np.uint8)
    np.savez(npz, **arrays)
    assert guess_topic(npz, {}) == "teapot"
    com = tmp_path / "G.COM"
    build(npz, com, log=lambda _m: None)
    model = load_model(npz)
    queries = random_queries(45, seed=22, max_len=20)
    answers = generate_batch(model, [q for q in queries if q])
    assert not any("WIN" in a for a in answers)        # so the game must end after 20
    check_chat(npz, com, queries, topic="teapot")
    output, _, _ = run_program(com, lines=queries)
    assert output.count(b"I was thinking of: TEAPOT") == sum(1 for q in queries if q) // 20
    assert b"\r\n20> " in output and b"\r\n21> " not in output
