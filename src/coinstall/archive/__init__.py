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

#: Below this many bytes of packages (their sizes on disk: what has to be decompressed and read)
#: ``--jobs`` defaults to 1: a pool's start (a fork server, each worker importing the engine)
#: costs more than the second core saves.  Measured on the 2-core machine (``--format json
#: --no-cache``, medians of 3) while other work kept it at a load average of about 5: the
#: 11 RPMs of tests/data/rpm (2.9 MB) took 2.11 s serial and 2.90 s pooled, 11 small corpus
#: .debs (1.5 MB) 1.64 s and 3.38 s, the 14 corpus .debs (10.3 MB) 3.49 s and 5.45 s: under load
#: the pool never paid at these sizes.  Idle, eleven .debs did gain (issue 22: 2.75 s serial,
#: 1.73 s pooled).  The sweep of benchmarks/pool_bench.py (load average 23-25, medians of 3)
#: agreed: the 11 RPMs (2.7 MiB) 23.2 s with ``--jobs 1``, 27.9 s with ``--jobs 2``; the 14
#: test-corpus .debs (9.8 MiB) 67.1 s and 73.2 s, where the 8 MiB threshold made the default
#: pool 1.05x slower than ``--jobs 1``.  16 MiB keeps every small corpus set serial (the goal:
#: the default never slower than ``--jobs 1``); the larger inputs of that benchmark (the bench
#: corpus' .debs and wheels, archive samples) are above it.
POOL_MIN_BYTES = 16 * 1024 * 1024

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


def estimated_bytes(paths: Sequence[str]) -> int | None:
    """The bytes a run over ``paths`` has to read: the sum of the regular files' sizes.

    Returns ``None`` when the work cannot be told from ``lstat`` alone (a directory, an installed
    tree of unknown size), so that the caller falls back to counting targets.  A path that does
    not exist or is not a regular file counts 0 (it is one error line, no work).
    """
    total = 0
    for p in paths:
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            return None
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
    return total


def default_jobs(paths: Sequence[str]) -> int:
    """``--jobs`` when not given: the usable cores when the work pays for a pool, else 1.

    The work is estimated from the packages' sizes (:func:`estimated_bytes`), not their count:
    eleven small noarch RPMs finish before a pool has started, four large .debs do not.  Targets
    whose size cannot be told (directories) fall back to the count (more than
    :data:`FEW_TARGETS`).
    """
    size = estimated_bytes(paths)
    if (
        len(paths) < 2
        or (size is None and len(paths) <= FEW_TARGETS)
        or (size is not None and size < POOL_MIN_BYTES)
    ):
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
