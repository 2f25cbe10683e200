"""Readers, one per package format, behind one interface (:mod:`coinstall.artifacts.base`)."""

from __future__ import annotations

import os
import stat

from coinstall.artifacts.base import ArtifactError, ArtifactInfo, ArtifactReader, Member
from coinstall.artifacts.limits import Limits

__all__ = [
    "ArtifactError",
    "ArtifactInfo",
    "ArtifactReader",
    "Limits",
    "Member",
    "file_kind",
    "open_artifact",
    "open_regular",
]

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def file_kind(mode: int) -> str:
    """``"a FIFO"``, ``"a socket"``, ... for an ``st_mode`` that is neither a regular file nor a
    directory (for the one line that says why it was not opened)."""
    for test, what in _KINDS:
        if test(mode):
            return what
    return "not a regular file"


def open_regular(path: str) -> int:
    """Open ``path`` for reading only if it is a regular file, without blocking: a FIFO, a
    socket or a device is never opened for reading (a FIFO's ``open`` blocks until a writer
    comes, a device may never end).  ``stat`` first; ``O_NONBLOCK`` and an ``fstat`` of the
    descriptor close the race of a file swapped between the two.

    Returns:
        a file descriptor (the caller closes it).

    Raises:
        ArtifactError: missing, unreadable, or not a regular file.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ArtifactError(f"{file_kind(st.st_mode)}, not a regular file: not opened")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ArtifactError(exc.strerror or str(exc)) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ArtifactError(f"{file_kind(st.st_mode)}, not a regular file: not opened")
    return fd


def open_artifact(path: str, limits: Limits | None = None) -> ArtifactReader:
    """Open ``path`` with the reader its content calls for, within ``limits`` (default: those
    of the run, :func:`coinstall.artifacts.limits.default`).

    ``stat`` first: only a directory (a tree) or a regular file is opened; a FIFO, socket or
    device is refused unopened.  A file is recognised by its first bytes (``!<arch>`` .deb,
    the RPM lead ``ed ab ee db``, ``PK`` zip with a ``.whl`` name), not by its name alone.

    Raises:
        ArtifactError: the path does not exist, cannot be read, is not a regular file or
            directory, or is of no known format.
    """
    # Each reader is imported when first needed: python-debian, rpmfile and zstandard cost tens
    # of milliseconds of start-up that a run over wheels alone need not pay.
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ArtifactError(exc.strerror or str(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        from coinstall.artifacts.tree import TreeReader

        return TreeReader(path, limits)
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        try:
            magic = fh.read(8)
        except OSError as exc:
            raise ArtifactError(exc.strerror or str(exc)) from None
    if magic.startswith(b"!<arch>\n"):
        from coinstall.artifacts.deb import DebReader

        return DebReader(path, limits)
    if magic.startswith(b"\xed\xab\xee\xdb"):
        from coinstall.artifacts.rpm import RpmReader

        return RpmReader(path, limits)
    if magic.startswith(b"PK") and path.endswith(".whl"):
        from coinstall.artifacts.wheel import WheelReader

        return WheelReader(path, limits)
    if path.endswith(".whl"):
        raise ArtifactError("not a zip archive")
    if path.endswith(".deb"):
        raise ArtifactError("not a Debian package (no ar header)")
    if path.endswith(".rpm"):
        raise ArtifactError("not an RPM package (bad lead magic)")
    raise ArtifactError("unknown format (expected a wheel, .deb, .rpm or directory)")
