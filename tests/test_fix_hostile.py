"""``coinstall fix`` on trees an attacker made (issue 17 items 2, 3, 7, 9, 10): a planted journal,
symbolic links in a journal's paths, a hard link at a staging name, a FIFO or ``/dev/zero``
journal, malformed ops.  Each case is delivered as the attacker would (a crafted tree, the
command as a separate process) and asserts: one error line, exit 2, an answer within seconds,
no byte changed outside the tree (the victims are hashed before and after), no traceback."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

import hostile
from coinstall.fix import journal

ARGS = ("fix", "--no-installed", "--profile", "debian", "--stack", "default=3.11")
SCRIPT = b"#!/usr/bin/env python3\nprint('hi')\n"


def _digest(paths: list[Path]) -> dict[str, tuple[str, int]]:
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode) for p in paths}


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A directory outside the tree with a victim file in it."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "important.conf").write_bytes(b"secret = 1\n")
    (d / "victim").write_bytes(b"do not touch\n")
    return d


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    s = root / "usr/bin/foo"
    s.write_bytes(SCRIPT)
    s.chmod(0o755)
    return root


def _one_error_line(r: hostile.Run, started: float) -> str:
    assert r.rc == 2, (r.rc, r.out, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert time.monotonic() - started < 60
    return lines[0]


@pytest.mark.parametrize("state", ["committing", "prepared"])
def test_a_planted_journal_is_refused_and_nothing_outside_changes(
    tmp_path: Path, outside: Path, state: str
) -> None:
    """A package unpacked with ``dpkg-deb -x`` carries ``.coinstall-fix.journal`` whose ops go
    through a symlinked directory: the old code removed and replaced files outside the tree
    and said "an interrupted earlier run was completed"."""
    root = _tree(tmp_path)
    (root / "lnk").symlink_to(outside)
    (root / ".payload").write_bytes(b"owned\n")
    ops = [
        {
            "op": "write",
            "path": "lnk/important.conf",
            "dest": None,
            "staged": str(root / ".payload"),
        },
        {"op": "remove", "path": "lnk/victim", "dest": None, "staged": None},
        {"op": "write", "path": "usr/bin/foo", "dest": None, "staged": str(root / "lnk/victim")},
    ]
    (root / journal.JOURNAL).write_text(json.dumps({"state": state, "ops": ops}))
    victims = sorted(outside.iterdir())
    before = _digest(victims)
    t = time.monotonic()
    r = hostile.run(*ARGS, str(root))
    line = _one_error_line(r, t)
    assert journal.JOURNAL in line and "not written by this coinstall" in line
    assert sorted(outside.iterdir()) == victims and _digest(victims) == before
    assert (root / "usr/bin/foo").read_bytes() == SCRIPT  # the tree is not fixed either


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_planted_journal_that_is_no_file_answers_at_once(tmp_path: Path, kind: str) -> None:
    """A FIFO journal hung the old code until killed; one symlinked to /dev/zero grew to
    gigabytes.  It is lstat-ed only: one line, in seconds, memory bounded."""
    root = _tree(tmp_path)
    j = root / journal.JOURNAL
    if kind == "fifo":
        os.mkfifo(j)
    elif kind == "dev-zero":
        j.symlink_to("/dev/zero")
    else:
        j.mkdir()
    t = time.monotonic()
    r = hostile.run(*ARGS, str(root), timeout=30)
    assert r.rc != "timeout"
    _one_error_line(r, t)
    assert r.maxrss_mb < 400


def _state_journal(root: Path) -> Path:
    st = root.stat()
    return Path(journal.state_dir()) / f"{st.st_dev:x}-{st.st_ino:x}.json"


@pytest.mark.parametrize(
    "case",
    [
        "path-int",
        "path-nul",
        "through-symlink",
        "dotdot",
        "staged-elsewhere",
        "other-root",
        "not-json",
        "fifo",
        "huge",
    ],
)
def test_a_damaged_journal_in_the_state_directory_is_one_line(
    tmp_path: Path, outside: Path, case: str
) -> None:
    """Even this program's own journal (outside the tree) is read with a size bound and
    checked field by field: ``"path": 5`` or a NUL gave exit 3 before; a path through a
    symbolic link is refused, nothing outside is touched."""
    root = _tree(tmp_path)
    (root / "lnk").symlink_to(outside)
    real = os.path.realpath(root)
    op: dict[str, object] = {"op": "remove", "path": "usr/bin/foo", "dest": None, "staged": None}
    doc: dict[str, object] = {"root": real, "state": "committing", "ops": [op]}
    if case == "path-int":
        op["path"] = 5
    elif case == "path-nul":
        op["path"] = "usr/bin/fo\0o"
    elif case == "through-symlink":
        op["path"] = "lnk/victim"
    elif case == "dotdot":
        op["path"] = "usr/../../outside/victim"
    elif case == "staged-elsewhere":
        doc["ops"] = [{"op": "write", "path": "usr/bin/foo", "dest": None, "staged": "lnk/victim"}]
    elif case == "other-root":
        doc["root"] = str(outside)
    j = _state_journal(root)
    j.parent.mkdir(parents=True, exist_ok=True)
    if case == "not-json":
        j.write_bytes(b"\xff{\0")
    elif case == "fifo":
        os.mkfifo(j)
    elif case == "huge":
        with open(j, "wb") as fh:
            fh.truncate(journal.MAX_JOURNAL + 1)
    else:
        j.write_text(json.dumps(doc))
    victims = sorted(outside.iterdir())
    before = _digest([*victims, root / "usr/bin/foo"])
    t = time.monotonic()
    try:
        r = hostile.run(*ARGS, str(root), timeout=30)
    finally:
        if j.is_fifo() or j.exists():
            j.unlink()
    assert r.rc != "timeout"
    line = _one_error_line(r, t)
    assert str(j) in line or "symbolic link" in line, line
    assert sorted(outside.iterdir()) == victims
    assert _digest([*victims, root / "usr/bin/foo"]) == before
    assert r.maxrss_mb < 400


def test_a_hard_link_at_the_staging_name_is_never_written_through(
    tmp_path: Path, outside: Path
) -> None:
    """``ln /outside/victim root/usr/bin/.foo.coinstall-fix``: the old code opened that name
    with O_TRUNC and wrote the fixed script (mode 0755) into the outside file's inode.  Staged
    files are created exclusively under a random name: the link is left alone."""
    root = _tree(tmp_path)
    victim = outside / "victim"
    os.link(victim, root / "usr/bin/.foo.coinstall-fix")
    before = _digest([victim])
    t = time.monotonic()
    r = hostile.run(*ARGS, str(root))
    assert r.rc in (0, 1), r.err
    assert time.monotonic() - t < 60
    assert _digest([victim]) == before
    assert (root / "usr/bin/foo").read_bytes().startswith(b"#!/usr/bin/python3\n")
    # the planted link is still there and still the victim's inode; no staged file is left
    assert os.path.samefile(victim, root / "usr/bin/.foo.coinstall-fix")
    assert sorted(p.name for p in (root / "usr/bin").iterdir()) == [".foo.coinstall-fix", "foo"]
    assert journal.pending(str(root)) is None


def test_a_symlinked_directory_in_the_tree_is_not_fixed_through(
    tmp_path: Path, outside: Path
) -> None:
    """``usr/bin`` a symbolic link to a directory outside: fix may fix what is in the tree but
    writes nothing through the link."""
    root = tmp_path / "root"
    (root / "usr").mkdir(parents=True)
    (outside / "tool").write_bytes(SCRIPT)
    (outside / "tool").chmod(0o755)
    (root / "usr/bin").symlink_to(outside)
    victims = sorted(outside.iterdir())
    before = _digest(victims)
    r = hostile.run(*ARGS, str(root))
    assert r.rc in (0, 1, 2) and "Traceback" not in r.err, r.err
    assert sorted(outside.iterdir()) == victims and _digest(victims) == before


def test_seeded_mutants_of_a_journal_never_touch_outside(tmp_path: Path) -> None:
    """fuzz/fuzz_journal.py's target on 400 seeded mutants of a journal whose ops go through
    a symbolic link and a planted hard link: every outcome is a recovery or a JournalError,
    nothing outside the tree changes."""
    import random
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
    import fuzz_journal

    rng = random.Random(17)
    seed = json.dumps({**fuzz_journal.SEED, "root": "@ROOT@"}).encode()
    outcomes: set[str] = set()
    for _ in range(400):
        _what, data = hostile.mutate(seed, rng)
        outcomes.add(fuzz_journal.one_input(tmp_path, data).split(":")[0])
    outcomes.add(fuzz_journal.one_input(tmp_path, seed).split(":")[0])
    # the seed without its op through the link is a journal this program could have written:
    # recovered, inside the tree only
    valid = {**fuzz_journal.SEED, "root": "@ROOT@", "ops": fuzz_journal.SEED["ops"][:3]}
    for state in ("committing", "prepared"):
        outcomes.add(
            fuzz_journal.one_input(tmp_path, json.dumps({**valid, "state": state}).encode())
        )
    assert {"refused", "completed", "rolled back"} <= outcomes, outcomes
