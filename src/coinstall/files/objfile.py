"""Extension modules for macOS and Windows: the Mach-O and PE headers, as ELF is read in
:mod:`coinstall.files.extension`.

Libraries, and why these: **pefile** (erocarrera/pefile) reads PE files; it is what abi3audit
uses for Windows modules (``abi3audit/_object.py``, ``_Dll``).  **macholib** (ronaldoussoren/
macholib, the Mach-O reader of py2app, PyInstaller and delocate) reads thin and fat (universal2)
Mach-O headers and load commands; abi3audit parses Mach-O with a Kaitai parser it vendors
privately, which is no API to build on.  Both are pure Python: a hostile file makes them raise,
it cannot crash the process, which a C++ parser such as lief (fast, but one large native
dependency whose API changes between majors) could.

Glue, because macholib's ``SymbolTable`` builds one Python object per symbol, too slow on a
large universal2 extension (measured: benchmarks/MEASUREMENTS.md, 'Mach-O symbols').
:func:`read_macho` takes the symbol-table offsets from macholib's load commands and unpacks
only the external entries with :func:`struct.iter_unpack`.

Facts: Mach-O ``cputype`` values from Apple's ``<mach/machine.h>`` (macholib ``mach_o.py``
``CPU_TYPE_NAMES``); ``nlist``/``nlist_64`` layout and ``N_EXT``/``N_TYPE`` from
``<mach-o/nlist.h>``; PE ``Machine`` values from the PE/COFF specification (pefile
``MACHINE_TYPE``); the Windows load-time check of the ``pythonXY.dll`` import from CPython
``Python/dynload_win.c`` (``GetPythonImport``); PYD platform tags from CPython
``PC/pyconfig.h.in`` (``PYD_PLATFORM_TAG``).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from typing import Any

from coinstall.files.moduledef import ObjectHeader

#: Mach-O cputype -> the architecture name macOS wheel tags use (``macosx_11_0_arm64``).
MACHO_CPU: dict[int, str] = {
    7: "i386",
    7 | 0x01000000: "x86_64",
    12: "arm",
    12 | 0x01000000: "arm64",
    12 | 0x02000000: "arm64_32",
    18: "ppc",
    18 | 0x01000000: "ppc64",
}

#: PE ``FILE_HEADER.Machine`` -> the PYD platform tag of the CPython built for it.
PE_MACHINE: dict[int, str] = {
    0x8664: "win_amd64",
    0x014C: "win32",
    0xAA64: "win_arm64",
    0x01C4: "win_arm32",
}

#: The magic numbers a Mach-O file starts with: thin 32/64-bit in both byte orders, fat.
_MACHO_MAGICS = (
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xca\xfe\xba\xbf",
)

_INIT_PREFIXES = ("PyInit_", "PyInitU_", "PyModExport_", "init")
_PY_DLL = re.compile(r"^python(\d+)(t?)(_d)?\.dll$", re.IGNORECASE)

N_EXT = 0x01
N_TYPE = 0x0E
N_UNDF = 0x00
N_SECT = 0x0E


@dataclass(frozen=True)
class ObjectInfo:
    """What a Mach-O or PE extension module says about where it loads.

    Attributes:
        format: ``"macho"`` or ``"pe"``.
        machines: the architectures it holds: Mach-O slice names (``("x86_64", "arm64")`` for
            a universal2 file; :data:`MACHO_CPU`), or the one PYD platform tag of a PE file
            (``("win_amd64",)``; :data:`PE_MACHINE`).  An unknown CPU appears as ``cpu-0x...``.
        symbols_read: True when the symbol tables were read (PE: always; Mach-O: on request).
        python_imports: interpreter symbols it imports (``Py*``, ``_Py*``; Mach-O names
            without the leading underscore the C compiler adds).
        init_exports: exported ``PyInit_*``/``PyInitU_*``/``PyModExport_*``/``init*`` names.
        python_dll: PE only: the first ``python*.dll`` it imports (``python312.dll``,
            ``python3.dll`` for the stable ABI), lower-cased; None if none.
    """

    format: str
    machines: tuple[str, ...]
    symbols_read: bool = False
    python_imports: frozenset[str] = frozenset()
    init_exports: frozenset[str] = frozenset()
    python_dll: str | None = None
    #: the ELF reader's ``module_def``; never read from Mach-O or PE files: None
    module_def: ObjectHeader | None = None

    def describe(self) -> str:
        """``"Mach-O universal x86_64+arm64"``, ``"PE win_amd64"``."""
        if self.format == "pe":
            return f"PE {'+'.join(self.machines)}"
        kind = "universal " if len(self.machines) > 1 else ""
        return f"Mach-O {kind}{'+'.join(self.machines)}"

    @property
    def stable_abi(self) -> bool:
        """True for a PE module linked against ``python3.dll`` (Windows has no abi3 file-name
        tag: a stable-ABI module is a plain ``.pyd`` that imports from ``python3.dll``,
        PEP 384) or ``python3t.dll`` (abi3t, PEP 803)."""
        return self.python_dll in ("python3.dll", "python3t.dll")

    def dll_version(self) -> tuple[tuple[int, int], bool, bool] | None:
        """``((3, 12), free_threaded, debug)`` from ``python312.dll`` / ``python313t.dll`` /
        ``python312_d.dll``; None for ``python3.dll`` or no Python import."""
        if self.python_dll is None:
            return None
        m = _PY_DLL.match(self.python_dll)
        if m is None or len(m[1]) < 2:
            return None
        return (int(m[1][0]), int(m[1][1:])), bool(m[2]), bool(m[3])


def read_object(data: bytes, *, symbols: bool = False) -> ObjectInfo | None:
    """The Mach-O or PE identification of ``data`` (a whole file); None if it is neither.

    Args:
        data: the whole file.
        symbols: also read a Mach-O file's external symbols (PE import and export tables are
            always read: the ``pythonXY.dll`` import is the version check Windows enforces).

    Raises:
        ValueError: the file starts like Mach-O or PE but cannot be parsed.
    """
    if data.startswith(_MACHO_MAGICS):
        return read_macho(data, symbols=symbols)
    if data.startswith(b"MZ"):
        return read_pe(data)
    return None


class _MachOBytes:
    """macholib's ``MachO`` opens a file by name; this runs its loader on bytes in memory
    (glue: macholib has no bytes constructor; the attributes are those ``MachO.__init__``
    sets before ``load``)."""

    def __new__(cls, data: bytes) -> Any:
        from macholib.MachO import MachO

        obj = MachO.__new__(MachO)
        obj.graphident = obj.filename = "<memory>"
        obj.loader_path = ""
        obj.fat = None
        obj.headers = []
        # New load commands (LC_DYLD_CHAINED_FIXUPS, ...) must not make the file unreadable.
        obj.allow_unknown_load_commands = True
        obj.load(io.BytesIO(data))
        return obj


def _macho_symbols(data: bytes, header: Any) -> tuple[set[str], set[str]]:
    """(undefined external ``Py*`` names, defined external init names) of one slice."""
    from macholib.mach_o import MH_CIGAM_64, MH_MAGIC_64

    symtab = header.getSymbolTableCommand()
    if symtab is None:
        return set(), set()
    base = header.offset
    wide = header.MH_MAGIC in (MH_MAGIC_64, MH_CIGAM_64)
    fmt = header.endian + ("IBBHQ" if wide else "IBBHI")
    size = struct.calcsize(fmt)
    start, count = 0, symtab.nsyms
    dysym = header.getDynamicSymbolTableCommand()
    ranges = [(start, count)]
    if dysym is not None:  # only the external entries: defined, then undefined
        ranges = [(dysym.iextdefsym, dysym.nextdefsym), (dysym.iundefsym, dysym.nundefsym)]
    strtab = data[base + symtab.stroff : base + symtab.stroff + symtab.strsize]
    imports: set[str] = set()
    exports: set[str] = set()
    for first, n in ranges:
        lo = base + symtab.symoff + first * size
        hi = lo + n * size
        if n < 0 or hi > len(data) or first + n > symtab.nsyms:
            raise ValueError("Mach-O symbol table lies outside the file")
        for strx, ntype, _sect, _desc, _value in struct.iter_unpack(fmt, data[lo:hi]):
            if not ntype & N_EXT or strx >= len(strtab):
                continue
            end = strtab.find(b"\0", strx)
            raw = strtab[strx : end if end >= 0 else len(strtab)]
            if not raw.startswith(b"_"):
                continue
            name = raw[1:].decode("ascii", "replace")
            kind = ntype & N_TYPE
            if kind == N_UNDF and name.startswith(("Py", "_Py")):
                imports.add(name)
            elif kind == N_SECT and name.startswith(_INIT_PREFIXES):
                exports.add(name)
    return imports, exports


def read_macho(data: bytes, *, symbols: bool = False) -> ObjectInfo:
    """The Mach-O identification of ``data``: every slice's CPU, and with ``symbols`` the
    external symbols of all slices (a universal2 module needs the same interpreter symbols on
    both architectures; the union is what some slice needs).

    Raises:
        ValueError: the header or a load command is corrupt or truncated.
    """
    try:
        macho = _MachOBytes(data)
        machines: list[str] = []
        imports: set[str] = set()
        exports: set[str] = set()
        for h in macho.headers:
            cpu = int(h.header.cputype)
            machines.append(MACHO_CPU.get(cpu, f"cpu-{cpu:#x}"))
            if symbols:
                i, e = _macho_symbols(data, h)
                imports |= i
                exports |= e
    except ValueError as exc:
        raise ValueError(f"corrupt Mach-O object: {exc}") from None
    except Exception as exc:  # struct.error, AssertionError, ... on truncated files
        raise ValueError(f"truncated Mach-O object: {exc}") from None
    if not machines:
        raise ValueError("Mach-O object without an architecture")
    return ObjectInfo("macho", tuple(machines), symbols, frozenset(imports), frozenset(exports))


def read_pe(data: bytes) -> ObjectInfo:
    """The PE identification of ``data``: the machine, the ``python*.dll`` it imports, the
    interpreter symbols it imports from it and the init functions it exports.

    Raises:
        ValueError: the file starts with ``MZ`` but is no valid PE image.
    """
    import pefile

    # No pe.close(): it only unmaps files pefile opened itself, and then runs a full
    # gc.collect() per module (measured: benchmarks/MEASUREMENTS.md, 'pefile close').
    try:
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(
            directories=[
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_EXPORT"],
            ]
        )
        machine = int(pe.FILE_HEADER.Machine)
        python_dll: str | None = None
        imports: set[str] = set()
        for entry in getattr(pe, "DIRECTORY_ENTRY_IMPORT", ()):
            dll = (entry.dll or b"").decode("ascii", "replace").lower()
            if not _PY_DLL.match(dll):
                continue
            if python_dll is None or (
                python_dll in ("python3.dll", "python3t.dll") and dll != python_dll
            ):
                # dynload_win.c skips python3.dll when looking for the version DLL
                python_dll = dll
            for imp in entry.imports:
                if imp.name:
                    imports.add(imp.name.decode("ascii", "replace"))
        exports: set[str] = set()
        exp = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
        for sym in exp.symbols if exp is not None else ():
            if sym.name:
                name = sym.name.decode("ascii", "replace")
                if name.startswith(_INIT_PREFIXES):
                    exports.add(name)
    except Exception as exc:  # pefile.PEFormatError, struct.error on hostile input
        raise ValueError(f"corrupt PE object: {exc}") from None
    arch = PE_MACHINE.get(machine, f"machine-{machine:#x}")
    return ObjectInfo(
        "pe",
        (arch,),
        True,
        frozenset(s for s in imports if s.startswith(("Py", "_Py"))),
        frozenset(exports),
        python_dll,
    )


def object_mismatch(
    obj: ObjectInfo | None,
    platform: str,
    machine: str | None,
    runtime_id: str,
    version: tuple[int, int],
    abiflags: str,
    implementation: str,
) -> str | None:
    """Why a macOS or Windows runtime cannot load this object, or None.

    Args:
        obj: what :func:`read_object` found (None: the file is no Mach-O/PE object).
        platform: the runtime's ``sys.platform`` (``darwin``, ``win32``; others: None).
        machine: the runtime's architecture (``arm64``, ``win_amd64``), None if unknown.
        runtime_id, version, abiflags, implementation: the runtime's.
    """
    if platform not in ("darwin", "win32"):
        return None
    want = "macho" if platform == "darwin" else "pe"
    if obj is None or obj.format != want:
        return f"not a {'Mach-O' if want == 'macho' else 'PE'} object"
    if machine is not None and machine not in obj.machines:
        return f"{obj.describe()} cannot be loaded by a {machine} {runtime_id}"
    if want == "pe" and implementation == "cpython" and obj.python_dll is not None:
        ver = obj.dll_version()
        if ver is None:
            # python3.dll: abi3, GIL builds only (free-threaded builds do not load abi3,
            # PEP 803); python3t.dll: abi3t, every build from 3.15 (PEP 803, cpython#148690)
            if obj.python_dll == "python3t.dll":
                if version < (3, 15):
                    return (
                        f"links python3t.dll (abi3t, PEP 803), which {runtime_id} does not provide"
                    )
                return None
            if "t" in abiflags:
                return (
                    f"links python3.dll (stable ABI), which free-threaded {runtime_id} "
                    "does not provide"
                )
            return None
        v, ft, dbg = ver
        if (v, ft, dbg) != (version, "t" in abiflags, "d" in abiflags):
            expected = (
                f"python{version[0]}{version[1]}{'t' if 't' in abiflags else ''}"
                f"{'_d' if 'd' in abiflags else ''}.dll"
            )
            # dynload_win.c: "Module use of pythonXY.dll conflicts with this version of Python"
            return f"links {obj.python_dll}, not {expected}: {runtime_id} cannot load it"
    return None
