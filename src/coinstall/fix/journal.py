"""All-or-nothing edits of a directory: staged files, a journal, idempotent commit.

Protocol (the same idea as a database's write-ahead log, kept to what a build root needs):

1. *prepare*: every new content is written beside its target as a hidden staged file with a
   random name (``.NAME.<16 hex>.coinstall-fix``, created ``O_CREAT|O_EXCL|O_NOFOLLOW``: an
   existing file, hard link or symbolic link at that name is never written through), fsynced;
   the journal (JSON: the tree, the ops in order, ``state: "prepared"``) is written to a
   temporary name, fsynced and renamed into place;
2. *commit*: the journal's state becomes ``"committing"`` (again write, fsync, rename), then
   each op is applied with ``rename(2)``/``unlink(2)`` — each is atomic per file and idempotent
   (an op whose effect is already there is skipped);
3. the journal is removed.

A run interrupted in 1 is rolled back by the next :func:`recover` (staged files removed, the
tree unchanged); one interrupted in 2 is completed by it (every op re-applied idempotently).
POSIX rename(2) is atomic within a file system, which is why staged files live beside their
targets.

Threat model: the tree being fixed is hostile (a package unpacked with ``dpkg-deb -x``, a
build root of a package nobody reviewed), and ``coinstall fix`` often runs as root.  So

* the journal is **never kept in the tree**: it lives in the user's state directory
  (:func:`state_dir`, mode 0700, owned by the user), named by the tree's device and inode
  number, and records the tree's real path; a journal found in the tree
  (``.coinstall-fix.journal``, the name earlier versions used) was not written by this
  program for this run and is refused with one line, never read (a FIFO or ``/dev/zero``
  there neither hangs nor grows memory);
* every member path is reached from a descriptor of the tree one component at a time with
  ``O_NOFOLLOW`` (:func:`open_parent`): a symbolic link or ``..`` anywhere in a path is an
  error, so no op reads, writes, renames or removes anything outside the tree.  (Linux's
  ``openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)`` gives the same guarantee in one call, but
  Python's :mod:`os` has no binding for it; the component walk is the portable equivalent.)
* the journal in the state directory is read with a size bound and checked field by field:
  a damaged one is one error line naming the file to remove.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from coinstall.atomic import write_atomic
from coinstall.fix.model import OPS, Edit, FixOp

#: The name earlier versions kept their journal under inside the tree; one found there is
#: refused (see the module docs).
JOURNAL = ".coinstall-fix.journal"
_STAGED = ".coinstall-fix"
#: Environment variable naming the state directory (tests; default :func:`state_dir`).
STATE_ENV = "COINSTALL_STATE_DIR"
#: Largest journal read back, in bytes (an op is ~200 bytes: 32 MiB is ~150,000 ops).
MAX_JOURNAL = 32 * 1024 * 1024
_OPS = frozenset(OPS)


class JournalError(Exception):
    """A journal that cannot be trusted or read, or an op that cannot be applied safely; one
    line."""


# -- paths below a directory descriptor, no symlink followed ---------------------------------


def _parts(path: object) -> list[str]:
    """The components of member ``path`` (relative, POSIX); refuses absolute paths, ``.``,
    ``..``, empty components and NUL."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\0" in path:
        raise JournalError(f"{path!r}: not a relative member path")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise JournalError(f"{path!r}: not a plain member path (empty, '.' or '..' component)")
    return parts


def real_path(path: str) -> str:
    """The one name of what the user names ``path`` (a tree, a wheel, an output): its absolute
    path with every symbolic link resolved, its own and its parents' (``os.path.realpath``).
    A link to it or above it is followed here and only here: for a tree, the lock, the reader,
    the fixers and the journal (which records this path and refuses one recorded for another)
    all use the result, so a tree reached through a symlinked parent is one tree, not two;
    a fixed wheel's output is compared with its source by it (:mod:`coinstall.fix.wheel`).
    Nothing below a tree is resolved by name: members are reached from its descriptor
    (:func:`open_parent`)."""
    return os.path.realpath(path)


def open_root(root: str) -> int:
    """A descriptor of directory ``root`` (the user names it: a symbolic link to it is
    followed, nothing below it is)."""
    return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_parent(rootfd: int, path: str) -> tuple[int, str]:
    """``(descriptor of the directory holding member path, its last component)``: each
    directory is opened from the one before with ``O_NOFOLLOW|O_DIRECTORY``, so the result is
    below ``rootfd`` whatever symbolic links the tree holds.  The caller closes the descriptor.

    Raises:
        JournalError: the path is not a plain relative path, or one of its directories is a
            symbolic link, not a directory, or missing.
    """
    parts = _parts(path)
    fd = os.dup(rootfd)
    try:
        for p in parts[:-1]:
            try:
                nfd = os.open(
                    p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
                )
            except OSError as exc:
                raise JournalError(
                    f"{path}: {p} is a symbolic link or not a directory "
                    f"({exc.strerror}); nothing outside the tree is touched"
                ) from None
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


@contextlib.contextmanager
def parent(rootfd: int, path: str) -> Iterator[tuple[int, str]]:
    """:func:`open_parent` as a context manager."""
    fd, name = open_parent(rootfd, path)
    try:
        yield fd, name
    finally:
        os.close(fd)


def _lexists(dfd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def read_member(rootfd: int, path: str, limit: int | None = None) -> bytes | None:
    """A regular member's bytes (None if absent, not a regular file, or reached through a
    symbolic link); opened ``O_NOFOLLOW|O_NONBLOCK`` and checked with ``fstat`` before
    reading, so a FIFO or device at that name is never read."""
    try:
        with parent(rootfd, path) as (dfd, name):
            fd = os.open(
                name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd
            )
    except (JournalError, OSError):
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (limit is not None and st.st_size > limit):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(st.st_size + 1)[: st.st_size]
    except OSError:
        return None
    finally:
        os.close(fd)


def lstat_member(rootfd: int, path: str) -> os.stat_result | None:
    """``lstat`` of a member reached with no symbolic link in its directories, or None."""
    try:
        with parent(rootfd, path) as (dfd, name):
            return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except (JournalError, OSError):
        return None


def readlink_member(rootfd: int, path: str) -> str | None:
    """A symbolic link member's target text, or None."""
    try:
        with parent(rootfd, path) as (dfd, name):
            return os.readlink(name, dir_fd=dfd)
    except (JournalError, OSError):
        return None


# -- the journal, kept outside the tree ------------------------------------------------------


def state_dir() -> str:
    """Where journals are kept: ``$COINSTALL_STATE_DIR``, else
    ``$XDG_STATE_HOME/coinstall/fix`` (XDG Base Directory Specification), else
    ``~/.local/state/coinstall/fix``."""
    env = os.environ.get(STATE_ENV)
    if env:
        return env
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "coinstall", "fix")


def _private_state_dir() -> str:
    """:func:`state_dir`, created 0700 if missing; refused unless it is a real directory owned
    by this user that nobody else can write (someone who could would be trusted with ops)."""
    d = state_dir()
    os.makedirs(d, mode=0o700, exist_ok=True)
    st = os.lstat(d)
    if (
        not stat.S_ISDIR(st.st_mode)
        or st.st_uid != os.geteuid()
        or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise JournalError(
            f"state directory {d} is not a private directory of this user "
            "(owner, no group/other write, not a symbolic link): no journal "
            "is kept there"
        )
    return d


def journal_path(rootfd: int) -> str:
    """The journal of the tree open as ``rootfd``: ``STATE/<st_dev>-<st_ino>.json``."""
    st = os.fstat(rootfd)
    return os.path.join(_private_state_dir(), f"{st.st_dev:x}-{st.st_ino:x}.json")


def _fsync_dir_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fd)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _fsync_dir_fd(fd)
    finally:
        os.close(fd)


class OpJSON(TypedDict):
    """One op as the journal file keeps it (:meth:`Op.to_json`)."""

    op: FixOp
    path: str
    dest: str | None
    staged: str | None


class JournalJSON(TypedDict):
    """The journal file's object (:func:`_save`); read back by :func:`_load`, which checks
    every field, since the file may have been changed."""

    root: str
    state: str
    ops: list[OpJSON]


@dataclass(frozen=True)
class Op:
    """One journalled op: ``op`` (write/create/rename/symlink/remove), member ``path``,
    ``dest`` (rename: the new member path; symlink: the link text), and ``staged`` (the
    staged file's member path, beside ``path``, for write/create/symlink)."""

    op: FixOp
    path: str
    dest: str | None
    staged: str | None

    def to_json(self) -> OpJSON:
        return {"op": self.op, "path": self.path, "dest": self.dest, "staged": self.staged}

    @classmethod
    def from_json(cls, o: object) -> Op:
        """One op read back, every field checked.  Raises JournalError."""
        if not isinstance(o, dict):
            raise JournalError("an op is not an object")
        op, path, dest, staged = o.get("op"), o.get("path"), o.get("dest"), o.get("staged")
        if op not in _OPS:
            raise JournalError(f"unknown op {op!r}")
        _parts(path)
        for v in (dest, staged):
            if v is not None and (not isinstance(v, str) or "\0" in v):
                raise JournalError(f"{path}: a field is not a string")
        if op == "rename":
            _parts(dest)
        if op in ("write", "create", "symlink"):
            if staged is None or (dest is None and op == "symlink"):
                raise JournalError(f"{path}: {op} without its staged file")
            sparts, pparts = _parts(staged), _parts(path)
            if (
                sparts[:-1] != pparts[:-1]
                or not sparts[-1].startswith(f".{pparts[-1]}.")
                or not sparts[-1].endswith(_STAGED)
            ):
                raise JournalError(f"{path}: staged file {staged!r} is not beside it")
        return cls(op, path, dest, staged)  # type: ignore[arg-type]


def _save(jpath: str, root: str, state: str, ops: Sequence[Op]) -> None:
    doc: JournalJSON = {"root": root, "state": state, "ops": [o.to_json() for o in ops]}
    data = json.dumps(doc, indent=1).encode()
    # the one atomic writer: a temporary file created O_EXCL|O_NOFOLLOW (mkstemp) beside the
    # journal, fsynced, renamed, the directory fsynced; removed if anything fails
    write_atomic(jpath, data, perms=0o600)


def _load(jpath: str) -> dict[str, Any] | None:
    """The journal at ``jpath``, None if there is none.  Stat before open, bounded read.

    Raises:
        JournalError: not a regular file, too large, unreadable or not a journal.
    """
    try:
        fd = os.open(jpath, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(f"journal {jpath}: {exc.strerror}; remove it") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise JournalError(f"journal {jpath}: not a regular file; remove it")
        if st.st_size > MAX_JOURNAL:
            raise JournalError(
                f"journal {jpath}: {st.st_size} bytes, more than {MAX_JOURNAL}; remove it"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_JOURNAL + 1)
    except OSError as exc:
        raise JournalError(f"journal {jpath}: {exc.strerror}; remove it") from None
    finally:
        os.close(fd)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JournalError(f"journal {jpath}: not JSON ({exc}); remove it") from None
    if not isinstance(data, dict):
        raise JournalError(f"journal {jpath}: not a journal object; remove it")
    return data


# -- prepare, commit, recover ----------------------------------------------------------------


def _stage_name(name: str) -> str:
    return f".{name}.{os.urandom(8).hex()}{_STAGED}"


def _create_staged(dfd: int, name: str, data: bytes, mode: int, mtime: float | None) -> None:
    """Write ``data`` to a new file ``name`` in ``dfd``: exclusive creation, never an existing
    inode (a hard link planted at the name would carry the write outside the tree)."""
    fd = os.open(
        name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd
    )
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
            fh.flush()
        os.fchmod(fd, mode)
        if mtime is not None:
            os.utime(fd, (mtime, mtime))
        os.fsync(fd)
    finally:
        os.close(fd)


def refuse_planted(rootfd: int, root: str) -> None:
    """Raise JournalError if the tree holds a journal (see the module docs); it is only
    ``lstat``-ed, never opened."""
    for name in (JOURNAL, JOURNAL + ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            os.stat(name, dir_fd=rootfd, follow_symlinks=False)
            raise JournalError(
                f"{name} in the tree was not written by this coinstall (journals are kept in "
                f"{state_dir()}, never in the tree): refusing to act on it; remove it if this "
                "tree is yours"
            )


def prepare(root: str, edits: Sequence[Edit]) -> list[Op]:
    """Stage every edit's new content beside its target and write the journal (state
    ``prepared``).  Nothing visible changes.

    Raises:
        JournalError: a path goes through a symbolic link or leaves the tree, or the state
            directory is not private.
        OSError: a staged file or the journal cannot be written (staged files so far are
            removed again).
    """
    root = real_path(root)
    rootfd = open_root(root)
    ops: list[Op] = []
    try:
        jpath = journal_path(rootfd)
        try:
            for e in edits:
                with parent(rootfd, e.path) as (dfd, name):
                    if e.op == "rename":
                        assert e.dest is not None
                        open_parent_close(rootfd, e.dest)
                        ops.append(Op("rename", e.path, e.dest, None))
                        continue
                    if e.op == "remove":
                        ops.append(Op("remove", e.path, None, None))
                        continue
                    if e.op not in ("write", "create", "symlink"):
                        raise JournalError(f"unknown op {e.op}")
                    sname = _stage_name(name)
                    staged = "/".join([*e.path.split("/")[:-1], sname])
                    if e.op == "write":
                        assert e.data is not None
                        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                        if not stat.S_ISREG(st.st_mode):
                            raise JournalError(f"{e.path}: not a regular file")
                        ops.append(Op("write", e.path, None, staged))
                        _create_staged(dfd, sname, e.data, st.st_mode & 0o7777, st.st_mtime)
                    elif e.op == "create":
                        assert e.data is not None
                        ops.append(Op("create", e.path, None, staged))
                        _create_staged(
                            dfd, sname, e.data, e.mode if e.mode is not None else 0o644, None
                        )
                    else:
                        assert e.dest is not None
                        ops.append(Op("symlink", e.path, e.dest, staged))
                        os.symlink(e.dest, sname, dir_fd=dfd)
                    _fsync_dir_fd(dfd)
            _save(jpath, root, "prepared", ops)
        except BaseException:
            _discard(rootfd, ops)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(jpath)
            raise
    finally:
        os.close(rootfd)
    return ops


def open_parent_close(rootfd: int, path: str) -> None:
    """Check that member ``path``'s directories are reached with no symbolic link."""
    fd, _ = open_parent(rootfd, path)
    os.close(fd)


def _discard(rootfd: int, ops: Sequence[Op]) -> None:
    for o in ops:
        if o.staged:
            with (
                contextlib.suppress(FileNotFoundError, JournalError),
                parent(rootfd, o.staged) as (dfd, name),
            ):
                os.unlink(name, dir_fd=dfd)


def _apply(rootfd: int, o: Op) -> None:
    """Apply one op if its effect is not there yet (idempotent)."""
    with parent(rootfd, o.path) as (dfd, name):
        if o.op in ("write", "create", "symlink"):
            assert o.staged is not None
            sname = o.staged.rsplit("/", 1)[-1]
            if _lexists(dfd, sname):
                os.replace(sname, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        elif o.op == "rename":
            assert o.dest is not None
            with parent(rootfd, o.dest) as (ddfd, dname):
                if _lexists(dfd, name) and not _lexists(ddfd, dname):
                    os.rename(name, dname, src_dir_fd=dfd, dst_dir_fd=ddfd)
                _fsync_dir_fd(ddfd)
        elif o.op == "remove":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dfd)
        _fsync_dir_fd(dfd)


def commit(root: str, ops: Sequence[Op], fault: Callable[[int], None] | None = None) -> None:
    """Mark the journal ``committing``, apply every op in order, remove the journal.

    Args:
        fault: called with each op's index before it is applied (tests interrupt a run
            with it).

    Raises:
        JournalError: a path goes through a symbolic link (the journal stays; the next run
            reports it again).
    """
    root = real_path(root)
    rootfd = open_root(root)
    try:
        jpath = journal_path(rootfd)
        _save(jpath, root, "committing", ops)
        for i, o in enumerate(ops):
            if fault is not None:
                fault(i)
            _apply(rootfd, o)
        os.unlink(jpath)
        _fsync_dir(os.path.dirname(jpath))
    finally:
        os.close(rootfd)


def pending(root: str) -> str | None:
    """The path of ``root``'s journal if an earlier run left one, else None."""
    rootfd = open_root(real_path(root))
    try:
        jpath = journal_path(rootfd)
    finally:
        os.close(rootfd)
    return jpath if os.path.lexists(jpath) else None


def recover(root: str) -> str | None:
    """Finish or undo an interrupted run on ``root``: ``"rolled back"`` (it stopped while
    preparing), ``"completed"`` (it stopped while committing) or None (no journal).

    Raises:
        JournalError: the tree holds a journal (planted: refused, never read), or this
            tree's journal in the state directory is damaged, names another tree, or has a
            path through a symbolic link.
    """
    root = real_path(root)
    rootfd = open_root(root)
    try:
        refuse_planted(rootfd, root)
        jpath = journal_path(rootfd)
        data = _load(jpath)
        if data is None:
            return None
        if data.get("root") != root:
            raise JournalError(
                f"journal {jpath} is for {data.get('root')!r}, not {root} (a "
                "removed tree whose inode was reused?); remove it"
            )
        state, raw_ops = data.get("state"), data.get("ops")
        if state not in ("prepared", "committing") or not isinstance(raw_ops, list):
            raise JournalError(f"journal {jpath}: malformed (state, ops); remove it")
        try:
            ops = [Op.from_json(o) for o in raw_ops]
        except JournalError as exc:
            raise JournalError(f"journal {jpath}: {exc}; remove it") from None
        if state == "committing":
            # every path is checked before any op is applied: a tree changed since the
            # journal was written is refused whole, not half-completed
            for o in ops:
                for p in (o.path, o.dest if o.op == "rename" else None, o.staged):
                    if p is not None:
                        open_parent_close(rootfd, p)
    finally:
        os.close(rootfd)
    if state == "committing":
        commit(root, ops)
        return "completed"
    rootfd = open_root(root)
    try:
        _discard(rootfd, ops)
    finally:
        os.close(rootfd)
    os.unlink(jpath)
    return "rolled back"
