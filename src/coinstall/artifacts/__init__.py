"""Readers, one per package format, behind one interface (:mod:`coinstall.artifacts.base`)."""

from __future__ import annotations

import os

from coinstall.artifacts.base import ArtifactError, ArtifactInfo, ArtifactReader, Member
from coinstall.artifacts.deb import DebReader
from coinstall.artifacts.rpm import RpmReader
from coinstall.artifacts.tree import TreeReader
from coinstall.artifacts.wheel import WheelReader

__all__ = ["ArtifactError", "ArtifactInfo", "ArtifactReader", "Member", "open_artifact"]


def open_artifact(path: str) -> ArtifactReader:
    """Open ``path`` with the reader its content calls for.

    A directory is a tree; a file is recognised by its first bytes (``!<arch>`` .deb, the RPM
    lead ``ed ab ee db``, ``PK`` zip with a ``.whl`` name), not by its name alone.

    Raises:
        ArtifactError: the path does not exist, cannot be read, or is of no known format.
    """
    if os.path.isdir(path):
        return TreeReader(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise ArtifactError(exc.strerror or str(exc)) from None
    if magic.startswith(b"!<arch>\n"):
        return DebReader(path)
    if magic.startswith(b"\xed\xab\xee\xdb"):
        return RpmReader(path)
    if magic.startswith(b"PK") and path.endswith(".whl"):
        return WheelReader(path)
    if path.endswith(".whl"):
        raise ArtifactError("not a zip archive")
    if path.endswith(".deb"):
        raise ArtifactError("not a Debian package (no ar header)")
    if path.endswith(".rpm"):
        raise ArtifactError("not an RPM package (bad lead magic)")
    raise ArtifactError("unknown format (expected a wheel, .deb, .rpm or directory)")
