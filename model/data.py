"""Training data: `query|answer` text files.

Owns: parsing (blank lines and # comments skipped, malformed lines reported
with their line number and skipped, or fatal in strict mode), the charset
check of answers, and the ceiling of exact accuracy when the same query has
conflicting answers.  Does not know about models or training.
"""
from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from model.encode import EOS, MAX_CHARSET, build_charset

MAX_ANSWER = 50


class DataError(Exception):
    """Data that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Pair:
    query: str
    answer: str          # upper case, as the model prints it
    line: int = 0


def parse_lines(lines: Iterable[str], source: str = "<data>", strict: bool = False,
                warn: Callable[[str], None] | None = None) -> list[Pair]:
    """Parse `query|answer` lines.  The answer is after the last '|'."""
    warn = warn or (lambda msg: print(msg, file=sys.stderr))
    pairs = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        problem = None
        if "|" not in line:
            problem = "no '|' between query and answer"
        else:
            query, answer = line.rsplit("|", 1)
            answer = answer.strip().upper()
            if not query.strip():
                problem = "empty query"
            elif not answer:
                problem = "empty answer"
            elif len(answer) > MAX_ANSWER:
                problem = f"answer longer than {MAX_ANSWER} characters"
            elif EOS in answer or EOS in query:
                problem = "NUL character in the line"
        if problem:
            message = f"{source}:{number}: {problem}: {line[:60]!r}"
            if strict:
                raise DataError(message)
            warn(message + " (skipped)")
            continue
        pairs.append(Pair(query.strip(), answer, number))
    return pairs


def load_pairs(path: str | Path, strict: bool = False,
               warn: Callable[[str], None] | None = None) -> list[Pair]:
    """Read a data file; DataError if it cannot be read or holds no pairs."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such data file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as UTF-8 text ({exc})") from None
    pairs = parse_lines(text.splitlines(), str(path), strict, warn)
    if not pairs:
        raise DataError(f"{path}: no query|answer pairs found")
    return pairs


def check_charset(pairs: Sequence[Pair], charset: str, source: str = "<data>") -> None:
    """DataError naming the first answer character the model cannot print."""
    allowed = set(charset[:-1])
    for pair in pairs:
        for ch in pair.answer:
            if ch not in allowed:
                raise DataError(f"{source}:{pair.line}: answer character {ch!r} is not in the "
                                f"model's charset {charset[:-1]!r}")


def check_trainable(pairs: Sequence[Pair], source: str = "<data>") -> str:
    """The charset a model trained on these pairs gets; DataError naming the
    first answer character a model cannot print, or too many distinct ones.
    (Query characters outside Latin-1 reach the model as '?', as on the Z80.)"""
    for pair in pairs:
        for ch in pair.answer:
            if not 32 <= ord(ch) < 127:
                raise DataError(f"{source}:{pair.line}: answer character {ch!r} is not printable "
                                "ASCII, which is all a model can print")
    charset = build_charset(p.answer for p in pairs)
    if len(charset) > MAX_CHARSET:
        raise DataError(f"{source}: the answers use {len(charset) - 1} distinct characters; a model "
                        f"prints at most {MAX_CHARSET - 1} (fewer punctuation marks, or fold "
                        "digits into words)")
    return charset


def data_topic(path: str | Path) -> str | None:
    """The secret object a 20 Questions data file names in its header
    (`# 20 Questions, secret object: cat ...`, as `python -m model data guess` writes)."""
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as fh:
            head = "".join(line for _, line in zip(range(5), fh) if line.startswith("#"))
    except OSError:
        return None
    m = re.search(r"secret object: *([\w -]+?) *[(\n]", head)
    return m.group(1) if m else None


def query_key(query: str) -> str:
    """Queries that encode identically (case of ASCII letters, leading spaces)."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in query.lstrip(" "))


def ceiling(pairs: Sequence[Pair]) -> float:
    """Best exact accuracy any deterministic model can reach: per distinct
    query, only its most frequent answer can be right."""
    answers: dict[str, Counter] = defaultdict(Counter)
    for pair in pairs:
        answers[query_key(pair.query)][pair.answer] += 1
    best = sum(counter.most_common(1)[0][1] for counter in answers.values())
    return best / len(pairs) if pairs else 0.0


def write_pairs(pairs: Iterable[tuple[str, str]], path: str | Path, header: str = "") -> int:
    """Write pairs as `query|answer` lines; returns how many."""
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    count = 0
    for query, answer in pairs:
        lines.append(f"{query}|{answer}")
        count += 1
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count
