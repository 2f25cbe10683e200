"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

The one writer for every file coinstall produces (reports, ported specs, macro files, fixed
wheels, the share state and journal, the runtime cache).  The steps are those of the POSIX
rename guarantee (``rename(2)``: "If newpath already exists, it will be atomically replaced")
and of the durability advice of ``fsync(2)`` ("Calling fsync() does not necessarily ensure
that the entry in the directory containing the file has also reached disk.  For that an
explicit fsync() on a file descriptor for the directory is also needed"):

1. a temporary file in the target's own directory (:func:`tempfile.mkstemp`; a rename only
   replaces atomically within one file system), named ``.<target>.<random>.tmp``;
2. the content written, flushed and ``fsync``-ed;
3. ``os.replace`` over the target;
4. the directory ``fsync``-ed, so that the rename itself survives a crash.

On any error (also ``KeyboardInterrupt``) before the rename the temporary file is removed and
the target is untouched; the exception passes through.  Imports nothing of coinstall's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, Literal, overload


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(d: str) -> None:
    try:
        fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a directory that cannot be opened for reading: the rename is still done
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)


@overload
def atomic_open(
    path: str | os.PathLike[str],
    mode: Literal["w"] = "w",
    *,
    perms: int | None = None,
    keep_perms: bool = False,
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_open(
    path: str | os.PathLike[str],
    mode: Literal["wb"],
    *,
    perms: int | None = None,
    keep_perms: bool = False,
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def atomic_open(
    path: str | os.PathLike[str],
    mode: Literal["w", "wb"] = "w",
    *,
    perms: int | None = None,
    keep_perms: bool = False,
) -> contextlib.AbstractContextManager[IO[str] | IO[bytes]]:
    """A context manager giving a file object (text in UTF-8 for ``"w"``, binary for ``"wb"``)
    whose content replaces ``path`` when the block ends without an exception (see the module
    docstring for the steps).

    Args:
        path: the target file; its directory must exist.
        mode: ``"w"`` (text, UTF-8) or ``"wb"``.
        perms: the new file's permission bits; default ``0o666`` less the umask (what
            ``open()`` gives a new file).
        keep_perms: when the target exists, give the new file its permission bits instead.

    Raises:
        OSError: the directory does not exist or cannot be written, the disk is full, ...
            (the temporary file removed, the target unchanged).
    """
    return _atomic_open(os.fspath(path), mode, perms, keep_perms)


@contextlib.contextmanager
def _atomic_open(
    path: str, mode: str, perms: int | None, keep_perms: bool
) -> Iterator[IO[str] | IO[bytes]]:
    import tempfile  # random, shutil, bz2, lzma: only a run that writes pays for them

    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=d)
    try:
        # the file object owns fd from here: the with block closes it
        fh: IO[str] | IO[bytes] = (
            os.fdopen(fd, "wb") if mode == "wb" else os.fdopen(fd, "w", encoding="utf-8")
        )
        with fh:
            bits = 0o666 & ~_umask() if perms is None else perms
            if keep_perms:
                with contextlib.suppress(FileNotFoundError):
                    bits = os.stat(path).st_mode & 0o7777
            os.fchmod(fh.fileno(), bits)
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(d)


def write_atomic(
    path: str | os.PathLike[str],
    data: str | bytes,
    *,
    perms: int | None = None,
    keep_perms: bool = False,
) -> None:
    """Write ``data`` (``str``: UTF-8 text; ``bytes``) to ``path`` atomically
    (:func:`atomic_open`, same arguments and errors)."""
    if isinstance(data, bytes):
        with atomic_open(path, "wb", perms=perms, keep_perms=keep_perms) as fb:
            fb.write(data)
    else:
        with atomic_open(path, "w", perms=perms, keep_perms=keep_perms) as ft:
            ft.write(data)
