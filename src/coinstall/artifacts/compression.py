"""The one switch on compression kinds: a .deb's ``control.tar.*``/``data.tar.*`` members, an
RPM's cpio payload and the package indices (Debian ``Packages``, RPM repodata) are all
decompressed as streams by :func:`open_decompressed`.

Kinds (:data:`KINDS`) and how each is told:

* by magic number (:func:`kind_of_magic`; indices, whose file names are not trusted): gzip
  ``1f 8b`` (RFC 1952), xz ``fd 37 7a 58 5a 00`` (the .xz file format), lz4 frame
  ``04 22 4d 18`` (apt's own lists), zstd frame ``28 b5 2f fd`` (RFC 8878), bzip2 ``BZh``;
* by member name suffix (:func:`kind_of_member`; dpkg's ``deb(5)``: ``.tar``, ``.tar.gz``,
  ``.tar.xz``, ``.tar.bz2``, ``.tar.zst``);
* by the RPM header's ``PAYLOADCOMPRESSOR`` tag (:func:`kind_of_rpm_payload`; rpm
  ``lib/rpmio`` names ``gzip``, ``xz``, ``lzma``, ``bzip2``, ``zstd``; absent means gzip).

The readers are the libraries' (:mod:`gzip`, :mod:`lzma`, :mod:`bz2`, ``zstandard``,
``lz4.frame``); zstd is read frame by frame here (glue: ``zstandard``'s streaming reader
returns what it got from a frame cut short without an error).  Every reader is a stream: the
caller bounds what is read (:class:`coinstall.artifacts.limits.Budget` for packages, the
``index-mb`` cap for indices); no call expands more than a bounded amount at once.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from typing import IO, Literal, cast, get_args

#: A compression kind, named by its usual file suffix; ``"none"`` for an uncompressed stream.
Compression = Literal["none", "gz", "xz", "bz2", "zst", "lz4"]

#: The compression kinds, from :data:`Compression`.
KINDS: tuple[Compression, ...] = get_args(Compression)

_MAGIC: tuple[tuple[bytes, Compression], ...] = (
    (b"\x1f\x8b", "gz"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x28\xb5\x2f\xfd", "zst"),
    (b"BZh", "bz2"),
)
_SUFFIX: dict[str, Compression] = {
    ".tar": "none",
    ".tar.gz": "gz",
    ".tar.xz": "xz",
    ".tar.bz2": "bz2",
    ".tar.zst": "zst",
}
_RPM: dict[str, Compression] = {
    "": "gz",
    "gzip": "gz",
    "xz": "xz",
    "lzma": "xz",
    "bzip2": "bz2",
    "zstd": "zst",
}


def kind_of_magic(head: bytes) -> Compression | None:
    """The kind a stream's first bytes (8 are enough) announce, None for none known."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def kind_of_member(name: str) -> Compression | None:
    """The kind of a .deb member by its name (``data.tar.zst`` -> ``"zst"``), None when it is
    not a tar member dpkg reads."""
    for suffix, kind in _SUFFIX.items():
        if name.endswith(suffix):
            return kind
    return None


def kind_of_rpm_payload(compressor: str) -> Compression | None:
    """The kind of an RPM payload from its header's ``PAYLOADCOMPRESSOR`` (``""``: absent,
    rpm's default gzip, ``"gz"``; ``lzma``: the legacy format, which :class:`lzma.LZMAFile` also
    reads), None for one rpm does not write."""
    return _RPM.get(compressor)


class _ZstdFrames:
    """A stream over every zstd frame of ``raw`` that raises on a frame cut short (the
    library's streaming reader would return what it got without a word).  Input is fed in
    small pieces so one call never expands more than a bounded amount."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj = self._dctx.decompressobj()
        self._pending = b""
        self._started = False
        self._buf = bytearray()

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left for a negative ``n``); ``b""`` at the end."""
        while n < 0 or len(self._buf) < n:
            more = self._next()
            if not more:
                break
            self._buf += more
        if n < 0 or n >= len(self._buf):
            out = bytes(self._buf)
            self._buf.clear()
        else:
            out = bytes(self._buf[:n])
            del self._buf[:n]
        return out

    def _next(self) -> bytes:
        while True:
            piece = self._pending or self._raw.read(4096)
            self._pending = b""
            if not piece:
                if self._started and not self._dobj.eof:
                    raise EOFError("zstd frame ends early")
                return b""
            if self._dobj.eof:  # the next frame
                self._dobj = self._dctx.decompressobj()
            self._started = True
            out: bytes = self._dobj.decompress(piece)
            if self._dobj.eof:
                self._pending = self._dobj.unused_data
            if out:
                return out

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _ZstdFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_decompressed(raw: IO[bytes], kind: Compression) -> IO[bytes]:
    """A binary stream of ``raw`` decompressed as ``kind`` (one of :data:`KINDS`; ``raw``
    itself for ``"none"``).  Closing it closes ``raw`` for zstd, not for the others (the
    standard library's file objects leave a passed file object open).

    Raises:
        ValueError: an unknown kind.  Damaged data raises from ``read`` (each library's own
            errors, ``EOFError`` for a stream cut short).
    """
    if kind == "none":
        return raw
    if kind == "gz":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw))
    if kind == "xz":
        return cast(IO[bytes], lzma.LZMAFile(raw))
    if kind == "bz2":
        return cast(IO[bytes], bz2.BZ2File(raw))
    if kind == "zst":
        return cast(IO[bytes], _ZstdFrames(raw))
    if kind == "lz4":
        import lz4.frame

        return cast(IO[bytes], lz4.frame.LZ4FrameFile(raw, "rb"))
    raise ValueError(f"unknown compression kind {kind!r}")
