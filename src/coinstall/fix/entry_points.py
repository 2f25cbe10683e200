"""Entry-point fixer: versioned program names for parallel stacks.

Policy (reference ``spec-and-fix.md`` §1; Fedora Packaging Guidelines for Python, "Executables
in /usr/bin" and the EPEL python3X guideline: an alternative stack ships only
``foo-%{python3_version}``; openSUSE python-rpm-macros ``%python_clone`` makes
``foo-%{python_bin_suffix}``):

* a non-default stack's package must not own ``foo`` or ``foo-3``: they are renamed to
  ``foo-3.X`` (removed instead when ``foo-3.X`` is already there with the same content or is
  the link's own target);
* the default stack's package adds the missing ``foo-3.X``: a copy of ``foo`` (or, with
  ``--links``, a relative symbolic link to it, as Fedora's ``foo-3 -> foo-3.X`` links are).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from coinstall.fix.model import Edit, FixContext, Left
from coinstall.relations import stack_of
from coinstall.rules import Finding
from coinstall.rules.entry_points import EntryPoint, entry_points


def _same(fctx: FixContext, a: str, b: str) -> bool:
    """True when member ``a`` is ``b`` in content or a link to it."""
    link = fctx.reader.link(a)
    if link is not None and posixpath.normpath(posixpath.join(posixpath.dirname(a), link)) == b:
        return True
    da, db = fctx.reader.read(a), fctx.reader.read(b)
    return da is not None and da == db


def _name(ep: EntryPoint, want: str, opensuse: bool) -> str:
    """The versioned name: openSUSE's %python_clone appends ``-X.Y`` to the whole name
    (``evtx_dump.py-3.9``); Fedora's is ``foo-3.X`` (``miniterm-3.5.py`` keeps ``.py``)."""
    if opensuse and ep.version is None:
        return f"{ep.name}-{want}"
    ext = ".py" if ep.name.endswith(".py") else ""
    return f"{ep.base}-{want}{ext}"


def fix(fctx: FixContext, findings: list[Finding]) -> Iterator[Edit | Left]:
    """Rename other-stack names (``entry-point-ownership``), add missing versioned names
    (``entry-point-missing-versioned``)."""
    own = stack_of(fctx.actx).exact
    eps = {ep.path: ep for ep in entry_points(fctx.actx)}
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        if f.path is None or f.path not in eps:
            yield Left(
                f,
                "names no program of this package (a sibling package's program: "
                "ship it from this package's build)",
            )
            continue
        by_path.setdefault(f.path, []).append(f)
    if own is None:
        for group in by_path.values():
            for f in group:
                yield Left(f, "the package's Python version is not known")
        return
    want = f"{own[1][0]}.{own[1][1]}"
    existing = {ep.base: ep.path for ep in eps.values() if ep.version == want}
    opensuse = fctx.actx.profile.name == "opensuse"
    planned: dict[str, str] = {}
    for path, group in by_path.items():
        ep: EntryPoint = eps[path]
        if ep.alternative:
            for f in group:
                yield Left(
                    f,
                    f"{fctx.show(path)} is an update-alternatives link ({ep.link}): the "
                    "alternatives system owns the name",
                )
            continue
        dest = existing.get(ep.base) or posixpath.join(
            posixpath.dirname(path), _name(ep, want, opensuse)
        )
        owner = [f for f in group if f.rule == "entry-point-ownership"]
        missing = [f for f in group if f.rule == "entry-point-missing-versioned"]
        if owner and ep.version is not None and ep.version != want and "." in ep.version:
            for f in owner:
                yield Left(
                    f,
                    f"names another version (python{ep.version}); which build it "
                    "belongs to is the packager's call",
                )
            owner = []
        if owner:
            if fctx.reader.exists(dest) or dest in planned:
                other = planned.get(dest, dest)
                if _same(fctx, path, other):
                    yield Edit(
                        "remove",
                        path,
                        tuple(group),
                        f"same program as {fctx.show(dest)}, which the package keeps",
                    )
                else:
                    for f in group:
                        yield Left(f, f"{fctx.show(dest)} exists with other content")
                continue
            planned[dest] = path
            yield Edit("rename", path, tuple(group), f"renamed to {fctx.show(dest)}", dest=dest)
            continue
        if missing:
            if fctx.reader.exists(dest) or dest in planned:
                for f in missing:
                    yield Left(f, f"{fctx.show(dest)} exists already")
                continue
            planned[dest] = path
            if fctx.options.links:
                yield Edit("symlink", dest, tuple(missing), f"link to {ep.name}", dest=ep.name)
                continue
            data = fctx.reader.read(path)
            if data is None:
                target = fctx.reader.link(path)
                if target is None:
                    for f in missing:
                        yield Left(f, f"{fctx.show(path)} cannot be read")
                    continue
                yield Edit(
                    "symlink",
                    dest,
                    tuple(missing),
                    f"link to {target} (as {ep.name} is)",
                    dest=target,
                )
                continue
            yield Edit(
                "create",
                dest,
                tuple(missing),
                f"copy of {fctx.show(path)}",
                data=data,
                mode=fctx.reader.mode(path) or 0o755,
                source=path,
            )
