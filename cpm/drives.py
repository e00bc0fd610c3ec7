"""Host folders as CP/M drives.

Owns: finding host files by 8.3 name (case-insensitively), the 128-byte
record layer (reads of a partial last record padded with 1Ah), creating,
deleting and renaming files, and path safety: a program can only touch
regular files directly inside its drive folder (no '/', '..', absolute paths,
or symlinks leading out).  Knows nothing of FCB memory layout or the BDOS.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .fcb import RECORD_SIZE, NameError83, fcb_name_to_host, host_to_fcb_name, name_matches

EOF_PAD = 0x1A


class DriveAccessRefused(Exception):
    """A program asked for a name or path that would leave its drive folder."""


class Drive:
    """One host folder seen as a CP/M drive."""

    def __init__(self, letter: str, root: Path) -> None:
        self.letter = letter.upper()
        self.root = Path(os.path.realpath(root))
        self._handles: dict[str, object] = {}
        self._names: dict[bytes, str] = {}  # lookup cache, checked on use
        self.refusals: list[str] = []

    # -- names and safety ------------------------------------------------
    def _inside(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return os.path.dirname(real) == str(self.root)

    def listing(self) -> list[tuple[bytes, str]]:
        """Every reachable 8.3 file as (11-byte FCB name, host name), sorted."""
        found: dict[bytes, str] = {}
        try:
            names = sorted(os.listdir(self.root))
        except OSError:
            return []
        for host in names:
            key = host_to_fcb_name(host)
            if key is None or key in found:
                continue
            path = self.root / host
            if not path.is_file() or not self._inside(path):
                continue
            found[key] = host
        return sorted(found.items())

    def host_name(self, name11: bytes) -> str | None:
        """The host name of an existing file, or None.

        Raises DriveAccessRefused if the name cannot be a file of this drive.
        """
        self.check_name(name11)
        # host names are listed upper-case; a program (MBASIC's SAVE "test") may use lower case
        want = bytes(b & 0x7F for b in name11).upper()
        host = self._names.get(want)
        if host is not None and host in self._handles:
            return host
        if host is not None and (self.root / host).is_file() and self._inside(self.root / host):
            return host
        self._names = dict(self.listing())
        return self._names.get(want)

    def check_name(self, name11: bytes) -> str:
        """Return the canonical host name for name11 or refuse it."""
        try:
            return fcb_name_to_host(name11)
        except NameError83 as err:
            shown = bytes(b & 0x7F for b in name11).decode("latin-1")
            msg = f"refused file name {shown!r} on {self.letter}: ({err})"
            self.refusals.append(msg)
            raise DriveAccessRefused(msg) from None

    def matching(self, pattern11: bytes) -> list[tuple[bytes, str]]:
        return [(k, h) for k, h in self.listing() if name_matches(pattern11, k)]

    # -- the file layer ----------------------------------------------------
    def _handle(self, host: str):
        fh = self._handles.get(host)
        if fh is None:
            path = self.root / host
            if not self._inside(path):
                raise DriveAccessRefused(f"refused {host!r}: it leads outside drive {self.letter}:")
            try:
                fh = open(path, "r+b")
            except PermissionError:
                fh = open(path, "rb")
            self._handles[host] = fh
        return fh

    def size_bytes(self, host: str) -> int:
        fh = self._handles.get(host)
        if fh is not None:
            fh.flush()
            return os.fstat(fh.fileno()).st_size
        return os.path.getsize(self.root / host)

    def size_records(self, host: str) -> int:
        return (self.size_bytes(host) + RECORD_SIZE - 1) // RECORD_SIZE

    def is_read_only(self, host: str) -> bool:
        """No write permission: os.access for ordinary users, and the mode bits too, since
        os.access always allows root (a chmod a-w file is read-only for root as well)."""
        path = self.root / host
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return False
        return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)

    def read_record(self, host: str, record: int) -> bytes | None:
        """128 bytes of record `record`, 1Ah-padded; None past end of file."""
        fh = self._handle(host)
        fh.seek(record * RECORD_SIZE)
        data = fh.read(RECORD_SIZE)
        if not data:
            return None
        return data + bytes([EOF_PAD]) * (RECORD_SIZE - len(data))

    def write_record(self, host: str, record: int, data: bytes, zero_fill: bool = True) -> bool:
        """Write one record; a gap before it reads back as zeros. False if read-only."""
        fh = self._handle(host)
        if not fh.writable():
            return False
        size = self.size_bytes(host)
        offset = record * RECORD_SIZE
        if offset > size:
            fh.seek(size)
            fh.write(b"\x00" * (offset - size))
        fh.seek(offset)
        fh.write(data)
        return True

    def create(self, name11: bytes) -> str:
        """Create (or truncate) a file and return its host name."""
        existing = self.host_name(name11)
        host = existing or self.check_name(name11)
        path = self.root / host
        if path.is_symlink() or (path.exists() and not self._inside(path)):
            raise DriveAccessRefused(f"refused {host!r}: it leads outside drive {self.letter}:")
        self.close_file(host)
        with open(path, "wb"):
            pass
        return host

    def delete(self, host: str) -> None:
        self.close_file(host)
        path = self.root / host
        if path.is_symlink():
            raise DriveAccessRefused(f"refused to delete symlink {host!r}")
        path.unlink()

    def rename(self, host: str, new11: bytes) -> str | None:
        """Rename; None if a file with the new name exists already."""
        new_host = self.check_name(new11)
        if self.host_name(new11) is not None:
            return None
        self.close_file(host)
        os.rename(self.root / host, self.root / new_host)
        return new_host

    def close_file(self, host: str) -> None:
        fh = self._handles.pop(host, None)
        if fh is not None:
            fh.close()

    def flush(self, host: str) -> None:
        fh = self._handles.get(host)
        if fh is not None:
            fh.flush()

    def close_all(self) -> None:
        for host in list(self._handles):
            self.close_file(host)
