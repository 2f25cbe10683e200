"""What a spec builds, for comparing two specs of one package (a port and a packager's own
conversion): the binary packages librpm makes with ``%files`` in an active branch, and the
``/usr/bin`` names they list (expanded with the stack macros)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coinstall.spec.read import SpecDoc

_BIN = re.compile(r"(?:%\{?_bindir\}?|/usr/bin)/(\S+)")


@dataclass(frozen=True)
class Built:
    """``source``: the source package name; ``packages``: binary package names;
    ``bindir``: the ``/usr/bin`` entries of their ``%files`` (globs kept as globs)."""

    source: str
    packages: frozenset[str]
    bindir: frozenset[str]


def built(doc: SpecDoc) -> Built:
    """What ``doc`` builds (call right after reading it: names expand in its context)."""
    names = set()
    bins = set()
    for p in doc.packages:
        if p.files is None:
            continue
        names.add(p.name)
        for line in p.files.splitlines():
            if line.lstrip().startswith("#"):
                continue
            m = _BIN.search(line)
            if m:
                bins.add(doc.expand(m.group(1)))
    return Built(doc.name, frozenset(names), frozenset(bins))
