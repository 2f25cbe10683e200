"""Debian binary package reader (deb(5)).

The ``ar`` container is read with python-debian's :class:`debian.arfile.ArFile` and the control
file with :class:`debian.deb822.Deb822`.  The ``data.tar`` member is read here as a *stream*
with :mod:`tarfile` (``r|``), decompressing gzip, xz and bzip2 with tarfile itself and zstd with
the ``zstandard`` library.  Glue, not reuse: python-debian's ``DebFile.data.tgz()`` opens the
tar in random-access mode and pipes zstd through an external ``unzstd`` process, which reads
the payload twice and needs a program on PATH.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from typing import IO, cast

import zstandard
from debian.arfile import ArError, ArFile, ArMember
from debian.deb822 import Deb822

from coinstall.artifacts.base import (
    HEAD_SIZE,
    ArtifactError,
    ArtifactInfo,
    Member,
    WantContent,
    safe_path,
)

#: Relation fields of a binary package (Debian Policy §7.1), kept as ``requires``.
_REQUIRES_FIELDS = ("Pre-Depends", "Depends")


def _split_relations(value: str) -> list[str]:
    return [" ".join(part.split()) for part in value.split(",") if part.strip()]


def _open_tar(member: ArMember, name: str) -> tarfile.TarFile:
    """A stream-mode TarFile over an ``ar`` member named ``*.tar[.gz|.xz|.bz2|.zst]``."""
    raw = cast(IO[bytes], member)
    if name.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        stream = cast(IO[bytes], reader)
        return tarfile.open(fileobj=stream, mode="r|")
    if name.endswith((".gz", ".xz", ".bz2", ".tar")):
        return tarfile.open(fileobj=raw, mode="r|*")
    raise ArtifactError(f"{name}: unsupported compression")


class DebReader:
    """Reader for one ``.deb`` file.

    Raises:
        ArtifactError: from the constructor if the file is not an ``ar`` archive, has no
            ``debian-binary``/``control.tar.*``/``data.tar.*`` member, or its control file is
            unreadable.
    """

    def __init__(self, path: str) -> None:
        self.problems: list[str] = []
        try:
            self._ar = ArFile(path)
        except (ArError, OSError, ValueError, IndexError) as exc:
            raise ArtifactError(f"not a Debian package: {_reason(exc)}") from None
        names = self._ar.getnames()
        if not names or names[0] != "debian-binary":
            raise ArtifactError("not a Debian package: first ar member is not debian-binary")
        control_name = next((n for n in names if n.startswith("control.tar")), None)
        self._data_name = next((n for n in names if n.startswith("data.tar")), None)
        if control_name is None or self._data_name is None:
            raise ArtifactError("not a Debian package: control.tar or data.tar is missing")
        control = self._read_control(control_name)
        requires: list[str] = []
        for key in _REQUIRES_FIELDS:
            requires += _split_relations(control.get(key, ""))
        self.info = ArtifactInfo(
            path=path, format="deb", name=control.get("Package"), version=control.get("Version"),
            arch=control.get("Architecture"),
            provides=_split_relations(control.get("Provides", "")),
            requires=requires, fields={k: str(v) for k, v in control.items()},
        )

    def _read_control(self, name: str) -> Deb822:
        member = self._ar.getmember(name)
        try:
            with _open_tar(member, name) as tar:
                for ti in tar:
                    if safe_path(ti.name) == "control" and ti.isfile():
                        fh = tar.extractfile(ti)
                        if fh is None:
                            break
                        return Deb822(fh.read().decode("utf-8", "replace"))
        except (tarfile.TarError, zstandard.ZstdError, OSError, EOFError) as exc:
            raise ArtifactError(f"{name}: {_reason(exc)}") from None
        raise ArtifactError(f"{name}: no control file")

    def members(self, want_content: WantContent) -> Iterator[Member]:
        """Yield each entry of ``data.tar`` once, streaming."""
        assert self._data_name is not None
        member = self._ar.getmember(self._data_name)
        try:
            with _open_tar(member, self._data_name) as tar:
                for ti in tar:
                    path = safe_path(ti.name)
                    if path is None:
                        self.problems.append(f"{ti.name}: member path leaves the package")
                        continue
                    if not path:
                        continue
                    yield from _tar_member(tar, ti, path, want_content)
        except (tarfile.TarError, zstandard.ZstdError, OSError, EOFError) as exc:
            raise ArtifactError(f"{self._data_name}: {_reason(exc)}") from None


def _tar_member(
    tar: tarfile.TarFile, ti: tarfile.TarInfo, path: str, want_content: WantContent
) -> Iterator[Member]:
    mode = ti.mode & 0o7777
    if ti.isdir():
        yield Member(path=path, type="dir", mode=mode, size=0, mtime=int(ti.mtime))
    elif ti.issym():
        yield Member(path=path, type="symlink", mode=mode, size=0, mtime=int(ti.mtime),
                     link_target=ti.linkname)
    elif ti.islnk():
        yield Member(path=path, type="hardlink", mode=mode, size=0, mtime=int(ti.mtime),
                     link_target=safe_path(ti.linkname) or ti.linkname)
    elif ti.isfile():
        fh = tar.extractfile(ti)
        data = fh.read() if fh is not None and want_content(path, ti.size) else None
        if data is not None:
            head = data[:HEAD_SIZE]
        else:
            head = fh.read(HEAD_SIZE) if fh is not None else b""
        if len(head) < min(ti.size, HEAD_SIZE):
            raise ArtifactError(f"{path}: truncated member")
        yield Member(path=path, type="file", mode=mode, size=ti.size, mtime=int(ti.mtime),
                     head=head, content=data)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError | io.UnsupportedOperation):
        return f"truncated or corrupt ({text})"
    return text.splitlines()[0] if text else type(exc).__name__
