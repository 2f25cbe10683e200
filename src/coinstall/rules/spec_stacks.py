"""Spec rules: one spec serving parallel Python stacks (EPEL ``python3_other``, RHEL
alternative stacks ``%python3_pkgversion 3.X``).

Sources: the EPEL 7 template (python-epel-rpm-macros ``macros.python3_other``; the
python-leveldb and python-nose2 specs in tests/data/spec/epel7/), Fedora Packaging Guidelines
for Python ("Executables", "Multiple Python Runtimes"), the EPEL wiki EPEL/Python3X, Red Hat's
"Packaging Python 3 RPMs" (RHEL 9/10).  rpmlint's spec checks (``SpecCheck.py``) are the only
peers and none of them knows a stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from coinstall.rules import Finding, Rule, rule
from coinstall.spec.context import (
    SpecContext,
    has_versioned_form,
    is_application,
    is_library,
    major_alias,
    package_stack,
    renames_bindir,
    stack_of_dep,
    versioned_script,
)
from coinstall.stack_text import (
    DEFAULT_INSTALL,
    DEFAULT_MACRO,
    OTHER_INSTALL,
    OTHER_MACRO,
    OTHER_STEPS,
    STACK_DEFINITION,
    first_hardcoded,
)

#: A generated dist() provide: python3dist(x), python3.12dist(x).
_DIST = re.compile(r"python3(?:\.\d+)?dist\(")

_SPEC_RPM = ("fedora", "epel")


def _alt(ctx: SpecContext) -> bool:
    return ctx.profile.name == "epel"


@rule(
    "spec-hardcoded-python3",
    severity="warning",
    profiles=("epel",),
    scope="spec",
    summary="A spec for an alternative or EPEL stack hard-codes python3-, python3dist(, "
    "python3-devel, /usr/bin/python3 or pytest-3 where a stack macro belongs.",
    why="On EPEL and RHEL alternative stacks the stack is %{python3_pkgversion} (3.11, 311): "
    "python3-foo is the distribution's main Python's package, so the subpackage lands in "
    "the wrong stack or the build pulls the wrong interpreter; /usr/bin/python3 and "
    "pytest-3 run the main Python, not the stack's.",
    example="BuildRequires: python3-devel  (in a spec with %global python3_pkgversion 3.11)",
    fix="Write python%{python3_pkgversion}-devel, %{py3_dist foo}, %{__python3}, %pytest; "
    "`coinstall spec port --to alt|epel` does it.",
    source="Fedora macros.python-srpm (%python3_pkgversion, %py3_dist); RHEL 9 'Packaging "
    "Python 3 RPMs' (names must carry python3.11-/python3.12-); EPEL wiki EPEL/Python3X "
    "('Must change python3dist to python3.Xdist')",
    peers=(),
)
def hardcoded(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if not _alt(ctx):
        return
    # the main Python's packages provide python3dist() (python-rpm-generators
    # pythondist.attr, --majorver-provides-versions %{__default_python3_version}): a spec
    # whose %python3_pkgversion is the main Python (EPEL's 312 with default 3.12) may name
    # python3dist() outside the other stack's packages; an alternative stack's may not
    pv = ctx.doc.expand("%{?python3_pkgversion}")
    main = ctx.doc.expand("%{?__default_python3_version}")
    dotted = main if pv in ("", "3") else pv if "." in pv else pv[:1] + "." + pv[1:]
    epel = dotted == main
    for n, text, sec in ctx.body(headers=True):
        if n in ctx.left or STACK_DEFINITION.search(text):
            continue
        exempt = ("python3dist",) if epel and package_stack(ctx, sec.package) != "other" else ()
        row = first_hardcoded(text, sec.name, exempt)
        if row is not None:
            yield Finding(
                r.name,
                r.severity,
                None,
                f"hard-coded {row.what} in {text.strip()!r}: write {row.advice}",
                n,
            )


def _mentions(ctx: SpecContext, section: str, tokens: tuple[str, ...]) -> bool:
    return any(t in text for _, text, _ in ctx.body(section) for t in tokens)


def _first_line(ctx: SpecContext, section: str) -> int:
    for s in ctx.doc.sections_named(section):
        return s.start
    return 1


@rule(
    "spec-library-missing-other-stack",
    severity="error",
    profiles=("epel",),
    scope="spec",
    summary="A library spec for an EPEL stack pair has no subpackage for the other stack, "
    "or its %build/%install/%check/%files skip that stack.",
    why="The seed's rule: libraries are built for every stack, so the other stack's "
    "applications can import them; a library without python%{python3_other_pkgversion}-foo "
    "(or whose %install never runs the other interpreter) leaves that stack without it.",
    example="%files -n python%{python3_pkgversion}-foo ... and no "
    "%files -n python%{python3_other_pkgversion}-foo",
    fix="Add %package/%description/%files -n python%{python3_other_pkgversion}-foo and "
    "%py3_other_build, %py3_other_install (or %pyproject_other_*), a %check run with "
    "%{__python3_other}; `coinstall spec port --to epel` writes them.",
    source="EPEL 7 python-epel-rpm-macros macros.python3_other; the python-nose2 and "
    "python-leveldb EPEL 7 specs (tests/data/spec/epel7/)",
)
def missing_other(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if not _alt(ctx) or ctx.layout == "alt" or not is_library(ctx):
        return
    if ctx.layout != "epel" and not ctx.stack.others:
        return
    stacks = {package_stack(ctx, s.package) for s in ctx.doc.sections_named("package")}
    if "other" not in stacks:
        line = next(
            (
                s.start
                for s in ctx.doc.sections_named("package")
                if s.package is not None and package_stack(ctx, s.package)
            ),
            1,
        )
        yield Finding(
            r.name,
            r.severity,
            None,
            "no python%{python3_other_pkgversion}- subpackage: the other stack "
            "gets no copy of this library",
            line,
        )
        return
    for section, tokens in OTHER_STEPS:  # coinstall.stack_text
        if section == "check" and not any(True for _ in ctx.doc.sections_named("check")):
            continue
        if not _mentions(ctx, section, tokens) and _first_line(ctx, section) not in ctx.left:
            yield Finding(
                r.name,
                r.severity,
                None,
                f"%{section} does nothing for the other stack (none of {', '.join(tokens[:2])})",
                _first_line(ctx, section),
            )
    if not any(package_stack(ctx, s.package) == "other" for s in ctx.doc.sections_named("files")):
        yield Finding(
            r.name,
            r.severity,
            None,
            "no %files for python%{python3_other_pkgversion}-: its subpackage is not built",
            _first_line(ctx, "files"),
        )


@rule(
    "spec-application-multi-stack",
    severity="warning",
    profiles=_SPEC_RPM,
    scope="spec",
    summary="An application (not a python-* library) is built for more than one stack.",
    why="The seed's rule: applications are built for one stack (the default); a second "
    "build only duplicates /usr/bin and makes the two fight over it.",
    example="Name: borgbackup ... %py3_other_install",
    fix="Build the application for %{python3_pkgversion} only; drop the other stack's "
    "steps and subpackage.",
    source="Fedora Packaging Guidelines for Python ('Applications'); the EPEL 7 seed "
    "(libraries for every stack, applications for one)",
)
def app_multi(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if not is_application(ctx):
        return
    for n, text, _ in ctx.body("build", "install", "package", "files"):
        if n not in ctx.left and (
            "python3_other" in text or "py3_other_" in text or "pyproject_other_" in text
        ):
            yield Finding(
                r.name,
                r.severity,
                None,
                f"application {ctx.doc.name} is built for the other stack too: {text.strip()!r}",
                n,
            )
            return


@rule(
    "spec-install-order",
    severity="error",
    profiles=("epel",),
    scope="spec",
    summary="%install installs the default stack before the other one, so the other "
    "stack's scripts end up in /usr/bin.",
    why="Each setup.py/pip install writes /usr/bin/foo; the last one wins.  The EPEL "
    "template installs the other stack first and the default last, so /usr/bin/foo is "
    "the default stack's.  Reported only where the package ships something in /usr/bin "
    "(a %files entry under %{_bindir}, or a file list that may hold one): a library "
    "without scripts has nothing to overwrite, and rpmbuild refuses an installed file no "
    "%files lists.",
    example="%py3_install then %py3_other_install",
    fix="Move the other stack's install (%py3_other_install) before the default's.",
    source="python-nose2 EPEL 7 spec: 'Must do the default install last because the scripts "
    "in /usr/bin are overwritten with every setup.py install'",
)
def install_order(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if not _alt(ctx):
        return
    default_at = other_at = None
    for n, text, _ in ctx.body("install"):
        if default_at is None and DEFAULT_INSTALL.search(text):
            default_at = n
        if other_at is None and OTHER_INSTALL.search(text):
            other_at = n
    if (
        default_at is not None
        and other_at is not None
        and default_at < other_at
        and not renames_bindir(ctx, default_at, other_at)
        and _may_ship_bindir(ctx)
    ):
        yield Finding(
            r.name,
            r.severity,
            None,
            f"the other stack installs (line {other_at}) after the default "
            f"(line {default_at}): its scripts overwrite /usr/bin",
            other_at,
        )


_BINDIR = re.compile(r"(%\{?_bindir\}?|/usr/bin)/(\S+)")
#: ``%files -f FILE``: a list written in %install; pyproject-rpm-macros'
#: ``%{pyproject_files}`` holds the modules %pyproject_save_files names, never /usr/bin
#: (pyproject-rpm-macros README, "%pyproject_save_files": executables are listed by hand)
_FILE_LIST = re.compile(r"(?:^|\s)-f\s*(\S+)")


def _may_ship_bindir(ctx: SpecContext) -> bool:
    """Whether some %files section lists a /usr/bin entry, or a file list that may hold one
    (``-f`` other than ``%{pyproject_files}``)."""
    for s in ctx.doc.sections_named("files"):
        lists = _FILE_LIST.findall(s.args)
        if any(f not in ("%{pyproject_files}", "%pyproject_files") for f in lists):
            return True
        for _n, text in s.lines:
            if not text.lstrip().startswith("#") and _BINDIR.search(text):
                return True
    return False


def _bindir_entries(ctx: SpecContext, stack: str) -> Iterator[tuple[int, str, str]]:
    for s in ctx.doc.sections_named("files"):
        if package_stack(ctx, s.package) != stack:
            continue
        for n, text in s.lines:
            if text.lstrip().startswith("#"):
                continue
            m = _BINDIR.search(text)
            if m:
                yield n, m.group(2), s.package or ctx.doc.name


@rule(
    "spec-bindir-unversioned-other",
    severity="error",
    profiles=("epel",),
    scope="spec",
    summary="%files gives the unversioned foo or foo-3 of /usr/bin to the non-default stack.",
    why="/usr/bin/foo and /usr/bin/foo-3 belong to the default stack (Fedora Packaging "
    "Guidelines, 'Executables'); a non-default stack's package that owns them conflicts "
    "with the default's or hijacks the command.",
    example="%files -n python%{python3_other_pkgversion}-foo ... %{_bindir}/foo",
    fix="List only %{_bindir}/foo-%{python3_other_version} in the other stack's %files.",
    source="Fedora Packaging Guidelines for Python ('Executables in /usr/bin'); EPEL wiki "
    "EPEL/Python3X (bindir files only foo-%{python3_version})",
)
def bindir_other(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if not _alt(ctx):
        return
    for n, entry, pkg in _bindir_entries(ctx, "other"):
        if n not in ctx.left and not versioned_script(entry):
            yield Finding(
                r.name, r.severity, None, f"{pkg} (the non-default stack) owns /usr/bin/{entry}", n
            )


@rule(
    "spec-bindir-missing-versioned",
    severity="warning",
    profiles=("epel",),
    scope="spec",
    summary="A stack's %files ships /usr/bin/foo without foo-3.X.",
    why="With several stacks installed, foo-3.X is how a user picks the stack; the seed "
    "splits every script into foo, foo-3 and foo-3.X.",
    example="%files -n python%{python3_pkgversion}-foo ... %{_bindir}/foo  "
    "(no foo-%{python3_version})",
    fix="Install a copy or symlink foo-%{python3_version} and list it.",
    source="Fedora Packaging Guidelines for Python ('Executables in /usr/bin': foo-3 and "
    "foo-3.X); the python-nose2 EPEL 7 spec",
)
def bindir_versioned(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    if not _alt(ctx):
        return
    for stack in ("default", "python3"):
        entries = list(_bindir_entries(ctx, stack))
        names = {e for _, e, _ in entries}
        for n, entry, pkg in entries:
            if (
                n in ctx.left
                or versioned_script(entry)
                or major_alias(entry, names)
                or "*" in entry
            ):
                continue
            if not has_versioned_form(entry, names):
                yield Finding(
                    r.name, r.severity, None, f"{pkg} ships /usr/bin/{entry} but no {entry}-3.X", n
                )


@rule(
    "spec-mixed-stacks",
    severity="error",
    profiles=_SPEC_RPM,
    scope="spec",
    summary="A subpackage of one stack requires, or lists files of, another stack "
    "(python3.11-foo requiring python3-bar).",
    why="Each stack has its own interpreter and site-packages: a python3.11 package that "
    "requires python3-bar gets bar installed for the main Python, where python3.11 "
    "cannot import it; files of the other stack in its %files belong to the other "
    "package.",
    example="%package -n python%{python3_other_pkgversion}-foo / Requires: python3-bar",
    fix="Name dependencies and paths with the package's own stack macros "
    "(python%{python3_other_pkgversion}-bar, %{python3_other_sitelib}).",
    source="Fedora python-rpm-generators pythondistdeps.py (python3.Xdist requires per "
    "stack); taskotron-python-versions two_three (the same check between 2 and 3)",
    peers=("taskotron:two_three",),
)
def mixed(r: Rule, ctx: SpecContext) -> Iterator[Finding]:
    # raw: a section or tag of one stack's package using the other stack's macros
    for s in ctx.doc.sections:
        if s.name not in ("package", "files", "description") or s.package is None:
            continue
        stack = package_stack(ctx, s.package)
        if stack not in ("default", "other"):
            continue
        bad = DEFAULT_MACRO if stack == "other" else OTHER_MACRO  # coinstall.stack_text
        for n, text in s.lines:
            if (
                n in ctx.left
                or text.lstrip().startswith(("#", "%if", "%else", "%endif"))
                or s.name == "description"
                or re.match(r"\s*BuildRequires\s*:", text)
            ):
                continue  # BuildRequires belong to the source package, whatever the section
            m = bad.search(text)
            if m:
                yield Finding(
                    r.name,
                    r.severity,
                    None,
                    f"{s.package} ({stack} stack) uses {m.group(0)}: {text.strip()!r}",
                    n,
                )
    # expanded: a binary package's Requires of another stack.  The main Python's packages
    # provide both python3dist(bar) and python3.X dist(bar) (python-rpm-generators
    # pythondist.attr: --majorver-provides-versions %{__default_python3_version}), so the
    # main stack's python312-foo may require python3dist(bar), and its python3-foo+extra
    # (%pyproject_extras_subpkg, Fedora's python-django-storages) python3.12dist(bar)
    main = ctx.doc.expand("%{?__default_python3_version}")
    for p in ctx.doc.packages:
        mine = stack_of_dep(p.name)
        if mine is None:
            continue
        for dep in p.requires:
            theirs = stack_of_dep(dep)
            if main and {mine, theirs} == {"3", main} and _DIST.match(dep):
                continue
            if theirs is not None and theirs != mine:
                line = _requires_line(ctx, p.written, dep) or p.line
                if line in ctx.left:
                    continue
                yield Finding(
                    r.name, r.severity, None, f"{p.name} requires {dep}, of another stack", line
                )

    # expanded: an alternative-stack spec's BuildRequires of another literal stack version
    # (python3-x is spec-hardcoded-python3's)
    if ctx.layout == "alt":
        mine = stack_of_dep("python" + ctx.doc.expand("%{python3_pkgversion}") + "-x")
        for dep in ctx.doc.buildrequires:
            theirs = stack_of_dep(dep)
            if theirs not in (None, "3", mine):
                line = _requires_line(ctx, None, dep, "buildrequires") or 1
                if line not in ctx.left:
                    yield Finding(
                        r.name,
                        r.severity,
                        None,
                        f"BuildRequires {dep} in a spec for the python{mine} stack",
                        line,
                    )


def _requires_line(
    ctx: SpecContext, written: str | None, dep: str, key: str = "requires"
) -> int | None:
    for t in ctx.doc.tags:
        if (
            t.key == key
            and (key == "buildrequires" or t.package == written)
            and dep in ctx.doc.expand(t.value)
        ):
            return t.line
    return None
