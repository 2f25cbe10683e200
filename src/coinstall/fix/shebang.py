"""Shebang fixer: ``env``, unversioned and other-stack interpreters -> the stack's interpreter.

Also the build machine's interpreter (``shebang-build-path``: ``#!/some/venv/bin/python3.12``
-> ``/usr/bin/python3.12``; the command's own version is kept, the path is the system's).

Facts it relies on (reference: ``spec-and-fix.md`` §5 and execve(2)):

* Linux passes everything after the interpreter path as ONE argument (execve(2); CPython
  bpo-37064 / PR 15548, hroncok).  So ``#!/usr/bin/python3 -u -E`` fails ("Unknown option: - ")
  and ``#!/usr/bin/env python3 -u`` asks env for a program named ``python3 -u``; only
  ``env -S`` splits.  A rewritten shebang therefore carries every option in one token:
  no-argument flags joined (``-sEu``) and at most one option with a value, attached last
  (``-uWerror``); anything else cannot be kept and the finding is left.
* Fedora's ``pathfix.py -pni INTERP -kas`` writes ``-s`` + the old flags unparsed: ``-W error
  -s`` becomes ``-sW error -s`` (Python then reads ``-W 'error -s'``) and ``env -S python3 -u``
  becomes ``-sS python3 -u``; brp-mangle-shebangs turns ``env -S python3`` into
  ``/usr/bin/-S``; dh-python 6.20250414 drops the options of ``python``/``python3`` shebangs.
  This fixer parses the options, so it keeps each one once and adds ``-s``/``-P`` only when
  asked (``--shebang-flags``, Fedora's ``%py3_shebang_flags``: ``s``, or ``sP`` where the
  interpreter has ``sys.flags.safe_path``, 3.11+).
* Which path: the profile decides.  Debian (Debian Python Policy: ``/usr/bin/python3`` or
  ``/usr/bin/python3.Y``), Fedora and EPEL (``%__python3`` = ``/usr/bin/python3`` for the
  default stack, ``/usr/bin/python%{python3_pkgversion}`` for an alternative one) write
  ``/usr/bin/python3`` for the default stack and ``/usr/bin/python3.X`` otherwise; openSUSE's
  ``%python_clone``/``%{python_expand}`` write the flavor's ``/usr/bin/python3.X``.  A
  versioned shebang that already names the package's own version keeps its version (dh_python3
  keeps ``python3.Y``).  A wheel's ``.data/scripts`` get ``#!python``, which installers rewrite
  to the installing interpreter (wheel specification).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from coinstall.fix.model import Edit, FixContext, Left
from coinstall.relations import stack_of
from coinstall.rules import Finding
from coinstall.rules.profiles import installed_by_pip

#: The fixer rewrites text and runs nothing (:func:`coinstall.fix.engine.needs_interpreters`).
STARTS_INTERPRETERS = False

#: CPython 3 command-line options without a value (``python3 --help``; Modules/main.c
#: ``_PyOS_getopt`` short options), and those taking one.
NOARG = frozenset("bBdEhiIOPqRsSuvVx")
WITHARG = frozenset("WX")


class Unfixable(Exception):
    """The shebang cannot be rewritten keeping its meaning; ``str()`` says why."""


def split_line(data: bytes) -> tuple[bytes, bytes]:
    """(first line without its newline, the rest including the newline)."""
    nl = data.find(b"\n")
    return (data, b"") if nl < 0 else (data[:nl], data[nl:])


def parse(line: str) -> tuple[str, str, list[str]]:
    """``(interpreter path, python command, option tokens)`` of a shebang line (without
    ``#!``), env resolved: ``/usr/bin/env -S python3 -u -X dev`` ->
    ``("/usr/bin/env", "python3", ["-u", "-X", "dev"])``.

    Raises:
        Unfixable: env options or assignments a direct shebang cannot express.
    """
    tokens = line.split()
    if not tokens:
        raise Unfixable("empty shebang")
    interp, args = tokens[0], tokens[1:]
    if posixpath.basename(interp) != "env":
        return interp, interp, args
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-S", "--split-string"):
            continue
        if opt.startswith("-S"):
            args.insert(0, opt[2:])
            continue
        raise Unfixable(f"env option {opt} has no equivalent in a direct shebang")
    if args and "=" in args[0]:
        raise Unfixable(f"env sets {args[0]}; a direct shebang cannot")
    if not args:
        raise Unfixable("env names no command")
    return interp, args[0], args[1:]


def parse_options(tokens: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Python option tokens -> (no-argument flag letters in order, ``(letter, value)`` pairs).

    Raises:
        Unfixable: a script argument, ``-c``/``-m``, a long option or an unknown flag.
    """
    flags: list[str] = []
    valued: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if not t.startswith("-") or t == "-" or t.startswith("--"):
            raise Unfixable(f"{t!r} is not a Python option")
        j = 1
        while j < len(t):
            c = t[j]
            if c in NOARG:
                flags.append(c)
                j += 1
                continue
            if c in WITHARG:
                value = t[j + 1 :]
                if not value:
                    i += 1
                    if i >= len(tokens):
                        raise Unfixable(f"-{c} has no value")
                    value = tokens[i]
                valued.append((c, value))
                break
            if c in "cm":
                raise Unfixable(f"the shebang runs -{c}")
            raise Unfixable(f"-{c} is not a Python 3 option")
        i += 1
    return flags, valued


def options_token(flags: list[str], valued: list[tuple[str, str]], add: str) -> str:
    """The one option argument the kernel passes: the ``add`` letters first (pathfix's
    order), then the other flags (each added letter once), then the one valued option
    (``-sEuWerror``); "" if none.

    Raises:
        Unfixable: more than one valued option (they cannot share one argument).
    """
    head = list(dict.fromkeys(add))
    rest = list(flags)
    for c in head:
        if c in rest:
            rest.remove(c)  # kept once, in the added position: -s -W error + s -> -sWerror
    text = "".join(head + rest)
    if len(valued) > 1:
        shown = " and ".join(f"-{c} {v}" for c, v in valued)
        raise Unfixable(
            f"Linux passes a shebang's options as one argument: {shown} cannot both be kept"
        )
    if valued:
        text += valued[0][0] + valued[0][1]
    return f"-{text}" if text else ""


def _command_version(command: str) -> str | None:
    name = posixpath.basename(command)
    if not name.startswith("python"):
        return None
    v = name[len("python") :]
    return v or None


def target_interpreter(
    fctx: FixContext, path: str, command: str
) -> tuple[str, tuple[int, int] | None]:
    """(interpreter path, its version or None for plain ``python3``) for one script.

    Raises:
        Unfixable: not a CPython 3 script, or nothing says which version runs it.
    """
    actx = fctx.actx
    name = posixpath.basename(command)
    if not name.startswith("python") or name.startswith("pythonw"):
        raise Unfixable(f"{name} is not a CPython command (only CPython shebangs are rewritten)")
    said = _command_version(command)
    if said is not None and not re.fullmatch(r"\d+(?:\.\d+)?", said):
        raise Unfixable(
            f"{name} names a particular build (debug, free-threaded); which "
            "stack interpreter replaces it is the packager's call"
        )
    if said is not None and not said[0] == "3":
        raise Unfixable(f"{name} is Python {said[0]}; porting a script is not a shebang fix")
    own = stack_of(actx).exact
    if said is None and (own is None or own[1][0] != 3):
        py2 = next(
            (
                r.path
                for r in actx.records
                if r.scope.version is not None
                and r.scope.version[0] == 2
                and r.scope.implementation == "cpython"
            ),
            None,
        )
        if py2 is not None:
            # PEP 394: `python` meant python2 until 2019; brp-mangle-shebangs calls it
            # ambiguous.  Python 2 code is ported, not re-shebanged.
            raise Unfixable(
                f"the target ships Python 2 modules (/{py2}): python may mean "
                "python2 here; port the script, then name python3"
            )
    version: tuple[int, int] | None = None
    rec = next((r for r in actx.records if r.path == path), None)
    if rec is not None and rec.scope.kind == "versioned" and rec.scope.version:
        version = rec.scope.version
    elif own is not None and own[0] == "cpython" and own[1][0] == 3:
        version = own[1]
    elif said is not None and "." in said:
        major, minor = said.split(".", 1)
        if minor.isdigit():
            version = (int(major), int(minor))
    elif actx.stack.default is not None:
        version = actx.stack.default
    elif said != "3":
        raise Unfixable("the shebang names no Python version and nothing says which: give --stack")
    default = actx.stack.default
    if version is None:
        return "/usr/bin/python3", None
    vtext = f"{version[0]}.{version[1]}"
    if actx.profile.name != "opensuse" and said != vtext and version == default:
        return "/usr/bin/python3", version
    return f"/usr/bin/python{vtext}", version


def rewrite(fctx: FixContext, path: str, line: str) -> str:
    """The new first line (without newline) for a script.

    Raises:
        Unfixable: see :func:`parse`, :func:`parse_options`, :func:`options_token`,
            :func:`target_interpreter`.
    """
    body = line[2:].strip()
    _interp, command, tokens = parse(body)
    flags, valued = parse_options(tokens)
    wheel = fctx.actx.info.format == "wheel"
    if wheel:
        if "/" in path and ".data/scripts/" not in f"{path}":
            raise Unfixable(
                "a wheel's module keeps its shebang; installers rewrite only .data/scripts"
            )
        name = posixpath.basename(command)
        if not name.startswith("python"):
            raise Unfixable(f"{name} is not a CPython command")
        token = options_token(flags, valued, "")
        return "#!python" + (f" {token}" if token else "")
    target, version = target_interpreter(fctx, path, command)
    add = fctx.options.shebang_flags
    if "P" in add and version is not None and version < (3, 11):
        add = add.replace("P", "")  # -P (safe_path) exists from 3.11 (Fedora adds it only there)
    token = options_token(flags, valued, add)
    return f"#!{target}" + (f" {token}" if token else "")


def fix(fctx: FixContext, findings: list[Finding]) -> Iterator[Edit | Left]:
    """Rewrite the first line of every script a shebang rule reported, once per file.

    Not in a tree pip installed (a virtual environment, ``pip install --prefix``/``--target``:
    a directory the ``wheel`` profile judges, :func:`~coinstall.rules.profiles.
    installed_by_pip`): its installer wrote each shebang for the interpreter that installed it
    (PEP 427) into its ``bin/`` scripts, and a system path written there would run them
    outside the environment; those findings are left, saying how to reinstall."""
    info = fctx.actx.info
    installed = installed_by_pip(info)
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        if installed and f.path is not None and f.path.lstrip("/").split("/")[0] == "bin":
            yield Left(
                f,
                "a script pip installed (a virtual environment or --prefix): its installer "
                "writes the shebang for the interpreter that installs it; reinstall with "
                "the interpreter that should run it",
            )
            continue
        if f.path is None:
            yield Left(f, "no file named")
            continue
        by_path.setdefault(f.path, []).append(f)
    for path, group in by_path.items():
        data = fctx.reader.read(path)
        if data is None:
            for f in group:
                yield Left(f, f"{fctx.show(path)} is not a regular file")
            continue
        first, rest = split_line(data)
        cr = first.endswith(b"\r")
        try:
            line = first.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            for f in group:
                yield Left(f, "the shebang line is not UTF-8")
            continue
        try:
            new = rewrite(fctx, path, line)
        except Unfixable as exc:
            for f in group:
                yield Left(f, str(exc))
            continue
        if new == line and not cr:
            for f in group:
                yield Left(f, "the shebang is already the stack's interpreter")
            continue
        # The first line ends in LF alone: the kernel keeps a \r as part of the interpreter
        # path or its argument (Linux fs/binfmt_script.c).  The rest keeps its line ends
        # (Python's tokenizer reads CRLF, LF and mixed).
        out = new.encode() + rest
        shown = f"{line}\\r" if cr else line
        yield Edit("write", path, tuple(group), f"{shown} -> {new}", data=out)
        yield from _pyc_headers(fctx, path, len(out), tuple(group))


def _pyc_headers(
    fctx: FixContext, path: str, size: int, group: tuple[Finding, ...]
) -> Iterator[Edit]:
    """Timestamp pycs of a rewritten source get the new source size in their header.

    The shebang is a comment on line 1 replaced by one line, so the compiled code is the same
    (``co_firstlineno`` and line tables unchanged, ``co_filename`` is the pyc's own); the
    source keeps its mtime (written like ``pathfix.py -p``), so only the size field
    (PEP 552 bytes 12-16, 3.3-3.6 bytes 8-12) would make the runtime think it stale.
    Hash-based pycs hash the whole source and are left to ``bytecode-stale``."""
    rec = next((r for r in fctx.actx.records if r.path == path), None)
    if rec is None or rec.kind != "source":
        return
    for r in fctx.actx.records:
        loc, h = r.pyc_location, r.pyc_header
        if (
            loc is None
            or h is None
            or loc.source != rec.import_path
            or h.problem
            or h.source_size is None
            or h.source_hash is not None
        ):
            continue
        data = fctx.reader.read(r.path)
        if data is None or len(data) < h.size:
            continue
        at = 12 if h.size == 16 else 8
        new = data[:at] + (size & 0xFFFFFFFF).to_bytes(4, "little") + data[at + 4 :]
        yield Edit(
            "write",
            r.path,
            group,
            f"source size {h.source_size} -> {size} in the "
            "header (the shebang is a comment: the code is the same)",
            data=new,
        )
