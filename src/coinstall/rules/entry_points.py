"""Entry-point rules: who owns /usr/bin/foo, foo-3 and foo-3.X when stacks sit side by side."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from coinstall.names import stack_label
from coinstall.relations import (
    alternative_stack,
    source_package,
    stack_of,
)
from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.rules.profiles import RPM_PROFILES

_BIN_DIR = re.compile(r"^usr/s?bin/[^/]+$")
#: foo-3, foo-3.11, foo3.11, foo3, miniterm-3.5.py, miniterm.py-3 (Fedora 201x style),
#: evtx_dump.py-3.9 (openSUSE %python_clone).
_VERSIONED = re.compile(
    r"^(?P<base>.+?)(?:-(?P<dash>[23](?:\.\d{1,2})?)|(?P<dot>[23]\.\d{1,2})"
    r"|(?<=[a-z_])(?P<bare>[23]))(?P<ext>\.py)?$"
)
#: Targets of update-alternatives / libalternatives links (openSUSE %python_install_alternative).
_ALTERNATIVES = ("/etc/alternatives/", "alts", "/usr/bin/alts")


@dataclass(frozen=True)
class EntryPoint:
    """One program in /usr/bin or /usr/sbin.

    Attributes:
        path: member path; name: its file name; base: the name without version and ``.py``.
        version: ``"3"``, ``"3.11"``, or None for the unversioned name.
        link: the link target for a symbolic link, "" for a regular file or hard link.
    """

    path: str
    name: str
    base: str
    version: str | None
    link: str

    @property
    def alternative(self) -> bool:
        """A link managed by update-alternatives/libalternatives."""
        return self.link.startswith(_ALTERNATIVES)


def entry_points(ctx: ArtifactContext) -> list[EntryPoint]:
    """The package's programs: regular files (:attr:`ArtifactContext.records`) and links
    (:attr:`ArtifactContext.links`) directly in ``/usr/bin`` or ``/usr/sbin``."""
    out = []
    items = [(r.path, "") for r in ctx.records] + [
        (m.path, (m.link_target or "") if m.type == "symlink" else "") for m in ctx.links
    ]
    bare: list[EntryPoint] = []
    for path, link in items:
        if not _BIN_DIR.match(path):
            continue
        name = posixpath.basename(path)
        m = _VERSIONED.match(name)
        if m:
            ep = EntryPoint(
                path, name, m["base"].removesuffix(".py"), m["dash"] or m["dot"] or m["bare"], link
            )
            if m["bare"]:
                bare.append(ep)
                continue
        else:
            ep = EntryPoint(path, name, name.removesuffix(".py"), None, link)
        out.append(ep)
    # pip3 is pip for Python 3 only when the package also has pip or pip3.X; a lone md2 or
    # gtk3 is a name that happens to end in a digit.
    bases = {ep.base for ep in out}
    for ep in bare:
        out.append(
            ep
            if ep.base in bases
            else EntryPoint(ep.path, ep.name, ep.name.removesuffix(".py"), None, ep.link)
        )
    return out


def _python_package(ctx: ArtifactContext) -> tuple[str, tuple[int, int]] | None:
    """The package's exact stack when it is a Python module package (not a runtime)."""
    st = stack_of(ctx)
    if st.name is not None and st.name.kind in ("runtime", "interpreter"):
        return None
    return st.exact


def _flavor(ctx: ArtifactContext) -> bool:
    """openSUSE: a python3XY- flavor package (every flavor ships the same programs)."""
    t = stack_of(ctx).name
    return (
        ctx.profile.name == "opensuse"
        and t is not None
        and t.version is not None
        and t.kind == "module"
    )


@rule(
    "entry-point-ownership",
    severity="error",
    summary="A program name belongs to another stack's package: unversioned foo or foo-3 "
    "outside the default stack's package, foo-3.X in the package for another X.",
    why="Two stacks' packages shipping /usr/bin/foo conflict on install, or the last one "
    "installed silently decides which runtime `foo` runs; foo-3.11 in a python3.12 "
    "package runs the wrong version's modules.",
    example="python3.11-foo ships /usr/bin/foo (only python3-foo, the default stack, may)",
    fix="Ship only foo-3.X from non-default stacks (Fedora/EPEL), register unversioned names "
    "with update-alternatives (%python_clone -a, %python_install_alternative on "
    "openSUSE), name versioned programs after the package's own version.",
    source="Fedora Packaging Guidelines for Python (201x era: Executables in /usr/bin; "
    "current: alternative python3.X stacks ship versioned executables); openSUSE "
    "python-rpm-macros README (%python_clone, alternatives)",
    peers=("taskotron:executables",),
    profiles=RPM_PROFILES,
    fixer="entry_points:fix",
)
def entry_point_ownership(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """Versioned names are checked against the package's own version (files and
    ``python(abi)``).  Unversioned and major-only names need to know the default stack:
    ``--stack`` gives it (a ``python312-foo`` is the default stack when the stack's default
    is 3.12, as EPEL 7's ``python36-foo`` was); without it a Fedora package whose name
    carries a minor-versioned prefix (``python3.11-foo``) is an alternative stack, on EPEL
    only a dotted one is (:func:`~coinstall.relations.alternative_stack`), and on
    openSUSE every flavor is (unversioned names must be alternatives links there).  When
    nothing says, the rule stays silent on those names."""
    own = _python_package(ctx)
    if own is None:
        return
    impl, ver = own
    label = stack_label(impl, ver[0], ver)
    flavor = _flavor(ctx)
    alt = flavor or alternative_stack(ctx, ver)
    for ep in entry_points(ctx):
        if ep.version is not None:
            parts = tuple(int(p) for p in ep.version.split("."))
            if parts != ver[: len(parts)]:
                yield self.finding(
                    ep.path,
                    f"/{ep.path} names python{ep.version} but {_who(ctx)} is a {label} package",
                )
                continue
            if len(parts) == 2 or not alt:
                continue
        elif not alt or (flavor and ep.alternative):
            continue
        what = "an update-alternatives link" if flavor else "the default stack's package"
        yield self.finding(
            ep.path,
            f"/{ep.path} in {_who(ctx)}, a {label} package that "
            f"is not the default stack: only {what} may own it",
        )


def _who(ctx: ArtifactContext) -> str:
    """The package's name, or the tree's path for a directory (which has no package name)."""
    return ctx.info.name or ctx.info.path


def _missing_in_package(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """openSUSE flavor packages: every program needs its ``foo-X.Y`` clone.  Fedora/EPEL:
    a ``foo-3`` needs its ``foo-3.X`` (201x era), and an alternative-stack package's
    unversioned ``foo`` needs ``foo-3.X``.  Packages for no single stack are skipped."""
    own = _python_package(ctx)
    if own is None:
        return
    ver = own[1]
    want = f"{ver[0]}.{ver[1]}"
    eps = entry_points(ctx)
    have = {ep.base for ep in eps if ep.version == want}
    flavor = _flavor(ctx)
    alt = alternative_stack(ctx, ver)
    for ep in eps:
        if ep.base in have or ep.version == want:
            continue
        if flavor and ep.version is None:
            yield self.finding(
                ep.path, f"/{ep.path} has no {ep.base}-{want} clone (%python_clone -a)"
            )
        elif not flavor and (ep.version == str(ver[0]) or (ep.version is None and alt)):
            yield self.finding(
                ep.path, f"/{ep.path} has no versioned {ep.base}-{want} in {_who(ctx)}"
            )


def _missing_from_python2_sibling(
    self: Rule, ctxs: Sequence[ArtifactContext]
) -> Iterator[tuple[ArtifactContext, Finding]]:
    """A Python 3 package that lacks a program its Python 2 sibling (same source package,
    checked together) ships: taskotron's executables check, per program."""
    by_source: dict[str, list[tuple[ArtifactContext, tuple[str, tuple[int, int]]]]] = {}
    for c in ctxs:
        own = _python_package(c)
        src = source_package(c.info)
        if own is not None and src:
            by_source.setdefault(src, []).append((c, own))
    for group in by_source.values():
        py2 = [
            (c, ep)
            for c, (impl, v) in group
            if impl == "cpython" and v[0] == 2
            for ep in entry_points(c)
        ]
        for c, (impl, ver) in group:
            if impl != "cpython" or ver[0] != 3:
                continue
            have = {ep.base for ep in entry_points(c)}
            for other, ep in py2:
                if ep.base not in have:
                    have.add(ep.base)
                    yield (
                        c,
                        self.finding(
                            None,
                            f"{other.info.name} ships /{ep.path} but "
                            f"{c.info.name} has no {ep.base} or "
                            f"{ep.base}-{ver[0]}.{ver[1]}",
                        ),
                    )


@rule(
    "entry-point-missing-versioned",
    severity="warning",
    summary="A Python package ships /usr/bin/foo (or foo-3) without the versioned "
    "foo-3.X its profile's policy asks for, or a Python 3 package lacks a program "
    "its Python 2 sibling ships.",
    why="Users of several stacks run a given version's program by its versioned name "
    "(pytest-3.12, sphinx-build-3.11); without it the program of a non-default stack "
    "cannot be reached at all, or only through whichever package owns the plain name.  "
    "A program only the Python 2 package ships keeps Python 2 installed.",
    example="python311-foo ships /usr/bin/foo but not /usr/bin/foo-3.11 (openSUSE)",
    fix="openSUSE: %python_clone -a %{buildroot}%{_bindir}/foo; Fedora/EPEL: install "
    "foo-%{python3_version} (and foo-3 as a link to it in the default stack); ship "
    "the Python 3 variant of every program the Python 2 package has.",
    source="openSUSE python-rpm-macros README (%python_clone creates foo-%{python_bin_suffix}); "
    "Fedora Packaging Guidelines for Python, 201x era (Executables in /usr/bin: foo-3 "
    "with a foo-3.X link; only the Python 3 version when both do the same); "
    "taskotron executables.py",
    peers=("taskotron:executables",),
    profiles=RPM_PROFILES,
    scope="set",
    fixer="entry_points:fix",
)
def entry_point_missing_versioned(
    self: Rule, ctxs: Sequence[ArtifactContext]
) -> Iterator[tuple[ArtifactContext, Finding]]:
    for c in ctxs:
        for f in _missing_in_package(self, c):
            yield c, f
    yield from _missing_from_python2_sibling(self, ctxs)
