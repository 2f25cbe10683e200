"""Whole-archive checking: thousands of artifacts, in parallel, cached, streamed.

``coinstall check`` on one machine checks targets one after another (:func:`coinstall.check.check`).
This package runs the same per-target check (:func:`coinstall.check.check_artifact`) in a
process pool (``--jobs``) or on a Dask distributed cluster (``--scheduler``), keeps a result
cache keyed by the artifact's SHA-256 (:mod:`coinstall.archive.cache`), reads the targets from a
repository index and a mirror (:mod:`coinstall.archive.repo`) and streams the results
(:mod:`coinstall.archive.output`).

Modules:

* :mod:`~coinstall.archive.worker`: the per-target task (a thin wrapper over
  ``check_artifact``) and the compact, JSON-able :class:`~coinstall.archive.worker.Outcome` it
  returns; the only thing a worker sends back.
* :mod:`~coinstall.archive.setrules`: rules over all artifacts together (``scope="set"``)
  from the compact index each outcome carries.
* :mod:`~coinstall.archive.runner`: ordering, the cache, retries, the local pool.
* :mod:`~coinstall.archive.dask_backend`: the same work on a Dask cluster (imported only when
  ``--scheduler`` is given).
"""

import os
import stat
from collections.abc import Sequence

#: Up to this many targets ``coinstall check`` runs the one-by-one engine (no result cache, no
#: pool) unless ``--jobs``, ``--scheduler``, ``--repo`` or ``--format jsonl`` asks for this package.
FEW_TARGETS = 8

#: A pool starts when it reads at least this many bytes of packages beside the rest
#: (:func:`parallel_bytes`): the time it saves is those bytes' worth of reading, its cost a
#: fixed start (the fork server's interpreter and preload, :mod:`coinstall.archive.preload`;
#: a fork per worker).  Break-even is F / c, the pool's fixed CPU cost F over the CPU per MiB
#: of package c, both measured by ``benchmarks/pool_bench.py --fixed-cost`` (figures:
#: benchmarks/MEASUREMENTS.md, 'pool threshold').  The threshold is about twice the larger
#: break-even, rounded up: under load a pool's workers also pay more CPU per package than one
#: process (each warms its own caches), and the goal is the default never slower than
#: ``--jobs 1``.  The earlier rule (total bytes >= 16 MiB) ran a pool over the 14 test-corpus
#: .debs, whose largest package is half their 9.8 MiB, slower than ``--jobs 1``.
POOL_MIN_BYTES = 10 * 1024 * 1024

#: Default per-artifact time limit in seconds (rpminspect's and cppcheck's heavy tails:
#: ../shared/reference/archive-scale.md §1; the slowest bookworm .deb reads in ~8 s).
DEFAULT_TIMEOUT = 120.0


def wanted(
    jobs: int | None, scheduler: str | None, repo: str | None, fmt: str, n_targets: int
) -> bool:
    """Whether ``coinstall check`` goes through this package rather than the one-by-one engine.

    Kept here, not in ``cli/check_archive``, so that a run over a few packages decides without
    importing the archive machinery (process pool, cache, progress bar).
    """
    return bool(jobs or scheduler or repo or fmt == "jsonl" or n_targets > FEW_TARGETS)


def _sizes(paths: Sequence[str]) -> list[int] | None:
    """The regular files' sizes (0 for a path that does not exist or is not a regular file:
    one error line, no work); None when a path is a directory (work unknown from ``lstat``)."""
    out = []
    for p in paths:
        try:
            st = os.lstat(p)
        except OSError:
            out.append(0)
            continue
        if stat.S_ISDIR(st.st_mode):
            return None
        out.append(st.st_size if stat.S_ISREG(st.st_mode) else 0)
    return out


def estimated_bytes(paths: Sequence[str]) -> int | None:
    """The bytes a run over ``paths`` has to read: the sum of the regular files' sizes.

    Returns ``None`` when the work cannot be told from ``lstat`` alone (a directory, an installed
    tree of unknown size), so that the caller falls back to counting targets.  A path that does
    not exist or is not a regular file counts 0 (it is one error line, no work).
    """
    sizes = _sizes(paths)
    return None if sizes is None else sum(sizes)


def parallel_bytes(sizes: Sequence[int], jobs: int) -> float:
    """Of the bytes ``sizes`` add up to, those a pool of ``jobs`` reads beside the rest: the
    total minus what one worker still reads alone, its share (``total / jobs``) or the largest
    package, whichever is more (one package is never split).  The time a pool saves is this
    many bytes' worth."""
    total = sum(sizes)
    return total - max(total / max(jobs, 1), max(sizes, default=0))


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_jobs(paths: Sequence[str]) -> int:
    """``--jobs`` when not given: the usable cores when the work pays for a pool, else 1.

    The work is estimated from the packages' sizes, not their count: the pool pays when the
    bytes it reads beside the rest (:func:`parallel_bytes`) reach :data:`POOL_MIN_BYTES`;
    eleven small noarch RPMs finish before a pool has started, and one large package among
    small ones gains nothing from a second worker.  Targets whose size cannot be told
    (directories) fall back to the count (more than :data:`FEW_TARGETS`).
    """
    if len(paths) < 2:
        return 1
    sizes = _sizes(paths)
    cores = _cores()
    if sizes is None:
        return 1 if len(paths) <= FEW_TARGETS else cores
    return cores if cores > 1 and parallel_bytes(sizes, cores) >= POOL_MIN_BYTES else 1
