"""Debian binary package reader (deb(5)).

The ``ar`` container is read with python-debian's :class:`debian.arfile.ArFile` and the control
file with :class:`debian.deb822.Deb822`.  ``control.tar`` and ``data.tar`` are read here as
*streams*, decompressed by :func:`coinstall.artifacts.compression.open_decompressed` (gzip,
xz, bzip2, zstd by the member's suffix) and walked as dpkg walks them
(:mod:`coinstall.artifacts.debtar`: a type dpkg refuses is an error).  Glue, not reuse:
python-debian's ``DebFile.data.tgz()`` opens the tar in random-access mode and pipes zstd
through an external ``unzstd`` process, which reads the payload twice and needs a program on
PATH.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import IO, cast

import zstandard  # its error type, for the one-line reason
from debian.arfile import ArError, ArFile, ArMember
from debian.deb822 import Deb822

from coinstall.artifacts import limits as limits_mod
from coinstall.artifacts.base import (
    ArtifactError,
    ArtifactInfo,
    Member,
    WantContent,
    WantHead,
    exc_line,
    safe_path,
)
from coinstall.artifacts.compression import kind_of_member, open_decompressed
from coinstall.artifacts.debtar import DebTar, TarEntry
from coinstall.artifacts.limits import Budget, Limits, file_members, read_member

#: Relation fields of a binary package (Debian Policy §7.1), kept as ``requires``.
_REQUIRES_FIELDS = ("Pre-Depends", "Depends")


def _split_relations(value: str) -> list[str]:
    return [" ".join(part.split()) for part in value.split(",") if part.strip()]


def _open_tar(member: ArMember, name: str, budget: Budget) -> DebTar:
    """The entries of an ``ar`` member named ``*.tar[.gz|.xz|.bz2|.zst]``, walked as dpkg walks
    them (:mod:`coinstall.artifacts.debtar`), every decompressed byte (read or skipped) counted
    against ``budget``."""
    kind = kind_of_member(name)
    if kind is None:
        raise ArtifactError(f"{name}: unsupported compression")
    stream = open_decompressed(cast(IO[bytes], member), kind)
    return DebTar(stream, budget, name)


class DebReader:
    """Reader for one ``.deb`` file.

    Raises:
        ArtifactError: from the constructor if the file is not an ``ar`` archive, has no
            ``debian-binary``/``control.tar.*``/``data.tar.*`` member, or its control file is
            unreadable.
    """

    def __init__(self, path: str, limits: Limits | None = None) -> None:
        self.problems: list[str] = []
        self._limits = limits or limits_mod.default()
        try:
            self._ar = ArFile(path)
            self._size = os.path.getsize(path)
        except Exception as exc:  # python-debian's ArFile raises bare errors on damage
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
            path=path,
            format="deb",
            name=control.get("Package"),
            version=control.get("Version"),
            arch=control.get("Architecture"),
            provides=_split_relations(control.get("Provides", "")),
            requires=requires,
            fields={k: str(v) for k, v in control.items()},
        )

    def _read_control(self, name: str) -> Deb822:
        # control.tar is metadata: all of it together is capped by metadata-mb.
        lim = self._limits
        budget = Budget(lim, self._size, cap_mb=lim.metadata_mb, cap_key="metadata-mb")
        try:
            member = self._ar.getmember(name)
            tar = _open_tar(member, name, budget)
            for entry in tar:
                if entry.type == "file" and safe_path(entry.name) == "control":
                    data = read_member(
                        tar,
                        f"{name}/control",
                        entry.size,
                        want=True,
                        digest=False,
                        limits=lim,
                        metadata=True,
                    ).content
                    assert data is not None
                    return Deb822(data.decode("utf-8", "replace"))
        except ArtifactError:
            raise
        except Exception as exc:  # tarfile, the decompressors, python-debian: open-ended
            raise ArtifactError(f"{name}: {_reason(exc)}") from None
        raise ArtifactError(f"{name}: no control file")

    def members(
        self,
        want_content: WantContent,
        digests: bool = False,
        want_head: WantHead | None = None,  # a stream: every head is read anyway
    ) -> Iterator[Member]:
        """Yield each entry of ``data.tar`` once, streaming."""
        assert self._data_name is not None
        budget = Budget(self._limits, self._size)
        try:
            member = self._ar.getmember(self._data_name)
            tar = _open_tar(member, self._data_name, budget)
            for entry in tar:
                path = safe_path(entry.name)
                if path is None:
                    self.problems.append(f"{entry.name}: member path leaves the package")
                    continue
                if not path:
                    continue
                yield from _tar_members(tar, entry, path, want_content, digests, self._limits)
        except ArtifactError:
            raise
        except Exception as exc:  # tarfile and the decompressors raise open-ended errors
            raise ArtifactError(f"{self._data_name}: {_reason(exc)}") from None


def _tar_members(
    tar: DebTar,
    entry: TarEntry,
    path: str,
    want_content: WantContent,
    digests: bool,
    limits: Limits,
) -> Iterator[Member]:
    """The :class:`Member` of one entry (none for devices and FIFOs, which hold no file)."""
    mode, mtime = entry.mode, entry.mtime
    kind = entry.type
    if kind == "file":
        got = read_member(
            tar,
            path,
            entry.size,
            want=want_content(path, entry.size),
            digest=digests,
            limits=limits,
        )
        yield from file_members(got, entry.size, [(path, mode, mtime)])
    elif kind == "dir":
        yield Member(path=path, type="dir", mode=mode, size=0, mtime=mtime)
    elif kind == "symlink":
        yield Member(
            path=path, type="symlink", mode=mode, size=0, mtime=mtime, link_target=entry.linkname
        )
    elif kind == "hardlink":
        yield Member(
            path=path,
            type="hardlink",
            mode=mode,
            size=0,
            mtime=mtime,
            link_target=safe_path(entry.linkname) or entry.linkname,
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError | io.UnsupportedOperation):
        return f"truncated or corrupt ({exc_line(exc)})"
    return exc_line(exc, typed=not isinstance(exc, ArError | zstandard.ZstdError | OSError))
