"""Run the per-target check over many targets: cache, local process pool, retries, order.

:func:`run` yields one :class:`~coinstall.archive.worker.Outcome` per target, *in the order of
the targets* (so every output is the serial run's, byte for byte), while the work runs out of
order on a backend:

* in this process (``jobs=1``);
* a :class:`concurrent.futures.ProcessPoolExecutor` of ``jobs`` processes (``forkserver``
  start method: the parent runs a progress thread, and forking a threaded process is unsafe);
* a Dask cluster (:mod:`coinstall.archive.dask_backend`).

Memory stays bounded: at most ``window`` finished outcomes wait for an earlier slow one (512:
while python3-azure's 24,000 files take 8 s, the other worker checks ~200 small packages),
and at most ``2 * slots`` tasks are submitted ahead.  The result cache is read and written
here, in the parent only (one writer).

Failures: a task that times out is retried once, then reported as that target's error line.
When a worker process dies (a crash in a C library, the OOM killer), the pool is rebuilt and
the tasks that were running are retried *one at a time*; the one that kills a worker again is
reported as that target's error, and the others are not blamed.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from coinstall.archive import worker
from coinstall.archive.cache import ResultCache, path_dependent, run_key
from coinstall.archive.worker import Outcome, Settings

if TYPE_CHECKING:  # the pool's modules are imported when a pool starts (not on a warm run)
    import multiprocessing.context
    from concurrent.futures import Future, ProcessPoolExecutor


@dataclass(frozen=True)
class Target:
    """One thing to check: ``path``, and when an index lists it its ``sha256`` and ``size``."""

    path: str
    sha256: str | None = None
    size: int | None = None


class WorkerLost(Exception):
    """The worker process running a task died."""


class Backend(Protocol):
    """Where tasks run.  ``slots``: how many run at once."""

    slots: int

    def submit(self, i: int, path: str, sha256: str | None) -> None: ...

    def wait(self) -> list[tuple[int, Outcome | BaseException]]:
        """Block until at least one task is done; its position and outcome (or the exception:
        :class:`WorkerLost` when the worker died)."""
        ...

    def close(self) -> None: ...


class InlineBackend:
    """Run each task in this process, at submission."""

    slots = 1

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._done: list[tuple[int, Outcome | BaseException]] = []

    def submit(self, i: int, path: str, sha256: str | None) -> None:
        self._done.append((i, worker.check_one(path, self.settings, sha256)))

    def wait(self) -> list[tuple[int, Outcome | BaseException]]:
        done, self._done = self._done, []
        return done

    def close(self) -> None:
        pass


def _forkserver_context() -> multiprocessing.context.ForkServerContext:
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["coinstall.archive.preload"])
    return ctx


class PoolBackend:
    """A process pool; rebuilt when one of its processes dies.

    The pool (and its fork server, :mod:`coinstall.archive.preload`) starts at the first task
    submitted, not before: a run the result cache answers starts no process (the fork server
    was most of a warm run's CPU; benchmarks/MEASUREMENTS.md, 'fork server preload').
    """

    def __init__(self, settings: Settings, jobs: int) -> None:
        self.settings = settings
        self.slots = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[Outcome], int] = {}

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                self.slots,
                mp_context=_forkserver_context(),
                initializer=worker.init_process,
                initargs=(self.settings,),
            )
        return self._pool

    def submit(self, i: int, path: str, sha256: str | None) -> None:
        fut = self._executor().submit(worker.check_in_process, path, sha256)
        self._futures[fut] = i

    def wait(self) -> list[tuple[int, Outcome | BaseException]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        out: list[tuple[int, Outcome | BaseException]] = []
        broken = False
        for fut in done:
            i = self._futures.pop(fut)
            try:
                out.append((i, fut.result()))
            except BrokenProcessPool:
                broken = True
                out.append((i, WorkerLost()))
            except Exception as exc:  # pickling trouble and the like: that target's error
                out.append((i, exc))
        if broken:  # every task still queued is lost with the pool
            out += [(i, WorkerLost()) for i in self._futures.values()]
            self._futures.clear()
            assert self._pool is not None
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        return out

    def close(self) -> None:
        if self._pool is not None:
            if self._futures:  # interrupted: do not wait for running tasks
                # ProcessPoolExecutor has no public way to stop its processes before 3.14
                # (terminate_workers); its _processes map is the documented-in-source one.
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._futures.clear()


#: ``progress(done, total, cached)`` after each target.
Progress = Callable[[int, int, int], None]


def _cacheable(o: Outcome) -> bool:
    return (
        o.sha256 is not None
        and not o.retry
        and not any(
            e.startswith(("internal error:", "worker lost", "task failed")) for e in o.errors
        )
    )


def run(
    targets: Sequence[Target],
    settings: Settings,
    *,
    backend: Backend,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
    window: int = 512,
) -> Iterator[Outcome]:
    """Check every target; yield the outcomes in target order (see the module docstring).

    Raises:
        whatever the backend raises when it cannot run at all (a scheduler that is gone).
    """
    n = len(targets)
    key = run_key(settings) if cache is not None else ""
    results: dict[int, Outcome] = {}
    stats: dict[int, os.stat_result] = {}
    attempts: dict[int, int] = {}
    solo: deque[int] = deque()  # retried one at a time after a worker died
    resubmit: deque[int] = deque()
    inflight: set[int] = set()
    next_emit = nxt = cached = 0
    max_inflight = max(2 * backend.slots, 1)

    def lookup(i: int) -> Outcome | None:
        if cache is None:
            return None
        t = targets[i]
        try:
            st = os.stat(t.path)
        except OSError:
            return None  # the task reports it
        if stat.S_ISDIR(st.st_mode):
            return None
        stats[i] = st
        # only a digest this program computed from the file keys a result (an index's
        # digest is verified by the task before its result is stored under it)
        sha = cache.known_digest(t.path, st)
        if sha is None or (t.sha256 is not None and sha != t.sha256.lower()):
            return None
        k = key + "\0" + os.path.abspath(t.path) if path_dependent(settings) else key
        return cache.get(sha, k, t.path)

    def sha_of(i: int) -> str | None:
        t = targets[i]
        st = stats.get(i)
        if t.sha256 is not None and (t.size is None or st is None or t.size == st.st_size):
            return t.sha256
        return None

    def submit(i: int) -> None:
        inflight.add(i)
        attempts[i] = attempts.get(i, 0) + 1
        backend.submit(i, targets[i].path, sha_of(i))

    def finish(i: int, o: Outcome) -> None:
        inflight.discard(i)
        results[i] = o
        if cache is not None and _cacheable(o) and i in stats:
            assert o.sha256 is not None
            k = key + "\0" + os.path.abspath(o.path) if path_dependent(settings) else key
            cache.put(k, o)
            cache.remember_digest(o.path, stats[i], o.sha256)

    try:
        while next_emit < n:
            # 1. feed the backend: retries first, then new targets (cache hits need no task)
            if solo:
                if not inflight:
                    submit(solo.popleft())
            else:
                while resubmit and len(inflight) < max_inflight:
                    submit(resubmit.popleft())
                while nxt < n and nxt - next_emit < window and len(inflight) < max_inflight:
                    hit = lookup(nxt)
                    if hit is not None:
                        results[nxt] = hit
                        cached += 1
                    else:
                        submit(nxt)
                    nxt += 1
                    while next_emit in results:  # hits go out at once, not a window later
                        yield results.pop(next_emit)
                        next_emit += 1
                        if progress is not None:
                            progress(next_emit, n, cached)
            # 2. hand out what is ready, in order
            while next_emit in results:
                yield results.pop(next_emit)
                next_emit += 1
                if progress is not None:
                    progress(next_emit, n, cached)
            if next_emit >= n or not inflight:
                continue
            # 3. collect
            for i, res in backend.wait():
                if isinstance(res, Outcome):
                    if res.retry and attempts[i] < 2:
                        inflight.discard(i)
                        resubmit.append(i)
                    else:
                        if res.retry:
                            res.errors = [e + " (tried twice)" for e in res.errors]
                            res.retry = False
                        finish(i, res)
                elif attempts[i] < 2:
                    inflight.discard(i)
                    (solo if isinstance(res, WorkerLost) else resubmit).append(i)
                else:
                    why = (
                        "worker lost while checking it"
                        if isinstance(res, WorkerLost)
                        else f"task failed: {type(res).__name__}: {res}"
                    )
                    finish(i, Outcome(targets[i].path, errors=[why + " (tried twice)"]))
    finally:
        backend.close()
        if cache is not None:
            cache.commit()
