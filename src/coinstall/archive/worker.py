"""The per-target task and its compact result.

:func:`check_one` is what a process-pool worker or a Dask worker runs for one target: a thin
wrapper over :func:`coinstall.check.check_artifact` (the engine's own per-target path) that turns
the :class:`~coinstall.check.ArtifactResult` into an :class:`Outcome` — the artifact's object of
the JSON contract (docs/json-format.md) as compact JSON text, the text report's matrix rows,
the problems met, and, when a set-scope rule runs, the small index that rule needs
(:mod:`coinstall.archive.setrules`).  A task receives a path and :class:`Settings`, never the
artifact's bytes; it returns only the outcome.

Every failure reading one target becomes that target's error line; a target that runs past
``Settings.timeout`` seconds is interrupted (``SIGALRM`` in a process's main thread, an
asynchronous exception in a worker thread — Dask runs tasks in threads) and comes back with
``retry=True`` so that the caller can try it once more.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypedDict

from coinstall.archive import DEFAULT_TIMEOUT
from coinstall.artifacts import limits as limits_mod
from coinstall.check import ArtifactResult, TargetError, check_target, matrix
from coinstall.config import Config
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime


@dataclass(frozen=True)
class Settings:
    """What every task of a run shares (sent once per worker, not once per task).

    Attributes:
        runtimes: the runtimes artifacts are judged against (installed and catalogue).
        config: rule selection, severities, profile, stack.
        digests: read every regular file's SHA-256 for the rules that compare contents (as
            :func:`coinstall.check.check` does when it checks more than one package).
        set_index: return the compact index set-scope rules read
            (:func:`coinstall.archive.setrules.index_of`).
        matrix: return the text report's matrix rows (a second pass over every file and
            runtime, seconds on a package of 24,000 files; only the text report reads them).
        timeout: seconds one target may take (0: no limit).
        hash_files: compute the artifact's SHA-256 when the caller does not know it (for the
            result cache).
        limits: the run's reader limits (``--limit``, ``[limits]``;
            :mod:`coinstall.artifacts.limits`), set in every worker before it reads.
    """

    runtimes: tuple[Runtime, ...]
    config: Config
    digests: bool = False
    set_index: bool = False
    matrix: bool = False
    timeout: float = DEFAULT_TIMEOUT
    hash_files: bool = False
    limits: limits_mod.Limits = field(default_factory=limits_mod.default)


class CachedOutcome(TypedDict):
    """The small path-independent part of an :class:`Outcome` the result cache keeps as
    JSON (:meth:`Outcome.to_cache`)."""

    matrix: list[list[Any]] | None  # the text report's rows (coinstall.report.archive_text)
    errors: list[str]
    runtimes: list[str] | None


@dataclass
class Outcome:
    """One target's result, as small as the outputs allow.

    Attributes:
        path: the target as given.
        sha256: hex SHA-256 of the artifact file (None for directories, or when not computed).
        artifact: the artifact's object of the JSON contract as compact JSON text *without* its
            leading ``"path"`` key (so that a cached outcome serves the same bytes under any
            name; :meth:`artifact_json` puts the path back); None if the target could not be
            read.
        matrix: per runtime, in ``Settings.runtimes`` order, ``[usable, total, verdict, reason,
            example]`` (:class:`coinstall.check.MatrixRow`), for the text report.
        errors: one-line messages: the reason the target could not be read, or problems met
            while reading it (members skipped).
        index: what set-scope rules read (:func:`coinstall.archive.setrules.index_of`,
            compressed), or None.
        retry: the failure may be transient (time limit, worker lost): worth one more try.
        runtimes: ids of the runtimes the artifact was judged against when they are not the
            run's (a wheel of another platform: :func:`coinstall.check.run_runtimes`); the
            order of :attr:`matrix` then.
        packed: :attr:`artifact` compressed as the result cache keeps it, when the outcome
            came from there or was stored there (:func:`coinstall.archive.cache.unpack_text`
            gives the text back): what a spool keeps instead of the text, 30 times smaller.
    """

    path: str
    sha256: str | None = None
    artifact: str | None = None
    matrix: list[list[Any]] | None = None
    errors: list[str] = field(default_factory=list)
    index: bytes | None = None
    retry: bool = False
    runtimes: list[str] | None = None
    packed: bytes | None = field(default=None, repr=False, compare=False)

    def artifact_text(self) -> str | None:
        """The artifact object as compact JSON text, its ``"path"`` first."""
        if self.artifact is None:
            return None
        head = '{"path":' + json.dumps(self.path)
        return head + ("," + self.artifact[1:] if self.artifact != "{}" else "}")

    def artifact_json(self) -> dict[str, Any] | None:
        """The artifact object of the JSON contract (docs/json-format.md)."""
        text = self.artifact_text()
        return None if text is None else dict(json.loads(text))

    def to_cache(self) -> CachedOutcome:
        """The small path-independent part, for the result cache (which keeps
        :attr:`artifact` and :attr:`index` in columns of their own)."""
        return {"matrix": self.matrix, "errors": self.errors, "runtimes": self.runtimes}

    @classmethod
    def from_cache(
        cls, path: str, sha256: str, data: dict[str, Any], artifact: str | None, index: bytes | None
    ) -> Outcome:
        return cls(
            path,
            sha256,
            artifact,
            data["matrix"],
            list(data["errors"]),
            index,
            runtimes=data.get("runtimes"),
        )


class Timeout(BaseException):
    """A target ran past its time limit.  A ``BaseException``, as ``KeyboardInterrupt`` is:
    :func:`coinstall.check.check_target` turns every ``Exception`` of one target into its
    error line, and a time limit must reach :func:`check_one` to be retried."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Timeout` in the running code after ``seconds`` (0: never).

    In a process's main thread a ``SIGALRM`` timer; in another thread (a Dask worker's task
    threads) ``PyThreadState_SetAsyncExc`` from a watchdog timer — CPython's documented way to
    raise in another thread (C API, "Thread State and the Global Interpreter Lock").  Either
    is delivered between bytecodes; the readers stream in chunks, so a stuck decompression loop
    is reached.
    """
    if seconds <= 0:
        yield
        return
    again = min(seconds, 1.0)
    if threading.current_thread() is threading.main_thread():
        armed = [True]

        def on_alarm(signum: int, frame: FrameType | None) -> None:
            if armed[0]:
                raise Timeout()

        old = signal.signal(signal.SIGALRM, on_alarm)
        # fires again every ``again`` seconds until cancelled: an exception raised while the
        # interpreter runs a finalizer or a GC callback is printed and dropped, so one shot
        # can be lost (seen once in the suite: a 1 ms limit that never fired)
        signal.setitimer(signal.ITIMER_REAL, seconds, again)
        try:
            yield
        finally:
            while True:  # a tick may still raise here: disarm and cancel, whatever comes
                try:
                    armed[0] = False
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    break
                except Timeout:
                    continue
            signal.signal(signal.SIGALRM, old)
        return
    tid = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False}

    stop = threading.Event()

    def fire() -> None:  # first after ``seconds``, then every ``again`` until done
        wait = seconds
        while not stop.wait(wait):
            with lock:
                if state["done"]:
                    return
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(tid), ctypes.py_object(Timeout)
                )
            wait = again

    timer = threading.Thread(target=fire, daemon=True, name="coinstall-deadline")
    timer.start()
    try:
        yield
    finally:
        # A Timeout the timer set before ``done`` may still be pending, and one may land in
        # this block: once ``done`` is set under the lock no new one is set, and the pending
        # one is cleared (``PyThreadState_SetAsyncExc(id, NULL)``); one that lands here is
        # caught and the block run again.  Before, a limit shorter than the repeat let a second
        # Timeout escape check_one into Dask's task thread, whose future then never finished
        # (a hang of tests/test_archive_dask.py::test_time_limit_in_a_worker_thread).
        while True:
            try:
                with lock:
                    state["done"] = True
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)
                stop.set()
                break
            except Timeout:
                continue


_CATALOGUE: Catalogue | None = None


def catalogue() -> Catalogue:
    """The runtime catalogue, loaded once per process (in a pool, once in its fork server:
    :mod:`coinstall.archive.preload`)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = catalogue_mod.load()
    return _CATALOGUE


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a regular file's bytes (read in 1 MiB blocks).

    Raises:
        OSError: unreadable, or not a regular file (opened non-blocking, so a FIFO put in
            its place is refused, not waited on).
    """
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        return hashlib.file_digest(f, "sha256").hexdigest()


def outcome_of(
    path: str, result: ArtifactResult, settings: Settings, sha256: str | None = None
) -> Outcome:
    """The compact form of one artifact's result (its JSON object made by the JSON report
    itself, :meth:`coinstall.check.ArtifactResult.to_json`, so both stay the same)."""
    from coinstall.archive import setrules

    runtimes = list(settings.runtimes)
    obj: dict[str, Any] = dict(result.to_json(runtimes))  # a plain object: "path" goes
    obj.pop("path")
    rows = (
        [[r.usable, r.total, r.verdict, r.reason, r.example] for r in matrix(result, runtimes)]
        if settings.matrix
        else None
    )
    index = setrules.index_of(result) if settings.set_index else None
    own = None  # None: the run's runtimes (Settings.runtimes); a foreign wheel: its own
    if result.runtimes is not None and [rt.id for rt in result.runtimes] != [
        rt.id for rt in settings.runtimes
    ]:
        own = [rt.id for rt in result.runtimes]
    return Outcome(
        path,
        sha256,
        json.dumps(obj, separators=(",", ":")),
        rows,
        list(result.problems),
        index,
        runtimes=own,
    )


def check_one(path: str, settings: Settings, sha256: str | None = None) -> Outcome:
    """Check one target (file or directory) and return its :class:`Outcome`; never raises for
    a bad target.  ``sha256``: the artifact's digest when the caller knows it (from an index);
    computed here when ``settings.hash_files`` and not given."""
    try:
        with deadline(settings.timeout):
            limits_mod.set_default(settings.limits)
            if sha256 is not None:
                # the index's digest keys the result cache only once the file's bytes give
                # it (apt refuses a file whose hash differs from the index: "Hash Sum
                # mismatch"); read before the check, so a file swapped for another package
                # is refused unread by the engine (a second read, from the page cache)
                actual = file_sha256(path)
                if actual != sha256.lower():
                    return Outcome(
                        path,
                        None,
                        errors=[
                            f"SHA-256 {actual[:16]}… differs from the index's {sha256[:16]}… "
                            "(hash sum mismatch): not checked"
                        ],
                    )
            # the engine's own isolated per-target path, as the serial run takes it; it stats
            # first and opens only regular files and directories, so the digest comes after
            # it (hashing first opened a FIFO and blocked)
            result = check_target(
                path,
                settings.runtimes,
                catalogue(),
                settings.config,
                digests=settings.digests,
                own_platforms=True,
            )
            if isinstance(result, TargetError):
                return Outcome(path, sha256, errors=[result.message])
            if sha256 is None and settings.hash_files and result.info.format != "tree":
                sha256 = file_sha256(path)
            return outcome_of(path, result, settings, sha256)
    except Timeout:
        return Outcome(path, sha256, errors=[f"timed out after {settings.timeout:g} s"], retry=True)
    except OSError as exc:  # the digest's read
        return Outcome(path, sha256, errors=[exc.strerror or str(exc)])
    except Exception as exc:  # a bug: this target's error, not the run's
        return Outcome(path, sha256, errors=[f"internal error: {type(exc).__name__}: {exc}"])


# --- process-pool worker state: Settings sent once per process -------------------------------

_SETTINGS: Settings | None = None


def init_process(settings: Settings) -> None:
    """Process-pool initializer: keep the run's settings for :func:`check_in_process`."""
    global _SETTINGS
    _SETTINGS = settings
    # A terminal's Ctrl-C reaches the whole process group; the parent handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def check_in_process(path: str, sha256: str | None) -> Outcome:
    """:func:`check_one` with the settings :func:`init_process` kept."""
    assert _SETTINGS is not None, "init_process was not run"
    return check_one(path, _SETTINGS, sha256)
