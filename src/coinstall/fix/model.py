"""What a fixer returns: edits to make and findings left, as data.

A fixer (``fix(fctx, findings) -> Iterator[Edit | Left]``, named by a rule's ``fixer`` field)
reads the target through :class:`FixContext` and never writes: the engine applies the edits
(atomically per file, all-or-nothing per run for directories; a new archive for wheels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from coinstall.rules import ArtifactContext, Finding
from coinstall.runtimes.model import Runtime

#: Edit operations: ``write`` (replace a file's content, keep its mode), ``create`` (a new
#: file), ``rename`` (``path`` -> ``dest``), ``symlink`` (``path`` is the new link, ``dest`` its
#: target text), ``remove``.
FixOp = Literal["write", "create", "rename", "symlink", "remove"]
#: Every :data:`FixOp`.
OPS: tuple[FixOp, ...] = get_args(FixOp)


@dataclass(frozen=True)
class Edit:
    """One change to the target.

    Attributes:
        op: a :data:`FixOp`.
        path: the member path changed (relative, POSIX, as in :class:`Finding`).
        data: the new content (``write``, ``create``), else None.
        dest: the new name (``rename``) or the link target (``symlink``), else None.
        mode: permission bits of a created file (None: keep / 0o644).
        source: for a ``create`` that copies a member: that member (the engine copies the
            content another fix writes to it, so a copy gets the fixed shebang too).
        findings: the findings this edit repairs.
        note: one line saying what changes (``#!/usr/bin/env python3 -> #!/usr/bin/python3``).
    """

    op: FixOp
    path: str
    findings: tuple[Finding, ...]
    note: str
    data: bytes | None = None
    dest: str | None = None
    mode: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class Left:
    """A finding ``coinstall fix`` did not repair, and why (one line)."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class FixOptions:
    """The user's choices for one run.

    Attributes:
        shebang_flags: interpreter flag letters to add to rewritten shebangs (Fedora's
            ``%py3_shebang_flags``: ``s`` or ``sP``); "" adds none.
        drop_bytecode: remove bad bytecode instead of recompiling it, where the profile ships
            none (Debian: py3compile compiles at install time).
        links: add a missing versioned entry point as a relative symbolic link, not a copy.
    """

    shebang_flags: str = ""
    drop_bytecode: bool = False
    links: bool = False


class Reader:
    """Read access to a target's members (a directory or a wheel's contents in memory)."""

    def __init__(
        self,
        read: Callable[[str], bytes | None],
        exists: Callable[[str], bool],
        mode: Callable[[str], int | None],
        link: Callable[[str], str | None],
    ) -> None:
        self._read, self._exists, self._mode, self._link = read, exists, mode, link

    def read(self, path: str) -> bytes | None:
        """A regular member's whole content, None if it is absent or not a regular file."""
        return self._read(path)

    def exists(self, path: str) -> bool:
        """True if a member (file, link or directory) has this path."""
        return self._exists(path)

    def mode(self, path: str) -> int | None:
        """Permission bits of a member, None if unknown."""
        return self._mode(path)

    def link(self, path: str) -> str | None:
        """A symbolic link's target text, None for anything else."""
        return self._link(path)


@dataclass
class FixContext:
    """What a fixer sees.

    Attributes:
        actx: the checked artifact (records, profile, stack, catalogue) as rules saw it.
        reader: the target's bytes.
        options: the user's choices.
        installed: the interpreters found on this machine (bytecode is recompiled by one).
        root: the directory's absolute path for a tree, None for an archive.
    """

    actx: ArtifactContext
    reader: Reader
    options: FixOptions
    installed: Sequence[Runtime] = ()
    root: str | None = None
    notes: list[str] = field(default_factory=list)

    def show(self, path: str) -> str:
        """A member path as the user reads it: ``/usr/bin/x`` below a tree (its installed
        path), ``pkg-1.0.data/scripts/x`` in a wheel (wheel paths stay relative)."""
        return show_path(path, archive=self.root is None)


def show_path(path: str, archive: bool) -> str:
    """``path`` as the user reads it: relative in an archive, rooted (``/usr/...``) in a tree."""
    return path if archive else "/" + path


Fixer = Callable[[FixContext, list[Finding]], Iterator[Edit | Left]]
