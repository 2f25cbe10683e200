"""One interface for every package format: an artifact's header, then its members in one pass.

A reader opens an artifact (wheel, .deb, RPM, directory), reads its header data first
(:class:`ArtifactInfo`: name, version, architecture, provides, requires, control fields), then
yields its members (:class:`Member`) in archive order, each read once from the stream.  Nothing
is extracted to disk and nothing is executed.  Readers know no policy: which members need their
full content is decided by the caller through ``want_content``.

A member whose name is absolute or climbs out of the tree (``/abs``, ``../x``) is not yielded
as a file; it is recorded in :attr:`ArtifactReader.problems` and reading goes on.
"""

from __future__ import annotations

import posixpath
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Protocol

#: Bytes of every regular member kept as :attr:`Member.head`: enough for a pyc header
#: (16 bytes), an ELF identification and header (64 bytes) and a shebang line (dh-python reads
#: at most 96 bytes of the first line; the kernel's limit is 256 since Linux 5.1).
HEAD_SIZE = 512

#: ``want_content(path, size) -> bool``: whether the caller needs the member's whole content.
WantContent = Callable[[str, int], bool]
#: ``want_head(path, st_mode) -> bool``: whether the caller needs the first :data:`HEAD_SIZE`
#: bytes of a regular member whose whole content it does not want.  Only a directory's reader
#: asks (it then opens no other file); a stream's readers read every head anyway.
WantHead = Callable[[str, int], bool]


class ArtifactError(Exception):
    """The artifact cannot be read: not of its format, truncated, corrupt, unreadable.

    ``str(err)`` is one line that names the problem; the caller adds the file name.
    """


@dataclass(frozen=True)
class Member:
    """One entry of an artifact.

    Attributes:
        path: normalised relative POSIX path: for system packages the installed path without
            the leading ``/`` (``usr/lib/python3/dist-packages/yaml/__init__.py``), for wheels
            the path inside the wheel (``yaml/__init__.py``, ``foo-1.0.data/scripts/bar``), for
            directories the path below the directory given.
        type: ``"file"``, ``"dir"``, ``"symlink"`` or ``"hardlink"``.
        mode: permission bits (``0o755``), None if the format has none (wheels without them).
        size: size in bytes of a regular file, 0 otherwise.
        mtime: modification time in seconds since the epoch, None if unknown.
        link_target: target of a symbolic or hard link.
        head: the first :data:`HEAD_SIZE` bytes of a regular file (empty otherwise).
        content: the whole content when the caller asked for it, else None.
        sha256: hex SHA-256 of the content when the caller asked for digests (computed while
            streaming, in chunks), else None.
        spool: when the caller asked for the content and it is larger than the ``content-mb``
            limit: an anonymous temporary file holding it (``content`` is then None), valid
            until the next member is read.
    """

    path: str
    type: str
    mode: int | None
    size: int
    mtime: int | None = None
    link_target: str | None = None
    head: bytes = b""
    content: bytes | None = None
    sha256: str | None = None
    spool: IO[bytes] | None = None

    @property
    def executable(self) -> bool:
        """True if any execute bit is set (False when the format records no mode)."""
        return self.mode is not None and bool(self.mode & 0o111)

    @property
    def name(self) -> str:
        """The last path component."""
        return posixpath.basename(self.path)


@dataclass
class ArtifactInfo:
    """What an artifact says about itself, before its files.

    Attributes:
        path: the artifact as given on the command line.
        format: ``"wheel"``, ``"deb"``, ``"rpm"`` or ``"tree"``.
        name, version: package name and version (``version`` includes the release for RPM and
            the Debian revision for .deb); None for a directory.
        arch: ``x86_64``/``noarch`` (RPM), ``amd64``/``all`` (.deb), the wheel platform tags
            joined with ``.``, None for a directory.
        provides, requires: relation strings as the format writes them (RPM ``name op ver``,
            Debian fields split on ``,``); empty for wheels (see ``fields``).
        fields: other header fields by their format's names (Debian control fields such as
            ``Multi-Arch``, ``Source``; RPM ``vendor``, ``distribution``, ``sourcerpm``;
            wheel ``Tag``, ``Root-Is-Purelib``, ``Requires-Python``).
    """

    path: str
    format: str
    name: str | None = None
    version: str | None = None
    arch: str | None = None
    provides: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


class ArtifactReader(Protocol):
    """What every reader offers."""

    info: ArtifactInfo
    #: One line per member that was skipped as unsafe or unreadable (``"../x: path leaves the
    #: package"``); filled while :meth:`members` runs.
    problems: list[str]

    def members(
        self,
        want_content: WantContent,
        digests: bool = False,
        want_head: WantHead | None = None,
    ) -> Iterator[Member]:
        """Yield every member once, in archive order; with ``digests`` every regular member's
        :attr:`Member.sha256` is computed in chunks.  ``want_head`` (None: every head) may
        leave a member's :attr:`Member.head` empty where it says False (a directory's reader
        then does not open the file; stream readers ignore it).

        Raises:
            ArtifactError: the payload is truncated or corrupt, or goes past a limit
                (:mod:`coinstall.artifacts.limits`).
        """
        ...


def exc_line(exc: BaseException, *, typed: bool = False) -> str:
    """One line for an exception: the first line of its message, prefixed with its type name
    when ``typed`` (for errors no reader foresaw: ``"error: Error -3 while decompressing"``
    says less than ``"zlib.error: ..."``), the type name alone when the message is empty."""
    text = (str(exc).splitlines() or [""])[0]
    kind = type(exc).__name__
    if not text:
        return kind
    return f"{kind}: {text}" if typed else text


def safe_path(name: str) -> str | None:
    """Normalise an archive member name to a relative POSIX path, or None if it is unsafe.

    ``./usr/bin/x`` -> ``usr/bin/x``; ``/etc/x``, ``../x``, ``a/../../x`` -> None.  The
    archive root itself (``.`` or ``./``) gives ``""``.
    """
    if name.startswith("/") or "\x00" in name:
        return None
    while name.startswith("./"):
        name = name[2:]
    if name in (".", ""):
        return ""
    norm = posixpath.normpath(name)
    if norm == ".." or norm.startswith("../") or norm.startswith("/"):
        return None
    return norm


def member_type(mode: int) -> str:
    """``"file"``, ``"dir"``, ``"symlink"`` or ``"other"`` from a ``st_mode`` value."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def wheel_tags(info: ArtifactInfo) -> list[tuple[str, str, str]]:
    """A wheel's tags as ``(interpreter, abi, platform)`` triples, from the ``Tag`` field
    :class:`coinstall.artifacts.wheel.WheelReader` writes (the file name's compressed tag set,
    PEP 427/425, expanded by packaging); empty for other artifacts.  Here, not beside the
    reader: rules read it on every artifact, and the wheel reader's imports (zipfile,
    packaging.metadata) are for wheels only."""
    out: list[tuple[str, str, str]] = []
    for text in (info.fields.get("Tag") or "").split(","):
        text = text.strip()
        if text:
            # packaging.tags imports subprocess, logging and sysconfig: only a wheel pays
            from packaging.tags import parse_tag

            out += [(t.interpreter, t.abi, t.platform) for t in parse_tag(text)]
    return out
