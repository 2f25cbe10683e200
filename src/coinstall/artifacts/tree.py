"""Directory reader: an installed tree (a site-packages directory, a prefix) or a build root."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace

from coinstall.artifacts import limits as limits_mod
from coinstall.artifacts.base import ArtifactError, ArtifactInfo, Member, WantContent, WantHead
from coinstall.artifacts.limits import Limits, file_members, read_member


class TreeReader:
    """Reader for a directory; members are the paths below it (symbolic links not followed).

    Raises:
        ArtifactError: from the constructor if the path is not a readable directory.
    """

    def __init__(self, path: str, limits: Limits | None = None) -> None:
        # Nothing in a tree is decompressed: only the size read whole into memory applies.
        self._limits = replace(limits or limits_mod.default(), member_mb=1 << 40)
        if not os.path.isdir(path):
            raise ArtifactError("not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise ArtifactError("permission denied")
        self.root = os.path.abspath(path)
        self.problems: list[str] = []
        self.info = ArtifactInfo(path=path, format="tree", name=None, version=None)

    def members(
        self,
        want_content: WantContent,
        digests: bool = False,
        want_head: WantHead | None = None,
    ) -> Iterator[Member]:
        """Yield every entry below the directory, in sorted walk order (each directory's
        subdirectories, then its other entries, by name; then each subdirectory's, depth
        first: ``os.walk``'s top-down order with sorted names).

        Every directory below the root is opened relative to its parent's descriptor with
        ``O_NOFOLLOW`` and listed once with ``os.scandir`` on that descriptor (the entries'
        types from ``d_type``, each regular file's ``lstat`` from its entry): a symbolic link
        is never followed, even one swapped in for a directory during the walk.  A regular
        file is opened (``O_NOFOLLOW | O_NONBLOCK``, then ``fstat``) only when its content,
        its digest or its head is wanted: with ``want_head`` given, a file for which it and
        ``want_content`` say False is yielded from its ``lstat`` alone, with an empty
        :attr:`Member.head`, unless its permission bits deny this process reading it: that
        one is opened, so that an unreadable file is a problem (:attr:`problems`) whether or
        not its bytes are wanted.
        """
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as err:
            self.problems.append(f"{self.root}: {err.strerror}")
            return
        try:
            yield from self._walk(fd, "", want_content, digests, want_head)
        finally:
            os.close(fd)

    def _walk(
        self,
        dir_fd: int,
        rel_dir: str,
        want_content: WantContent,
        digests: bool,
        want_head: WantHead | None,
    ) -> Iterator[Member]:
        """The members of the directory open as ``dir_fd`` (``rel_dir``: its relative path
        with a trailing ``/``, "" for the root), then of its subdirectories."""
        try:
            with os.scandir(dir_fd) as it:
                entries = list(it)
        except OSError as err:
            where = os.path.join(self.root, rel_dir[:-1]) if rel_dir else self.root
            self.problems.append(f"{where}: {err.strerror}")
            return
        dirs: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for e in entries:
            try:
                is_dir = e.is_dir()  # follows a link, as os.walk does: listed below as a link
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(e)
        dirs.sort(key=_name)
        files.sort(key=_name)
        below: list[str] = []
        for d in dirs:
            if d.is_symlink():
                yield Member(
                    path=rel_dir + d.name,
                    type="symlink",
                    mode=None,
                    size=0,
                    link_target=os.readlink(d.name, dir_fd=dir_fd),
                )
            else:
                below.append(d.name)
                yield Member(path=rel_dir + d.name, type="dir", mode=None, size=0)
        for f in files:
            rel = rel_dir + f.name
            try:
                st = f.stat(follow_symlinks=False)  # the entry's lstat (fstatat), made once
                if stat.S_ISLNK(st.st_mode):
                    yield Member(
                        path=rel,
                        type="symlink",
                        mode=st.st_mode & 0o7777,
                        size=0,
                        mtime=int(st.st_mtime),
                        link_target=os.readlink(f.name, dir_fd=dir_fd),
                    )
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue  # FIFOs, sockets, devices: never opened
                want = want_content(rel, st.st_size)
                if not (
                    want
                    or digests
                    or want_head is None
                    or want_head(rel, st.st_mode)
                    or not _may_read(st)
                ):
                    yield Member(
                        path=rel,
                        type="file",
                        mode=st.st_mode & 0o7777,
                        size=st.st_size,
                        mtime=int(st.st_mtime),
                    )
                    continue
                # O_NOFOLLOW|O_NONBLOCK and fstat: a file swapped for a FIFO or a link
                # after the lstat is not followed and does not block.
                fd = os.open(f.name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW, dir_fd=dir_fd)
                try:
                    st = os.fstat(fd)
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    got = read_member(
                        _Fd(fd), rel, st.st_size, want=want, digest=digests, limits=self._limits
                    )
                finally:
                    os.close(fd)
            except OSError as exc:
                self.problems.append(f"{rel}: {exc.strerror}")
                continue
            except ArtifactError as exc:  # a file changed while read, or past a limit
                self.problems.append(str(exc))
                continue
            yield from file_members(got, st.st_size, [(rel, st.st_mode & 0o7777, int(st.st_mtime))])
        for name in below:
            try:
                # a directory swapped for a link since it was listed is not entered (ELOOP)
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            except OSError as err:
                self.problems.append(f"{os.path.join(self.root, rel_dir, name)}: {err.strerror}")
                continue
            try:
                yield from self._walk(sub, f"{rel_dir}{name}/", want_content, digests, want_head)
            finally:
                os.close(sub)

    def close(self) -> None:
        """Nothing to release."""


class _Fd:
    """A file descriptor read as :func:`~coinstall.artifacts.limits.read_member` reads a
    binary file: ``read(n)`` returns ``n`` bytes, fewer only at the end.  ``os.fdopen``'s
    buffered file object costs more than the read itself for a 512-byte head (20,000 pyc
    headers in the machine view)."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self, n: int, /) -> bytes:
        data = os.read(self.fd, n)
        if len(data) == n or not data:
            return data
        parts = [data]  # a short read before the end (a signal, a network file system)
        got = len(data)
        while got < n and (more := os.read(self.fd, n - got)):
            parts.append(more)
            got += len(more)
        return b"".join(parts)


_EUID = os.geteuid()
_GROUPS = frozenset((os.getegid(), *os.getgroups()))


def _may_read(st: os.stat_result) -> bool:
    """Whether a file's permission bits let this process read it (POSIX file permission
    classes: owner, group, others; the superuser reads any file).  Without a system call:
    asked of every file a directory walk does not open.  An ACL or a security module may still
    deny what the bits allow; such a file is then yielded unread, as its bytes are not needed."""
    mode = st.st_mode
    if _EUID == 0 or mode & 0o004:
        return True
    if st.st_uid == _EUID:
        return bool(mode & 0o400)
    return st.st_gid in _GROUPS and bool(mode & 0o040)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name
