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
* :mod:`~coinstall.archive.setrules`: rules over all artifacts together (``scope="set"``,
  ``file-conflict``) from the compact index each outcome carries.
* :mod:`~coinstall.archive.runner`: ordering, the cache, retries, the local pool.
* :mod:`~coinstall.archive.dask_backend`: the same work on a Dask cluster (imported only when
  ``--scheduler`` is given).
"""

#: Below this many targets ``--jobs`` defaults to 1: starting processes costs more than it saves.
FEW_TARGETS = 8

#: Default per-artifact time limit in seconds (rpminspect's and cppcheck's heavy tails:
#: ../shared/reference/archive-scale.md §1; the slowest bookworm .deb reads in ~8 s).
DEFAULT_TIMEOUT = 120.0
