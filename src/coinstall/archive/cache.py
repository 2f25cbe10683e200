"""The result cache: SQLite (stdlib :mod:`sqlite3`) in WAL mode under the user's cache directory.

Keyed like lintian's reporting harness keys its state (``reporting-sync-state.pm``: the SHA-256
of each package from the archive index and the version of lintian that processed it;
../shared/reference/archive-scale.md §1, §4):

* ``results(sha256, key) -> outcome``: ``sha256`` is the artifact file's digest (taken from the
  ``Packages``/``primary.xml`` index when there is one and the file's bytes give it, else
  computed), ``key`` the digest of
  :func:`run_key` (coinstall's version and code, the rule set, the runtimes and every option
  that changes a result).  The outcome is path-independent (:meth:`Outcome.to_cache`); the
  artifact's JSON text is kept zstd-compressed (:func:`_packer`), the rest with zlib.
* ``files(path) -> size, mtime_ns, ctime_ns, inode, sha256``: the digest this program computed
  for a file last seen with this ``stat``; a re-run over unchanged files stats them and opens
  none (ruff keys its cache on mtime; mypy's SQLite metastore on path and mtime; the ctime is
  added because ``utime`` can put an mtime back after a rewrite in place, the ctime not).
  An index given with ``--repo`` is a file of this table too.
* ``indexes(key) -> entries``: what :mod:`coinstall.archive.repo` read from a repository index
  (the selected packages' name, path, digest and size, and the problems met), keyed by the
  index file's SHA-256, the selection and coinstall's code: a warm run over an unchanged
  ``Packages.xz`` neither decompresses nor parses it.

Only a digest computed here from the file's bytes keys a result: the SHA-256 an index gives
is compared with the file's (apt's "Hash Sum mismatch") before a result is stored under it, so
a hostile mirror cannot store one package's result under another package's digest.

One writer: only the parent process writes (the workers return outcomes); rows are committed
in batches.  The database lives in ``$COINSTALL_CACHE_DIR``, else
``$XDG_CACHE_HOME/coinstall``, else ``~/.cache/coinstall`` (XDG Base Directory Specification).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import zstandard

from coinstall.archive.worker import Outcome, Settings
from coinstall.rules import FindingJSON, all_rules

DB_NAME = "results.sqlite3"
#: Rows written before a commit.
BATCH = 256


def cache_dir() -> Path:
    """The cache directory (not created): :func:`coinstall.cachedir.cache_root`."""
    from coinstall.cachedir import cache_root

    return cache_root()


_CODE: str | None = None


def code_digest() -> str:
    """SHA-256 over coinstall's own source and data files (names and bytes): a result made by
    other code is never reused, even between two builds of the same version."""
    global _CODE
    if _CODE is None:
        import coinstall

        h = hashlib.sha256()
        # the version the build writes into the metadata (coinstall/__init__.py), and the
        # package's own directory: importlib.metadata and importlib.resources cost a warm
        # archive run more than reading the files (email, zipfile, tempfile), and coinstall is
        # installed as files (a wheel, an editable install), never imported from a zip
        h.update(coinstall.__version__.encode())
        root = Path(coinstall.__file__).parent
        stack = [root]
        files = []
        while stack:
            d = stack.pop()
            for entry in d.iterdir():
                if entry.is_dir():
                    if entry.name != "__pycache__":
                        stack.append(entry)
                elif entry.name.endswith((".py", ".toml", ".j2")):
                    files.append(entry)
        for f in sorted(files, key=lambda e: str(e)):
            h.update(str(f).removeprefix(str(root)).encode() + b"\0" + f.read_bytes())
        _CODE = h.hexdigest()
    return _CODE


def run_key(settings: Settings) -> str:
    """Digest of everything besides the artifact's bytes that a result depends on: the code,
    the rule catalogue, the runtimes, the configuration (profile, selection, severities,
    per-path ignores, stack), the reader limits and whether file digests are read."""
    cfg = settings.config
    data = {
        "code": code_digest(),
        "rules": [r.to_json() for r in all_rules()],
        "runtimes": [rt.to_json() for rt in settings.runtimes],
        "profile": cfg.profile,
        "select": sorted(cfg.select) if cfg.select is not None else None,
        "ignore": sorted(cfg.ignore),
        "severity": dict(sorted(cfg.severity.items())),
        "per_path_ignores": {k: sorted(v) for k, v in sorted(cfg.per_path_ignores.items())},
        "stack": str(cfg.stack),
        "digests": settings.digests,
        "set_index": settings.set_index,
        "matrix": settings.matrix,
        "limits": repr(settings.limits),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def path_dependent(settings: Settings) -> bool:
    """Per-path ignores match the artifact's file name: then its path is part of the key."""
    return bool(settings.config.per_path_ignores)


#: Bumped when a table changes; a database of another version is emptied and rebuilt.
SCHEMA = 3
_TABLES = (
    "CREATE TABLE IF NOT EXISTS results (sha256 TEXT, key TEXT, outcome BLOB, artifact BLOB, "
    "setindex BLOB, PRIMARY KEY (sha256, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
    " ctime_ns INTEGER, inode INTEGER, sha256 TEXT) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS setresults (key TEXT PRIMARY KEY, findings BLOB) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS indexes (key TEXT PRIMARY KEY, entries BLOB) WITHOUT ROWID",
)


#: Most bytes of one artifact's JSON text the cache keeps (python3-azure's 24,000 files make
#: 20 MB); a row claiming more is damaged.
MAX_ARTIFACT = 256 << 20

_PACKER: zstandard.ZstdCompressor | None = None


class CacheStats(TypedDict):
    """What ``coinstall cache info`` shows (:meth:`ResultCache.stats`)."""

    path: str
    results: int  # rows of the results table
    files: int  # file digests remembered
    bytes: int  # the database and its journal files on disk
    usable: bool  # False: the cache was given up (damaged, unwritable)


def _packer() -> zstandard.ZstdCompressor:
    """The compressor of the ``artifact`` column: zstd level 1 (``zstandard``): smaller and
    faster both ways than zlib level 1 on artifact JSON (measured:
    benchmarks/MEASUREMENTS.md, 'result cache compression')."""
    global _PACKER
    if _PACKER is None:
        _PACKER = zstandard.ZstdCompressor(level=1)
    return _PACKER


def _unpack(blob: bytes) -> bytes:
    """The ``artifact`` column's bytes back; the size the frame claims is checked first
    (``MAX_ARTIFACT``), so a damaged row cannot make this allocate what it likes.

    Raises:
        ValueError: a frame of unknown size or too large; ``zstandard.ZstdError``: damaged.
    """
    size = zstandard.frame_content_size(blob)
    if size < 0 or size > MAX_ARTIFACT:
        raise ValueError(f"artifact of {size} bytes")
    return bytes(zstandard.ZstdDecompressor().decompress(blob, max_output_size=size))


def unpack_text(blob: bytes) -> str:
    """The artifact JSON text of an :attr:`Outcome.packed` (which this module made).

    Raises:
        ValueError, zstandard.ZstdError: not a blob of this module's.
    """
    return _unpack(blob).decode()


def _warn_stderr(message: str) -> None:
    import sys

    sys.stderr.write(f"warning: {message}\n")


class ResultCache:
    """The cache database; open one per run, in the process that writes.

    The cache is only ever an optimisation, and its file is input like any other: a database
    that is not a regular file (a FIFO, a symbolic link), corrupt, truncated, of another
    schema, read-only or holding rows of the wrong shape never stops a run.  A damaged one is
    discarded (its files removed, a new one made) with one ``warning:`` line through
    ``warn``; one that cannot be used (read-only, locked, a directory) leaves the run
    uncached, with one warning.

    Attributes:
        path: the database file.
        usable: False once the cache was given up for this run (every call is then a miss
            or does nothing).
    """

    def __init__(
        self, path: Path | None = None, warn: Callable[[str], None] = _warn_stderr
    ) -> None:
        self.path = path or cache_dir() / DB_NAME
        self._warn = warn
        self._db: sqlite3.Connection | None = None
        self._pending = 0
        self.hits = 0
        self.misses = 0
        self.usable = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open()
        except sqlite3.DatabaseError as exc:
            if self._give_up(exc, discard=not isinstance(exc, sqlite3.OperationalError)):
                try:
                    self._open()
                except (sqlite3.Error, OSError) as again:
                    self._give_up(again, discard=False)
        except (sqlite3.Error, OSError) as exc:
            self._give_up(exc, discard=False)

    def _open(self) -> None:
        """Open or create the database: only a regular file (or none) is opened (stat first:
        sqlite would open a FIFO and wait on it, or write through a link)."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise sqlite3.DatabaseError("not a regular file")
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA:  # another layout (an older coinstall): start empty
            for table in ("results", "files", "setresults", "indexes"):
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
            self._db.execute(f"PRAGMA user_version = {SCHEMA}")
        for sql in _TABLES:
            self._db.execute(sql)
        self.usable = True

    def _give_up(self, exc: BaseException, *, discard: bool) -> bool:
        """Stop using the database for this run, with one warning; ``discard``: remove its
        files (a damaged database).  Returns whether the files were removed."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self.usable = False
        self._pending = 0
        why = str(exc) or type(exc).__name__
        removed = False
        if discard:
            removed = True
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(f"{self.path}{suffix}")  # a link or FIFO: the name goes
                except FileNotFoundError:
                    pass
                except OSError:
                    removed = False
        if removed:
            self._warn(f"result cache {self.path} is damaged ({why}); discarded")
        else:
            self._warn(f"result cache {self.path} cannot be used ({why}); running without it")
        return removed

    def _fail(self, exc: sqlite3.Error) -> None:
        """An error met mid-run: a damaged database is discarded, any other leaves the run
        uncached."""
        self._give_up(exc, discard=not isinstance(exc, sqlite3.OperationalError))

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        if self._db is None:
            return
        try:
            if self._pending == 0:
                self._db.execute("BEGIN")
            self._db.execute(sql, args)
            self._pending += 1
            if self._pending >= BATCH:
                self.commit()
        except sqlite3.Error as exc:
            self._fail(exc)

    def commit(self) -> None:
        if self._pending and self._db is not None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._fail(exc)
            self._pending = 0

    def close(self) -> None:
        self.commit()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _row(self, sql: str, args: tuple[Any, ...]) -> Any:
        if self._db is None:
            return None
        try:
            return self._db.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            self._fail(exc)
            return None

    def known_digest(self, path: str, st: os.stat_result) -> str | None:
        """The SHA-256 this program computed for ``path`` when the file had this size,
        mtime, ctime and inode (ctime: a rewrite in place that resets the mtime with
        ``utime`` still moves the ctime, which no caller can set)."""
        row = self._row(
            "SELECT size, mtime_ns, ctime_ns, inode, sha256 FROM files WHERE path = ?",
            (os.path.abspath(path),),
        )
        if row and tuple(row[:4]) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino):
            return str(row[4])
        return None

    def remember_digest(self, path: str, st: os.stat_result, sha256: str) -> None:
        """Record a digest this program computed from the file's bytes (never one an index
        gives: the cache is keyed only on verified digests)."""
        self._write(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, sha256),
        )

    def get(self, sha256: str, key: str, path: str) -> Outcome | None:
        row = self._row(
            "SELECT outcome, artifact, setindex FROM results WHERE sha256 = ? AND key = ?",
            (sha256, key),
        )
        if row is None:
            self.misses += 1
            return None
        try:
            artifact = _unpack(row[1]).decode() if row[1] is not None else None
            out = Outcome.from_cache(
                path, sha256, json.loads(zlib.decompress(row[0])), artifact, row[2]
            )
            out.packed = row[1]
            if not isinstance(out.errors, list) or (
                out.artifact is not None and not out.artifact.startswith("{")
            ):
                raise ValueError("a row of the wrong shape")
        except (
            ValueError,
            TypeError,
            KeyError,
            zlib.error,
            zstandard.ZstdError,
            UnicodeDecodeError,
        ) as exc:
            self._fail(sqlite3.DatabaseError(f"unreadable row: {exc}"))
            self.misses += 1
            return None
        self.hits += 1
        return out

    def put(self, key: str, outcome: Outcome) -> None:
        assert outcome.sha256 is not None
        blob = zlib.compress(json.dumps(outcome.to_cache(), separators=(",", ":")).encode(), 1)
        art = None
        if outcome.artifact is not None:
            text = outcome.artifact.encode()
            if len(text) > MAX_ARTIFACT:
                return  # not kept: get() refuses a row claiming more
            art = _packer().compress(text)
            outcome.packed = art  # what a spool keeps (with_set_findings)
        self._write(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
            (outcome.sha256, key, blob, art, outcome.index),
        )

    def get_set(self, key: str) -> dict[int, list[FindingJSON]] | None:
        """The set-scope rules' findings kept for one group of artifacts (position -> findings),
        or None."""
        row = self._row("SELECT findings FROM setresults WHERE key = ?", (key,))
        if row is None:
            return None
        try:
            data = json.loads(zlib.decompress(row[0]))
            return {int(k): list(v) for k, v in data.items()}
        except (ValueError, TypeError, AttributeError, zlib.error) as exc:
            self._fail(sqlite3.DatabaseError(f"unreadable row: {exc}"))
            return None

    def put_set(self, key: str, findings: dict[int, list[FindingJSON]]) -> None:
        blob = zlib.compress(json.dumps(findings, separators=(",", ":")).encode(), 1)
        self._write("INSERT OR REPLACE INTO setresults VALUES (?, ?)", (key, blob))

    def get_index(self, key: str) -> Any:
        """What :meth:`put_index` kept under ``key`` (JSON data), or None."""
        row = self._row("SELECT entries FROM indexes WHERE key = ?", (key,))
        if row is None:
            return None
        try:
            return json.loads(zlib.decompress(row[0]))
        except (ValueError, TypeError, zlib.error) as exc:
            self._fail(sqlite3.DatabaseError(f"unreadable row: {exc}"))
            return None

    def put_index(self, key: str, entries: Any) -> None:
        """Keep what was read from a repository index (JSON data) under ``key``
        (:mod:`coinstall.archive.repo` makes the key from the index file's digest)."""
        blob = zlib.compress(json.dumps(entries, separators=(",", ":")).encode(), 1)
        self._write("INSERT OR REPLACE INTO indexes VALUES (?, ?)", (key, blob))

    def clear(self) -> tuple[int, int]:
        """Delete every row; returns (results, files) deleted.  A damaged database is
        discarded instead (0, 0) and a new one made.

        Raises:
            OSError: the database is read-only or locked, or cannot be used or made at all
                (see :attr:`usable`).
        """
        self.commit()
        if self._db is not None:
            try:
                n = self._db.execute("DELETE FROM results").rowcount
                m = self._db.execute("DELETE FROM files").rowcount
                self._db.execute("DELETE FROM setresults")
                self._db.execute("DELETE FROM indexes")
                self._db.execute("VACUUM")
                return n, m
            except sqlite3.OperationalError as exc:  # read-only, locked: nothing removed
                raise OSError(f"{self.path}: cannot be cleared ({exc})") from None
            except sqlite3.Error as exc:  # damaged: discarded, a new one made below
                self._fail(exc)
        if not self.usable:
            try:
                self._open()
            except (sqlite3.Error, OSError) as exc:
                raise OSError(f"{self.path}: cannot make a new cache ({exc})") from None
        return 0, 0

    def stats(self) -> CacheStats:
        """Rows and size on disk (0 rows for a cache given up)."""
        n = m = 0
        if self._db is not None:
            try:
                n = self._db.execute("SELECT count(*) FROM results").fetchone()[0]
                m = self._db.execute("SELECT count(*) FROM files").fetchone()[0]
            except sqlite3.Error as exc:
                self._fail(exc)
        size = sum(
            p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file()
        )
        return {
            "path": str(self.path),
            "results": n,
            "files": m,
            "bytes": size,
            "usable": self.usable,
        }
