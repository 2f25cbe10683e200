"""How the text and SARIF reports name a file of an artifact.

Readers and rules (and the JSON contract, docs/json-format.md) use member paths: relative, as
the archive stores them (``usr/bin/tracer``) or relative to an installed tree's directory.  A
person — and rpmlint, lintian, the packaging guidelines — names a system package's member by
the path it is installed to, ``/usr/bin/tracer``; a file of an installed tree by where it is on
this machine.  A wheel's members are not installed at their path (they go below whichever site
directory an installer picks), so they stay relative, as ``unzip -l`` and check-wheel-contents
show them.
"""

from __future__ import annotations

import os
import posixpath

from coinstall.artifacts.base import ArtifactInfo


def shown_path(info: ArtifactInfo, member: str) -> str:
    """The path a report shows for ``member`` of the artifact ``info``.

    ``deb``/``rpm``: the installed path, absolute (``usr/bin/tracer`` -> ``/usr/bin/tracer``);
    ``tree``: the file's absolute path on this machine (the tree's directory joined with the
    member path); ``wheel`` and anything else: the member path unchanged.
    """
    if info.format in ("deb", "rpm"):
        return "/" + member.lstrip("/")
    if info.format == "tree":
        return posixpath.join(os.path.abspath(info.path), member)
    return member


def installed(info: ArtifactInfo) -> bool:
    """Whether :func:`shown_path` gives absolute paths for this artifact's members."""
    return info.format in ("deb", "rpm", "tree")
