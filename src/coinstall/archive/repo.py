"""Targets from a repository index and a mirror directory (``--repo INDEX --mirror DIR``).

* Debian ``Packages`` (Debian Policy §5.3; written by dak/apt-ftparchive), in any compression
  :mod:`coinstall.plan.indices` reads (its decompression and paragraph parser are reused):
  each paragraph's ``Filename`` (relative to the mirror root, ``pool/main/…``), ``SHA256`` and
  ``Size``.
* RPM ``repodata/repomd.xml`` (createrepo_c): ``primary``'s ``<location href>`` (relative to the
  repository root, or to ``xml:base``), ``<checksum type="sha256">`` and ``<size package>``.

A package the index lists but the mirror lacks is returned in ``absent`` and reported as that
package's error line; the digest from the index keys the result cache (lintian's reporting
harness trusts the archive index's SHA-256 the same way), after a ``stat`` shows the file
still has the size the index gives.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coinstall.archive.runner import Target
from coinstall.plan import indices
from coinstall.plan.indices import IndexProblem

if TYPE_CHECKING:
    from coinstall.archive.cache import ResultCache

_DEB_FIELDS = ("Package", "Version", "Architecture", "Filename", "SHA256", "Size")


@dataclass
class RepoTargets:
    """What an index lists, matched against a mirror.

    Attributes:
        targets: packages present in the mirror, in index order.
        absent: ``(path, message)`` for listed packages the mirror lacks.
        problems: index entries that could not be read.
        listed: packages the index lists (after ``select``).
    """

    targets: list[Target] = field(default_factory=list)
    absent: list[tuple[str, str]] = field(default_factory=list)
    problems: list[IndexProblem] = field(default_factory=list)
    listed: int = 0


class Contained:
    """:func:`coinstall.plan.indices.under` for the many files of one mirror: ``root/rel`` if
    that path stays inside ``root`` (decided as ``under`` decides it, from the names and the
    links alone), else None; each directory is resolved once.

    ``under`` resolves both sides with :func:`os.path.realpath`, an ``lstat`` of every
    component of the mirror's path and of the file's, again for each file (a third of a warm
    run's index read; measured: benchmarks/MEASUREMENTS.md, 'mirror paths').  Here a path's
    real form is its directory's (memoised), joined with its last component, which only a
    symbolic link there changes.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._top = os.path.normpath(os.path.abspath(root))
        self._real_root = os.path.realpath(root)
        self._memo: dict[str, str] = {self._top: self._real_root}

    def _real(self, path: str) -> str:
        """``os.path.realpath(path)`` for a normalised absolute path under the root."""
        got = self._memo.get(path)
        if got is None:
            head, tail = os.path.split(path)
            if head == path or not head.startswith(self._top):
                got = os.path.realpath(path)  # not reached from under the root
            else:
                cand = os.path.join(self._real(head), tail)
                got = os.path.realpath(cand) if os.path.islink(cand) else cand
            self._memo[path] = got
        return got

    def __call__(self, rel: str) -> str | None:
        if not rel or "\0" in rel or os.path.isabs(rel):
            return None
        if ".." in rel.replace("\\", "/").split("/"):
            return None
        real = self._real(os.path.normpath(os.path.join(self._top, rel)))
        top = self._real_root
        if real != top and not real.startswith(top.rstrip(os.sep) + os.sep):
            return None
        return os.path.join(self.root, rel)


def _add(
    out: RepoTargets,
    mirror: Contained,
    name: str,
    rel: str,
    sha: str | None,
    size: int | None,
    index: str,
) -> None:
    out.listed += 1
    path = mirror(rel)
    if path is None:  # one message whether or not the path exists: no probing outside
        out.absent.append(
            (
                os.path.join(mirror.root, rel),
                f"{name}: {index} gives a path that leaves the mirror {mirror.root}; not read",
            )
        )
        return
    if not os.path.isfile(path):
        out.absent.append((path, f"{name} is listed in {index} but absent from the mirror"))
        return
    out.targets.append(Target(path, sha.lower() if sha else None, size))


def _size(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def read_debian(
    index: str, mirror: str, select: str | None = None, cache: ResultCache | None = None
) -> RepoTargets:
    """Targets from a Debian ``Packages`` file.

    ``cache``: what the index gives for ``select`` is kept there, keyed by the index file's
    SHA-256 (itself remembered for the file's ``stat``, as a package's is), and taken from
    there while the file is unchanged.  The mirror is looked at again on every run.

    Raises:
        PackageIndexError: the index cannot be read or decompressed.
    """
    entries, problems = _debian_entries(index, select, cache)
    out = RepoTargets(problems=[IndexProblem(index, line, msg) for line, msg in problems])
    inside = Contained(mirror)
    for name, rel, sha, size in entries:
        _add(out, inside, name, rel, sha, size, index)
    return out


#: ``(name, Filename, SHA256 or None, Size or None)`` per selected package, in index order.
_Entry = tuple[str, str, str | None, int | None]


def _debian_entries(
    index: str, select: str | None, cache: ResultCache | None
) -> tuple[list[_Entry], list[tuple[int, str]]]:
    """The selected packages of a ``Packages`` file and the problems met (line, message):
    from ``cache`` when it holds them for this file's bytes, else parsed (and kept there):
    the cache spares the decompression and the parse (measured: benchmarks/MEASUREMENTS.md,
    'index cache').
    """
    st = None
    if cache is not None:
        try:
            st = os.stat(index)  # before the read: a file changed meanwhile has a new ctime
        except OSError:
            st = None  # the read below reports it
        if st is not None and not stat.S_ISREG(st.st_mode):
            st = None
        sha = cache.known_digest(index, st) if st is not None else None
        if sha is not None:
            got = _well_formed(cache.get_index(_index_key(sha, select)))
            if got is not None:
                return got
    if st is not None:
        data, sha = indices.read_bytes_digest(index)
    else:
        data, sha = indices.read_bytes(index), None
    found: list[IndexProblem] = []
    entries: list[_Entry] = []
    # only paragraphs holding the glob's literal prefix can match it (grep-dctrl's pre-filter):
    # "python3-*" leaves 6,687 of bookworm's 63,441 paragraphs to parse
    literal = re.split(r"[*?\[]", select, maxsplit=1)[0] if select else ""
    pre = literal.encode() if literal else None
    for line, f in indices.paragraphs(data, index, _DEB_FIELDS, found, pre):
        name, rel = f.get("Package"), f.get("Filename")
        if not name or not rel:
            found.append(
                IndexProblem(index, line, "paragraph without Package or Filename; skipped")
            )
            continue
        if select and not fnmatch.fnmatchcase(name, select):
            continue
        sha_of = f.get("SHA256")
        entries.append((name, rel, sha_of.lower() if sha_of else None, _size(f.get("Size"))))
    problems = [(p.line, p.message) for p in found]
    if cache is not None and st is not None and sha is not None:
        cache.put_index(_index_key(sha, select), [entries, problems])
        cache.remember_digest(index, st, sha)
    return entries, problems


def _index_key(sha256: str, select: str | None) -> str:
    """What an index's entries depend on: its bytes, the selection and the code reading it."""
    from coinstall.archive.cache import code_digest

    return hashlib.sha256(
        json.dumps(["debian", sha256, select, code_digest()]).encode()
    ).hexdigest()


def _well_formed(data: Any) -> tuple[list[_Entry], list[tuple[int, str]]] | None:
    """Cached entries back in shape, or None if they are not of the shape written (the cache
    is input like any other file)."""
    try:
        raw_entries, raw_problems = data
        entries: list[_Entry] = []
        for name, rel, sha, size in raw_entries:
            if not (
                isinstance(name, str)
                and isinstance(rel, str)
                and (sha is None or isinstance(sha, str))
                and (size is None or type(size) is int)
            ):
                return None
            entries.append((name, rel, sha, size))
        problems = []
        for line, msg in raw_problems:
            if type(line) is not int or not isinstance(msg, str):
                return None
            problems.append((line, msg))
    except (TypeError, ValueError):
        return None
    return entries, problems


def read_rpm(repomd: str, mirror: str, select: str | None = None) -> RepoTargets:
    """Targets from an RPM repository's ``repodata/repomd.xml`` (its ``primary``).

    Raises:
        PackageIndexError: repomd.xml or primary unreadable.
    """
    prim = indices.locations(repomd)["primary"]
    ns = "{http://linux.duke.edu/metadata/common}"
    out = RepoTargets()
    inside = Contained(mirror)
    for n, el in indices.primary_packages(prim):
        name = el.findtext(f"{ns}name") or ""
        loc = el.find(f"{ns}location")
        if loc is None or not loc.get("href"):
            out.problems.append(
                IndexProblem(prim, 0, f"package #{n} ({name}) without location; skipped")
            )
        elif not select or fnmatch.fnmatchcase(name, select):
            chk = el.find(f"{ns}checksum")
            sha = chk.text if chk is not None and chk.get("type") == "sha256" else None
            size = el.find(f"{ns}size")
            href = loc.get("href", "")
            base = loc.get("{http://www.w3.org/XML/1998/namespace}base")
            if base and base.startswith("file://"):
                # a local base (createrepo_c --baseurl file://...) is taken only as a
                # directory of the mirror: the index never chooses where files are read
                b = base.removeprefix("file://")
                rel = os.path.relpath(b, mirror) if os.path.isabs(b) else b
                href = os.path.join(rel, href) if rel != "." else href
            _add(
                out,
                inside,
                name,
                href,
                sha,
                _size(size.get("package") if size is not None else None),
                repomd,
            )
    return out


def read_repo(
    index: str, mirror: str, select: str | None = None, cache: ResultCache | None = None
) -> RepoTargets:
    """:func:`read_rpm` for a ``repomd.xml`` (or a directory holding ``repodata/``), else
    :func:`read_debian` (with ``cache``).

    Raises:
        PackageIndexError: the index cannot be read.
    """
    if os.path.isdir(index):
        index = os.path.join(index, "repodata", "repomd.xml")
    if index.endswith("repomd.xml"):
        return read_rpm(index, mirror, select)
    return read_debian(index, mirror, select, cache)
