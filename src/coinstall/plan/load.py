"""Turn ``--repo`` arguments into one :class:`~coinstall.plan.indices.Index`.

A ``--repo`` is an index file (``Packages``, ``Sources``, ``repomd.xml``), a directory holding
indices (apt lists, a ``dists/`` tree, an RPM repository with ``repodata/``) or a directory of
artifacts (``.deb``, ``.rpm``, ``.whl``, read with :func:`coinstall.artifacts.open_artifact`).

Parsed index files are cached in ``$XDG_CACHE_HOME/coinstall/plan`` (default
``~/.cache/coinstall/plan``), keyed by the file's absolute path, size, mtime (ns) and inode and
the cache format version, written with :mod:`marshal` (fast, same-interpreter only: the cache
file name carries the interpreter's cache tag).  A changed file misses the cache; a corrupt
cache entry is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from coinstall.plan.indices import (
    BinaryRecord,
    Index,
    IndexError_,
    IndexProblem,
    SourceRecord,
    find_indices,
    read_index,
)

CACHE_FORMAT = 3
#: Debian paragraphs the planner reads: any that mentions Python (the rest only counted).
SELECT = b"python"
_ARTIFACT_ENDINGS = (".deb", ".rpm", ".whl")


def cache_dir() -> str:
    """The cache directory (not created)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "coinstall", "plan")


def _key(kind: str, path: str) -> str:
    st = os.stat(path)
    raw = f"{CACHE_FORMAT}|{SELECT!r}|{kind}|{os.path.abspath(path)}|{st.st_size}|" \
          f"{st.st_mtime_ns}|{st.st_ino}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32] + f".{sys.implementation.cache_tag}"


def _dump(idx: Index) -> bytes:
    return marshal.dumps((
        [(b.name, b.version, b.arch, b.source, b.depends, b.provides, b.files, b.syntax,
          b.origin, b.stable_abi_baseline) for b in idx.binaries],
        [(s.name, s.version, s.binaries, s.build_depends, s.arch, s.syntax, s.origin)
         for s in idx.sources.values()],
        [(p.path, p.line, p.message) for p in idx.problems],
        idx.files, idx.binaries_total, idx.sources_total,
    ))


def _load(data: bytes) -> Index:
    bins, srcs, probs, files, nb, ns = marshal.loads(data)
    return Index([BinaryRecord(*b) for b in bins],
                 {s[0]: SourceRecord(*s) for s in srcs},
                 [IndexProblem(*p) for p in probs], list(files), nb, ns)


def read_cached(kind: str, path: str, use_cache: bool = True) -> Index:
    """:func:`~coinstall.plan.indices.read_index` through the stat-keyed cache.

    Raises:
        IndexError_: as ``read_index``.
    """
    if not use_cache or kind == "repomd":  # repomd points to other files: not keyed here
        return read_index(kind, path, SELECT)
    try:
        key = _key(kind, path)
    except OSError as e:
        raise IndexError_(path, e.strerror or str(e)) from None
    cdir = cache_dir()
    cfile = os.path.join(cdir, key)
    try:
        with open(cfile, "rb") as f:
            return _load(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    idx = read_index(kind, path, SELECT)
    try:
        os.makedirs(cdir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cdir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_dump(idx))
        os.replace(tmp, cfile)  # never a half-written cache entry
    except OSError:
        pass
    return idx


_STABLE_ABI_SO = re.compile(r"\.abi3t?(?:-[^./]+)?\.so$")


def _baseline(content: bytes | IO[bytes]) -> tuple[int, int] | None:
    """Stable-ABI baseline of one extension module from its dynamic imports (see
    :func:`coinstall.files.extension.stable_abi_baseline`); None if unreadable."""
    from coinstall.files.extension import read_elf, stable_abi_baseline

    try:
        elf = read_elf(content, symbols=True)
    except ValueError:
        return None
    return stable_abi_baseline(elf.python_imports) if elf is not None else None


def _artifacts(path: str, idx: Index) -> bool:
    """Read every artifact under ``path`` (a directory, or one artifact file) into ``idx``;
    False if there is none."""
    if os.path.isfile(path):
        _artifact(path, idx)
        return True
    found = False
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for fn in sorted(filenames):
            if fn.endswith(_ARTIFACT_ENDINGS):
                found = True
                _artifact(os.path.join(dirpath, fn), idx)
    return found


def _artifact(fp: str, idx: Index) -> None:
    """One .deb/.rpm/.whl as a binary record: relations, paths, stable-ABI baseline."""
    from coinstall.artifacts import open_artifact
    from coinstall.artifacts.base import ArtifactError, exc_line
    from coinstall.plan.indices import srpm_name

    try:
        reader = open_artifact(fp)
        info = reader.info
        files = []
        baseline: tuple[int, int] | None = None
        for m in reader.members(lambda p, s: _STABLE_ABI_SO.search(p) is not None):
            files.append(m.path)
            whole = m.content if m.content is not None else m.spool
            if whole is not None:
                b = _baseline(whole)
                if b is not None and (baseline is None or b > baseline):
                    baseline = b
    except Exception as e:  # any failure of one artifact is its problem; the others go on
        why = str(e) if isinstance(e, ArtifactError) else exc_line(e, typed=True)
        idx.problems.append(IndexProblem(fp, 0, f"unreadable artifact ({why}); skipped"))
        return
    fn = os.path.basename(fp)
    syntax = "rpm" if info.format == "rpm" else "deb"
    src = info.fields.get("Source") or info.fields.get("sourcerpm") or info.name or fn
    if syntax == "rpm":
        src = srpm_name(src) if src.endswith(".rpm") else src
    else:
        src = src.split(" ")[0]
    idx.binaries.append(BinaryRecord(
        info.name or fn, info.version or "", info.arch or "", src,
        ", ".join(info.requires), ", ".join(info.provides), tuple(files), syntax, fp,
        f"{baseline[0]}.{baseline[1]}" if baseline else ""))
    idx.files.append(fp)
    idx.binaries_total += 1


def load(repos: list[str], *, use_cache: bool = True,
         on_file: Callable[[str], None] | None = None) -> Index:
    """Read every ``--repo`` into one index.  Problems with one input are recorded in
    ``Index.problems`` (as a line with line number 0) and the others are still read.
    """
    idx = Index()
    jobs: list[tuple[str, str]] = []
    for repo in repos:
        try:
            mode = os.stat(repo).st_mode
        except OSError as e:
            idx.problems.append(IndexProblem(repo, 0, (e.strerror or str(e)).lower()))
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            from coinstall.artifacts import file_kind

            idx.problems.append(IndexProblem(
                repo, 0, f"{file_kind(mode)}, not a regular file or directory: not opened"))
            continue
        if os.path.isfile(repo) and repo.endswith(_ARTIFACT_ENDINGS):
            _artifacts(repo, idx)
            continue
        try:
            found = find_indices(repo)
        except IndexError_ as e:
            idx.problems.append(IndexProblem(e.path, 0, e.message))
            continue
        if not found and os.path.isdir(repo):
            if not _artifacts(repo, idx):
                idx.problems.append(IndexProblem(repo, 0, "no index and no artifact found"))
            continue
        jobs.extend(found)
    # Two threads: zlib/lzma/zstd decompression releases the GIL, so one file decompresses
    # while the other is parsed.  Results are merged in input order.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_read_one, kind, fp, use_cache, on_file) for kind, fp in jobs]
        for fut in futures:
            part = fut.result()
            if isinstance(part, IndexProblem):
                idx.problems.append(part)
            else:
                idx.extend(part)
    return idx


def _read_one(kind: str, path: str, use_cache: bool,
              on_file: Callable[[str], None] | None) -> Index | IndexProblem:
    if on_file is not None:
        on_file(path)
    try:
        return read_cached(kind, path, use_cache)
    except IndexError_ as e:
        return IndexProblem(e.path, 0, e.message)
    except Exception as e:  # a damaged index reaching an unforeseen error: its problem alone
        from coinstall.artifacts.base import exc_line

        return IndexProblem(path, 0, f"unreadable ({exc_line(e, typed=True)})")

