"""Repository indices: Debian ``Packages``/``Sources`` and RPM ``repodata``, read as records.

Readers know no policy: they turn an index into :class:`BinaryRecord` and :class:`SourceRecord`
values and report what they could not read as :class:`IndexProblem` (file, line, message).

Formats:

* Debian control files (Debian Policy §5.1, "Syntax of control files"; ``Packages`` and
  ``Sources`` as written by dak/apt-ftparchive): paragraphs separated by blank lines, fields
  ``Name: value`` with continuation lines starting with a space or tab.  Compressed with gzip,
  xz, lz4 (apt's own lists under ``/var/lib/apt/lists``), zstd or bzip2, told apart by magic
  number, not by name.
* RPM repository metadata (createrepo_c, ``repodata/repomd.xml``): ``primary`` (name, arch,
  version, ``rpm:sourcerpm``, ``rpm:provides``/``rpm:requires`` entries) and ``filelists``
  (one ``<file>`` per path), each gzip/xz/zstd compressed.  Namespaces
  ``http://linux.duke.edu/metadata/common``, ``.../rpm``, ``.../filelists``, ``.../repo``.

The control-file parser is our own (glue): python-debian's ``deb822`` parses every field of
every paragraph in Python, too slow on a full ``Packages`` file (measured:
``benchmarks/plan_bench.py``); apt's C parser (``apt_pkg``) is not installable from PyPI.  Here a
paragraph is split into fields by one compiled regular expression and only the fields the
planner reads are kept.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from coinstall.artifacts import ArtifactError, open_regular
from coinstall.artifacts import limits as limits_mod
from coinstall.artifacts.base import exc_line
from coinstall.artifacts.compression import Compression, kind_of_magic, open_decompressed
from coinstall.artifacts.limits import CHUNK, RATIO_FLOOR

if TYPE_CHECKING:  # imported by the RPM readers: a Debian index needs no XML parser
    import xml.etree.ElementTree as ET

#: Fields kept from a ``Packages`` paragraph.
BINARY_FIELDS = (
    "Package",
    "Source",
    "Version",
    "Architecture",
    "Depends",
    "Pre-Depends",
    "Provides",
)
#: Fields kept from a ``Sources`` paragraph.
SOURCE_FIELDS = (
    "Package",
    "Version",
    "Binary",
    "Architecture",
    "Build-Depends",
    "Build-Depends-Arch",
    "Build-Depends-Indep",
    "Extra-Source-Only",
)


class PackageIndexError(Exception):
    """A package index (Debian Packages/Sources, RPM repodata) that cannot be read at all
    (missing, corrupt compression, not an index).

    Attributes:
        path: the file.
        message: one line, no traceback.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class IndexProblem:
    """A paragraph or entry that was skipped (``line`` 1-based, 0 when unknown)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(slots=True)
class BinaryRecord:
    """One binary package of an index.

    Attributes:
        name, version, arch: ``Package``/``Version``/``Architecture`` (Debian) or RPM
            ``name``/``[epoch:]version-release``/``arch``.
        source: the source package name (Debian ``Source`` without its version, defaulting to
            ``Package``; RPM ``sourcerpm`` without ``-version-release.src.rpm``).
        depends: Debian ``Pre-Depends`` and ``Depends`` joined by ``", "``, or RPM requires as
            ``name [op version]`` strings joined by ``", "``.
        provides: same for ``Provides``.
        files: installed paths (RPM filelists, artifact members); empty for Debian indices,
            which carry none.
        syntax: ``"deb"`` or ``"rpm"``: how to read ``depends``/``provides``.
        origin: ``file:line`` where the record starts.
        stable_abi_baseline: ``"3.7"``: the newest CPython version whose stable-ABI symbols
            the package's ``.abi3.so`` modules import (read from artifacts only; ``""`` when
            unknown).
    """

    name: str
    version: str
    arch: str
    source: str
    depends: str = ""
    provides: str = ""
    files: tuple[str, ...] = ()
    syntax: str = "deb"
    origin: str = ""
    stable_abi_baseline: str = ""


@dataclass(slots=True)
class SourceRecord:
    """One source package.

    Attributes:
        name, version: ``Package``/``Version`` of a ``Sources`` paragraph (RPM: the ``.src``
            package's name and version).
        binaries: the binary package names it builds (Debian ``Binary``; RPM: names whose
            ``sourcerpm`` is this source).
        build_depends: ``Build-Depends``, ``Build-Depends-Arch``, ``Build-Depends-Indep``
            joined by ``", "`` (RPM: the source package's requires, i.e. BuildRequires).
        arch: Debian ``Architecture`` (``any``, ``all``, ``any all``, list of arches).
        syntax, origin: as for :class:`BinaryRecord`.
    """

    name: str
    version: str
    binaries: tuple[str, ...] = ()
    build_depends: str = ""
    arch: str = ""
    syntax: str = "deb"
    origin: str = ""


@dataclass
class Index:
    """What one or more index files hold.

    Attributes:
        binaries: every binary record, in file order.
        sources: source records by name (the highest version when several appear).
        problems: skipped paragraphs and entries.
        files: the index files read.
        binaries_total, sources_total: paragraphs/packages in the files, including those a
            ``select`` filter left unparsed.
        source_names: every source name a Debian ``Sources`` file lists, parsed or not,
            except names that appear only in ``Extra-Source-Only`` paragraphs (distinct
            sources, where ``sources_total`` counts paragraphs); empty for RPM metadata.
        suite: the Debian suite read (``coinstall.plan.load``), None when unknown.
    """

    binaries: list[BinaryRecord] = field(default_factory=list)
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    problems: list[IndexProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    binaries_total: int = 0
    sources_total: int = 0
    source_names: set[str] = field(default_factory=set)
    suite: str | None = None

    def extend(self, other: Index) -> None:
        """Add ``other``'s records (sources: a later file wins over an earlier one)."""
        self.binaries_total += other.binaries_total
        self.sources_total += other.sources_total
        self.binaries.extend(other.binaries)
        self.sources.update(other.sources)
        self.problems.extend(other.problems)
        self.files.extend(other.files)
        self.source_names |= other.source_names


# --- decompression -------------------------------------------------------------------------


def _open_file(path: str) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file (a FIFO, socket or device is
    refused unopened: :func:`coinstall.artifacts.open_regular`).

    Raises:
        PackageIndexError: missing, unreadable or not a regular file.
    """
    try:
        return os.fdopen(open_regular(path), "rb")
    except ArtifactError as e:
        raise PackageIndexError(path, str(e)) from None


def read_bytes(path: str) -> bytes:
    """The decompressed content of ``path`` (compression recognised by magic number), read as
    a stream and refused past the ``index-mb`` limit (a decompression bomb stops there).

    Raises:
        PackageIndexError: unreadable file, truncated or corrupt compressed stream, or larger than
            the limit.
    """
    return _read(path, None)


def read_bytes_digest(path: str) -> tuple[bytes, str]:
    """:func:`read_bytes`, and the hex SHA-256 of the file's own (compressed) bytes, the very
    bytes that were decompressed: the file is read once, into memory (refused past the
    ``index-mb`` limit like its content), then hashed and decompressed from there.

    Raises:
        PackageIndexError: as :func:`read_bytes`.
    """
    digest: list[str] = []
    data = _read(path, digest)
    return data, digest[0]


def _read(path: str, digest: list[str] | None) -> bytes:
    """:func:`read_bytes`; with ``digest``, the file's SHA-256 is appended to it."""
    try:
        if digest is None:
            stream = _open_stream(path)
        else:
            cap = limits_mod.default().index_mb << 20
            with _open_file(path) as f:
                blocks: list[bytes] = []
                got = 0
                while block := f.read(CHUNK):
                    got += len(block)
                    if got > cap:
                        raise PackageIndexError(
                            path, f"larger than {cap >> 20} MB (limit index-mb)"
                        )
                    blocks.append(block)
            raw = b"".join(blocks)
            del blocks
            digest.append(hashlib.sha256(raw).hexdigest())
            stream = open_decompressed(io.BytesIO(raw), kind_of_magic(raw[:8]) or "none")
        with stream:
            capped = _Capped(stream, path)
            parts: list[bytes] = []
            while chunk := capped.read(CHUNK):
                parts.append(chunk)
    except PackageIndexError:
        raise
    except Exception as e:  # the decompressors raise open-ended errors on damage
        kind = _kind(path)
        what = f"{kind} data" if kind else "data"
        raise PackageIndexError(path, f"corrupt or truncated {what} ({exc_line(e)})") from None
    return b"".join(parts)


def _kind(path: str) -> Compression | None:
    try:
        with _open_file(path) as f:
            return kind_of_magic(f.read(8))
    except PackageIndexError:
        return None


def _open_stream(path: str) -> IO[bytes]:
    """A decompressing binary stream (gzip, xz, bzip2, zstd, lz4 or none, by magic number:
    :mod:`coinstall.artifacts.compression`) over a regular file; XML metadata is parsed from
    it incrementally."""
    f = _open_file(path)
    try:
        kind = kind_of_magic(f.read(8))
        f.seek(0)
        return open_decompressed(f, kind or "none")
    except BaseException:
        f.close()
        raise


# --- Debian control files --------------------------------------------------------------------

#: A line of a paragraph that is neither a continuation, a comment nor ``Field:``.
_BAD_LINE = re.compile(rb"^(?![ \t#])([^:\n]+)$", re.M)
_PARA_BREAK = re.compile(rb"\n\n+")


def _field_re(names: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(n) for n in names)
    return re.compile(rf"^({alt}):[ \t]*(.*(?:\n[ \t].*)*)", re.M | re.I)


_BIN_RE = _field_re(BINARY_FIELDS)
_SRC_RE = _field_re(SOURCE_FIELDS)
_CANON = {n.lower(): n for n in BINARY_FIELDS + SOURCE_FIELDS}


def _spans(data: bytes, select: bytes | None) -> list[tuple[int, int]]:
    """``(start, end)`` of every paragraph, or only of those containing ``select``."""
    out: list[tuple[int, int]] = []
    n = len(data)
    if select is None:
        pos = 0
        for m in _PARA_BREAK.finditer(data):
            if m.start() > pos:
                out.append((pos, m.start()))
            pos = m.end()
        if pos < n and data[pos:].strip():
            out.append((pos, n))
        return out
    pos = 0
    while True:
        i = data.find(select, pos)
        if i < 0:
            return out
        start = data.rfind(b"\n\n", 0, i)
        start = 0 if start < 0 else start + 2
        end = data.find(b"\n\n", i)
        end = n if end < 0 else end
        out.append((start, end))
        pos = end


def paragraphs(
    data: bytes,
    path: str,
    names: tuple[str, ...],
    problems: list[IndexProblem],
    select: bytes | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, fields)`` for the paragraphs of a control file, keeping ``names`` only.

    Args:
        data: the whole (decompressed) file.
        path: for messages.
        names: the fields to keep.  Field names are matched case-insensitively (Policy §5.1)
            and returned in the spelling of ``names``; multi-line values keep their newlines.
        problems: receives one :class:`IndexProblem` per skipped paragraph.
        select: when given, only paragraphs containing these bytes anywhere are parsed (a
            grep-dctrl-like pre-filter); the others are neither parsed nor checked.

    A paragraph holding a line that is not a field, a continuation or a comment, or the same
    field twice (two paragraphs run together), is reported with its line and skipped; text
    that is not UTF-8 is reported and decoded with replacement characters.
    """
    rx = (
        _BIN_RE
        if names == BINARY_FIELDS
        else _SRC_RE
        if names == SOURCE_FIELDS
        else _field_re(names)
    )
    line = 1
    prev = 0
    for start, end in _spans(data, select):
        line += data.count(b"\n", prev, start)
        prev = start
        raw = data[start:end]
        bad = _BAD_LINE.search(raw)
        if bad:
            snippet = bad[1][:60].decode("utf-8", "replace")
            problems.append(
                IndexProblem(
                    path,
                    line + raw.count(b"\n", 0, bad.start()),
                    f"not a field or continuation line: {snippet!r}; paragraph skipped",
                )
            )
            continue
        try:
            para = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(
                IndexProblem(path, line + raw.count(b"\n", 0, e.start), "not UTF-8; bytes replaced")
            )
            para = raw.decode("utf-8", "replace")
        pairs = rx.findall(para)
        fields = {_CANON.get(k.lower(), k): v for k, v in pairs}
        if len(fields) != len(pairs):
            seen: set[str] = set()
            dup = ""
            for k, _ in pairs:
                if k.lower() in seen:
                    dup = k
                    break
                seen.add(k.lower())
            problems.append(
                IndexProblem(
                    path,
                    line,
                    f"field {dup} appears twice (paragraphs run together?); paragraph skipped",
                )
            )
            continue
        yield line, fields


def count_paragraphs(data: bytes) -> int:
    """How many paragraphs ``data`` holds (runs of non-blank lines)."""
    n = len(_PARA_BREAK.findall(data)) + 1
    if data[:1] == b"\n":
        n -= 1
    if data.endswith(b"\n\n") or not data.rstrip(b"\n"):
        n -= 1
    return max(n, 0)


def _source_name(value: str, default: str) -> tuple[str, str | None]:
    """``Source: foo (1.2-3)`` -> ``("foo", "1.2-3")``."""
    if not value:
        return default, None
    name, _, rest = value.partition(" ")
    return name, rest.strip(" ()") or None


def read_packages(path: str, select: bytes | None = None) -> Index:
    """Read a Debian ``Packages`` file (any compression).

    Args:
        path: the file.
        select: parse only paragraphs containing these bytes (see :func:`paragraphs`);
            ``Index.binaries_total`` still counts every paragraph.

    Raises:
        PackageIndexError: the file cannot be read or decompressed, or holds no package at all.
    """
    return read_packages_bytes(read_bytes(path), path, select)


def read_packages_bytes(data: bytes, path: str, select: bytes | None = None) -> Index:
    """:func:`read_packages` on content already in memory (``path`` names it in messages)."""
    idx = Index(files=[path])
    idx.binaries_total = count_paragraphs(data)
    for line, f in paragraphs(data, path, BINARY_FIELDS, idx.problems, select):
        name = f.get("Package")
        missing = [k for k in ("Package", "Version", "Architecture") if not f.get(k)]
        if missing:
            idx.problems.append(
                IndexProblem(path, line, f"paragraph without {', '.join(missing)}; skipped")
            )
            continue
        assert name is not None
        src, _ = _source_name(f.get("Source", ""), name)
        deps = f.get("Depends", "")
        pre = f.get("Pre-Depends", "")
        if pre:
            deps = f"{pre}, {deps}" if deps else pre
        idx.binaries.append(
            BinaryRecord(
                name,
                f["Version"],
                f["Architecture"],
                src,
                deps.replace("\n", " "),
                f.get("Provides", "").replace("\n", " "),
                origin=f"{path}:{line}",
            )
        )
    if not idx.binaries and not idx.problems and idx.binaries_total and select is None:
        raise PackageIndexError(path, "no package paragraph found: not a Packages file")
    return idx


def read_sources(path: str, select: bytes | None = None) -> Index:
    """Read a Debian ``Sources`` file (any compression); ``Extra-Source-Only`` entries (kept
    only for licence reasons, dak) are ignored.  ``select`` as for :func:`read_packages`.

    Raises:
        PackageIndexError: the file cannot be read or decompressed, or holds no source at all.
    """
    from debian.debian_support import version_compare  # only for duplicate names

    idx = Index(files=[path])
    data = read_bytes(path)
    idx.sources_total = count_paragraphs(data)
    idx.source_names = _source_names(data)
    for line, f in paragraphs(data, path, SOURCE_FIELDS, idx.problems, select):
        missing = [k for k in ("Package", "Version") if not f.get(k)]
        if missing:
            idx.problems.append(
                IndexProblem(path, line, f"paragraph without {', '.join(missing)}; skipped")
            )
            continue
        if f.get("Extra-Source-Only", "").lower() == "yes":
            continue
        bd = ", ".join(
            v.replace("\n", " ")
            for k in ("Build-Depends", "Build-Depends-Arch", "Build-Depends-Indep")
            if (v := f.get(k, "")).strip()
        )
        binaries = tuple(
            b.strip() for b in f.get("Binary", "").replace("\n", " ").split(",") if b.strip()
        )
        rec = SourceRecord(
            f["Package"],
            f["Version"],
            binaries,
            bd,
            f.get("Architecture", ""),
            origin=f"{path}:{line}",
        )
        old = idx.sources.get(rec.name)
        if old is None or version_compare(rec.version, old.version) > 0:
            idx.sources[rec.name] = rec
    if not idx.sources and not idx.problems and idx.sources_total and select is None:
        raise PackageIndexError(path, "no source paragraph found: not a Sources file")
    return idx


#: ``Package:`` opening a paragraph (dak writes it first).  A literal ``\n\n`` prefix, not
#: ``(?:^|\n\n)``: the alternation defeats the regex engine's literal scan.
_PACKAGE_LINE = re.compile(rb"\n\nPackage:[ \t]*(\S+)")


def _source_names(data: bytes) -> set[str]:
    """Distinct ``Package`` names of a ``Sources`` file, leaving out names that have only
    ``Extra-Source-Only: yes`` paragraphs (dak keeps those for licence reasons only).  A plain
    search, not a parse: it runs over every paragraph, also those ``select`` skips."""
    from collections import Counter

    data = b"\n\n" + data  # the first paragraph too
    every = Counter(_PACKAGE_LINE.findall(data))
    extra: Counter[bytes] = Counter()
    for start, end in _spans(data, b"Extra-Source-Only: yes"):
        m = _PACKAGE_LINE.search(data, max(start - 2, 0), end)
        if m:
            extra[m[1]] += 1
    return {n.decode("utf-8", "replace") for n, k in every.items() if k > extra[n]}


def sniff_control(path: str) -> str | None:
    """``"packages"``, ``"sources"`` or None: what kind of control file ``path`` is, from its
    first paragraph (a ``Binary:`` field marks a ``Sources`` file)."""
    try:
        with _open_stream(path) as stream:
            data = b""
            while len(data) < 65536:
                chunk = stream.read(65536 - len(data))
                if not chunk:
                    break
                data += chunk
    except PackageIndexError:
        raise
    except Exception as e:  # the decompressors raise open-ended errors on damage
        raise PackageIndexError(path, f"corrupt or truncated data ({exc_line(e)})") from None
    head = data.split(b"\n\n", 1)[0]
    if not head.startswith(b"Package:") and b"\nPackage:" not in head:
        return None
    return "sources" if re.search(rb"^Binary:", head, re.M) else "packages"


# --- RPM repodata ---------------------------------------------------------------------------

_NS_COMMON = "{http://linux.duke.edu/metadata/common}"
_NS_RPM = "{http://linux.duke.edu/metadata/rpm}"
_NS_REPO = "{http://linux.duke.edu/metadata/repo}"
_NS_FL = "{http://linux.duke.edu/metadata/filelists}"
_RPM_FLAGS = {"EQ": "=", "LT": "<", "GT": ">", "LE": "<=", "GE": ">="}


def _rpm_entry(e: ET.Element) -> str:
    name = e.get("name", "")
    flags = e.get("flags")
    if not flags:
        return name
    ver = e.get("ver", "")
    if e.get("epoch") not in (None, "0"):
        ver = f"{e.get('epoch')}:{ver}"
    if e.get("rel"):
        ver = f"{ver}-{e.get('rel')}"
    return f"{name} {_RPM_FLAGS.get(flags, flags)} {ver}"


def srpm_name(sourcerpm: str) -> str:
    """``python3.11-foo-1.0-2.fc40.src.rpm`` -> ``python3.11-foo`` (name-version-release)."""
    base = sourcerpm.removesuffix(".rpm").removesuffix(".src").removesuffix(".nosrc")
    parts = base.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else base


class _Capped:
    """A stream that stops with :class:`PackageIndexError` past the ``index-mb`` limit, or past the
    ``ratio`` limit (expanded bytes per byte of the file, once past 32 MB), like the artifact
    readers' :class:`~coinstall.artifacts.limits.Budget`."""

    def __init__(self, raw: IO[bytes], path: str) -> None:
        self._raw, self._path, self._total = raw, path, 0
        lim = limits_mod.default()
        self._cap = lim.index_mb << 20
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        self._ratio_cap = max(RATIO_FLOOR, lim.ratio * max(size, 1))
        self._ratio = lim.ratio

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n if n is not None and n >= 0 else CHUNK)
        self._total += len(data)
        if self._total > self._cap:
            raise PackageIndexError(
                self._path, f"expands beyond {self._cap >> 20} MB (limit index-mb)"
            )
        if self._total > self._ratio_cap:
            raise PackageIndexError(
                self._path,
                f"expands beyond {self._total >> 20} MB, more than "
                f"{self._ratio} times the file's size (limit ratio)",
            )
        return data


def under(root: str, rel: str) -> str | None:
    """``root/rel`` if that path stays inside ``root``, else None: ``rel`` absolute, holding a
    ``..`` component or a NUL, or reaching through a symbolic link to outside ``root`` (both
    sides resolved with :func:`os.path.realpath`).  Decided from the names and the links
    alone, never from whether the file exists, so an index cannot probe for paths outside.
    (pip and installer refuse a wheel's ``RECORD`` paths that leave the target the same way.)
    """
    if not rel or "\0" in rel or os.path.isabs(rel):
        return None
    if ".." in rel.replace("\\", "/").split("/"):
        return None
    path = os.path.join(root, rel)
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    return path


def locations(repomd: str) -> dict[str, str]:
    """The metadata files an RPM repository's ``repodata/repomd.xml`` lists (createrepo_c):
    ``{"primary": PATH, "filelists": PATH}`` (filelists when listed), each ``<location
    href>`` resolved under the repository root (the directory holding ``repodata/``).

    Raises:
        PackageIndexError: ``repomd`` cannot be read or parsed (read capped as every index
            is), lists no primary, or a location leaves the repository.
    """
    import xml.etree.ElementTree as ET

    try:
        with _open_stream(repomd) as f:
            root = ET.parse(_Capped(f, repomd)).getroot()
    except PackageIndexError:
        raise
    except Exception as e:  # expat, the decompressors: open-ended errors on damage
        raise PackageIndexError(repomd, f"not a repomd.xml ({exc_line(e)})") from None
    base = os.path.dirname(os.path.dirname(os.path.abspath(repomd)))
    out: dict[str, str] = {}
    for data in root.iter(f"{_NS_REPO}data"):
        loc = data.find(f"{_NS_REPO}location")
        kind = data.get("type", "")
        if loc is not None and kind in ("primary", "filelists"):
            href = loc.get("href", "")
            path = under(base, href)
            if path is None:
                raise PackageIndexError(
                    repomd, f"{kind} location {href!r} leaves the repository {base}; not read"
                )
            out[kind] = path
    if "primary" not in out:
        raise PackageIndexError(repomd, "no primary metadata listed")
    return out


def primary_packages(prim: str) -> Iterator[tuple[int, ET.Element]]:
    """``(n, element)`` for each ``<package>`` of a ``primary.xml`` (any compression), ``n``
    counting from 1, parsed incrementally through the ``index-mb``/``ratio`` cap
    (:class:`_Capped`).  The element is cleared once the caller asks for the next one: read
    what you need from it before.  The one reader of ``primary`` for ``plan --repo`` and
    ``check --repo`` (:mod:`coinstall.archive.repo`).

    Raises:
        PackageIndexError: ``"primary unreadable after N packages (why)"``: the file is missing or
            not a regular file, its compression is damaged (any decompressor's error, lz4's
            ``RuntimeError`` included), it is not XML, or it expands past a limit.
    """
    import xml.etree.ElementTree as ET

    n = 0
    try:
        with _open_stream(prim) as stream:
            for _, el in ET.iterparse(_Capped(stream, prim)):
                if el.tag != f"{_NS_COMMON}package":
                    continue
                n += 1
                yield n, el
                el.clear()
    except Exception as e:  # expat, the decompressors, PackageIndexError: the file's problem
        why = e.message if isinstance(e, PackageIndexError) else exc_line(e)
        raise PackageIndexError(prim, f"primary unreadable after {n} packages ({why})") from None


def read_repodata(repomd: str) -> Index:
    """Read an RPM repository from its ``repodata/repomd.xml`` (primary + filelists).

    ``.src`` packages (a source repository) become :class:`SourceRecord` with their requires as
    build dependencies; binaries are grouped under their ``sourcerpm`` name.

    Raises:
        PackageIndexError: repomd.xml or primary unreadable or not XML.
    """
    locs = locations(repomd)
    idx = Index(files=[repomd])
    pkgid_files: dict[str, list[str]] = {}
    if "filelists" in locs:
        import xml.etree.ElementTree as ET

        fl = locs["filelists"]
        try:
            with _open_stream(fl) as stream:
                for _, el in ET.iterparse(_Capped(stream, fl)):
                    if el.tag == f"{_NS_FL}package":
                        pkgid_files[el.get("pkgid", "")] = [
                            (f.text or "").lstrip("/") for f in el.iter(f"{_NS_FL}file")
                        ]
                        el.clear()
        except Exception as e:  # expat, the decompressors, PackageIndexError: the file's problem
            why = e.message if isinstance(e, PackageIndexError) else exc_line(e)
            idx.problems.append(
                IndexProblem(fl, 0, f"filelists unreadable ({why}); planning from primary only")
            )
    prim = locs["primary"]
    srcs: dict[str, list[str]] = {}
    for n, el in primary_packages(prim):
        rec = _rpm_record(el, prim, n, pkgid_files)
        if isinstance(rec, IndexProblem):
            idx.problems.append(rec)
        elif isinstance(rec, SourceRecord):
            idx.sources[rec.name] = rec
        else:
            idx.binaries.append(rec)
            srcs.setdefault(rec.source, []).append(rec.name)
    idx.files.append(prim)
    for name, bins in srcs.items():
        s = idx.sources.get(name)
        if s is None:
            idx.sources[name] = SourceRecord(name, "", tuple(bins), syntax="rpm", origin=f"{prim}")
        else:
            s.binaries = tuple(bins)
    return idx


def _rpm_record(
    el: ET.Element, path: str, n: int, pkgid_files: dict[str, list[str]]
) -> BinaryRecord | SourceRecord | IndexProblem:
    name = el.findtext(f"{_NS_COMMON}name")
    arch = el.findtext(f"{_NS_COMMON}arch")
    v = el.find(f"{_NS_COMMON}version")
    if not name or not arch or v is None:
        return IndexProblem(path, 0, f"package #{n} without name, arch or version; skipped")
    ver = f"{v.get('ver', '')}-{v.get('rel', '')}"
    if v.get("epoch") not in (None, "0"):
        ver = f"{v.get('epoch')}:{ver}"
    fmt = el.find(f"{_NS_COMMON}format")
    prov: list[str] = []
    req: list[str] = []
    files: list[str] = []
    srpm = ""
    if fmt is not None:
        srpm = fmt.findtext(f"{_NS_RPM}sourcerpm") or ""
        for tag, out in (("provides", prov), ("requires", req)):
            box = fmt.find(f"{_NS_RPM}{tag}")
            if box is not None:
                out.extend(_rpm_entry(e) for e in box.iter(f"{_NS_RPM}entry"))
        files = [(f.text or "").lstrip("/") for f in fmt.iter(f"{_NS_COMMON}file")]
    chk = el.find(f"{_NS_COMMON}checksum")
    pkgid = chk.text if chk is not None and chk.text else ""
    if pkgid in pkgid_files:
        files = pkgid_files[pkgid]
    origin = f"{path}#{n}"
    if arch in ("src", "nosrc"):
        return SourceRecord(name, ver, (), ", ".join(req), "", "rpm", origin)
    return BinaryRecord(
        name,
        ver,
        arch,
        srpm_name(srpm) if srpm else name,
        ", ".join(req),
        ", ".join(prov),
        tuple(files),
        "rpm",
        origin,
    )


# --- entry point ----------------------------------------------------------------------------


def find_indices(path: str) -> list[tuple[str, str]]:
    """The index files under ``path`` as ``(kind, file)``; kind ``packages``, ``sources`` or
    ``repomd``.  A file is taken as it is; a directory is searched for ``repodata/repomd.xml``
    and for files named ``*Packages*``/``*Sources*`` (apt list and dists/ names, any
    compression suffix), preferring one compression per index.

    Raises:
        PackageIndexError: ``path`` is a file that is no index.
    """
    if os.path.isfile(path):
        if os.path.basename(path) == "repomd.xml":
            return [("repomd", path)]
        kind = sniff_control(path)
        if kind is None:
            raise PackageIndexError(path, "not a Packages, Sources or repomd.xml file")
        return [(kind, path)]
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    rank = {"": 0, ".lz4": 1, ".zst": 2, ".gz": 3, ".xz": 4, ".bz2": 5}
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        if "repomd.xml" in filenames and os.path.basename(dirpath) == "repodata":
            found.append(("repomd", os.path.join(dirpath, "repomd.xml")))
            continue
        cands: dict[str, tuple[int, str]] = {}
        for fn in sorted(filenames):
            stem, ext = os.path.splitext(fn)
            if ext not in rank:
                stem, ext = fn, ""
            if not (stem.endswith("Packages") or stem.endswith("Sources")):
                continue
            key = os.path.join(dirpath, stem)
            if key not in cands or rank[ext] < cands[key][0]:
                cands[key] = (rank[ext], os.path.join(dirpath, fn))
        for key, (_, fp) in sorted(cands.items()):
            if key not in seen:
                seen.add(key)
                found.append(("sources" if key.endswith("Sources") else "packages", fp))
    return found


def read_index(kind: str, path: str, select: bytes | None = None) -> Index:
    """Read one index file of ``kind`` (from :func:`find_indices`); ``select`` pre-filters
    Debian paragraphs (RPM metadata is read in full)."""
    if kind == "repomd":
        idx = read_repodata(path)
        idx.binaries_total, idx.sources_total = len(idx.binaries), len(idx.sources)
        return idx
    if kind == "sources":
        return read_sources(path, select)
    return read_packages(path, select)
