"""Bytecode fixer: recompile a pyc by the runtime it is for, or drop it.

* The runtime: the one whose versioned directory holds the file (``bytecode-magic-mismatch``),
  else the one whose cache tag the ``__pycache__`` name carries (PEP 3147), else the one whose
  magic number the header holds.  A real interpreter of that version compiles it, in a
  subprocess (:func:`coinstall.runtimes.run.run_script`: no ``site``, no ``PYTHON*`` or
  ``SOURCE_DATE_EPOCH`` variable; nothing from the package is run: ``py_compile`` only compiles),
  with the file's own optimisation level (``.opt-N``, PEP 488) and invalidation mode (PEP 552
  flags: timestamp, checked or unchecked hash); in a wheel, where a timestamp pyc is always
  stale (installers give the sources a new mtime), as an unchecked-hash pyc.  ``co_filename``
  is the installed path (``/usr/lib/...`` for a build root, as brp-python-bytecompile's ``-d``
  makes it).
* A pyc named for another runtime's cache tag inside a runtime's own directory is replaced by
  that runtime's pyc (``NAME.<its tag>[.opt-N].pyc``).
* A legacy ``NAME.pyc`` beside its source in a 3.2+ runtime's directory is removed: that
  runtime compiles the source into ``__pycache__`` and never reads it (PEP 3147).
* ``--drop-bytecode`` removes the file instead where the profile ships no bytecode (Debian:
  py3compile compiles at install time; Debian Python Policy).  A ``.pyo`` for Python 3.5+ is
  removed: no runtime reads it (PEP 488).
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from coinstall.files.verdict import FileRecord
from coinstall.fix import journal
from coinstall.fix.model import Edit, FixContext, Left
from coinstall.rules import Finding
from coinstall.runtimes import run
from coinstall.runtimes.model import Runtime

#: Run by the target interpreter: compile each job, print one JSON line per job.  Works
#: unchanged on 3.6 (no invalidation_mode before 3.7, PEP 552).
_COMPILE = r"""
import json, py_compile, sys
for src, cfile, dfile, opt, mode in json.load(sys.stdin):
    kw = {}
    if mode != "timestamp":
        kw["invalidation_mode"] = getattr(py_compile.PycInvalidationMode, mode.upper())
    try:
        py_compile.compile(src, cfile=cfile, dfile=dfile, doraise=True, optimize=opt, **kw)
        print(json.dumps(None))
    except Exception as exc:
        print(json.dumps(str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)))
"""


@dataclass
class _Job:
    record: FileRecord
    findings: tuple[Finding, ...]
    runtime: Runtime
    dest: str  # the pyc path written
    mode: str
    src: str  # the source member


def _version_of(fctx: FixContext, r: FileRecord) -> tuple[int, int] | None:
    """The CPython version a pyc must be for."""
    loc, h = r.pyc_location, r.pyc_header
    assert loc is not None and h is not None
    if (
        r.scope.kind == "versioned"
        and r.scope.version is not None
        and r.scope.implementation == "cpython"
    ):
        return r.scope.version
    if loc.cache_tag is not None and loc.cache_tag.startswith("cpython-"):
        digits = loc.cache_tag[len("cpython-") :]
        if digits.isdigit() and len(digits) >= 2:
            return int(digits[0]), int(digits[1:])
    if h.magic is not None:
        origin = fctx.actx.catalogue.magic_origin(h.magic)
        if origin is not None and origin.implementation == "cpython":
            major, minor = (int(p) for p in origin.version.split("."))
            return major, minor
    return None


def _interpreter(fctx: FixContext, version: tuple[int, int]) -> Runtime | None:
    for rt in fctx.installed:
        if (
            rt.implementation == "cpython"
            and rt.version == version
            and rt.executable
            and not rt.debug
            and not rt.free_threaded
        ):
            return rt
    return None


def _mode(r: FileRecord, wheel: bool) -> str:
    h = r.pyc_header
    assert h is not None
    if wheel:
        return "unchecked_hash"
    if h.flags is not None and h.flags & 0b1:
        return "checked_hash" if h.flags & 0b10 else "unchecked_hash"
    return "timestamp"


def _dfile(fctx: FixContext, src: str) -> str:
    """``co_filename``: the path the source has once installed."""
    if fctx.root is None:
        return src
    if src.split("/", 1)[0] in ("usr", "opt", "etc", "srv", "var"):
        return "/" + src  # a build root
    return os.path.join(fctx.root, src)


def _member_stat(root: str, path: str) -> os.stat_result | None:
    try:
        fd = journal.open_root(root)
    except OSError:
        return None
    try:
        return journal.lstat_member(fd, path)
    finally:
        os.close(fd)


def _compile(fctx: FixContext, jobs: list[_Job]) -> Iterator[Edit | Left]:
    by_rt: dict[str, list[_Job]] = {}
    for j in jobs:
        by_rt.setdefault(j.runtime.id, []).append(j)
    for group in by_rt.values():
        rt = group[0].runtime
        assert rt.executable is not None
        readable = []
        for j in group:
            if fctx.reader.read(j.src) is None:
                for f in j.findings:
                    yield Left(
                        f,
                        f"{fctx.show(j.src)} is not a regular file reached without a "
                        "symbolic link: not compiled",
                    )
            else:
                readable.append(j)
        group = readable
        if not group:
            continue
        with tempfile.TemporaryDirectory(prefix="coinstall-fix-") as tmp:
            payload = []
            for i, j in enumerate(group):
                # The source is copied out through the reader (no symbolic link followed in
                # a tree), keeping its mtime: a timestamp pyc records it (PEP 552).
                src = os.path.join(tmp, f"{i}.py")
                with open(src, "wb") as fh:
                    fh.write(fctx.reader.read(j.src) or b"")
                if fctx.root is not None:
                    st = _member_stat(fctx.root, j.src)
                    if st is not None:
                        os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
                payload.append(
                    [
                        src,
                        os.path.join(tmp, f"{i}.pyc"),
                        _dfile(fctx, j.src),
                        j.record.pyc_location.opt if j.record.pyc_location else 0,
                        j.mode,
                    ]
                )
            try:
                # SOURCE_DATE_EPOCH would turn py_compile's timestamp pycs into checked-hash
                # ones (py_compile._get_default_invalidation_mode, PEP 552).
                done = run.run_script(
                    rt.executable,
                    _COMPILE,
                    stdin=json.dumps(payload),
                    timeout=600,
                    unset=("SOURCE_DATE_EPOCH",),
                    check=False,
                )
                results = [json.loads(x) for x in done.text().splitlines()]
                if len(results) != len(group):
                    results = [f"{rt.executable} failed: {done.error_tail()}"] * len(group)
            except run.RunError as exc:
                results = [f"{rt.executable} failed: {exc.reason}"] * len(group)
            except ValueError as exc:
                results = [f"{rt.executable} failed: {exc}"] * len(group)
            for i, (j, res) in enumerate(zip(group, results, strict=True)):
                if res is not None:
                    for f in j.findings:
                        yield Left(f, f"{rt.id} could not compile {fctx.show(j.src)}: {res}")
                    continue
                with open(os.path.join(tmp, f"{i}.pyc"), "rb") as fh:
                    data = fh.read()
                note = (
                    f"recompiled by {rt.id} ({rt.executable}, {j.mode.replace('_', ' ')}"
                    f", optimisation {payload[i][3]})"
                )
                if j.dest == j.record.path:
                    yield Edit("write", j.dest, j.findings, note, data=data)
                elif fctx.reader.exists(j.dest):
                    yield Edit("write", j.dest, j.findings, note, data=data)
                    yield Edit(
                        "remove",
                        j.record.path,
                        j.findings,
                        f"another runtime's pyc in {rt.id}'s directory (replaced by "
                        f"{fctx.show(j.dest)})",
                    )
                else:
                    yield Edit("create", j.dest, j.findings, note, data=data, mode=0o644)
                    yield Edit(
                        "remove",
                        j.record.path,
                        j.findings,
                        f"another runtime's pyc in {rt.id}'s directory (replaced by "
                        f"{fctx.show(j.dest)})",
                    )


def fix(fctx: FixContext, findings: list[Finding]) -> Iterator[Edit | Left]:
    """Recompile, replace or drop each reported pyc (once per file)."""
    actx = fctx.actx
    records = {r.path: r for r in actx.records}
    sources = {r.import_path: r for r in actx.records if r.kind == "source"}
    wheel = actx.info.format == "wheel"
    drop = fctx.options.drop_bytecode and actx.profile.name == "debian"
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.path or "", []).append(f)
    jobs: list[_Job] = []
    for path, group in by_path.items():
        r = records.get(path)
        if r is None or r.pyc_location is None or r.pyc_header is None:
            for f in group:
                yield Left(f, "not a bytecode file of this package")
            continue
        loc = r.pyc_location
        if loc.ext == "pyo" or drop:
            why = (
                "no Python 3.5+ reads .pyo files (PEP 488)"
                if loc.ext == "pyo"
                else "the profile ships no bytecode (py3compile compiles at install time)"
            )
            yield Edit("remove", path, tuple(group), why)
            continue
        src = sources.get(loc.source)
        if src is None:
            for f in group:
                yield Left(f, f"no source {posixpath.basename(loc.source)} to compile")
            continue
        version = _version_of(fctx, r)
        if (
            not loc.pycache
            and version is not None
            and version >= (3, 2)
            and r.scope.kind == "versioned"
        ):
            # PEP 3147: with the source beside it, a 3.2+ runtime compiles the source into
            # __pycache__ and never reads a legacy NAME.pyc (SourceFileLoader); dead weight.
            yield Edit(
                "remove",
                path,
                tuple(group),
                f"legacy pyc beside {src.path}: Python "
                f"{version[0]}.{version[1]} never reads it (PEP 3147)",
            )
            continue
        if version is None:
            for f in group:
                yield Left(f, "not a CPython pyc (only CPython bytecode is recompiled)")
            continue
        rt = _interpreter(fctx, version)
        if rt is None:
            extra = " or --drop-bytecode" if actx.profile.name == "debian" else ""
            for f in group:
                yield Left(
                    f,
                    f"no CPython {version[0]}.{version[1]} on this machine to "
                    f"recompile with (--python PATH{extra})",
                )
            continue
        dest = path
        if loc.pycache and loc.cache_tag != rt.cache_tag and rt.cache_tag:
            opt = f".opt-{loc.opt}" if loc.opt else ""
            stem = posixpath.basename(loc.source)[:-3]
            dest = posixpath.join(posixpath.dirname(path), f"{stem}.{rt.cache_tag}{opt}.pyc")
        jobs.append(_Job(r, tuple(group), rt, dest, _mode(r, wheel), src.path))
    if jobs:
        yield from _compile(fctx, jobs)
