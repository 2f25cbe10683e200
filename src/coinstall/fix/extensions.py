"""Extension-module fixer: rename an untagged or stable-ABI module in a directory several
runtimes or architectures share to the tag every target runtime imports.

The target runtimes are the stack's versions (``--stack``) as the catalogue describes their
release builds for the profile's vendor (Debian's python3.13+ import ``.abi3-<triplet>.so``,
upstream CPython only from 3.15: ``cpython-abi.md`` §2.3, ``debian.md`` §5.2), else the
installed runtimes that own the directory, else the wheel's tags.  A new name is chosen only
if CPython's ``FileFinder`` of *every* target finds the module under it (its suffix is in the
target's ``EXTENSION_SUFFIXES``, :func:`coinstall.files.extension.module_name`) — never a name
a target does not import (dh-python 6.20250414 renames ``foo.abi3t.so`` to
``foo.cpython-315-abi3t.so``, which no runtime imports):

* a stable-ABI module (an ``.abi3``/``.abi3t`` name, or an untagged one whose ELF imports only
  stable-ABI symbols no newer than the lowest target: CPython ``Misc/stable_abi.toml`` via
  abi3info) -> ``NAME.abi3-<triplet>.so`` (``abi3t-``), else, for an untagged one,
  ``NAME.abi3.so``;
* a version-specific untagged module -> ``NAME.cpython-3XY-<triplet>.so`` when exactly one
  version is targeted (what dh_python3's ``rename_ext`` does for the interpreter that built
  it); with several target versions one file cannot serve them all, and the finding is left.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from coinstall.artifacts.base import wheel_tags
from coinstall.files import extension as ext
from coinstall.fix.model import Edit, FixContext, Left
from coinstall.rules import Finding
from coinstall.runtimes.model import Runtime
from coinstall.stable_abi import stable_abi_baseline, symbol_added


def _catalogue_runtime(fctx: FixContext, version: tuple[int, int]) -> Runtime | None:
    actx = fctx.actx
    vendor = "debian" if actx.profile.name == "debian" or actx.vendor == "debian" else "upstream"
    best = None
    for rt in actx.catalogue.known(triplet=actx.triplet, vendors=("upstream", vendor)):
        if rt.implementation != "cpython" or rt.version != version or rt.debug or rt.free_threaded:
            continue
        if rt.vendor == vendor:
            return rt
        best = best or rt
    return best


def targets(fctx: FixContext) -> tuple[list[Runtime], str]:
    """The runtimes that must import the renamed modules, and where that comes from."""
    actx = fctx.actx
    if actx.stack.known:
        rts = [rt for v in actx.stack.versions if (rt := _catalogue_runtime(fctx, v))]
        return rts, f"the stack {actx.stack}"
    owners = [rt for rt in actx.owners.values() if not rt.debug and not rt.free_threaded]
    if owners:
        return owners, "the runtimes whose directory it is"
    if actx.info.format == "wheel":
        versions: set[tuple[int, int]] = set()
        newest = max(
            rt.version
            for rt in actx.catalogue.known()
            if rt.implementation == "cpython" and rt.magic
        )
        for interp, abi, _plat in wheel_tags(actx.info):
            if not interp.startswith("cp") or not interp[2:].isdigit():
                continue
            v = (int(interp[2]), int(interp[3:]))
            if abi == "abi3":
                versions.update((3, m) for m in range(v[1], newest[1] + 1))
            else:
                versions.add(v)
        rts = [rt for v in sorted(versions) if (rt := _catalogue_runtime(fctx, v))]
        return rts, "the wheel's tags"
    return [], ""


def _stable(
    fctx: FixContext, path: str, imports: frozenset[str] | None, low: tuple[int, int]
) -> str | None:
    """Why the module is not a stable-ABI module for runtimes from ``low``, or None."""
    if imports is None:
        data = fctx.reader.read(path)
        try:
            elf = ext.read_elf(data or b"", symbols=True)
        except ValueError as exc:
            return str(exc)
        if elf is None:
            return "not an ELF object"
        imports = elf.python_imports
    outside = sorted(s for s in imports if symbol_added(s) is None)
    if outside:
        return f"it imports {outside[0]}, outside the stable ABI"
    base = stable_abi_baseline(imports)
    if base is not None and base > low:
        return f"it needs the {base[0]}.{base[1]} stable ABI"
    return None


def fix(fctx: FixContext, findings: list[Finding]) -> Iterator[Edit | Left]:
    """Rename each reported module to a name every target runtime imports."""
    actx = fctx.actx
    rts, origin = targets(fctx)
    records = {r.path: r for r in actx.records}
    by_path: dict[str, list[Finding]] = {}
    for g in findings:  # grouped once (a scan per finding was quadratic; issue 17 item 8)
        by_path.setdefault(g.path or "", []).append(g)
    done: set[str] = set()
    for f in findings:
        r = records.get(f.path or "")
        n = ext.ext_name(r.import_path) if r is not None else None
        if r is None or n is None or f.path is None:
            yield Left(f, "not an extension module of this package")
            continue
        if f.path in done:
            continue
        group = tuple(by_path[f.path])
        if not rts:
            for g in group:
                yield Left(g, "which runtimes share the directory is not known: give --stack")
            continue
        triplet = actx.triplet
        want_elf = ext.TRIPLET_ELF.get(triplet)
        if (
            r.elf is not None
            and want_elf is not None
            and (r.elf.elfclass, r.elf.little_endian, r.elf.machine) != want_elf
        ):
            for g in group:
                yield Left(g, f"{r.elf.describe()} is not {triplet}")
            continue
        low = min(rt.version for rt in rts)
        candidates: list[str] = []
        if n.kind in ("abi3", "abi3t"):
            candidates.append(f".{n.kind}-{triplet}.so")
            why_not = None
        else:
            imports = r.elf.python_imports if r.elf is not None and r.elf.symbols_read else None
            why_not = _stable(fctx, f.path, imports, low)
            if why_not is None:
                candidates += [f".abi3-{triplet}.so", ".abi3.so"]
            else:
                versions = sorted({rt.version for rt in rts})
                if len(versions) == 1:
                    candidates.append(f".cpython-{versions[0][0]}{versions[0][1]}-{triplet}.so")
        name = posixpath.basename(f.path)
        chosen = None
        refusals = []
        for suffix in candidates:
            new = n.stem + suffix
            refused = [
                rt.id
                for rt in rts
                if ext.module_name(new, rt)
                != (
                    n.stem,
                    rt.extension_suffixes.index(suffix) if suffix in rt.extension_suffixes else -1,
                )
            ]
            if not refused:
                chosen = new
                break
            refusals.append(f"{', '.join(refused)} would not import {new}")
        done.add(f.path)
        if chosen is None:
            if not candidates:
                reason = (
                    f"a version-specific module ({why_not}) cannot serve "
                    f"{', '.join(rt.id for rt in rts)} ({origin}) with one file: "
                    "build it for each"
                )
            else:
                reason = "; ".join(refusals) + f" ({origin})"
            for g in group:
                yield Left(g, reason)
            continue
        dest = posixpath.join(posixpath.dirname(f.path), chosen)
        yield Edit(
            "rename",
            f.path,
            group,
            f"{name} -> {chosen} (imported by {', '.join(rt.id for rt in rts)})",
            dest=dest,
        )
