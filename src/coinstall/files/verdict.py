"""File verdicts: for each file of an artifact, which runtimes can use it and why not.

:func:`classify` turns a :class:`~coinstall.artifacts.base.Member`-like record into a
:class:`FileRecord` (kind plus what was parsed from its bytes); :func:`judge` decides, for every
file and every runtime, what that runtime's import system does with it.  Both only read bytes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Literal, get_args

from coinstall.files import extension as ext
from coinstall.files import objfile, pyc
from coinstall.files.location import Scope, in_scope, scope_of
from coinstall.files.script import Shebang, parse_shebang, runs_on
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime

if TYPE_CHECKING:
    # imported where a Requires-Python is parsed: most system packages have none, and its
    # import compiles packaging's specifier pattern on every start
    from packaging.specifiers import SpecifierSet

#: Kind of file, as reported in JSON ``files[].kind``.
FileKind = Literal["bytecode", "extension", "script", "source", "pth", "metadata", "other"]
#: Every :data:`FileKind`, in that order.
KINDS: tuple[FileKind, ...] = get_args(FileKind)

_DOC_DIR = re.compile(r"^(?:usr/share/doc|usr/share/man|usr/share/licenses)/")
#: Program directories (FHS): where a file with a shebang is a script whatever its name.
_BIN_DIR = re.compile(r"^(?:usr/(?:local/)?)?(?:s?bin|games)/[^/]+$")
_WHEEL_DATA = re.compile(r"^[^/]+\.data/(?P<key>[^/]+)/(?P<rest>.+)$")
#: The scope of every wheel member (frozen: shared by all, as :func:`scope_of` shares its).
_ANY = Scope("any")
_TAGGED = re.compile(r"\.(?:cpython-|abi3|abi3t|pypy|cp\d+|graalpy)[^/]*\.(?:so|pyd)$")


@dataclass(slots=True)  # an archive run keeps every package's records for the set-scope
class FileRecord:  # rules: 176 bytes a record instead of 232 (setrules.context_of)
    """One regular file of an artifact, with what its bytes say.

    Attributes:
        path: the member path (see :class:`~coinstall.artifacts.base.Member`).
        import_path: the path the import system sees: for wheels ``.data/purelib`` and
            ``.data/platlib`` prefixes removed, else ``path``.
        kind: a :data:`FileKind`.
        scope: the Python directory the file lies in.
        abs_path: the file's absolute path on this machine for installed trees, else None.
        size, mode, mtime: from the archive.
        pyc_header, pyc_location: for bytecode.
        elf, elf_problem: for extension modules (``elf`` None and no problem: not ELF;
            ``elf_problem`` also holds a corrupt Mach-O or PE header's message).
        binary: a Mach-O or PE extension module's identification (macOS, Windows).
        shebang: for scripts, and for executable sources (a module that can also be run).
        requires_python: for metadata files, the Requires-Python specifier (None if absent).
        record_paths: for ``dist-info/METADATA``, the paths its ``RECORD`` lists (import paths).
        sha256: hex SHA-256 of the content, when the caller asked for digests (``coinstall
            check`` does with several artifacts, for ``file-conflict``); None otherwise.
    """

    path: str
    import_path: str
    kind: FileKind
    scope: Scope
    abs_path: str | None = None
    size: int = 0
    mode: int | None = None
    mtime: int | None = None
    pyc_header: pyc.PycHeader | None = None
    pyc_location: pyc.PycLocation | None = None
    elf: ext.ElfInfo | None = None
    elf_problem: str | None = None
    binary: objfile.ObjectInfo | None = None
    shebang: Shebang | None = None
    requires_python: SpecifierSet | None = None
    requires_python_text: str | None = None
    sha256: str | None = None


@dataclass
class Judgement:
    """The verdicts for one artifact's files.

    Attributes:
        usable: ``path -> frozenset of runtime ids`` that can use the file (files of kind
            ``other`` are absent: no runtime decision applies).
        reasons: ``path -> {runtime id: reason}`` for the runtimes that cannot.
        cannot_tell: ``path -> frozenset of runtime ids`` whose verdict the file's bytes leave
            open (an untagged module whose symbols fit several CPython lines: "built for one of
            3.10-3.12; cannot tell which"); they are not in ``usable`` and their reason is in
            ``reasons``.  Only files with such runtimes have an entry.
    """

    usable: dict[str, frozenset[str]] = field(default_factory=dict)
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)
    cannot_tell: dict[str, frozenset[str]] = field(default_factory=dict)


def wants_content(path: str, size: int) -> bool:
    """Which members classification needs whole: extension modules (ELF header, init symbol),
    metadata files and RECORD files.  Passed to the readers as ``want_content``."""
    if ext.is_extension_name(path):
        return True
    base = path[path.rfind("/") + 1 :]  # posixpath.basename, without its call overhead
    if base in ("METADATA", "RECORD", "PKG-INFO"):  # asked for every member: decide others fast
        parent = posixpath.basename(posixpath.dirname(path))
        if parent.endswith(".dist-info") and base in ("METADATA", "RECORD"):
            return True
        if parent.endswith(".egg-info") and base == "PKG-INFO":
            return True
    return path.endswith(".egg-info") and size < 1 << 20


def wants_content_for_kind(path: str, size: int) -> bool:
    """What classification needs whole to tell each file's kind and nothing more: an untagged
    extension name (``_yaml.so``), a module only if its init symbol is in it
    (:func:`_looks_like_extension`).  ``want_content`` of a run that analyses no file
    (``classify(analyse=False)``)."""
    return ext.is_extension_name(path) and not _TAGGED.search(path[path.rfind("/") + 1 :])


def wants_head_for_kind(path: str, mode: int) -> bool:
    """Whether :func:`classify` reads a member's first bytes: a bytecode name (the pyc
    header), a file in a program directory or a wheel's ``.data/`` (a shebang makes it a
    script), an executable file (its shebang).  Any other file's kind, scope and shebang (None)
    follow from its path and mode alone (what it reads whole, :func:`wants_content` or
    :func:`wants_content_for_kind` asks for).  ``want_head`` of every run, for a directory's
    reader: it then opens no other file (the machine view's 56,000 files: 37,000 fewer
    opened)."""
    return bool(
        mode & 0o111 or pyc.locate(path) is not None or _BIN_DIR.search(path) or ".data/" in path
    )


def _import_path(path: str, fmt: str) -> tuple[str, str | None]:
    """(import path, wheel data key) of a member."""
    if fmt != "wheel":
        return path, None
    m = _WHEEL_DATA.match(path)
    if not m:
        return path, None
    if m["key"] in ("purelib", "platlib"):
        return m["rest"], None
    return path, m["key"]


def install_path(fmt: str, rec: FileRecord) -> str:
    """Where the file ``rec`` of an artifact of format ``fmt`` (``"wheel"``, ``"deb"``, …)
    lands: a system package's member path is its installed path; a wheel's is relative to
    the installation scheme's key (PEP 427, "The .data directory"; pypa/installer): the root,
    ``purelib`` and ``platlib`` go to the site directory (the import path), any other key
    to its own directory, written ``<scripts>/foo`` for ``foo.data/scripts/foo``."""
    if fmt != "wheel":
        return rec.path
    m = _WHEEL_DATA.match(rec.path)
    if m is None or m["key"] in ("purelib", "platlib"):
        return rec.import_path
    return f"<{m['key']}>/{m['rest']}"


def _looks_like_extension(name: str, content: bytes | IO[bytes] | None) -> bool:
    if _TAGGED.search(name):
        return True
    if content is None:
        return False
    stem = name.split(".", 1)[0]
    stem2 = stem[: -len("module")] if stem.endswith("module") else stem
    # The init symbol's name sits in the dynamic string table (PEP 489 PyInit_<name>; Python 2
    # init<name>).  A byte search is enough to tell a module from a plain shared library.
    needles = [
        n
        for s in {stem, stem2}
        if s
        for n in (
            b"\0PyInit_" + s.encode() + b"\0",
            b"\0_PyInit_" + s.encode() + b"\0",  # Mach-O: leading "_"
            b"\0init" + s.encode() + b"\0",
        )
    ]
    if isinstance(content, bytes):
        return any(n in content for n in needles)
    # A spooled member: search it in 1 MiB windows that overlap by the longest needle.
    keep = max(map(len, needles), default=0)
    content.seek(0)
    tail = b""
    while chunk := content.read(1 << 20):
        window = tail + chunk
        if any(n in window for n in needles):
            return True
        tail = window[-keep:]
    return False


def classify(
    *,
    path: str,
    fmt: str,
    head: bytes,
    content: bytes | None,
    size: int,
    mode: int | None,
    mtime: int | None,
    catalogue: Catalogue,
    root: str | None = None,
    spool: IO[bytes] | None = None,
    analyse: bool = True,
) -> FileRecord:
    """Classify one regular file.

    Args:
        path: member path; fmt: the artifact format (``wheel``, ``deb``, ``rpm``, ``tree``);
        head, content: its first bytes and, where :func:`wants_content` asked, all of it;
        spool: instead of ``content``, a temporary file holding it, for a member above the
            ``content-mb`` limit (:attr:`coinstall.artifacts.base.Member.spool`);
        size, mode, mtime: from the archive; root: the tree's absolute directory for ``tree``.
        analyse: False to leave out the object-file and metadata analysis (``elf``,
            ``binary``, ``elf_problem``, ``requires_python``), for rules that read only heads
            (:attr:`coinstall.rules.Rule.heads_only`); the kind is the same either way.
    """
    ipath, data_key = _import_path(path, fmt)
    abs_path = None
    if root is not None:  # posixpath.join, without its call overhead (a tree's every file)
        if path[:1] == "/":
            abs_path = path
        else:
            abs_path = f"{root}{path}" if root[-1:] in ("/", "") else f"{root}/{path}"
    scope_path = ipath if fmt != "tree" else (abs_path or ipath).lstrip("/")
    scope = _ANY if fmt == "wheel" else scope_of(scope_path)
    rec = FileRecord(
        path=path,
        import_path=ipath,
        kind="other",
        scope=scope,
        abs_path=abs_path,
        size=size,
        mode=mode,
        mtime=mtime,
    )
    name = ipath[ipath.rfind("/") + 1 :]  # posixpath.basename, without its call overhead
    if data_key == "scripts":
        sb = parse_shebang(head)
        rec.kind = "script" if sb is not None else "other"
        rec.shebang = sb
        return rec
    if data_key is not None:
        return rec
    loc = pyc.locate(ipath)
    if loc is not None:
        rec.kind = "bytecode"
        rec.pyc_location = loc
        rec.pyc_header = pyc.parse_header(head, catalogue)
        return rec
    whole: bytes | IO[bytes] | None = content if content is not None else spool
    if ext.is_extension_name(name) and _looks_like_extension(name, whole):
        rec.kind = "extension"
        # The symbol table matters where the name does not pin one runtime: untagged names
        # (any CPython may find them) and stable-ABI names (any version from the baseline on);
        # and for a CPython version-tagged ELF name, whose imports must exist in the runtime
        # the tag names (issue 18: a cp312 module renamed .cpython-311-... fails on 3.11 with
        # an undefined symbol).  Only ELF: the export tables are Linux interpreters'.
        if not analyse:
            return rec
        untagged_or_abi3 = not _TAGGED.search(name) or ".abi3" in name
        try:
            rec.elf = ext.read_elf(
                whole if whole is not None else head,
                symbols=untagged_or_abi3 or ".cpython-" in name,
            )
            if rec.elf is None:
                # Mach-O and PE are parsed from bytes: a spooled one (above content-mb) is
                # read from its head only, and its problem says it was cut short.
                data = content if content is not None else head
                rec.binary = objfile.read_object(data, symbols=untagged_or_abi3)
        except ValueError as exc:
            rec.elf_problem = str(exc)
        return rec
    if _BIN_DIR.search(ipath) and not _DOC_DIR.match(ipath):
        sb = parse_shebang(head)
        if sb is not None:
            rec.kind = "script"
            rec.shebang = sb
            return rec
    # the parent directory's name matters only for these two names (most files are neither)
    parent = (
        posixpath.basename(posixpath.dirname(ipath)) if name in ("METADATA", "PKG-INFO") else ""
    )
    if (
        (parent.endswith(".dist-info") and name == "METADATA")
        or (parent.endswith(".egg-info") and name == "PKG-INFO")
        or (name.endswith(".egg-info") and "/" not in ipath[len(scope.root) :])
    ):
        rec.kind = "metadata"
        if content is not None and analyse:
            from packaging.metadata import parse_email  # email.*: only for metadata files

            raw, _ = parse_email(content)
            text = raw.get("requires_python")
            if text:
                from packaging.specifiers import InvalidSpecifier, SpecifierSet

                rec.requires_python_text = str(text)
                try:
                    rec.requires_python = SpecifierSet(str(text))
                except InvalidSpecifier:
                    rec.requires_python = None
        return rec
    if name.endswith((".py", ".pyw")) and not _DOC_DIR.match(ipath):
        rec.kind = "source"
        if mode is not None and mode & 0o111:  # an executable module can be run directly
            rec.shebang = parse_shebang(head)
        return rec
    if name.endswith(".pth") and (fmt == "wheel" or scope.site):
        rec.kind = "pth"
        return rec
    sb = parse_shebang(head) if not _DOC_DIR.match(ipath) else None
    if sb is not None and mode is not None and mode & 0o111:
        rec.kind = "script"
        rec.shebang = sb
    return rec


def _version_for_specifier(rt: Runtime) -> str:
    if rt.full_version:
        return rt.full_version
    # A catalogue runtime stands for every micro release of its line.
    return f"{rt.version[0]}.{rt.version[1]}.999"


def _site_root(rec: FileRecord) -> str:
    """The site directory a file belongs to, for attributing Requires-Python."""
    if rec.scope.root:
        return rec.scope.root
    for marker in ("site-packages/", "dist-packages/"):
        i = rec.import_path.find(marker)
        if i >= 0:
            return rec.import_path[: i + len(marker)]
    return ""


def _is_package_init(name: str) -> bool:
    return name in ("__init__.py", "__init__.pyc") or (
        name.startswith("__init__.") and ext.is_extension_name(name)
    )


def judge(records: Sequence[FileRecord], runtimes: Iterable[Runtime]) -> Judgement:
    """Decide, for every record and runtime, whether the runtime can use the file.

    Rules per kind: bytecode :func:`coinstall.files.pyc.usable`; extension modules
    :func:`coinstall.files.extension.module_name` (suffix list, dotless module name), the
    shadowing ``FileFinder`` order implies (a package directory, or the same module name with an
    earlier suffix in the same directory), and :func:`~coinstall.files.extension.elf_mismatch`;
    scripts :func:`coinstall.files.script.runs_on`; every kind but scripts must be on the
    runtime's import path (:func:`coinstall.files.location.in_scope`); sources, ``.pth`` files
    and metadata follow their distribution's Requires-Python where one covers their site
    directory.
    """
    rts = list(runtimes)
    out = Judgement()
    paths = {r.import_path for r in records}
    # A package is a directory whose __init__ some loader takes (.py, .pyc, an extension
    # module; CPython FileFinder): type stubs (__init__.pyi) make no package.
    dirs_with_init = {
        posixpath.dirname(p) for p in paths if _is_package_init(p[p.rfind("/") + 1 :])
    }  # the base name
    by_dir: dict[str, list[FileRecord]] = {}
    requires: dict[str, tuple[SpecifierSet, str]] = {}
    for r in records:
        if r.kind == "extension":
            by_dir.setdefault(posixpath.dirname(r.import_path), []).append(r)
        if r.kind == "metadata" and r.requires_python is not None:
            root = _site_root(r)
            if root in requires:  # several distributions share the root: cannot attribute
                from packaging.specifiers import SpecifierSet

                requires[root] = (SpecifierSet(), "")
            else:
                requires[root] = (r.requires_python, r.requires_python_text or "")

    # Requires-Python is decided once per (site root, runtime), not once per file: a wheel such
    # as Django's has thousands of sources under one root.
    excluded: dict[tuple[str, str], str | None] = {}
    # Likewise the import-path verdict (:func:`~coinstall.files.location.in_scope`) of a file
    # depends only on its directory: decided once per directory for every runtime, not once per
    # file and runtime (a third of check's CPU on the RPM corpus went to in_scope before,
    # benchmarks/startup_bench.py; the machine view's 56,000 files x 26 runtimes made 1.5
    # million calls).  A package member (no absolute path) is keyed by its scope's root
    # (``usr/lib/python3.11/``), which fixes its kind, implementation, version and build
    # (hashing the Scope dataclass itself costs more); a file of an installed tree by its
    # absolute directory, whose scope it is and whose ``sys.path`` prefixes decide (an entry
    # ``E/`` prefixes ``D/NAME`` exactly when it prefixes ``D/``: a name has no ``/``).
    scoped: dict[str, list[str | None]] = {}
    scoped_abs: dict[str, list[str | None]] = {}
    # Only an installed runtime that told its sys.path reads the absolute path; for the others
    # (the catalogue's) the scope alone decides, as for a package member.
    by_path = [i for i, rt in enumerate(rts) if rt.installed and rt.sys_path]

    def scope_reasons(r: FileRecord) -> list[str | None]:
        got = scoped.get(r.scope.root)
        if got is None:
            got = scoped[r.scope.root] = [in_scope(r.scope, rt, None) for rt in rts]
        a = r.abs_path
        if a is None:
            return got
        d = a[: a.rfind("/") + 1]
        mine = scoped_abs.get(d)
        if mine is None:
            mine = scoped_abs[d] = list(got)
            for i in by_path:
                mine[i] = in_scope(r.scope, rts[i], a)
        return mine

    def spec_reason(root: str, rt: Runtime) -> str | None:
        key = (root, rt.id)
        if key not in excluded:
            spec = requires.get(root)
            excluded[key] = None
            if (
                spec is not None
                and spec[1]
                and not spec[0].contains(_version_for_specifier(rt), prereleases=True)
            ):
                excluded[key] = f"Requires-Python {spec[1]} excludes {rt.id}"
        return excluded[key]

    # Sources, .pth files and metadata without Requires-Python of one scope, directory and
    # site root get the same verdict from every runtime: decided once per class and shared
    # (the frozenset and the reasons dict), so a wheel of 100,000 sources costs a few
    # hundred judgements, not 100,000 x runtimes (benchmarks/hostile_bench.py measures it).
    shared: dict[tuple[object, ...], tuple[frozenset[str], dict[str, str]]] = {}
    for r in records:
        if r.kind == "other":
            continue
        site_root = _site_root(r) if r.kind in ("source", "pth", "metadata") else None
        key: tuple[object, ...] | None = None
        if site_root is not None and r.requires_python is None:
            key = (
                r.kind,
                r.scope,
                site_root,
                posixpath.dirname(r.abs_path) if r.abs_path is not None else None,
            )
            done = shared.get(key)
            if done is not None:
                out.usable[r.path], out.reasons[r.path] = done
                continue
        ok: set[str] = set()
        why: dict[str, str] = {}
        if r.kind == "script":  # a script runs wherever its interpreter line points
            assert r.shebang is not None
            for rt in rts:
                reason = runs_on(r.shebang, rt)
                if reason is None:
                    ok.add(rt.id)
                else:
                    why[rt.id] = reason
        else:
            for rt, reason in zip(rts, scope_reasons(r), strict=True):
                if reason is None:
                    reason = _judge_kind(
                        r,
                        rt,
                        paths,
                        dirs_with_init,
                        by_dir,
                        spec_reason(site_root, rt) if site_root is not None else None,
                    )
                if reason is None:
                    ok.add(rt.id)
                else:
                    why[rt.id] = reason
        out.usable[r.path] = frozenset(ok)
        out.reasons[r.path] = why
        if r.kind == "extension":
            open_ = frozenset(i for i, w in why.items() if isinstance(w, ext.CannotTell))
            if open_:
                out.cannot_tell[r.path] = open_
        if key is not None:
            shared[key] = (out.usable[r.path], why)
    return out


def _judge_kind(
    r: FileRecord,
    rt: Runtime,
    paths: set[str],
    dirs_with_init: set[str],
    by_dir: dict[str, list[FileRecord]],
    excluded_by_spec: str | None,
) -> str | None:
    """The verdict of a file that is not a script and lies on ``rt``'s import path
    (:func:`~coinstall.files.location.in_scope` said so): by its kind."""
    if r.kind == "bytecode":
        assert r.pyc_header is not None and r.pyc_location is not None
        return pyc.usable(r.pyc_header, r.pyc_location, rt, r.pyc_location.source in paths)
    if r.kind == "extension":
        return _judge_extension(r, rt, dirs_with_init, by_dir)
    if (
        r.kind == "metadata"
        and r.requires_python is not None
        and not r.requires_python.contains(_version_for_specifier(rt), prereleases=True)
    ):
        return f"Requires-Python {r.requires_python_text} excludes {rt.id}"
    return excluded_by_spec


def _judge_extension(
    r: FileRecord,
    rt: Runtime,
    dirs_with_init: set[str],
    by_dir: dict[str, list[FileRecord]],
) -> str | None:
    name = posixpath.basename(r.import_path)
    found = ext.module_name(name, rt)
    if found is None:
        tag = rt.extension_suffixes[0] if rt.extension_suffixes else "(none)"
        return f"suffix not in {rt.id}'s EXTENSION_SUFFIXES (its tag is {tag})"
    stem, index = found
    directory = posixpath.dirname(r.import_path)
    if posixpath.join(directory, stem) in dirs_with_init:
        return f"shadowed by package directory {stem}/ (FileFinder tries packages first)"
    for other in by_dir.get(directory, ()):
        if other is r:
            continue
        o = ext.module_name(posixpath.basename(other.import_path), rt)
        if o is not None and o[0] == stem and o[1] < index:
            return f"shadowed by {posixpath.basename(other.import_path)} (earlier suffix)"
    if r.elf_problem:
        return r.elf_problem
    obj: ext.LinkInfo | None = r.elf if r.elf is not None else r.binary
    n = ext.parse_ext_name(name)
    kind = n.kind if n is not None else "untagged"
    if r.binary is not None and r.binary.format == "pe" and r.binary.python_dll == "python3.dll":
        kind = "abi3"  # Windows: a stable-ABI module is a plain .pyd linked to python3.dll
    return (
        ext.elf_mismatch(r.elf, rt)
        or objfile.object_mismatch(
            r.binary, rt.platform, rt.machine, rt.id, rt.version, rt.abiflags, rt.implementation
        )
        or ext.init_mismatch(obj, stem, rt)
        or ext.stable_abi_build_mismatch(kind, rt)
        # a PE module linked to pythonXY.dll is version-specific: no stable-ABI baseline
        # an untagged ELF module: its imported symbols decide (or leave it open); the
        # stable-ABI baseline means nothing for a full-API one (the manifest dates when a
        # symbol was stabilised, not when it appeared)
        or (
            ext.untagged_mismatch(r.elf, rt)
            if kind == "untagged" and r.elf is not None
            else ext.tagged_mismatch(r.elf, rt)
            if kind == "soabi"
            else None
            if r.binary is not None and r.binary.python_dll is not None and not r.binary.stable_abi
            else ext.symbols_mismatch(obj, rt)
        )
    )
