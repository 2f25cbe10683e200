"""What a spec builds, for comparing two specs of one package (a port and a packager's own
conversion): the binary packages librpm makes with ``%files`` in an active branch, and the
``/usr/bin`` names they list (expanded with the stack macros)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from coinstall.spec.read import SpecDoc, expansion_query

_BIN = re.compile(r"(?:%\{?_bindir\}?|/usr/bin)/(\S+)")


@dataclass(frozen=True)
class Built:
    """``source``: the source package name; ``packages``: binary package names;
    ``bindir``: the ``/usr/bin`` entries of their ``%files`` (globs kept as globs)."""

    source: str
    packages: frozenset[str]
    bindir: frozenset[str]


def _bin_entries(doc: SpecDoc) -> Iterator[str]:
    """The ``/usr/bin`` entries of the ``%files`` of the packages rpmbuild builds."""
    for p in doc.packages:
        if p.files is None:
            continue
        for line in p.files.splitlines():
            if line.lstrip().startswith("#"):
                continue
            m = _BIN.search(line)
            if m:
                yield m.group(1)


expansion_query(_bin_entries)  # expanded by the parse worker


def built(doc: SpecDoc) -> Built:
    """What ``doc`` builds."""
    names = {p.name for p in doc.packages if p.files is not None}
    bins = {doc.expand(b) for b in _bin_entries(doc)}
    return Built(doc.name, frozenset(names), frozenset(bins))
