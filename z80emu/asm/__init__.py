"""Z80 assembler: `assemble(text)` / `assemble_file(path)` -> AsmResult with
.binary, .origin, .symbols, .listing_text(), .symbol_text(); errors raise
AsmError whose str() is 'file:line:col: error: message'.
CLI: python -m z80emu.asm SOURCE.asm -o OUT.COM [--listing F] [--symbols F].
Syntax notes: z80emu/asm/README.md."""
from .assembler import AsmError, AsmResult, ListingLine, assemble, assemble_file

__all__ = ["assemble", "assemble_file", "AsmError", "AsmResult", "ListingLine"]
