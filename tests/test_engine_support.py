"""Helpers shared by the engine and equivalence tests (no tests of its own here)."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from model.reference import IntModel, generate_batch, save_model

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ      ?!.,'-:;\"()"
OVER_TEXT = "20 questions and no WIN. I was thinking of: "


def random_model(sizes, density=0.3, seed=0, shifts=None, bias_range=60, classes=None) -> IntModel:
    """A model with random 2-bit weights; sizes are the layer widths after the 256 inputs."""
    rng = np.random.default_rng(seed)
    weights, biases, inp = [], [], 256
    p = [density / 4, density / 4, 1 - density, density / 2]
    for out in sizes:
        weights.append(rng.choice([-2, -1, 0, 1], size=(out, inp), p=p).astype(np.int8))
        biases.append(rng.integers(-bias_range, bias_range, out, endpoint=True).astype(np.int16))
        inp = out
    letters = " ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?!'.,"
    n = classes or sizes[-1]
    charset = (letters * 2)[:n - 1] + "\x00"
    return IntModel(weights, biases, list(shifts or [2] * len(sizes)), charset, {})


def save_random(path: Path, *args, **kwargs) -> Path:
    save_model(random_model(*args, **kwargs), path)
    return path


def random_queries(count: int, seed: int, max_len: int = 62) -> list[bytes]:
    """Random letters, spaces and punctuation, lengths 0..max_len, mixed case."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, max_len)))
        if text != "!":
            out.append(text.encode())
    return out


def chat_transcript(model, queries: list[bytes], topic: str | None = None) -> bytes:
    """The exact console output of a chat session after its banner line."""
    answers = dict(zip(queries, generate_batch(model, queries)))
    out = bytearray()
    qnum = 0
    for line in queries:
        out += (f"{qnum + 1}> " if topic else "> ").encode() + line + b"\r\n"
        if not line:
            continue
        if line == b"!" or line[:1] == b"\x1a":
            return bytes(out)
        qnum += 1
        answer = answers[line]
        out += answer.encode() + b"\r\n"
        if topic:
            if "WIN" in answer:
                qnum = 0
            elif qnum >= 20:
                out += (OVER_TEXT + topic.upper() + "\r\n").encode()
                qnum = 0
    out += (f"{qnum + 1}> " if topic else "> ").encode()
    return bytes(out)


def strip_banner(output: bytes) -> bytes:
    head, sep, rest = output.partition(b"\r\n")
    assert sep, f"no banner line in {output[:80]!r}"
    return rest


def shipped_topic(npz: Path) -> str | None:
    from model.build import rom_topic
    return rom_topic(npz)
