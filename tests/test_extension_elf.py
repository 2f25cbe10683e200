"""read_elf's symbol table: the struct walk of ``.dynsym`` (in-memory objects) gives exactly what
pyelftools' own ``iter_symbols`` walk gives (objects read from a stream always take that walk).

Real objects: the extension modules of this machine's interpreters (Debian's python3.11 and
its -dbg build, pyenv's CPythons: 64-bit little-endian x86-64).  The other three layouts
(ELF32 LSB/MSB, ELF64 MSB) are not on this machine, so small objects of those layouts are
written here byte by byte (elf(5): Elf{32,64}_Ehdr, _Shdr, _Sym) and read by both walks;
pyelftools is the reference for what their bytes say.  Damaged copies of real objects (a
truncated symbol table, a string table past the end, an odd entry size) must give the same
result or the same error both ways.
"""

from __future__ import annotations

import glob
import io
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from coinstall.files.extension import ElfInfo, _dynsym_direct, _symbol_table, read_elf
from interpreters import PYENV_VERSIONS


def _struct_walk_taken(data: bytes) -> bool:
    """Whether read_elf reads these bytes' table with the struct walk (not the fallback)."""
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(data))
    direct = _dynsym_direct(data, elf)
    walked = _symbol_table(data, elf, elf.get_section_by_name(".dynsym"))
    # the section headers unpacked directly find the same table pyelftools' lookup finds
    assert direct is None or direct == walked
    return direct is not None and walked is not None


def _both(data: bytes) -> tuple[ElfInfo | str | None, ElfInfo | str | None]:
    """read_elf of the bytes (struct walk) and of a stream (pyelftools walk); a ValueError's
    message stands for the result."""
    out: list[ElfInfo | str | None] = []
    for arg in (data, io.BytesIO(data)):
        try:
            info = read_elf(arg, symbols=True)
            # the PyModuleDef header is read from objects in memory only (a stream is a
            # member spooled for its size): not part of the symbol walk compared here
            out.append(replace(info, module_def=None) if info is not None else None)
        except ValueError as exc:
            out.append(f"ValueError: {exc}")
    return out[0], out[1]


def _real_objects() -> list[Path]:
    found = sorted(glob.glob("/usr/lib/python3*/lib-dynload/*.so"))
    found += sorted(glob.glob(str(PYENV_VERSIONS / "*/lib/python3*/lib-dynload/*.so")))
    return [Path(p) for p in found]


def test_real_extension_modules_same_symbols_both_walks() -> None:
    objects = _real_objects()
    if not objects:
        pytest.skip("no interpreter's lib-dynload on this machine")
    with_init = 0
    for path in objects[::7]:  # every 7th: a few hundred objects, all interpreters
        data = path.read_bytes()
        fast, reference = _both(data)
        assert fast == reference, path
        assert isinstance(fast, ElfInfo)
        assert _struct_walk_taken(data), path
        if fast.init_exports:
            with_init += 1
            assert fast.python_imports  # an extension module imports from the interpreter
    assert with_init > 10


def _dynsym_header(data: bytes) -> tuple[int, int, int, int]:
    """(offset of .dynsym's Elf64_Shdr, sh_offset, sh_size, sh_entsize) in a 64-bit LSB
    object, read with pyelftools."""
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(io.BytesIO(data))
    for n, sec in enumerate(elf.iter_sections()):
        if sec.name == ".dynsym":
            at = elf["e_shoff"] + n * elf["e_shentsize"]
            return at, sec["sh_offset"], sec["sh_size"], sec["sh_entsize"]
    raise AssertionError("no .dynsym")


def test_damaged_symbol_tables_same_result_or_error() -> None:
    objects = [p for p in _real_objects() if "_json" in p.name or "_struct" in p.name]
    if not objects:
        pytest.skip("no interpreter's lib-dynload on this machine")
    data = objects[0].read_bytes()
    shdr, off, size, _ = _dynsym_header(data)

    # Elf64_Shdr fields: sh_offset at +24, sh_size at +32, sh_entsize at +56
    def patched(field: int, value: int) -> bytes:
        b = bytearray(data)
        struct.pack_into("<Q", b, shdr + field, value)
        return bytes(b)

    cases = {
        "truncated in the table": data[: off + size // 2],
        "table past the end": patched(24, len(data) - size // 3),
        "entry size 48": patched(56, 48),  # a multiple: pyelftools reads every other record
        "entry size 0": patched(56, 0),
        "size not a multiple": patched(32, size + 5),
        "string table cut off": data[: off + size],
    }
    for what, blob in cases.items():
        fast, reference = _both(blob)
        assert fast == reference, what


# --- the other layouts: a minimal shared object, written by hand -----------------------------


def _elf(elfclass: int, little: bool, machine: int, symbols: list[tuple[bytes, int]]) -> bytes:
    """A minimal ELF object: null section, ``.dynsym`` (``symbols``: name and ``st_shndx``),
    ``.dynstr``, ``.shstrtab`` (elf(5) layouts)."""
    e = "<" if little else ">"
    dynstr = b"\0" + b"".join(n + b"\0" for n, _ in symbols)
    shstr = b"\0.dynsym\0.dynstr\0.shstrtab\0"
    entsize = 16 if elfclass == 32 else 24
    recs = [b"\0" * entsize]  # symbol 0 is the null symbol
    at = 1
    for name, shndx in symbols:
        if elfclass == 32:
            recs.append(struct.pack(e + "IIIBBH", at, 0x1000, 8, 0x12, 0, shndx))
        else:
            recs.append(struct.pack(e + "IBBHQQ", at, 0x12, 0, shndx, 0x1000, 8))
        at += len(name) + 1
    dynsym = b"".join(recs)
    ehsize, shentsize = (52, 40) if elfclass == 32 else (64, 64)
    body = dynsym + dynstr + shstr
    shoff = ehsize + len(body)
    ident = b"\x7fELF" + bytes([1 if elfclass == 32 else 2, 1 if little else 2, 1]) + b"\0" * 9
    if elfclass == 32:
        head = ident + struct.pack(
            e + "HHIIIIIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0, shentsize, 4, 3
        )
        sh = e + "IIIIIIIIII"
    else:
        head = ident + struct.pack(
            e + "HHIQQQIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, ehsize, 0, 0, shentsize, 4, 3
        )
        sh = e + "IIQQQQIIQQ"
    o_sym, o_str = ehsize, ehsize + len(dynsym)
    o_shs = o_str + len(dynstr)
    # name, type, flags, addr, offset, size, link, info, addralign, entsize
    sections = [
        struct.pack(sh, *[0] * 10),
        struct.pack(sh, 1, 11, 2, 0, o_sym, len(dynsym), 2, 1, 8, entsize),  # DYNSYM
        struct.pack(sh, 9, 3, 2, 0, o_str, len(dynstr), 0, 0, 1, 0),  # STRTAB
        struct.pack(sh, 17, 3, 0, 0, o_shs, len(shstr), 0, 0, 1, 0),
    ]
    return head + body + b"".join(sections)


SYMBOLS = [
    (b"PyLong_FromLong", 0),
    (b"_Py_Dealloc", 0),
    (b"PyInit__speedups", 9),
    (b"init_speedups", 9),
    (b"memcpy", 0),
    (b"Py_helper", 9),
    (b"initfoo", 0),
    (b"Py\xff\xfebad", 0),
    (b"", 0),
    (b"PyModExport__speedups", 9),
]


@pytest.mark.parametrize(
    ("elfclass", "little", "machine"),
    [(32, True, 3), (32, False, 20), (64, False, 22), (64, True, 62)],
)
def test_each_layout_same_symbols_as_pyelftools(elfclass: int, little: bool, machine: int) -> None:
    data = _elf(elfclass, little, machine, SYMBOLS)
    assert _struct_walk_taken(data)
    fast, reference = _both(data)
    assert fast == reference
    assert isinstance(fast, ElfInfo)
    assert (fast.elfclass, fast.little_endian) == (elfclass, little)
    assert fast.python_imports == {"PyLong_FromLong", "_Py_Dealloc", "Py\ufffd\ufffdbad"}
    assert fast.init_exports == {"PyInit__speedups", "init_speedups", "PyModExport__speedups"}
