"""Expressions of the assembler: tokenizer, parser and evaluator.

Syntax (C precedence, lowest first):  ||  &&  |  ^  &  == != = <>
< <= > >=  << >>  + -  * / %  unary - + ~ ! high low.
Operands: decimal 123 (or 123d), hex 0FFh / $FF / 0xFF, binary
0b1010 / 1010b / %1010, octal 17o / 17q, character 'A' or "A", `$` (the
address of the current instruction) and symbols. Word operators MOD, SHL,
SHR, AND, OR, XOR, NOT, HIGH, LOW are accepted too (case-insensitive).

An expression is parsed once into a nested tuple and cached by its text.
Evaluation returns None when a symbol is not defined yet (first pass); the
caller decides whether that is an error.
"""
from __future__ import annotations

import re

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<hexd>\$[0-9A-Fa-f]+(?![\w]))
  | (?P<pc>\$)
  | (?P<num>[0-9][0-9A-Za-z_]*)
  | (?P<name>[A-Za-z_.@?][\w.@?]*)
  | (?P<op><<|>>|<=|>=|==|!=|<>|&&|\|\||[-+*/%&|^~!()<>=])
""", re.X)

_WORD_OPS = {"mod": "%", "shl": "<<", "shr": ">>", "and": "&", "or": "|",
             "xor": "^", "not": "~", "high": "high", "low": "low",
             "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}

_BINARY = [  # precedence levels, lowest first
    ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!=", "=", "<>"),
    ("<", "<=", ">", ">="), ("<<", ">>"), ("+", "-"), ("*", "/", "%"),
]


_HAS_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")


def _token_text(text: str, pos: int) -> str:
    """The source text of the token at pos (for messages)."""
    m = re.compile(r"%[01]+").match(text, pos) or _TOKEN.match(text, pos)
    return m.group() if m else text[pos:pos + 1]


class ExprError(Exception):
    """A syntax or evaluation error; `offset` is the column within the text."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


def parse_number(text: str) -> int | None:
    """The value of a numeric literal, or None if it is not one."""
    t = text.lower().replace("_", "")
    try:
        if t.startswith("$") and len(t) > 1:
            return int(t[1:], 16)
        if t.startswith("0x"):
            return int(t[2:], 16)
        if t.startswith("%") and len(t) > 1:
            return int(t[1:], 2)
        if t[0].isdigit():
            if t.endswith("h"):
                return int(t[:-1], 16)
            if t.startswith("0b") and len(t) > 2 and set(t[2:]) <= {"0", "1"}:
                return int(t[2:], 2)
            if t.endswith("b") and set(t[:-1]) <= {"0", "1"}:
                return int(t[:-1], 2)
            if t.endswith(("o", "q")):
                return int(t[:-1], 8)
            if t.endswith("d") and t[:-1].isdigit():
                return int(t[:-1])
            return int(t, 10)
    except ValueError:
        return None
    return None


def string_value(quoted: str) -> bytes:
    """The bytes of a quoted string literal ('' or "" doubles the quote)."""
    q = quoted[0]
    try:
        return quoted[1:-1].replace(q + q, q).encode("latin-1")
    except UnicodeEncodeError as e:
        raise ExprError(f"character {quoted[1:-1][e.start]!r} does not fit in a byte "
                        f"(use ASCII or latin-1)", 1 + e.start) from None


def tokenize(text: str):
    """List of (kind, value, offset)."""
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        # %1010 is a number only where an operand is expected (else modulo).
        expect_operand = not out or out[-1][0] == "op" and out[-1][1] != ")"
        if expect_operand and text[pos] == "%" and pos + 1 < n and text[pos + 1] in "01":
            m = re.compile(r"%[01]+").match(text, pos)
            out.append(("num", int(m.group()[1:], 2), pos))
            pos = m.end()
            continue
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos] in "'\"":
                raise ExprError(f"unterminated string (missing closing {text[pos]})", pos)
            raise ExprError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        tok = m.group()
        if kind == "num" or kind == "hexd":
            v = parse_number(tok)
            if v is None:
                raise ExprError(f"bad number {tok!r}", pos)
            out.append(("num", v, pos))
        elif kind == "str":
            b = string_value(tok)
            if len(b) == 0 or len(b) > 2:
                raise ExprError(f"string {tok} in an expression must be 1 or 2 characters", pos)
            v = b[0] if len(b) == 1 else b[0] | (b[1] << 8)
            out.append(("num", v, pos))
        elif kind == "pc":
            out.append(("pc", None, pos))
        elif kind == "name":
            if tok[0] in ".@?" and not _HAS_WORD_CHAR.search(tok):
                # '@', '?', '.' alone are no names (x@1, .loop, ?a are).
                raise ExprError(f"unexpected character {text[pos]!r}", pos)
            w = _WORD_OPS.get(tok.lower())
            if w is not None:
                out.append(("op", w, pos))
            else:
                out.append(("name", tok, pos))
        elif kind == "op":
            out.append(("op", tok, pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", None, len(self.text))

    def parse(self):
        if not self.toks:
            raise ExprError("missing expression", 0)
        node = self.binary(0)
        kind, val, off = self.peek()
        if kind != "end":
            raise ExprError(f"unexpected {_token_text(self.text, off)!r} in expression", off)
        return node

    def binary(self, level):
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            kind, val, off = self.peek()
            if kind == "op" and val in _BINARY[level]:
                self.i += 1
                right = self.binary(level + 1)
                left = ("bin", val, left, right, off)
            else:
                return left

    def unary(self):
        kind, val, off = self.peek()
        if kind == "op" and val in ("-", "+", "~", "!", "high", "low"):
            self.i += 1
            return ("un", val, self.unary(), off)
        return self.atom()

    def atom(self):
        kind, val, off = self.peek()
        self.i += 1
        if kind == "num":
            return ("num", val)
        if kind == "pc":
            return ("pc",)
        if kind == "name":
            return ("sym", val, off)
        if kind == "op" and val == "(":
            node = self.binary(0)
            k2, v2, o2 = self.peek()
            if not (k2 == "op" and v2 == ")"):
                raise ExprError("missing ')'", o2)
            self.i += 1
            return node
        if kind == "end":
            raise ExprError("expression ends too early", off)
        raise ExprError(f"unexpected {_token_text(self.text, off)!r} in expression", off)


_CACHE: dict[str, tuple] = {}


def parse(text: str):
    node = _CACHE.get(text)
    if node is None:
        node = _Parser(text).parse()
        if len(_CACHE) < 200_000:
            _CACHE[text] = node
    return node


def evaluate(node, lookup, pc: int):
    """Value of a parsed expression. `lookup(name, offset)` returns the value
    of a symbol or None if unknown; unknown propagates as None. Symbols are
    looked up left to right.

    The walk uses an explicit stack, not recursion: a long chain such as
    `0+1+1+...` parses into a tree thousands of levels deep."""
    tag = node[0]
    if tag == "num":
        return node[1]
    if tag == "sym":
        return lookup(node[1], node[2])
    if tag == "pc":
        return pc
    todo = [node]     # nodes to visit; a None entry is followed by a node to apply
    vals = []
    push = todo.append
    while todo:
        n = todo.pop()
        if n is None:
            n = todo.pop()
            if n[0] == "un":
                v = vals[-1]
                if v is not None:
                    vals[-1] = _unary(n[1], v)
            else:
                b = vals.pop()
                a = vals[-1]
                vals[-1] = None if a is None or b is None else _binary(n[1], a, b, n[4])
            continue
        tag = n[0]
        if tag == "num":
            vals.append(n[1])
        elif tag == "sym":
            vals.append(lookup(n[1], n[2]))
        elif tag == "pc":
            vals.append(pc)
        elif tag == "un":
            push(n)
            push(None)
            push(n[2])
        else:
            push(n)
            push(None)
            push(n[3])     # right operand visited after the left one
            push(n[2])
    return vals[0]


def _unary(op, v):
    if op == "-":
        return -v
    if op == "+":
        return v
    if op == "~":
        return ~v
    if op == "!":
        return int(v == 0)
    if op == "high":
        return (v >> 8) & 0xFF
    return v & 0xFF


def _binary(op, a, b, off):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise ExprError("division by zero", off)
        q = abs(a) // abs(b)          # truncate toward zero like C
        if (a < 0) != (b < 0):
            q = -q
        return q if op == "/" else a - q * b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "<<":
        return a << b if 0 <= b < 64 else 0
    if op == ">>":
        return a >> b if 0 <= b < 64 else (0 if a >= 0 else -1)
    if op in ("==", "="):
        return int(a == b)
    if op in ("!=", "<>"):
        return int(a != b)
    if op == "<":
        return int(a < b)
    if op == "<=":
        return int(a <= b)
    if op == ">":
        return int(a > b)
    if op == ">=":
        return int(a >= b)
    if op == "&&":
        return int(bool(a) and bool(b))
    if op == "||":
        return int(bool(a) or bool(b))
    raise ExprError(f"unknown operator {op!r}", off)
