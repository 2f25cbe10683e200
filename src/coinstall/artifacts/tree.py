"""Directory reader: an installed tree (a site-packages directory, a prefix) or a build root."""

from __future__ import annotations

import os
from collections.abc import Iterator

from coinstall.artifacts.base import HEAD_SIZE, ArtifactError, ArtifactInfo, Member, WantContent


class TreeReader:
    """Reader for a directory; members are the paths below it (symbolic links not followed).

    Raises:
        ArtifactError: from the constructor if the path is not a readable directory.
    """

    def __init__(self, path: str) -> None:
        if not os.path.isdir(path):
            raise ArtifactError("not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise ArtifactError("permission denied")
        self.root = os.path.abspath(path)
        self.problems: list[str] = []
        self.info = ArtifactInfo(path=path, format="tree", name=None, version=None)

    def members(self, want_content: WantContent) -> Iterator[Member]:
        """Yield every entry below the directory, in sorted walk order."""
        def onerror(err: OSError) -> None:
            self.problems.append(f"{err.filename}: {err.strerror}")

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=onerror):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, self.root)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            for d in list(dirnames):
                full = os.path.join(dirpath, d)
                if os.path.islink(full):
                    dirnames.remove(d)
                    yield Member(path=rel_dir + d, type="symlink", mode=None, size=0,
                                 link_target=os.readlink(full))
                else:
                    yield Member(path=rel_dir + d, type="dir", mode=None, size=0)
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                rel = rel_dir + f
                try:
                    st = os.lstat(full)
                    if os.path.islink(full):
                        yield Member(path=rel, type="symlink", mode=st.st_mode & 0o7777, size=0,
                                     mtime=int(st.st_mtime), link_target=os.readlink(full))
                        continue
                    if not os.path.isfile(full):
                        continue
                    with open(full, "rb") as fh:
                        if want_content(rel, st.st_size):
                            whole = fh.read()
                            content: bytes | None = whole
                            head = whole[:HEAD_SIZE]
                        else:
                            content = None
                            head = fh.read(HEAD_SIZE)
                except OSError as exc:
                    self.problems.append(f"{rel}: {exc.strerror}")
                    continue
                yield Member(path=rel, type="file", mode=st.st_mode & 0o7777, size=st.st_size,
                             mtime=int(st.st_mtime), head=head, content=content)

    def close(self) -> None:
        """Nothing to release."""

