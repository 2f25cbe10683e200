"""The tar members of a .deb (``control.tar``, ``data.tar``), walked as dpkg walks them.

dpkg unpacks a package with its own tar reader (dpkg ``lib/dpkg/tarfn.c``,
``tar_extractor()``), not with GNU tar, and it accepts less than tar does: regular files
(types ``0`` and NUL; a NUL/``0`` entry whose name ends in ``/`` is a directory), hard and
symbolic links, directories, devices and FIFOs, and GNU long names and long link targets
(``L``/``K``).  Since dpkg 1.19.3 (commit 683d5a21f, 2018) every other type is an error that
stops the unpack: PAX headers (``x``, ``g``), GNU sparse, multi-volume, volume and dump-dir
entries (``S``, ``M``, ``V``, ``D``), Solaris extended headers (``X``, ``A``), and unknown
types such as ``7`` (contiguous file).  A header block that fails its checksum ends the archive
when its name is empty (the end-of-archive blocks), and is an error otherwise.  This reader
follows those rules, so what coinstall reports about a .deb is what ``dpkg --unpack`` would
install, and a package dpkg would refuse is one error line naming the header type.

Glue in place of :mod:`tarfile`, for two reasons.  Fidelity: :mod:`tarfile` reads PAX and
sparse members that dpkg refuses and cannot be told not to, accepts signed checksums and joins a
GNU header's unused prefix area to its name.  Speed: ``tarfile.open(mode="r|")`` (its stream
buffer and a file object per member) and :meth:`tarfile.TarInfo.frombuf` cost far more above the
decompression floor than this walk (measured: benchmarks/MEASUREMENTS.md, 'deb tar walk').
Each header is decoded as tarfn.c's
``tar_header_decode()`` does it (:func:`decode_header`).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from typing import IO, NamedTuple

from coinstall.artifacts.base import ArtifactError
from coinstall.artifacts.limits import NAME_MAX, Budget

BLOCK = 512
#: Decompressed bytes taken from the stream per call (larger calls cost more in copies than
#: they save in calls; benchmarks/MEASUREMENTS.md, 'deb tar walk').
FILL = 1 << 16

#: Header types dpkg unpacks, by the :attr:`TarEntry.type` coinstall gives them (tarfn.h
#: ``enum tar_filetype``; NUL is the pre-POSIX spelling of ``0``).
_TYPES = {
    b"0": "file",
    b"\0": "file",
    b"1": "hardlink",
    b"2": "symlink",
    b"5": "dir",
    b"3": "device",
    b"4": "device",
    b"6": "fifo",
}
_LONGNAME, _LONGLINK = b"L", b"K"
#: dpkg's error for each type it refuses (tarfn.c ``tar_extractor()``).
_REFUSED = {
    **{t: "unsupported GNU tar header type" for t in (b"S", b"M", b"V", b"D")},
    **{t: "unsupported Solaris tar header type" for t in (b"X", b"A")},
    **{t: "unsupported PAX tar header type" for t in (b"x", b"g")},
}


#: tarfn.h ``struct tar_header``: name, mode, uid, gid, size, mtime, checksum, linkflag,
#: linkname, magic (6 bytes of the 8: the ustar version or GNU's second blank follows), user,
#: group, devmajor, devminor, prefix.
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s6s2x32x32x8x8x155s12x")
#: tar_atol8(): leading blanks, octal digits, then only blanks and NULs.
_OCTAL = re.compile(rb" *([0-7]*)[ \0]*")
#: The numeric fields (mode, uid, gid, size, mtime, checksum: bytes 100-156) in the form GNU
#: tar, dpkg-deb and Python's tarfile write them: zero-padded octal, NUL-terminated, the
#: checksum's six digits followed by NUL and a blank.  Such fields are read in one match
#: instead of by :func:`_numbers`, with the same values (each is within its range: 7 octal
#: digits < 2**21, 11 < 2**33).  Every one of the 41,523 headers of every 100th bookworm
#: python3-* .deb has this form.  Glue, for speed: one match instead of six :func:`_number`
#: calls per header, the same decodes (measured: benchmarks/MEASUREMENTS.md, 'deb tar walk').
_CANONICAL = re.compile(rb"([0-7]{7})\0[0-7]{7}\0[0-7]{7}\0([0-7]{11})\0([0-7]{11})\0([0-7]{6})\0 ")
_UID_MAX = (1 << 32) - 1  # uid_t, gid_t on Linux
_OFF_MAX = (1 << 63) - 1  # off_t, time_t (64-bit)


class HeaderError(ValueError):
    """A tar header dpkg would refuse (the message is dpkg's)."""


def _number(field: bytes, low: int, high: int, what: str) -> int:
    """tarfn.c ``tar_atoul()``/``tar_atosl()``: an octal number, or a base-256 two's-complement
    one when the first byte is 0x80 (positive) or 0xff (negative), within ``low..high``.

    Raises:
        HeaderError: ``invalid tar header <what> field``.
    """
    digits = field.rstrip(b" \0").lstrip(b" ")
    if digits.isdigit():  # the common case, decided without the regular expression below
        if b"8" in digits or b"9" in digits:
            raise HeaderError(f"invalid tar header {what} field")
        value = int(digits, 8)
        if not low <= value <= high:
            raise HeaderError(f"invalid tar header {what} field")
        return value
    first = field[0]
    if first in (0x80, 0xFF):
        value = (
            int.from_bytes(field, "big", signed=True)
            if first == 0xFF
            else int.from_bytes(field[1:], "big")
        )
    else:
        m = _OCTAL.fullmatch(field)
        if m is None or not field.strip(b" "):
            raise HeaderError(f"invalid tar header {what} field")
        value = int(m[1], 8) if m[1] else 0
    if not low <= value <= high:
        raise HeaderError(f"invalid tar header {what} field")
    return value


def _byte_sum(block: bytes) -> int:
    """``sum(block)`` of a 512-byte header, the unsigned sum its checksum is checked against.

    Glue, for speed: ``sum()`` over 512 bytes made each one an int object and was a third of
    :func:`decode_header`'s time; the low 16 bits of an Adler-32 begun at 0 are the sum of the
    bytes modulo 65521 (RFC 1950 §8.2), which is the sum itself for 256 bytes (at most
    256 * 255 = 65280), so each half is summed by zlib in C.
    """
    return (zlib.adler32(block[:256], 0) & 0xFFFF) + (zlib.adler32(block[256:], 0) & 0xFFFF)


def _text(field: bytes) -> str:
    """A NUL-terminated (or full-width) name field, undecodable bytes kept as surrogates."""
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _numbers(
    mode: bytes, uid: bytes, gid: bytes, size: bytes, mtime: bytes, checksum: bytes
) -> tuple[int, int, int, int]:
    """``(mode bits, size, mtime, checksum)`` of a header's numeric fields, each read by
    :func:`_number` in tarfn.c's order; uid and gid only checked.

    Raises:
        HeaderError: the first field dpkg refuses.
    """
    try:
        bits = _number(mode, 0, _UID_MAX, "mode") & 0o7777
    except HeaderError:
        bits = 0  # tar_header_get_unix_mode() does not check the field
    nbytes = _number(size, 0, _OFF_MAX, "size")
    seconds = _number(mtime, -_OFF_MAX - 1, _OFF_MAX, "mtime")
    _number(uid, 0, _UID_MAX, "uid")
    _number(gid, 0, _UID_MAX, "gid")
    return bits, nbytes, seconds, _number(checksum, 0, _OFF_MAX, "checksum")


def decode_header(block: bytes) -> tuple[str, bytes, int, int, int, str]:
    """``(name, type, mode bits, size, mtime, link name)`` of one 512-byte header, as dpkg's
    tarfn.c ``tar_header_decode()`` decodes it: a ustar header's non-empty prefix joined to
    the name with ``/``; type NUL read as ``0``; an invalid mode field read as 0; size, mtime,
    uid and gid checked; the checksum field octal and equal to the unsigned sum of the
    header's bytes with the checksum field counted as blanks.

    Raises:
        HeaderError: the message dpkg gives (``invalid tar header checksum`` ...).
    """
    (name, mode, uid, gid, size, mtime, checksum, kind, link, magic, prefix) = _HEADER.unpack(block)
    ustar = magic == b"ustar\0" and prefix[0]
    text = _text(prefix) + "/" + _text(name) if ustar else _text(name)
    fields = _CANONICAL.fullmatch(block, 100, 156)
    if fields is not None:  # every value at once, each within its range by its width
        bits = int(fields[1], 8) & 0o7777
        nbytes, seconds, total = int(fields[2], 8), int(fields[3], 8), int(fields[4], 8)
    else:
        bits, nbytes, seconds, total = _numbers(mode, uid, gid, size, mtime, checksum)
    if total != _byte_sum(block) - sum(checksum) + 8 * 32:
        raise HeaderError("invalid tar header checksum")
    return text, (b"0" if kind == b"\0" else kind), bits, nbytes, seconds, _text(link)


class TarEntry(NamedTuple):
    """One entry of the tar stream.

    Attributes:
        name: the member name as stored (GNU long name applied; undecodable bytes kept as
            surrogates), a directory's without its trailing ``/``.
        type: ``"file"``, ``"dir"``, ``"symlink"``, ``"hardlink"``, ``"device"`` or ``"fifo"``.
        mode: permission bits (``0o7777`` part of the mode field).
        size: bytes of content (regular files; 0 for the others).
        mtime: seconds since the epoch.
        linkname: the link target of a link (GNU long link applied), else ``""``.
    """

    name: str
    type: str
    mode: int
    size: int
    mtime: int
    linkname: str


class DebTar:
    """Iterate the entries of one tar stream; the current regular file's content is read
    with :meth:`read` before asking for the next entry (what is not read is skipped).

    Args:
        stream: the decompressed tar stream (anything with ``read(n)``).
        budget: every byte taken from ``stream`` is counted here, skipped bytes too.
        where: the stream's name for messages (``data.tar.xz``).

    Iterating raises :class:`~coinstall.artifacts.base.ArtifactError` for what dpkg refuses
    (a header type it does not unpack, a bad checksum, an empty name, a long name above
    :data:`~coinstall.artifacts.limits.NAME_MAX` bytes) and for a stream cut short.
    """

    def __init__(self, stream: IO[bytes], budget: Budget, where: str) -> None:
        self._stream = stream
        self._budget = budget
        self._where = where
        self._buf = b""
        self._pos = 0
        self._left = 0  # unread content bytes of the current entry
        self._pad = 0  # padding after them, to the next block

    def _fill(self) -> bool:
        data = self._stream.read(FILL)
        if not data:
            return False
        self._budget.add(len(data), self._where)
        self._buf, self._pos = data, 0
        return True

    def _take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the stream)."""
        buf, pos = self._buf, self._pos
        if pos + n <= len(buf):
            self._pos = pos + n
            return buf[pos : pos + n]
        parts = [buf[pos:]]
        got = len(parts[0])
        self._pos = len(buf)
        while got < n and self._fill():
            piece = self._buf[: n - got]
            self._pos = len(piece)
            got += len(piece)
            parts.append(piece)
        return b"".join(parts)

    def _skip(self, n: int) -> None:
        while n > 0:
            avail = len(self._buf) - self._pos
            if n <= avail:
                self._pos += n
                return
            n -= avail
            self._pos = len(self._buf)
            if not self._fill():
                raise ArtifactError(f"{self._where}: truncated tar stream")

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes more of the current regular file's content (``b""`` at its end;
        fewer than asked only at its end or where the stream is cut short)."""
        n = min(n, self._left)
        if n <= 0:
            return b""
        data = self._take(n)
        self._left -= len(data)
        if len(data) < n:
            self._left = 0
        return data

    def _long(self, size: int) -> str:
        """A GNU long name or link target of ``size`` bytes, up to its first NUL (dpkg reads
        it as a C string)."""
        if size > NAME_MAX:
            raise ArtifactError(
                f"{self._where}: tar entry long name or link is too big ({size} bytes)"
            )
        data = self._take(size)
        self._skip(-size % BLOCK)
        if len(data) < size:
            raise ArtifactError(f"{self._where}: truncated tar stream")
        return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")

    def __iter__(self) -> Iterator[TarEntry]:
        long_name: str | None = None
        long_link: str | None = None
        while True:
            self._skip(self._left + self._pad)
            self._left = self._pad = 0
            block = self._take(BLOCK)
            if not block:
                return  # the stream ends on a header boundary: dpkg stops there too
            if len(block) < BLOCK:
                raise ArtifactError(f"{self._where}: partially read tar header")
            try:
                name, kind, mode, size, mtime, link = decode_header(block)
            except HeaderError as exc:
                if block[0] == 0:
                    return  # a header with an empty name that does not decode: end of archive
                raise ArtifactError(f"{self._where}: {exc}") from None
            if kind in (_LONGNAME, _LONGLINK):
                text = self._long(size)
                if kind == _LONGNAME:
                    long_name = text
                else:
                    long_link = text
                continue
            if long_name is not None:
                name = long_name
            if long_link is not None:
                link = long_link
            long_name = long_link = None
            if not name:
                raise ArtifactError(f"{self._where}: invalid tar header with empty name field")
            what = _TYPES.get(kind)
            if what is None:
                why = _REFUSED.get(kind, "unknown tar header type")
                shown = kind.decode("latin-1").encode("unicode_escape").decode()
                raise ArtifactError(
                    f"{self._where}: {name}: {why} '{shown}' (dpkg cannot unpack it)"
                )
            if what == "file" and name.endswith("/"):
                what = "dir"  # pre-ANSI ustar, as dpkg reads it
            if what == "dir":
                name = name.rstrip("/") or name
            if what == "file":
                self._left = size
                self._pad = -size % BLOCK
            else:
                size = 0  # only a regular file's entry is followed by content
            yield TarEntry(
                name, what, mode, size, mtime, link if what in ("symlink", "hardlink") else ""
            )
