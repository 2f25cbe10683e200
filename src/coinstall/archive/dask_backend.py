"""Run the per-target tasks on an existing Dask distributed cluster (``--scheduler ADDRESS``).

Imported only when ``--scheduler`` is given.  Following Dask's own advice for many small files
(docs "Best practices": load data inside tasks; ../shared/reference/archive-scale.md §3), a
task carries a path, the artifact's digest when an index gave one, and a reference to the
run's :class:`~coinstall.archive.worker.Settings`, scattered once to every worker
(``Client.scatter(broadcast=True)``); it returns the compact
:class:`~coinstall.archive.worker.Outcome`.  The workers must see the targets at the same
paths (a shared mirror) and have coinstall installed.

At most ``2 * slots`` tasks are submitted ahead of the results (``slots``: the cluster's
threads), so the scheduler never holds a graph of thousands of tasks.  A task whose worker
dies is rescheduled by the scheduler itself (``distributed.scheduler.allowed-failures``); a
task that still fails (``KilledWorker``, an exception) is resubmitted once by
:func:`coinstall.archive.runner.run` and then reported as that target's error line.
"""

from __future__ import annotations

import uuid
from typing import Any

from distributed import Client, Future, as_completed

from coinstall.archive import worker
from coinstall.archive.worker import Outcome, Settings


class DaskBackend:
    """A :class:`coinstall.archive.runner.Backend` on a Dask cluster.

    Raises:
        OSError: no scheduler answers at ``address`` within ``connect_timeout`` seconds.
    """

    def __init__(
        self, address: str | Client, settings: Settings, connect_timeout: float = 30
    ) -> None:
        self._own = not isinstance(address, Client)
        self.client = (
            address
            if isinstance(address, Client)
            else Client(address, timeout=connect_timeout, set_as_default=False)
        )
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        self.slots = max(1, sum(int(w.get("nthreads", 1)) for w in workers))
        self._settings = self.client.scatter(settings, broadcast=True, hash=False)
        self._futures: dict[Any, int] = {}
        # the loop given explicitly: as_completed() without one asks for the process's default
        # client, and this client is not one (set_as_default=False) — from the command line
        # there is none, and it failed with "No clients found"
        self._done = as_completed(loop=self.client.loop)
        self._run = uuid.uuid4().hex[:8]

    def submit(self, i: int, path: str, sha256: str | None) -> None:
        key = f"coinstall-check-{self._run}-{i}-{uuid.uuid4().hex[:6]}"
        fut = self.client.submit(
            worker.check_one, path, self._settings, sha256, key=key, pure=False
        )
        self._futures[fut.key] = i
        self._done.add(fut)

    def _result(self, fut: Future[Any]) -> tuple[int, Outcome | BaseException]:
        i = self._futures.pop(fut.key)
        try:
            res = fut.result()
        except Exception as exc:  # KilledWorker, CommClosedError, ...: the runner retries
            return i, exc
        finally:
            fut.release()
        if not isinstance(res, Outcome):
            return i, TypeError(f"unexpected task result {type(res).__name__}")
        return i, res

    def wait(self) -> list[tuple[int, Outcome | BaseException]]:
        first = next(self._done)
        out = [self._result(first)]
        for fut in self._done.next_batch(block=False):
            out.append(self._result(fut))
        return out

    def close(self) -> None:
        self._done.clear()
        self._futures.clear()
        if self._own:
            self.client.close()
