"""Spec text that hard-codes the main Python where a stack macro belongs: one table, read by
``coinstall spec lint`` (rule ``spec-hardcoded-python3``, rules/spec_stacks.py) and by
``coinstall spec port`` (spec/port.py), so that what the lint flags is what the port rewrites.

Each :class:`StackText` row gives the pattern, how the lint names it and what it advises, the
replacement the port writes for each target layout (``alt``, ``epel``; a target missing from
the row: the port leaves the text as written), and where the row applies (sections).  The
exemptions are :data:`MAIN_PYTHON_TOOLS` (kept by both) and :data:`STACK_DEFINITION` (lines
the lint does not judge).

Two more tables of the same kind: :data:`STACK_MACROS`, the default stack's macros and their
twins (the other stack's, openSUSE's), which the ports write and ``spec-mixed-stacks`` reads;
:data:`LEFT_TEXT`, text that no port rewrites whole (a glob over site-packages, a
``%python_provide``), which ``spec-sitelib-glob`` and ``spec-python-provide-deprecated`` flag
and the port reports as left for the packager (a row's ``call``: the part the port does
rewrite, :func:`py_provides`).  And the other stack's steps as both read them:
:data:`DEFAULT_INSTALL`/:data:`OTHER_INSTALL` (``spec-install-order``, the epel port's
install order) and :data:`OTHER_STEPS` (``spec-library-missing-other-stack``, the epel port's
``%check`` left for the packager).

Sources: Fedora python-rpm-macros ``macros.python-srpm`` (``%python3_pkgversion``,
``%py3_dist``, ``%__python3``); RHEL 9 "Packaging Python 3 RPMs" (an alternative stack's
names carry ``python3.11-``); the EPEL wiki EPEL/Python3X ("Must change python3dist to
python3.Xdist"); python-rpm-generators ``pythondist.attr`` (the main Python's packages
provide ``python3dist()`` and ``python3.Xdist()``, ``--majorver-provides-versions
%{__default_python3_version}``; an alternative stack's only ``python3.Xdist()``); the RHEL
python3.11-pip and python3.11-setuptools specs (tests/data/spec/alt/: docs built with the
main Python's ``python3-sphinx``, generators from ``python3-rpm-generators``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field

from coinstall.spec.context import COMMAND_SECTIONS, PYTEST3_COMMAND

#: A replacement as :func:`re.sub` takes it: a template string or a function of the match.
Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class StackText:
    """One row of :data:`STACK_TEXT`.

    Attributes:
        name: the row's kebab-case name (``python3-name``).
        pattern: what the spec text says (searched in one line).
        what: how the lint's finding names it (``hard-coded {what} in ...``).
        advice: what the lint says to write instead (``write {advice}``).
        port: target layout (``alt``, ``epel``) -> what the port writes in place of each
            match; a target absent: the port leaves the text (the lint may still flag it).
            ``other``: in the other stack's twin of a default-stack line (the ``epel``
            port's second subpackage): its dist names are python3.Xdist() (dotted;
            python-rpm-generators pythondistdeps.py), never the main Python's
            python3dist() nor EPEL's undotted python%{python3_other_pkgversion}dist().
        sections: the only sections the row applies to (None: every section but
            ``%changelog``, and the preamble and section headers).
        skip_sections: sections it never applies to.
        lint: whether ``spec-hardcoded-python3`` flags it (False: a row only the port
            rewrites).
    """

    name: str
    pattern: re.Pattern[str]
    what: str
    advice: str
    port: Mapping[str, Replacement] = field(default_factory=dict)
    sections: tuple[str, ...] | None = None
    skip_sections: tuple[str, ...] = ()
    lint: bool = True

    def applies(self, section: str | None) -> bool:
        """Whether the row applies to a line of ``section`` (None: the preamble or a
        section header line)."""
        if section in self.skip_sections:
            return False
        return self.sections is None or section in self.sections


#: ``python3-``: not after a word character, ``%``, ``{``, ``.`` or ``-`` (``%{python3-x}``,
#: ``foo-python3-x`` are other names), before a letter or a macro
_NAME = r"(?<![\w%{.-])python3-(?=[A-Za-z%])"

#: The rows, in the order the lint tries them on a line (its finding names the first that
#: matches) and the port applies them.
STACK_TEXT: tuple[StackText, ...] = (
    # pytest-3 where it runs (a command of a shell section; not a %files path nor ln's argument)
    StackText(
        "pytest-3",
        PYTEST3_COMMAND,
        "pytest-3",
        "%pytest",
        port={t: (lambda m: m.group(1) + "%{__python3} -m pytest") for t in ("alt", "epel")},
        sections=COMMAND_SECTIONS,
    ),
    StackText(
        "python3-devel",
        re.compile(r"(?<![\w%{.-])python3-devel\b"),
        "python3-devel",
        "python%{python3_pkgversion}-devel",
        port={
            "alt": "python%{python3_pkgversion}-devel",
            "epel": "python%{python3_pkgversion}-devel",
        },
    ),
    # alt: the stack provides only python3.Xdist(), which python%{python3_pkgversion}dist(
    # spells when %python3_pkgversion is 3.X (RHEL); epel: the default stack's packages
    # provide python3dist() too, kept (the lint's exemption: rules/spec_stacks.py)
    StackText(
        "python3dist",
        re.compile(r"(?<![\w%{.-])python3dist\("),
        "python3dist(",
        "%{py3_dist ...}",
        port={
            "alt": "python%{python3_pkgversion}dist(",
            "other": "python%{python3_other_version}dist(",
        },
    ),
    # EPEL spells %python3_pkgversion without a dot (312): python312dist() is no name
    # (not flagged by the lint: written by ports of alt specs before this fix)
    StackText(
        "pkgversion-dist",
        re.compile(r"python%\{python3_pkgversion\}dist\("),
        "python%{python3_pkgversion}dist(",
        "python%{python3_version}dist(",
        port={
            "epel": "python%{python3_version}dist(",
            "other": "python%{python3_other_version}dist(",
        },
        lint=False,
    ),
    # a path in %files is a file the package owns, not the interpreter a command runs
    StackText(
        "usr-bin-python3",
        re.compile(r"/usr/bin/python3(?![.\d\w])"),
        "/usr/bin/python3",
        "%{__python3}",
        port={"alt": "%{__python3}", "epel": "%{__python3}"},
        skip_sections=("files",),
    ),
    StackText(
        "python3-name",
        re.compile(_NAME + r"(?!devel\b)"),
        "python3-",
        "python%{python3_pkgversion}-",
        port={"alt": "python%{python3_pkgversion}-", "epel": "python%{python3_pkgversion}-"},
    ),
    # python3.11-foo / python311-foo in a stack's spec: the port cannot tell which stack
    # the packager meant; left as written
    StackText(
        "literal-version",
        re.compile(r"(?<![\w%{.-])python3\.?1?\d-(?=[A-Za-z%])"),
        "a literal stack version",
        "python%{python3_pkgversion}-",
    ),
)

#: The rows the lint tries.
LINT_ROWS = tuple(r for r in STACK_TEXT if r.lint)

#: Tools a build runs as programs, with no package per stack: the main Python's are right
#: and both keep them (RHEL alternative-stack specs build their docs with python3-sphinx and
#: take the generators from python3-rpm-generators: tests/data/spec/alt/python3.11-pip.spec).
MAIN_PYTHON_TOOLS = re.compile(r"python3-(rpm-generators|rpm-macros|sphinx)\b")

#: Lines that define the stack macros themselves (``%global __python3 ...``,
#: ``%global python3_pkgversion 3.11``, ``%global py3_...``) or call ``%python_provide``:
#: the lint does not judge them (the port comments out the definitions of ``%__python3`` and
#: ``%python3_pkgversion``; ``%python_provide`` is spec-python-provide-deprecated's).
STACK_DEFINITION = re.compile(
    r"^\s*%(global|define)\s+(__python3\w*|python3\w*pkgversion|"
    r"py3\w*)\b|python_provide"
)


def rewrite(text: str, section: str | None, target: str) -> str:
    """``text`` with every row's port replacement for ``target`` applied where the row
    applies (``section``: the line's section, None for the preamble or a header), the
    :data:`MAIN_PYTHON_TOOLS` kept as written."""
    keep = MAIN_PYTHON_TOOLS.findall(text)
    t = MAIN_PYTHON_TOOLS.sub("\0KEEP\0", text)
    for row in STACK_TEXT:
        repl = row.port.get(target)
        if repl is not None and row.applies(section):
            t = row.pattern.sub(repl, t)
    for k in keep:
        t = t.replace("\0KEEP\0", f"python3-{k}", 1)
    return t


def first_hardcoded(
    text: str, section: str | None, exempt: Container[str] = ()
) -> StackText | None:
    """The first lint row that matches ``text`` (a line of ``section``) once the
    :data:`MAIN_PYTHON_TOOLS` are taken out, skipping the rows named in ``exempt`` (the
    context's exemptions: ``python3dist`` where the spec's stack is the main Python), or
    None."""
    t = MAIN_PYTHON_TOOLS.sub("", text)
    for row in LINT_ROWS:
        if row.name not in exempt and row.applies(section) and row.pattern.search(t):
            return row
    return None


@dataclass(frozen=True)
class StackMacro:
    """One row of :data:`STACK_MACROS`: a macro of the default stack and its twins.

    Attributes:
        name: the default stack's macro (``python3_sitelib``; Fedora python-rpm-macros
            ``macros.python3``, ``macros.python-srpm``, pyproject-rpm-macros).
        other: the other stack's twin (EPEL 7 python-epel-rpm-macros
            ``macros.python3_other``; ``%pyproject_other_*``, ``%pytest_other``,
            ``%py3_other_dist`` are coinstall's, spec/macros.py).
        suse: openSUSE's name for it (python-rpm-macros ``macros.lua``, ``flavor.in``), or
            None where the port keeps the Fedora name.
    """

    name: str
    other: str
    suse: str | None = None


#: The default stack's macros that have a twin: the epel port writes ``other`` in the other
#: stack's copy of a line (:func:`rename_macros`), the suse port ``suse``, and the lint's
#: ``spec-mixed-stacks`` flags ``name`` in the other stack's package (:data:`DEFAULT_MACRO`)
#: and ``other`` in the default's (:data:`OTHER_MACRO`).
STACK_MACROS: tuple[StackMacro, ...] = (
    StackMacro("python3_pkgversion", "python3_other_pkgversion"),
    StackMacro("python3_sitelib", "python3_other_sitelib", "python_sitelib"),
    StackMacro("python3_sitearch", "python3_other_sitearch", "python_sitearch"),
    StackMacro("python3_version", "python3_other_version", "python_version"),
    StackMacro("python3_version_nodots", "python3_other_version_nodots"),
    StackMacro("python3_ext_suffix", "python3_other_ext_suffix"),
    StackMacro("__python3", "__python3_other", "python_exec"),
    StackMacro("python3", "__python3_other", "python_exec"),
    StackMacro("pyproject_files", "pyproject_other_files"),
    StackMacro("py3_dist", "py3_other_dist"),
    StackMacro("py3_build", "py3_other_build", "python_build"),
    StackMacro("py3_build_wheel", "py3_other_build_wheel"),
    StackMacro("py3_install_wheel", "py3_other_install_wheel"),
    StackMacro("py3_install", "py3_other_install", "python_install"),
    StackMacro("pyproject_wheel", "pyproject_other_wheel"),
    StackMacro("pyproject_install", "pyproject_other_install"),
    StackMacro("pyproject_save_files", "pyproject_other_save_files"),
    StackMacro("pyproject_check_import", "pyproject_other_check_import"),
    StackMacro("py3_check_import", "py3_other_check_import"),
    StackMacro("py3_shebang_fix", "py3_other_shebang_fix"),
    StackMacro("py3_shbang_opts", "py3_other_shbang_opts"),
    StackMacro("pytest", "pytest_other"),
)


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(sorted(set(names), key=len, reverse=True))


def _use(names: Iterable[str]) -> re.Pattern[str]:
    """A use of one of ``names``: ``%name``, ``%{name}``, ``%{?name}``, ``%{!?name}`` (group
    1: the brace and its flags, group 2: the name), not a longer name."""
    return re.compile(r"%(\{[?!]*)?(" + _alternatives(names) + r")(?![\w])")


_TWINS: dict[str, dict[str, str]] = {
    "other": {m.name: m.other for m in STACK_MACROS},
    "suse": {m.name: m.suse for m in STACK_MACROS if m.suse is not None},
}
_TWIN_USE = {target: _use(names) for target, names in _TWINS.items()}


def twin(name: str, target: str = "other") -> str:
    """The ``target`` twin (``other``, ``suse``) of the default stack's macro ``name``.

    Raises:
        KeyError: ``name`` has no such twin in :data:`STACK_MACROS`.
    """
    return _TWINS[target][name]


def rename_macros(text: str, target: str) -> str:
    """``text`` with each use of a :data:`STACK_MACROS` name replaced by its ``target`` twin
    (``other``: the EPEL other stack's, ``suse``: openSUSE's; a macro without one is kept),
    braces and ``?``/``!`` flags kept."""
    twins = _TWINS[target]
    return _TWIN_USE[target].sub(lambda m: "%" + (m.group(1) or "") + twins[m.group(2)], text)


#: A default-stack macro as the lint names it in the other stack's package: ``%{name}``,
#: ``%{?name}`` or ``%name`` (a conditional ``%{?name:...}`` is not a use of its value).
DEFAULT_MACRO = re.compile(
    r"%\{\??(" + _alternatives(m.name for m in STACK_MACROS) + r")\}"
    r"|%(" + _alternatives(m.name for m in STACK_MACROS) + r")(?![\w])"
)
#: An other-stack name in the default stack's package: any ``python3_other``/``py3_other_``
#: token (EPEL 7's macros and the other stack's names; not the file name
#: macros.python3_other) or a use of one of coinstall's other-stack macros.
OTHER_MACRO = re.compile(
    r"(?<!\.)(python3_other|py3_other_)|%\{?\??("
    + _alternatives(m.other for m in STACK_MACROS)
    + r")(?![\w])"
)


@dataclass(frozen=True)
class LeftText:
    """One row of :data:`LEFT_TEXT`: spec text that no port rewrites as a whole: the lint
    flags it (rule ``rule``), the port leaves it for the packager and says ``left``.

    Attributes:
        name: the row's kebab-case name.
        pattern: what the spec text says (searched in one line).
        rule: the lint rule that flags it.
        left: the port's note when its output still holds it (a ``spec-port-manual``
            finding).
        sections: the only sections the lint judges it in (None: every section but
            ``%changelog``); the port reads its output's lines up to ``%changelog``,
            comments left out.
        exempt: lines neither judges (matched at the start of the line), or None.
        call: where the port can rewrite the text after all (searched in one line): the
            start of a call it replaces (:func:`py_provides`), or None (it never can).
            Every match of ``call`` is a match of ``pattern`` (tests/test_stack_text.py).
    """

    name: str
    pattern: re.Pattern[str]
    rule: str
    left: str
    sections: tuple[str, ...] | None = None
    exempt: re.Pattern[str] | None = None
    call: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        """The row's match in one line, or None (an exempt line: None)."""
        if self.exempt is not None and self.exempt.match(text):
            return None
        return self.pattern.search(text)


#: Sources: rpmlint ``SpecCheck.py`` (``python-sitelib-glob-in-files``), Fedora
#: python-rpm-macros ``macros.python`` (``%python_provide`` deprecated; the port writes
#: ``%py_provides`` only for a stack package's name, spec/port.py).
LEFT_TEXT: tuple[LeftText, ...] = (
    # group "macro": the site directory's macro, as the lint names it
    LeftText(
        "sitelib-glob",
        re.compile(r"^\s*(%\w+(\([^)]*\))?\s+)*(?P<macro>%\{\??python\w*_site(lib|arch)\})/\*\s*$"),
        "spec-sitelib-glob",
        "a glob over site-packages: list the package's own directories",
        sections=("files",),
    ),
    LeftText(
        "python-provide",
        re.compile(r"%\{?\??python_provide\b"),
        "spec-python-provide-deprecated",
        "%python_provide of a name that is not "
        "python%{python3_pkgversion}-... (python3-, python2-): left as written",
        exempt=re.compile(r"\s*%(global|define)\s"),
        # the forms the port rewrites: the conditional call anywhere, a bare call that
        # starts the line
        call=re.compile(r"%\{\?python_provide:%python_provide\s+|^%python_provide\s+"),
    ),
)

#: :data:`LEFT_TEXT` by name.
LEFT = {row.name: row for row in LEFT_TEXT}

#: The stack packages' name prefixes (the default stack's, the other stack's) whose
#: ``%python_provide`` the port rewrites; any other name (python2-, %{python2}-) is left.
_STACK_PACKAGE = ("python%{python3_pkgversion}-", "python%{python3_other_pkgversion}-")


def py_provides(text: str) -> str:
    """``text`` (one line) with its first ``%{?python_provide:%python_provide NAME}`` (or a
    bare ``%python_provide NAME`` starting the line: the ``call`` of the
    :data:`LEFT_TEXT` row ``python-provide``) of a stack package's NAME written
    ``%py_provides NAME``; any other ``text`` as it is.

    Source: Fedora python-rpm-macros ``macros.python`` (``%python_provide``, deprecated) and
    ``macros.python-srpm`` (``%py_provides``, its replacement)."""
    call = LEFT["python-provide"].call
    m = call.search(text) if call is not None else None
    if not m:
        return text
    braced = m.group(0).startswith("%{")
    depth, j = 0, m.end()
    while j < len(text):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
        j += 1
    name = text[m.end() : j].strip()
    if not name.startswith(_STACK_PACKAGE):
        return text  # another Python's (python2-, %{python2}-): left as it is
    end = j + 1 if braced and j < len(text) else j
    return text[: m.start()] + "%py_provides " + name + text[end:]


#: A stack's install step in ``%install`` (``spec-install-order`` judges their order; the
#: epel port moves the other stack's before the default's): the default stack's
#: ``%py3_install``/``%pyproject_install`` (not ``%py3_install_wheel``), and their twins.
DEFAULT_INSTALL = re.compile(r"%\{?(py3_install|pyproject_install)\b(?!_)")
OTHER_INSTALL = re.compile(
    r"%\{?(" + twin("py3_install") + "|" + twin("pyproject_install") + r")\b"
)

#: What each step of the other stack says (the twins the epel port writes there), or any
#: python3_other macro: ``spec-library-missing-other-stack`` flags a step saying none of them,
#: the epel port leaves a ``%check`` that says none of them for the packager.
OTHER_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("build", (twin("py3_build"), twin("pyproject_wheel"), twin("__python3"), "python3_other")),
    (
        "install",
        (twin("py3_install"), twin("pyproject_install"), twin("__python3"), "python3_other"),
    ),
    ("check", (twin("__python3"), twin("pytest"), "python3_other")),
)
