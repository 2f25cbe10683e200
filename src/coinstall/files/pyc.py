"""Bytecode files: header layout, magic number, PEP 3147 location.

Sources: CPython ``Lib/importlib/_bootstrap_external.py`` (``_classify_pyc``,
``cache_from_source``, ``source_from_cache``, ``SourcelessFileLoader``); PEP 3147 (``__pycache__``
and cache tags), PEP 488 (``.opt-N.pyc``, no ``.pyo`` from 3.5), PEP 552 (flags word).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime, pyc_header_size

#: ``__pycache__/NAME.TAG[.opt-N].py[co]`` (rpmlint FilesCheck's PEP 3147 regex, with the
#: optimisation part of PEP 488).
#: What a bytecode path ends with: ``.pyc``/``.pyo``, or, for :data:`_PYCACHE_RE` (whose ``$``
#: also matches before a final newline), the same followed by a newline.
_BYTECODE_ENDINGS = (".pyc", ".pyo", ".pyc\n", ".pyo\n")
_PYCACHE_RE = re.compile(
    r"^(?P<dir>(?:.*/)?)__pycache__/(?P<name>[^/.]+)\.(?P<tag>[^/.]+)"
    r"(?:\.opt-(?P<opt>[12]))?\.(?P<ext>py[co])$"
)


@dataclass(frozen=True)
class PycHeader:
    """A parsed pyc header.

    Attributes:
        magic: the uint16 magic number, None if the file is shorter than 4 bytes or its bytes
            2-3 are not ``\\r\\n``.
        size: header size in bytes for that magic (8, 12 or 16), 0 if unknown.
        flags: PEP 552 flags word (16-byte headers), else None.
        mtime: source mtime (timestamp pycs), else None.
        source_size: source size modulo 2**32 (12- and 16-byte timestamp headers), else None.
        source_hash: 8-byte SipHash of the source (hash-based pycs), else None.
        problem: why a loader rejects the header (``"truncated header"``, ``"invalid flags"``),
            None if it is well-formed.
    """

    magic: int | None
    size: int
    flags: int | None = None
    mtime: int | None = None
    source_size: int | None = None
    source_hash: bytes | None = None
    problem: str | None = None


@dataclass(frozen=True)
class PycLocation:
    """Where a pyc sits.

    Attributes:
        pycache: True for ``__pycache__/NAME.TAG[.opt-N].pyc`` (PEP 3147), False for the legacy
            location next to where the source would be.
        source: the path of the source file the loader pairs it with (``pkg/mod.py``).
        cache_tag: the tag in the name (``cpython-312``), None for the legacy location.
        opt: the optimisation level (0, 1, 2; ``.pyo`` counts as 1).
        ext: ``"pyc"`` or ``"pyo"``.
    """

    pycache: bool
    source: str
    cache_tag: str | None
    opt: int
    ext: str


def header_size(magic: int, catalogue: Catalogue) -> int:
    """pyc header size for ``magic``: 8, 12 or 16 bytes, 0 if no known runtime writes it.

    The layout follows the writer (:func:`coinstall.runtimes.model.pyc_header_size`); the
    catalogue tells PyPy values (< 3000) from CPython ones.
    """
    origin = catalogue.magic_origin(magic)
    if origin is not None:
        major, minor = (int(p) for p in origin.version.split("."))
        return pyc_header_size(origin.implementation, (major, minor), magic)
    if magic >= 3000:
        return pyc_header_size("cpython", (3, 0), magic)
    return 0


def parse_header(head: bytes, catalogue: Catalogue) -> PycHeader:
    """Parse the header at the start of a pyc, as ``_classify_pyc`` would.

    Args:
        head: at least the first 16 bytes of the file (fewer means a truncated file).
        catalogue: used to tell PyPy magic values from CPython ones.
    """
    if len(head) < 4:
        return PycHeader(None, 0, problem="truncated header (shorter than 4 bytes)")
    if head[2:4] != b"\r\n":
        return PycHeader(None, 0, problem="not a pyc (bytes 2-3 are not \\r\\n)")
    magic = int.from_bytes(head[:2], "little")
    size = header_size(magic, catalogue)
    if size == 0:
        return PycHeader(magic, 0, problem=f"unknown magic number {magic}")
    if len(head) < size:
        return PycHeader(magic, size, problem=f"truncated header ({len(head)} of {size} bytes)")
    if size == 8:
        return PycHeader(magic, 8, mtime=int.from_bytes(head[4:8], "little"))
    if size == 12:
        return PycHeader(
            magic,
            12,
            mtime=int.from_bytes(head[4:8], "little"),
            source_size=int.from_bytes(head[8:12], "little"),
        )
    flags = int.from_bytes(head[4:8], "little")
    if flags & ~0b11:
        return PycHeader(magic, 16, flags=flags, problem=f"invalid flags {flags:#x} (PEP 552)")
    if flags & 0b1:
        return PycHeader(magic, 16, flags=flags, source_hash=head[8:16])
    return PycHeader(
        magic,
        16,
        flags=flags,
        mtime=int.from_bytes(head[8:12], "little"),
        source_size=int.from_bytes(head[12:16], "little"),
    )


def locate(path: str) -> PycLocation | None:
    """Classify a ``.pyc``/``.pyo`` path; None if the name is not a bytecode name."""
    if not path.endswith(_BYTECODE_ENDINGS):  # asked for every file: most are not bytecode
        return None
    m = _PYCACHE_RE.match(path)
    if m:
        ext = m["ext"]
        opt = int(m["opt"]) if m["opt"] else (1 if ext == "pyo" else 0)
        return PycLocation(True, f"{m['dir']}{m['name']}.py", m["tag"], opt, ext)
    if path.endswith((".pyc", ".pyo")):
        if "/__pycache__/" in f"/{path}":
            return None
        return PycLocation(False, path[:-1], None, 1 if path.endswith(".pyo") else 0, path[-3:])
    return None


def usable(header: PycHeader, loc: PycLocation, runtime: Runtime, has_source: bool) -> str | None:
    """Whether ``runtime``'s import system uses this pyc: None if it does, else the reason.

    Rules (``_bootstrap_external.py``, PEP 3147, PEP 488):
    * the magic must equal the runtime's exactly, and the PEP 552 flags must be valid;
    * ``__pycache__/NAME.TAG[.opt-N].pyc`` is used only by a runtime whose cache tag is TAG and
      only when ``NAME.py`` exists; ``.pyo`` there only by 3.2-3.4 under ``-O``;
    * a pyc in the legacy location is used by 3.2+ only when no source sits beside it
      (``SourcelessFileLoader``); Python 2 and 3.0/3.1 use it either way; ``.pyo`` there only by
      runtimes before 3.5, under ``-O``.
    """
    if header.problem:
        return header.problem
    if header.magic not in runtime.accepted_magic:
        return f"magic {header.magic} is not {runtime.id}'s {runtime.magic}"
    if loc.pycache:
        if runtime.cache_tag is None:
            return f"{runtime.id} does not read __pycache__ (PEP 3147 is 3.2+)"
        if loc.cache_tag != runtime.cache_tag:
            return f"cache tag {loc.cache_tag} is not {runtime.id}'s {runtime.cache_tag}"
        if loc.ext == "pyo" and runtime.version >= (3, 5):
            return f"{runtime.id} ignores .pyo files (PEP 488)"
        if not has_source:
            return (
                f"no source {posixpath.basename(loc.source)}: PEP 3147 ignores __pycache__ "
                "files without source"
            )
        return None
    if loc.ext == "pyo" and runtime.version >= (3, 5):
        return f"{runtime.id} ignores .pyo files (PEP 488)"
    if runtime.cache_tag is not None and has_source:
        return (
            f"source {posixpath.basename(loc.source)} beside it: {runtime.id} compiles the "
            "source and ignores a legacy pyc"
        )
    return None
