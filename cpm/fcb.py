"""File control blocks and CP/M 8.3 names.

Owns: turning a command line into the default FCBs and command tail exactly
as CP/M 2.2's CCP does, reading/writing the fields of a 36-byte FCB in memory,
and converting between FCB name bytes and host file names.  Knows nothing of
host folders (see drives.py) or of the BDOS (see bdos.py).

FCB layout (CP/M 2.2):
  0 dr   drive (0 = default, 1 = A:, ...; '?' in search = any)
  1..8   file name, 9..11 type (high bits are attributes: t1' R/O, t2' SYS)
  12 ex  extent (0..31)    13 s1   14 s2 (extent high bits)   15 rc
  16..31 allocation map    32 cr current record   33..35 r0 r1 r2
"""
from __future__ import annotations

from dataclasses import dataclass

FCB_SIZE = 36
RECORD_SIZE = 128
RECORDS_PER_EXTENT = 128  # a logical extent holds 16 KB

# Characters CCP refuses inside a file name (they delimit fields).
DELIMITERS = set(b" =_.:;<>,[]|\t\r\n\x00")
# Characters never allowed in a host name built from an FCB.
_BAD_HOST_CHARS = set(b'/\\.:*?"<>|') | set(range(0x00, 0x21)) | {0x7F}


@dataclass(frozen=True)
class ParsedName:
    """The drive (0 = default, 1 = A:) and 11 name bytes of one argument."""

    drive: int
    name: bytes  # 11 bytes, space padded, '?' for wildcards


def parse_filespec(text: bytes) -> ParsedName:
    """Parse one upper-cased CCP argument like ``B:FOO*.T?T`` into an FCB name.

    ``*`` fills the rest of its field with ``?``; over-long fields are cut as
    CCP does. An argument that is not a file name still yields some name bytes
    (CCP never fails here: the program decides what to do with them).
    """
    drive = 0
    if len(text) >= 2 and text[1:2] == b":" and 0x41 <= text[0] <= 0x50:
        drive = text[0] - 0x40
        text = text[2:]

    def field(part: bytes, width: int) -> bytes:
        out = bytearray()
        for ch in part:
            if ch in DELIMITERS:
                break
            if ch == 0x2A:  # '*'
                out.extend(b"?" * (width - len(out)))
                break
            if len(out) < width:
                out.append(ch)
        return bytes(out[:width]).ljust(width, b" ")

    base, dot, ext = text.partition(b".")
    name = field(base, 8) + (field(ext, 3) if dot else b"   ")
    return ParsedName(drive, name)


def build_command(args: list[str]) -> tuple[bytes, bytes, bytes]:
    """Return (command tail for 0080h, FCB1 16 bytes, FCB2 16 bytes).

    The tail is what CCP stores at 0080h: a length byte, then the arguments
    upper-cased and joined by single spaces, with a leading space; at most 127
    characters.  The first two arguments are parsed into FCBs at 005Ch/006Ch.
    """
    tail = b"".join(b" " + a.upper().encode("latin-1", "replace") for a in args)[:127]
    # CCP parses the FCBs from the command line it has, not from shell words: an argument
    # with blanks in it (`PROG "a b"`) gives two names, as typing it at A> would
    words = [w for w in tail.split(b" ") if w]
    blank = ParsedName(0, b" " * 11)
    p1 = parse_filespec(words[0]) if len(words) > 0 else blank
    p2 = parse_filespec(words[1]) if len(words) > 1 else blank

    def fcb16(p: ParsedName) -> bytes:
        return bytes([p.drive]) + p.name + b"\x00\x00\x00\x00"

    return bytes([len(tail)]) + tail, fcb16(p1), fcb16(p2)


class NameError83(ValueError):
    """An FCB name that cannot be a host file name (e.g. contains '/')."""


def fcb_name_to_host(name11: bytes) -> str:
    """``b'FOO     TXT'`` -> ``'FOO.TXT'``; attribute bits are stripped.

    Raises NameError83 for names a host file must never get: path separators,
    dots, control characters, wildcards, or an empty name.
    """
    clean = bytes(b & 0x7F for b in name11)
    base, ext = clean[:8].rstrip(b" "), clean[8:11].rstrip(b" ")
    if not base:
        raise NameError83("empty file name")
    for part in (base, ext):
        bad = [c for c in part if c in _BAD_HOST_CHARS]
        if bad:
            raise NameError83(f"character {chr(bad[0])!r} not allowed in a file name")
    text = base.decode("latin-1") + ("." + ext.decode("latin-1") if ext else "")
    return text.upper()


def host_to_fcb_name(host: str) -> bytes | None:
    """``'foo.txt'`` -> ``b'FOO     TXT'``, or None if not a valid 8.3 name."""
    if host.startswith(".") or host.count(".") > 1:
        return None
    base, _, ext = host.partition(".")
    if not base or len(base) > 8 or len(ext) > 3:
        return None
    try:
        raw = (base.upper().ljust(8) + ext.upper().ljust(3)).encode("ascii")
    except UnicodeEncodeError:
        return None
    if any(c in _BAD_HOST_CHARS for c in (base + ext).encode("ascii")):
        return None
    return raw


def name_matches(pattern11: bytes, name11: bytes) -> bool:
    """CP/M wildcard match: '?' in the pattern matches any byte; attributes ignored.
    Letters match in either case: the host files behind the names are upper-case, so a
    file a program made with a lower-case FCB must be found with that FCB again."""
    pattern = bytes(b & 0x7F for b in pattern11).upper()
    name = bytes(b & 0x7F for b in name11).upper()
    return all(p == 0x3F or p == n for p, n in zip(pattern, name))


def record_of(ex: int, s2: int, cr: int) -> int:
    """Sequential position of an FCB as an absolute record number."""
    return ((s2 & 0x3F) * 32 + (ex & 0x1F)) * RECORDS_PER_EXTENT + (cr & 0xFF)


def position_fields(record: int) -> tuple[int, int, int]:
    """Absolute record -> (ex, s2, cr)."""
    extent = record // RECORDS_PER_EXTENT
    return extent & 0x1F, (extent >> 5) & 0x3F, record % RECORDS_PER_EXTENT
