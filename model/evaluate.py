"""Accuracy of an integer model on query|answer pairs, measured with the exact
reference (model.reference), never a float model.

- exact: the greedy response equals the answer.
- per_char: teacher-forced next-character accuracy over every step of every
  answer, EOS included (what fraction of single decisions are right).
- ceiling: the best exact accuracy possible when one query has several answers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from model.data import Pair, ceiling
from model.encode import (CONTEXT_LEN, EOS, context_bytes, encode_context_windows,
                          encode_query_batch)
from model.reference import IntModel, forward, generate_batch, int_matmul, layer


@dataclass
class Scores:
    pairs: int
    exact: float
    per_char: float
    ceiling: float
    of_ceiling: float      # exact / ceiling
    overflow_steps: float  # fraction of teacher-forced steps with an int16 wrap

    def line(self) -> str:
        return (f"exact {self.exact:.2%} (ceiling {self.ceiling:.2%}, {self.of_ceiling:.1%} of it), "
                f"per-char {self.per_char:.2%}, {self.pairs} pairs")

    def as_dict(self) -> dict:
        return asdict(self)


def step_inputs(pairs: Sequence[Pair], charset: str) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-forced inputs int16 [S, 256] and target classes [S] of every step."""
    index = {c: i for i, c in enumerate(charset)}
    queries = encode_query_batch([p.query for p in pairs])
    rows, windows, targets = [], [], []
    for row, pair in enumerate(pairs):
        text = pair.answer
        for t in range(len(text) + 1):
            rows.append(row)
            windows.append(np.frombuffer(context_bytes(text[:t]), dtype=np.uint8))
            targets.append(index[text[t]] if t < len(text) else index[EOS])
    ctx = encode_context_windows(np.stack(windows).reshape(-1, CONTEXT_LEN))
    inputs = np.concatenate([queries[np.asarray(rows)], ctx], axis=1)
    return inputs, np.asarray(targets, dtype=np.int64)


def overflow_mask(model: IntModel, inputs: np.ndarray) -> np.ndarray:
    """Rows whose accumulators wrap around int16 in some layer."""
    x = inputs.astype(np.int64)
    hit = np.zeros(len(x), dtype=bool)
    for k in range(len(model.weights)):
        raw = model.biases[k].astype(np.int64) + int_matmul(x, model.weights[k])
        hit |= ((raw < -32768) | (raw > 32767)).any(axis=1)
        _, x = layer(model, k, x)
    return hit


def evaluate(model: IntModel, pairs: Sequence[Pair],
             inputs_targets: tuple[np.ndarray, np.ndarray] | None = None) -> Scores:
    if not pairs:
        return Scores(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    responses = generate_batch(model, [p.query for p in pairs])
    exact = float(np.mean([r == p.answer for r, p in zip(responses, pairs)]))
    inputs, targets = inputs_targets or step_inputs(pairs, model.charset)
    chosen = np.argmax(forward(model, inputs), axis=1)
    per_char = float(np.mean(chosen == targets))
    overflow = float(np.mean(overflow_mask(model, inputs)))
    top = ceiling(pairs)
    return Scores(len(pairs), exact, per_char, top, exact / top if top else 0.0, overflow)
