"""Directory reader: an installed tree (a site-packages directory, a prefix) or a build root."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import replace

from coinstall.artifacts import limits as limits_mod
from coinstall.artifacts.base import ArtifactError, ArtifactInfo, Member, WantContent
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

    def members(self, want_content: WantContent, digests: bool = False) -> Iterator[Member]:
        """Yield every entry below the directory, in sorted walk order."""

        def onerror(err: OSError) -> None:
            self.problems.append(f"{err.filename}: {err.strerror}")

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=onerror):
            dirnames.sort()
            # os.walk joins below self.root (absolute, normalised): the tail is the relative path
            # (os.path.relpath's answer, without its two abspath calls per directory)
            rel_dir = dirpath[len(self.root) :].lstrip(os.sep)
            rel_dir = rel_dir.replace(os.sep, "/") + "/" if rel_dir else ""
            for d in list(dirnames):
                full = os.path.join(dirpath, d)
                if os.path.islink(full):
                    dirnames.remove(d)
                    yield Member(
                        path=rel_dir + d,
                        type="symlink",
                        mode=None,
                        size=0,
                        link_target=os.readlink(full),
                    )
                else:
                    yield Member(path=rel_dir + d, type="dir", mode=None, size=0)
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                rel = rel_dir + f
                try:
                    st = os.lstat(full)
                    if stat.S_ISLNK(st.st_mode):  # the lstat's answer: no second lstat
                        yield Member(
                            path=rel,
                            type="symlink",
                            mode=st.st_mode & 0o7777,
                            size=0,
                            mtime=int(st.st_mtime),
                            link_target=os.readlink(full),
                        )
                        continue
                    if not stat.S_ISREG(st.st_mode):
                        continue  # FIFOs, sockets, devices: never opened
                    # O_NOFOLLOW|O_NONBLOCK and fstat: a file swapped for a FIFO or a link
                    # after the lstat is not followed and does not block.
                    fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as fh:
                        st = os.fstat(fd)
                        if not stat.S_ISREG(st.st_mode):
                            continue
                        got = read_member(
                            fh,
                            rel,
                            st.st_size,
                            want=want_content(rel, st.st_size),
                            digest=digests,
                            limits=self._limits,
                        )
                except OSError as exc:
                    self.problems.append(f"{rel}: {exc.strerror}")
                    continue
                except ArtifactError as exc:  # a file changed while read, or past a limit
                    self.problems.append(str(exc))
                    continue
                yield from file_members(
                    got, st.st_size, [(rel, st.st_mode & 0o7777, int(st.st_mtime))]
                )

    def close(self) -> None:
        """Nothing to release."""
