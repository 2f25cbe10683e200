"""Spec rules on Python packaging practice that every stack layout shares: deprecated macros,
site-packages globs, shebangs left to upstream.

Sources: Fedora python-rpm-macros ``macros.python`` (``%python_provide`` deprecated) and
``macros.python-srpm`` (``%py_provides``), ``macros.python3`` (``%py3_shebang_fix``), rpmlint
``SpecCheck.py`` (``python-sitelib-glob-in-files``), redhat-rpm-config ``brp-mangle-shebangs``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from coinstall.rules import Finding, Rule, rule
from coinstall.spec.context import SpecContext
from coinstall.stack_text import LEFT

_RPM = ("fedora", "epel", "opensuse")


def _left(ctx: SpecContext, name: str) -> Iterator[tuple[int, str, re.Match[str]]]:
    """``(line, text, match)`` of the lines the lint judges (the row's sections, not left by
    a port) where the :data:`coinstall.stack_text.LEFT_TEXT` row ``name`` matches: the text a
    port leaves for the packager."""
    row = LEFT[name]
    for n, text, _ in ctx.body(*row.sections or ()):
        m = row.search(text)
        if m and n not in ctx.left:
            yield n, text, m


@rule(
    "spec-python-provide-deprecated",
    severity="warning",
    profiles=("fedora", "epel"),
    scope="spec",
    summary="%python_provide is used; it is deprecated in favour of %py_provides.",
    why="Fedora's macros.python marks %python_provide deprecated: it only handles python3- "
    "and the default python3.X- prefixes and prints nothing for other stacks, so an "
    "alternative stack's package silently gets no provides; %py_provides works for any "
    "name (and python-rpm-generators add the python3.Xdist provides).",
    example="%{?python_provide:%python_provide python%{python3_pkgversion}-foo}",
    fix="Delete the line (the name-based provides are generated), or write "
    "%py_provides python%{python3_pkgversion}-foo.",
    source="Fedora python-rpm-macros macros.python (%python_provide), macros.python-srpm "
    "(%py_provides); pyprojectize modifier remove_python_provide",
    peers=("pyprojectize:remove_python_provide",),
)
def python_provide(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    for n, text, _ in _left(ctx, "python-provide"):
        yield Finding(r.name, r.severity, None, f"deprecated %python_provide: {text.strip()!r}", n)


@rule(
    "spec-sitelib-glob",
    severity="warning",
    profiles=_RPM,
    scope="spec",
    summary="%files takes the whole site-packages directory with %{python3_sitelib}/*.",
    why="A glob over site-packages silently packages whatever the build left there "
    "(another module, tests, a stray egg-info) and hides a module that went missing; "
    "list the package's own directories and its dist-info.",
    example="%{python3_sitelib}/*",
    fix="%{python3_sitelib}/foo/ and %{python3_sitelib}/foo-%{version}.dist-info/ (or "
    "%pyproject_save_files foo with %files -f %{pyproject_files}).",
    source="rpmlint SpecCheck.py python-sitelib-glob-in-files; Fedora Packaging Guidelines "
    "for Python ('Files to include')",
    peers=("rpmlint:python-sitelib-glob-in-files",),
)
def sitelib_glob(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    for n, _, m in _left(ctx, "sitelib-glob"):
        yield Finding(r.name, r.severity, None, f"{m.group('macro')}/* in %files", n)


_COPY_TO_BIN = re.compile(
    r"^\s*(install|cp)\s.*(%\{?buildroot\}?|\$RPM_BUILD_ROOT|\$\{RPM_BUILD_ROOT\})"
    r"/?(%\{?_bindir\}?|%\{?_sbindir\}?|/usr/s?bin)"
)
_FIXERS = re.compile(
    r"py3_shebang_fix|py3_other_shebang_fix|py_shebang_fix|pathfix|"
    r"python_clone|_fix_shebang|sed\b.*#!|brp_mangle_shebangs"
)


@rule(
    "spec-shebang-unfixed",
    severity="warning",
    profiles=("fedora", "epel"),
    scope="spec",
    summary="%install copies scripts into /usr/bin but the spec never fixes their shebangs.",
    why="A script copied as upstream wrote it keeps '#!/usr/bin/env python' or "
    "'#!/usr/bin/python3': the first is an error for brp-mangle-shebangs, the second "
    "runs the main Python instead of the stack's; pip and setup.py rewrite only the "
    "scripts they install themselves.",
    example="install -m 0755 tools/foo.py %{buildroot}%{_bindir}/foo  (no %py3_shebang_fix)",
    fix="%py3_shebang_fix %{buildroot}%{_bindir}/foo (for the other stack the same with "
    "%{__python3_other}).",
    source="Fedora python-rpm-macros macros.python3 (%py3_shebang_fix, pathfix.py -pni "
    "-ka); redhat-rpm-config brp-mangle-shebangs ('ambiguous python shebang')",
    peers=("rpmlint:env-script-interpreter", "taskotron:unversioned_shebangs"),
)
def shebang_unfixed(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if _FIXERS.search(ctx.doc.text):
        return
    for n, text, _ in ctx.body("install"):
        if n not in ctx.left and _COPY_TO_BIN.search(text):
            yield Finding(
                r.name,
                r.severity,
                None,
                f"script copied into /usr/bin with its upstream shebang: {text.strip()!r}",
                n,
            )


@rule(
    "spec-port-manual",
    severity="warning",
    profiles=("fedora", "epel", "opensuse"),
    scope="spec",
    summary="A line `coinstall spec port` could not convert mechanically; it is left as "
    "written for the packager (emitted by `coinstall spec port`, not by lint).",
    why="A port never drops or guesses: a shell loop over interpreters, a glob over "
    "site-packages or a macro coinstall does not know may need the other stack's "
    "twin, which only the packager can write.",
    example="for py in python3.11 python3.12; do $py setup.py test; done",
    fix="Write the other stack's form by hand (the EPEL 7 template shows each step), then "
    "`coinstall spec lint` the result.",
    source="coinstall spec port",
)
def port_manual(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    # the port writes these findings itself (coinstall.spec.port); lint has none
    return iter(())
