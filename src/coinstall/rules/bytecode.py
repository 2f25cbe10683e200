"""Bytecode and layout rules: which runtime a ``.pyc``/``.pyo`` is for, whether that runtime will
use it, and whether Python files sit where a runtime (or the profile's policy) expects them.

Facts: CPython ``Lib/importlib/_bootstrap_external.py`` (``_classify_pyc``,
``_validate_timestamp_pyc``, ``_validate_hash_pyc``, ``SourcelessFileLoader``), PEP 3147
(``__pycache__``, cache tags), PEP 488 (no ``.pyo`` from 3.5), PEP 552 (hash-based pycs);
rpmlint ``FilesCheck.py`` (``python-bytecode-*``); lintian ``Languages/Python.pm``
(``package-installs-python-bytecode``, ``package-installs-python-pycache-dir``); Fedora
Packaging Guidelines for Python (byte-compilation, ``%py_byte_compile``); Debian Python Policy
("Module Path", private modules) and dh-python (``py3compile`` at install time).
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace

from coinstall.files.verdict import FileRecord
from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.rules.profiles import RPM_PROFILES, SYSTEM_PROFILES
from coinstall.runtimes.model import Runtime


def _expected_magic(ctx: ArtifactContext, impl: str, version: tuple[int, int]) -> set[int]:
    """Every release magic the catalogue gives the runtimes of one versioned directory."""
    return {
        m
        for rt in ctx.catalogue.known(vendors=("upstream",))
        if rt.implementation == impl and rt.version == version
        for m in rt.accepted_magic
    }


def _impl_name(impl: str, version: tuple[int, int]) -> str:
    """``python3.11`` / ``pypy3.9``: the interpreter command of a directory's runtime."""
    return f"{'python' if impl == 'cpython' else 'pypy'}{version[0]}.{version[1]}"


def _origin(ctx: ArtifactContext, magic: int) -> str:
    origin = ctx.catalogue.magic_origin(magic)
    return origin.label if origin else "unknown"


def _any_of(magics: set[int]) -> str:
    """``3495 or 3531``: the magic numbers a runtime accepts, smallest first, for a message."""
    return " or ".join(str(m) for m in sorted(magics))


def _bytecode(ctx: ArtifactContext) -> Iterator[FileRecord]:
    for r in ctx.records:
        if r.kind == "bytecode" and r.pyc_header is not None and r.pyc_location is not None:
            yield r


def _known_runtimes(ctx: ArtifactContext) -> list[Runtime]:
    """The catalogue's runtimes (every vendor) plus the installed ones of the run."""
    return [*ctx.catalogue.known(), *ctx.runtimes.values()]


def hash_pyc_sources(records: Sequence[FileRecord]) -> set[str]:
    """Paths of the sources whose bytes a rule needs: those of hash-based pycs (PEP 552), whose
    recorded SipHash can only be checked against the source's content.  Timestamp pycs are
    checked from the header and the member's mtime and size alone."""
    by_import = {r.import_path: r.path for r in records}
    out = set()
    for r in records:
        h, loc = r.pyc_header, r.pyc_location
        if h is not None and loc is not None and h.source_hash is not None and not h.problem:
            src = by_import.get(loc.source)
            if src is not None:
                out.add(src)
    return out


@rule(
    "bytecode-magic-mismatch",
    severity="error",
    summary="A .pyc below a runtime's directory holds another runtime's magic number.",
    why="The runtime that owns the directory rejects the file (bad magic number) and "
    "recompiles the source on every import, or fails outright where there is no source; "
    "the package was byte-compiled with the wrong interpreter.",
    example="/usr/lib/python3.11/site-packages/foo/__pycache__/bar.cpython-311.pyc starting "
    "with cb 0d 0d 0a (3531, CPython 3.12)",
    fix="Byte-compile with the interpreter of the directory (%py_byte_compile with "
    "%{python3}, py_compile run by python3.11), or let the build root policy do it.",
    source="CPython importlib _classify_pyc (magic must match exactly); rpmlint FilesCheck "
    "python-bytecode-wrong-magic-value",
    peers=("rpmlint:python-bytecode-wrong-magic-value",),
    fixer="bytecode:fix",
)
def bytecode_magic_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    cache: dict[tuple[str, tuple[int, int]], set[int]] = {}
    for r in _bytecode(ctx):
        if r.scope.kind != "versioned":
            continue
        h = r.pyc_header
        assert h is not None
        # A header no runtime could have written is bytecode-invalid-header's.
        if (
            h.problem
            or h.magic is None
            or r.scope.version is None
            or ctx.catalogue.magic_origin(h.magic) is None
        ):
            continue
        key = (r.scope.implementation or "cpython", r.scope.version)
        if key not in cache:
            cache[key] = _expected_magic(ctx, *key)
        expected = cache[key]
        if not expected or h.magic in expected:
            continue
        yield self.finding(
            r.path,
            f"magic {h.magic} ({_origin(ctx, h.magic)}) in {r.scope.describe()}: "
            f"{_impl_name(*key)} expects {_any_of(expected)}",
        )


@rule(
    "bytecode-cache-tag-mismatch",
    severity="error",
    summary="A __pycache__ file named for one runtime's cache tag holds another runtime's "
    "magic number.",
    why="The runtime whose cache tag is in the name reads the file and rejects it (bad magic "
    "number), recompiling the source on every import where the directory is not writable; "
    "the runtime the bytecode was compiled by never looks at the file.  It comes from "
    "renaming or copying __pycache__ files between builds, or a compile step run by one "
    "interpreter with another's cache_from_source().",
    example="site-packages/foo/__pycache__/bar.cpython-311.pyc starting with cb 0d 0d 0a "
    "(3531, CPython 3.12)",
    fix="Byte-compile each runtime's files with that runtime (python3.11 -m compileall); do "
    "not rename or copy __pycache__ files.",
    source="PEP 3147 (cache tag = sys.implementation.cache_tag of the writer); CPython "
    "importlib cache_from_source and _classify_pyc",
    fixer="bytecode:fix",
)
def bytecode_cache_tag_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    by_tag: dict[str, set[int]] = {}
    for rt in _known_runtimes(ctx):
        if rt.cache_tag:
            by_tag.setdefault(rt.cache_tag, set()).update(rt.accepted_magic)
    for r in _bytecode(ctx):
        h, loc = r.pyc_header, r.pyc_location
        assert h is not None and loc is not None
        if not loc.pycache or loc.cache_tag is None or h.problem or h.magic is None:
            continue
        expected = by_tag.get(loc.cache_tag)
        if not expected or h.magic in expected or ctx.catalogue.magic_origin(h.magic) is None:
            continue  # unknown tag (another implementation): nothing to compare with
        yield self.finding(
            r.path,
            f"cache tag {loc.cache_tag} expects magic {_any_of(expected)}, header holds {h.magic} "
            f"({_origin(ctx, h.magic)})",
        )


@rule(
    "bytecode-invalid-header",
    severity="error",
    summary="A .pyc/.pyo whose header no runtime accepts: truncated, not bytecode, invalid "
    "PEP 552 flags, or a magic number no known runtime writes.",
    why="Every runtime rejects the file: with the source beside it the import recompiles "
    "(or fails to write the cache in a read-only system directory) on every start; without "
    "it the import fails.  A truncated or garbage pyc usually means a broken build step "
    "or a corrupted payload.",
    example="foo/__pycache__/bar.cpython-312.pyc of 10 bytes (truncated header, 10 of 16 bytes)",
    fix="Rebuild the bytecode with the target interpreter (python3.X -m compileall), or ship "
    "no bytecode and let the installer compile it.",
    source="CPython importlib _classify_pyc (EOFError on short headers, ImportError on bad "
    "magic or invalid flags); PEP 552",
    peers=("rpmlint:python-bytecode-wrong-magic-value",),
)
def bytecode_invalid_header(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in _bytecode(ctx):
        h = r.pyc_header
        assert h is not None
        if h.problem:
            yield self.finding(r.path, f"{h.problem} ({r.size} bytes)")
        elif h.magic is not None and ctx.catalogue.magic_origin(h.magic) is None:
            yield self.finding(
                r.path,
                f"magic number {h.magic} "
                f"({h.magic.to_bytes(2, 'little').hex(' ')} 0d 0a) "
                "is written by no known runtime",
            )


def _pyo_runtime(ctx: ArtifactContext, r: FileRecord) -> tuple[str, tuple[int, int]] | None:
    """The runtime a .pyo is for: its versioned directory, else its cache tag, else its
    magic number's origin."""
    if r.scope.kind == "versioned" and r.scope.version is not None:
        return r.scope.implementation or "cpython", r.scope.version
    loc, h = r.pyc_location, r.pyc_header
    assert loc is not None and h is not None
    if loc.cache_tag is not None:
        for rt in _known_runtimes(ctx):
            if rt.cache_tag == loc.cache_tag:
                return rt.implementation, rt.version
    if h.magic is not None:
        origin = ctx.catalogue.magic_origin(h.magic)
        if origin is not None:
            major, minor = (int(p) for p in origin.version.split("."))
            return origin.implementation, (major, minor)
    return None


@rule(
    "bytecode-legacy-pyo",
    severity="warning",
    summary="A .pyo file for a runtime that ignores .pyo files (Python 3.5 and later).",
    why="PEP 488 removed .pyo: from 3.5 optimised bytecode is NAME.TAG.opt-N.pyc and the "
    "import system never opens a .pyo.  The file is dead weight, and a sign the package "
    "was byte-compiled by a script written for Python 2 or 3.4.",
    example="/usr/lib/python3.6/site-packages/foo/bar.pyo",
    fix="Drop the .pyo files; compile optimised bytecode with python3.X -m compileall -o 1 "
    "(it writes __pycache__/NAME.cpython-3X.opt-1.pyc).",
    source="PEP 488; CPython importlib BYTECODE_SUFFIXES = ['.pyc'] (3.5+)",
    fixer="bytecode:fix",
)
def bytecode_legacy_pyo(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in _bytecode(ctx):
        loc = r.pyc_location
        assert loc is not None
        if loc.ext != "pyo":
            continue
        target = _pyo_runtime(ctx, r)
        if target is None or target[1] < (3, 5):
            continue  # Python 2 and 3.0-3.4 read .pyo under -O
        yield self.finding(
            r.path,
            f"{_impl_name(*target)} ignores .pyo files (PEP 488); "
            f"optimised bytecode is {posixpath.basename(loc.source)[:-3]}"
            f".TAG.opt-1.pyc in __pycache__",
        )


def _sources(ctx: ArtifactContext) -> dict[str, FileRecord]:
    return {r.import_path: r for r in ctx.records}


def _linked_sources(ctx: ArtifactContext) -> set[str]:
    """Paths of links that stand for a file of the package: hard links, and symbolic links
    whose target (relative to the link, or absolute in the installed tree) is a regular file of
    the package.  A dangling symbolic link counts as missing, as rpmlint's
    python-bytecode-without-source has it."""
    files = {r.path for r in ctx.records}
    present: set[str] = set()
    for m in ctx.links:
        target = m.link_target or ""
        if m.type == "hardlink":
            present.add(m.path)
            continue
        resolved = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(posixpath.dirname(m.path), target))
        )
        if resolved in files:
            present.add(m.path)
    return present


@rule(
    "bytecode-without-source",
    severity="warning",
    summary="A .pyc/.pyo whose source .py is not in the package.",
    why="In __pycache__ the file is dead: PEP 3147 imports ignore it without the source.  In "
    "the legacy location (foo.pyc where foo.py would be) it is imported, but only by the "
    "one runtime whose magic number it holds; every other runtime sharing the directory "
    "fails to import the module, and nobody can read or patch the code.",
    example="/usr/lib/python3.12/site-packages/foo/__pycache__/bar.cpython-312.pyc "
    "without foo/bar.py",
    fix="Ship the source (Fedora: %{python3_sitelib}/foo/ with *.py); a sourceless "
    "distribution must target exactly one runtime and say so.",
    source="PEP 3147 (sourceless __pycache__ files are ignored); CPython "
    "SourcelessFileLoader; rpmlint FilesCheck python-bytecode-without-source",
    peers=("rpmlint:python-bytecode-without-source",),
    profiles=(*RPM_PROFILES, "wheel"),
)
def bytecode_without_source(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    sources = set(_sources(ctx)) | _linked_sources(ctx)
    for r in _bytecode(ctx):
        loc, h = r.pyc_location, r.pyc_header
        assert loc is not None and h is not None
        if loc.source in sources:
            continue
        src = posixpath.basename(loc.source)
        if loc.pycache:
            yield self.finding(
                r.path, f"no {src} beside __pycache__: PEP 3147 imports ignore this file"
            )
        elif h.magic is not None and not h.problem:
            yield self.finding(
                r.path,
                f"no {src}: only runtimes with magic {h.magic} "
                f"({_origin(ctx, h.magic)}) can import this module",
            )
        else:
            yield self.finding(r.path, f"no {src}: sourceless bytecode")


@rule(
    "bytecode-shipped",
    headline="ship bytecode where the policy forbids it",
    headline_rank=20,
    severity="error",
    summary="A Debian package that ships bytecode (.pyc/.pyo, __pycache__).",
    why="Debian packages ship sources only: py3compile (dh_python3's postinst) compiles them "
    "for every installed runtime at install time and again when a runtime is added "
    "(runtime.d hooks), and py3clean removes them.  Shipped bytecode is for one runtime "
    "only, is not owned by the hooks, and becomes stale or is left behind when runtimes "
    "change.",
    example="usr/lib/python3/dist-packages/foo/__pycache__/bar.cpython-311.pyc",
    fix="Remove the bytecode from the package (dh_python3 does; check override_dh_auto_install "
    "steps that run compileall).",
    source="Debian Python Policy (byte-compilation at install time); dh-python py3compile / "
    "py3clean; lintian package-installs-python-bytecode, "
    "package-installs-python-pycache-dir",
    peers=(
        "lintian:package-installs-python-bytecode",
        "lintian:package-installs-python-pycache-dir",
    ),
    profiles=("debian",),
)
def bytecode_shipped(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    if ctx.info.format != "deb":
        return  # an installed tree has the bytecode py3compile wrote: that is the design
    for r in _bytecode(ctx):
        loc = r.pyc_location
        assert loc is not None
        if loc.pycache:
            d = posixpath.dirname(r.path)
            yield self.finding(
                r.path,
                f"__pycache__ directory /{d}/ shipped (py3compile writes it at install time)",
            )
        else:
            yield self.finding(
                r.path,
                f"bytecode file shipped (py3compile compiles "
                f"{posixpath.basename(loc.source)} at install time)",
            )


# -- bytecode-stale ------------------------------------------------------------------------

_U32 = 0xFFFFFFFF

#: Computes ``_imp.source_hash(key, data)`` for each ``[key, hex]`` pair read from stdin; run by
#: a real interpreter of the right hash generation (never anything from the package).
_HASH_SCRIPT = (
    "import _imp, json, sys\n"
    "for key, data in json.load(sys.stdin):\n"
    "    sys.stdout.write(_imp.source_hash(key, bytes.fromhex(data)).hex() + '\\n')\n"
)


def _hash_generation(version: tuple[int, int]) -> int:
    """Which keyed hash a CPython version's ``_imp.source_hash`` uses: 24 (SipHash-2-4, 3.7 to
    3.10) or 13 (SipHash-1-3, 3.11+; bpo-29410, CPython ``Python/pyhash.c`` _Py_KeyedHash)."""
    return 13 if version >= (3, 11) else 24


def _hashers(ctx: ArtifactContext) -> dict[int, str | None]:
    """An interpreter per hash generation: None for this process, else an installed runtime's
    executable."""
    out: dict[int, str | None] = {}
    if sys.implementation.name == "cpython":
        out[_hash_generation(sys.version_info[:2])] = None
    for rt in ctx.runtimes.values():
        if (
            rt.installed
            and rt.executable
            and rt.implementation == "cpython"
            and rt.version >= (3, 7)
        ):
            out.setdefault(_hash_generation(rt.version), rt.executable)
    return out


def _source_hashes(exe: str | None, jobs: list[tuple[int, bytes]]) -> list[bytes] | None:
    """``_imp.source_hash`` of each ``(key, source)``; None if the interpreter fails.

    CPython exposes its keyed SipHash only as ``_imp.source_hash``; no library offers
    SipHash-1-3, so the real interpreter computes it (glue, not a reimplementation).
    """
    if exe is None:
        import _imp  # CPython's own; importlib.util.source_hash calls it with its own magic

        return [_imp.source_hash(k, d) for k, d in jobs]
    from coinstall.runtimes import run  # another runtime's hashes: most runs start none

    try:
        done = run.run_script(
            exe, _HASH_SCRIPT, timeout=60, stdin=json.dumps([[k, d.hex()] for k, d in jobs])
        )
    except run.RunError:
        return None
    lines = done.text().split()
    return [bytes.fromhex(x) for x in lines] if len(lines) == len(jobs) else None


def _check_hashes(
    self: Rule, ctx: ArtifactContext, pairs: list[tuple[FileRecord, FileRecord]]
) -> Iterator[Finding]:
    """Findings for hash-based pycs whose source hash disagrees with the source's bytes."""
    hashers = _hashers(ctx)
    todo: dict[int, list[tuple[FileRecord, FileRecord, int]]] = {}
    for pyc_rec, src in pairs:
        h = pyc_rec.pyc_header
        assert h is not None and h.magic is not None
        origin = ctx.catalogue.magic_origin(h.magic)
        if origin is None or origin.implementation != "cpython":
            continue  # PyPy's source_hash is its own; not verified
        major, minor = (int(p) for p in origin.version.split("."))
        gen = _hash_generation((major, minor))
        if gen in hashers:
            todo.setdefault(gen, []).append((pyc_rec, src, h.magic))
    if not todo:
        return
    contents = ctx.contents  # the engine read these sources for us (hash_pyc_sources)
    for gen, group in todo.items():
        group = [g for g in group if g[1].path in contents]
        keys = [int.from_bytes(m.to_bytes(2, "little") + b"\r\n", "little") for *_, m in group]
        got = _source_hashes(
            hashers[gen], [(k, contents[s.path]) for k, (_, s, _) in zip(keys, group, strict=True)]
        )
        if got is None:
            continue
        for (pyc_rec, src, _), digest in zip(group, got, strict=True):
            h = pyc_rec.pyc_header
            assert h is not None and h.source_hash is not None and h.flags is not None
            if digest != h.source_hash:
                kind = "checked" if h.flags & 0b10 else "unchecked (loaded without a check)"
                yield self.finding(
                    pyc_rec.path,
                    f"{kind} hash-based pyc: source hash {h.source_hash.hex()} "
                    f"is not that of /{src.path} ({digest.hex()})",
                )


@rule(
    "bytecode-stale",
    severity="error",
    summary="A .pyc whose header (source mtime and size, or PEP 552 source hash) disagrees "
    "with the source file in the same package.",
    why="A timestamp pyc whose mtime or size differs from the installed .py is stale: the "
    "runtime recompiles on every import and, in a read-only system directory, never "
    "saves the result.  An unchecked hash-based pyc with the wrong hash is worse: it is "
    "loaded without looking at the source, so the code that runs is not the code "
    "shipped.  In a wheel, timestamp pycs are always stale: installers (pip, pypa "
    "installer) give installed files the install time as mtime.",
    example="/usr/lib/python3.12/site-packages/foo/__pycache__/bar.cpython-312.pyc: header "
    "mtime 1700000000, /usr/lib/python3.12/site-packages/foo/bar.py mtime 1700000100",
    fix="Byte-compile after the last change to the sources (Fedora's brp-python-bytecompile "
    "clamps source mtimes first); for wheels ship no bytecode or unchecked-hash pycs "
    "built from the shipped sources.",
    source="CPython importlib _validate_timestamp_pyc, _validate_hash_pyc; PEP 552; rpmlint "
    "FilesCheck python-bytecode-inconsistent-mtime",
    peers=("rpmlint:python-bytecode-inconsistent-mtime",),
    profiles=(*RPM_PROFILES, "wheel"),
    fixer="bytecode:fix",
    contents=hash_pyc_sources,
)
def bytecode_stale(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    sources = _sources(ctx)
    hashed: list[tuple[FileRecord, FileRecord]] = []
    wheel = ctx.info.format == "wheel"
    for r in _bytecode(ctx):
        h, loc = r.pyc_header, r.pyc_location
        assert h is not None and loc is not None
        src = sources.get(loc.source)
        if src is None or h.problem:
            continue
        if h.source_hash is not None:
            hashed.append((r, src))
            continue
        if h.mtime is None:
            continue
        if wheel:
            yield self.finding(
                r.path,
                f"timestamp-based pyc in a wheel: the installed "
                f"{posixpath.basename(src.path)} gets the install time "
                "as mtime, so the runtime always finds this stale",
            )
            continue
        if src.mtime is not None and h.mtime != src.mtime & _U32:
            yield self.finding(r.path, f"header mtime {h.mtime}, /{src.path} mtime {src.mtime}")
        elif h.source_size is not None and h.source_size != src.size & _U32:
            yield self.finding(
                r.path, f"header source size {h.source_size}, /{src.path} size {src.size}"
            )
    if hashed:
        yield from _check_hashes(self, ctx, hashed)


# -- bytecode-outside-runtime-dir ----------------------------------------------------------

#: Directories a system package's Python files may live in besides a runtime's own: private
#: application directories (Debian Python Policy "Module Path": private modules go to
#: /usr/share/<package> or /usr/lib/<package>; Fedora Packaging Guidelines for Python:
#: modules outside the site directories, e.g. /usr/share/<name>, are byte-compiled with
#: %py_byte_compile for the interpreter that runs them; FHS /usr/libexec for Fedora), and
#: configuration in /etc.
#: Private application directories.  /usr/share/NAME is one whatever NAME is: no runtime
#: has /usr/share/python3/ on its sys.path (it is Debian's python3-minimal's own, where
#: py3compile's debpython package lives); under /usr/lib the python*/pypy* trees are the
#: runtimes'.
_PRIVATE = re.compile(
    r"^(?P<dir>usr/share/(?!doc/|man/|licenses/|info/)[^/]+/|"
    r"usr/(?:lib|lib64|libexec)/(?!(?:python|pypy)[\d.]*t?/)[^/]+/|etc/[^/]+/)"
)
#: Debian's PyPy shared directory (Debian PyPy policy, pypy3 sys.path): allowed in the debian
#: profile along with the profile's shared directories.
_DEBIAN_EXTRA_SHARED = ("usr/lib/pypy3/dist-packages",)
_DOC = re.compile(r"^usr/share/(?:doc|man|licenses|info)/")


def _allowed_shared(ctx: ArtifactContext, root: str) -> bool:
    dirs = ctx.profile.shared_dirs
    if ctx.profile.name == "debian":
        dirs = (*dirs, *_DEBIAN_EXTRA_SHARED)
    return any(root.rstrip("/") == d or root.startswith(d + "/") for d in dirs)


_ABI_REQUIRE = re.compile(r"^python\(abi\)\s*=\s*(\d+)\.(\d+)$")


def _private_runtime(ctx: ArtifactContext) -> tuple[str, set[int]] | None:
    """The runtimes a package's private directories may be compiled for: those its
    ``python(abi) = X.Y`` requirements name (RPM; a package requiring two, like tracer's
    ``python(abi) = 2.7`` and ``3.5``, may run its private code with either), else the
    stack's default python3; None when neither says.  Returns (description, accepted magic
    numbers)."""
    abis = sorted(
        {
            (int(m[1]), int(m[2]))
            for req in ctx.info.requires
            if (m := _ABI_REQUIRE.match(" ".join(req.split())))
        }
    )
    if abis:
        versions = abis
        what = " or ".join(f"python(abi) = {v[0]}.{v[1]}" for v in abis) + " the package requires"
    elif ctx.stack.default is not None:
        versions = [ctx.stack.default]
        what = f"default {_impl_name('cpython', ctx.stack.default)}"
    else:
        return None
    magic = {m for v in versions for m in _expected_magic(ctx, "cpython", v)}
    return (what, magic) if magic else None


#: Debian source packages that own a runtime's versioned directory (lintian
#: Languages/Python.pm third-party-package-in-python-dir exceptions, plus PyPy).
_DEBIAN_RUNTIME_SOURCE = re.compile(
    r"^(?:python\d(?:\.\d+)?|pypy\d?|python\d?-(?:stdlib-extensions|profiler|old-doctools))$"
)


def _debian_versioned(self: Rule, ctx: ArtifactContext, r: FileRecord) -> Iterator[Finding]:
    """Debian: /usr/lib/python3.X/ belongs to the python3.X packages; public modules go to
    the shared /usr/lib/python3/dist-packages (Debian Python Policy, "Module Path")."""
    sc = r.scope
    assert sc.version is not None
    if sc.version[0] < 3:
        return
    runtime = _impl_name(sc.implementation or "cpython", sc.version)
    if sc.site:
        yield self.finding(
            r.path,
            f"/{sc.root} is read by {runtime} "
            "only: Debian installs public modules to "
            "/usr/lib/python3/dist-packages/",
        )
        return
    source = (ctx.info.fields.get("Source") or ctx.info.name or "").split(" ")[0]
    if not _DEBIAN_RUNTIME_SOURCE.match(source):
        yield self.finding(
            r.path,
            f"/{sc.root} is the standard library of {runtime} (its "
            f"own source package's), not {source}'s",
        )


@rule(
    "bytecode-outside-runtime-dir",
    severity="warning",
    summary="A .py/.pyc/.pyo in a system package outside every runtime's directory, a shared "
    "directory the profile allows, or a private application directory; or bytecode "
    "in a private directory for another runtime than the one that runs it.",
    why="Only files below a runtime's directory (/usr/lib/python3.X/, Debian's "
    "/usr/lib/python3/dist-packages) are tied to a runtime: the generators derive "
    "python(abi) requires from them (Fedora python.attr) and py3compile/py3clean handle "
    "them (Debian).  Files elsewhere are on no runtime's sys.path (Debian's "
    "python3/dist-packages in an RPM, /usr/local reserved for the administrator, /opt).  "
    "Private application directories (/usr/share/NAME, /usr/lib/NAME) are allowed, but "
    "their bytecode serves only the interpreter that runs the application: the one the "
    "package requires (python(abi) = X.Y), else the default python3 (Fedora: "
    "%py_byte_compile %{python3}); one runtime per directory.  On Debian "
    "/usr/lib/python3.X/ belongs to python3.X: modules in its dist-packages are lost "
    "for every other runtime and at each transition.",
    example="/usr/lib/python3/dist-packages/foo.py in a Fedora RPM; "
    "/usr/share/foo/__pycache__/app.cpython-311.pyc when the default python3 is 3.12",
    fix="Install modules to the stack's site directory (%{python3_sitelib}, "
    "/usr/lib/python3/dist-packages on Debian) or to /usr/share/NAME for a private "
    "application, byte-compiled with the default python3.",
    source="Fedora Packaging Guidelines for Python (byte compiling, %py_byte_compile); "
    "python-rpm-generators python.attr; Debian Python Policy 'Module Path' and private "
    "modules; FHS 3.0 (/usr/local, /opt)",
    peers=("lintian:python-module-in-wrong-location", "lintian:third-party-package-in-python-dir"),
    profiles=SYSTEM_PROFILES,
)
def bytecode_outside_runtime_dir(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    if ctx.info.format not in ("rpm", "deb"):
        return  # wheels and installed trees: paths are relative to a site directory
    default = _private_runtime(ctx)
    debian = ctx.profile.name == "debian"
    private: dict[str, dict[int, str]] = {}
    for r in ctx.records:
        if r.kind not in ("source", "bytecode") or _DOC.match(r.path):
            continue
        sc = r.scope
        # A runtime-like tree inside an application's own prefix (python3-lldb-14 ships
        # /usr/lib/llvm-14/lib/python3.11/dist-packages/lldb/, reached through a link) is on
        # no runtime's path: a private directory like any other (lintian is silent on it).
        if sc.kind in ("versioned", "shared") and _PRIVATE.match(sc.root):
            sc = replace(sc, kind="any")
        if sc.kind == "versioned":
            if not sc.root.startswith(("usr/lib/", "usr/lib64/")):
                yield self.finding(
                    r.path, f"/{sc.root} is not a system runtime's directory (/usr/lib/pythonX.Y/)"
                )
            elif debian:
                yield from _debian_versioned(self, ctx, r)
            continue
        if sc.kind == "shared":
            if _allowed_shared(ctx, sc.root):
                continue
            yield self.finding(
                r.path, f"/{sc.root} is not on the sys.path of a {ctx.profile.name} runtime"
            )
            continue
        m = _PRIVATE.match(r.path)
        if m is None:
            yield self.finding(
                r.path,
                "not below a runtime's directory nor a private "
                "application directory (/usr/share/NAME/, "
                "/usr/lib/NAME/)",
            )
            continue
        h = r.pyc_header
        if r.kind == "bytecode" and h is not None and h.magic is not None and not h.problem:
            seen = private.setdefault(m["dir"], {})
            seen.setdefault(h.magic, r.path)
            if default is not None and h.magic not in default[1]:
                yield self.finding(
                    r.path,
                    f"bytecode in private directory /{m['dir']} has magic {h.magic} "
                    f"({_origin(ctx, h.magic)}); the {default[0]} expects "
                    f"{' or '.join(str(x) for x in sorted(default[1]))}",
                )
    for d, magics in private.items():
        if len(magics) > 1 and default is None:
            labels = ", ".join(f"{m} ({_origin(ctx, m)})" for m in sorted(magics))
            first = magics[min(magics)]
            yield self.finding(
                first,
                f"private directory /{d} holds bytecode for several "
                f"runtimes: {labels}; one interpreter runs it",
            )
