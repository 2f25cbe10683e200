"""Turn ``--repo`` arguments into one :class:`~coinstall.plan.indices.Index`.

A ``--repo`` is an index file (``Packages``, ``Sources``, ``repomd.xml``), a directory holding
indices (apt lists, a ``dists/`` tree, an RPM repository with ``repodata/``) or a directory of
artifacts (``.deb``, ``.rpm``, ``.whl``, read with :func:`coinstall.artifacts.open_artifact`).

Parsed index files are cached in ``plan/`` of coinstall's cache directory
(:func:`coinstall.cachedir.cache_root`: ``$COINSTALL_CACHE_DIR``, else
``$XDG_CACHE_HOME/coinstall``, else ``~/.cache/coinstall``), keyed by the file's absolute
path, size, mtime and ctime (ns), inode and device and the cache format version, written
with :mod:`marshal` (fast, same-interpreter only: the cache file name carries the
interpreter's cache tag).  A changed
file misses the cache; a corrupt cache entry is ignored and rewritten.

One suite per plan.  Debian index files are labelled with the suite they belong to, from their
path (``dists/<suite>/...`` in a mirror tree, ``…_dists_<suite>_…`` in apt's lists directory,
apt's ``URItoFileName`` spelling) and with the ``Suite``/``Codename`` of that suite's
``InRelease``/``Release`` file next to them (read with python-debian's ``deb822.Release``).
When the inputs hold more than one suite (apt lists with trixie, sid and experimental), a plan
would mix them: :func:`load` refuses with :class:`SuiteError` unless a suite is chosen.  Within
the suite read, a package or source listed more than once (several versions in one file, or in
several ``--repo``) is kept at its newest version by Debian's version order (python-debian's
``debian_support.Version``: epochs, ``~``), never by file order.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import stat
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from coinstall.atomic import write_atomic
from coinstall.plan.indices import (
    BinaryRecord,
    Index,
    IndexProblem,
    PackageIndexError,
    SourceRecord,
    find_indices,
    read_index,
)

CACHE_FORMAT = 4
#: Debian paragraphs the planner reads: any that mentions Python (the rest only counted).
SELECT = b"python"
_ARTIFACT_ENDINGS = (".deb", ".rpm", ".whl")


def cache_dir() -> str:
    """The cache directory (not created): ``plan/`` in
    :func:`coinstall.cachedir.cache_root`."""
    from coinstall.cachedir import cache_root

    return str(cache_root() / "plan")


def _key(kind: str, path: str) -> str:
    """The cache key of index ``path``: its absolute path, size, mtime, ctime, inode and
    device.  The ctime because a rewrite in place that puts the mtime back with ``utime``
    (``rsync --inplace -t``, a restore) still moves it, and no caller can set it (as the
    archive's digest memo, :meth:`coinstall.archive.cache.ResultCache.known_digest`)."""
    st = os.stat(path)
    raw = (
        f"{CACHE_FORMAT}|{SELECT!r}|{kind}|{os.path.abspath(path)}|{st.st_size}|"
        f"{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}|{st.st_dev}"
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32] + f".{sys.implementation.cache_tag}"


def _dump(idx: Index) -> bytes:
    return marshal.dumps(
        (
            [
                (
                    b.name,
                    b.version,
                    b.arch,
                    b.source,
                    b.depends,
                    b.provides,
                    b.files,
                    b.syntax,
                    b.origin,
                    b.stable_abi_baseline,
                )
                for b in idx.binaries
            ],
            [
                (s.name, s.version, s.binaries, s.build_depends, s.arch, s.syntax, s.origin)
                for s in idx.sources.values()
            ],
            [(p.path, p.line, p.message) for p in idx.problems],
            idx.files,
            idx.binaries_total,
            idx.sources_total,
            sorted(idx.source_names),
        )
    )


def _load(data: bytes) -> Index:
    bins, srcs, probs, files, nb, ns, names = marshal.loads(data)
    return Index(
        [BinaryRecord(*b) for b in bins],
        {s[0]: SourceRecord(*s) for s in srcs},
        [IndexProblem(*p) for p in probs],
        list(files),
        nb,
        ns,
        set(names),
    )


def read_cached(kind: str, path: str, use_cache: bool = True) -> Index:
    """:func:`~coinstall.plan.indices.read_index` through the stat-keyed cache.

    Raises:
        PackageIndexError: as ``read_index``.
    """
    if not use_cache or kind == "repomd":  # repomd points to other files: not keyed here
        return read_index(kind, path, SELECT)
    try:
        key = _key(kind, path)
    except OSError as e:
        raise PackageIndexError(path, e.strerror or str(e)) from None
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
        # never a half-written cache entry, nor a temporary file left on an error
        write_atomic(cfile, _dump(idx), perms=0o600)
    except OSError:
        pass
    return idx


#: the name of a cache entry :func:`read_cached` writes (:func:`_key`)
_ENTRY = re.compile(r"^[0-9a-f]{32}\.[A-Za-z0-9_.-]+$")


def _entries() -> list[os.DirEntry[str]]:
    """The cache entries :func:`read_cached` wrote: regular files named as its keys (no
    symbolic link followed, nothing else in the directory touched)."""
    try:
        with os.scandir(cache_dir()) as it:
            return [e for e in it if _ENTRY.match(e.name) and e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def cache_stats() -> tuple[int, int]:
    """``(entries, bytes)`` of the parsed-index cache."""
    sizes = []
    for e in _entries():
        try:
            sizes.append(e.stat(follow_symlinks=False).st_size)
        except OSError:
            continue
    return len(sizes), sum(sizes)


def clear_cache() -> int:
    """Remove every parsed-index cache entry; the number removed.

    Raises:
        OSError: an entry could not be removed (a read-only directory).
    """
    n = 0
    for e in _entries():
        try:
            os.unlink(e.path)
        except FileNotFoundError:
            continue
        n += 1
    return n


_STABLE_ABI_SO = re.compile(r"\.abi3t?(?:-[^./]+)?\.so$")


def _baseline(content: bytes | IO[bytes]) -> tuple[int, int] | None:
    """Stable-ABI baseline of one extension module from its dynamic imports (see
    :func:`coinstall.stable_abi.stable_abi_baseline`); None if unreadable."""
    from coinstall.files.extension import read_elf
    from coinstall.stable_abi import stable_abi_baseline

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
    idx.binaries.append(
        BinaryRecord(
            info.name or fn,
            info.version or "",
            info.arch or "",
            src,
            ", ".join(info.requires),
            ", ".join(info.provides),
            tuple(files),
            syntax,
            fp,
            f"{baseline[0]}.{baseline[1]}" if baseline else "",
        )
    )
    idx.files.append(fp)
    idx.binaries_total += 1


def apply_mirror(idx: Index, mirror: str) -> int:
    """Read the artifacts under ``mirror`` (``--mirror``: a pool of the index's .deb/.rpm
    files) and give each binary record of ``idx`` its artifact's real contents: member paths,
    stable-ABI baseline, and the artifact as ``origin`` (so untagged modules can be judged
    from their symbols).  Records are matched by name, version and architecture; an index
    record without its artifact keeps what the index says.  Only artifacts whose Debian file
    name (``NAME_VERSION_ARCH.deb``) names a record are opened.  Unreadable artifacts are
    problems of ``idx``.  Returns how many records were matched.
    """
    wanted = {b.name for b in idx.binaries}
    arts = Index()
    for dirpath, dirnames, filenames in os.walk(mirror):
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith(_ARTIFACT_ENDINGS):
                continue
            if fn.endswith(".deb") and fn.split("_", 1)[0] not in wanted:
                continue
            _artifact(os.path.join(dirpath, fn), arts)
    by = {(b.name, b.version, b.arch): b for b in arts.binaries}
    n = 0
    for rec in idx.binaries:
        a = by.get((rec.name, rec.version, rec.arch))
        if a is not None:
            rec.files, rec.origin = a.files, a.origin
            rec.stable_abi_baseline = a.stable_abi_baseline
            n += 1
    idx.problems.extend(arts.problems)
    return n


class SuiteError(Exception):
    """The inputs hold indices of several suites and none was chosen, or the chosen suite is
    not among them.  The message is one line."""


#: ``dists/<suite>/`` in a mirror tree, ``_dists_<suite>_`` in apt's lists directory (apt
#: ``URItoFileName`` turns ``/`` into ``_``).
_DISTS = re.compile(r"(?:^|[/_])dists[/_]([^/_]+)[/_]")


def suite_of(path: str) -> str | None:
    """The suite directory name an index file sits under (``sid``), or None."""
    found = _DISTS.findall(os.path.abspath(path))
    return found[-1] if found else None


def _release_names(path: str, suite: str) -> set[str]:
    """``Suite`` and ``Codename`` of the ``InRelease``/``Release`` file of ``path``'s suite
    (``unstable``, ``sid``); empty when there is none or it cannot be read."""
    from debian import deb822

    ap = os.path.abspath(path)
    i = ap.rfind(f"dists/{suite}/")
    j = ap.rfind(f"_dists_{suite}_")
    if i >= 0:
        base = [ap[:i] + f"dists/{suite}/"]
    elif j >= 0:
        base = [ap[:j] + f"_dists_{suite}_"]
    else:
        return set()
    for name in ("InRelease", "Release"):
        fp = base[0] + name
        try:
            if not os.path.isfile(fp) or os.path.getsize(fp) > 16 << 20:
                continue
            with open(fp, encoding="utf-8", errors="replace") as f:
                rel = deb822.Release(f, fields=["Suite", "Codename"])
        except Exception:  # only names for choosing: a damaged Release file names nothing
            continue
        return {v for k in ("Suite", "Codename") if (v := rel.get(k, "").strip())}
    return set()


def _pick_suite(
    jobs: list[tuple[str, str]], suite: str | None
) -> tuple[list[tuple[str, str]], str | None]:
    """Keep the index files of one suite (files outside any ``dists/`` are kept as given).

    Raises:
        SuiteError: several suites and ``suite`` is None, or ``suite`` not found.
    """
    labels: dict[str, set[str]] = {}
    of: list[str | None] = []
    for _, fp in jobs:
        lab = suite_of(fp)
        of.append(lab)
        if lab is not None and lab not in labels:
            labels[lab] = {lab}
    if suite is None and len(labels) < 2:
        return jobs, next(iter(labels), None)
    for lab, names in labels.items():  # Release files are read only to choose or to report
        fp = next(fp for (_, fp), la in zip(jobs, of, strict=True) if la == lab)
        names |= _release_names(fp, lab)
    if suite is None:
        if len(labels) > 1:
            found = ", ".join(
                lab + (f" ({'/'.join(sorted(names - {lab}))})" if names - {lab} else "")
                for lab, names in sorted(labels.items())
            )
            raise SuiteError(
                f"the inputs hold indices of {len(labels)} suites ({found}); a "
                "plan reads one: choose it with --suite"
            )
        return jobs, next(iter(labels), None)
    if not labels:  # no file says which suite it is: nothing to choose from
        return jobs, None
    chosen = [lab for lab, names in labels.items() if suite in names]
    if not chosen:
        found = ", ".join(sorted(labels)) or "none"
        raise SuiteError(f"no index of suite {suite} in the inputs (suites found: {found})")
    keep = {chosen[0]}
    return [j for j, lab in zip(jobs, of, strict=True) if lab is None or lab in keep], chosen[0]


def _newer(a: str, b: str) -> bool:
    """Debian version ``a`` is newer than ``b`` (python-debian: epochs, ``~``, revisions).
    An unparsable version never wins over a parsable one."""
    from debian.debian_support import Version

    try:
        va = Version(a)
    except ValueError:
        return False
    try:
        return va > Version(b)
    except ValueError:
        return True


def _merge(idx: Index, part: Index, seen: dict[tuple[str, str], int]) -> None:
    """Add ``part`` to ``idx``, keeping each Debian binary (name, architecture) and each
    source at its newest version; RPM records are added as they come."""
    idx.binaries_total += part.binaries_total
    idx.sources_total += part.sources_total
    idx.source_names |= part.source_names
    idx.problems.extend(part.problems)
    idx.files.extend(part.files)
    for b in part.binaries:
        if b.syntax != "deb":
            idx.binaries.append(b)
            continue
        key = (b.name, b.arch)
        at = seen.get(key)
        if at is None:
            seen[key] = len(idx.binaries)
            idx.binaries.append(b)
        elif _newer(b.version, idx.binaries[at].version):
            idx.binaries[at] = b
    for name, s in part.sources.items():
        old = idx.sources.get(name)
        if old is None or s.syntax != "deb" or _newer(s.version, old.version):
            idx.sources[name] = s


def load(
    repos: list[str],
    *,
    use_cache: bool = True,
    on_file: Callable[[str], None] | None = None,
    suite: str | None = None,
) -> Index:
    """Read every ``--repo`` into one index, of one suite.  Problems with one input are
    recorded in ``Index.problems`` (as a line with line number 0) and the others are still
    read.

    Args:
        repos: ``--repo`` paths.
        suite: the suite to read (a ``dists/`` directory name, or the ``Suite``/``Codename``
            of its Release file); None reads the one suite there is.

    Returns:
        The index; ``Index.suite`` (attribute set here) is the suite read, or None when no
        input sits under a ``dists/`` directory.

    Raises:
        SuiteError: see :func:`_pick_suite`.
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

            idx.problems.append(
                IndexProblem(
                    repo, 0, f"{file_kind(mode)}, not a regular file or directory: not opened"
                )
            )
            continue
        if os.path.isfile(repo) and repo.endswith(_ARTIFACT_ENDINGS):
            _artifacts(repo, idx)
            continue
        try:
            found = find_indices(repo)
        except PackageIndexError as e:
            idx.problems.append(IndexProblem(e.path, 0, e.message))
            continue
        if not found and os.path.isdir(repo):
            if not _artifacts(repo, idx):
                idx.problems.append(IndexProblem(repo, 0, "no index and no artifact found"))
            continue
        jobs.extend(found)
    jobs, picked = _pick_suite(jobs, suite)
    seen: dict[tuple[str, str], int] = {}
    # Two threads: zlib/lzma/zstd decompression releases the GIL, so one file decompresses
    # while the other is parsed.  Results are merged in input order (which no longer decides
    # anything: the newest version wins).
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_read_one, kind, fp, use_cache, on_file) for kind, fp in jobs]
        for fut in futures:
            part = fut.result()
            if isinstance(part, IndexProblem):
                idx.problems.append(part)
            else:
                _merge(idx, part, seen)
    idx.suite = picked
    return idx


def _read_one(
    kind: str, path: str, use_cache: bool, on_file: Callable[[str], None] | None
) -> Index | IndexProblem:
    if on_file is not None:
        on_file(path)
    try:
        return read_cached(kind, path, use_cache)
    except PackageIndexError as e:
        return IndexProblem(e.path, 0, e.message)
    except Exception as e:  # a damaged index reaching an unforeseen error: its problem alone
        from coinstall.artifacts.base import exc_line

        return IndexProblem(path, 0, f"unreadable ({exc_line(e, typed=True)})")
