#!/usr/bin/env python3
"""Regenerate ``src/coinstall/runtimes/data/abi_symbols.json``: the C-API symbols each runtime
exports, the evidence the extension-module verdict reads (``coinstall.runtimes.abi``).

Sources, in this order (each table records its own):

* real interpreters on this machine, read, never run: the defined dynamic symbols
  (``.dynsym``, binding GLOBAL or WEAK, section not UNDEF) named ``Py*``/``_Py*`` of the
  executable and of the ``libpython*.so``/``libpypy*-c.so`` it links (DT_NEEDED, found beside
  it or in its RUNPATH/RPATH), read with pyelftools:
    - pyenv's ``~/.pyenv/versions/X.Y.Z`` (``$PYENV_ROOT``);
    - Debian's ``/usr/bin/python3.X`` and ``python3.Xd`` (``-dbg``), PyPy's
      ``/usr/lib/x86_64-linux-gnu/libpypy3.9-c.so``;
    - the interpreters ``scripts/setup.sh`` puts in ``~/.cache/coinstall-test/interpreters/bin``
      (Debian trixie 3.13, sid 3.14, a source-built free-threaded 3.13t), when present;
  several interpreters of one runtime id (pyenv 3.11.7 and Debian 3.11.2) are intersected, and
  what only some of them export is kept as ``varies`` (a module needing it: "cannot tell").
* for catalogue runtimes no interpreter here stands for, CPython's ``Misc/stable_abi.toml`` as
  packaged by abi3info: the stable-ABI functions and data added up to that version, without
  the ``ifdef`` ones (exported by some builds only).  Such a table
  is ``"complete": false``: a lower bound of what the runtime exports, enough for limited-API
  modules, not for full-API ones.

Stored compactly: the first table of a chain in full, each next one as ``added``/``removed``
against its ``base``.  Usage: ``.venv/bin/python scripts/gen_abi_symbols.py [--check]``
(``--check``: exit 1 if the file on disk differs from what this machine gives).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src" / "coinstall" / "runtimes" / "data" / "abi_symbols.json"
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
EXTRA = Path.home() / ".cache" / "coinstall-test" / "interpreters" / "bin"

#: Debug-build markers: symbols only a ``--with-pydebug`` build exports (CPython
#: ``Include/object.h``: ``_Py_NegativeRefcount`` and ``_Py_RefTotal`` (<= 3.11; 3.12 moved
#: the count into the interpreter state, ``_Py_IncRefTotal``/``_Py_DecRefTotal`` in 3.12)
#: under ``Py_REF_DEBUG``; ``_PyObject_DebugMallocStats`` is in every build, so not a marker).
DEBUG_MARKERS = (
    "_Py_NegativeRefcount",
    "_Py_RefTotal",
    "_Py_GetRefTotal",
    "_Py_IncRefTotal_DO_NOT_USE_THIS",
    "_Py_DecRefTotal_DO_NOT_USE_THIS",
)
#: Free-threaded markers: what ``Py_INCREF``/``Py_DECREF`` call in a ``Py_GIL_DISABLED`` build
#: (CPython 3.13 ``Include/object.h``/``refcount.h``: ``_Py_DecRefShared``,
#: ``_Py_MergeZeroLocalRefcount``, ``_Py_DecRefSharedDebug`` with Py_REF_DEBUG), and
#: ``PyUnstable_Module_SetGIL`` (``Include/moduleobject.h``: declared under Py_GIL_DISABLED
#: only; MarkupSafe 3.0.2's cp313t module imports it and no reference-counting function).
FREETHREADED_MARKERS = (
    "_Py_DecRefShared",
    "_Py_DecRefSharedDebug",
    "_Py_MergeZeroLocalRefcount",
    "PyUnstable_Module_SetGIL",
)
#: Python 2's module-creation functions (``Include/modsupport.h``: ``Py_InitModule4`` becomes
#: ``Py_InitModule4_64`` on 64-bit builds and ``Py_InitModule4TraceRefs[_64]`` with
#: Py_TRACE_REFS).
PYTHON2_MARKERS = (
    "Py_InitModule4",
    "Py_InitModule4_64",
    "Py_InitModule4TraceRefs",
    "Py_InitModule4TraceRefs_64",
)


def _exports(path: Path) -> set[str]:
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        sec = elf.get_section_by_name(".dynsym")
        out: set[str] = set()
        if isinstance(sec, SymbolTableSection):
            for sym in sec.iter_symbols():
                name = sym.name
                # PyInit_*: the init functions of built-in modules (a static Debian build)
                if (
                    not name.startswith(("Py", "_Py"))
                    or name.startswith("PyInit_")
                    or sym["st_shndx"] == "SHN_UNDEF"
                ):
                    continue
                if sym["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK"):
                    out.add(name)
        return out


def _needed(path: Path) -> list[Path]:
    """The ``libpython*``/``libpypy*`` libraries ``path`` links, resolved beside it, in its
    RUNPATH/RPATH, or in ``../lib``."""
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        names: list[str] = []
        dirs: list[str] = []
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                for tag in sec.iter_tags():
                    if tag.entry.d_tag == "DT_NEEDED":
                        names.append(tag.needed)
                    elif tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH"):
                        v = tag.runpath if tag.entry.d_tag == "DT_RUNPATH" else tag.rpath
                        dirs += v.replace("$ORIGIN", str(path.parent)).split(":")
    out = []
    for n in names:
        if not n.startswith(("libpython", "libpypy")):
            continue
        for d in [
            *dirs,
            str(path.parent),
            str(path.parent.parent / "lib"),
            "/usr/lib/x86_64-linux-gnu",
        ]:
            cand = Path(d) / n
            if cand.exists():
                out.append(cand)
                break
    return out


def _real(path: Path) -> Path:
    """Follow a two-line ``#!/bin/sh`` wrapper (``exec ROOT/usr/bin/python3.X "$@"``)."""
    path = path.resolve()
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"\x7fELF":
        return path
    m = re.search(r"exec\s+(\S+)", path.read_text(errors="replace"))
    if m is None:
        raise ValueError(f"{path}: neither ELF nor an exec wrapper")
    return _real(Path(m[1].strip("'\"")))


def _home(p: Path) -> str:
    return str(p).replace(str(Path.home()), "~", 1)


def _read(exe: Path) -> tuple[set[str], str]:
    exe = _real(exe)
    syms = _exports(exe)
    files = [exe]
    for lib in _needed(exe):
        syms |= _exports(lib)
        files.append(lib)
    return syms, " + ".join(_home(f) for f in files)


def _interpreters() -> list[tuple[str, Path, str]]:
    """(runtime id, executable, label) for every real interpreter this script reads."""
    out: list[tuple[str, Path, str]] = []
    for d in sorted(PYENV.glob("*.*.*")):
        m = re.fullmatch(r"(\d)\.(\d+)\.\d+", d.name)
        if not m:
            continue
        exe = d / "bin" / f"python{m[1]}.{m[2]}"
        if exe.exists():
            out.append((f"cpython-{m[1]}.{m[2]}", exe, f"pyenv {d.name}"))
    for v in ("3.11", "3.12", "3.13", "3.14"):
        for flag in ("", "d"):
            exe = Path(f"/usr/bin/python{v}{flag}")
            if exe.exists():
                out.append((f"cpython-{v}{flag}", exe, f"Debian python{v}{flag}"))
    for name in (
        "python3.13",
        "python3.14",
        "python3.13t",
        "python3.14t",
        "python3.13d",
        "python3.14d",
    ):
        exe = EXTRA / name
        if exe.exists():
            v = name[len("python") :]
            out.append((f"cpython-{v}", exe, f"{_home(exe)} (scripts/setup.sh)"))
    return out


def _pypy() -> list[tuple[str, Path, str]]:
    out = []
    for lib in sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libpypy3*-c.so")):
        m = re.fullmatch(r"libpypy(\d)\.(\d+)-c\.so", lib.name)
        if m:
            out.append((f"pypy-{m[1]}.{m[2]}-pp73", lib, f"Debian pypy{m[1]}.{m[2]} ({lib})"))
    return out


def _stable_abi(upto: tuple[int, int]) -> set[str]:
    import abi3info

    out = set()
    for table in (abi3info.FUNCTIONS, abi3info.DATAS):
        for sym, item in table.items():
            # ifdef: only some builds export it (MS_WINDOWS, Py_REF_DEBUG, USE_STACKCHECK,
            # PY_HAVE_THREAD_NATIVE_ID: 3.8+ although the manifest dates it 3.2)
            if (item.added.major, item.added.minor) <= upto and item.ifdef is None:
                out.add(str(sym.name))
    return out


def _version(rid: str) -> tuple[int, int]:
    m = re.match(r"[a-z]+-(\d)\.(\d+)", rid)
    assert m
    return int(m[1]), int(m[2])


def generate() -> dict[str, object]:
    read: dict[str, list[tuple[set[str], str]]] = {}
    for rid, exe, label in _interpreters():
        syms, files = _read(exe)
        if rid == "cpython-2.7" and any(s.startswith("PyUnicodeUCS4_") for s in syms):
            rid = "cpython-2.7u"
        read.setdefault(rid, []).append((syms, f"{label}: {files}"))
    for rid, lib, label in _pypy():
        read.setdefault(rid, []).append((_exports(lib), f"{label}: {lib}"))
    full: dict[str, tuple[set[str], set[str], list[str]]] = {}
    for rid, found in read.items():
        inter = set.intersection(*(s for s, _ in found))
        union = set.union(*(s for s, _ in found))
        full[rid] = (inter, union - inter, [src for _, src in found])
    # catalogue CPython 3 runtimes no interpreter here stands for: stable ABI only
    partial: dict[str, set[str]] = {}
    for minor in range(2, 16):
        for flags in ("", "t"):
            if flags == "t" and minor < 13:
                continue
            rid = f"cpython-3.{minor}{flags}"
            if rid not in full:
                partial[rid] = _stable_abi((3, minor))

    def order(rid: str) -> tuple[object, ...]:
        return (rid.startswith("pypy"), _version(rid), rid)

    tables: list[dict[str, object]] = []
    prev: dict[str, set[str]] = {}  # chain key -> last symbols
    last: dict[str, str] = {}  # chain key -> last runtime id
    by_id: dict[str, set[str]] = {}
    for rid in sorted([*full, *partial], key=order):
        complete = rid in full
        syms = full[rid][0] if complete else partial[rid]
        # chains: CPython 2, CPython 3 release (complete), each flavour on its own
        kind = (
            "pypy"
            if rid.startswith("pypy")
            else "py2"
            if rid.startswith("cpython-2")
            else "cp3"
            + "".join(c for c in rid.split("-")[1] if c.isalpha())
            + ("" if complete else "-partial")
        )
        base_syms = prev.get(kind)
        base_id = last.get(kind)
        if base_syms is None:
            # a flavour's first table is told against its release build (3.11d from 3.11)
            v = _version(rid)
            release = f"cpython-{v[0]}.{v[1]}"
            if release in by_id and release != rid:
                base_syms, base_id = by_id[release], release
        entry: dict[str, object] = {
            "runtime": rid,
            "complete": complete,
            "source": (
                full[rid][2]
                if complete
                else [
                    "CPython Misc/stable_abi.toml via abi3info (stable-ABI functions and "
                    f"data added up to {_version(rid)[0]}.{_version(rid)[1]})"
                ]
            ),
        }
        if base_syms is None:
            entry["base"] = None
            entry["added"] = sorted(syms)
            entry["removed"] = []
        else:
            entry["base"] = base_id
            entry["added"] = sorted(syms - base_syms)
            entry["removed"] = sorted(base_syms - syms)
        if complete:
            entry["varies"] = sorted(full[rid][1])
        prev[kind] = syms
        last[kind] = rid
        by_id[rid] = syms
        tables.append(entry)
    return {
        "schema": 1,
        "generated_by": "scripts/gen_abi_symbols.py",
        "what": "defined dynamic symbols named Py*/_Py* each runtime exports; a table is the "
        "base table's set plus added minus removed",
        "markers": {
            "debug": list(DEBUG_MARKERS),
            "freethreaded": list(FREETHREADED_MARKERS),
            "python2": list(PYTHON2_MARKERS),
            "pypy_prefix": "PyPy",
        },
        "tables": tables,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    data = generate()
    text = json.dumps(data, indent=0, sort_keys=False) + "\n"
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print("up to date" if same else f"{OUT} differs from this machine's interpreters")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes, {len(data['tables'])} tables)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
