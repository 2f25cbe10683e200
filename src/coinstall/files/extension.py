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
import itertools
import posixpath
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal, Protocol, cast

# pyelftools and abi3info are imported where used: tens of milliseconds of start-up that a
# run meeting no ELF object (or no stable-ABI module) need not pay (benchmarks/startup_bench.py).
from coinstall.files.moduledef import ObjectHeader, module_def_header
from coinstall.runtimes.model import Runtime
from coinstall.stable_abi import stable_abi_baseline, symbol_added

if TYPE_CHECKING:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    from coinstall.runtimes.abi import ExportTable

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
    "x86_64": "x86_64-linux-gnu",
    "i686": "i386-linux-gnu",
    "aarch64": "aarch64-linux-gnu",
    "armv7l": "arm-linux-gnueabihf",
    "ppc64le": "powerpc64le-linux-gnu",
    "ppc64": "powerpc64-linux-gnu",
    "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
    "loongarch64": "loongarch64-linux-gnu",
}

#: Debian architecture -> multiarch triplet (dpkg-architecture -qDEB_HOST_MULTIARCH).
DEB_ARCH_TRIPLET = {
    "amd64": "x86_64-linux-gnu",
    "i386": "i386-linux-gnu",
    "arm64": "aarch64-linux-gnu",
    "armhf": "arm-linux-gnueabihf",
    "armel": "arm-linux-gnueabi",
    "ppc64el": "powerpc64le-linux-gnu",
    "ppc64": "powerpc64-linux-gnu",
    "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
    "loong64": "loongarch64-linux-gnu",
    "mips64el": "mips64el-linux-gnuabi64",
}

#: RPM architecture -> multiarch triplet (GNU triplet of rpm's arch).
RPM_ARCH_TRIPLET = {
    "x86_64": "x86_64-linux-gnu",
    "i686": "i386-linux-gnu",
    "i586": "i386-linux-gnu",
    "aarch64": "aarch64-linux-gnu",
    "armv7hl": "arm-linux-gnueabihf",
    "ppc64le": "powerpc64le-linux-gnu",
    "ppc64": "powerpc64-linux-gnu",
    "s390x": "s390x-linux-gnu",
    "riscv64": "riscv64-linux-gnu",
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


#: What an extension module's file name says of the runtimes it is for: version-specific
#: (``.cpython-311-x86_64-linux-gnu.so``), the stable ABI (``.abi3.so``, ``.abi3t.so``), or
#: nothing (``foo.so``).  Source: PEP 3149, PEP 384, PEP 803.
ExtNameKind = Literal["soabi", "abi3", "abi3t", "untagged"]


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
    kind: ExtNameKind
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


@functools.lru_cache(maxsize=4096)  # the verdict asks once per runtime for the same name
def parse_ext_name(filename: str) -> ExtName | None:
    """Parse the base name of an extension module; None if it is not an extension name."""
    m = _EXT.match(filename)
    if m is None:
        return None
    stem = m["stem"]
    if m["stable"]:
        return ExtName(stem, cast(ExtNameKind, m["stable"]), triplet=m["striplet"])
    if m["cver"]:
        return ExtName(
            stem, "soabi", "cpython", (int(m["cver"]), int(m["cminor"])), m["flags"], m["ctriplet"]
        )
    if m["pver"]:
        return ExtName(stem, "soabi", "pypy", (int(m["pver"]), int(m["pminor"])), "", m["ptriplet"])
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
    #: the first ``DT_NEEDED`` entry naming a ``libpython*`` (``libpython3.11.so.1.0``), read
    #: with the symbols; None if there is none (most modules take the interpreter's symbols
    #: from the process and link no libpython).
    libpython: str | None = None
    #: the object header of the module's static ``PyModuleDef`` (``"gil"`` or
    #: ``"free-threaded"``, :mod:`coinstall.files.moduledef`), read with the symbols where
    #: they carry no build marker (neither the free-threaded build's reference counting nor
    #: ``_Py_Dealloc``), from objects in memory (not from a member spooled to a file for its
    #: size); None where not read, not found or not plain.
    module_def: ObjectHeader | None = None

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

    @property
    def module_def(self) -> ObjectHeader | None: ...


_INIT_PREFIXES_B = tuple(p.encode() for p in _INIT_PREFIXES)
_PY_PREFIXES_B = (b"Py", b"_Py")

#: ``st_name`` and ``st_shndx`` of an ``Elf32_Sym``/``Elf64_Sym`` record (elf(5); the same
#: layouts as pyelftools' ``ELFStructs.Elf_Sym``), by (ELF class, little-endian).
_SYM_NAME_SHNDX = {
    (32, True): struct.Struct("<I10xH"),
    (32, False): struct.Struct(">I10xH"),
    (64, True): struct.Struct("<I2xH16x"),
    (64, False): struct.Struct(">I2xH16x"),
}


def _symbol_table(
    data: bytes | bytearray,
    elf: ELFFile,
    dynsym: SymbolTableSection,
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
    (3 nested structs, 2 bit structs, 2 enums, one Container per record), most of read_elf's
    time that way (glue; measured: benchmarks/MEASUREMENTS.md, 'ELF symbols'); the same
    verdicts: tests/test_extension_elf.py compares both walks.
    """
    from elftools.elf.sections import StringTableSection

    layout = _SYM_NAME_SHNDX.get((elf.elfclass, elf.little_endian))
    strtab = dynsym.stringtable
    if layout is None or dynsym.compressed or not isinstance(strtab, StringTableSection):
        return None
    start, size, entsize = dynsym["sh_offset"], dynsym["sh_size"], dynsym["sh_entsize"]
    if entsize != layout.size or start < 0 or start + size > len(data):
        return None
    return _walk_symbols(data, layout, start, size, strtab["sh_offset"])


def _walk_symbols(
    data: bytes | bytearray, layout: struct.Struct, start: int, size: int, base: int
) -> list[tuple[bool, bytes]]:
    """``(undefined, name)`` of the ``.dynsym`` records at ``data[start:start + size]`` whose
    names are in the string table at ``base`` and matter here (see :func:`_symbol_table`):
    undefined ones named ``Py*``/``_Py*``, defined ones with an init prefix.  The prefix is
    compared in place, before the name is cut out: most of a module's symbols are neither
    (libc, libm, its own), and every version-tagged module's table is read."""
    out: list[tuple[bool, bytes]] = []
    starts = data.startswith
    for st_name, st_shndx in layout.iter_unpack(memoryview(data)[start : start + size]):
        at = base + st_name
        if not (starts(_PY_PREFIXES_B, at) if st_shndx == 0 else starts(_INIT_PREFIXES_B, at)):
            continue  # also past the end: startswith is False there
        nul = data.find(b"\0", at)
        if nul <= at:  # no NUL up to the end (-1), or an empty name
            continue
        out.append((st_shndx == 0, bytes(data[at:nul])))  # SHN_UNDEF
    return out


#: ``sh_type, sh_flags, sh_offset, sh_size, sh_link, sh_entsize`` of an
#: ``Elf32_Shdr``/``Elf64_Shdr`` (elf(5)), by (ELF class, little-endian).
_SHDR = {
    (32, True): struct.Struct("<4xII4xIII8xI"),
    (32, False): struct.Struct(">4xII4xIII8xI"),
    (64, True): struct.Struct("<4xIQ8xQQI12xQ"),
    (64, False): struct.Struct(">4xIQ8xQQI12xQ"),
}
_SHT_STRTAB, _SHT_DYNSYM, _SHF_COMPRESSED = 3, 11, 0x800


#: ``d_tag, d_val`` of an ``Elf32_Dyn``/``Elf64_Dyn`` (elf(5)), by (ELF class, little-endian).
_DYN = {
    (32, True): struct.Struct("<iI"),
    (32, False): struct.Struct(">iI"),
    (64, True): struct.Struct("<qQ"),
    (64, False): struct.Struct(">qQ"),
}
_SHT_DYNAMIC, _DT_NULL, _DT_NEEDED = 6, 0, 1


def _section_headers(data: bytes | bytearray, elf: ELFFile) -> list[tuple[int, ...]] | None:
    """``(sh_type, sh_flags, sh_offset, sh_size, sh_link, sh_entsize)`` of every section
    header, unpacked with ``struct`` (:data:`_SHDR`); None where they are not plain (extended
    section numbering, a header size of another layout, past the end of ``data``)."""
    shdr = _SHDR[(elf.elfclass, elf.little_endian)]
    shoff, shnum, shentsize = elf["e_shoff"], elf["e_shnum"], elf["e_shentsize"]
    if shnum == 0 or shentsize != shdr.size or shoff <= 0 or shoff + shnum * shentsize > len(data):
        return None
    return list(shdr.iter_unpack(memoryview(data)[shoff : shoff + shnum * shentsize]))


def _libpython_direct(
    data: bytes | bytearray, elf: ELFFile, headers: list[tuple[int, ...]]
) -> str | None:
    """The first ``DT_NEEDED`` name starting ``libpython`` in the ``SHT_DYNAMIC`` section,
    read with ``struct`` from the section headers (as :func:`_dynsym_direct`); None if there
    is none or anything is not plain (the entries past the end, no string table)."""
    dyn = _DYN[(elf.elfclass, elf.little_endian)]
    end, shnum = len(data), len(headers)
    for sh_type, flags, offset, size, link, _entsize in headers:
        if sh_type != _SHT_DYNAMIC:
            continue
        if flags & _SHF_COMPRESSED or link >= shnum or offset + size > end:
            return None
        str_type, _f, base = headers[link][:3]
        if str_type != _SHT_STRTAB:
            return None
        size -= size % dyn.size
        for tag, val in dyn.iter_unpack(memoryview(data)[offset : offset + size]):
            if tag == _DT_NULL:
                break
            if tag == _DT_NEEDED and data.startswith(b"libpython", base + val):
                nul = data.find(b"\0", base + val)
                if nul > 0:
                    return bytes(data[base + val : nul]).decode("utf-8", "replace")
        return None
    return None


def _libpython_pyelftools(elf: ELFFile) -> str | None:
    """:func:`_libpython_direct` for a stream, with pyelftools' ``DynamicSection``."""
    from elftools.elf.dynamic import DynamicSection

    for sec in elf.iter_sections():
        if isinstance(sec, DynamicSection):
            for tag in sec.iter_tags():
                if tag.entry.d_tag == "DT_NULL":
                    break
                needed = str(getattr(tag, "needed", ""))  # set on DT_NEEDED tags
                if tag.entry.d_tag == "DT_NEEDED" and needed.startswith("libpython"):
                    return needed
            return None
    return None


def _dynsym_direct(
    data: bytes | bytearray,
    elf: ELFFile,
    headers: list[tuple[int, ...]] | None = None,
) -> list[tuple[bool, bytes]] | None:
    """What :func:`_symbol_table` gives, found without pyelftools' section map: the section
    headers are unpacked with ``struct`` to find the ``SHT_DYNSYM`` section and its linked
    ``SHT_STRTAB``.  None where anything is not plain (extended section numbering, a header
    size of another layout, a table past the end, a compressed section): the caller then asks
    pyelftools.

    Glue, for speed: ``ELFFile.get_section_by_name`` builds an object for every section
    (hash, version and note sections included) to find one; over the pinned corpus' 190
    extension modules that was most of the verdict's time once the symbols of every
    version-tagged module are read too (benchmarks/verdict_bench.py).
    """
    layout = _SYM_NAME_SHNDX[(elf.elfclass, elf.little_endian)]
    if headers is None:
        headers = _section_headers(data, elf)
        if headers is None:
            return None
    end, shnum = len(data), len(headers)
    for sh_type, flags, offset, size, link, entsize in headers:
        if sh_type != _SHT_DYNSYM:
            continue
        if (
            flags & _SHF_COMPRESSED
            or entsize != layout.size
            or size % entsize
            or offset + size > end
            or link >= shnum
        ):
            return None
        str_type, str_flags, str_offset = headers[link][:3]
        if str_type != _SHT_STRTAB or str_flags & _SHF_COMPRESSED:
            return None
        return _walk_symbols(data, layout, offset, size, str_offset)
    return None


#: pyelftools' ``ELFStructs`` by (little-endian, ELF class) with the basic structs only, and by
#: (little-endian, ELF class, e_type, e_machine, EI_OSABI) with the advanced ones too; at most
#: :data:`_STRUCTS_MAX` kinds are kept (the key is what a file claims).
_STRUCTS: dict[tuple[object, ...], object] = {}
_STRUCTS_MAX = 32


def _elf_file(stream: IO[bytes]) -> ELFFile:
    """``ELFFile(stream)``, with the construct structs made once per header kind.

    Glue, for speed: ``ELFFile.__init__`` builds every struct of the file's kind anew
    (``ELFStructs.create_advanced_structs``: hundreds of construct objects), which took most of
    :func:`read_elf`'s time over the bookworm archive's extension modules, whose headers are
    nearly all of one kind (64-bit little-endian x86-64 shared objects).  The structs are
    stateless parsers, set only by the four values of the key.  This repeats
    ``ELFFile.__init__`` (pyelftools 0.31-0.33: identify, basic structs, header, advanced
    structs, ``e_ident_raw``) and falls back to it where those private steps are missing.
    """
    from elftools.elf.elffile import ELFFile
    from elftools.elf.structs import ELFStructs

    if not (hasattr(ELFFile, "_identify_file") and hasattr(ELFFile, "_parse_elf_header")):
        return ELFFile(stream)  # pragma: no cover - another pyelftools
    elf = ELFFile.__new__(ELFFile)
    elf.stream = stream
    stream.seek(0, io.SEEK_END)
    elf.stream_len = stream.tell()
    elf._identify_file()
    basic_key: tuple[object, ...] = (elf.little_endian, elf.elfclass)
    basic = _STRUCTS.get(basic_key)
    if basic is None:
        basic = ELFStructs(little_endian=elf.little_endian, elfclass=elf.elfclass)
        basic.create_basic_structs()
        _STRUCTS[basic_key] = basic
    elf.structs = basic  # type: ignore[assignment]
    elf.header = elf._parse_elf_header()
    key = (*basic_key, elf["e_type"], elf["e_machine"], elf["e_ident"]["EI_OSABI"])
    full = _STRUCTS.get(key)
    if full is None:
        full = ELFStructs(little_endian=elf.little_endian, elfclass=elf.elfclass)
        full.create_basic_structs()
        full.create_advanced_structs(*key[2:])
        if len(_STRUCTS) < _STRUCTS_MAX:
            _STRUCTS[key] = full
    elf.structs = full  # type: ignore[assignment]
    stream.seek(0)
    elf.e_ident_raw = stream.read(16)
    elf.stream_loader = None
    return elf


def read_elf(data: bytes | IO[bytes], *, symbols: bool = False) -> ElfInfo | None:
    """The ELF identification of ``data`` (a whole object file), None if it is not ELF.

    Args:
        data: the whole file, in memory or as a seekable binary file (a member larger than
            the ``content-mb`` limit comes spooled to a temporary file: pyelftools reads the
            header, section headers, ``.dynsym`` and ``.dynstr`` by offset, never all of it).
        symbols: also read ``.dynsym`` (what the module imports from the interpreter and which
            init function it exports).  Costs a pass over the symbol table (the section
            headers unpacked directly, :func:`_dynsym_direct`), so callers ask for it where the
            symbols decide: untagged and stable-ABI names, and CPython version-tagged ones
            (:func:`tagged_mismatch`).

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
    from elftools.elf.sections import SymbolTableSection

    try:
        elf = _elf_file(stream)
        imports: set[str] = set()
        exports: set[str] = set()
        raw_data = data if isinstance(data, bytes | bytearray) else None
        headers = _section_headers(raw_data, elf) if symbols and raw_data is not None else None
        direct = (
            _dynsym_direct(raw_data, elf, headers)
            if raw_data is not None and headers is not None
            else None
        )
        table: list[tuple[bool, bytes]] | None = direct
        dynsym = None
        if table is None and symbols:
            dynsym = elf.get_section_by_name(".dynsym")
            if isinstance(dynsym, SymbolTableSection) and isinstance(data, bytes | bytearray):
                table = _symbol_table(data, elf, dynsym)
        if table is not None:
            for undefined, raw in table:
                if undefined:
                    if raw.startswith((b"Py", b"_Py")):
                        imports.add(raw.decode("utf-8", "replace"))
                elif raw.startswith(_INIT_PREFIXES_B):
                    exports.add(raw.decode("utf-8", "replace"))
        elif isinstance(dynsym, SymbolTableSection):
            # streams and unusual tables: pyelftools' own walk
            for sym in dynsym.iter_symbols():
                name = sym.name
                if not name:
                    continue
                if sym["st_shndx"] == "SHN_UNDEF":
                    if name.startswith(("Py", "_Py")):
                        imports.add(name)
                elif name.startswith(_INIT_PREFIXES):
                    exports.add(name)
        libpython = None
        module_def = None
        if symbols:
            libpython = (
                _libpython_direct(raw_data, elf, headers)
                if raw_data is not None and headers is not None
                else _libpython_pyelftools(elf)
            )
            if raw_data is not None and headers is not None and not _build_marked(imports):
                module_def = module_def_header(
                    raw_data,
                    elf.elfclass,
                    elf.little_endian,
                    elf["e_phoff"],
                    elf["e_phnum"],
                    elf["e_phentsize"],
                    headers,
                    exports,
                )
        return ElfInfo(
            elf.elfclass,
            elf.little_endian,
            str(elf["e_machine"]),
            symbols,
            frozenset(imports),
            frozenset(exports),
            libpython,
            module_def,
        )
    except (ELFError, ValueError, KeyError) as exc:
        raise ValueError(f"corrupt ELF header: {exc}") from None
    except Exception as exc:  # construct.StreamError and friends on truncated files
        raise ValueError(f"truncated ELF object: {exc}") from None


def _build_marked(imports: Iterable[str]) -> bool:
    """Whether the imported symbols already tell a GIL build from a free-threaded one (see
    :func:`build_mismatch`), so that the ``PyModuleDef`` need not be read."""
    from coinstall.runtimes import abi as abi_data

    return any(s == "_Py_Dealloc" or s in abi_data.load().freethreaded for s in imports)


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
        if (
            f"PyInit_{stem}" in exports
            or f"PyModExport_{stem}" in exports
            or any(e.startswith("PyInitU_") for e in exports)
        ):
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
    if (
        kind == "abi3"
        and runtime.implementation == "cpython"
        and runtime.free_threaded
        and runtime.version < ABI3T_SINCE
    ):
        return (
            f"an abi3 module is built for GIL-enabled CPython: {runtime.id} finds "
            f".abi3.so but cannot load it (PEP 803; abi3t from 3.15)"
        )
    return None


def symbols_mismatch(elf: LinkInfo | None, runtime: Runtime) -> str | None:
    """Why ``runtime`` lacks a stable-ABI symbol the object needs, or None.

    CPython opens extension modules with ``RTLD_NOW`` (``sys.getdlopenflags()``), so a
    referenced symbol the interpreter does not export fails the import.  Judged for CPython 3
    runtimes from the stable ABI manifest (:func:`coinstall.stable_abi.stable_abi_baseline`).
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
        return f"uses stable-ABI symbols added in {base[0]}.{base[1]}, newer than {runtime.id}"
    return _table_mismatch(elf.python_imports, runtime)


def _table_mismatch(imports: frozenset[str], runtime: Runtime) -> str | None:
    """Why ``runtime`` lacks one of ``imports`` by its complete export table (read from real
    interpreters, :mod:`coinstall.runtimes.abi`), or None (no such table, or nothing lacking).
    The manifest dates a symbol when it was *stabilised*, a table says what a build exports:
    ``PyThread_get_thread_native_id`` is "3.2" in ``Misc/stable_abi.toml``, exported from 3.8.
    """
    if runtime.platform != "linux" or runtime.implementation != "cpython":
        return None
    from coinstall.runtimes import abi as abi_data

    table = abi_data.load().table_for(runtime)
    if table is None or not table.complete:
        return None
    hard = imports - table.symbols - table.varies
    if hard:
        more = f" and {len(hard) - 1} more" if len(hard) > 1 else ""
        return f"{runtime.id} does not export {min(hard)}{more}"
    return None


def tagged_mismatch(elf: LinkInfo | None, runtime: Runtime) -> str | None:
    """Why a CPython ``runtime`` whose suffix a version-tagged module's name carries
    (``.cpython-312-x86_64-linux-gnu.so``) still cannot load it, or None.

    The name only says what the module claims; its imported ``Py*``/``_Py*`` symbols must
    exist in the runtime: CPython opens modules with ``RTLD_NOW`` (``sys.getdlopenflags()``),
    so one the interpreter does not export fails the import with "undefined symbol" (a cp312
    module renamed ``.cpython-311-...``: 3.11 lacks ``PyUnstable_Code_NewWithPosOnlyArgs``).
    Judged only where the runtime's export table is complete (read from real interpreters,
    :mod:`coinstall.runtimes.abi`) and only by what every interpreter of that runtime exports
    (a name only some micro releases export is not held against the module).
    """
    if elf is None or not elf.symbols_read or not elf.python_imports:
        return None
    if runtime.implementation == "cpython" and runtime.version[0] >= 3:
        build = build_mismatch(
            elf.python_imports,
            runtime.free_threaded,
            runtime.debug,
            runtime.version,
            elf.module_def,
        )
        if build is not None:
            return (
                build
                if isinstance(build, CannotTell)
                else (f"{build}: its binary is not the build its name says")
            )
    why = _table_mismatch(elf.python_imports, runtime)
    return (
        (_other_libpython(elf, runtime) or f"{why}: its symbols are not the build its name says")
        if why
        else None
    )


def build_mismatch(
    imports: frozenset[str],
    free_threaded: bool,
    debug: bool,
    version: tuple[int, ...],
    module_def: ObjectHeader | None = None,
) -> str | None:
    """Why a CPython 3 build (free-threaded or not, debug or not, of ``version``) cannot load
    a module importing ``imports``, by the build markers among them; None when they do not
    contradict it.  For a version-tagged module whose flags may lie (a GIL build's cp313
    module renamed ``.cpython-313t-...so``): the name finds the file, the symbols decide.

    * A free-threaded marker (``_Py_DecRefShared``, ``_Py_MergeZeroLocalRefcount``,
      ``PyUnstable_Module_SetGIL``: exported only with ``Py_GIL_DISABLED``, read from the real
      3.13 and 3.13t, ``data/abi_symbols.json``) on a GIL build: the loader fails
      ("undefined symbol: PyUnstable_Module_SetGIL", Debian's 3.13).
    * On a free-threaded build, a module that imports ``_Py_Dealloc`` and none of those
      markers: the GIL build's ``Py_DECREF`` (``Include/object.h``, 3.8+) calls
      ``_Py_Dealloc``; the free-threaded one calls ``_Py_MergeZeroLocalRefcount`` /
      ``_Py_DecRefShared`` instead (none of the 118 cp313t/cp314t modules of the pinned
      wheels and the 3.13t's own lib-dynload imports ``_Py_Dealloc``).  The object layouts
      differ (PEP 703): the real 3.13t crashes (SIGSEGV) or fails ("init function returned
      uninitialized object") on such a module.
    * A module importing neither (MarkupSafe 3.0.3's ``_speedups`` imports only
      ``PyModuleDef_Init`` and ``PyUnicode_New``): the object header of its static
      ``PyModuleDef`` (``module_def``, :mod:`coinstall.files.moduledef`) decides both ways:
      the real 3.13t fails on the cp313 build's module renamed ``.cpython-313t-...so`` ("init
      function of _speedups returned uninitialized object") and the real 3.13 on the cp313t
      build's renamed ``.cpython-313-...so`` (``MemoryError``).  No header either: a
      :class:`CannotTell` on a free-threaded build.
    * A debug marker (``_Py_RefTotal``, ``_Py_NegativeRefcount``: ``Py_REF_DEBUG``) on a
      release build ("undefined symbol: _Py_RefTotal", Debian's and pyenv's 3.11); a release
      module on a debug build before 3.8 (``Py_TRACE_REFS`` changed the object header until
      bpo-36465; since 3.8 a debug build loads release modules, observed with Debian's
      python3.11-dbg).
    """
    from coinstall.runtimes import abi as abi_data

    data = abi_data.load()
    ft = _first(imports & data.freethreaded)
    if ft is not None and not free_threaded:
        return f"built for a free-threaded CPython (imports {ft})"
    if ft is None and not free_threaded and module_def == "free-threaded":
        return f"built for a free-threaded CPython ({_FREE_HEADER})"
    if free_threaded and ft is None:
        if "_Py_Dealloc" in imports:
            return (
                "built for a GIL-enabled CPython (imports _Py_Dealloc, none of the "
                "free-threaded build's reference counting; PEP 703)"
            )
        if module_def == "gil":
            return f"built for a GIL-enabled CPython ({_GIL_HEADER}; PEP 703)"
        if module_def == "free-threaded":
            return _debug_mismatch(imports, debug, version)
        return CannotTell(
            "no imported symbol tells a free-threaded build's module from a GIL "
            "build's (neither _Py_DecRefShared/_Py_MergeZeroLocalRefcount nor "
            "_Py_Dealloc), and a GIL build's crashes a free-threaded CPython"
        )
    return _debug_mismatch(imports, debug, version)


#: what the ``PyModuleDef`` header of each build reads as, for reasons
_FREE_HEADER = (
    "its static PyModuleDef has the free-threaded build's object header: ob_tid, "
    "ob_ref_local, ob_ref_shared"
)
_GIL_HEADER = "its static PyModuleDef has the GIL build's object header: ob_refcnt, ob_type"


def _debug_mismatch(imports: frozenset[str], debug: bool, version: tuple[int, ...]) -> str | None:
    """The debug half of :func:`build_mismatch`."""
    from coinstall.runtimes import abi as abi_data

    dbg = _first(imports & abi_data.load().debug)
    if dbg is not None and not debug:
        return f"built for a debug CPython (imports {dbg})"
    if debug and dbg is None and tuple(version[:2]) < (3, 8):
        return "a release-build module: debug CPython before 3.8 loads only debug modules"
    return None


def _other_libpython(elf: LinkInfo, runtime: Runtime) -> CannotTell | None:
    """A :class:`CannotTell` when the module links another version's libpython than
    ``runtime``'s (``DT_NEEDED libpython3.11.so.1.0``, as CMake and SWIG builds do, e.g.
    bookworm's python3-saga), else None.

    The symbols ``runtime`` lacks then do not fail the import: the dynamic loader loads that
    libpython too and binds them there (bookworm's ``_saga_api.so`` imports in pyenv's 3.6,
    whose lacking 3.7 stable-ABI symbols come from libpython3.11): the import succeeds with
    two interpreters' libraries in one process, which the binary cannot vouch for either way.
    """
    lib = getattr(elf, "libpython", None)
    if lib is None:
        return None
    m = re.match(r"libpython(\d+)\.(\d+)", lib)
    if m is not None and (int(m[1]), int(m[2])) == runtime.version[:2]:
        return None
    return CannotTell(
        f"it links {lib}: what {runtime.id} lacks the dynamic loader takes from "
        "that library, another interpreter's, in the same process"
    )


class CannotTell(str):
    """A reason that is no verdict: the binary leaves it open whether the runtime loads the
    module (JSON ``files[].cannot_tell``, docs/json-format.md).  A runtime with this reason is
    not listed as usable."""

    __slots__ = ()


@dataclass(frozen=True)
class ModuleAbi:
    """What an extension module's imported interpreter symbols say about the build it is for.

    Attributes:
        imports: the ``Py*``/``_Py*`` symbols it imports.
        pypy: the first PyPy cpyext name imported (``PyPyErr_SetString``), None if none.
        python2: the first Python 2 module function imported (``Py_InitModule4_64``).
        debug: the first debug-build marker imported (``_Py_NegativeRefcount``).
        freethreaded: the first free-threaded marker imported (``_Py_DecRefShared``).
        limited: True when every import is in the stable ABI manifest (a limited-API build).
        baseline: for a limited-API module, the version its newest stable-ABI symbol needs.
        ucs: ``"UCS2"``/``"UCS4"`` for a Python 2 module using unicode functions, else None.
        versions: the CPython lines whose exported symbols can satisfy it (see
            :func:`module_abi`), ascending; for a limited-API module, not computed (empty).
    """

    imports: frozenset[str]
    pypy: str | None
    python2: str | None
    debug: str | None
    freethreaded: str | None
    limited: bool
    baseline: tuple[int, int] | None
    ucs: str | None
    versions: tuple[tuple[int, int], ...]


def _first(names: Iterable[str]) -> str | None:
    return min(names, default=None)


def _excluded(
    imports: frozenset[str], v: tuple[int, int], chain: tuple[ExportTable, ...]
) -> str | None:
    """Why CPython line ``v`` lacks one of ``imports``, told from the complete release tables
    around it, or None.  A line with its own complete table: a symbol it does not export.  A
    line newer than a table: a symbol the newest older table dropped although an older one
    exported it (removed: CPython does not bring a removed private name back).  A line older
    than every table: a symbol the oldest table lacks but a newer one exports (added later)."""
    own = next((t for t in chain if t.version == v), None)
    if own is not None:
        hard = imports - own.symbols - own.varies
        if hard:
            more = f" and {len(hard) - 1} more" if len(hard) > 1 else ""
            return f"CPython {v[0]}.{v[1]} does not export {min(hard)}{more}"
        return None
    lower = [t for t in chain if t.version < v]
    higher = [t for t in chain if t.version > v]
    if lower:
        newest = lower[-1]
        gone = {s for s in imports - newest.symbols if any(s in t.symbols for t in lower[:-1])}
        if gone:
            s = min(gone)
            return (
                f"{s} is gone from CPython {newest.version[0]}.{newest.version[1]} on "
                f"(read from the interpreters), so {v[0]}.{v[1]} lacks it"
            )
    if higher and not lower:
        oldest = higher[0]
        new = {s for s in imports - oldest.symbols if any(s in t.symbols for t in higher[1:])}
        if new:
            s = min(new)
            first = next(t.version for t in higher if s in t.symbols)
            return f"{s} first appears in CPython {first[0]}.{first[1]}, after {v[0]}.{v[1]}"
    return None


#: The CPython 3 lines a full-API module can have been built for (the catalogue's).
_LINES = tuple((3, m) for m in range(2, 16))


@functools.lru_cache(maxsize=1024)  # asked once per runtime for the same module
def module_abi(imports: frozenset[str]) -> ModuleAbi:
    """Read a module's imports against the runtimes' export tables
    (:mod:`coinstall.runtimes.abi`, read from real interpreters and ``Misc/stable_abi.toml``).

    ``versions``: for a full-API CPython 3 module, every line 3.2-3.15 not excluded by
    :func:`_excluded` (a line's own complete table must export every import; lines without one
    are excluded only by a symbol removed before or added after them).
    """
    from coinstall.runtimes import abi as abi_data

    data = abi_data.load()
    pypy = _first(s for s in imports if s.startswith(data.pypy_prefix))
    py2 = _first(imports & data.python2)
    debug = _first(imports & data.debug)
    ft = _first(imports & data.freethreaded)
    ucs = (
        "UCS4"
        if any(s.startswith("PyUnicodeUCS4_") for s in imports)
        else "UCS2"
        if any(s.startswith("PyUnicodeUCS2_") for s in imports)
        else None
    )
    limited = (
        bool(imports)
        and not (pypy or py2 or debug or ft)
        and all(symbol_added(s) is not None for s in imports)
    )
    baseline = stable_abi_baseline(imports) if limited else None
    versions: tuple[tuple[int, int], ...] = ()
    if not limited and not pypy and not py2:
        chain = data.release_chain
        # a debug or free-threaded module also imports its build's own names: the release
        # tables tell the version from the rest
        plain = imports - data.debug - data.freethreaded
        versions = tuple(v for v in _LINES if _excluded(plain, v, chain) is None)
    return ModuleAbi(imports, pypy, py2, debug, ft, limited, baseline, ucs, versions)


def _span(vs: Iterable[tuple[int, int]]) -> str:
    """``3.10-3.12`` for consecutive lines, else ``3.8, 3.10``."""
    vs = sorted(vs)
    if len(vs) > 1 and all(b == (a[0], a[1] + 1) for a, b in itertools.pairwise(vs)):
        return f"{vs[0][0]}.{vs[0][1]}\u2013{vs[-1][0]}.{vs[-1][1]}"
    return ", ".join(f"{a}.{b}" for a, b in vs)


def untagged_mismatch(elf: LinkInfo | None, runtime: Runtime) -> str | None:
    """Why a CPython ``runtime`` that finds an untagged module (``NAME.so``) cannot load it,
    a :class:`CannotTell` when its symbols leave that open, or None when it can.

    The file name says nothing (every CPython tries ``NAME.so``), so the imported symbols
    decide (:func:`module_abi`): a PyPy module (``PyPy*`` names), a Python 2 one
    (``Py_InitModule4*``), a debug build's (``_Py_NegativeRefcount``, ``_Py_RefTotal``, ...),
    a free-threaded build's (``_Py_DecRefShared``, ``_Py_MergeZeroLocalRefcount``) need such
    a runtime; a limited-API module is judged as abi3 (its baseline; not on a free-threaded
    build before 3.15, PEP 803); a full-API module needs a runtime whose exported symbols cover
    every import, of the one CPython line its symbols leave possible: when they leave several
    ("built for one of 3.10-3.12"), no runtime is certainly usable.  CPython opens modules
    with ``RTLD_NOW``: one missing symbol fails the import.
    """
    if (
        elf is None
        or not elf.symbols_read
        or runtime.implementation != "cpython"
        or runtime.platform != "linux"
        or not elf.python_imports
    ):
        return None
    from coinstall.runtimes import abi as abi_data

    m = module_abi(elf.python_imports)
    v = runtime.version
    if m.pypy:
        return f"a PyPy module (imports {m.pypy})"
    if v[0] == 2:
        if not m.python2 and m.limited:
            return "a Python 3 module (imports only Python 3's stable ABI)"
        if m.debug and not runtime.debug:
            return f"built for a debug Python 2 (imports {m.debug})"
        if runtime.debug and not m.debug:
            return "a release-build module: a debug Python 2 (Py_TRACE_REFS) cannot load it"
        ucs = "UCS4" if "u" in runtime.abiflags else "UCS2"
        if m.ucs and m.ucs != ucs:
            return f"built for a {m.ucs} Python 2, {runtime.id} is {ucs}"
        table = abi_data.load().table_for(runtime)
        if table is not None and table.complete:
            hard = elf.python_imports - table.symbols - table.varies
            if hard:
                return f"{runtime.id} does not export {min(hard)}"
        return None
    if m.python2:
        return f"a Python 2 module (imports {m.python2})"
    if m.debug and not runtime.debug:
        return f"built for a debug CPython (imports {m.debug})"
    if m.freethreaded and not runtime.free_threaded:
        return f"built for a free-threaded CPython (imports {m.freethreaded})"
    if elf.module_def == "free-threaded" and not runtime.free_threaded and not m.limited:
        return f"built for a free-threaded CPython ({_FREE_HEADER})"
    if runtime.debug and v < (3, 8) and not m.debug:
        return "a release-build module: debug CPython before 3.8 loads only debug modules"
    if m.limited:
        if runtime.free_threaded:
            if v < ABI3T_SINCE:
                return (
                    f"a limited-API (abi3) module: {runtime.id} cannot load the GIL "
                    "build's stable ABI (PEP 803)"
                )
            if not any(e.startswith("PyModExport_") for e in elf.init_exports):
                return (
                    "a limited-API module without a PEP 793 PyModExport_ hook is not "
                    f"abi3t: {runtime.id} cannot load it (PEP 803)"
                )
            return CannotTell(
                "a limited-API module with a PEP 793 export hook: built for "
                "abi3t or for abi3, cannot tell which"
            )
        if m.baseline is not None and v < m.baseline:
            return _other_libpython(elf, runtime) or (
                f"uses stable-ABI symbols added in {m.baseline[0]}.{m.baseline[1]}, newer "
                f"than {runtime.id}"
            )
        why = _table_mismatch(elf.python_imports, runtime)
        return (_other_libpython(elf, runtime) or why) if why else None
    table = abi_data.load().table_for(runtime)
    missing: frozenset[str] = frozenset()
    if table is not None and table.complete:
        missing = elf.python_imports - table.symbols
        hard = missing - table.varies
        if hard:
            more = f" and {len(hard) - 1} more" if len(hard) > 1 else ""
            return _other_libpython(elf, runtime) or (
                f"{runtime.id} does not export {min(hard)}{more}"
            )
    if runtime.free_threaded and not m.freethreaded:
        # a GIL build's Py_DECREF calls _Py_Dealloc (3.8+); a free-threaded one calls
        # _Py_MergeZeroLocalRefcount/_Py_DecRefShared instead
        if "_Py_Dealloc" in elf.python_imports:
            return (
                "built for a GIL-enabled CPython (imports _Py_Dealloc, none of the "
                f"free-threaded build's reference counting): {runtime.id} cannot load it "
                "(PEP 703, PEP 803)"
            )
        if elf.module_def == "gil":
            return (
                f"built for a GIL-enabled CPython ({_GIL_HEADER}): {runtime.id} cannot load "
                "it (PEP 703, PEP 803)"
            )
        if elf.module_def != "free-threaded":
            return CannotTell("no imported symbol tells a GIL build from a free-threaded one")
    if missing:  # only some interpreters of the runtime export it
        return CannotTell(f"{min(missing)} is exported by some {v[0]}.{v[1]} releases only")
    why = _excluded(
        elf.python_imports - abi_data.load().debug - abi_data.load().freethreaded,
        v,
        abi_data.load().release_chain,
    )
    if why is not None:
        return _other_libpython(elf, runtime) or why
    complete = table is not None and table.complete
    if m.versions == (v,) and (complete or not (m.debug or m.freethreaded)):
        return None
    if len(m.versions) > 1:
        return CannotTell(f"built for one of CPython {_span(m.versions)}; cannot tell which")
    return CannotTell(f"no table of {runtime.id}'s exported symbols to compare with")


def built_for(imports: frozenset[str]) -> str:
    """What a module's imported symbols say it was built for, as a phrase for findings:
    ``"a PyPy module (imports PyPyErr_SetString)"``, ``"a limited-API module (stable ABI
    3.9)"``, ``"CPython 3.12 (by its symbols)"``, ``"one of CPython 3.13\u20133.14 (its symbols
    cannot tell which)"``; see :func:`module_abi`."""
    if not imports:
        return "no interpreter symbols (nothing to tell its build from)"
    m = module_abi(imports)
    if m.pypy:
        return f"a PyPy module (imports {m.pypy})"
    if m.python2:
        return f"a Python 2 module (imports {m.python2})"
    flavour = ("a free-threaded " if m.freethreaded else "") + ("debug " if m.debug else "")
    if m.limited:
        base = f"{m.baseline[0]}.{m.baseline[1]}" if m.baseline else "3.2"
        return f"a limited-API module (stable ABI {base}+, which the name .abi3.so says)"
    what = f"{flavour}CPython".replace("a free-threaded CPython", "free-threaded CPython")
    evidence = (
        f" (imports {m.freethreaded})"
        if m.freethreaded
        else f" (imports {m.debug})"
        if m.debug
        else ""
    )
    if len(m.versions) == 1:
        v = m.versions[0]
        return f"{what} {v[0]}.{v[1]} by its symbols{evidence}"
    if m.versions:
        return f"one of {what} {_span(m.versions)} (its symbols cannot tell which){evidence}"
    return f"a {what} build no export table here matches{evidence}"
