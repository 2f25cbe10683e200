"""Read a spec file: its sections, tags and macro definitions with their line numbers (packit's
``specfile``), and what librpm makes of it with coinstall's stack macros loaded (the binary
package names and their dependencies, through the ``rpm`` bindings).

Glue written here, because the libraries lack it:

* line numbers: ``specfile`` keeps sections as line lists without positions; a section's
  first line is the sum of the lengths before it (``str(sections)`` is the file);
* tags: scanned here with specfile's tag names (see :func:`structure` for why);
* loading a macro file: ``specfile`` defines extra macros with ``rpm.addMacro``, which cannot
  define parametric macros (``%py3_dist foo``), so the stack macros are loaded with
  ``%{load:}`` and ``rpm.spec`` is called here;
* the line of a librpm error: librpm prints ``error: line N: ...`` on stderr, which
  :func:`_capture` captures.

Nothing of the spec is executed, by construction: every librpm call on a spec's text (the
section split, the parse, every expansion) is made in a forked worker process
(:class:`_Worker`) that :func:`coinstall.spec.sandbox.confine` has made unable to start a
program, create or change a file, or write anywhere but its pipes, before it reads any spec
(seccomp, ``nobody``); this process calls librpm on no text of a spec.  The worker's Lua also
loses ``os.execute``, ``io.popen``, writing ``io.open`` and the like (:data:`_LUA_NEUTER`),
and specfile's sanitizer still replaces the shell expansions and impure Lua it recognises
(specfile 0.40) so that a spec using them reads as it did.  A spec that crashes or hangs
librpm is that spec's one error line (the worker is killed or dead; the next spec gets a new
one).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import re
import select
import signal
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import rpm
from specfile.constants import TAG_NAMES
from specfile.exceptions import RPMException
from specfile.macro_definitions import MacroDefinitions
from specfile.sanitizer import Sanitizer
from specfile.sections import Sections

from coinstall.spec import compat, sandbox

#: Specs bigger than this are refused (the largest real spec of the corpus is 35 kB).
MAX_SPEC_BYTES = 4 * 1024 * 1024

#: Seconds a spec with Lua may take to parse (in the worker process) before it is refused.
LUA_TIMEOUT = 10.0

#: The biggest answer (parse and expansions, JSON) coinstall takes from the parse worker; the
#: largest of the spec corpus is 0.3 MB (python-rpm-macros' spec).
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class SpecError(Exception):
    """A spec that cannot be read: ``path``, ``line`` (1-based; 0 when no line is known) and
    a one-line ``message``; ``str()`` is ``path:line: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass
class Section:
    """One section: ``name`` (``package`` for the preamble and ``%package``, ``description``,
    ``files``, ``prep``, ...), ``args`` as written, the 1-based line of its header
    (``start``; 1 for the preamble, which has none), the package it belongs to as written
    (``None`` for the main package, ``-n X`` gives ``X``, ``foo`` gives ``%{name}-foo``) and
    its ``lines`` as ``(line number, text)`` without the header."""

    name: str
    args: str
    start: int
    package: str | None
    lines: list[tuple[int, str]]

    @property
    def end(self) -> int:
        """The last line of the section."""
        return self.lines[-1][0] if self.lines else self.start


@dataclass
class Tag:
    """A ``Name: value`` line of a preamble: ``name`` as written, ``value`` unexpanded,
    ``line``, and the package it belongs to as written (None: the main package)."""

    name: str
    value: str
    line: int
    package: str | None

    @property
    def key(self) -> str:
        """The tag name in lower case without a qualifier (``Requires(post)`` -> ``requires``)."""
        return self.name.split("(")[0].lower()


@dataclass
class Package:
    """A binary package librpm made: the ``name`` (expanded), ``written`` (the name as the
    spec writes it: ``%{name}`` for the main package), the ``line`` of its preamble, and its
    expanded ``requires`` and ``provides`` names, and its ``%files`` list as librpm keeps it
    (None: no ``%files`` in an active branch, so rpmbuild builds no such package)."""

    name: str
    written: str | None
    line: int
    requires: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    files: str | None = None


@dataclass
class SpecDoc:
    """A spec as coinstall reads it.

    Attributes:
        path: the file.
        text: its content.
        lines: its lines (index 0 is line 1).
        sections: every section in order (the preamble first).
        tags: every preamble tag.
        definitions: ``%global``/``%define`` lines as ``(name, body, line)``.
        packages: the binary packages librpm makes with the stack macros.
        buildrequires: the expanded BuildRequires names.
        name: the expanded ``Name``.
        scripts: librpm's expansion of ``prep``, ``build``, ``install``, ``check``.
        expanded: text -> its expansion in this spec's macro context, filled by the parse
            worker for every text an :func:`expansion_query` names (see :meth:`expand`).
        macros_file: the stack macros it was read with.
    """

    path: str
    text: str
    lines: list[str]
    sections: list[Section]
    tags: list[Tag]
    definitions: list[tuple[str, str, int]]
    packages: list[Package] = field(default_factory=list)
    buildrequires: tuple[str, ...] = ()
    name: str = ""
    scripts: dict[str, str] = field(default_factory=dict)
    expanded: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    macros_file: str | None = field(default=None, repr=False, compare=False)

    def sections_named(self, *names: str) -> Iterator[Section]:
        """The sections with one of these names, in order."""
        return (s for s in self.sections if s.name in names)

    def expand(self, text: str) -> str:
        """``text`` expanded by librpm in this spec's macro context (the stack macros and
        the spec's definitions); text that fails to expand is returned as is.  A shell
        expansion or Lua written in ``text`` itself is not run (:func:`_expand_here`).

        The parse worker expands every text an :func:`expansion_query` names and sends the
        results back (:attr:`expanded`); any other text makes the worker parse the spec
        again and expand it (this process expands nothing)."""
        got = self.expanded.get(text)
        if got is None:
            if _CONTEXT[0] is self:  # in the worker, with this spec's macro context
                got = self.expanded[text] = _expand_here(text)
            else:
                _expand_in_worker(self, text)
                got = self.expanded.setdefault(text, text)
        return got


#: Functions naming the texts a reader of a :class:`SpecDoc` will :meth:`~SpecDoc.expand`
#: (the rules, the porter): the parse worker expands them all in the spec's macro context and
#: sends the expansions back with the parse, so this process never parses the spec again.
#: A text no query names is still expanded right (:meth:`SpecDoc.expand`), only slower.
EXPANSION_QUERIES: list[Callable[[SpecDoc], Iterable[str]]] = []

#: In the parse worker: the :class:`SpecDoc` whose macro context librpm holds (None: the
#: system's or the stack macros' only, and always None in coinstall's own process).
_CONTEXT: list[SpecDoc | None] = [None]


def expansion_query(fn: Callable[[SpecDoc], Iterable[str]]) -> Callable[[SpecDoc], Iterable[str]]:
    """Register ``fn`` in :data:`EXPANSION_QUERIES` (a decorator)."""
    EXPANSION_QUERIES.append(fn)
    return fn


@contextlib.contextmanager
def _capture() -> Iterator[list[bytes]]:
    """What librpm writes to file descriptor 2 meanwhile, as lines (bytes, with their
    newline).  A memory file (``memfd_create``) instead of specfile's ``capture_stderr``,
    whose temporary file the worker's sandbox cannot create."""
    lines: list[bytes] = []
    sys.stderr.flush()
    mem = os.memfd_create("coinstall-rpm-stderr", os.MFD_CLOEXEC)
    saved = os.dup(2)
    try:
        os.dup2(mem, 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
        os.lseek(mem, 0, os.SEEK_SET)
        with os.fdopen(os.dup(mem), "rb") as f:
            lines.extend(f.readlines())
    finally:
        os.close(saved)
        os.close(mem)


def _expand_here(text: str) -> str:
    """In the worker: ``text`` made inert (:func:`_inert`: its ``%(...)`` and Lua are not
    run) and expanded in librpm's current macro context (``text`` if it fails)."""
    try:
        with _capture():
            return str(rpm.expandMacro(_inert(text)))
    except rpm.error:
        return text


def _set_up(macros_file: str | None, directory: str) -> None:
    """In the worker: the stack macros (``macros_file``: a path the worker can read) and the
    spec's directories, as rpmbuild sets them."""
    load_macros(macros_file)
    rpm.addMacro("_sourcedir", directory)
    rpm.addMacro("_specdir", directory)


#: Lua run in the worker after each reset of librpm's configuration: the functions that start
#: programs or change files are removed and ``io.open`` opens for reading only (the seccomp
#: filter already makes them fail; this makes them fail early, with a Lua error).  rpm's Lua
#: libraries: ``os``/``io`` (Lua 5.4), ``posix`` (luaposix subset), ``rpm`` (4.18: none runs
#: a program; ``rpm.execute``/``rpm.spawn`` are 4.19's).
_LUA_NEUTER = (
    "%{lua:"
    "for _, k in ipairs({'execute', 'remove', 'rename', 'exit', 'tmpname'}) do os[k] = nil end "
    "io.popen = nil io.output = nil io.tmpfile = nil "
    "local open = io.open "
    "io.open = function(name, mode) "
    "  if mode ~= nil and mode ~= 'r' and mode ~= 'rb' then "
    "    return nil, name .. ': opening for writing is not allowed', 1 end "
    "  return open(name, mode) end "
    "if posix then for _, k in ipairs({'exec', 'execp', 'fork', 'spawn', '_exit', 'kill', "
    "  'mkdir', 'rmdir', 'unlink', 'remove', 'rename', 'link', 'symlink', 'chmod', 'chown', "
    "  'utime', 'mkfifo', 'umask', 'setenv', 'putenv', 'creat', 'open', 'dup2', 'pipe', "
    "  'setuid', 'setgid', 'wait'}) do posix[k] = nil end end "
    "if rpm then rpm.execute = nil rpm.spawn = nil rpm.redirect2null = nil end"
    "}"
)


def _neuter_lua() -> None:
    with _capture():
        rpm.expandMacro(_LUA_NEUTER)


def _package_of(name: str, args: str) -> str | None:
    """The package a ``%package``/``%description``/``%files``/scriptlet header names, as
    written."""
    toks = args.split()
    i = 0
    pkg: str | None = None
    while i < len(toks):
        t = toks[i]
        if t == "-n" and i + 1 < len(toks):
            return toks[i + 1]
        if t in ("-f", "-l", "-p") and i + 1 < len(toks):
            i += 2
            continue
        if t.startswith("-"):
            i += 1
            continue
        if name == "description" and t.startswith("%"):
            # `%description %{_description}`: a macro here is the text (it expands to lines
            # starting with a newline), not a subpackage name
            i += 1
            continue
        if pkg is None:
            pkg = "%{name}-" + t
        i += 1
    return pkg


_UNSAFE = re.compile(r"%(?=\(|\{lua:|\{\(|lua\b)")


def _inert(line: str) -> str:
    """A line whose shell expansions and Lua cannot run when librpm expands it: ``%(`` and
    ``%{lua:`` become ``%%(`` and ``%%{lua:`` (one line for one line)."""
    return _UNSAFE.sub("%%", line)


class _HeaderContext:
    """The ``context`` specfile's ``Sections.parse`` expands a section header's last word in:
    specfile's own ``Macros.expand`` (``%global``/``%define``/``%undefine`` made no-ops
    meanwhile), with librpm's messages taken by :func:`_capture`."""

    @staticmethod
    def expand(text: str, skip_parsing: bool = False) -> str:
        for name in ("global", "define", "undefine"):
            rpm.addMacro(name, "%{nil}")
        try:
            with _capture() as captured:
                try:
                    return str(rpm.expandMacro(text))
                except rpm.error:
                    pass
            raise RPMException(stderr=captured)
        finally:
            for name in ("global", "define", "undefine"):
                rpm.delMacro(name)


def structure(path: str, text: str) -> tuple[list[Section], list[Tag], list[tuple[str, str, int]]]:
    """Sections, tags and macro definitions of ``text`` with line numbers
    (:func:`_structure_here`, run in the parse worker: specfile's split expands section
    headers through librpm).

    Raises:
        SpecError: specfile cannot split it, or librpm crashed or hung on it.
    """
    got = _ask(path, ("structure", path, text))
    if "split-error" in got:
        raise SpecError(path, 0, f"cannot split into sections: {got['split-error']}")
    try:
        sections = [
            Section(n, a, st, pk, [(k, ln) for k, ln in lines])
            for n, a, st, pk, lines in got["sections"]
        ]
        tags = [Tag(*t) for t in got["tags"]]
        defs = [(n, b, k) for n, b, k in got["defs"]]
    except (TypeError, ValueError, KeyError):  # not what a worker sends
        raise SpecError(path, 0, _MALFORMED) from None
    return sections, tags, defs


#: The error of an answer of the parse worker that is not of the shape it sends (a worker
#: whose memory librpm corrupted).
_MALFORMED = "librpm cannot parse it (malformed answer from the parse worker)"

#: specfile's exceptions that carry no message -> what they mean for a spec.
_SPLIT_ERRORS = {
    "UnterminatedMacroException": "a macro left open in a section header (such as "
    "'%description -n foo %{expand:' continued on the next lines)",
}


def _structure_in_worker(path: str, text: str) -> dict[str, Any]:
    """In the worker: :func:`_structure_here` as JSON data."""
    try:
        secs, tags, defs = _structure_here(path, text)
    except Exception as exc:  # specfile's parser on hostile text
        return {
            "split-error": str(exc) or _SPLIT_ERRORS.get(type(exc).__name__, type(exc).__name__)
        }
    return {
        "sections": [[s.name, s.args, s.start, s.package, s.lines] for s in secs],
        "tags": [[t.name, t.value, t.line, t.package] for t in tags],
        "defs": [list(d) for d in defs],
    }


def _structure_here(
    path: str, text: str
) -> tuple[list[Section], list[Tag], list[tuple[str, str, int]]]:
    """Sections, tags and macro definitions of ``text`` with line numbers.

    Sections and macro definitions are specfile's (``Sections``, ``MacroDefinitions``), over
    the lines made inert (:func:`_inert`): ``Sections.parse`` expands the last word of a
    section header through librpm, which would run a ``%(...)`` there.  Tags are scanned here
    (``Name: value`` lines of the preamble and ``%package`` sections): specfile's
    ``Tags.parse`` expands every line of a section through librpm to find conditionals, which
    runs the spec's shell and Lua and took 60% of the read time (benchmarks/spec_bench.py).
    """
    lines = text.splitlines()
    safe = [_inert(ln) for ln in lines]
    _CONTEXT[0] = None
    # specfile moves a header's last token into the body when it expands to text starting
    # with a newline (``%description %_description``), which shifts every line count; with a
    # fresh macro context the spec's own definitions are undefined and the split never happens
    _reset_config()
    _neuter_lua()
    secs = Sections.parse(safe, context=_HeaderContext())  # type: ignore[arg-type]
    out: list[Section] = []
    tags: list[Tag] = []
    n = 1
    for i, s in enumerate(secs):
        if i == 0:
            start, first = 1, 1  # the preamble has no header line
        else:
            start, first = n, n + 1
        raw_args = _args_of(lines[start - 1]) if i > 0 and start - 1 < len(lines) else ""
        name = s.name.lower()
        pkg = _package_of(name, raw_args)
        body = [
            (first + k, lines[first + k - 1])
            for k in range(len(s.data))
            if first + k - 1 < len(lines)
        ]
        out.append(Section(name, raw_args, start, pkg, body))
        if name == "package":
            tags.extend(_tags(body, pkg))
        n = first + len(s.data)
    defs: list[tuple[str, str, int]] = []
    index = {}
    for k, line in enumerate(lines, 1):
        m = re.match(r"\s*%(?:global|define)\s+(\w+)", line)
        if m and m.group(1) not in index:
            index[m.group(1)] = k
    for d in MacroDefinitions.parse(safe):
        defs.append((d.name, d.body, index.get(d.name.split("(")[0], 0)))
    return out, tags, defs


def _args_of(header: str) -> str:
    """The words after a section's name on its header line."""
    parts = header.strip().split(None, 1)
    return parts[1] if len(parts) > 1 else ""


_TAG_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:\([^)]*\))?)\s*:\s*(.*)$")


def _tags(body: list[tuple[int, str]], pkg: str | None) -> list[Tag]:
    """The ``Name: value`` lines of a preamble or ``%package`` section (a value continued
    with a backslash is read as its first line)."""
    out = []
    for n, line in body:
        m = _TAG_RE.match(line)
        if m and re.sub(r"\d+$", "", m.group(1).split("(")[0].lower()) in TAG_NAMES:
            out.append(Tag(m.group(1), m.group(2).strip(), n, pkg))
    return out


_LINE_RE = re.compile(r"line (\d+):\s*(.*)")


_SHELL_FAILED = re.compile(r"Failed to open shell expansion pipe for command: (.*): [^:]+$")


def _plain(message: str) -> str:
    """librpm's message, said plainly where the sandbox caused it: a ``%(...)`` the worker
    may not run fails in librpm as "Failed to open shell expansion pipe ...: Cannot allocate
    memory" (the fork the seccomp filter refuses)."""
    m = _SHELL_FAILED.match(message)
    if m:
        return (
            f"needs the shell expansion %({m.group(1)}), which coinstall does not run "
            "(a spec is never executed)"
        )
    return message


def _rpm_error(path: str, captured: list[bytes], fallback: str) -> SpecError:
    lines = [b.decode("utf-8", "replace").strip() for b in captured]
    errs = [ln.removeprefix("error: ").strip() for ln in lines if ln.startswith("error:")]
    for e in errs:
        m = _LINE_RE.search(e)
        if m:
            return SpecError(path, int(m.group(1)), _plain(m.group(2).strip()))
    msg = errs[0] if errs else (lines[0] if lines else fallback)
    return SpecError(path, 0, msg)


#: The system configuration's macros whose body runs a shell (rpm 4.18 on Debian 12, ``rpm
#: --showrc``: ``_smp_build_ncpus``, which ``%make_build`` and ``%_smp_mflags`` use,
#: ``_make_output_sync``, ``_dbpath``) -> their value, computed once by the worker before it
#: is confined (:func:`_freeze_shell_macros`) and defined as that plain value after each
#: reset of the configuration (:func:`_reset_config`): the sandboxed worker cannot run
#: their shell, and a spec reads as it read when librpm ran it.
_SHELL_MACROS: dict[str, str] = {}

_DUMP_ENTRY = re.compile(rb"^-?\d+[:=] (\S+)\t")


def _freeze_shell_macros() -> None:
    """In the worker, before it is confined: fill :data:`_SHELL_MACROS` from librpm's
    ``%dump`` of the system configuration (no spec is loaded: these are the machine's files,
    which rpmbuild runs the same way)."""
    rpm.reloadConfig()
    with _capture() as dump:
        rpm.expandMacro("%dump")
    bodies: dict[str, bytes] = {}
    name = None
    for line in dump:
        m = _DUMP_ENTRY.match(line)
        if m:
            name = m.group(1).decode("utf-8", "replace")
            bodies[name] = line[m.end() :]
        elif name is not None and not line.startswith(b"="):
            bodies[name] += line
    for name, body in bodies.items():
        if "(" in name or b"%(" not in body:  # parametric, or runs no shell
            continue
        with _capture(), contextlib.suppress(rpm.error):
            _SHELL_MACROS[name] = str(rpm.expandMacro(f"%{{{name}}}"))


def _reset_config() -> None:
    """In the worker: librpm's macro context reset to the system's, the shell-running
    system macros as their values (:data:`_SHELL_MACROS`)."""
    _CONTEXT[0] = None
    rpm.reloadConfig()
    for name, value in _SHELL_MACROS.items():
        rpm.addMacro(name, value.replace("%", "%%"))


def load_macros(macros_file: str | None) -> None:
    """In the worker: reset librpm's macro context to the system's (:func:`_reset_config`),
    load the stand-ins for what this librpm lacks (:data:`coinstall.spec.compat.READING_MACROS`)
    and ``macros_file`` over it, and take the dangerous functions out of its Lua
    (:data:`_LUA_NEUTER`)."""
    _reset_config()
    with _memory_file(compat.READING_MACROS.encode(), "coinstall-compat") as stand_ins, _capture():
        rpm.expandMacro(f"%{{load:{stand_ins}}}")
    if macros_file:
        with _capture():
            rpm.expandMacro(f"%{{load:{macros_file}}}")
    _neuter_lua()


Structure = tuple[list[Section], list[Tag], list[tuple[str, str, int]]]


def read_text(path: str) -> str:
    """A spec file's text (UTF-8; undecodable bytes kept as surrogate escapes).  Only a
    regular file is read (stat before open, and again on the open descriptor: a FIFO would
    block for ever, ``/dev/zero`` never ends), at most :data:`MAX_SPEC_BYTES` + 1 bytes.

    Raises:
        SpecError: unreadable, not a regular file, bigger than :data:`MAX_SPEC_BYTES`, or
            binary (a NUL byte).
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise SpecError(path, 0, "not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # replaced between the stat and the open
                raise SpecError(path, 0, "not a regular file")
            if st.st_size > MAX_SPEC_BYTES:
                raise SpecError(path, 0, f"bigger than {MAX_SPEC_BYTES} bytes: not a spec file")
            raw = f.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(path, 0, exc.strerror or str(exc)) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(path, 0, f"bigger than {MAX_SPEC_BYTES} bytes: not a spec file")
    if b"\0" in raw:
        raise SpecError(path, 0, "binary data (a NUL byte): not a spec file")
    return raw.decode("utf-8", "surrogateescape")


def split(path: str, text: str) -> Structure:
    """:func:`structure` (whatever specfile's parser raises on hostile text is this spec's
    :class:`SpecError`)."""
    return structure(path, text)


def read(
    path: str,
    macros_file: str | None,
    *,
    text: str | None = None,
    structured: Structure | None = None,
) -> SpecDoc:
    """Read one spec: structure with line numbers, then librpm's parse with the stack macros
    (``macros_file``, from :func:`coinstall.spec.macros.render`) loaded.  ``text`` and
    ``structured`` (:func:`structure` of it) save a second read when the caller has them.

    Raises:
        SpecError: not readable, not text, too big, or librpm refuses it (unterminated
            ``%if``, macro loop, missing ``%include``, no ``Name``): the message names the
            line where librpm gives one.
    """
    if text is None:
        text = read_text(path)
    sections, tags, defs = structured or split(path, text)
    if not any(t.key == "name" for t in tags):
        raise SpecError(path, 1, "no Name: tag in the preamble: not a spec file")
    doc = SpecDoc(path, text, text.splitlines(), sections, tags, defs)
    _parse_with_rpm(doc, macros_file)
    return doc


def _parse_with_rpm(doc: SpecDoc, macros_file: str | None) -> None:
    doc.macros_file = macros_file
    parsed = _parse_in_child(doc, ())
    try:
        doc.expanded.update({str(k): str(v) for k, v in parsed["expanded"].items()})
        _fill(doc, parsed)
    except (TypeError, ValueError, KeyError, AttributeError):  # not what a worker sends
        raise SpecError(doc.path, 0, _MALFORMED) from None


def _expand_in_worker(doc: SpecDoc, text: str) -> None:
    """Have the worker parse ``doc`` again and expand ``text`` in its macro context (a text
    no :func:`expansion_query` named); the expansions land in ``doc.expanded``."""
    with contextlib.suppress(SpecError):  # it parsed before; a text that fails is itself
        doc.expanded.update(_parse_in_child(doc, (text,))["expanded"])


def _fill(doc: SpecDoc, parsed: dict[str, Any]) -> None:
    """Set ``doc``'s name, build requires, packages and scripts from :func:`_extract`'s
    ``parsed`` (the package names as written are expanded through :meth:`SpecDoc.expand`:
    :func:`_written_names` names them)."""
    doc.name = parsed["name"]
    doc.buildrequires = tuple(parsed["buildrequires"])
    pkgs = []
    expanded_written: dict[str, tuple[str | None, int]] = {}
    for w, line in _written(doc).items():
        name = doc.name if w is None else doc.expand(w.replace("%{name}", doc.name))
        expanded_written[name] = (w, line)
    for name, requires, provides, flist in parsed["packages"]:
        w, line = expanded_written.get(name, (None, 0))
        pkgs.append(Package(name, w, line, tuple(requires), tuple(provides), flist))
    doc.packages = pkgs
    doc.scripts.update(parsed["scripts"])


def _written(doc: SpecDoc) -> dict[str | None, int]:
    """The packages as written (None: the main one) -> the line of their preamble."""
    return {s.package: s.start for s in doc.sections if s.name == "package"}


@expansion_query
def _written_names(doc: SpecDoc) -> Iterator[str]:
    """The subpackage names as written, ``%{name}`` replaced (:func:`_fill` expands them)."""
    for w in _written(doc):
        if w is not None:
            yield w.replace("%{name}", doc.name)


def _parse_in_child(doc: SpecDoc, extra: tuple[str, ...]) -> dict[str, Any]:
    """librpm's parse of ``doc`` (its text through specfile's sanitizer, with the stack
    macros ``doc.macros_file``), done in the confined worker process (:class:`_Worker`),
    which sends back only what :class:`SpecDoc` keeps (JSON over a pipe): librpm is C that
    has crashed (SIGSEGV) on mutated specs (``%autosetup -M-$1``, found by
    tests/test_fuzz.py) and hangs on a pure Lua loop (``while true do end``) that no signal
    interrupts, and a spec's macros may ask it to run a shell or Lua (the worker's sandbox
    refuses).  In a worker, each is this spec's one error line, and the run goes on.

    librpm's macro context (the spec's ``%global``s) is per process and stays in the worker,
    so the worker also expands every text the :data:`EXPANSION_QUERIES` name (rules and
    porter) and ``extra``, and sends the expansions along: this process parses nothing
    (cheaper than a fork per spec; measured: benchmarks/MEASUREMENTS.md, 'spec worker').

    Raises:
        SpecError: an ``%include`` names no file, librpm refuses the spec (its own message
            and line), crashes, or does not finish within :data:`LUA_TIMEOUT` seconds.
    """
    path = doc.path
    macros = None
    if doc.macros_file:  # coinstall's own file, sent as bytes: the worker may not read it
        with open(doc.macros_file, "rb") as f:
            macros = f.read()
    directory = os.path.dirname(os.path.abspath(path))
    result = _ask(path, ("parse", doc, macros, directory, EXPANSION_QUERIES, extra))
    # an %include is looked for first (specfile's sanitizer drops %include lines, whose
    # content it does not sanitize, so librpm would not notice a missing one): the worker
    # expands the names, this process looks (relative to its directory, as rpmbuild does)
    for k, target in result.get("includes", ()):
        if not os.path.isfile(target):
            raise SpecError(path, k, f"%include {target}: no such file")
    if "error" in result:
        raise _rpm_error(path, [e.encode() for e in result["error"]], "librpm cannot parse it")
    return result


def _ask(path: str, request: tuple[Any, ...]) -> dict[str, Any]:
    """Send ``request`` to this process's worker; its JSON answer.

    Raises:
        SpecError: the worker crashed, timed out, or could not be confined."""
    worker = _Worker.get()
    # the queries go with each request (pickled by name): a module that registers one after
    # the worker was forked is imported there too
    worker.send(pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
    try:
        payload = worker.receive(time.monotonic() + LUA_TIMEOUT)
    except TimeoutError:
        worker.stop()
        raise SpecError(
            path, 0, f"librpm did not finish parsing it in {LUA_TIMEOUT:g} s (a Lua loop?)"
        ) from None
    except OverflowError:
        worker.stop()
        raise SpecError(
            path,
            0,
            f"its parse and expansions are bigger than {MAX_ANSWER_BYTES} bytes (a macro bomb?)",
        ) from None
    if payload is None:  # the worker died
        status = worker.stop()
        if os.WIFSIGNALED(status):
            sig = signal.Signals(os.WTERMSIG(status)).name
            raise SpecError(path, 0, f"librpm crashed parsing it ({sig})")
        raise SpecError(path, 0, "librpm cannot parse it")
    try:
        result: dict[str, Any] = json.loads(payload)
    except ValueError:
        raise SpecError(path, 0, "librpm cannot parse it (garbled answer)") from None
    if not isinstance(result, dict):
        raise SpecError(path, 0, "librpm cannot parse it (garbled answer)")
    if "fatal" in result:
        worker.stop()
        raise SpecError(path, 0, str(result["fatal"]))
    return result


@contextlib.contextmanager
def _memory_file(data: bytes, name: str) -> Iterator[str]:
    """In the worker: ``data`` in a memory file; yields a path librpm can open
    (``/proc/self/fd/N``: the sandbox lets the worker create no file)."""
    fd = os.memfd_create(name, 0)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def _parse_here(
    doc: SpecDoc,
    macros: bytes | None,
    directory: str,
    queries: list[Callable[[SpecDoc], Iterable[str]]],
    extra: tuple[str, ...],
) -> dict[str, Any]:
    """In the worker: the expanded ``%include`` names, librpm's parse (:func:`_extract`) and
    the expansions of the ``queries`` (:data:`EXPANSION_QUERIES`) and ``extra``, or
    ``{"error": librpm's stderr lines}``."""
    with contextlib.ExitStack() as stack:
        macros_file = (
            stack.enter_context(_memory_file(macros, "coinstall-macros"))
            if macros is not None
            else None
        )
        includes = [
            (k, m.group(1))
            for k, text in enumerate(doc.lines, 1)
            if (m := re.match(r"\s*%include\s+(\S+)", text))
        ]
        found: list[tuple[int, str]] = []
        if includes:
            _set_up(macros_file, directory)
            found = [(k, _expand_here(written)) for k, written in includes]
        sanitized, _, _ = Sanitizer.sanitize(compat.for_librpm(doc.text))
        spec_file = stack.enter_context(
            _memory_file(sanitized.encode("utf-8", "surrogateescape"), "coinstall-spec")
        )
        with _capture() as captured:
            _set_up(macros_file, directory)
            try:
                spec = rpm.spec(spec_file, rpm.RPMSPEC_ANYARCH | rpm.RPMSPEC_FORCE)
            except (ValueError, rpm.error):
                spec = None
        if spec is None:
            return {"includes": found, "error": [b.decode("utf-8", "replace") for b in captured]}
        data = _extract(spec)
        data["includes"] = found
        # this process now holds the spec's macro context: the expansions the parent's
        # readers will ask for are made here
        _CONTEXT[0] = doc
        try:
            _fill(doc, data)
            for query in queries:
                for text in query(doc):
                    doc.expand(text)
            for text in extra:
                doc.expand(text)
        finally:
            _CONTEXT[0] = None
        data["expanded"] = doc.expanded
        return data


_FRAME = struct.Struct("<I")


class _Worker:
    """A forked process that parses specs one after another: requests and answers are
    frames (4-byte length, then the bytes) over two pipes.  One per process (a forked
    child of this process starts its own); it exits when this process closes its request
    pipe (exit included), and is replaced after :data:`_Worker.SPECS` specs.  Not for
    concurrent use by threads (neither is librpm's macro context)."""

    #: Specs one worker parses before a fresh one is forked (bounds what librpm may leak).
    SPECS = 1000
    _current: _Worker | None = None

    def __init__(self) -> None:
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        self.owner = os.getpid()
        self.count = 0
        self.pid = os.fork()
        if self.pid == 0:  # the worker: serve until EOF, exit without running any cleanup
            code = 1
            try:
                os.close(self.req_w)
                os.close(self.resp_r)
                try:
                    _before_confine()
                    sandbox.confine((req_r, resp_w))
                    fatal = None
                except sandbox.SandboxError as exc:
                    fatal = str(exc)
                _serve(req_r, resp_w, fatal)
                code = 0
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(resp_w)

    @classmethod
    def get(cls) -> _Worker:
        """This process's worker, started (again) if needed."""
        w = cls._current
        if w is None or w.owner != os.getpid() or w.count >= cls.SPECS:
            if w is not None and w.owner == os.getpid():
                w.stop()
            w = cls._current = _Worker()
        w.count += 1
        return w

    def send(self, payload: bytes) -> None:
        """Send one request (a worker that died is seen by :meth:`receive`)."""
        with contextlib.suppress(BrokenPipeError):
            _write_all(self.req_w, _FRAME.pack(len(payload)) + payload)

    def receive(self, deadline: float) -> bytes | None:
        """One answer; None if the worker died first.

        Raises:
            TimeoutError: no answer by ``deadline`` (:func:`time.monotonic`).
            OverflowError: the answer announces more than :data:`MAX_ANSWER_BYTES`."""
        buf = bytearray()
        need = _FRAME.size
        size = None
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.resp_r], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(self.resp_r, 1 << 16)
            if not chunk:
                return None
            buf += chunk
            if size is None and len(buf) >= _FRAME.size:
                (size,) = _FRAME.unpack_from(buf)
                if size > MAX_ANSWER_BYTES:
                    raise OverflowError(size)
                need = _FRAME.size + size
        return bytes(buf[_FRAME.size : need])

    def stop(self) -> int:
        """End the worker (killed if it is still running); its wait status."""
        if _Worker._current is self:
            _Worker._current = None
        for fd in (self.req_w, self.resp_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            return 0


#: The modules that register :data:`EXPANSION_QUERIES`, imported by the worker before it is
#: confined (as ``nobody`` it may not read the standard library: pyenv's lives under /root).
_QUERY_MODULES = ("coinstall.spec.lint", "coinstall.spec.port", "coinstall.spec.compare")


def _before_confine() -> None:
    """In the worker, before :func:`coinstall.spec.sandbox.confine`: import what the
    requests will need, and take the values of the system's shell-running macros."""
    for name in _QUERY_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _freeze_shell_macros()


def _serve(req_r: int, resp_w: int, fatal: str | None) -> None:
    """The worker's loop: answer each request with JSON (``fatal``: the sandbox could not
    be set up, which is the answer to every request)."""
    while True:
        head = _read_exactly(req_r, _FRAME.size)
        if head is None:
            return
        body = _read_exactly(req_r, _FRAME.unpack(head)[0])
        if body is None:
            return
        answer: dict[str, Any]
        if fatal is not None:
            answer = {"fatal": fatal}
        else:
            request = pickle.loads(body)
            if request[0] == "structure":
                answer = _structure_in_worker(*request[1:])
            else:
                answer = _parse_here(*request[1:])
        payload = json.dumps(answer, ensure_ascii=True).encode()
        _write_all(resp_w, _FRAME.pack(len(payload)) + payload)


def _read_exactly(fd: int, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _extract(spec: Any) -> dict[str, Any]:
    """What :class:`SpecDoc` keeps of an ``rpm.spec``: the source package's name and
    build requires, each binary package's name, requires, provides and file list, and the
    ``%prep``/``%build``/``%install``/``%check`` scripts."""
    src = spec.sourceHeader
    packages = []
    for p in spec.packages:
        h = p.header
        flist = p.fileList
        packages.append(
            [
                _s(h[rpm.RPMTAG_NAME]),
                [_s(x) for x in h[rpm.RPMTAG_REQUIRENAME]],
                [_s(x) for x in h[rpm.RPMTAG_PROVIDENAME]],
                _s(flist) if flist is not None else None,
            ]
        )
    scripts = {}
    for part in ("prep", "build", "install", "check"):
        try:
            value = getattr(spec, part)
        except (AttributeError, rpm.error):
            value = None
        scripts[part] = _s(value) if value else ""
    return {
        "name": _s(src[rpm.RPMTAG_NAME]),
        "buildrequires": [_s(x) for x in src[rpm.RPMTAG_REQUIRENAME]],
        "packages": packages,
        "scripts": scripts,
    }


def _s(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)
