"""Runtime package rules: a package that ships an interpreter must announce the runtime it is,
so that packages built for that runtime can depend on it.

Facts: Fedora python-rpm-generators ``python.attr`` (``/usr/bin/pythonX.Y`` gives
``Provides: python(abi) = X.Y``; files in ``/usr/lib*/pythonX.Y/`` give the matching Requires);
Debian: the interpreter ``/usr/bin/python3.X`` is in ``python3.X-minimal`` (source
``python3.X``), and dependencies on one runtime name ``python3.X`` / ``python3.X-minimal``
(dh-python ``depends.py``; lintian ``data/scripts/versioned-interpreters``:
``python3$1:any | python3$1-minimal:any``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.rules.profiles import SYSTEM_PROFILES

#: ``usr/bin/pythonX.Y`` exactly (python.attr: ``/usr/bin/python%d+%.%d+$``, so not
#: ``python3.12-config``, ``python3.13t`` or ``python3.11d``).
_INTERPRETER = re.compile(r"^usr/bin/python(?P<v>(?P<x>\d+)\.(?P<y>\d+))$")
_ABI = re.compile(r"^python\(abi\)\s*=\s*(?P<v>\d+\.\d+)$")
_ABI_MAGIC = re.compile(r"^python-abi-(?P<v>\d+\.\d+)-(?P<m>\d+)(?:\s*=.*)?$")
_STDLIB = re.compile(r"^usr/lib(?:64)?/python(?P<v>\d+\.\d+)/")


def _provided(info_provides: list[str]) -> tuple[set[str], dict[str, set[int]], set[str]]:
    """(``python(abi)`` versions, ``python-abi-X.Y-MAGIC`` magics by version, Debian package
    names) the package provides."""
    abi: set[str] = set()
    magic: dict[str, set[int]] = {}
    names: set[str] = set()
    for p in info_provides:
        text = " ".join(p.split())
        m = _ABI.match(text)
        if m:
            abi.add(m["v"])
            continue
        m = _ABI_MAGIC.match(text)
        if m:
            magic.setdefault(m["v"], set()).add(int(m["m"]))
            continue
        names.add(re.split(r"[\s(:]", text, maxsplit=1)[0])
    return abi, magic, names


@rule(
    "runtime-missing-abi-provide",
    severity="error",
    summary="A package that ships /usr/bin/pythonX.Y does not provide the runtime's ABI "
    "(python(abi) = X.Y, python-abi-X.Y-MAGIC for its magic; Debian: the python3.X "
    "or python3.X-minimal name).",
    why="Packages built for a runtime require it by its ABI: Fedora's generators add "
    "'Requires: python(abi) = X.Y' to every package with files in /usr/lib/pythonX.Y/, "
    "Debian's dh_python3 and lintian name python3.X / python3.X-minimal.  An interpreter "
    "package without that provide cannot satisfy them: its modules are uninstallable next "
    "to it, or another runtime is pulled in.  A python-abi-X.Y-MAGIC provide that names "
    "another magic than the interpreter writes promises bytecode compatibility that does "
    "not exist.",
    example="python3.12-3.12.1-1.x86_64.rpm ships /usr/bin/python3.12 with AutoReqProv: no "
    "and no 'Provides: python(abi) = 3.12'",
    fix="Let python-rpm-generators run (no AutoReqProv: no) or add 'Provides: python(abi) = "
    "X.Y'; on Debian name the package python3.X-minimal (or add Provides: python3.X).",
    source="Fedora python-rpm-generators python.attr (%__python_provides); Debian python3.X "
    "packaging, dh-python depends.py, lintian data/scripts/versioned-interpreters",
    profiles=SYSTEM_PROFILES,
)
def runtime_missing_abi_provide(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    if ctx.info.format not in ("rpm", "deb"):
        return
    abi, magic, names = _provided(ctx.info.provides)
    shipped_magic: dict[str, set[int]] = {}
    interpreters: list[tuple[str, str]] = []
    for r in ctx.records:
        m = _INTERPRETER.match(r.path)
        if m:
            interpreters.append((r.path, m["v"]))
            continue
        s = _STDLIB.match(r.path)
        h = r.pyc_header
        if s and r.kind == "bytecode" and h is not None and h.magic is not None and not h.problem:
            shipped_magic.setdefault(s["v"], set()).add(h.magic)
    for path, v in interpreters:
        if ctx.info.format == "deb":
            wanted = {f"python{v}", f"python{v}-minimal"}
            have = names | {ctx.info.name or ""}
            if not wanted & have:
                yield self.finding(
                    path,
                    f"package {ctx.info.name} ships /{path} but is "
                    f"neither python{v} nor python{v}-minimal and provides "
                    "neither",
                )
            continue
        version = tuple(int(p) for p in v.split("."))
        known = {
            m
            for rt in ctx.catalogue.known(vendors=("upstream",))
            if rt.implementation == "cpython" and rt.version == version
            for m in rt.accepted_magic
        }
        own = shipped_magic.get(v) or known
        for claimed in sorted(magic.get(v, set())):
            if own and claimed not in own:
                want = " or ".join(str(x) for x in sorted(own))
                yield self.finding(
                    path,
                    f"provides python-abi-{v}-{claimed}, but python{v} bytecode has magic {want}",
                )
        if v in abi or (magic.get(v, set()) & own if own else magic.get(v)):
            continue
        yield self.finding(path, f"ships /{path} without 'Provides: python(abi) = {v}'")
