"""Data files, datasets, the CLI's data/eval paths and a small training run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.data import DataError, Pair, ceiling, check_charset, load_pairs, parse_lines
from model.datasets import guess, tinychat
from model.reference import IntModel, load_model, save_model

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "model", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_parse_skips_comments_blank_and_reports_malformed():
    warnings = []
    pairs = parse_lines(["# a comment", "", "hi|hi", "no bar here", "  |EMPTY", "q|",
                         "a|b|yes", "ok|" + "X" * 51, "how are you| fine "],
                        "f.txt", warn=warnings.append)
    assert [(p.query, p.answer, p.line) for p in pairs] == [
        ("hi", "HI", 3), ("a|b", "YES", 7), ("how are you", "FINE", 9)]
    assert [w.split(":")[1] for w in warnings] == ["4", "5", "6", "8"]
    assert "no '|'" in warnings[0] and "skipped" in warnings[0]


def test_parse_strict_is_fatal_with_line_number():
    with pytest.raises(DataError, match=r"f.txt:2: no '\|'"):
        parse_lines(["a|b", "broken"], "f.txt", strict=True)


def test_charset_error_names_character_and_line():
    pairs = [Pair("hi", "HI", 1), Pair("yo", "YO~", 5)]
    with pytest.raises(DataError, match=r"d.txt:5: answer character '~'"):
        check_charset(pairs, " HIOY\x00", "d.txt")
    check_charset(pairs[:1], " HI\x00", "d.txt")


def test_ceiling_counts_conflicts():
    pairs = [Pair("hi", "HI"), Pair("HI", "YO"), Pair("hi", "HI"), Pair("bye", "BYE")]
    # "hi" (case-insensitive) has HI twice and YO once: at most 3 of 4 right
    assert ceiling(pairs) == 0.75


def test_load_pairs_errors(tmp_path):
    with pytest.raises(DataError, match="no such data file"):
        load_pairs(tmp_path / "none.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n")
    with pytest.raises(DataError, match="no query"):
        load_pairs(empty)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00hi")
    with pytest.raises(DataError, match="UTF-8"):
        load_pairs(binary)


def test_tinychat_dataset_size_answers_and_determinism():
    rows = tinychat.generate()
    assert len(rows) >= 3000
    answers = {a for _, a in rows}
    assert len(answers) >= 30
    assert all(1 <= len(a.split()) <= 2 for a in answers)
    assert {"HI", "YES", "MAYBE", "WHY?", "R U?", "ME?"} <= answers
    assert rows == tinychat.generate()
    assert ceiling([Pair(q, a) for q, a in rows]) == 1.0   # no query has two answers
    held = tinychat.generate_heldout()
    train_keys = {q.lower() for q, _ in rows}
    assert held and not any(q.lower() in train_keys for q, _ in held)


def test_guess_dataset_consistent_and_topic():
    assert len(guess.ATTRIBUTES) >= 40
    assert all(len(ph) >= 3 for _, ph in guess.ATTRIBUTES.values())
    guess.check_table()
    rows = guess.generate("dog")
    answers = dict((q, a) for q, a in rows)
    assert answers["is it a dog"] == "WIN" and answers["is it a cat"] == "NO"
    assert answers["does it have fur"] == "YES" and answers["does it have wings"] == "NO"
    assert {a for _, a in rows} == {"YES", "NO", "MAYBE", "IDK", "WIN"}
    assert dict(guess.generate("bird"))["does it have wings"] == "YES"
    assert ceiling([Pair(q, a) for q, a in rows]) == 1.0
    with pytest.raises(ValueError, match="unknown topic"):
        guess.generate("unicorn")


def test_cli_data_writes_deterministic_files(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    assert run_cli("data", "guess", "--topic", "car", "-o", a).returncode == 0
    assert run_cli("data", "guess", "--topic", "car", "-o", b).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    assert "is it a car|WIN" in a.read_text()
    bad = run_cli("data", "guess", "--topic", "unicorn", "-o", tmp_path / "c.txt")
    assert bad.returncode == 1 and "unknown topic" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_bad_inputs_give_one_clear_message(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_text("not a model")
    data = tmp_path / "d.txt"
    data.write_text("hi|HI\n")
    for args in (["eval", junk, data], ["eval", tmp_path / "none.npz", data],
                 ["train", tmp_path / "none.txt", "-o", tmp_path / "m.npz"],
                 ["train", data, "-o", tmp_path / "m.npz", "--sparsity", "2"]):
        result = run_cli(*args)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr and result.stderr.strip()


def run_main(capsys, *args):
    """`python -m model` in this process (faster than a subprocess): (status, stdout, stderr)."""
    from model.__main__ import main
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_refuses_bad_training_input_in_one_line_and_keeps_the_files(tmp_path, capsys):
    data = tmp_path / "d.txt"
    data.write_text("hi|HI\nhello|HI\n")
    model = tmp_path / "keep.npz"
    save_model(IntModel([np.zeros((4, 256), np.int8)], [np.zeros(4, np.int16)], [2], "HI\x00", {}),
               model)
    accented = tmp_path / "accent.txt"
    accented.write_text("hi|HI\nsummer|\u00c9T\u00c9\n", encoding="utf-8")
    wide = tmp_path / "wide.txt"
    wide.write_text("".join(f"q{i}|A{chr(33 + i)}\n" for i in range(70)))
    arch = tmp_path / "arch.npz"
    np.savez(arch, fc1_weight=np.zeros((3, 256), np.int8), fc1_bias=np.zeros(3, np.int16),
             _charset=np.frombuffer(b"HI\x00", np.uint8),
             _architecture=np.frombuffer(b'{"hidden_sizes": 5}', np.uint8))
    cases = [
        (["train", tmp_path / "none.txt", "-o", tmp_path / "m.npz"], "no such data file"),
        (["train", accented, "-o", tmp_path / "a.npz"], "accent.txt:2: answer character '\u00c9'"),
        (["train", wide, "-o", tmp_path / "w.npz"], "distinct characters; a model prints at most 63"),
        (["train", data, "-o", tmp_path / "nodir" / "m.npz"], "does not exist"),
        (["train", data, "-o", data], "must be a .npz"),
        (["train", data, "-o", tmp_path / "m.npz", "--hidden-sizes", "300"], "at most 7 hidden layers"),
        (["train", data, "-o", tmp_path / "m.npz", "--lr", "nan"], "expected a number above 0"),
        (["train", data, "-o", tmp_path / "m.npz", "--shifts", "20,2,2"], "shifts must be 0..15"),
        (["train", data, "-o", tmp_path / "m.npz", "--resume"], "no checkpoint to resume from"),
        (["data", "tinychat", "-o", model], "is a model file; not overwriting it"),
        (["data", "guess"], "-o FILE"),
        (["eval", arch, data], "hidden_sizes is 5, expected a list"),
        (["eval", tmp_path, data], "is a folder"),
    ]
    for args, message in cases:
        status, out, err = run_main(capsys, *args)
        assert status not in (0, None), args
        assert message in err, (args, err)
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) <= 3, err      # one line (argparse adds usage)
    assert data.read_text() == "hi|HI\nhello|HI\n"
    assert load_model(model).charset == "HI\x00"
    status, out, _ = run_main(capsys, "data", "guess", "--list-topics")
    assert status == 0 and "cat" in out.split()


def test_training_data_file_named_npz_is_never_the_output(tmp_path, capsys):
    data = tmp_path / "pairs.npz"
    data.write_text("hi|HI\nhello|HI\n")
    status, _, err = run_main(capsys, "train", data, "-o", data)
    assert status == 1 and "is the data file" in err
    assert data.read_text() == "hi|HI\nhello|HI\n"


SMALL = ["hi|HI", "hello|HI", "hey there|HI", "yo|HI", "bye|BYE", "goodbye|BYE", "see you|BYE",
         "later|BYE", "are you a robot|YES", "are you a computer|YES", "are you a bot|YES",
         "are you human|NO", "are you alive|NO", "are you a cat|NO", "will it rain|MAYBE",
         "will i win|MAYBE", "is it true|MAYBE", "do it|WHY?", "go away|WHY?", "obey me|WHY?"]


def test_small_training_run_reaches_accuracy_and_evals(tmp_path):
    from model.reference import generate, load_model
    from model.train import TrainConfig, train
    pairs = parse_lines(SMALL)
    config = TrainConfig(hidden_sizes=[24, 16], epochs=80, sparsity=0.5, seed=3, holdout=0.0,
                         context_sparsity=None, batch_size=16, lr=0.02, quant_ramp=0.4)
    out = tmp_path / "small.npz"
    model, scores = train(pairs, config, out, log=lambda s: None)
    assert scores.exact >= 0.95           # measured with the exact integer reference
    loaded = load_model(out)
    assert all(generate(loaded, p.query) == p.answer for p in pairs) == (scores.exact == 1.0)
    zero = sum(int((w == 0).sum()) for w in loaded.weights) / sum(w.size for w in loaded.weights)
    assert 0.45 <= zero <= 0.6
    data = tmp_path / "small.txt"
    data.write_text("\n".join(SMALL) + "\n")
    result = run_cli("eval", out, data, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["exact"] == scores.exact and figures["ceiling"] == 1.0
    assert figures["effective_macs"]["mean_per_step"] > 0


def test_training_is_deterministic_for_a_seed(tmp_path):
    from model.train import TrainConfig, train
    pairs = parse_lines(SMALL[:8])
    config = TrainConfig(hidden_sizes=[12], epochs=6, sparsity=0.5, seed=5, holdout=0.0)
    m1, _ = train(pairs, config, tmp_path / "a.npz", log=lambda s: None)
    m2, _ = train(pairs, config, tmp_path / "b.npz", log=lambda s: None)
    for a, b in zip(m1.weights + m1.biases, m2.weights + m2.biases):
        assert np.array_equal(a, b)


def test_interrupt_saves_model_and_resume_continues_exactly(tmp_path):
    from model.reference import load_model
    from model.train import TrainConfig, TrainingInterrupted, checkpoint_path, train
    pairs = parse_lines(SMALL[:8])
    config = TrainConfig(hidden_sizes=[12], epochs=6, sparsity=0.5, seed=2, holdout=0.0,
                         batch_size=8)

    def ctrl_c_at_epoch_3(line):
        if line.startswith("epoch   3/"):
            raise KeyboardInterrupt

    out = tmp_path / "m.npz"
    with pytest.raises(TrainingInterrupted):
        train(pairs, config, out, log=ctrl_c_at_epoch_3)
    assert load_model(out).hidden_sizes == [12]          # Ctrl-C still leaves a model
    train(pairs, config, out, resume=True, log=lambda s: None)
    straight = tmp_path / "s.npz"
    train(pairs, config, straight, log=lambda s: None)
    with np.load(checkpoint_path(out)) as a, np.load(checkpoint_path(straight)) as b:
        for key in a.files:
            if key != "_meta":
                assert np.array_equal(a[key], b[key]), key
    # the best model survives the resume: the same one an uninterrupted run keeps
    resumed, whole = load_model(out), load_model(straight)
    assert all(np.array_equal(a, b) for a, b in zip(resumed.weights, whole.weights))


def test_resuming_a_finished_run_keeps_its_best_model(tmp_path):
    from model.reference import load_model
    from model.train import TrainConfig, train
    pairs = parse_lines(SMALL[:8])
    config = TrainConfig(hidden_sizes=[12], epochs=5, sparsity=0.5, seed=3, batch_size=8)
    out = tmp_path / "m.npz"
    _, first = train(pairs, config, out, log=lambda s: None)
    before = load_model(out)
    _, again = train(pairs, config, out, resume=True, log=lambda s: None)
    after = load_model(out)
    assert again.exact == first.exact
    assert all(np.array_equal(a, b) for a, b in zip(before.weights, after.weights))


def test_bad_checkpoints_are_one_clear_error(tmp_path):
    from model.train import CheckpointError, TrainConfig, checkpoint_path, train
    pairs = parse_lines(SMALL[:8])
    out = tmp_path / "m.npz"
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        train(pairs, TrainConfig(hidden_sizes=[12], epochs=2), out, resume=True, log=lambda s: None)
    train(pairs, TrainConfig(hidden_sizes=[12], epochs=2, batch_size=8), out, log=lambda s: None)
    with pytest.raises(CheckpointError, match="another architecture"):
        train(pairs, TrainConfig(hidden_sizes=[10], epochs=3), out, resume=True, log=lambda s: None)
    ckpt = checkpoint_path(out)
    from model.reference import ModelFileError
    with pytest.raises(ModelFileError, match="a training checkpoint, not a model"):
        load_model(ckpt)
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        train(pairs, TrainConfig(hidden_sizes=[12], epochs=3), out, resume=True, log=lambda s: None)


def test_layer1_context_columns_get_their_own_sparsity(tmp_path):
    from model.train import TrainConfig, train
    pairs = parse_lines(SMALL[:8])
    config = TrainConfig(hidden_sizes=[16], epochs=3, sparsity=0.5, query_sparsity=0.25,
                         context_sparsity=0.9, holdout=0.0, batch_size=8, sparsity_mode="quantile")
    model, _ = train(pairs, config, tmp_path / "m.npz", log=lambda s: None)
    w1 = model.weights[0]
    # a target is a floor: latents below 0.5 round to zero anyway
    assert (w1[:, :128] == 0).mean() >= 0.25 - 0.01
    assert abs((w1[:, 128:] == 0).mean() - 0.9) < 0.02
    assert abs((model.weights[1] == 0).mean() - 0.5) < 0.05
