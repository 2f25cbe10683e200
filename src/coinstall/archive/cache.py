"""The result cache: SQLite (stdlib :mod:`sqlite3`) in WAL mode under the user's cache directory.

Keyed like lintian's reporting harness keys its state (``reporting-sync-state.pm``: the SHA-256
of each package from the archive index and the version of lintian that processed it;
../shared/reference/archive-scale.md §1, §4):

* ``results(sha256, key) -> outcome``: ``sha256`` is the artifact file's digest (taken from the
  ``Packages``/``primary.xml`` index when there is one, else computed), ``key`` the digest of
  :func:`run_key` (coinstall's version and code, the rule set, the runtimes and every option
  that changes a result).  The outcome is path-independent (:meth:`Outcome.to_cache`).
* ``files(path) -> size, mtime_ns, inode, sha256``: the digest of a file last seen with this
  ``stat``; a re-run over unchanged files stats them and opens none (ruff keys its cache on
  mtime; mypy's SQLite metastore on path and mtime: same trade-off).

One writer: only the parent process writes (the workers return outcomes); rows are committed
in batches.  The database lives in ``$COINSTALL_CACHE_DIR``, else
``$XDG_CACHE_HOME/coinstall``, else ``~/.cache/coinstall`` (XDG Base Directory Specification).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from coinstall.archive.worker import Outcome, Settings
from coinstall.rules import all_rules

DB_NAME = "results.sqlite3"
#: Rows written before a commit.
BATCH = 256


def cache_dir() -> Path:
    """The cache directory (not created)."""
    env = os.environ.get("COINSTALL_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg else Path.home() / ".cache") / "coinstall"


_CODE: str | None = None


def code_digest() -> str:
    """SHA-256 over coinstall's own source and data files (names and bytes): a result made by
    other code is never reused, even between two builds of the same version."""
    global _CODE
    if _CODE is None:
        h = hashlib.sha256()
        try:
            h.update(version("coinstall").encode())
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            h.update(b"0")
        root = resources.files("coinstall")
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


class ResultCache:
    """The cache database; open one per run, in the process that writes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (sha256 TEXT, key TEXT, "
                         "outcome BLOB, artifact BLOB, setindex BLOB, PRIMARY KEY (sha256, key)) "
                         "WITHOUT ROWID")
        self._db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER,"
                         " mtime_ns INTEGER, inode INTEGER, sha256 TEXT) WITHOUT ROWID")
        self._db.execute("CREATE TABLE IF NOT EXISTS setresults (key TEXT PRIMARY KEY, "
                         "findings BLOB) WITHOUT ROWID")
        self._pending = 0
        self.hits = 0
        self.misses = 0

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        if self._pending == 0:
            self._db.execute("BEGIN")
        self._db.execute(sql, args)
        self._pending += 1
        if self._pending >= BATCH:
            self.commit()

    def commit(self) -> None:
        if self._pending:
            self._db.execute("COMMIT")
            self._pending = 0

    def close(self) -> None:
        self.commit()
        self._db.close()

    def known_digest(self, path: str, st: os.stat_result) -> str | None:
        """The SHA-256 recorded for ``path`` if the file still has that size, mtime and inode."""
        row = self._db.execute("SELECT size, mtime_ns, inode, sha256 FROM files WHERE path = ?",
                               (os.path.abspath(path),)).fetchone()
        if row and tuple(row[:3]) == (st.st_size, st.st_mtime_ns, st.st_ino):
            return str(row[3])
        return None

    def remember_digest(self, path: str, st: os.stat_result, sha256: str) -> None:
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                    (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino, sha256))

    def get(self, sha256: str, key: str, path: str) -> Outcome | None:
        row = self._db.execute("SELECT outcome, artifact, setindex FROM results WHERE "
                               "sha256 = ? AND key = ?", (sha256, key)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        artifact = zlib.decompress(row[1]).decode() if row[1] is not None else None
        return Outcome.from_cache(path, sha256, json.loads(zlib.decompress(row[0])), artifact,
                                  row[2])

    def put(self, key: str, outcome: Outcome) -> None:
        assert outcome.sha256 is not None
        blob = zlib.compress(json.dumps(outcome.to_cache(), separators=(",", ":")).encode(), 1)
        art = zlib.compress(outcome.artifact.encode(), 1) if outcome.artifact is not None \
            else None
        self._write("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                    (outcome.sha256, key, blob, art, outcome.index))

    def get_set(self, key: str) -> dict[int, list[dict[str, Any]]] | None:
        """The set-scope rules' findings kept for one group of artifacts (position -> findings),
        or None."""
        row = self._db.execute("SELECT findings FROM setresults WHERE key = ?",
                               (key,)).fetchone()
        if row is None:
            return None
        return {int(k): v for k, v in json.loads(zlib.decompress(row[0])).items()}

    def put_set(self, key: str, findings: dict[int, list[dict[str, Any]]]) -> None:
        blob = zlib.compress(json.dumps(findings, separators=(",", ":")).encode(), 1)
        self._write("INSERT OR REPLACE INTO setresults VALUES (?, ?)", (key, blob))

    def clear(self) -> tuple[int, int]:
        """Delete every row; returns (results, files) deleted."""
        self.commit()
        n = self._db.execute("DELETE FROM results").rowcount
        m = self._db.execute("DELETE FROM files").rowcount
        self._db.execute("DELETE FROM setresults")
        self._db.execute("VACUUM")
        return n, m

    def stats(self) -> dict[str, Any]:
        """Rows and size on disk."""
        n = self._db.execute("SELECT count(*) FROM results").fetchone()[0]
        m = self._db.execute("SELECT count(*) FROM files").fetchone()[0]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return {"path": str(self.path), "results": n, "files": m, "bytes": size}

