"""Command line: python -m z80emu.asm SOURCE.asm -o OUT.COM [--listing F]
[--symbols F]. Errors print one line 'file:line:col: error: message' and
exit with status 1; nothing is written when assembly fails or when one of
the outputs cannot be written."""
from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from .assembler import AsmError, assemble_file

EPILOG = """\
examples:
  python -m z80emu.asm hello.asm -o HELLO.COM
  python -m z80emu.asm engine.asm -o TINYCHAT.COM --listing engine.lst --symbols engine.sym

The binary holds the bytes from the lowest to the highest address the source
emits (for a CP/M program put 'org 100h' first). Syntax: Zilog mnemonics,
labels 'name:' ('.name:' is local to the previous label), 'equ', 'org',
'db', 'dw', 'ds', 'include', 'incbin', 'align', 'if/else/endif', 'rept',
'macro'. See z80emu/asm/README.md.
"""


def _write_all(outputs) -> bool:
    """Write every (path, bytes) or none: all targets are opened (created
    if missing, not truncated) before any is written, so a target that
    cannot be written leaves the others as they were."""
    opened = []      # (path, file, created by us)
    try:
        for path, _ in outputs:
            created = not path.exists()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
            except OSError as e:
                print(f"{path}: error: cannot write: {e.strerror}", file=sys.stderr)
                for p, f, c in opened:
                    f.close()
                    if c:
                        p.unlink(missing_ok=True)
                opened.clear()
                return False
            opened.append((path, os.fdopen(fd, "wb"), created))
        for (path, f, _), (_, data) in zip(opened, outputs):
            try:
                if stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    f.truncate(0)       # (not for /dev/stdout, pipes)
                f.write(data)
                f.flush()
            except OSError as e:
                print(f"{path}: error: cannot write: {e.strerror}", file=sys.stderr)
                return False
        return True
    finally:
        for _, f, _ in opened:
            try:
                f.close()
            except OSError:
                pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m z80emu.asm",
        description="Assemble a Z80 source file (Zilog syntax) into a binary, "
                    "with an optional listing and symbol file.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="the .asm source file")
    ap.add_argument("-o", "--output", help="binary to write (default: SOURCE "
                    "with the extension .com)")
    ap.add_argument("-I", "--include", action="append", default=[], metavar="DIR",
                    help="extra folder searched by 'include'/'incbin' (repeatable)")
    ap.add_argument("--listing", metavar="FILE", help="write a listing: line, "
                    "address, bytes, T-states, source")
    ap.add_argument("--symbols", metavar="FILE", help="write the symbols as "
                    "'NAME EQU 1234H' lines")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="do not print the summary line")
    args = ap.parse_args(argv)

    src = Path(args.source)
    if not src.is_file():
        print(f"{src}: error: source file not found" if not src.exists()
              else f"{src}: error: not a file", file=sys.stderr)
        return 1
    out = Path(args.output) if args.output else src.with_suffix(".com")
    for target in [out] + [Path(p) for p in (args.listing, args.symbols) if p]:
        if target.resolve() == src.resolve():
            print(f"{target}: error: output would overwrite the source file",
                  file=sys.stderr)
            return 1
    try:
        res = assemble_file(src, include_paths=args.include)
    except AsmError as e:
        print(str(e), file=sys.stderr)
        return 1
    except RecursionError:
        print(f"{src}: error: expression or include nesting too deep", file=sys.stderr)
        return 1
    outputs = [(out, res.binary)]
    if args.listing:
        outputs.append((Path(args.listing), res.listing_text().encode()))
    if args.symbols:
        outputs.append((Path(args.symbols), res.symbol_text().encode()))
    if not _write_all(outputs):
        return 1
    if not args.quiet:
        end = res.origin + len(res.binary) - 1
        print(f"{out}: {len(res.binary)} bytes, {res.origin:04X}H-"
              f"{max(end, res.origin):04X}H, {len(res.symbols)} symbols")
    return 0


if __name__ == "__main__":
    sys.exit(main())
