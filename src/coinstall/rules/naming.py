"""Naming rules: a binary package's name says which implementation and stack it is for."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from coinstall.names import Target, stack_label
from coinstall.relations import (
    PackageStack,
    relations,
    source_package,
    stack_of,
)
from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.rules.profiles import SYSTEM_PROFILES

_BIN = re.compile(r"^(?:usr/)?s?bin/[^/]+$")


def _has_executables(ctx: ArtifactContext) -> bool:
    return any(_BIN.match(r.path) for r in ctx.records) or any(
        _BIN.match(m.path) for m in ctx.links
    )


def _suggest(ctx: ArtifactContext, impl: str, major: int, name: str) -> str:
    base = re.sub(r"^(?:python|pypy)-", "", name)
    st = stack_of(ctx).exact
    if ctx.profile.name == "opensuse" and st is not None and st[1][0] == major:
        return f"python{st[1][0]}{st[1][1]}-{base}"
    return f"{stack_label(impl, major)}-{base}"


@rule(
    "name-missing-implementation-prefix",
    severity="error",
    summary="A package shipping importable modules for one implementation is not named "
    "$impl-$foo (python2-, python3-, python3X-/python3.X-, pypy3-).",
    why="Users and tools find a module's package by its prefix (dnf install python3-foo, "
    "apt install python3-foo); an unversioned python-foo or a bare foo does not say which "
    "runtime can import it, and cannot sit next to the package for another stack.",
    example="python-peak-rules ships /usr/lib/python2.7/site-packages/peak/rules/; pyserial "
    "ships Python 2 modules while python3-pyserial from the same source has a prefix",
    fix="Name the binary package after its stack: %package -n python3-foo (Fedora), "
    "python%{python3_pkgversion}-foo (EPEL), %python_subpackages (openSUSE), python3-foo "
    "(Debian).",
    source="Fedora Packaging Guidelines for Python (Naming; 201x-era: python2-/python3- "
    "prefixes); Debian Python Policy 3.3 (module package names); taskotron "
    "naming_scheme.py (is_unversioned, missing_prefix)",
    peers=("taskotron:naming_scheme",),
    profiles=SYSTEM_PROFILES,
    scope="set",
)
def name_missing_implementation_prefix(
    self: Rule, ctxs: Sequence[ArtifactContext]
) -> Iterator[tuple[ArtifactContext, Finding]]:
    """Modules in a site directory and a name with no implementation prefix: an unversioned
    ``python-`` name always; a name without ``python`` when the package has no executables
    (a library), or when a package built from the same source and checked together carries
    an implementation prefix (taskotron's missing_prefix, which looked at the Koji build).
    Applications named after themselves (``tracer``, ``yum``) are left alone, as the Fedora
    guidelines allow."""
    prefixed: dict[str, list[str]] = {}
    for c in ctxs:
        t = relations(c.info).name
        src = source_package(c.info)
        if src and t is not None and not t.unversioned and t.kind == "module":
            prefixed.setdefault(src, []).append(c.info.name or "")
    for c in ctxs:
        name = c.info.name
        if not name:
            continue
        st = stack_of(c)
        if not st.modules:
            continue
        t = relations(c.info).name
        if t is not None and (not t.unversioned or t.kind != "module"):
            continue
        (impl, major), path = next(iter(st.modules.items()))
        label = stack_label(impl, major)
        want = _suggest(c, impl, major, name)
        if t is not None:
            yield (
                c,
                self.finding(
                    None,
                    f"{name} ships {label} modules (/{path}) under the "
                    f"unversioned prefix {t.prefix}: name it {want}",
                ),
            )
            continue
        siblings = [n for n in prefixed.get(source_package(c.info) or "", []) if n != name]
        if siblings:
            yield (
                c,
                self.finding(
                    None,
                    f"{name} ships {label} modules (/{path}) without an "
                    f"implementation prefix while {siblings[0]} from the "
                    f"same source has one: name it {want}",
                ),
            )
        elif not _has_executables(c):
            yield (
                c,
                self.finding(
                    None,
                    f"{name} ships only {label} modules (/{path}) and no "
                    f"executable: name it {want}",
                ),
            )


_RUNTIME_OR_INTERPRETER = ("runtime", "interpreter")


@rule(
    "python2-missing-unversioned-provide",
    severity="warning",
    summary="A python2-foo package does not provide python-foo.",
    why="Until Python 2 was retired, `python-foo` named the Python 2 module in requires and "
    "in users' commands; Fedora's %python_provide made python2-foo provide it so that "
    "existing dependants kept resolving after the rename.",
    example="python2-bar-1.0-1.fc28 with no `Provides: python-bar`",
    fix="%{?python_provide:%python_provide python2-foo} in the subpackage (201x-era "
    "guidelines), or `Provides: python-foo = %{version}-%{release}`.",
    source='Fedora Packaging Guidelines for Python, 201x era ("The python2- subpackage '
    'must provide python-foo", %python_provide in python-rpm-macros)',
    peers=(),
    profiles=("fedora", "epel"),
)
def python2_missing_unversioned_provide(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    rel = relations(ctx.info)
    t = rel.name
    if t is None or t.major != 2 or t.kind != "module" or t.prefix != "python2-":
        return
    want = f"python-{t.module}"
    if not rel.provided(want):
        yield self.finding(None, f"{ctx.info.name} does not provide {want}")


def _mismatch(t: Target, impl: str, major: int, ver: tuple[int, int] | None) -> bool:
    if t.implementation != impl or (t.major is not None and t.major != major):
        return True
    return t.version is not None and ver is not None and t.version != ver


@rule(
    "name-stack-mismatch",
    severity="error",
    summary="A package named for one stack ships files for another (python311-foo with "
    "files in /usr/lib/python3.12/).",
    why="The stack's runtime never imports them, and the package for the other stack "
    "conflicts with it on the same paths; usually a build used the wrong interpreter "
    "(%{python3} instead of %{python3_other}, the default flavor instead of $python).",
    example="python311-foo ships /usr/lib/python3.12/site-packages/foo/__init__.py",
    fix="Build and install with the stack's interpreter (%py3_install with the right "
    "%python3_pkgversion, %python_install per flavor), or rename the package.",
    source="Fedora/EPEL %python3_pkgversion naming (python-rpm-macros macros.python-srpm); "
    "openSUSE python-rpm-macros flavors; Debian Python Policy 3.3",
    peers=(),
    profiles=SYSTEM_PROFILES,
)
def name_stack_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    t = relations(ctx.info).name
    if t is None or t.unversioned:
        return
    st: PackageStack = stack_of(ctx)
    default = ctx.stack.default if ctx.profile.name == "fedora" else None
    for (impl, ver), path in st.files.items():
        if _mismatch(t, impl, ver[0], ver):
            yield self.finding(
                path,
                f"{ctx.info.name} is named for {t.label} but ships "
                f"/{path} for {stack_label(impl, ver[0], ver)}",
            )
        elif (
            default
            and t.prefix == "python3-"
            and t.version is None
            and impl == "cpython"
            and ver[0] == 3
            and ver != default
        ):
            yield self.finding(
                path,
                f"{ctx.info.name}: python3- names the default stack "
                f"{default[0]}.{default[1]} but /{path} is for "
                f"python{ver[0]}.{ver[1]}",
            )
    for (impl, major), path in st.shared.items():
        if _mismatch(t, impl, major, None):
            yield self.finding(
                path,
                f"{ctx.info.name} is named for {t.label} but ships "
                f"/{path} for {stack_label(impl, major)}",
            )
