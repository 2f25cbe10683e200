"""All-or-nothing edits of a directory: staged files, a journal, idempotent commit.

Protocol (the same idea as a database's write-ahead log, kept to what a build root needs):

1. *prepare*: every new content is written beside its target as a hidden staged file
   (``.NAME.coinstall-fix``), fsynced; the journal ``.coinstall-fix.journal`` (JSON: the ops in
   order, ``state: "prepared"``) is written to a temporary name, fsynced and renamed into place,
   and the directory fsynced;
2. *commit*: the journal's state becomes ``"committing"`` (again write, fsync, rename), then
   each op is applied with ``os.replace``/``os.rename``/``os.unlink`` — each is atomic per file
   and idempotent (an op whose effect is already there is skipped);
3. the journal is removed.

A run interrupted in 1 is rolled back by the next :func:`recover` (staged files removed, the
tree unchanged); one interrupted in 2 is completed by it (every op re-applied idempotently).
POSIX rename(2) is atomic within a file system, which is why staged files live beside their
targets.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from coinstall.fix.model import Edit

JOURNAL = ".coinstall-fix.journal"
_STAGED = ".coinstall-fix"


class JournalError(Exception):
    """A journal that cannot be read or an op that cannot be applied; one line."""


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: str, data: bytes, mode: int | None, mtime: float | None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fd)
        if mode is not None:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def _staged(root: str, path: str) -> str:
    d, name = os.path.split(os.path.join(root, path))
    return os.path.join(d, f".{name}{_STAGED}")


@dataclass(frozen=True)
class Op:
    """One journalled op: ``op`` (write/create/rename/symlink/remove), member ``path``,
    ``dest``, and ``staged`` (the staged file's absolute path, for write/create/symlink)."""

    op: str
    path: str
    dest: str | None
    staged: str | None

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "path": self.path, "dest": self.dest, "staged": self.staged}


def _save(root: str, state: str, ops: Sequence[Op]) -> None:
    tmp = os.path.join(root, JOURNAL + ".tmp")
    _write_file(tmp, json.dumps({"state": state, "ops": [o.to_json() for o in ops]},
                                indent=1).encode(), 0o644, None)
    os.replace(tmp, os.path.join(root, JOURNAL))
    _fsync_dir(root)


def _inside(root: str, path: str) -> str:
    """The absolute path of member ``path``; refuses names that leave the root."""
    full = os.path.normpath(os.path.join(root, path))
    if not full.startswith(root.rstrip("/") + "/"):
        raise JournalError(f"{path}: leaves {root}")
    return full


def prepare(root: str, edits: Sequence[Edit]) -> list[Op]:
    """Stage every edit's new content beside its target and write the journal (state
    ``prepared``).  Nothing visible changes.

    Raises:
        OSError: a staged file or the journal cannot be written (staged files so far are
            removed again).
    """
    root = os.path.abspath(root)
    ops: list[Op] = []
    try:
        for e in edits:
            full = _inside(root, e.path)
            if e.op == "write":
                assert e.data is not None
                st = os.lstat(full)
                staged = _staged(root, e.path)
                ops.append(Op("write", e.path, None, staged))
                _write_file(staged, e.data, st.st_mode & 0o7777, st.st_mtime)
            elif e.op == "create":
                assert e.data is not None
                staged = _staged(root, e.path)
                ops.append(Op("create", e.path, None, staged))
                _write_file(staged, e.data, e.mode if e.mode is not None else 0o644, None)
            elif e.op == "symlink":
                assert e.dest is not None
                staged = _staged(root, e.path)
                ops.append(Op("symlink", e.path, e.dest, staged))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(staged)
                os.symlink(e.dest, staged)
            elif e.op == "rename":
                assert e.dest is not None
                _inside(root, e.dest)
                ops.append(Op("rename", e.path, e.dest, None))
            elif e.op == "remove":
                ops.append(Op("remove", e.path, None, None))
            else:
                raise JournalError(f"unknown op {e.op}")
        for d in {os.path.dirname(o.staged) for o in ops if o.staged}:
            _fsync_dir(d)
        _save(root, "prepared", ops)
    except BaseException:
        _discard(ops)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(root, JOURNAL))
        raise
    return ops


def _discard(ops: Sequence[Op]) -> None:
    for o in ops:
        if o.staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(o.staged)


def _apply(root: str, o: Op) -> None:
    """Apply one op if its effect is not there yet (idempotent)."""
    full = _inside(root, o.path)
    if o.op in ("write", "create", "symlink"):
        assert o.staged is not None
        if os.path.lexists(o.staged):
            os.replace(o.staged, full)
    elif o.op == "rename":
        assert o.dest is not None
        dest = _inside(root, o.dest)
        if os.path.lexists(full) and not os.path.lexists(dest):
            os.rename(full, dest)
    elif o.op == "remove":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(full)


def commit(root: str, ops: Sequence[Op],
           fault: Callable[[int], None] | None = None) -> None:
    """Mark the journal ``committing``, apply every op in order, remove the journal.

    Args:
        fault: called with each op's index before it is applied (tests interrupt a run
            with it).
    """
    root = os.path.abspath(root)
    _save(root, "committing", ops)
    for i, o in enumerate(ops):
        if fault is not None:
            fault(i)
        _apply(root, o)
    for d in {os.path.dirname(_inside(root, o.dest if o.op == "rename" and o.dest else o.path))
              for o in ops}:
        with contextlib.suppress(OSError):
            _fsync_dir(d)
    os.unlink(os.path.join(root, JOURNAL))
    _fsync_dir(root)


def recover(root: str) -> str | None:
    """Finish or undo an interrupted run on ``root``: ``"rolled back"`` (it stopped while
    preparing), ``"completed"`` (it stopped while committing) or None (no journal).

    Raises:
        JournalError: the journal cannot be read.
    """
    root = os.path.abspath(root)
    path = os.path.join(root, JOURNAL)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path + ".tmp")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise JournalError(f"unreadable journal {JOURNAL}: {exc}") from None
    try:
        ops = [Op(o["op"], o["path"], o.get("dest"), o.get("staged")) for o in data["ops"]]
        state = data["state"]
    except (KeyError, TypeError) as exc:
        raise JournalError(f"malformed journal {JOURNAL}: {exc}") from None
    for o in ops:
        _inside(root, o.path)
        if o.staged is not None and not os.path.abspath(o.staged).startswith(root + "/"):
            raise JournalError(f"malformed journal {JOURNAL}: {o.staged} leaves {root}")
    if state == "committing":
        commit(root, ops)
        return "completed"
    _discard(ops)
    os.unlink(path)
    _fsync_dir(root)
    return "rolled back"
