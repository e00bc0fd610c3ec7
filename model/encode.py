"""Charset and input encoders of the integer model (../shared/spec/MODEL.md).

Owns: building a charset from training answers, the 128-bucket query encoding
(inputs 0..127), the 128-bucket context encoding (inputs 128..255), and batch
versions of both that the reference and the trainer use.  Knows nothing of
layers or weights (see model.reference).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

EOS = "\x00"
QUERY_BUCKETS = 128
CONTEXT_BUCKETS = 128
INPUT_SIZE = QUERY_BUCKETS + CONTEXT_BUCKETS
CONTEXT_LEN = 8
BUCKET_STEP = 32          # every hashed n-gram adds this much to its bucket
MAX_CHARSET = 64          # the engine prints one byte per class


def _to_bytes(text: str | bytes) -> bytes:
    if isinstance(text, bytes):
        return text
    # The Z80 sees bytes from the console; anything outside Latin-1 becomes '?'.
    return text.encode("latin-1", errors="replace")


def _lower_ascii(data: bytes) -> bytes:
    """Map ASCII 'A'..'Z' to lower case; no other byte changes."""
    return bytes(c + 32 if 65 <= c <= 90 else c for c in data)


def build_charset(answers: Iterable[str]) -> str:
    """Charset from training answers (upper-cased): space, letters, digits,
    other punctuation (each group sorted), then EOS last."""
    chars = set()
    for answer in answers:
        chars.update(answer.upper())
    chars.discard(EOS)
    for ch in chars:
        if not (32 <= ord(ch) < 127):
            raise ValueError(f"character {ch!r} is not printable ASCII and cannot be a model output")
    letters = sorted(c for c in chars if c.isalpha())
    digits = sorted(c for c in chars if c.isdigit())
    other = sorted(c for c in chars if c != " " and not c.isalnum())
    # space always comes first, even if no answer has one (MODEL.md order)
    return " " + "".join(letters + digits + other) + EOS


def query_hashes(text: str | bytes) -> list[int]:
    """Bucket index (0..127) of every trigram of the query, in order."""
    data = _lower_ascii(_to_bytes(text).lstrip(b" "))
    if not data:
        return []
    padded = b" " + data + b" "
    buckets = []
    for i in range(len(padded) - 2):
        h = 0
        for c in padded[i:i + 3]:
            h = (h * 31 + c) & 0xFFFF
        buckets.append(h & 127)
    return buckets


def encode_query(text: str | bytes) -> np.ndarray:
    """The 128 query inputs (int16): +32 per trigram in its hash bucket."""
    vec = np.zeros(QUERY_BUCKETS, dtype=np.int64)
    for bucket in query_hashes(text):
        vec[bucket] += BUCKET_STEP
    return _wrap16(vec)


def encode_query_batch(texts: Sequence[str | bytes]) -> np.ndarray:
    """encode_query for many queries: int16 [N, 128]."""
    out = np.zeros((len(texts), QUERY_BUCKETS), dtype=np.int64)
    for row, text in enumerate(texts):
        for bucket in query_hashes(text):
            out[row, bucket] += BUCKET_STEP
    return _wrap16(out)


def context_bytes(emitted: str | bytes) -> bytes:
    """Last 8 emitted characters, lower-cased, left-padded with spaces."""
    data = _lower_ascii(_to_bytes(emitted))[-CONTEXT_LEN:]
    return b" " * (CONTEXT_LEN - len(data)) + data


# (start, length) of the 21 context n-grams, in the order of MODEL.md
_CONTEXT_NGRAMS = [(i, n) for n in (1, 2, 3) for i in range(CONTEXT_LEN - n + 1)]


def context_hashes(emitted: str | bytes) -> list[int]:
    """Bucket index (0..127, relative to input 128) of the 21 context n-grams."""
    ctx = context_bytes(emitted)
    buckets = []
    for i, n in _CONTEXT_NGRAMS:
        h = i * 7
        for c in ctx[i:i + n]:
            h = (h * 31 + c) & 0xFFFF
        buckets.append(h & 127)
    return buckets


def encode_context(emitted: str | bytes) -> np.ndarray:
    """The 128 context inputs (int16) for the characters emitted so far."""
    vec = np.zeros(CONTEXT_BUCKETS, dtype=np.int64)
    for bucket in context_hashes(emitted):
        vec[bucket] += BUCKET_STEP
    return _wrap16(vec)


def context_array(emitted_list: Sequence[str | bytes]) -> np.ndarray:
    """uint8 [N, 8] context windows (see context_bytes)."""
    out = np.empty((len(emitted_list), CONTEXT_LEN), dtype=np.uint8)
    for row, emitted in enumerate(emitted_list):
        out[row] = np.frombuffer(context_bytes(emitted), dtype=np.uint8)
    return out


def encode_context_windows(windows: np.ndarray) -> np.ndarray:
    """Vectorised context encoding of uint8 [N, 8] windows -> int16 [N, 128]."""
    ctx = windows.astype(np.int64)
    n_rows = ctx.shape[0]
    out = np.zeros((n_rows, CONTEXT_BUCKETS), dtype=np.int64)
    rows = np.arange(n_rows)
    for i, n in _CONTEXT_NGRAMS:
        h = np.full(n_rows, i * 7, dtype=np.int64)
        for k in range(n):
            h = (h * 31 + ctx[:, i + k]) & 0xFFFF
        np.add.at(out, (rows, h & 127), BUCKET_STEP)
    return _wrap16(out)


def encode_context_batch(emitted_list: Sequence[str | bytes]) -> np.ndarray:
    """encode_context for many contexts: int16 [N, 128]."""
    return encode_context_windows(context_array(emitted_list))


def shift_window(windows: np.ndarray, chars: np.ndarray) -> np.ndarray:
    """Append one character code per row to uint8 [N, 8] windows (lower-cased)."""
    codes = chars.astype(np.int64)
    codes = np.where((codes >= 65) & (codes <= 90), codes + 32, codes)
    return np.concatenate([windows[:, 1:], codes[:, None].astype(np.uint8)], axis=1)


def encode_input(query: str | bytes, emitted: str | bytes = "") -> np.ndarray:
    """The full 256-input vector (int16) of one step."""
    return np.concatenate([encode_query(query), encode_context(emitted)])


def _wrap16(values: np.ndarray) -> np.ndarray:
    return (((values + 0x8000) & 0xFFFF) - 0x8000).astype(np.int16)
