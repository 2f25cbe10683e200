"""The stable ABI manifest: which symbols belong to CPython's stable ABI (PEP 384, PEP 652) and
the version that added each.

Source: CPython ``Misc/stable_abi.toml``, as packaged by abi3info (the data abi3audit uses):
its function and data symbols, each with the ``added`` version.  Read by the extension-module
classifier (:mod:`coinstall.files.extension`), the release grid, the planner's ELF reader, the
stable-ABI rules and ``coinstall fix``; the probe script gets the symbol names
(:mod:`coinstall.runtimes.discovery`).

abi3info is imported when a function is first called: tens of milliseconds of start-up that a
run answering from its caches does not pay.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4096)
def symbol_added(name: str) -> tuple[int, int] | None:
    """The ``(major, minor)`` CPython version that added the symbol ``name`` (``"PyList_New"``)
    to the stable ABI, None if it is not part of it."""
    import abi3info
    from abi3info.models import Symbol

    sym = Symbol(name)
    item = abi3info.FUNCTIONS.get(sym) or abi3info.DATAS.get(sym)
    return None if item is None else (item.added.major, item.added.minor)


@functools.lru_cache(maxsize=1024)  # asked once per runtime for the same module
def stable_abi_baseline(imports: frozenset[str]) -> tuple[int, int] | None:
    """The lowest CPython ``(major, minor)`` that exports every stable-ABI symbol in
    ``imports`` (symbol names an extension module imports): the newest ``added`` version
    among them.  Symbols outside the manifest are ignored here (abi3audit reports them as
    violations).  Returns None when no imported symbol is in the manifest.
    """
    added = [v for v in map(symbol_added, imports) if v is not None]
    return max(added) if added else None


def symbol_names() -> list[str]:
    """Every symbol name in the manifest (functions and data), sorted."""
    import abi3info

    return sorted({s.name for s in abi3info.FUNCTIONS} | {s.name for s in abi3info.DATAS})
