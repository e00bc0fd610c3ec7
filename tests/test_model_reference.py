"""The integer model of MODEL.md: encoders by hand, vectorised reference vs a
plain one-query-at-a-time implementation, the .npz format and bad files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from model.encode import (EOS, build_charset, context_hashes, encode_context,
                          encode_context_batch, encode_input, encode_query,
                          encode_query_batch, query_hashes)
from model.reference import (IntModel, ModelFileError, effective_macs, forward,
                             generate, generate_batch, load_model, save_model, trace)


# ------------------------------------------------------------ encoders by hand

def test_query_hi_buckets_by_hand():
    # " hi ": trigram " hi": h = ((32*31 + 104)*31 + 105) = 34081; 34081 & 127 = 33
    #         trigram "hi ": h = ((104*31 + 105)*31 + 32) = 103231 & 0xFFFF = 37695; & 127 = 63
    assert query_hashes("hi") == [33, 63]
    vec = encode_query("hi")
    assert vec.dtype == np.int16
    assert vec[33] == 32 and vec[63] == 32 and vec.sum() == 64


def test_query_upper_case_and_leading_spaces_ignored_trailing_kept():
    assert np.array_equal(encode_query("  HI"), encode_query("hi"))
    # "hi " pads to " hi  ": adds trigram "i  " = ((105*31+32)*31+32) = 101929;
    # & 0xFFFF = 36393; & 127 = 41
    assert query_hashes("hi ") == [33, 63, 41]
    assert not np.array_equal(encode_query("hi "), encode_query("hi"))


def test_query_empty_is_all_zero():
    assert not encode_query("").any()
    assert not encode_query("   ").any()


def test_query_same_bucket_twice_adds_64():
    # "aaaa" -> " aaaa " has trigrams " aa", "aaa", "aaa", "aa ": "aaa" twice.
    # "aaa": ((97*31 + 97)*31 + 97) = 96321 & 0xFFFF = 30785; & 127 = 65
    vec = encode_query("aaaa")
    assert vec[65] == 64
    assert vec.sum() == 4 * 32


def test_query_only_ascii_letters_change_case():
    # '@' (64) and '[' (91) border 'A'..'Z' and must not be shifted by 32
    assert query_hashes("@") != query_hashes("`")
    assert query_hashes("[") != query_hashes("{")


def test_context_empty_by_hand():
    # 8 spaces; n=1, i=0: h = 0*31 + 32 = 32; i=1: h = 7*31 + 32 = 249, & 127 = 121
    # n=2, i=0: h = (0*31+32)*31 + 32 = 1024, & 127 = 0
    hashes = context_hashes("")
    assert len(hashes) == 21
    assert hashes[0] == 32 and hashes[1] == 121 and hashes[8] == 0
    assert encode_context("").sum() == 21 * 32


def test_context_uses_last_eight_chars_lowercased():
    # "H" right-aligned: position 7 is 'h' (104): n=1, i=7: h = 49*31 + 104 = 1623; & 127 = 87
    assert context_hashes("H")[7] == (7 * 7 * 31 + 104) & 127 == 87
    assert context_hashes("ABCDEFGHIJ") == context_hashes("cdefghij")
    assert encode_context("WHATEVER?").sum() == 21 * 32


def test_batch_encoders_equal_single():
    texts = ["", "hi", "HELLO THERE", "x" * 40, "r u ok?", "  lead", "tail  "]
    assert np.array_equal(encode_query_batch(texts), np.stack([encode_query(t) for t in texts]))
    assert np.array_equal(encode_context_batch(texts), np.stack([encode_context(t) for t in texts]))


def test_charset_order():
    assert build_charset(["hi", "Why?", "ok 2!"]) == " HIKOWY2!?" + EOS
    assert build_charset(["YES"])[0] == " "


# ------------------------------------------------------------ pure-Python model

def plain_step(weights, biases, shifts, x):
    """One step, one query, Python ints only, straight from MODEL.md."""
    for k, (w, b) in enumerate(zip(weights, biases)):
        y = []
        for i in range(len(w)):
            acc = int(b[i])
            for j in range(len(x)):
                acc += int(w[i][j]) * int(x[j])
            acc &= 0xFFFF
            if acc >= 0x8000:
                acc -= 0x10000
            v = acc >> shifts[k]           # Python >> on negative ints floors
            if k < len(weights) - 1:
                v = max(v, 0)
            y.append(v)
        x = y
    best = 0
    for i in range(1, len(x)):
        if x[i] > x[best]:
            best = i
    return best


def plain_generate(model, query):
    w = [m.tolist() for m in model.weights]
    b = [m.tolist() for m in model.biases]
    out = ""
    for _ in range(50):
        idx = plain_step(w, b, model.shifts, encode_input(query, out).tolist())
        if idx == len(model.charset) - 1:
            break
        out += model.charset[idx]
    return out


def random_model(rng, sizes, charset, bias_scale, shifts=None, zero_frac=0.5):
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.integers(-2, 2, size=(n_out, n_in))
        w[rng.random(w.shape) < zero_frac] = 0
        weights.append(w.astype(np.int8))
        biases.append(rng.integers(-bias_scale, bias_scale + 1, size=n_out).astype(np.int16))
    shifts = shifts or [2] * len(weights)
    return IntModel(weights, biases, shifts, charset)


def test_forward_equals_plain_on_random_models_and_inputs():
    rng = np.random.default_rng(1)
    checked = overflowed = 0
    for trial in range(40):
        n_layers = rng.integers(1, 4)
        sizes = [256] + list(rng.integers(4, 24, size=n_layers - 1)) + [int(rng.integers(5, 12))]
        shifts = [int(s) for s in rng.integers(0, 6, size=n_layers)]
        model = random_model(rng, sizes, "ABCDEFGHIJKL"[:sizes[-1] - 1] + EOS,
                             bias_scale=int(rng.choice([10, 1000, 32767])), shifts=shifts)
        # large inputs force int16 wrap-around in the accumulators
        scale = int(rng.choice([32, 500, 8000]))
        inputs = rng.integers(-scale, scale + 1, size=(60, 256)).astype(np.int16)
        inputs[rng.random(inputs.shape) < 0.6] = 0
        got = np.argmax(forward(model, inputs), axis=1)
        w = [m.tolist() for m in model.weights]
        b = [m.tolist() for m in model.biases]
        for row in range(len(inputs)):
            assert got[row] == plain_step(w, b, shifts, inputs[row].tolist())
            checked += 1
        x = inputs.astype(np.int64)
        raw = x @ model.weights[0].astype(np.int64).T + model.biases[0]
        overflowed += int(((raw < -32768) | (raw > 32767)).any())
    assert checked == 2400
    assert overflowed > 5          # the test really exercised wrap-around


def test_ties_pick_lowest_index():
    w = np.zeros((4, 256), dtype=np.int8)
    b = np.array([5, 9, 9, 9], dtype=np.int16)
    model = IntModel([w], [b], [2], "AB?" + EOS)
    # 9 >> 2 == 2 for classes 1..3: class 1 wins
    assert np.argmax(forward(model, np.zeros((1, 256), np.int16))[0]) == 1


def test_negative_values_shift_by_floor():
    w = np.zeros((2, 256), dtype=np.int8)
    b = np.array([-5, -4], dtype=np.int16)
    model = IntModel([w], [b], [2], "A" + EOS)
    # floor(-5/4) = -2 (truncation would give -1), -4/4 = -1: class 1 wins
    assert list(forward(model, np.zeros((1, 256), np.int16))[0]) == [-2, -1]


def test_generate_batch_equals_plain_generation():
    rng = np.random.default_rng(7)
    queries = ["hi", "who are you", "", "R U OK?", "what is this thing", "zz top", "a"]
    for trial in range(6):
        sizes = [256, int(rng.integers(6, 20)), 8]
        model = random_model(rng, sizes, "ABC HI?" + EOS, bias_scale=40)
        got = generate_batch(model, queries)
        for q, g in zip(queries, got):
            assert g == plain_generate(model, q)
            assert g == generate(model, q)


def test_generate_stops_at_50_chars():
    w = np.zeros((2, 256), dtype=np.int8)
    model = IntModel([w], [np.array([100, 0], np.int16)], [2], "A" + EOS)
    assert generate(model, "hi") == "A" * 50


def test_trace_matches_forward():
    rng = np.random.default_rng(3)
    model = random_model(rng, [256, 16, 12, 8], "HI YES?" + EOS, bias_scale=60)
    steps = trace(model, "hello")
    text = "".join(s.char for s in steps if s.index != model.eos_index)
    assert text == generate(model, "hello")
    for s in steps:
        assert s.inputs.shape == (256,)
        assert [a.dtype for a in s.accumulators] == [np.int16] * 3
        out = forward(model, s.inputs[None, :])[0]
        assert np.array_equal(out, s.outputs[-1])
        assert s.index == int(np.argmax(out))


def test_effective_macs_counts_nonzero_products():
    # One hidden neuron with weight 1 on every input, output layer 2x1 of ones.
    w1 = np.ones((1, 256), dtype=np.int8)
    w2 = np.ones((2, 1), dtype=np.int8)
    model = IntModel([w1, w2], [np.zeros(1, np.int16), np.array([0, 0], np.int16)],
                     [2, 2], "A" + EOS)
    stats = effective_macs(model, ["hi"])
    # each step ends at once (tie -> class 0 'A' ... ) so count from the trace
    n_steps = stats.steps
    # per step: 21 context additions x 1 weight + 1 hidden nonzero x 2 weights
    assert stats.mean_per_step == 21 + 2
    assert stats.mean_query_part == 2          # two query trigrams x 1 weight
    assert n_steps == 50


# ------------------------------------------------------------ file format

def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    model = random_model(rng, [256, 12, 9], "HI YES?!" + EOS, bias_scale=300, shifts=[3, 1])
    model.metadata = {"seed": 5}
    path = tmp_path / "m.npz"
    save_model(model, path)
    back = load_model(path)
    assert back.charset == model.charset
    assert back.shifts == [3, 1]
    assert back.metadata == {"seed": 5}
    for a, b in zip(model.weights + model.biases, back.weights + back.biases):
        assert np.array_equal(a, b) and a.dtype == b.dtype


def test_loads_original_layout(tmp_path):
    # The original stores the charset as a bytes scalar (numpy drops the
    # trailing NUL) and has no _shifts: shift 2 everywhere.
    rng = np.random.default_rng(6)
    w1 = rng.integers(-2, 2, size=(8, 256)).astype(np.float32)
    w2 = rng.integers(-2, 2, size=(5, 8)).astype(np.float32)
    path = tmp_path / "orig.npz"
    np.savez(path, fc1_weight=w1, fc1_bias=np.zeros(8, np.int16), fc2_weight=w2,
             fc2_bias=np.zeros(5, np.int16), _charset=np.array(b" HI?\x00"),
             _architecture=np.array(json.dumps({"input_size": 256, "hidden_sizes": [8]}).encode()))
    model = load_model(path)
    assert model.charset == " HI?" + EOS
    assert model.shifts == [2, 2]
    assert model.weights[0].dtype == np.int8


def _save_raw(path, **arrays):
    np.savez(path, **arrays)
    return path


def _good_arrays():
    return dict(fc1_weight=np.zeros((4, 256), np.int8), fc1_bias=np.zeros(4, np.int16),
                _charset=np.frombuffer(b"HI?\x00", np.uint8))


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(fc1_weight=np.full((4, 256), 2, np.int8)), "outside the 2-bit range"),
    (lambda a: a.update(fc1_weight=np.zeros((4, 100), np.int8)), "do not chain"),
    (lambda a: a.update(fc2_weight=np.zeros((3, 5), np.int8), fc2_bias=np.zeros(3, np.int16)),
     "do not chain"),
    (lambda a: a.update(_charset=np.frombuffer(b"\x00", np.uint8)), "charset is empty"),
    (lambda a: a.update(_charset=np.frombuffer(b"ABCDEF\x00", np.uint8)), "only 4"),
    (lambda a: a.pop("_charset"), "missing key _charset"),
    (lambda a: a.pop("fc1_bias"), "missing key fc1_bias"),
    (lambda a: a.pop("fc1_weight"), "fc1_weight"),
    (lambda a: a.update(fc1_weight=np.full((4, 256), 0.5)), "non-integer"),
])
def test_bad_files_refused(tmp_path, change, message):
    arrays = _good_arrays()
    change(arrays)
    path = _save_raw(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_good_minimal_file_loads(tmp_path):
    assert load_model(_save_raw(tmp_path / "ok.npz", **_good_arrays())).charset == "HI?\x00"


def test_not_an_npz(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match=r"not a \.npz model file \(not a zip archive\)$"):
        load_model(path)
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(_save_raw(tmp_path / "ok.npz", **_good_arrays()).read_bytes()[:60])
    with pytest.raises(ModelFileError, match="not a .npz"):
        load_model(truncated)
    with pytest.raises(ModelFileError, match="no such"):
        load_model(tmp_path / "absent.npz")
