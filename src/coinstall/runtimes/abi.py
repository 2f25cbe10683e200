"""ABI evidence per runtime, kept as catalogue data: the C-API symbols each runtime exports.

The data file ``data/abi_symbols.json`` is written by ``scripts/gen_abi_symbols.py`` (run it to
regenerate; ``--check`` compares).  Each table names its source:

* *complete* tables were read from real interpreters (pyenv's CPython 2.7 and 3.6-3.13,
  Debian's python3.11 and python3.11-dbg, Debian's PyPy 3.9, and whatever
  ``scripts/setup.sh`` installed in ``~/.cache/coinstall-test/interpreters``): every defined
  dynamic symbol named ``Py*``/``_Py*`` of the executable and the ``libpython`` it links.
  What only some interpreters of one runtime export (pyenv 3.11.7 vs Debian 3.11.2) is
  ``varies``.
* *partial* tables (``complete: false``) come from CPython ``Misc/stable_abi.toml`` (as
  packaged by abi3info): the stable-ABI functions and data added up to that version, a lower
  bound of what the runtime exports.

Markers (same file, ``markers``): symbols only a debug build (``Py_REF_DEBUG``), a
free-threaded build (``Py_GIL_DISABLED``) or Python 2 (``Py_InitModule4*``) exports, and
PyPy's ``PyPy`` prefix (PyPy's cpyext renames the C-API: ``PyPyErr_SetString``).

This module imports nothing of coinstall's but :mod:`coinstall.runtimes.model`.
"""

from __future__ import annotations

import functools
import json
import pkgutil
from dataclasses import dataclass

from coinstall.runtimes.model import Runtime


@dataclass(frozen=True)
class ExportTable:
    """What one runtime exports.

    Attributes:
        runtime: the catalogue id the table stands for (``cpython-3.12``, ``cpython-3.11d``,
            ``pypy-3.9-pp73``).
        version: ``(major, minor)``.
        complete: True when read from a real interpreter; False for a lower bound (the stable
            ABI up to that version).
        symbols: the exported ``Py*``/``_Py*`` names (for several interpreters of one
            runtime: those all of them export).
        varies: names only some interpreters of the runtime export (micro releases, patches).
        source: where the table comes from (files read, or the manifest).
    """

    runtime: str
    version: tuple[int, int]
    complete: bool
    symbols: frozenset[str]
    varies: frozenset[str]
    source: tuple[str, ...]


@dataclass(frozen=True)
class AbiData:
    """The parsed ``abi_symbols.json``.

    Attributes:
        tables: runtime id -> :class:`ExportTable`.
        debug, freethreaded, python2: marker symbol names (see the module docstring).
        pypy_prefix: ``"PyPy"``.
    """

    tables: dict[str, ExportTable]
    debug: frozenset[str]
    freethreaded: frozenset[str]
    python2: frozenset[str]
    pypy_prefix: str

    def table_for(self, rt: Runtime) -> ExportTable | None:
        """The table of a Linux runtime (id without ``+vendor``), None if there is none.

        A debug CPython 3.8+ without its own table gets its release build's as a lower bound
        (``complete`` False): since 3.8 a debug build exports the release ABI and loads release
        modules (bpo-36465; ALT_SOABI in ``configure.ac``)."""
        if rt.platform != "linux":
            return None
        # cpython-3.11@3.11.2 (two installed 3.11s), cpython-3.13t+debian, .../win_amd64
        key = rt.id
        for sep in ("+", "/", "@"):
            key = key.split(sep, 1)[0]
        t = self.tables.get(key)
        if (
            t is None
            and rt.implementation == "cpython"
            and "d" in rt.abiflags
            and rt.version >= (3, 8)
        ):
            rel = self.tables.get(key.replace("d", ""))
            if rel is not None:
                t = ExportTable(
                    key,
                    rel.version,
                    False,
                    rel.symbols,
                    rel.varies,
                    (f"{rel.runtime}'s table (a debug build exports the release ABI)", *rel.source),
                )
        return t

    @functools.cached_property
    def release_chain(self) -> tuple[ExportTable, ...]:
        """The complete tables of CPython 3 release builds, oldest first."""
        return tuple(
            sorted(
                (
                    t
                    for t in self.tables.values()
                    if t.complete
                    and t.runtime.startswith("cpython-3")
                    and t.runtime == f"cpython-{t.version[0]}.{t.version[1]}"
                ),
                key=lambda t: t.version,
            )
        )


def _parse(data: dict[str, object]) -> AbiData:
    raw = data["tables"]
    assert isinstance(raw, list)
    sets: dict[str, frozenset[str]] = {}
    tables: dict[str, ExportTable] = {}
    for entry in raw:
        rid = entry["runtime"]
        base = sets[entry["base"]] if entry["base"] else frozenset()
        syms = (base | frozenset(entry["added"])) - frozenset(entry["removed"])
        sets[rid] = syms
        v = rid.split("-")[1]
        major, minor = v[0], "".join(c for c in v.split(".")[1] if c.isdigit())
        tables[rid] = ExportTable(
            rid,
            (int(major), int(minor)),
            bool(entry["complete"]),
            syms,
            frozenset(entry.get("varies", ())),
            tuple(entry["source"]),
        )
    markers = data["markers"]
    assert isinstance(markers, dict)
    return AbiData(
        tables,
        frozenset(markers["debug"]),
        frozenset(markers["freethreaded"]),
        frozenset(markers["python2"]),
        str(markers["pypy_prefix"]),
    )


@functools.cache
def load() -> AbiData:
    """The tables shipped with coinstall (``coinstall/runtimes/data/abi_symbols.json``).

    Raises:
        OSError, ValueError, KeyError: if the data file is missing or malformed.
    """
    # pkgutil.get_data, as the catalogue: importlib.resources pulls tempfile, random, shutil
    # and zipfile into every check meeting an extension module
    data = pkgutil.get_data("coinstall.runtimes", "data/abi_symbols.json")
    if data is None:
        raise OSError("coinstall.runtimes has no loader that reads data/abi_symbols.json")
    return _parse(json.loads(data.decode("utf-8")))
