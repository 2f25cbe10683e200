"""``coinstall fix`` on targets reached through a symlinked parent directory (issue 21 item 5):
one helper (:func:`coinstall.fix.journal.real_path`) names the target, so a tree reached
through a link above it is one tree (one journal, one lock) and a wheel's ``--output`` through
a link to the wheel's own directory is the wheel itself, which is never changed in place."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from coinstall.fix import journal
from test_atomic import _limit_fsize
from test_fix_output import _wheel

COINSTALL = [sys.executable, "-m", "coinstall"]
FIX = ("fix", "--no-installed", "--profile", "debian", "--stack", "default=3.11")
SCRIPT = b"#!/usr/bin/env python3\nprint('hi')\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=300)


def test_output_through_a_symlinked_parent_is_the_wheel_itself(tmp_path: Path) -> None:
    # abspath() compared "link/demo.whl" with "real/demo.whl" and wrote over the source wheel
    real = tmp_path / "real"
    real.mkdir()
    whl = _wheel(real)
    (tmp_path / "link").symlink_to(real)
    before = hashlib.sha256(whl.read_bytes()).hexdigest()
    p = _run("fix", "--no-installed", "-o", str(tmp_path / "link"), str(whl))
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "names the wheel itself" in p.stderr and "Traceback" not in p.stderr
    assert hashlib.sha256(whl.read_bytes()).hexdigest() == before
    # a real other directory is written (the refusal is about the entry, not the name)
    other = tmp_path / "out"
    other.mkdir()
    p = _run("fix", "--no-installed", "-o", str(other), str(whl))
    assert p.returncode in (0, 1), p.stderr
    assert (other / whl.name).read_bytes() != whl.read_bytes()


@pytest.fixture()
def linked_tree(tmp_path: Path) -> tuple[Path, Path]:
    """``(tree as reached through a symlinked parent, its real path)``."""
    real = tmp_path / "real" / "root"
    (real / "usr/bin").mkdir(parents=True)
    s = real / "usr/bin/foo"
    s.write_bytes(SCRIPT)
    s.chmod(0o755)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    return tmp_path / "link" / "root", real


def test_a_tree_through_a_symlinked_parent_is_one_tree(
    linked_tree: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    via_link, real = linked_tree
    assert journal.real_path(str(via_link)) == str(real)
    state = tmp_path / "state"
    monkeypatch.setenv(journal.STATE_ENV, str(state))
    # a run through the link, interrupted after its journal is written, is finished by a
    # run through the real path: the journal is found and names the same tree
    from coinstall.fix.model import Edit

    ops = journal.prepare(
        str(via_link), [Edit("write", "usr/bin/foo", (), "shebang", data=b"#!/usr/bin/python3\n")]
    )
    with pytest.raises(RuntimeError):

        def stop(i: int) -> None:
            raise RuntimeError("interrupted")

        journal.commit(str(via_link), ops, fault=stop)
    (jpath,) = state.rglob("*.json")
    assert json.loads(jpath.read_text())["root"] == str(real)
    assert journal.recover(str(real)) == "completed"
    assert (real / "usr/bin/foo").read_bytes() == b"#!/usr/bin/python3\n"
    assert not list(state.rglob("*.json"))


def test_fix_through_a_symlinked_parent_edits_the_real_tree(
    linked_tree: tuple[Path, Path], tmp_path: Path
) -> None:
    via_link, real = linked_tree
    p = _run(*FIX, str(via_link))
    assert p.returncode in (0, 1), p.stderr
    assert (real / "usr/bin/foo").read_bytes().startswith(b"#!/usr/bin/python3")
    assert sorted(q.name for q in (real / "usr/bin").iterdir()) == ["foo"]


def test_a_journal_write_that_fails_leaves_no_file(tmp_path: Path) -> None:
    """The journal is written by the one atomic writer: a write the file system refuses
    (RLIMIT_FSIZE: EFBIG) raises and leaves nothing beside the journal, neither a new
    journal nor its temporary file (before: ``<journal>.<hex>.tmp`` was left)."""
    state = tmp_path / "state"
    state.mkdir()
    code = (
        "import sys\nfrom coinstall.fix import journal\n"
        "try:\n"
        "    journal._save(sys.argv[1], 'r' * 4096, 'prepared', [])\n"
        "except OSError as e:\n"
        "    print(e.errno)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(state / "j.json")],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _limit_fsize(512),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "27"  # EFBIG
    assert list(state.iterdir()) == []
