"""``coinstall fix``: check a target, let each fixable rule's fixer propose edits, apply them.

The same rule data drives ``check`` and ``fix`` (ruff's model): a fixable rule
names its fixer (``fixer="shebang:fix"`` = :func:`coinstall.fix.shebang.fix`).  Fixers only
read; this engine validates their edits against one virtual view of the target (two fixes may
not touch one path in contradicting ways), then

* a directory (build root, installed tree) is changed all-or-nothing through a journal
  (:mod:`coinstall.fix.journal`): atomic per file, an interrupted run is completed or rolled
  back by the next ``coinstall fix`` on it;
* a wheel is never changed in place: a new wheel is written (``output``) with its RECORD
  hashes and sizes recomputed (:mod:`coinstall.fix.wheel`);
* a .deb or an RPM is a built artifact and is never modified: its findings are left, with the
  advice to fix its build root.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from coinstall.check import TargetError, check_target
from coinstall.config import Config
from coinstall.fix import journal
from coinstall.fix.model import Edit, FixContext, Fixer, FixOptions, Left, Reader
from coinstall.rules import (
    REGISTRY,
    Finding,
    all_rules,
    enabled_rules,
    heads_only,
    run_set_rules,
)
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime

if TYPE_CHECKING:  # a wheel's writer (installer's RECORD, zipfile): imported for wheels only
    from coinstall.fix.wheel import WheelContents


class FixError(Exception):
    """A target that cannot be fixed at all (unreadable, a wheel without ``output``); one
    line naming the problem."""


@dataclass
class FixResult:
    """One target's outcome.

    Attributes:
        path: the target as given.
        format: ``tree``, ``wheel``, ``deb``, ``rpm``.
        profile: the profile it was judged by.
        edits: the edits made (or, for a dry run, that would be made).
        left: findings not repaired, with the reason.
        written: the file written (a wheel's ``output``), None otherwise.
        recovered: what happened to an interrupted earlier run (``"completed"``,
            ``"rolled back"``), None if there was none.
        dry_run: True if nothing was written.
        notes: one-line remarks for the user (an output name installers will refuse).
    """

    path: str
    format: str
    profile: str
    edits: list[Edit] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    written: str | None = None
    recovered: str | None = None
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> list[Finding]:
        """Every finding an edit repairs, once each, in edit order."""
        seen: dict[Finding, None] = {}
        for e in self.edits:
            for f in e.findings:
                seen.setdefault(f, None)
        return list(seen)


def resolve_fixer(name: str) -> Fixer:
    """The function a rule's ``fixer`` names (``"shebang:fix"`` ->
    :func:`coinstall.fix.shebang.fix`)."""
    module, _, func = name.partition(":")
    fn: Fixer = getattr(importlib.import_module(f"coinstall.fix.{module}"), func)
    return fn


def needs_interpreters(config: Config) -> bool:
    """Whether a fix with ``config`` may use this machine's interpreters, so whether the
    caller must discover them (which starts each one not in the probe cache).

    False only when every rule it runs reads nothing but file heads
    (:func:`~coinstall.rules.heads_only`: the check then judges no runtime and reads no
    runtime's directories) and the fixer of every fixable one declares that it starts none
    (its module's ``STARTS_INTERPRETERS = False``, as :mod:`coinstall.fix.shebang`; a
    module that does not say is taken to start one).  ``fix --select`` of the shebang rules
    is such a run."""
    if not heads_only(config):
        return True
    modules = {r.fixer.partition(":")[0] for r in enabled_rules(config) if r.fixable}
    return any(
        getattr(importlib.import_module(f"coinstall.fix.{m}"), "STARTS_INTERPRETERS", True)
        for m in modules
    )


def fixable_rules() -> list[str]:
    """Names of the rules ``coinstall fix`` repairs, sorted."""
    return [r.name for r in all_rules() if r.fixable]


# -- readers -------------------------------------------------------------------------------


def _tree_reader(root: str) -> Reader:
    """Members of directory ``root``, each reached with no symbolic link in its directories
    (:func:`coinstall.fix.journal.open_parent`): a fixer never reads outside the tree."""

    @contextlib.contextmanager
    def rootfd() -> Iterator[int]:
        fd = journal.open_root(root)
        try:
            yield fd
        finally:
            os.close(fd)

    def read(p: str) -> bytes | None:
        try:
            with rootfd() as fd:
                return journal.read_member(fd, p)
        except OSError:
            return None

    def lstat(p: str) -> os.stat_result | None:
        try:
            with rootfd() as fd:
                return journal.lstat_member(fd, p)
        except OSError:
            return None

    def mode(p: str) -> int | None:
        st = lstat(p)
        return None if st is None else st.st_mode & 0o7777

    def link(p: str) -> str | None:
        try:
            with rootfd() as fd:
                return journal.readlink_member(fd, p)
        except OSError:
            return None

    return Reader(read, lambda p: lstat(p) is not None, mode, link)


# -- validation ----------------------------------------------------------------------------


class _View:
    """The target as the edits so far leave it: which paths exist."""

    def __init__(self, reader: Reader, show: Callable[[str], str]) -> None:
        self.reader = reader
        self.show = show
        self.added: set[str] = set()
        self.gone: set[str] = set()
        self.written: set[str] = set()

    def exists(self, p: str) -> bool:
        return p in self.added or (p not in self.gone and self.reader.exists(p))

    def check(self, e: Edit) -> str | None:
        """Why the edit cannot follow the earlier ones, or None (and the view is updated)."""
        if e.op == "write":
            if not self.exists(e.path):
                return f"{self.show(e.path)} is moved or removed by another fix"
            if e.path in self.written:
                return f"another fix already rewrites {self.show(e.path)}"
            self.written.add(e.path)
            return None
        if e.op in ("create", "symlink"):
            if self.exists(e.path):
                return f"{self.show(e.path)} already exists"
            self.added.add(e.path)
            return None
        if e.op == "rename":
            assert e.dest is not None
            if not self.exists(e.path):
                return f"{self.show(e.path)} is moved or removed by another fix"
            if self.exists(e.dest):
                return f"{self.show(e.dest)} already exists"
            self.gone.add(e.path)
            self.added.discard(e.path)
            self.added.add(e.dest)
            return None
        if e.op == "remove":
            if not self.exists(e.path):
                return f"{self.show(e.path)} is moved or removed by another fix"
            self.gone.add(e.path)
            self.added.discard(e.path)
            return None
        return f"unknown edit {e.op}"


# -- the run -------------------------------------------------------------------------------

_BUILT = {"deb": "a .deb", "rpm": "an RPM"}


@contextlib.contextmanager
def _exclusive(root: str) -> Iterator[None]:
    """Hold an exclusive lock on the directory ``root`` itself (``flock(2)`` on its own file
    descriptor: nothing is created in the tree, which is often a build root about to be
    packaged) for one run, so that two ``coinstall fix`` runs never stage, journal and rename
    in the same directory at once.  Released when the run ends, whatever way, and by the
    kernel if the process dies.

    Raises:
        FixError: another process holds the lock (one line; that run is not waited for), or
            the directory cannot be opened.
    """
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise FixError(f"cannot lock {root}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FixError(
                f"another coinstall fix is running on {root}; try again when it has finished"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def fix_target(
    path: str,
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config,
    options: FixOptions,
    installed: Sequence[Runtime] = (),
    *,
    output: str | None = None,
    dry_run: bool = False,
    fault: Callable[[int], None] | None = None,
) -> FixResult:
    """:func:`_fix_target` under the directory's lock (:func:`_exclusive`) when it changes a
    directory; see there."""
    changes_dir = not dry_run and os.path.isdir(path)
    with _exclusive(journal.real_path(path)) if changes_dir else contextlib.nullcontext():
        return _fix_target(
            path,
            runtimes,
            catalogue,
            config,
            options,
            installed,
            output=output,
            dry_run=dry_run,
            fault=fault,
        )


def _fix_target(
    path: str,
    runtimes: Sequence[Runtime],
    catalogue: Catalogue,
    config: Config,
    options: FixOptions,
    installed: Sequence[Runtime] = (),
    *,
    output: str | None = None,
    dry_run: bool = False,
    fault: Callable[[int], None] | None = None,
) -> FixResult:
    """Fix one target.

    Phases: recover an interrupted run (:func:`_recover`), check the target
    (:func:`coinstall.check.check_target` and the set rules), open it for reading
    (:func:`_open`), ask the fixers (:func:`_propose`), keep the edits that still apply in
    order (:func:`_accept`), write them (:func:`_apply`).

    Args:
        path: a directory, a wheel, a .deb or an RPM.
        runtimes: every runtime judged (as for ``check``).
        catalogue: the runtime catalogue.
        config: rule selection, profile and stack (as for ``check``).
        options: the user's choices.
        installed: interpreters found on this machine (bytecode recompilation).
        output: where a fixed wheel is written (a file, or a directory to write it into
            under its own name).
        dry_run: plan and report, write nothing (a directory's interrupted run is not
            recovered either).
        fault: test hook, see :func:`coinstall.fix.journal.commit`.

    Raises:
        FixError: the target cannot be read, or a wheel needs ``output``.
    """
    recovered = _recover(path) if os.path.isdir(path) and not dry_run else None
    result = check_target(path, runtimes, catalogue, config, verdicts=False)
    if isinstance(result, TargetError):  # any failure reading it, as one line
        raise FixError(result.message)
    if result.problems:
        raise FixError(result.problems[0])
    ctx = result.context
    assert ctx is not None
    findings = list(result.findings)
    findings += [f for _c, f in run_set_rules([ctx], config)]
    out = FixResult(
        path, result.info.format, result.profile.name, recovered=recovered, dry_run=dry_run
    )
    fmt = result.info.format
    if fmt in _BUILT:
        for f in findings:
            out.left.append(
                Left(
                    f,
                    f"{_BUILT[fmt]} is a built package and is never modified: "
                    "fix its build root and rebuild it",
                )
            )
        return out
    archive, reader, root = _open(path, fmt, output, dry_run)
    fctx = FixContext(ctx, reader, options, installed, root)
    proposed = _propose(fctx, findings, out)
    _accept(proposed, _View(reader, fctx.show), out)
    _apply(out, path, archive, root, output, dry_run, fault)
    return out


def _recover(path: str) -> str | None:
    """Complete or undo an interrupted run on directory ``path``
    (:func:`coinstall.fix.journal.recover`); raises FixError if that fails."""
    try:
        return journal.recover(path)
    except journal.JournalError as exc:
        raise FixError(str(exc)) from None
    except OSError as exc:
        raise FixError(f"cannot recover an earlier run: {exc.strerror or exc}") from None


def _open(
    path: str, fmt: str, output: str | None, dry_run: bool
) -> tuple[WheelContents | None, Reader, str | None]:
    """``(wheel contents or None, reader of members, root directory or None)`` of a wheel or
    a tree.  Raises FixError for a wheel without ``output`` (unless ``dry_run``) or one that
    cannot be loaded."""
    if fmt == "wheel":
        from coinstall.fix import wheel as wheel_mod

        if output is None and not dry_run:
            raise FixError("a wheel is never changed in place: give --output FILE")
        try:
            archive = wheel_mod.WheelContents.load(path)
        except wheel_mod.WheelError as exc:
            raise FixError(str(exc)) from None
        return archive, archive.reader(), None
    root = journal.real_path(path)
    return None, _tree_reader(root), root


def _propose(fctx: FixContext, findings: Sequence[Finding], out: FixResult) -> list[Edit]:
    """The edits every fixer proposes for its rules' findings; a finding no fixer handles (not
    fixable, or the fixer left it or found nothing) goes to ``out.left`` with why."""
    by_fixer: dict[str, list[Finding]] = {}
    for f in findings:
        r = REGISTRY.get(f.rule)
        if r is None or not r.fixable:
            out.left.append(Left(f, f"no safe automatic repair (coinstall explain {f.rule})"))
            continue
        by_fixer.setdefault(r.fixer, []).append(f)
    proposed: list[Edit] = []
    for name, group in by_fixer.items():
        fixer = resolve_fixer(name)
        handled: set[Finding] = set()
        for item in fixer(fctx, group):
            if isinstance(item, Left):
                out.left.append(item)
                handled.add(item.finding)
                continue
            assert isinstance(item, Edit)
            handled.update(item.findings)
            proposed.append(item)
        for f in group:
            if f not in handled:
                out.left.append(Left(f, "the fixer found nothing it could safely change"))
    return proposed


def _accept(proposed: list[Edit], view: _View, out: FixResult) -> None:
    """Put the edits that still apply, in order, into ``out.edits`` (the others' findings into
    ``out.left``); a copy of a rewritten file gets the new content; a finding fixed by any
    edit leaves ``out.left``."""
    # Content first, then new files (copies see the fixed content), then moves and removals.
    order = {"write": 0, "create": 1, "symlink": 1, "rename": 2, "remove": 3}
    proposed.sort(key=lambda e: order.get(e.op, 9))
    for e in proposed:
        why = view.check(e)
        if why is None:
            out.edits.append(e)
        else:
            out.left.extend(Left(f, why) for f in e.findings)
    writes = {e.path: e.data for e in out.edits if e.op == "write"}
    out.edits = [
        replace(e, data=writes[e.source]) if e.op == "create" and e.source in writes else e
        for e in out.edits
    ]
    fixed = set(out.fixed)
    out.left = [x for x in out.left if x.finding not in fixed]


def _apply(
    out: FixResult,
    path: str,
    archive: WheelContents | None,
    root: str | None,
    output: str | None,
    dry_run: bool,
    fault: Callable[[int], None] | None,
) -> None:
    """Write ``out.edits``: a wheel to ``output`` (a copy even without edits, sets
    ``out.written``), a tree in place through the journal; nothing when ``dry_run``.

    Raises:
        FixError: the wheel cannot be written, or the journal cannot apply the edits.
    """
    if archive is not None:
        _write_wheel(out, path, archive, output, dry_run)
        return
    if dry_run or not out.edits:
        return
    assert root is not None
    try:
        ops = journal.prepare(root, out.edits)
        journal.commit(root, ops, fault)
    except journal.JournalError as exc:
        raise FixError(str(exc)) from None
    except OSError as exc:
        raise FixError(
            f"could not apply the fixes ({exc}); the journal in "
            f"{journal.state_dir()} lets the next coinstall fix on {root} "
            "complete or undo them"
        ) from None


def _write_wheel(
    out: FixResult, path: str, archive: WheelContents, output: str | None, dry_run: bool
) -> None:
    """Write the wheel with ``out.edits`` to ``output`` (a copy even without edits; sets
    ``out.written``), nothing when ``dry_run``.  Raises FixError if it cannot be written."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    from coinstall.fix import wheel as wheel_mod

    if dry_run or output is None:
        return
    try:
        out.written = archive.write(output, path, out.edits)
    except wheel_mod.WheelError as exc:
        raise FixError(str(exc)) from None
    if not out.edits:
        return
    try:
        parse_wheel_filename(os.path.basename(out.written))
    except InvalidWheelFilename:
        out.notes.append(
            f"{out.written} is not a wheel file name (PEP 427): pip and "
            "installers refuse it; rename it to the source wheel's name"
        )


def diff(result: FixResult, read_old: Callable[[str], bytes | None] | None = None) -> str:
    """The edits as a unified diff (text files) and one line per other change: what
    ``--diff`` prints.  ``read_old`` gives a member's current content."""
    return "".join(diff_lines(result, read_old))


def diff_lines(
    result: FixResult, read_old: Callable[[str], bytes | None] | None = None
) -> list[str]:
    """:func:`diff` as a list of lines, each ending in one newline; a line's text (a name or a
    content line from the target) may itself hold control characters and newlines, which the
    caller escapes line by line before a terminal sees them."""
    lines: list[str] = []
    for e in result.edits:
        if e.op == "write":
            old = read_old(e.path) if read_old else None
            if old is not None and e.data is not None and _text(old) and _text(e.data):
                import difflib  # only for --diff

                lines += difflib.unified_diff(
                    old.decode("utf-8", "replace").splitlines(keepends=True)[:5],
                    e.data.decode("utf-8", "replace").splitlines(keepends=True)[:5],
                    f"a/{e.path}",
                    f"b/{e.path}",
                    n=0,
                )
                if lines and not lines[-1].endswith("\n"):
                    lines[-1] += "\n"
            else:
                lines.append(f"rewrite {e.path}: {e.note}\n")
        elif e.op == "rename":
            lines.append(f"rename {e.path} -> {e.dest}\n")
        elif e.op == "create":
            lines.append(f"create {e.path}: {e.note}\n")
        elif e.op == "symlink":
            lines.append(f"symlink {e.path} -> {e.dest}\n")
        elif e.op == "remove":
            lines.append(f"remove {e.path}: {e.note}\n")
    return lines


def _text(data: bytes) -> bool:
    return b"\0" not in data[:8192]


def old_content(target: str, member: str) -> bytes | None:
    """A member's current bytes: a file below a directory, or a wheel's member; None if
    absent or unreadable."""
    if os.path.isdir(target):
        return _tree_reader(journal.real_path(target)).read(member)
    import zipfile  # a wheel's member: only for --diff of a wheel

    try:
        with zipfile.ZipFile(target) as zf:
            return zf.read(member)
    except (KeyError, OSError, zipfile.BadZipFile, ValueError):
        return None
