"""Readers, one per package format, behind one interface (:mod:`coinstall.artifacts.base`)."""

from __future__ import annotations

import os

from coinstall.artifacts.base import ArtifactError, ArtifactInfo, ArtifactReader, Member

__all__ = ["ArtifactError", "ArtifactInfo", "ArtifactReader", "Member", "open_artifact"]


def open_artifact(path: str) -> ArtifactReader:
    """Open ``path`` with the reader its content calls for.

    A directory is a tree; a file is recognised by its first bytes (``!<arch>`` .deb, the RPM
    lead ``ed ab ee db``, ``PK`` zip with a ``.whl`` name), not by its name alone.

    Raises:
        ArtifactError: the path does not exist, cannot be read, or is of no known format.
    """
    # Each reader is imported when first needed: python-debian, rpmfile and zstandard cost tens
    # of milliseconds of start-up that a run over wheels alone need not pay.
    if os.path.isdir(path):
        from coinstall.artifacts.tree import TreeReader

        return TreeReader(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise ArtifactError(exc.strerror or str(exc)) from None
    if magic.startswith(b"!<arch>\n"):
        from coinstall.artifacts.deb import DebReader

        return DebReader(path)
    if magic.startswith(b"\xed\xab\xee\xdb"):
        from coinstall.artifacts.rpm import RpmReader

        return RpmReader(path)
    if magic.startswith(b"PK") and path.endswith(".whl"):
        from coinstall.artifacts.wheel import WheelReader

        return WheelReader(path)
    if path.endswith(".whl"):
        raise ArtifactError("not a zip archive")
    if path.endswith(".deb"):
        raise ArtifactError("not a Debian package (no ar header)")
    if path.endswith(".rpm"):
        raise ArtifactError("not an RPM package (bad lead magic)")
    raise ArtifactError("unknown format (expected a wheel, .deb, .rpm or directory)")
