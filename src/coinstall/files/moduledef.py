"""The object header of an extension module's static ``PyModuleDef``: the one part of a
module's data that a GIL build and a free-threaded build of CPython lay out differently even
when the module imports no interpreter symbol that tells them apart.

Every Python 3 module that defines its module with a static ``PyModuleDef`` (single-phase
``PyModule_Create2(&def, ...)`` or multi-phase ``PyModuleDef_Init(&def)``) starts it with
``PyModuleDef_HEAD_INIT`` (CPython ``Include/moduleobject.h``): a ``PyObject`` header, then
``m_init``, ``m_index``, ``m_copy`` (NULL, 0, NULL), then ``m_name``, a pointer to the
module's name.  The header is ``PyObject_HEAD_INIT(NULL)`` (``Include/object.h``):

* GIL build: ``ob_refcnt, ob_type`` = a non-zero count (1 before 3.12, the immortal count
  since, with 3.14's static flags in its upper bits), NULL;
* free-threaded build (``Py_GIL_DISABLED``, 3.13+, PEP 703): ``ob_tid, ob_flags, ob_mutex,
  ob_gc_bits, ob_ref_local, ob_ref_shared, ob_type`` = 0, 0 (3.13) or the static flag (3.14),
  0, 0, ``_Py_IMMORTAL_REFCNT_LOCAL`` (``UINT32_MAX``), 0, NULL.

So the words just before the ``m_name`` slot read ``refcnt != 0, 0 x 4`` (pointer-sized
words) in a GIL build's module and ``0, (flags, 0, 0), 0xffffffff, 0 x 5`` in a free-threaded
build's; either layout read at the other's offsets fails (the free-threaded layout has a zero
where the GIL count must be non-zero).  Read on the real MarkupSafe 3.0.3 wheels (cp313,
cp313t, cp314, cp314t: ``tests/test_moduledef.py``), whose ``_speedups`` imports only
``PyModuleDef_Init`` and ``PyUnicode_New``.  A GIL build's module renamed for a
free-threaded CPython fails there ("init function of _speedups returned uninitialized
object", the real 3.13t), and a free-threaded build's on a GIL CPython (``MemoryError``, the
real 3.13).

The slot is found from the module's name: the ``PyInit_NAME`` it exports names it, and its
``m_name`` is ``NAME`` or ``package.NAME``.  A pointer to that string sits in the ``m_name``
slot in the file itself (GNU ld writes the addend in place; ``REL`` and ``RELR`` relocations
keep it there), or is the addend of a ``RELA`` relocation with no symbol (lld leaves the slot
zero).  Glue: pyelftools has no "which words point at this address"; the program headers and
relocation records are fixed-size and unpacked with ``struct`` (elf(5)), as
:mod:`coinstall.files.extension` unpacks ``.dynsym``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Literal

#: What the header says: a GIL build's ``PyObject`` or a free-threaded build's.
ObjectHeader = Literal["gil", "free-threaded"]

#: ``p_type, p_flags, p_offset, p_vaddr, p_filesz`` of an ``Elf64_Phdr`` and ``p_type,
#: p_offset, p_vaddr, p_filesz, p_flags`` of an ``Elf32_Phdr`` (elf(5)), by (ELF class,
#: little-endian).
_PHDR = {
    (32, True): struct.Struct("<III4xI4xI4x"),
    (32, False): struct.Struct(">III4xI4xI4x"),
    (64, True): struct.Struct("<IIQQ8xQ16x"),
    (64, False): struct.Struct(">IIQQ8xQ16x"),
}
_PT_LOAD, _PF_W = 1, 2
#: ``r_offset, r_info, r_addend`` of an ``Elf32_Rela``/``Elf64_Rela`` (elf(5)).
_RELA = {
    (32, True): struct.Struct("<IIi"),
    (32, False): struct.Struct(">IIi"),
    (64, True): struct.Struct("<QQq"),
    (64, False): struct.Struct(">QQq"),
}
_SHT_RELA = 4
#: at most this many places are looked at for the name and for pointers to it (a module's name
#: appears a few times: the def, a docstring, an error message)
_MAX_HITS = 64
#: the longest module name read backwards from ``.NAME`` to the start of ``package.NAME``
_MAX_NAME = 256
_FREE_LOCAL = b"\xff\xff\xff\xff"  # _Py_IMMORTAL_REFCNT_LOCAL (UINT32_MAX), either byte order


def module_def_header(
    data: bytes | bytearray,
    elfclass: int,
    little_endian: bool,
    e_phoff: int,
    e_phnum: int,
    e_phentsize: int,
    sections: Iterable[tuple[int, ...]],
    init_exports: Iterable[str],
) -> ObjectHeader | None:
    """The object header of the module's static ``PyModuleDef``, read from the file.

    Args:
        data: the whole ELF file.
        elfclass, little_endian: from its identification (32 or 64; byte order).
        e_phoff, e_phnum, e_phentsize: its program header table (elf(5)).
        sections: ``(sh_type, sh_flags, sh_offset, sh_size, sh_link, sh_entsize)`` of each
            section header (``RELA`` tables are read from them; others are ignored).
        init_exports: the ``PyInit_*`` names the module exports (others are ignored).

    Returns:
        ``"gil"`` or ``"free-threaded"`` when every ``PyModuleDef`` found for the module's
        name has that layout; None when none is found (no ``PyInit_`` export, a def filled at
        run time as pybind11's, a name the file lacks, an unknown ELF class) or when the
        layouts found disagree or match neither.  Never raises on malformed input: what lies
        outside the file or outside a loaded segment is not read.
    """
    key = (elfclass, little_endian)
    phdr = _PHDR.get(key)
    if phdr is None or e_phentsize != phdr.size or e_phnum <= 0:
        return None
    end = e_phoff + e_phnum * e_phentsize
    if e_phoff <= 0 or end > len(data):
        return None
    loads: list[tuple[int, int, int]] = []
    writable: list[tuple[int, int, int]] = []
    for entry in phdr.iter_unpack(memoryview(data)[e_phoff:end]):
        if elfclass == 64:
            p_type, flags, offset, vaddr, filesz = entry
        else:
            p_type, offset, vaddr, filesz, flags = entry
        if p_type == _PT_LOAD and offset + filesz <= len(data):
            loads.append((offset, vaddr, filesz))
            if flags & _PF_W:
                writable.append((offset, vaddr, filesz))
    names = {e[len("PyInit_") :].encode() for e in init_exports if e.startswith("PyInit_")}
    targets = set(_name_addresses(data, loads, {n for n in names if n}))
    if not targets:
        return None
    word = 8 if elfclass == 64 else 4
    slots = set(_in_place(data, writable, targets, word, little_endian))
    slots.update(_rela_slots(data, sections, targets, _RELA[key], elfclass))
    found = {h for s in sorted(slots)[:_MAX_HITS] if (h := _header_before(data, loads, s, word))}
    return found.pop() if len(found) == 1 else None


def _vaddr(loads: list[tuple[int, int, int]], offset: int) -> int | None:
    for start, vaddr, size in loads:
        if start <= offset < start + size:
            return vaddr + offset - start
    return None


def _file_range(loads: list[tuple[int, int, int]], vaddr: int, size: int) -> int | None:
    """The file offset of ``size`` bytes at ``vaddr``, None unless one segment's file image
    holds all of them."""
    for start, base, filesz in loads:
        if base <= vaddr and vaddr + size <= base + filesz:
            return start + vaddr - base
    return None


_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _name_addresses(
    data: bytes | bytearray, loads: list[tuple[int, int, int]], names: set[bytes]
) -> Iterator[int]:
    """The virtual addresses where a NUL-terminated ``NAME`` or ``package.NAME`` may start.

    A string's start is not marked in the file (read-only data need not put a NUL before it,
    and the linker may merge ``NAME`` into the tail of a longer string), so every position
    from which the bytes up to the NUL read as a dotted name ending in ``NAME`` counts."""
    hits = 0
    for name in names:
        at = data.find(name + b"\0")
        while at >= 0 and hits < _MAX_HITS:
            hits += 1
            starts = [at]
            if at > 0 and data[at - 1] == 0x2E:  # '.': package.NAME
                k = at - 2
                while k >= max(0, at - _MAX_NAME) and data[k] in _NAME_CHARS:
                    head = bytes(data[k : at - 1]).decode("ascii")
                    if all(p.isidentifier() for p in head.split(".")):
                        starts.append(k)
                    k -= 1
            for start in starts:
                vaddr = _vaddr(loads, start)
                if vaddr is not None:
                    yield vaddr
            at = data.find(name + b"\0", at + 1)


def _in_place(
    data: bytes | bytearray,
    writable: list[tuple[int, int, int]],
    targets: set[int],
    word: int,
    little_endian: bool,
) -> Iterator[int]:
    """The aligned words of the writable segments that hold one of ``targets`` (the def is
    written to at import, so it lies in ``.data`` or ``.data.rel.ro``)."""
    fmt = ("<" if little_endian else ">") + ("Q" if word == 8 else "I")
    for offset, vaddr, filesz in writable:
        skip = -vaddr % word
        usable = (filesz - skip) // word * word
        if usable <= 0:
            continue
        view = memoryview(data)[offset + skip : offset + skip + usable]
        for i, (value,) in enumerate(struct.iter_unpack(fmt, view)):
            if value in targets:
                yield vaddr + skip + i * word


def _rela_slots(
    data: bytes | bytearray,
    sections: Iterable[tuple[int, ...]],
    targets: set[int],
    rela: struct.Struct,
    elfclass: int,
) -> Iterator[int]:
    """``r_offset`` of the ``RELA`` relocations without a symbol whose addend is a target (a
    relative relocation: ``R_X86_64_RELATIVE``, ``R_AARCH64_RELATIVE``, ...)."""
    shift = 32 if elfclass == 64 else 8
    for sh_type, _flags, offset, size, _link, entsize in sections:
        if sh_type != _SHT_RELA or entsize != rela.size or offset + size > len(data):
            continue
        size -= size % rela.size
        for r_offset, r_info, r_addend in rela.iter_unpack(
            memoryview(data)[offset : offset + size]
        ):
            if r_addend in targets and r_info >> shift == 0:
                yield r_offset


def _header_before(
    data: bytes | bytearray, loads: list[tuple[int, int, int]], slot: int, word: int
) -> ObjectHeader | None:
    """The layout of the ``PyModuleDef`` whose ``m_name`` is at ``slot`` (see the module's
    docstring), None if neither matches for certain."""
    # free-threaded: ob_tid (word), ob_flags (2), ob_mutex, ob_gc_bits, ob_ref_local (4),
    # ob_ref_shared, ob_type, m_init, m_index, m_copy (words): 6 words + 8 bytes
    span = 6 * word + 8
    at = _file_range(loads, slot - span, span)
    if at is None:
        return None
    b = bytes(data[at : at + span])
    local = b[word + 4 : word + 8] == _FREE_LOCAL
    free = (
        not any(b[:word]) and not any(b[word + 2 : word + 4]) and local and not any(b[word + 8 :])
    )
    if free:
        return "free-threaded"  # its ob_ref_shared is where a GIL build's count must be non-zero
    # a GIL build's: a count, then zeros; not where ob_ref_local reads as a free-threaded
    # build's (then it is a damaged free-threaded def as likely as a GIL one)
    gil = any(b[span - 5 * word : span - 4 * word]) and not any(b[span - 4 * word :])
    return "gil" if gil and not local else None
