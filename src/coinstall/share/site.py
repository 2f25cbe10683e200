"""The shared site: its targets and hooks, the record database, the lock and transactions.

Layout of a shared site ``DIR``::

    DIR/                          on every target's sys.path (after its own site-packages)
    DIR/<package>/, DIR/<module>.py, DIR/<name>.dist-info/ ...   installed distributions
    DIR/__pycache__/<module>.<cache tag>.pyc                      one per runtime (PEP 3147)
    DIR/.coinstall-share/state.json      targets, hooks, every file of every distribution
    DIR/.coinstall-share/lock            fcntl lock of writers (and readers of the state)
    DIR/.coinstall-share/journal.json    present only while a transaction moves files
    DIR/.coinstall-share/work-<txn>/     pins file, downloads and staging (install) or trash
                                         (remove) of a transaction

The hook is a ``.pth`` file in a target's site-packages (``sysconfig`` ``purelib`` of the
target interpreter).  ``site.addsitedir`` appends each directory a ``.pth`` file names *after*
the site directory that holds it (CPython ``Lib/site.py``, ``addpackage``), which is the order
this design needs: the runtime's own, version-specific packages win.

Transactions: every change of installed files is a list of ``os.rename`` moves inside ``DIR``
(one file system, so each move is atomic), written first to the journal.  The state file is
replaced atomically (``os.replace``) with the transaction id; that is the commit point.  A
transaction interrupted before it is rolled back (moves undone in reverse order) by the next
coinstall process that takes the lock (:meth:`SharedSite.recover`).  Until then, every file of
the previous state is where it was: nothing is overwritten and nothing removed before commit.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coinstall.atomic import write_atomic
from coinstall.runtimes import discovery, run
from coinstall.runtimes.model import Runtime

STATE_DIR = ".coinstall-share"
STATE_FORMAT = 1
#: Environment variable naming a transaction point at which the process pauses (tests only):
#: ``resolving`` (the pins file written in the work directory, before pip runs), ``staged``
#: (wheels staged and compiled), ``moving`` (after the first move into place), ``committed``
#: (state written, journal not yet removed).
PAUSE_ENV = "COINSTALL_SHARE_PAUSE_AT"
#: File created when the process reaches the pause point (tests wait for it, then kill).
PAUSE_FILE_ENV = "COINSTALL_SHARE_PAUSE_FILE"
#: Seconds an interpreter query (sys.path, site directory) may take.
QUERY_TIMEOUT = 60.0

#: Run by a target interpreter: its site directory, sys.path, prefixes and PEP 508 marker
#: environment (the same keys and values as ``packaging.markers.default_environment()``,
#: written out because the target need not have packaging).
_SITE_QUERY = """
import json, os, platform, sys, sysconfig
def _fmt(info):
    v = "%d.%d.%d" % (info.major, info.minor, info.micro)
    return v if info.releaselevel == "final" else v + info.releaselevel[0] + str(info.serial)
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": _fmt(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
print(json.dumps({"purelib": sysconfig.get_paths()["purelib"], "sys_path": sys.path,
                  "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix),
                  "markers": markers}))
"""


class ShareError(Exception):
    """A shared-site operation cannot be done; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Target:
    """One runtime the shared site serves.

    Attributes:
        id: the runtime id (:attr:`Runtime.id`, e.g. ``cpython-3.12``), unique in the site.
        python: the command that starts it (a virtual environment's ``bin/python`` stays as
            given: its site-packages is the environment's).
        version: ``(major, minor)``.
        cache_tag: ``sys.implementation.cache_tag`` (``cpython-312``): its bytecode's name.
        site_dir: its site-packages (``sysconfig.get_paths()["purelib"]``), where the hook is.
        hook: the hook file's absolute path.
        markers: its PEP 508 environment (``python_version``, ``sys_platform``, ...), as the
            interpreter itself reported it.
    """

    id: str
    python: str
    version: tuple[int, int]
    cache_tag: str
    site_dir: str
    hook: str
    markers: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["version"] = list(self.version)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Target:
        return cls(
            id=str(d["id"]),
            python=str(d["python"]),
            version=(int(d["version"][0]), int(d["version"][1])),
            cache_tag=str(d["cache_tag"]),
            site_dir=str(d["site_dir"]),
            hook=str(d["hook"]),
            markers=dict(d.get("markers", {})),
        )


@dataclass
class DistRecord:
    """One installed distribution.

    Attributes:
        name: the project name as in METADATA; version: its version string.
        wheel: the wheel file name it came from.
        files: every file the wheel put into the site, relative to DIR (``RECORD`` included).
        bytecode: ``target id -> pyc paths`` (relative) that target's compilation wrote.
        skipped: wheel members not installed (scripts, headers, data: no single interpreter
            or prefix owns a shared site), as ``scheme/path``.
        needed_by: the target ids whose pip asked for it.
    """

    name: str
    version: str
    wheel: str
    files: list[str]
    bytecode: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    needed_by: list[str] = field(default_factory=list)

    def all_paths(self) -> list[str]:
        return self.files + [p for ps in self.bytecode.values() for p in ps]


@dataclass
class State:
    """The contents of ``state.json``."""

    dir: str
    arch: str | None
    targets: list[Target]
    dists: dict[str, DistRecord]
    txn: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "dir": self.dir,
            "arch": self.arch,
            "txn": self.txn,
            "targets": [t.to_json() for t in self.targets],
            "dists": {k: asdict(v) for k, v in sorted(self.dists.items())},
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> State:
        if d.get("format") != STATE_FORMAT:
            raise ShareError(f"state format {d.get('format')!r} is not {STATE_FORMAT}")
        state = cls(
            dir=str(d["dir"]),
            arch=d.get("arch"),
            txn=d.get("txn"),
            targets=[Target.from_json(t) for t in d["targets"]],
            dists={k: DistRecord(**v) for k, v in d["dists"].items()},
        )
        for dist in state.dists.values():
            for p in [*dist.all_paths(), *dist.skipped]:
                check_member(p)
        for t in state.targets:
            if (
                os.path.basename(t.hook) != hook_name(state.dir)
                or os.path.dirname(t.hook) != t.site_dir
            ):
                raise ShareError(f"target {t.id}: hook {t.hook!r} is not this site's hook file")
        return state

    def owners(self) -> dict[str, str]:
        """``relative path -> distribution name`` for every recorded file and pyc."""
        out: dict[str, str] = {}
        for d in self.dists.values():
            for p in d.all_paths():
                out[p] = d.name
        return out


def check_member(path: object) -> str:
    """``path`` if it is a plain path relative to the site (no ``/`` at the start, no empty,
    ``.`` or ``..`` component, no NUL): the state file and the journal are data a process
    that could write the site could also have forged, and never name anything outside it.

    Raises:
        ShareError: anything else.
    """
    if (
        not isinstance(path, str)
        or not path
        or path.startswith("/")
        or "\0" in path
        or any(c in ("", ".", "..") for c in path.split("/"))
    ):
        raise ShareError(f"{path!r} is not a path inside the site")
    return path


def beneath(root: str, rel: str) -> bool:
    """True if every directory of ``rel`` below ``root`` is a real directory (``lstat``: no
    symbolic link), so that ``root/rel`` names a file inside ``root``."""
    d = root
    for part in rel.split("/")[:-1]:
        d = os.path.join(d, part)
        try:
            if not stat.S_ISDIR(os.lstat(d).st_mode):
                return False
        except OSError:
            return False
    return True


#: Largest state or journal file read back, in bytes.
MAX_CONTROL_FILE = 256 * 1024 * 1024


def _read_control(path: str) -> str:
    """A control file's text: opened ``O_NOFOLLOW|O_NONBLOCK``, checked to be a regular file
    no larger than :data:`MAX_CONTROL_FILE` before it is read (a FIFO or a link to
    ``/dev/zero`` at its name is refused, never read).

    Raises:
        FileNotFoundError: there is none.
        ShareError: it is not a regular file, too large, or unreadable.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ShareError(
            f"{path}: {exc.strerror} (a symbolic link is never followed here)"
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CONTROL_FILE:
            raise ShareError(f"{path}: not a regular file of at most {MAX_CONTROL_FILE} bytes")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_CONTROL_FILE + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ShareError(f"{path}: unreadable: {exc}") from None
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Targets


def hook_name(directory: str) -> str:
    """The hook file name for shared site ``directory``: ``coinstall-share-<12 hex>.pth`` (the
    SHA-256 of the absolute path), so that several shared sites can coexist."""
    digest = hashlib.sha256(os.path.abspath(directory).encode()).hexdigest()[:12]
    return f"coinstall-share-{digest}.pth"


def query_python(python: str) -> dict[str, Any]:
    """Ask interpreter ``python`` (as given, not resolved: a venv stays a venv) for its
    ``purelib`` site directory, ``sys.path`` (with ``site`` processing and the user's site,
    :func:`coinstall.runtimes.run.run_script`), prefixes and PEP 508 ``markers`` environment.

    Raises:
        ShareError: it cannot be run or does not answer.
    """
    try:
        proc = run.run_script(
            python, _SITE_QUERY, timeout=QUERY_TIMEOUT, site=True, user_site=True, safe_path=False
        )  # sys.path as users see it
        data: dict[str, Any] = json.loads(proc.last_line())
    except run.RunError as exc:
        raise ShareError(str(exc)) from None
    except ValueError as exc:
        raise ShareError(f"{python}: no answer: {exc}") from None
    return data


def runtime_of(python: str) -> Runtime:
    """The :class:`Runtime` of interpreter ``python`` from coinstall's (cached) probe
    (:func:`runtimes_of` of one).

    Raises:
        ShareError: the probe failed.
    """
    return runtimes_of([python])[0]


def runtimes_of(pythons: Sequence[str]) -> list[Runtime]:
    """The :class:`Runtime` of each interpreter of ``pythons`` (same order), from one call of
    coinstall's cached probe (:func:`probe_all`).

    Raises:
        ShareError: the probe of one failed (the first in ``pythons`` that did).
    """
    out = []
    for rt in probe_all(pythons):
        if isinstance(rt, ShareError):
            raise rt
        out.append(rt)
    return out


def probe_all(pythons: Sequence[str]) -> list[Runtime | ShareError]:
    """The :class:`Runtime` of each interpreter of ``pythons`` (same order), or the
    ShareError saying why it could not be probed, from one call of coinstall's cached probe
    (:func:`coinstall.runtimes.discovery.probe`: one read of its cache, the interpreters it
    does not know probed in parallel, one write).

    A virtual environment's interpreter is probed as the environment (its site directories;
    :func:`coinstall.runtimes.discovery.venv_of`); the build facts (tags, suffixes, magic,
    stable-ABI symbols) are its base interpreter's.
    """
    results, errors = discovery.probe(list(pythons))
    found = {r.requested: r for r in results}
    failed = {e.path: e.message for e in errors}
    out: list[Runtime | ShareError] = []
    for py in pythons:
        r = found.get(py)
        if r is None:
            out.append(ShareError(f"{py}: cannot probe: {failed.get(py, 'no answer')}"))
            continue
        cand = discovery.Candidate(
            executable=r.executable, commands=(os.path.basename(py),), default=False
        )
        out.append(discovery.runtime_from_probe(r.data, cand))
    return out


def _query_or_error(python: str | None) -> dict[str, Any] | ShareError | None:
    """:func:`query_python`, its ShareError returned rather than raised; None for None."""
    if python is None:
        return None
    try:
        return query_python(python)
    except ShareError as exc:
        return exc


def make_targets(directory: str, pythons: Sequence[str]) -> list[tuple[Target, Runtime]]:
    """Targets for interpreters ``pythons`` of shared site ``directory``.

    CPython 3 and PyPy 3 are served: PyPy takes pure wheels and its own ``pp73`` builds
    (wheel tags from :func:`coinstall.share.install.supported_tags`), compiles its own
    bytecode (cache tag ``pypy39``, PEP 3147) and gets its own hook in its own site-packages.

    Raises:
        ShareError: an interpreter cannot be run, is not CPython 3 or PyPy 3, or two are the
            same runtime.
    """
    # absolute but not resolved: a venv's bin/python must stay the venv's
    pys = [os.path.abspath(g) if os.sep in g else (shutil.which(g) or g) for g in pythons]
    rts = probe_all(pys)
    usable = [
        isinstance(rt, Runtime)
        and rt.implementation in ("cpython", "pypy")
        and rt.version[0] == 3
        and bool(rt.cache_tag)
        for rt in rts
    ]
    # The interpreters answer in parallel; the first error in the order given is raised,
    # as if they had been asked one after the other.
    with ThreadPoolExecutor(max_workers=max(1, min(4, sum(usable)))) as pool:
        asked = [py if ok else None for py, ok in zip(pys, usable, strict=True)]
        infos = list(pool.map(_query_or_error, asked))
    out: list[tuple[Target, Runtime]] = []
    for py, rt, info in zip(pys, rts, infos, strict=True):
        if isinstance(rt, ShareError):
            raise rt
        if rt.implementation not in ("cpython", "pypy") or rt.version[0] != 3 or not rt.cache_tag:
            # Wheel tags are generated with packaging's CPython and PyPy rules
            # (install.supported_tags).
            raise ShareError(
                f"{py}: {rt.id}: shared sites serve CPython 3 and PyPy 3 runtimes only"
            )
        if not isinstance(info, dict):  # (every usable runtime was asked)
            raise info or ShareError(f"{py}: no answer")
        site_dir = str(info["purelib"])
        out.append(
            (
                Target(
                    id=rt.id,
                    python=py,
                    version=rt.version,
                    cache_tag=rt.cache_tag,
                    site_dir=site_dir,
                    hook=os.path.join(site_dir, hook_name(directory)),
                    markers={str(k): str(v) for k, v in info["markers"].items()},
                ),
                rt,
            )
        )
    ids = [t.id for t, _ in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ShareError(f"several interpreters are the same runtime: {', '.join(dup)}")
    return out


def path_order(target: Target, directory: str) -> tuple[int | None, int | None]:
    """Where ``target`` puts its own site directory and ``directory`` on ``sys.path``, as
    seen by the real interpreter: ``(index of site_dir, index of directory)`` (None: absent)."""
    sys_path = [os.path.realpath(p) for p in query_python(target.python)["sys_path"]]

    def index(p: str) -> int | None:
        real = os.path.realpath(p)
        return sys_path.index(real) if real in sys_path else None

    return index(target.site_dir), index(directory)


def _pause(point: str) -> None:
    """Test hook: stop at ``point`` when :data:`PAUSE_ENV` names it (see module docs)."""
    if os.environ.get(PAUSE_ENV) != point:
        return
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(120)


# --------------------------------------------------------------------------------------------
# The site


class SharedSite:
    """A shared site directory ``DIR`` (absolute)."""

    def __init__(self, directory: str) -> None:
        self.dir = os.path.abspath(directory)
        self.meta = os.path.join(self.dir, STATE_DIR)
        self.state_path = os.path.join(self.meta, "state.json")
        self.journal_path = os.path.join(self.meta, "journal.json")
        self.lock_path = os.path.join(self.meta, "lock")

    @property
    def initialized(self) -> bool:
        return os.path.lexists(self.state_path)

    def load(self) -> State:
        """The state.  Raises ShareError when DIR is not a shared site or the state is bad."""
        if not self.initialized:
            raise ShareError(f"{self.dir}: not a shared site (run `coinstall share init`)")
        try:
            return State.from_json(json.loads(_read_control(self.state_path)))
        except ShareError as exc:
            raise ShareError(f"{self.state_path}: unreadable state: {exc}") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise ShareError(f"{self.state_path}: unreadable state: {exc}") from None

    def save(self, state: State) -> None:
        write_atomic(self.state_path, json.dumps(state.to_json(), indent=1) + "\n", perms=0o644)

    @contextlib.contextmanager
    def locked(
        self, timeout: float = 60.0, waiting: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Hold the site's exclusive lock (``fcntl.flock`` on ``lock``), waiting up to
        ``timeout`` seconds; roll back an interrupted transaction first.  ``waiting`` is
        called once, with a line naming the holder's pid, when the lock is found held.

        Raises:
            ShareError: the lock is still held after ``timeout`` (names the holder's pid).
        """
        self._check_meta()
        try:
            fd = os.open(
                self.lock_path,
                os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                0o644,
            )
        except OSError as exc:
            raise ShareError(
                f"{self.lock_path}: {exc.strerror} (a symbolic link is never followed here)"
            ) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
                raise ShareError(
                    f"{self.lock_path}: not a regular file of its own (a hard "
                    "link, FIFO or device there is never written)"
                )
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                    if waiting is not None:
                        waiting(
                            f"waiting for the lock of {self.dir}"
                            f"{' (held by pid ' + holder + ')' if holder else ''}"
                        )
                        waiting = None
                    if time.monotonic() >= deadline:
                        raise ShareError(
                            f"{self.dir}: locked by another coinstall process"
                            f"{' (pid ' + holder + ')' if holder else ''}; gave up after "
                            f"{timeout:g} s"
                        ) from None
                    time.sleep(0.1)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self.recover()
            try:
                yield
            finally:
                self.sweep()
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _check_meta(self) -> None:
        """Create the state directory if missing; refuse one that is a symbolic link or not
        a directory (its files would be written wherever it points)."""
        with contextlib.suppress(FileExistsError):
            os.makedirs(self.meta)
        if not stat.S_ISDIR(os.lstat(self.meta).st_mode):
            raise ShareError(
                f"{self.meta}: not a directory (a symbolic link is never followed here)"
            )

    def _inside(self, path: object) -> str:
        """``path`` (absolute) if it names a file inside DIR through real directories only."""
        if not isinstance(path, str) or not path.startswith(self.dir + "/"):
            raise ShareError(f"journal {self.journal_path}: {path!r} is outside {self.dir}")
        rel = check_member(path[len(self.dir) + 1 :])
        if not beneath(self.dir, rel):
            raise ShareError(f"journal {self.journal_path}: {path!r} goes through a symbolic link")
        return path

    # -- transactions ---------------------------------------------------------------------

    def new_workdir(self) -> tuple[str, str]:
        """``(txn id, work directory)`` for a new transaction, inside DIR's state directory
        (same file system as DIR: renames from it are atomic)."""
        txn = uuid.uuid4().hex[:16]
        work = os.path.join(self.meta, f"work-{txn}")
        os.makedirs(work)
        return txn, work

    def commit(self, txn: str, moves: Sequence[tuple[str, str]], state: State) -> None:
        """Do ``moves`` (absolute ``(src, dst)`` pairs, ``dst`` must not exist) under the
        journal, then save ``state`` with ``txn`` as the commit point, then clean up.

        On an exception before the state is saved, the moves done are undone and the
        exception propagates.  Must be called with the lock held.
        """
        write_atomic(
            self.journal_path, json.dumps({"txn": txn, "moves": list(moves)}) + "\n", perms=0o644
        )
        done = 0
        try:
            for src, dst in moves:
                if os.path.lexists(dst):
                    raise ShareError(f"{dst}: appeared during the transaction; not overwritten")
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.rename(src, dst)
                done += 1
                if done == 1:
                    _pause("moving")
            state.txn = txn
            self.save(state)
        except BaseException:
            self._undo(moves)
            self._finish(txn)
            raise
        _pause("committed")
        self._finish(txn)

    def _undo(self, moves: Sequence[tuple[str, str]]) -> None:
        for src, dst in reversed(moves):
            if os.path.lexists(dst) and not os.path.lexists(src):
                os.makedirs(os.path.dirname(src), exist_ok=True)
                os.rename(dst, src)

    def _finish(self, txn: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.journal_path)
        shutil.rmtree(os.path.join(self.meta, f"work-{txn}"), ignore_errors=True)

    def recover(self) -> str | None:
        """Finish or roll back a transaction an earlier process left; remove stale work
        directories.  Returns ``"rolled back"``, ``"completed"`` or None (nothing to do).
        Call with the lock held."""
        outcome = None
        if os.path.lexists(self.journal_path):
            try:
                journal = json.loads(_read_control(self.journal_path))
                txn = journal["txn"]
                if not isinstance(txn, str) or not txn.isalnum():
                    raise ShareError(f"journal {self.journal_path}: bad transaction id")
                moves = [(self._inside(a), self._inside(b)) for a, b in journal["moves"]]
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise ShareError(f"journal {self.journal_path}: unreadable: {exc}") from None
            committed = self.initialized and self.load().txn == txn
            if not committed:
                self._undo(moves)
            outcome = "completed" if committed else "rolled back"
            self._finish(txn)
        self.sweep()
        return outcome

    def sweep(self) -> None:
        """Remove work directories no journal refers to (staging of an install that failed
        or was refused before its commit).  Call with the lock held."""
        if os.path.exists(self.journal_path) or not os.path.isdir(self.meta):
            return
        for name in os.listdir(self.meta):
            if name.startswith("work-"):
                shutil.rmtree(os.path.join(self.meta, name), ignore_errors=True)


# --------------------------------------------------------------------------------------------
# init / uninit


@dataclass
class InitResult:
    """What ``share init`` did: the site, its targets, every file written outside DIR."""

    dir: str
    targets: list[Target]
    written_outside: list[str]
    order: dict[str, tuple[int | None, int | None]]


def hook_text(directory: str) -> str:
    """The ``.pth`` hook: a comment and the absolute directory (a path line; ``site`` appends
    it to ``sys.path`` if it exists, CPython ``Lib/site.py`` ``addpackage``)."""
    return (
        f"# coinstall share: shared site after this site-packages; "
        f"remove with `coinstall share uninit {directory}`\n{directory}\n"
    )


def init(
    directory: str, pythons: Sequence[str], arch: str | None = None, timeout: float = 60.0
) -> InitResult:
    """Create (or extend) shared site ``directory`` for interpreters ``pythons`` and write a
    hook into each one's site-packages.

    ``arch``: the multiarch triplet the site holds files for (default: the first target's).

    Raises:
        ShareError: DIR exists, is not empty and is not a shared site; an interpreter cannot
            be used; a site-packages directory is not writable; a target's runtime is already
            in the site under another interpreter.
    """
    site = SharedSite(directory)
    if os.path.exists(site.dir) and not site.initialized:
        if not os.path.isdir(site.dir):
            raise ShareError(f"{site.dir}: exists and is not a directory")
        if [n for n in os.listdir(site.dir) if n != STATE_DIR]:
            raise ShareError(f"{site.dir}: not empty and not a shared site")
    made = make_targets(site.dir, pythons)
    os.makedirs(site.dir, exist_ok=True)
    written: list[str] = []
    with site.locked(timeout):
        first_arch = next((rt.multiarch for _, rt in made if rt.multiarch), None)
        state = site.load() if site.initialized else State(site.dir, arch or first_arch, [], {})
        known = {t.id: t for t in state.targets}
        for t, rt in made:
            old = known.get(t.id)
            if old is not None and old.python != t.python:
                raise ShareError(f"{t.id} is already a target of {site.dir} as {old.python}")
            if state.arch and rt.multiarch and rt.multiarch != state.arch:
                raise ShareError(
                    f"{t.python}: {rt.multiarch} runtime; this site holds {state.arch} files only"
                )
        for t, _ in made:
            if not os.path.isdir(t.site_dir):
                os.makedirs(t.site_dir)
                written.append(t.site_dir + "/")
            try:
                write_atomic(t.hook, hook_text(site.dir), perms=0o644)
            except OSError as exc:
                raise ShareError(f"{t.hook}: cannot write hook: {exc.strerror}") from None
            written.append(t.hook)
            known[t.id] = t
        state.targets = sorted(known.values(), key=lambda t: t.version)
        site.save(state)
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(made)))) as pool:
        orders = list(pool.map(lambda t: path_order(t, site.dir), [t for t, _ in made]))
    order = {t.id: o for (t, _), o in zip(made, orders, strict=True)}
    return InitResult(site.dir, state.targets, written, order)


def uninit(directory: str, purge: bool, timeout: float = 60.0) -> list[str]:
    """Remove every hook of shared site ``directory`` and its state; with ``purge`` also every
    installed distribution and then DIR itself if nothing else is left in it.

    Returns the removed paths outside and inside DIR (hooks first).

    Raises:
        ShareError: distributions are installed and ``purge`` is false.
    """
    site = SharedSite(directory)
    removed: list[str] = []
    with site.locked(timeout):
        state = site.load()
        if state.dists and not purge:
            raise ShareError(
                f"{site.dir}: {len(state.dists)} distribution(s) installed "
                "(remove them, or pass --purge)"
            )
        for t in state.targets:
            if os.path.exists(t.hook):
                os.unlink(t.hook)
                removed.append(t.hook)
        for d in state.dists.values():
            removed.extend(remove_paths(site.dir, owned_paths(site.dir, d)))
        os.unlink(site.state_path)
    shutil.rmtree(site.meta, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(site.dir)
    return removed


# --------------------------------------------------------------------------------------------
# Ownership on disk


def owned_paths(root: str, dist: DistRecord) -> set[str]:
    """Every path (relative to ``root``) that belongs to ``dist``: its files, the bytecode
    recorded at install, and the bytecode any runtime wrote later for one of its sources
    (``__pycache__/<stem>.<any cache tag>[.opt-N].pyc``, PEP 3147/488), if present."""
    out = set(dist.all_paths())
    for f in dist.files:
        if f.endswith(".py"):
            d, base = os.path.split(f)
            cache = os.path.join(root, d, "__pycache__")
            stem = base[:-3]
            with contextlib.suppress(OSError):
                for name in os.listdir(cache):
                    if (
                        name.startswith(stem + ".")
                        and name.endswith(".pyc")
                        and name.count(".") >= 2
                        and name.split(".")[0] == stem
                    ):
                        out.add(os.path.join(d, "__pycache__", name))
    return out


def plan_removal(root: str, owned: set[str]) -> list[str]:
    """The top-most relative paths to take away so that exactly ``owned`` goes (and the
    directories that held nothing else): a directory whose whole content is owned is taken
    as one."""
    owned_dirs: dict[str, bool] = {}

    def fully_owned(rel: str) -> bool:
        if rel in owned_dirs:
            return owned_dirs[rel]
        full = os.path.join(root, rel)
        ok = True
        for name in os.listdir(full):
            child = os.path.join(rel, name)
            if os.path.isdir(os.path.join(root, child)) and not os.path.islink(
                os.path.join(root, child)
            ):
                ok = fully_owned(child) and ok
            elif child not in owned:
                ok = False
        owned_dirs[rel] = ok
        return ok

    tops: set[str] = set()
    for p in sorted(owned):
        # a recorded path under a symbolic link (planted, or a forged state) names a file
        # outside the site: never taken
        if not beneath(root, p) or not os.path.lexists(os.path.join(root, p)):
            continue
        parts = p.split("/")
        chosen = p
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if fully_owned(prefix):
                chosen = prefix
                break
        tops.add(chosen)
    # drop paths inside another chosen directory
    return sorted(t for t in tops if not any(t.startswith(o + "/") for o in tops))


def remove_paths(root: str, owned: set[str]) -> list[str]:
    """Delete ``owned`` (relative to ``root``) now, without a transaction (``uninit
    --purge``).  Returns the removed top-most paths."""
    tops = plan_removal(root, owned)
    for rel in tops:
        full = os.path.join(root, rel)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)
    return [os.path.join(root, t) for t in tops]


# --------------------------------------------------------------------------------------------
# status


@dataclass
class TargetStatus:
    """One target as its interpreter sees it now.

    Attributes:
        target: the record; hook_ok: the hook file exists and names DIR;
        site_index, dir_index: positions on the real ``sys.path`` (None: absent);
        error: why the interpreter could not be asked (None if it could).
    """

    target: Target
    hook_ok: bool
    site_index: int | None
    dir_index: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.hook_ok
            and self.error is None
            and self.dir_index is not None
            and self.site_index is not None
            and self.site_index < self.dir_index
        )


@dataclass
class StatusResult:
    """``share status``: the site, its targets, distribution count, a pending journal."""

    dir: str
    arch: str | None
    targets: list[TargetStatus]
    dists: int
    files: int
    pending: bool


def status(directory: str) -> StatusResult:
    """Read-only report of shared site ``directory``; asks every target interpreter for its
    ``sys.path``.  Takes no lock (reads the atomically replaced state file).

    Raises:
        ShareError: not a shared site.
    """
    site = SharedSite(directory)
    state = site.load()

    def one(t: Target) -> TargetStatus:
        try:
            with open(t.hook, encoding="utf-8") as fh:
                hook_ok = site.dir in fh.read().splitlines()
        except OSError:
            hook_ok = False
        try:
            si, di = path_order(t, site.dir)
            return TargetStatus(t, hook_ok, si, di)
        except ShareError as exc:
            return TargetStatus(t, hook_ok, None, None, str(exc))

    # the interpreters answer in parallel (a thread each waits on its process)
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(state.targets)))) as pool:
        out = list(pool.map(one, state.targets))
    files = sum(len(d.all_paths()) for d in state.dists.values())
    return StatusResult(
        site.dir, state.arch, out, len(state.dists), files, os.path.exists(site.journal_path)
    )
