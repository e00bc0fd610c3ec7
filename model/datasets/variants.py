"""Deterministic phrasing variants for the dataset generators: typos, filler
words, punctuation and word-order changes of hand-written phrasings."""
from __future__ import annotations

import random

KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh",
    "h": "gj", "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm",
    "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi",
    "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}

SHORTHAND = {
    "you": "u", "are": "r", "your": "ur", "you're": "ur", "to": "2", "for": "4",
    "why": "y", "please": "pls", "what": "wat", "thanks": "thx", "okay": "ok",
    "really": "rly", "people": "ppl", "because": "cuz", "tonight": "2nite",
}


def typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: drop, double, swap or mistype a letter."""
    positions = [i for i, c in enumerate(text) if c.isalpha()]
    if len(positions) < 3:
        return text
    i = rng.choice(positions)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    near = KEYBOARD_NEIGHBOURS.get(text[i].lower(), text[i])
    return text[:i] + rng.choice(near) + text[i + 1:]


def shorthand(text: str) -> str:
    return " ".join(SHORTHAND.get(w, w) for w in text.split())


def rotate_words(text: str, rng: random.Random) -> str:
    """A different word order: move a word (or the tail) to the front."""
    words = text.split()
    if len(words) < 3:
        return " ".join(reversed(words))
    cut = rng.randrange(1, len(words))
    return " ".join(words[cut:] + words[:cut])


def punctuate(text: str, rng: random.Random) -> str:
    return text + rng.choice(["?", "!", ".", "??", "!!", " ?", "...", ""])


def case_style(text: str, rng: random.Random) -> str:
    """Case does not change the encoding of letters; kept for realistic data."""
    style = rng.randrange(3)
    if style == 0:
        return text.upper()
    if style == 1:
        return text[:1].upper() + text[1:]
    return text


def variants(phrasings: list[str], rng: random.Random, count: int,
             prefixes: list[str], suffixes: list[str], reorder: bool = True) -> list[str]:
    """Up to `count` distinct (lower-case-distinct) variants of the phrasings,
    always starting with the phrasings themselves."""
    seen: dict[str, str] = {}

    def add(text: str) -> None:
        text = " ".join(text.split())
        if text and text.lower() not in seen:
            seen[text.lower()] = text

    for p in phrasings:
        add(p)
        add(punctuate(p, rng))
    attempts = 0
    while len(seen) < count and attempts < count * 20:
        attempts += 1
        text = rng.choice(phrasings)
        roll = rng.random()
        if roll < 0.25:
            text = rng.choice(prefixes) + " " + text
        elif roll < 0.4:
            text = text + " " + rng.choice(suffixes)
        if rng.random() < 0.3:
            text = shorthand(text)
        if reorder and rng.random() < 0.12:
            text = rotate_words(text, rng)
        if rng.random() < 0.35:
            text = typo(text, rng)
        if rng.random() < 0.1:
            text = typo(text, rng)
        text = punctuate(text, rng)
        add(case_style(text, rng))
    return list(seen.values())[:count]
