"""The chat program's console behaviour: prompts, empty lines, exits, tail mode."""
from __future__ import annotations

import pytest

from model.build import build
from model.reference import generate, load_model
from model.verify import run_program
from test_engine_support import save_random


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat")
    npz = save_random(root / "c.npz", [32, 24], seed=31)
    com = root / "C.COM"
    build(npz, com, log=lambda _m: None)
    return npz, com, load_model(npz)


def test_empty_line_reprompts_and_bang_exits(chat):
    npz, com, model = chat
    out, res, ver = run_program(com, lines=[b"", b"hi", b"!", b"never read"], model_path=npz)
    assert res.exit_status == 0 and res.message == ""      # a clean warm boot, not end of input
    body = out.split(b"\r\n", 1)[1]
    assert body == b"> \r\n> hi\r\n" + generate(model, b"hi").encode() + b"\r\n> !\r\n"
    assert ver.answers == 1


def test_ctrl_z_line_exits(chat):
    npz, com, _ = chat
    out, res, _ = run_program(com, lines=[b"\x1a", b"never read"])
    assert res.exit_status == 0 and res.message == ""
    assert out.endswith(b"> \x1a\r\n") or out.endswith(b"> ^Z\r\n") or out.endswith(b"> \r\n")


def test_bang_inside_a_longer_line_is_a_query(chat):
    npz, com, model = chat
    out, res, ver = run_program(com, lines=[b"!!", b"! x"], model_path=npz)
    assert ver.answers == 2 and res.exit_status == 0


def test_command_tail_answers_once_and_exits(chat):
    npz, com, model = chat
    out, res, ver = run_program(com, args=["What", "is", "it?"], model_path=npz)
    assert res.exit_status == 0 and res.message == ""
    assert out == generate(model, b" WHAT IS IT?").encode() + b"\r\n"
    assert ver.answers == 1


def test_blank_command_tail_starts_the_chat(chat):
    npz, com, _ = chat
    out, res, _ = run_program(com, args=["   "], lines=[b"!"])
    assert out.split(b"\r\n", 1)[1] == b"> !\r\n"


def test_long_line_is_cut_at_the_buffer_size(chat):
    npz, com, model = chat
    line = b"abc " * 80                                        # 320 > 200-byte buffer
    out, res, ver = run_program(com, lines=[line], model_path=npz)
    assert ver.answers == 1 and res.exit_status == 0
    assert generate(model, line[:200]).encode() in out
