"""Limits that keep a reader's memory and time bounded by settings, not by what an archive
claims to hold.

Every byte of an artifact is treated as hostile: a member may claim (or decompress to) gigabytes,
a payload may be a decompression bomb, a control member may be a gigabyte of text.  The readers
count every byte they decompress against a :class:`Budget`; going past a limit is an
:class:`~coinstall.artifacts.base.ArtifactError` for that artifact alone, with one line such as
``data.tar.xz: expands beyond 2048 MB``.

The defaults are far above every real package of the test corpora (measured with
``benchmarks/hostile_bench.py --limits`` over the 101 artifacts of ``.cache/corpus`` and
``tests/data/rpm``: the largest member is numpy 2.1.3's macOS ``libscipy_openblas64_.dylib`` at
65.8 MB, the largest artifact expands to 95.8 MB, the highest expanded/on-disk ratio of an
artifact is 10.2 (python3-chardet), the largest metadata member is Django 5.1.4's ``RECORD`` at
0.37 MB; bookworm's ``Sources`` index expands to 48.4 MB).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from typing import IO, NamedTuple, Protocol

from coinstall.artifacts.base import HEAD_SIZE, ArtifactError, Member

_MB = 1 << 20
#: Bytes read per call while streaming a member (hashing and counting in chunks).
CHUNK = 1 << 20
#: The ratio limit applies only once an artifact has expanded past this many bytes, so a tiny
#: package of highly compressible text is never refused.
RATIO_FLOOR = 32 * _MB
#: Longest member name or link target a reader accepts (Linux ``PATH_MAX``).
NAME_MAX = 4096


@dataclass(frozen=True)
class Limits:
    """The bounds a reader works within (sizes in MB of 2**20 bytes).

    Attributes:
        member_mb: most bytes one member may expand to (largest real member: 65.8 MB).
        artifact_mb: most bytes all of an artifact's compressed streams may expand to together
            (largest real artifact: 95.8 MB).
        ratio: most expanded bytes per byte of the artifact file, checked once the artifact
            has expanded past 32 MB (highest real ratio: 10.2).
        metadata_mb: largest metadata or control member read whole (``METADATA``, ``RECORD``,
            ``WHEEL``, ``PKG-INFO``, a .deb's ``control.tar`` expanded; largest real: 0.37 MB).
        content_mb: largest other member held whole in memory (extension modules whose symbols
            are read, sources of hash-based pycs); a larger one is spooled to an anonymous
            temporary file and read from there (its ELF header and symbols by offset), never
            held whole.
        index_mb: most bytes one repository index (``Packages``, ``Sources``, repodata XML)
            may expand to (largest real: bookworm's ``Sources``, 48.4 MB).
    """

    member_mb: int = 2048
    artifact_mb: int = 8192
    ratio: int = 200
    metadata_mb: int = 16
    content_mb: int = 128
    index_mb: int = 1024

    @classmethod
    def keys(cls) -> list[str]:
        """The option names as written in configuration and on the command line
        (``member-mb`` ...)."""
        return [f.name.replace("_", "-") for f in fields(cls)]

    def with_values(self, values: dict[str, int]) -> Limits:
        """A copy with ``{"member-mb": 4096, ...}`` applied.

        Raises:
            ValueError: an unknown key or a value that is not a positive integer.
        """
        out = {}
        for key, value in values.items():
            if key not in self.keys():
                raise ValueError(f"unknown limit {key!r} (known: {', '.join(self.keys())})")
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"limit {key} must be a positive integer")
            out[key.replace("-", "_")] = value
        return replace(self, **out)


#: The limits in force when a caller gives none (:func:`set_default` changes them for a run).
_default = Limits()


def default() -> Limits:
    """The limits of this run (set once by the command line from config and options)."""
    return _default


def set_default(limits: Limits) -> None:
    """Make ``limits`` the default for every reader opened afterwards."""
    global _default
    _default = limits


class Budget:
    """Counts the bytes one artifact expands to.

    Args:
        limits: the bounds.
        file_size: the artifact's size on disk, for the ratio.
        cap_mb, cap_key: the cap on the total and its option name (default ``artifact_mb``;
            a .deb's control.tar is capped by ``metadata_mb``).
    """

    def __init__(
        self,
        limits: Limits,
        file_size: int,
        *,
        cap_mb: int | None = None,
        cap_key: str = "artifact-mb",
    ) -> None:
        self.limits = limits
        self.file_size = max(file_size, 1)
        self.cap_mb = limits.artifact_mb if cap_mb is None else cap_mb
        self.cap_key = cap_key
        self.total = 0

    def add(self, n: int, where: str) -> None:
        """Count ``n`` more expanded bytes of ``where`` (a member or stream name).

        Raises:
            ArtifactError: ``"<where>: expands beyond N MB"`` past the artifact limit or past
                the ratio.
        """
        self.total += n
        lim = self.limits
        if self.total > self.cap_mb * _MB:
            raise ArtifactError(f"{where}: expands beyond {self.cap_mb} MB (limit {self.cap_key})")
        if self.total > RATIO_FLOOR and self.total > lim.ratio * self.file_size:
            mb = self.total // _MB
            raise ArtifactError(
                f"{where}: expands beyond {mb} MB, more than {lim.ratio} times "
                f"the file's size (limit ratio)"
            )


class CountingReader:
    """A read-only binary stream that counts what it returns against a :class:`Budget`
    (wrap a decompressing stream in it so skipped data counts too)."""

    def __init__(self, raw: IO[bytes], budget: Budget, where: str) -> None:
        self._raw = raw
        self._budget = budget
        self._where = where

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK  # never an unbounded read
        data = self._raw.read(n)
        self._budget.add(len(data), self._where)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()


def check_member_size(path: str, size: int, limits: Limits) -> None:
    """Refuse a member that claims more than ``member_mb``.

    Raises:
        ArtifactError: ``"<path>: expands beyond N MB"``.
    """
    if size > limits.member_mb * _MB:
        raise ArtifactError(f"{path}: expands beyond {limits.member_mb} MB (limit member-mb)")


class Readable(Protocol):
    """What :func:`read_member` reads from: a binary file object, or
    :class:`coinstall.artifacts.debtar.DebTar` for the current tar entry."""

    def read(self, n: int, /) -> bytes: ...


class MemberData(NamedTuple):
    """What :func:`read_member` read: the head, the whole content (in memory) or a spool (an
    anonymous temporary file holding it, positioned at 0), and the SHA-256."""

    head: bytes
    content: bytes | None
    sha256: str | None
    spool: IO[bytes] | None = None


def file_members(
    got: MemberData, size: int, names: Iterable[tuple[str, int | None, int | None]]
) -> Iterator[Member]:
    """Yield the regular-file :class:`~coinstall.artifacts.base.Member` of each
    ``(path, mode, mtime)`` in ``names``, all with the data read once (``got``, ``size`` bytes):
    one name for a plain file, several for a hard-link set (cpio's "newc" names the data once;
    the spool is rewound for each).  The spool is closed afterwards, also when the caller stops
    early: it is valid until the next member is read (:attr:`Member.spool`).  Every reader
    yields its regular files through here."""
    try:
        for path, mode, mtime in names:
            if got.spool is not None:
                got.spool.seek(0)
            yield Member(
                path=path,
                type="file",
                mode=mode,
                size=size,
                mtime=mtime,
                head=got.head,
                content=got.content,
                sha256=got.sha256,
                spool=got.spool,
            )
    finally:
        if got.spool is not None:
            got.spool.close()


def read_member(
    fh: Readable,
    path: str,
    size: int,
    *,
    want: bool,
    digest: bool,
    limits: Limits,
    metadata: bool = False,
    budget: Budget | None = None,
) -> MemberData:
    """Stream one member: its head, its whole content if wanted, its SHA-256 if asked.

    Reads in chunks of :data:`CHUNK` bytes.  A wanted member up to ``content_mb`` is kept in
    memory; a larger one is written to an anonymous temporary file (:attr:`MemberData.spool`),
    so memory never holds it whole.  A metadata member above ``metadata_mb`` is an error: it is
    parsed as text, whole.  ``budget`` counts the bytes when the reader's stream is not
    already counted (zip members).

    Raises:
        ArtifactError: the member is longer than a limit or shorter than it claims.
    """
    check_member_size(path, size, limits)
    spool: IO[bytes] | None = None
    if want and metadata and size > limits.metadata_mb * _MB:
        raise ArtifactError(
            f"{path}: {size // _MB} MB, above the {limits.metadata_mb} MB "
            f"read whole (limit metadata-mb)"
        )
    if want and not metadata and size > limits.content_mb * _MB:
        # Metadata is parsed whole (its callers need ``content``): metadata-mb caps it, not
        # content-mb, which bounds the other members held in memory.
        import tempfile  # only for a member this large: start-up need not pay for it

        spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, closed by it
    if not want and not digest:
        head = fh.read(HEAD_SIZE)
        if budget is not None:
            budget.add(len(head), path)
        if len(head) < min(size, HEAD_SIZE):
            raise ArtifactError(f"{path}: truncated member")
        return MemberData(head, None, None)
    try:
        return _stream(fh, path, size, want, digest, budget, spool)
    except BaseException:
        if spool is not None:
            spool.close()
        raise


def _stream(
    fh: Readable,
    path: str,
    size: int,
    want: bool,
    digest: bool,
    budget: Budget | None,
    spool: IO[bytes] | None,
) -> MemberData:
    h = hashlib.sha256() if digest else None
    parts: list[bytes] = []
    head = b""
    got = 0
    while True:
        chunk = fh.read(CHUNK)
        if not chunk:
            break
        got += len(chunk)
        if budget is not None:
            budget.add(len(chunk), path)
        if got > size:
            # the stream gives more than the header claims: the claim was a lie.
            raise ArtifactError(f"{path}: member longer than its recorded size")
        if len(head) < HEAD_SIZE:
            head += chunk[: HEAD_SIZE - len(head)]
        if h is not None:
            h.update(chunk)
        if spool is not None:
            spool.write(chunk)
        elif want:
            parts.append(chunk)
    if got < size:
        raise ArtifactError(f"{path}: truncated member")
    sha = h.hexdigest() if h is not None else None
    if spool is not None:
        spool.seek(0)
        return MemberData(head, None, sha, spool)
    return MemberData(head, b"".join(parts) if want else None, sha)


def read_regular(path: str, cap: int, key: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``cap`` bytes: ``stat`` before
    ``open`` (:func:`coinstall.artifacts.open_regular`: a FIFO, socket or device such as
    ``/dev/zero`` is never opened, so never waited on or read without end), then at most
    ``cap + 1`` bytes read, so a file growing while read is refused too.  For the files a
    command reads whole besides artifacts: configuration, saved plans, check results.

    Args:
        cap: the most bytes accepted; ``key`` names the limit in the message
            (``"limit index-mb"``).

    Raises:
        ArtifactError: one line: missing, unreadable, not a regular file, or larger than
            ``cap`` (``"N MB, above the M MB read whole (KEY)"``).
    """
    import os

    from coinstall.artifacts import open_regular  # the package imports this module

    fd = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        data = f.read(cap + 1) if size <= cap else b""
    if size > cap or len(data) > cap:
        got = max(size, len(data))
        raise ArtifactError(f"{got // _MB} MB, above the {cap // _MB} MB read whole ({key})")
    return data
