"""The context of one RPM spec and how a name or a line tells its stack: what the spec rules
(``rules/spec_*.py``), ``coinstall spec lint`` (:mod:`coinstall.spec.lint`) and ``coinstall
spec port`` (:mod:`coinstall.spec.port`) share.

The stack vocabulary follows the EPEL 7 template (python-epel-rpm-macros
``macros.python3_other``; Fedora ``macros.python-srpm``): ``python%{python3_pkgversion}-foo``
is the default stack's subpackage, ``python%{python3_other_pkgversion}-foo`` the other's;
``python3-foo`` is the distribution's main Python; ``python3.11-foo`` / ``python311-foo`` name a
version outright.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from coinstall.rules.profiles import PROFILES, Profile
from coinstall.runtimes.stack import Stack

if TYPE_CHECKING:  # the spec reader imports librpm and specfile: only `coinstall spec` pays
    from coinstall.spec.read import Section, SpecDoc

#: A layout a spec can be written in (:func:`layout_of`).
SpecLayout = Literal["fedora", "alt", "epel", "suse"]

#: The layouts, from :data:`SpecLayout`.
LAYOUTS: tuple[SpecLayout, ...] = get_args(SpecLayout)


@dataclass
class SpecContext:
    """What a spec rule sees.

    Attributes:
        doc: the spec as read (structure, librpm's packages).
        profile: the policy it is judged by (``fedora``, ``epel``, ``opensuse``).
        stack: the supported versions and the default (may be empty).
        layout: how the spec is written (:func:`layout_of`).
        left: lines a port left for the packager (their findings are the port's, not
            repeated by the rules).
    """

    doc: SpecDoc
    profile: Profile = PROFILES["fedora"]
    stack: Stack = field(default_factory=Stack)
    layout: SpecLayout = "fedora"
    left: frozenset[int] = frozenset()

    def body(self, *names: str, headers: bool = False) -> Iterator[tuple[int, str, Section]]:
        """``(line, text, section)`` of every line of the named sections (all sections but
        ``%changelog`` when none are named), comments excluded; with ``headers`` the section
        header lines (``%package -n python3-foo``) too."""
        for i, s in enumerate(self.doc.sections):
            if s.name == "changelog" or (names and s.name not in names):
                continue
            if headers and i > 0:
                yield s.start, self.doc.lines[s.start - 1], s
            for n, text in s.lines:
                if not text.lstrip().startswith("#"):
                    yield n, text, s


def layout_of(doc: SpecDoc) -> SpecLayout:
    """``suse`` (``%python_subpackages``), ``epel`` (any ``python3_other`` macro), ``alt``
    (``%python3_pkgversion`` defined in the spec), else ``fedora`` (which may use
    ``%{python3_pkgversion}`` in names, as Fedora specs shared with EPEL do)."""
    text = "\n".join(
        t
        for s in doc.sections
        if s.name != "changelog"
        for _, t in s.lines
        if not t.lstrip().startswith("#")
    )
    if "%python_subpackages" in text or "%{python_subpackages}" in text:
        return "suse"
    if "python3_other" in text:
        return "epel"
    if any(name == "python3_pkgversion" for name, _, _ in doc.definitions):
        return "alt"
    return "fedora"


def profile_for(layout: SpecLayout) -> Profile:
    """The profile a spec of ``layout`` is judged by when none is named."""
    return PROFILES[{"suse": "opensuse", "alt": "epel", "epel": "epel"}.get(layout, "fedora")]


_OTHER = re.compile(r"%\{\??python3_other_pkgversion\}")
_DEFAULT = re.compile(r"%\{\??python3_pkgversion\}")
_LITERAL = re.compile(r"^python(3)(?:\.?(\d{1,2}))?-")


def stack_of_written(name: str | None) -> str | None:
    """The stack of a package name as written: ``other``, ``default``, ``python3`` (the
    distribution's main Python), ``3.11`` (a literal version), None (not a Python stack's
    package)."""
    if not name:
        return None
    if _OTHER.search(name):
        return "other"
    if _DEFAULT.search(name):
        return "default"
    m = _LITERAL.match(name)
    if m:
        return f"3.{m.group(2)}" if m.group(2) else "python3"
    return None


#: ``pytest-3`` (or ``%{_bindir}/pytest-3``, ``/usr/bin/pytest-3``) as the command a shell
#: line runs: at the start of the line or after ``;``/``&&``/``||``/``|``/``(``/a backquote,
#: ``then``/``do``/``else``/``exec``/``env``/``xvfb-run``, after ``VAR=value`` assignments.
#: An argument (``ln -s pytest-3 ...``), a %files path, a Requires are not commands.
PYTEST3_COMMAND = re.compile(
    r"((?:^|[;&|(`]|\$\()\s*(?:(?:then|do|else|exec|env|xvfb-run(?:\s+-a)?|%\{?_?xvfb\}?)\s+)*"
    r"(?:[A-Za-z_]\w*=(?:\"[^\"]*\"|'[^']*'|\S*)\s+)*)"
    r"(?:%\{_bindir\}/|%_bindir/|/usr/bin/)?pytest-3(?=\s|$|[;&|)`])"
)
#: the sections whose lines are shell commands (rpmbuild runs them with /bin/sh)
COMMAND_SECTIONS = ("prep", "generate_buildrequires", "conf", "build", "install", "check")


_MAJOR_SUFFIX = re.compile(r"^(.+?)(-3|3)$")
#: What ends a ``/usr/bin`` name that names one stack's version (:func:`versioned_script`).
VERSION_TAIL = r"-?(?:[23]\.\d+|%\{\??python3\w*_(?:pkg)?version\}|%\{\??\$?python_bin_suffix\})"
_VERSIONED_SCRIPT = re.compile(VERSION_TAIL + "$")
#: what follows a script's base name in its versioned forms, or a glob of them
_VERSION_FORM = re.compile(r"(?:" + VERSION_TAIL + r"|-?3\.?\*|-?\*)")


def versioned_script(entry: str) -> bool:
    """Whether the ``/usr/bin`` name ``entry`` (as a spec's %files writes it) names one
    stack's version of a script: ``foo-3.X`` / ``foo3.X`` (and Python 2's ``foo-2.X``),
    ``foo-%{python3_version}`` / ``foo%{python3_version}``, ``foo-%{python3_other_version}``,
    openSUSE's ``foo-%{python_bin_suffix}`` (``%{$python_bin_suffix}`` inside
    ``%python_expand``), ``foo%{python3_pkgversion}`` / ``foo-%{python3_pkgversion}``.

    Sources: Fedora Packaging Guidelines for Python, 'Executables in /usr/bin' (``foo``,
    ``foo-3`` and ``foo-3.X``; ``pip3.X``, ``f2py3.X`` as the projects name them); EPEL wiki
    EPEL/Python3X (the stack's package lists only ``foo-%{python3_version}``);
    python-epel-rpm-macros ``macros.python3_other`` (``%python3_other_version``);
    openSUSE python-rpm-macros ``flavor.in`` (``%python_clone`` makes
    ``foo-%{python_bin_suffix}``, e.g. ``foo-3.11``).

    ``%{python3_pkgversion}`` counts as a version: this is asked only of specs judged for
    an alternative or EPEL stack, where it is ``3.11`` or ``311`` (Fedora's main stack sets
    it to ``3``, where ``foo%{python3_pkgversion}`` would be the alias ``foo3``).  A bare
    ``foo-3``/``foo3`` is not versioned (:func:`major_alias`), nor a glob, nor a
    program's own version (``gst-launch-1.0``)."""
    return bool(_VERSIONED_SCRIPT.search(entry))


def major_alias(entry: str, names: Iterable[str]) -> bool:
    """Whether the ``/usr/bin`` name ``entry`` (``foo-3``, ``foo3``) is the major-version
    alias of another script the same spec installs: its base (``foo``) is among ``names``,
    or a versioned form of it (:func:`versioned_script`: ``foo-%{python3_version}``,
    ``foo-3.12``, ``foo3.12``, ``foo%{python3_pkgversion}``) or a glob of them.

    A trailing 3 alone proves nothing: ``eyeD3``, ``2to3``, ``hdf5-3`` are programs' own
    names (Fedora Packaging Guidelines for Python, 'Executables in /usr/bin': ``foo-3`` is a
    symlink the packager adds beside ``foo``).  A glob ending in ``-3*``/``3*`` is the
    default's family of aliases, as the spec wrote it.
    """
    if entry.endswith("*"):
        return bool(re.search(r"(-3|3)\.?\*$", entry))
    m = _MAJOR_SUFFIX.match(entry)
    if not m:
        return False
    base = m.group(1)
    return any(
        x != entry
        and x.startswith(base)
        and (x == base or bool(_VERSION_FORM.fullmatch(x[len(base) :])))
        for x in names
    )


def script_base(entry: str) -> str:
    """``entry`` without its version tail (:func:`versioned_script`): ``foo`` for
    ``foo-%{python3_version}``, ``foo-3.11``, ``foo3.11``; ``entry`` itself otherwise."""
    return _VERSIONED_SCRIPT.sub("", entry)


def has_versioned_form(entry: str, names: Iterable[str]) -> bool:
    """Whether ``names`` (the ``/usr/bin`` names of one %files) hold a versioned form of the
    script ``entry``: ``entry-3.X``, ``entry-%{python3_version}`` (:func:`versioned_script`)
    or a glob of them (``entry-3*``, ``entry-3.*``, ``entry-3.1*``).  Source: Fedora
    Packaging Guidelines for Python, 'Executables in /usr/bin'."""
    return any(
        x.startswith(entry + "-")
        and (versioned_script(x) or bool(re.search(r"-3(\.\d+)?\*$|-3\.\*$", x)))
        for x in names
    )


_DEP = re.compile(r"^python(3)(?:\.?(\d{1,2}))?(?:-|dist\()")


def stack_of_dep(name: str) -> str | None:
    """The Python stack an expanded dependency or package name belongs to: ``"3"`` for
    ``python3-x``/``python3dist(x)``, ``"3.11"`` for ``python3.11-x``, ``python311-x``,
    ``python3.11dist(x)``; None otherwise (``python3-devel`` counts as ``"3"``)."""
    m = _DEP.match(name)
    if not m:
        return None
    return f"3.{m.group(2)}" if m.group(2) else "3"


def package_stack(ctx: SpecContext, written: str | None) -> str | None:
    """The stack of the package ``written`` (as written in its headers; None = the main
    package, judged by the ``Name`` tag)."""
    if written is None:
        for t in ctx.doc.tags:
            if t.key == "name" and t.package is None:
                return stack_of_written(t.value)
        return None
    return stack_of_written(written)


_MOVES_BINDIR = re.compile(
    r"^\s*(mv|rm)\b.*(%\{?buildroot\}?|\$RPM_BUILD_ROOT)"
    r"(%\{?_bindir\}?|/usr/bin)/"
)


def renames_bindir(ctx: SpecContext, after: int, before: int) -> bool:
    """Whether a %install command between lines ``after`` and ``before`` moves or removes a
    script of the build root's /usr/bin (``mv %{buildroot}%{_bindir}/foo
    %{buildroot}%{_bindir}/foo-%{python3_version}``): the packager takes the default
    stack's scripts out of the next install's way (EPEL 7 python3-chardet renames
    chardetect to chardetect-3.X right after each stack's install), so nothing is
    overwritten whatever the order."""
    return any(
        after < n < before and _MOVES_BINDIR.search(text) for n, text, _ in ctx.body("install")
    )


def is_library(ctx: SpecContext) -> bool:
    """A spec builds a library when one of its Python subpackages installs into the site
    directories (``%{python3_sitelib}``, ``%{python3_sitearch}``, ``%pyproject_files``)."""
    for s in ctx.doc.sections_named("files"):
        if package_stack(ctx, s.package) is None:
            continue
        if "pyproject_files" in s.args or "python_files" in s.args:
            return True
        for _, text in s.lines:
            if re.search(r"python3?\w*_site(lib|arch)|pyproject_files", text):
                return True
    return False


def is_application(ctx: SpecContext) -> bool:
    """An application: its ``Name`` does not start with ``python`` and no subpackage is named
    for a Python stack (Fedora Packaging Guidelines for Python: applications keep their own
    name; the seed: "libraries for every stack, applications for one")."""
    name = ctx.doc.name or ""
    if name.startswith(("python", "pypy")):
        return False
    return not any(package_stack(ctx, s.package) for s in ctx.doc.sections_named("package"))
