"""Two-pass Z80 assembler (Zilog syntax) producing a binary, a listing and a
symbol table. The instruction set comes from z80emu.opcodes; this module
owns the source syntax only.

Syntax summary (see z80emu/asm/README.md for the full list):
  label:   ld a,(ix+5)   ; comment        labels end with ':' (or start in
  .loop:   djnz .loop                      column 1 without ':')
  NAME equ 10  /  NAME = 10 (redefinable)  org, db/defb/defm, dw/defw,
  ds/defs n[,fill], align n[,fill], include "f", incbin "f"[,off[,len]],
  if/ifdef/ifndef/else/endif, rept n/endr, name macro a,b / endm, local,
  proc/endp, end.
Mnemonics, registers and directives are case-insensitive; symbols are
case-sensitive (as in pasmo without --nocase). A label starting with '.'
is local to the previous global label and is stored as 'global.local'.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

from z80emu.opcodes import ALIASES, BY_MNEMONIC, Opcode
from . import expr as X


class AsmError(Exception):
    """An assembly error at a source position; str() is
    'file:line:col: error: message' (line and column 1-based)."""

    def __init__(self, message: str, filename: str = "<source>", line: int = 0,
                 col: int = 0):
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.line = line
        self.col = col
        self._base = message
        self._calls: list[str] = []
        self._site = (filename, line)   # where the latest frame of the error is

    def note_macro_call(self, name, body, call) -> None:
        """Add '(in macro NAME called at FILE:LINE)' when the error lies in
        this macro's body (directly or through a macro called from it)."""
        if self._site not in {(s.filename, s.line) for s in body}:
            return
        self._calls.append(f"in macro {name!r} called at {call.filename}:{call.line}")
        self._site = (call.filename, call.line)
        self.message = f"{self._base} ({', '.join(self._calls)})"
        self.args = (self.message,)

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: error: {self.message}"


# ---------------------------------------------------------------- operands

REGISTERS = {"a", "b", "c", "d", "e", "h", "l", "i", "r", "f", "af", "af'",
             "bc", "de", "hl", "sp", "ix", "iy", "ixh", "ixl", "iyh", "iyl"}
REG_ALIASES = {"xh": "ixh", "xl": "ixl", "yh": "iyh", "yl": "iyl",
               "hx": "ixh", "lx": "ixl", "hy": "iyh", "ly": "iyl"}
CONDITIONS = {"nz", "z", "nc", "c", "po", "pe", "p", "m"}
RESERVED = REGISTERS | CONDITIONS | set(REG_ALIASES)
_INDIRECT_REGS = {"bc", "de", "hl", "sp", "c", "ix", "iy"}
_INDEX_RE = re.compile(r"\(\s*(ix|iy)\s*([-+].*)?\)\s*$", re.I | re.S)

_IMM = "IMM"     # kind of 'n', 'nn', 'rel' and fixed-number templates
_IND = "IND"     # kind of '(n)' and '(nn)'


def _template_kind(t):
    if isinstance(t, int) or t in ("n", "nn", "rel"):
        return _IMM
    if t in ("(n)", "(nn)"):
        return _IND
    return t


# (mnemonic, kinds) -> candidate Opcodes, built once.
_INDEX: dict[tuple, list[Opcode]] = {}
for _mn, _ops in BY_MNEMONIC.items():
    for _o in _ops:
        _INDEX.setdefault((_mn, tuple(_template_kind(t) for t in _o.operands)),
                          []).append(_o)
_MNEMONICS = set(BY_MNEMONIC) | set(ALIASES)

DIRECTIVES = {"org", "equ", "defl", "db", "defb", "defm", "byte", "dm", "dw",
              "defw", "word", "ds", "defs", "block", "rmem", "include",
              "incbin", "binary", "align", "if", "ifdef", "ifndef", "else",
              "endif", "rept", "endr", "macro", "endm", "local", "proc",
              "endp", "end", "exitm", "public", "irp"}


@dataclass
class Operand:
    kinds: tuple           # alternative kinds: register names, '(ix+d)', IMM, IND
    expr: object = None    # parsed expression (None for plain registers)
    col: int = 0           # 0-based column in the source line
    text: str = ""


@dataclass
class ListingLine:
    filename: str
    line: int
    address: int | None
    data: bytes
    timing: str
    source: str


@dataclass
class AsmResult:
    binary: bytes
    origin: int
    symbols: dict
    lines: list = field(default_factory=list)   # ListingLine records

    def listing_text(self) -> str:
        """One row per source line: line number, address, up to 4 bytes
        (more bytes continue on following rows), T-states, source text."""
        out = []
        for ln in self.lines:
            addr = f"{ln.address:04X}" if ln.address is not None else "    "
            data = ln.data
            first = " ".join(f"{b:02X}" for b in data[:4])
            out.append(f"{ln.line:5d}  {addr}  {first:<11}  {ln.timing:<5}  {ln.source}".rstrip())
            for k in range(4, len(data), 4):
                more = " ".join(f"{b:02X}" for b in data[k:k + 4])
                out.append(f"{'':5}  {(ln.address + k) & 0xFFFF:04X}  {more}")
        return "\n".join(out) + "\n"

    def symbol_text(self) -> str:
        """'NAME EQU 1234H' lines sorted by value then name."""
        rows = []
        for name, v in sorted(self.symbols.items(),
                                key=lambda kv: (kv[1] & 0xFFFF if -0x8000 <= kv[1] < 0
                                                else kv[1], kv[0])):
            rows.append(f"{name} EQU {_hex_literal(v)}")
        return "\n".join(rows) + ("\n" if rows else "")


def _hex_literal(v: int) -> str:
    if -0x8000 <= v < 0:
        v &= 0xFFFF
    s = f"{v:04X}" if v >= 0 else f"-{-v:04X}"
    if s[0].isalpha():
        s = "0" + s
    return s + "H"


# ---------------------------------------------------------------- lexing

def _strip_comment(text: str) -> str:
    """Text before a ';' that is not inside a string. An apostrophe right
    after 'af' is the alternate register set, not a quote."""
    if "'" not in text and '"' not in text:
        i = text.find(";")
        return text if i < 0 else text[:i]
    quote = None
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch == ";":
            return text[:i]
        elif ch in "'\"":
            if ch == "'" and i >= 2 and text[i - 2:i].lower() == "af" and \
                    (i == 2 or not (text[i - 3].isalnum() or text[i - 3] in "_.")):
                pass
            else:
                quote = ch
        i += 1
    return text


def _split_operands(text: str, base: int):
    """Split at top-level commas: list of (piece, column) with the piece
    stripped and column 0-based in the line."""
    if "(" not in text and "'" not in text and '"' not in text:
        # Fast path for plain lists such as generated 'db' tables.
        res = []
        start = 0
        for piece in text.split(","):
            lead = len(piece) - len(piece.lstrip())
            res.append((piece.strip(), base + start + lead))
            start += len(piece) + 1
        if len(res) == 1 and res[0][0] == "":
            return []
        return res
    out = []
    depth = 0
    quote = None
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            if ch == "'" and i >= 2 and text[i - 2:i].lower() == "af" and \
                    (i == 2 or not (text[i - 3].isalnum() or text[i - 3] in "_.")):
                continue
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append((text[start:i], start))
            start = i + 1
    out.append((text[start:], start))
    res = []
    for piece, s in out:
        lead = len(piece) - len(piece.lstrip())
        res.append((piece.strip(), base + s + lead))
    if len(res) == 1 and res[0][0] == "":
        return []
    return res


def _fully_parenthesized(t: str) -> bool:
    if not (t.startswith("(") and t.endswith(")")):
        return False
    depth = 0
    quote = None
    for i, ch in enumerate(t):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(t) - 1:
                return False
    return True


_LABEL_RE = re.compile(r"([A-Za-z_.@?][\w.@?]*)(::?)")
_WORD_RE = re.compile(r"[A-Za-z_.@?][\w.@?']*")


# ---------------------------------------------------------------- assembler

class _Stop(Exception):
    """`end` directive reached."""


class _Need(Exception):
    """While resolving an equ on demand: its expression needs the pending
    equ `name` first."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


@dataclass
class _Pending:
    """An equ whose value was unknown where it stands (it uses a symbol
    defined further down): what is needed to evaluate it from elsewhere."""
    node: tuple
    src: "_Src"
    col: int
    pc: int
    ctx: tuple          # (global label, scopes) for qualifying its names


@dataclass
class _Src:
    text: str
    filename: str
    line: int


class _Assembler:
    def __init__(self, include_paths):
        self.include_paths = [Path(p) for p in include_paths]
        self.symbols: dict[str, int] = {}
        self.pass1_symbols: dict[str, int] = {}
        self.redefinable: set[str] = set()
        self.macros: dict[str, tuple] = {}
        self.unresolved = self.missing = self.unstable = False
        # Symbols read before their definition in this pass -> the value
        # read (from the previous pass); a pass is final only if they all
        # kept that value.
        self.forward_reads: dict[str, int] = {}
        # Equates still unknown at their line, kept over passes: a use of
        # one evaluates it (and the equates it needs) on the spot, so a
        # chain of forward equates settles in one pass, not one per level.
        self.pending: dict[str, _Pending] = {}
        self.include_depth = 0
        self.macro_depth = 0

    # ---- errors
    def err(self, msg, src: _Src, col=0):
        return AsmError(msg, src.filename, src.line, col + 1)

    # ---- one pass over the whole source
    def run_pass(self, pass_no, lines):
        self.pass_no = pass_no
        self.pc = 0
        self.global_label = ""
        self.scopes: list[dict] = []
        self.unique = 0
        self.mem = bytearray(65536)
        self.used = bytearray(65536)
        self.lo, self.hi = 0x10000, -1
        self.listing: list[ListingLine] = []
        self.defined_this_pass: set[str] = set()
        self.resolving: list[str] = []      # equates being evaluated, outermost first
        self.on_demand: dict[str, int] = {}  # pending equates resolved in this pass
        self.done: dict = {}
        self.macros = {}
        self.cond: list[list] = []   # [active, seen_true, in_else, if-line]
        try:
            self.process(iter(lines))
        except _Stop:
            pass
        if self.cond:
            src = self.cond[-1][3]
            raise AsmError("'if' without 'endif'", src.filename, src.line, 1)

    def active(self):
        return all(c[0] for c in self.cond)

    def process(self, it):
        for src in it:
            self.statement(src, it)

    # ---- symbols
    def qualify(self, name, src, col, ctx=None):
        global_label, scopes = ctx if ctx else (self.global_label, self.scopes)
        if name.startswith("."):
            if not global_label:
                raise self.err(f"local label {name!r} before any global label", src, col)
            return global_label + name
        for scope in reversed(scopes):
            if name in scope:
                return scope[name]
        return name

    def lookup_fn(self, src, col, ctx=None):
        """The symbol lookup for an expression at src/col. With ctx it is the
        expression of a pending equ being resolved (see resolve)."""
        def lookup(name, off):
            q = self.qualify(name, src, col + off, ctx)
            v = self.symbols.get(q)
            if v is None:
                v = self.unknown_value(q, name, src, col + off, ctx is not None)
                if v is None:
                    return None
            if q not in self.defined_this_pass:
                if self.forward_reads.setdefault(q, v) != v:
                    self.unstable = True
            return v
        return lookup

    def unknown_value(self, q, name, src, col, nested):
        """Value of a symbol not in the table: a pending equ resolved on
        demand, or None (an error in the final pass)."""
        if q in self.resolving:
            # Only the final pass reports it: a sizing pass may have taken
            # an 'if' branch the settled values do not take.
            if self.pass_no == 2:
                raise self.circular(q, src, col)
            return None
        v = self.on_demand.get(q)
        if v is None and q in self.pending:
            if not nested:
                v = self.resolve(q)
            elif q in self.done:
                v = self.done[q]
            else:
                raise _Need(q)
        if v is None and self.pass_no == 2:
            if name.lower() in RESERVED:
                raise self.err(f"register {name!r} is not allowed here", src, col)
            raise self.err(f"undefined symbol {name!r}", src, col)
        return v

    def resolve(self, q):
        """Evaluate the pending equ q and the pending equates it needs,
        depth first with an explicit stack (chains may be long)."""
        stack = self.resolving
        base = len(stack)
        stack.append(q)
        self.done = done = {}
        try:
            while len(stack) > base:
                top = stack[-1]
                p = self.pending[top]
                try:
                    v = X.evaluate(p.node, self.lookup_fn(p.src, p.col, p.ctx), p.pc)
                except _Need as need:
                    stack.append(need.name)
                    continue
                except X.ExprError as e:
                    raise self.err(str(e), p.src, p.col + e.offset)
                stack.pop()
                done[top] = v
                if v is not None:
                    self.on_demand[top] = v
        finally:
            del stack[base:]
            self.done = {}
        return done.get(q)

    def circular(self, q, src, col):
        chain = self.resolving[self.resolving.index(q):]
        shown = [repr(re.sub(r"@\d+$", "", s)) for s in chain]
        msg = f"circular definition: {shown[-1]} depends on itself"
        if len(shown) > 1:
            through = shown[:-1] if len(shown) <= 6 else shown[:5] + ["..."]
            msg += f" (through {', '.join(through)})"
        return self.err(msg, src, col)

    def value(self, node, src, col, need=False, what="value"):
        try:
            v = X.evaluate(node, self.lookup_fn(src, col), self.pc)
        except X.ExprError as e:
            raise self.err(str(e), src, col + e.offset)
        except RecursionError:
            raise self.err("expression nested too deeply", src, col) from None
        if v is None and need and self.pass_no == 1:
            self.unresolved = True      # try again in the next pass
            return 0
        if v is None and need:
            raise self.err(f"{what} must be known in the first pass (it uses a "
                           f"symbol defined later)", src, col)
        return v

    def parse_expr(self, text, src, col):
        try:
            return X.parse(text)
        except X.ExprError as e:
            raise self.err(str(e), src, col + e.offset)
        except RecursionError:
            raise self.err("expression nested too deeply", src, col) from None

    def define(self, name, value, src, col, redefinable=False):
        if name.lower() in RESERVED or name.lower() in _MNEMONICS:
            raise self.err(f"{name!r} is a reserved word and cannot be a label", src, col)
        q = self.qualify(name, src, col)
        if not redefinable:
            if q in self.defined_this_pass or q in self.redefinable:
                raise self.err(f"symbol {q!r} is already defined", src, col)
            if self.pass_no == 2 and value is not None and \
                    q in self.pass1_symbols and self.pass1_symbols[q] != value:
                raise self.err(f"symbol {q!r} changed value between passes "
                               f"({_hex_literal(self.pass1_symbols.get(q, 0))} -> "
                               f"{_hex_literal(value)}); a size depends on a "
                               f"forward reference", src, col)
        else:
            if q in self.defined_this_pass and q not in self.redefinable:
                raise self.err(f"symbol {q!r} is already defined", src, col)
            self.redefinable.add(q)
        self.defined_this_pass.add(q)
        if value is None:
            self.missing = True         # an equ waits for a later symbol
            self.symbols.pop(q, None)
        else:
            self.symbols[q] = value
        return q

    # ---- output
    def emit(self, data, src, col=0):
        n = len(data)
        if n == 0:
            return
        end = self.pc + n
        if end > 0x10000:
            raise self.err(f"code runs past address 0FFFFH", src, col)
        if self.pass_no == 2:
            if any(self.used[self.pc:end]):
                raise self.err(f"bytes overlap code already emitted at "
                               f"{_hex_literal(self.pc)}", src, col)
            self.mem[self.pc:end] = data
            self.used[self.pc:end] = b"\x01" * n
            self.lo = min(self.lo, self.pc)
            self.hi = max(self.hi, end - 1)
        self.pc = end

    def list_line(self, src, addr, data=b"", timing=""):
        if self.pass_no == 2:
            self.listing.append(ListingLine(src.filename, src.line, addr,
                                            bytes(data), timing, src.text))

    # ---- statements
    def statement(self, src: _Src, it):
        raw = src.text
        text = _strip_comment(raw).rstrip()
        if not text.strip():
            if self.active():
                self.list_line(src, None)
            return
        pos = 0
        label = None
        label_col = 0
        indent = len(text) - len(text.lstrip())
        m = _LABEL_RE.match(text, indent)
        if m:
            label, label_col = m.group(1), indent
            pos = m.end()
        elif not text[0].isspace():
            m = _WORD_RE.match(text)
            word = m.group().lower() if m else ""
            if m and word not in _MNEMONICS | DIRECTIVES \
                    and not (word[:1] == "." and word[1:] in DIRECTIVES) \
                    and m.group().lower() not in self.macros:
                label = m.group()
                pos = m.end()
        rest = text[pos:]
        stripped = rest.lstrip()
        op_col = pos + len(rest) - len(stripped)
        m = _WORD_RE.match(stripped)
        op = ""
        args = ""
        args_col = op_col
        if m:
            op = m.group()
            args = stripped[m.end():]
            args_col = op_col + m.end() + (len(args) - len(args.lstrip()))
            args = args.strip()
        elif stripped.startswith("="):
            op = "="
            args = stripped[1:].strip()
            args_col = op_col + 1 + (len(stripped[1:]) - len(stripped[1:].lstrip()))
        elif stripped:
            raise self.err(f"cannot parse {stripped!r}", src, op_col)
        opl = op.lower()
        if opl.startswith(".") and opl[1:] in DIRECTIVES:
            opl = opl[1:]
        if not label and op and opl not in _MNEMONICS and opl not in DIRECTIVES \
                and opl not in self.macros:
            # An indented 'NAME equ 1' / 'NAME = 1' / 'NAME macro a,b'.
            m2 = re.match(r"(equ|defl|macro)\b|=", args, re.I)
            if m2:
                label, label_col = op, op_col
                op = m2.group()
                opl = op.lower()
                rest = args[m2.end():]
                args_col += m2.end() + len(rest) - len(rest.lstrip())
                args = rest.strip()

        # Conditional assembly is tracked even inside inactive regions.
        if opl in ("if", "ifdef", "ifndef"):
            if label and self.active():
                self.define_label(label, src, label_col)
            if not self.active():
                self.cond.append([False, True, False, src])
            else:
                if opl == "if":
                    node = self.parse_expr(args, src, args_col)
                    v = self.value(node, src, args_col, need=True, what="'if' condition")
                    truth = bool(v)
                else:
                    name = args.strip()
                    q = self.qualify(name, src, args_col)
                    # Defined *above* this line, so every pass agrees.
                    truth = (q in self.defined_this_pass or name.lower() in self.macros) \
                        == (opl == "ifdef")
                self.cond.append([truth, truth, False, src])
            self.list_line(src, None)
            return
        if opl == "else":
            if not self.cond:
                raise self.err("'else' without 'if'", src, op_col)
            if self.cond[-1][2]:
                first = self.cond[-1][3]
                where = f"line {first.line}" if first.filename == src.filename \
                    else f"{first.filename}:{first.line}"
                raise self.err(f"second 'else' for the 'if' at {where}", src, op_col)
            c = self.cond[-1]
            c[2] = True
            c[0] = not c[1]
            self.list_line(src, None)
            return
        if opl == "endif":
            if not self.cond:
                raise self.err("'endif' without 'if'", src, op_col)
            self.cond.pop()
            self.list_line(src, None)
            return
        if not self.active():
            if opl in ("macro", "rept", "irp") or (label and op.lower() == "macro"):
                self.collect_block(src, it, ("macro", "rept", "irp"))
            return

        # Equates.
        if opl in ("equ", "=", "defl"):
            if not label:
                raise self.err(f"'{op}' needs a name before it", src, op_col)
            node = self.parse_expr(args, src, args_col)
            if opl == "equ":
                self.resolving.append(self.qualify(label, src, label_col))
                try:
                    v = self.value(node, src, args_col)
                finally:
                    self.resolving.pop()
            else:
                v = self.value(node, src, args_col)
            q = self.define(label, v, src, label_col, redefinable=opl != "equ")
            if opl == "equ":
                if v is None:
                    self.pending[q] = _Pending(node, src, args_col, self.pc,
                                               (self.global_label, tuple(self.scopes)))
                else:
                    self.pending.pop(q, None)
            # The listing shows an equate's value in the address column.
            self.list_line(src, None if v is None else v & 0xFFFF)
            return
        if opl == "macro":
            name = label if label else None
            params_text = args
            if name is None:
                # 'macro name a,b' or pasmo's 'macro name, a, b'
                m2 = re.match(r"([^\s,]+)\s*,?\s*(.*)$", args)
                if not m2:
                    raise self.err("'macro' needs a name", src, op_col)
                name, params_text = m2.group(1), m2.group(2)
            params = [p.strip() for p in params_text.split(",") if p.strip()]
            body, end = self.collect_block(src, it, ("macro", "rept", "irp"))
            self.macros[name.lower()] = (params, body)
            for s in [src] + body + [end]:      # the definition, as written
                self.list_line(s, None)
            return
        if label:
            self.define_label(label, src, label_col)
        if not op:
            self.list_line(src, self.pc)
            return
        if opl in DIRECTIVES:
            self.directive(opl, args, args_col, src, it, op_col)
            return
        if opl in self.macros and opl not in _MNEMONICS:
            self.expand_macro(opl, args, args_col, src)
            return
        if opl in _MNEMONICS:
            self.instruction(opl, args, args_col, src, op_col)
            return
        raise self.err(f"unknown mnemonic or directive {op!r}", src, op_col)

    def define_label(self, label, src, col):
        if not label.startswith("."):
            is_scoped = any(label in s for s in self.scopes)
            if not is_scoped:
                self.global_label = label
        self.define(label, self.pc, src, col)

    def collect_block(self, src, it, openers):
        """(body lines, closing line) up to the matching endm/endr
        (nesting counted)."""
        depth = 1
        body = []
        for s in it:
            t = _strip_comment(s.text).strip()
            words = t.replace(":", " ").split()
            low = [w.lower().lstrip(".") for w in words[:2]]
            if any(w in openers for w in low):
                depth += 1
            if low and low[0] in ("endm", "endr") or (len(low) > 1 and low[1] in ("endm", "endr")):
                depth -= 1
                if depth == 0:
                    return body, s
            body.append(s)
        raise self.err("block has no matching 'endm'/'endr'", src, 0)

    def expand_macro(self, name, args, args_col, src):
        params, body = self.macros[name]
        values = [a for a, _ in _split_operands(args, args_col)]
        if len(values) > len(params):
            raise self.err(f"macro {name!r} takes {len(params)} arguments, "
                           f"got {len(values)}", src, args_col)
        values += [""] * (len(params) - len(values))
        self.list_line(src, None)
        self.unique += 1
        scope = {}
        subs = [(re.compile(r"(?<![\w.@?])" + re.escape(p) + r"(?![\w@?])"), v)
                for p, v in zip(params, values)]
        lines = []
        for s in body:
            t = s.text
            for rx, v in subs:
                t = rx.sub(lambda _m, v=v: v, t)
            lines.append(_Src(t, s.filename, s.line))
        if self.macro_depth >= 64:
            e = self.err(f"macros nested too deeply (does {name!r} call itself?)", src, 0)
            e._site = None      # names the macro already; no 64 call sites
            raise e
        self.scopes.append(scope)
        self.macro_depth += 1
        try:
            self.run_block(lines)
        except AsmError as e:
            e.note_macro_call(name, body, src)
            raise
        finally:
            self.scopes.pop()
            self.macro_depth -= 1

    def run_block(self, lines):
        depth = len(self.cond)
        self.process(iter(lines))
        if len(self.cond) != depth:
            raise self.err("'if' without 'endif' inside a block", lines[-1] if lines else _Src("", "?", 0), 0)

    # ---- directives
    def directive(self, d, args, col, src, it, op_col):
        addr = self.pc
        if d in ("db", "defb", "defm", "byte", "dm"):
            data = bytearray()
            for piece, c in self.operands_or_error(args, col, src, op_col, d):
                if len(piece) >= 2 and piece[0] in "'\"" and piece[-1] == piece[0] \
                        and _is_single_string(piece):
                    try:
                        s = X.string_value(piece)
                    except X.ExprError as e:
                        raise self.err(str(e), src, c + e.offset)
                    if len(s) != 1:
                        data += s
                        continue
                v = _fast_int(piece)
                if v is None:
                    node = self.parse_expr(piece, src, c)
                    v = self.value(node, src, c)
                    if v is None:
                        v = 0
                if not -128 <= v <= 255:
                    raise self.err(f"value {v} out of range for a byte (-128..255)", src, c)
                data.append(v & 0xFF)
            self.emit(data, src, op_col)
            self.list_line(src, addr, data)
        elif d in ("dw", "defw", "word"):
            data = bytearray()
            for piece, c in self.operands_or_error(args, col, src, op_col, d):
                v = _fast_int(piece)
                if v is None:
                    v = self.value(self.parse_expr(piece, src, c), src, c)
                    if v is None:
                        v = 0
                if not -32768 <= v <= 65535:
                    raise self.err(f"value {v} out of range for a word (-32768..65535)", src, c)
                data += bytes((v & 0xFF, (v >> 8) & 0xFF))
            self.emit(data, src, op_col)
            self.list_line(src, addr, data)
        elif d in ("ds", "defs", "block", "rmem"):
            ops = self.operands_or_error(args, col, src, op_col, d)
            if len(ops) > 2:
                raise self.err("'ds' takes a count and an optional fill byte", src, col)
            n = self.value(self.parse_expr(ops[0][0], src, ops[0][1]), src, ops[0][1],
                           need=True, what="'ds' count")
            if n < 0 or self.pc + n > 0x10000:
                raise self.err(f"'ds' count {n} out of range", src, ops[0][1])
            f = 0
            if len(ops) == 2:
                f = self.value(self.parse_expr(ops[1][0], src, ops[1][1]), src, ops[1][1]) or 0
                if not -128 <= f <= 255:
                    raise self.err(f"fill value {f} out of range for a byte", src, ops[1][1])
            self.emit(bytes([f & 0xFF]) * n, src, op_col)
            self.list_line(src, addr)
        elif d == "align":
            ops = self.operands_or_error(args, col, src, op_col, d)
            n = self.value(self.parse_expr(ops[0][0], src, ops[0][1]), src, ops[0][1],
                           need=True, what="'align' boundary")
            if n <= 0:
                raise self.err(f"'align' boundary must be positive, got {n}", src, ops[0][1])
            pad = (-self.pc) % n
            f = 0
            if len(ops) > 1:
                f = self.value(self.parse_expr(ops[1][0], src, ops[1][1]), src, ops[1][1]) or 0
                if not -128 <= f <= 255:
                    raise self.err(f"fill value {f} out of range for a byte", src, ops[1][1])
            self.emit(bytes([f & 0xFF]) * pad, src, op_col)
            self.list_line(src, addr)
        elif d == "org":
            ops = self.operands_or_error(args, col, src, op_col, d)
            v = self.value(self.parse_expr(ops[0][0], src, ops[0][1]), src, ops[0][1],
                           need=True, what="'org' address")
            if not 0 <= v <= 0xFFFF:
                raise self.err(f"'org' address {v} out of range (0..0FFFFH)", src, ops[0][1])
            self.pc = v
            self.list_line(src, v)
        elif d in ("include", "incbin", "binary"):
            ops = self.operands_or_error(args, col, src, op_col, d)
            name = ops[0][0]
            if len(name) >= 2 and name[0] in "'\"" and name[-1] == name[0]:
                name = name[1:-1]
            path = self.find_file(name, src, ops[0][1])
            if d == "include":
                self.list_line(src, None)
                try:
                    text = path.read_text(encoding="latin-1")
                except OSError as e:
                    raise self.err(f"cannot read {name!r}: {e.strerror}", src, ops[0][1])
                if self.include_depth > 32:
                    raise self.err("includes nested too deeply (recursive include?)", src, ops[0][1])
                self.include_depth += 1
                try:
                    self.process(_lines_of(text, str(path)))
                finally:
                    self.include_depth -= 1
            else:
                try:
                    data = path.read_bytes()
                except OSError as e:
                    raise self.err(f"cannot read {name!r}: {e.strerror}", src, ops[0][1])
                off = 0
                if len(ops) > 1:
                    off = self.value(self.parse_expr(ops[1][0], src, ops[1][1]), src,
                                     ops[1][1], need=True, what="offset")
                ln = len(data) - off
                if len(ops) > 2:
                    ln = self.value(self.parse_expr(ops[2][0], src, ops[2][1]), src,
                                    ops[2][1], need=True, what="length")
                if off < 0 or ln < 0 or off + ln > len(data):
                    raise self.err(f"offset/length outside {name!r} ({len(data)} bytes)",
                                   src, ops[0][1])
                data = data[off:off + ln]
                self.emit(data, src, op_col)
                self.list_line(src, addr, data)
        elif d == "rept":
            n = self.value(self.parse_expr(args, src, col), src, col, need=True,
                           what="'rept' count")
            if n < 0:
                raise self.err(f"'rept' count must not be negative, got {n}", src, col)
            self.list_line(src, None)
            body, end = self.collect_block(src, it, ("macro", "rept", "irp"))
            for _ in range(n):
                self.run_block(body)
            self.list_line(end, None)
        elif d == "local":
            if not self.scopes:
                raise self.err("'local' outside a macro or proc", src, op_col)
            for piece, c in _split_operands(args, col):
                self.scopes[-1][piece] = f"{piece}@{self.unique}"
            self.list_line(src, None)
        elif d == "proc":
            self.unique += 1
            self.scopes.append({})
            self.list_line(src, None)
        elif d == "endp":
            if not self.scopes:
                raise self.err("'endp' without 'proc'", src, op_col)
            self.scopes.pop()
            self.list_line(src, None)
        elif d == "end":
            self.list_line(src, None)
            raise _Stop()
        elif d == "public":
            self.list_line(src, None)
        elif d in ("endm", "endr"):
            raise self.err(f"'{d}' without 'macro'/'rept'", src, op_col)
        elif d == "equ":
            raise self.err("'equ' needs a name before it", src, op_col)
        else:
            raise self.err(f"directive {d!r} is not supported", src, op_col)

    def operands_or_error(self, args, col, src, op_col, d):
        ops = _split_operands(args, col)
        if not ops or any(p == "" for p, _ in ops):
            raise self.err(f"'{d}' needs operands" if not ops else "empty operand", src,
                           col if not ops else next(c for p, c in ops if p == ""))
        return ops

    def find_file(self, name, src, col):
        here = Path(src.filename).parent
        for base in [here] + self.include_paths + [Path.cwd()]:
            p = base / name
            if p.is_file():
                return p
        raise self.err(f"file {name!r} not found", src, col)

    # ---- instructions
    def parse_operand(self, text, col, src) -> Operand:
        low = text.lower()
        if low in REG_ALIASES:
            low = REG_ALIASES[low]
        if low in REGISTERS or low in CONDITIONS:
            return Operand((low,), None, col, text)
        if _fully_parenthesized(text):
            inner = text[1:-1].strip()
            il = inner.lower()
            if il in _INDIRECT_REGS:
                if il in ("ix", "iy"):
                    return Operand((f"({il})", f"({il}+d)"), ("num", 0), col, text)
                return Operand((f"({il})",), None, col, text)
            m = _INDEX_RE.match(text)
            if m:
                reg = m.group(1).lower()
                disp = m.group(2).strip()
                dcol = col + m.start(2)
                node = self.parse_expr(disp, src, dcol)
                return Operand((f"({reg}+d)",), node, col, text)
            node = self.parse_expr(inner, src, col + 1 + (len(text[1:-1]) - len(text[1:-1].lstrip())))
            return Operand((_IND,), node, col, text)
        return Operand((_IMM,), self.parse_expr(text, src, col), col, text)

    def instruction(self, mn, args, col, src, op_col):
        mn = ALIASES.get(mn, mn)
        pieces = _split_operands(args, col)
        for p, c in pieces:
            if p == "":
                raise self.err("empty operand", src, c)
        ops = [self.parse_operand(p, c, src) for p, c in pieces]
        # Accepted alternative spellings.
        if mn == "in" and len(ops) == 2 and ops[0].kinds == ("f",) and ops[1].kinds == ("(c)",):
            ops = ops[1:]
        if mn == "ex" and len(ops) == 2 and ops[0].kinds == ("af",) and ops[1].kinds == ("af",):
            ops[1] = Operand(("af'",), None, ops[1].col, "af'")
        if mn in ("add", "adc", "sbc") and len(ops) == 1:
            ops = [Operand(("a",), None, col, "a")] + ops
        elif mn in ("sub", "and", "xor", "or", "cp") and len(ops) == 2 and ops[0].kinds == ("a",):
            ops = ops[1:]
        if mn == "jp" and len(ops) == 1 and ops[0].kinds[0] in ("hl", "ix", "iy"):
            ops[0] = Operand((f"({ops[0].kinds[0]})",), None, ops[0].col, ops[0].text)
        cands = []
        for kinds in product(*[o.kinds for o in ops]):
            cands.extend(_INDEX.get((mn, kinds), ()))
        if not cands:
            raise self.err(self.bad_operands_message(mn, ops), src,
                           ops[0].col if ops else op_col)
        values = []
        for o in ops:
            values.append(None if o.expr is None else self.value(o.expr, src, o.col))
        chosen = None
        for cand in cands:
            ok = True
            for t, o, v in zip(cand.operands, ops, values):
                if isinstance(t, int) and v is not None and v != t:
                    ok = False
                    break
                if t not in o.kinds and _template_kind(t) not in o.kinds:
                    ok = False
                    break
            if ok:
                chosen = cand
                break
        if chosen is None:
            # Only fixed-number templates can fail here.
            for t, o, v in zip(cands[0].operands, ops, values):
                if isinstance(t, int):
                    allowed = sorted({c.operands[cands[0].operands.index(t)] for c in cands})
                    raise self.err(f"'{mn}' operand must be one of "
                                   f"{', '.join(_num_text(a, mn) for a in allowed)}, "
                                   f"got {_num_text(v, mn)}", src, o.col)
            raise self.err(self.bad_operands_message(mn, ops), src, op_col)
        data = self.encode(chosen, ops, values, src)
        addr = self.pc
        self.emit(data, src, op_col)
        self.list_line(src, addr, data, chosen.timing_text())

    def bad_operands_message(self, mn, ops):
        forms = sorted({_form(o) for o in BY_MNEMONIC.get(mn, [])})
        if ops and ops[0].kinds[0] not in (_IMM, _IND):
            # Narrow the hint to the forms with the same first operand.
            same = [f for f in forms if f.startswith(f"{mn} {ops[0].kinds[0]},")
                    or f == f"{mn} {ops[0].kinds[0]}"]
            forms = same or forms
        given = ",".join(o.text for o in ops)
        if not ops:
            return f"'{mn}' needs operands"
        return f"bad operands for '{mn}': '{given}'" + (
            f" (accepted forms: {'; '.join(forms[:8])}{' ...' if len(forms) > 8 else ''})"
            if forms else "")

    def encode(self, op: Opcode, ops, values, src):
        fields = []
        for t, o, v in zip(op.operands, ops, values):
            if t in ("n", "(n)", "nn", "(nn)", "rel") or (isinstance(t, str) and t.endswith("+d)")):
                fields.append((t, o, v))
        size = op.size
        out = bytearray()
        fi = 0
        for b in op.layout:
            if isinstance(b, int):
                out.append(b)
                continue
            t, o, v = fields[fi]
            fi += 1
            if v is None:
                v = self.pc + size if b == "rel" else 0   # first pass placeholder
            if b == "n":
                lo = 0 if t == "(n)" else -128
                if not lo <= v <= 255:
                    raise self.err(f"value {v} out of range for "
                                   f"{'a port number (0..255)' if t == '(n)' else 'a byte (-128..255)'}",
                                   src, o.col)
                out.append(v & 0xFF)
            elif b == "nn":
                if not -32768 <= v <= 65535:
                    raise self.err(f"value {v} out of range for a word (-32768..65535)", src, o.col)
                out += bytes((v & 0xFF, (v >> 8) & 0xFF))
            elif b == "d":
                if not -128 <= v <= 127:
                    raise self.err(f"index displacement {v} out of range (-128..127)", src, o.col)
                out.append(v & 0xFF)
            elif b == "rel":
                if not -32768 <= v <= 65535:
                    raise self.err(f"jump target {v} out of range", src, o.col)
                dist = (v - (self.pc + size)) & 0xFFFF   # the PC wraps at 64K
                dist = dist - 0x10000 if dist >= 0x8000 else dist
                if not -128 <= dist <= 127:
                    raise self.err(f"relative jump out of range: target is {dist} bytes "
                                   f"away (allowed -128..127)", src, o.col)
                out.append(dist & 0xFF)
        return out


def _num_text(v, mn):
    if v is None:
        return "?"
    return f"{v:02X}h" if mn == "rst" else str(v)


def _form(o: Opcode):
    return (o.mnemonic + " " + ",".join(str(t) for t in o.operands)).strip()


def _is_single_string(piece):
    q = piece[0]
    i = 1
    while i < len(piece) - 1:
        if piece[i] == q:
            if piece[i + 1] == q:
                i += 2
                continue
            return False
        i += 1
    return True


_DEC_RE = re.compile(r"-?[0-9]+$")
_HEXH_RE = re.compile(r"[0-9][0-9A-Fa-f]*[hH]$")


def _fast_int(piece):
    """Plain decimal or 0FFh literals without the expression machinery
    (generated weight tables are thousands of them)."""
    if _DEC_RE.match(piece):
        return int(piece)
    if _HEXH_RE.match(piece):
        return int(piece[:-1], 16)
    return None


def _lines_of(text, filename):
    for i, line in enumerate(text.splitlines(), 1):
        yield _Src(line, filename, i)


MAX_PASSES = 16


def assemble(source: str, filename: str = "<source>", include_paths=()) -> AsmResult:
    """Assemble Z80 source text. Raises AsmError on the first error."""
    asm = _Assembler(include_paths)
    lines = list(_lines_of(source, filename))
    # Sizing passes until a pass used only settled values: nothing a size
    # or an equ needed was unknown, and every symbol read before its
    # definition (so taken from the previous pass) ended the pass with the
    # value that was read. Then the final pass emits bytes and reports
    # anything still undefined. A pass that changes no symbol at all ends
    # the loop too: another one would not get further.
    previous = None
    for _ in range(MAX_PASSES):
        asm.unresolved = asm.missing = asm.unstable = False
        asm.forward_reads = {}
        asm.run_pass(1, lines)
        settled = not (asm.unresolved or asm.missing or asm.unstable) and all(
            asm.symbols.get(q) == v for q, v in asm.forward_reads.items())
        if settled or asm.symbols == previous:
            break
        previous = dict(asm.symbols)
    asm.pass1_symbols = dict(asm.symbols)
    asm.run_pass(2, lines)
    if asm.hi < 0:
        # Nothing emitted: origin is the first org (or 0).
        binary = b""
        origin = next((ln.address for ln in asm.listing if ln.address is not None), 0)
    else:
        binary, origin = bytes(asm.mem[asm.lo:asm.hi + 1]), asm.lo
    symbols = {k: v for k, v in asm.symbols.items() if "@" not in k}
    return AsmResult(binary, origin, symbols, asm.listing)


def assemble_file(path, include_paths=()) -> AsmResult:
    """Assemble a source file; includes are searched next to it first."""
    p = Path(path)
    try:
        text = p.read_text(encoding="latin-1")
    except FileNotFoundError:
        raise AsmError("source file not found", str(p), 0, 0) from None
    except OSError as e:
        raise AsmError(f"cannot read source file: {e.strerror}", str(p), 0, 0) from None
    return assemble(text, str(p), include_paths)
