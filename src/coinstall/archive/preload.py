"""What the process pool's fork server imports once, before it forks the workers.

``coinstall check --jobs N`` runs its workers from a ``forkserver``
(:class:`coinstall.archive.runner.PoolBackend`); every module the fork server has imported
is in each worker from the start, at no cost.  Importing only :mod:`coinstall.archive.worker`
there left each worker to import the readers (python-debian, rpmfile, zstandard), the rule
modules, pyelftools and abi3info, and to parse the runtime catalogue and the ABI tables, on its
first package: once per worker instead of once per run (measured:
benchmarks/MEASUREMENTS.md, 'fork server preload').
This module imports them, loads the rule registry, the runtime catalogue (kept in
:mod:`coinstall.archive.worker`) and the ABI tables, so that a worker's first package costs
what any other does.

Importing this module has these effects only; it is named in the fork server's preload list
(:func:`multiprocessing.set_forkserver_preload`) and nowhere else.
"""

from __future__ import annotations

import contextlib
import importlib

from coinstall.archive import setrules, worker  # noqa: F401 (setrules: made in the workers)
from coinstall.rules import load_all
from coinstall.runtimes import abi

#: Modules a worker would otherwise import on its first package of each kind: the readers
#: (:func:`coinstall.artifacts.open_artifact` imports each when first needed), the ELF
#: reader's pyelftools modules (:mod:`coinstall.files.extension`), the stable-ABI manifest
#: (:mod:`coinstall.stable_abi`) and what a large member's spool needs.  A module that is not
#: installed (an optional dependency) is left to the worker, which reports it as it would.
MODULES = (
    "coinstall.artifacts.deb",
    "coinstall.artifacts.rpm",
    "coinstall.artifacts.wheel",
    "coinstall.artifacts.tree",
    "coinstall.runtimes.abi",
    "elftools.common.exceptions",
    "elftools.elf.dynamic",
    "elftools.elf.elffile",
    "elftools.elf.sections",
    "elftools.elf.structs",
    "abi3info",
    "abi3info.models",
    "tempfile",
    "encodings.cp437",  # zip member names without the UTF-8 flag (APPNOTE 4.4.4)
)


def preload() -> None:
    """Import :data:`MODULES`, register every rule, load the runtime catalogue and the
    extension ABI tables (:func:`coinstall.runtimes.abi.load`, read at a worker's first ELF
    extension)."""
    for name in MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    load_all()
    worker.catalogue()
    abi.load()


preload()
