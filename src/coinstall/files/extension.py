"""Extension modules: file-name tag against a runtime's suffix list, and the ELF header.

Sources: CPython ``Lib/importlib/_bootstrap_external.py`` (``FileFinder``: for a module NAME each
directory is searched for ``NAME/__init__`` + suffix, then ``NAME`` + suffix, suffixes in the
order of ``EXTENSION_SUFFIXES``, extensions before ``.py`` and ``.pyc``; the first hit wins);
PEP 3149, PEP 384, PEP 803 for the tags; ELF machine per multiarch triplet from CPython
``Misc/platform_triplet.c`` and pypa/auditwheel ``architecture.py``.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import struct
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol

# pyelftools and abi3info are imported where used: tens of milliseconds of start-up that a
# run meeting no ELF object (or no stable-ABI module) need not pay (benchmarks/startup_bench.py).
from coinstall.runtimes.model import Runtime

if TYPE_CHECKING:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

#: Names that can hold an extension module on some platform.
EXTENSION_ENDINGS = (".so", ".pyd", ".dylib", ".sl", ".dll")

#: Multiarch triplet CPU -> (ELF class, little-endian, e_machine).  Triplets from CPython
#: Misc/platform_triplet.c; machines from auditwheel's architecture table and elf(5).
TRIPLET_ELF: dict[str, tuple[int, bool, str]] = {
    "x86_64-linux-gnu": (64, True, "EM_X86_64"),
    "x86_64-linux-gnux32": (32, True, "EM_X86_64"),
    "x86_64-linux-musl": (64, True, "EM_X86_64"),
    "i386-linux-gnu": (32, True, "EM_386"),
    "aarch64-linux-gnu": (64, True, "EM_AARCH64"),
    "aarch64-linux-musl": (64, True, "EM_AARCH64"),
    "aarch64_be-linux-gnu": (64, False, "EM_AARCH64"),
    "arm-linux-gnueabihf": (32, True, "EM_ARM"),
    "arm-linux-gnueabi": (32, True, "EM_ARM"),
    "powerpc64le-linux-gnu": (64, True, "EM_PPC64"),
    "powerpc64-linux-gnu": (64, False, "EM_PPC64"),
    "powerpc-linux-gnu": (32, False, "EM_PPC"),
    "s390x-linux-gnu": (64, False, "EM_S390"),
    "riscv64-linux-gnu": (64, True, "EM_RISCV"),
    "loongarch64-linux-gnu": (64, True, "EM_LOONGARCH"),
    "mips64el-linux-gnuabi64": (64, True, "EM_MIPS"),
    "mipsel-linux-gnu": (32, True, "EM_MIPS"),
    "sparc64-linux-gnu": (64, False, "EM_SPARCV9"),
}

#: Wheel platform-tag architecture -> multiarch triplet (auditwheel architecture table).
WHEEL_ARCH_TRIPLET = {
    "x86_64": "x86_64-linux-gnu", "i686": "i386-linux-gnu", "aarch64": "aarch64-linux-gnu",
    "armv7l": "arm-linux-gnueabihf", "ppc64le": "powerpc64le-linux-gnu",
    "ppc64": "powerpc64-linux-gnu", "s390x": "s390x-linux-gnu", "riscv64": "riscv64-linux-gnu",
    "loongarch64": "loongarch64-linux-gnu",
}

#: Debian architecture -> multiarch triplet (dpkg-architecture -qDEB_HOST_MULTIARCH).
DEB_ARCH_TRIPLET = {
    "amd64": "x86_64-linux-gnu", "i386": "i386-linux-gnu", "arm64": "aarch64-linux-gnu",
    "armhf": "arm-linux-gnueabihf", "armel": "arm-linux-gnueabi",
    "ppc64el": "powerpc64le-linux-gnu", "ppc64": "powerpc64-linux-gnu",
    "s390x": "s390x-linux-gnu", "riscv64": "riscv64-linux-gnu",
    "loong64": "loongarch64-linux-gnu", "mips64el": "mips64el-linux-gnuabi64",
}

#: RPM architecture -> multiarch triplet (GNU triplet of rpm's arch).
RPM_ARCH_TRIPLET = {
    "x86_64": "x86_64-linux-gnu", "i686": "i386-linux-gnu", "i586": "i386-linux-gnu",
    "aarch64": "aarch64-linux-gnu", "armv7hl": "arm-linux-gnueabihf",
    "ppc64le": "powerpc64le-linux-gnu", "ppc64": "powerpc64-linux-gnu",
    "s390x": "s390x-linux-gnu", "riscv64": "riscv64-linux-gnu",
}


# The file-name grammar of extension modules on Linux (PEP 3149, PEP 384, PEP 803; CPython
# Python/dynload_shlib.c; reference/debian.md §5.1):
#   NAME '.' ( 'cpython-' XY FLAGS ['-' TRIPLET] | 'pypy' XY '-pp' N ['-' TRIPLET]
#            | 'abi3' ['-' TRIPLET] | 'abi3t' ['-' TRIPLET] ) '.so'  |  NAME '.so'
# plus Windows' 'cpXY-PLATFORM.pyd'.  packaging has no parser for extension file names (it
# parses wheel tags only), hence this regex.
_EXT = re.compile(
    r"^(?P<stem>[^.]+)\."
    r"(?:(?P<stable>abi3t?)(?:-(?P<striplet>[^.]+))?\."
    r"|cpython-(?P<cver>\d)(?P<cminor>\d+)(?P<flags>[a-z]*)(?:-(?P<ctriplet>[^.]+))?\."
    r"|pypy(?P<pver>\d)(?P<pminor>\d+)-pp\d+(?:-(?P<ptriplet>[^.]+))?\."
    r"|pypy-\d+\."
    r"|cp(?P<wver>\d)(?P<wminor>\d+)-[^.]+\.)?"
    r"(?:so|pyd)$"
)


@dataclass(frozen=True)
class ExtName:
    """What an extension module's file name says.

    Attributes:
        stem: the module name (``_speedups``).
        kind: ``"soabi"`` (version-specific), ``"abi3"``, ``"abi3t"`` (stable ABI) or
            ``"untagged"`` (``foo.so``: any runtime of the platform tries it).
        implementation: ``"cpython"``/``"pypy"`` for version-specific names, else None.
        version: ``(3, 11)`` for version-specific names, else None.
        flags: ABI flags of a CPython tag (``"t"``, ``"d"``, ``"m"``), "" otherwise.
        triplet: the multiarch triplet in the name (``x86_64-linux-gnu``), None if absent.
    """

    stem: str
    kind: str
    implementation: str | None = None
    version: tuple[int, int] | None = None
    flags: str = ""
    triplet: str | None = None

    @property
    def soabi_tag(self) -> str | None:
        """The wheel ABI tag this name corresponds to (``cp311``, ``cp313t``, ``pypy39_pp73``
        is not derivable: PyPy names give ``pp39``), None for stable-ABI/untagged names."""
        if self.kind != "soabi" or self.version is None:
            return None
        v = f"{self.version[0]}{self.version[1]}"
        return f"cp{v}{self.flags}" if self.implementation == "cpython" else f"pp{v}"


def parse_ext_name(filename: str) -> ExtName | None:
    """Parse the base name of an extension module; None if it is not an extension name."""
    m = _EXT.match(filename)
    if m is None:
        return None
    stem = m["stem"]
    if m["stable"]:
        return ExtName(stem, m["stable"], triplet=m["striplet"])
    if m["cver"]:
        return ExtName(stem, "soabi", "cpython", (int(m["cver"]), int(m["cminor"])),
                       m["flags"], m["ctriplet"])
    if m["pver"]:
        return ExtName(stem, "soabi", "pypy", (int(m["pver"]), int(m["pminor"])), "",
                       m["ptriplet"])
    if m["wver"]:
        return ExtName(stem, "soabi", "cpython", (int(m["wver"]), int(m["wminor"])))
    if ".pypy-" in filename:
        return ExtName(stem, "soabi", "pypy")
    return ExtName(stem, "untagged")


def ext_name(import_path: str) -> ExtName | None:
    """:func:`parse_ext_name` of a path's base name."""
    return parse_ext_name(posixpath.basename(import_path))


@dataclass(frozen=True)
class ElfInfo:
    """The identification of an ELF object (read with pyelftools).

    Attributes:
        elfclass: 32 or 64.
        little_endian: byte order.
        machine: ``e_machine`` as pyelftools names it (``"EM_X86_64"``).
        symbols_read: True when the dynamic symbol table was read (see :func:`read_elf`).
        python_imports: undefined dynamic symbols named ``Py*``/``_Py*``: what the module needs
            from the interpreter.
        init_exports: defined symbols a loader looks for: ``PyInit_*``, ``PyInitU_*``,
            ``PyModExport_*`` (Python 3, PEP 489/793) and ``init*`` (Python 2).
    """

    elfclass: int
    little_endian: bool
    machine: str
    symbols_read: bool = False
    python_imports: frozenset[str] = frozenset()
    init_exports: frozenset[str] = frozenset()

    def describe(self) -> str:
        """``"ELF 64-bit LSB EM_X86_64"``."""
        return f"ELF {self.elfclass}-bit {'LSB' if self.little_endian else 'MSB'} {self.machine}"


_INIT_PREFIXES = ("PyInit_", "PyInitU_", "PyModExport_", "init")


class LinkInfo(Protocol):
    """What the init and stable-ABI checks read from an object of any format (ELF here,
    Mach-O and PE in :mod:`coinstall.files.objfile`)."""

    @property
    def symbols_read(self) -> bool: ...

    @property
    def python_imports(self) -> frozenset[str]: ...

    @property
    def init_exports(self) -> frozenset[str]: ...


_INIT_PREFIXES_B = tuple(p.encode() for p in _INIT_PREFIXES)

#: ``st_name`` and ``st_shndx`` of an ``Elf32_Sym``/``Elf64_Sym`` record (elf(5); the same
#: layouts as pyelftools' ``ELFStructs.Elf_Sym``), by (ELF class, little-endian).
_SYM_NAME_SHNDX = {
    (32, True): struct.Struct("<I10xH"), (32, False): struct.Struct(">I10xH"),
    (64, True): struct.Struct("<I2xH16x"), (64, False): struct.Struct(">I2xH16x"),
}


def _symbol_table(data: bytes | bytearray, elf: ELFFile, dynsym: SymbolTableSection,
                  ) -> list[tuple[bool, bytes]] | None:
    """``(undefined, name)`` for every named entry of ``.dynsym``, or None where the table is
    not plain (compressed, an entry size of another layout, past the end of ``data``, a link
    to no string table): the caller then walks it with pyelftools' ``iter_symbols``, whose
    results and errors stay the reference.

    Glue over pyelftools: the section lookup, its header and the string table's offset are
    pyelftools'; only the fixed-size records are unpacked here, with ``struct``, and each name
    is the bytes up to the next NUL from the string table's offset on, exactly what
    ``StringTableSection.get_string`` reads (``parse_cstring_from_stream``: up to the next
    NUL in the file, none: no name).  pyelftools parses every record through construct
    (3 nested structs, 2 bit structs, 2 enums, one Container per record): over the 122
    extension modules of 303 bookworm python3-* .debs (17 with their table read, 17,674
    symbols) read_elf took 0.32 s of CPU that way and takes 0.07 s with this, the rest being
    pyelftools' header and section lookup (the same verdicts; tests/test_extension_elf.py
    compares both walks).
    """
    from elftools.elf.sections import StringTableSection

    layout = _SYM_NAME_SHNDX.get((elf.elfclass, elf.little_endian))
    strtab = dynsym.stringtable
    if layout is None or dynsym.compressed or not isinstance(strtab, StringTableSection):
        return None
    start, size, entsize = dynsym["sh_offset"], dynsym["sh_size"], dynsym["sh_entsize"]
    if entsize != layout.size or start < 0 or start + size > len(data):
        return None
    base = strtab["sh_offset"]
    end = len(data)
    out: list[tuple[bool, bytes]] = []
    for st_name, st_shndx in layout.iter_unpack(memoryview(data)[start:start + size]):
        at = base + st_name
        if at >= end:
            continue
        nul = data.find(b"\0", at)
        if nul <= at:  # no NUL up to the end (-1), or an empty name
            continue
        out.append((st_shndx == 0, bytes(data[at:nul])))  # SHN_UNDEF
    return out


def read_elf(data: bytes | IO[bytes], *, symbols: bool = False) -> ElfInfo | None:
    """The ELF identification of ``data`` (a whole object file), None if it is not ELF.

    Args:
        data: the whole file, in memory or as a seekable binary file (a member larger than
            the ``content-mb`` limit comes spooled to a temporary file: pyelftools reads the
            header, section headers, ``.dynsym`` and ``.dynstr`` by offset, never all of it).
        symbols: also read ``.dynsym`` (what the module imports from the interpreter and which
            init function it exports).  Costs a pass over the symbol table, so callers ask for it
            only where the file name does not already fix the runtime (untagged and stable-ABI
            names).

    Raises:
        ValueError: the file starts with the ELF magic but its header is corrupt.
    """
    if isinstance(data, bytes | bytearray):
        if not data.startswith(b"\x7fELF"):
            return None
        stream: IO[bytes] = io.BytesIO(data)
    else:
        stream = data
        stream.seek(0)
        if stream.read(4) != b"\x7fELF":
            return None
        stream.seek(0)
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    try:
        elf = ELFFile(stream)
        imports: set[str] = set()
        exports: set[str] = set()
        if symbols:
            dynsym = elf.get_section_by_name(".dynsym")
            if isinstance(dynsym, SymbolTableSection):
                table = isinstance(data, bytes | bytearray) and _symbol_table(data, elf, dynsym)
                if table:
                    for undefined, raw in table:
                        if undefined:
                            if raw.startswith((b"Py", b"_Py")):
                                imports.add(raw.decode("utf-8", "replace"))
                        elif raw.startswith(_INIT_PREFIXES_B):
                            exports.add(raw.decode("utf-8", "replace"))
                else:
                    for sym in dynsym.iter_symbols():
                        name = sym.name
                        if not name:
                            continue
                        if sym["st_shndx"] == "SHN_UNDEF":
                            if name.startswith(("Py", "_Py")):
                                imports.add(name)
                        elif name.startswith(_INIT_PREFIXES):
                            exports.add(name)
        return ElfInfo(elf.elfclass, elf.little_endian, str(elf["e_machine"]), symbols,
                       frozenset(imports), frozenset(exports))
    except (ELFError, ValueError, KeyError) as exc:
        raise ValueError(f"corrupt ELF header: {exc}") from None
    except Exception as exc:  # construct.StreamError and friends on truncated files
        raise ValueError(f"truncated ELF object: {exc}") from None


def is_extension_name(path: str) -> bool:
    """True if the file name could be an extension module on some platform."""
    return path.endswith(EXTENSION_ENDINGS)


def module_name(filename: str, runtime: Runtime) -> tuple[str, int] | None:
    """The module name under which ``runtime`` imports ``filename``, and the suffix's index.

    ``FileFinder`` finds module NAME in file NAME + suffix; NAME cannot contain a dot, so
    ``foo.cpython-311-x86_64-linux-gnu.so`` is ``foo`` for 3.11 but nothing for 3.12 (whose
    ``.so`` entry would need the module name ``foo.cpython-311-x86_64-linux-gnu``).
    Returns None if no suffix of the runtime gives a valid name.
    """
    for i, suffix in enumerate(runtime.extension_suffixes):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            if stem and "." not in stem:
                return stem, i
    return None


def elf_mismatch(elf: ElfInfo | None, runtime: Runtime) -> str | None:
    """Why ``runtime`` cannot load an object with this ELF identification, or None.

    Only checked where the runtime's multiarch triplet is known and catalogued here.
    """
    if runtime.platform != "linux":
        return None
    if elf is None:
        return "not an ELF object"
    expected = TRIPLET_ELF.get(runtime.multiarch or "")
    if expected is None:
        return None
    cls, little, machine = expected
    if (elf.elfclass, elf.little_endian, elf.machine) != (cls, little, machine):
        return f"{elf.describe()} cannot be loaded on {runtime.multiarch}"
    return None


@functools.lru_cache(maxsize=1024)  # asked once per runtime for the same module
def stable_abi_baseline(imports: frozenset[str]) -> tuple[int, int] | None:
    """The lowest CPython version that exports every stable-ABI symbol in ``imports``.

    Uses the stable ABI manifest (CPython ``Misc/stable_abi.toml``, as packaged by abi3info and
    used by abi3audit): each function and data symbol with the version that added it to the
    limited API.  Symbols outside the manifest are ignored here (abi3audit reports them as
    violations).  Returns None when no imported symbol is in the manifest.
    """
    import abi3info
    from abi3info.models import Symbol

    best: tuple[int, int] | None = None
    for name in imports:
        sym = Symbol(name)
        item = abi3info.FUNCTIONS.get(sym) or abi3info.DATAS.get(sym)
        if item is None:
            continue
        v = (item.added.major, item.added.minor)
        if best is None or v > best:
            best = v
    return best


def init_mismatch(elf: LinkInfo | None, stem: str, runtime: Runtime) -> str | None:
    """Why ``runtime`` finds no init function for module ``stem`` in the object, or None.

    Python 3 looks up ``PyInit_<name>`` (``PyInitU_`` for non-ASCII names; 3.15 first
    ``PyModExport_<name>``, PEP 793); Python 2 looks up ``init<name>`` (CPython
    ``Python/importdl.c``).  Only judged when the symbol table was read.
    """
    if elf is None or not elf.symbols_read:
        return None
    exports = elf.init_exports
    if runtime.version[0] >= 3:
        if f"PyInit_{stem}" in exports or f"PyModExport_{stem}" in exports or any(
                e.startswith("PyInitU_") for e in exports):
            return None
        if f"init{stem}" in exports:
            return f"a Python 2 module (exports init{stem}, not PyInit_{stem})"
        return f"no PyInit_{stem} function"
    if f"init{stem}" in exports:
        return None
    if f"PyInit_{stem}" in exports:
        return f"a Python 3 module (exports PyInit_{stem}, not init{stem})"
    return f"no init{stem} function"


#: The first CPython whose free-threaded build loads a stable-ABI module: 3.15 and abi3t
#: (PEP 803; CPython commit 2452324, gh-146636).
ABI3T_SINCE = (3, 15)


def stable_abi_build_mismatch(kind: str, runtime: Runtime) -> str | None:
    """Why a free-threaded ``runtime`` cannot use a stable-ABI module of name kind ``kind``
    (``"abi3"``: an ``.abi3.so`` name, or a ``.pyd`` linked to ``python3.dll``), or None.

    Free-threaded CPython 3.13 and 3.14 list ``.abi3.so`` in ``EXTENSION_SUFFIXES``
    (``Python/dynload_shlib.c``), but an abi3 module is built for the GIL build's object
    layout: "Extensions built for GIL-enabled builds of CPython will fail to load (or crash)
    on free-threaded builds" (PEP 803; observed: cryptography's and psutil's ``.abi3.so``
    segfault a 3.13t on import, ``../reference/real-interpreters.md``).  From 3.15 the
    free-threaded build drops ``.abi3.so`` and loads ``.abi3t.so`` (the suffix list says so).
    """
    if kind == "abi3" and runtime.implementation == "cpython" and runtime.free_threaded \
            and runtime.version < ABI3T_SINCE:
        return (f"an abi3 module is built for GIL-enabled CPython: {runtime.id} finds "
                f".abi3.so but cannot load it (PEP 803; abi3t from 3.15)")
    return None


def symbols_mismatch(elf: LinkInfo | None, runtime: Runtime) -> str | None:
    """Why ``runtime`` lacks a stable-ABI symbol the object needs, or None.

    CPython opens extension modules with ``RTLD_NOW`` (``sys.getdlopenflags()``), so a
    referenced symbol the interpreter does not export fails the import.  Judged for CPython 3
    runtimes from the stable ABI manifest (:func:`stable_abi_baseline`).
    """
    if elf is None or not elf.symbols_read or runtime.implementation != "cpython":
        return None
    if runtime.version[0] < 3:
        return None
    if runtime.stable_abi_missing is not None:
        # The interpreter told us what it lacks: it is right, the manifest only says when a
        # symbol was *stabilised* (PySlice_Unpack: limited API 3.7, exported since 3.6.1).
        lacking = sorted(elf.python_imports & runtime.stable_abi_missing)
        if lacking:
            more = f" and {len(lacking) - 1} more" if len(lacking) > 1 else ""
            return f"{runtime.id} does not export {lacking[0]}{more}"
        return None
    base = stable_abi_baseline(elf.python_imports)
    if base is not None and runtime.version < base:
        return (f"uses stable-ABI symbols added in {base[0]}.{base[1]}, newer than "
                f"{runtime.id}")
    return None
