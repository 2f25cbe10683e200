"""``coinstall share`` does not trust its control directory (issue 17 item 11): a ``lock``
symlinked or hard-linked to a file outside, a ``state.json`` or ``journal.json`` naming paths
outside the site or through a symbolic link, a FIFO state.  Each case is a crafted site and the
command as a separate process; the outside victims are hashed before and after."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

COINSTALL = [sys.executable, "-m", "coinstall"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=60)


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    (d / "victim").write_bytes(b"do not touch\n")
    (d / "passwd").write_bytes(b"root:x:0:0\n")
    return d


def _site(tmp_path: Path, files: list[str]) -> Path:
    site = tmp_path / "site"
    meta = site / ".coinstall-share"
    meta.mkdir(parents=True)
    state = {
        "format": 1,
        "dir": str(site),
        "arch": None,
        "txn": None,
        "targets": [],
        "dists": {
            "evil": {
                "name": "evil",
                "version": "1",
                "wheel": "evil-1-py3-none-any.whl",
                "files": files,
            }
        },
    }
    (meta / "state.json").write_text(json.dumps(state))
    return site


def _one_line_exit_2(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_lock_linked_outside_is_never_written(tmp_path: Path, outside: Path, link: str) -> None:
    """The old code opened ``lock`` O_RDWR|O_CREAT, truncated it and wrote its pid into the
    file the link names."""
    site = _site(tmp_path, ["evil.py"])
    (site / "evil.py").write_text("")
    lock = site / ".coinstall-share/lock"
    if link == "symlink":
        lock.symlink_to(outside / "victim")
    else:
        os.link(outside / "victim", lock)
    before = _digest(outside)
    t = time.monotonic()
    p = _run("share", "remove", "evil", "--from", str(site))
    line = _one_line_exit_2(p)
    assert "lock" in line
    assert time.monotonic() - t < 30
    assert _digest(outside) == before
    assert (site / "evil.py").exists()


@pytest.mark.parametrize(
    "files", [["lnk/passwd"], ["../outside/passwd"], ["lnk/passwd", "evil.py"]]
)
def test_a_forged_state_never_removes_outside_files(
    tmp_path: Path, outside: Path, files: list[str]
) -> None:
    """``state.json`` listing ``lnk/passwd`` (``lnk`` a symbolic link to a directory outside)
    or ``../outside/passwd``: the old ``share remove`` moved the outside file into its trash
    and deleted it."""
    site = _site(tmp_path, files)
    (site / "lnk").symlink_to(outside)
    (site / "evil.py").write_text("")
    before = _digest(outside)
    p = _run("share", "remove", "evil", "--from", str(site))
    assert "Traceback" not in p.stderr, p.stderr
    assert _digest(outside) == before
    if ".." in files[0]:
        assert "not a path inside the site" in _one_line_exit_2(p)


def test_a_forged_journal_never_moves_outside_files(tmp_path: Path, outside: Path) -> None:
    site = _site(tmp_path, ["evil.py"])
    (site / "evil.py").write_text("")
    (site / "lnk").symlink_to(outside)
    journal = site / ".coinstall-share/journal.json"
    for moves in (
        [[str(outside / "passwd"), str(outside / "victim2")]],
        [[str(site / "stolen"), str(site / "lnk/passwd")]],
    ):
        journal.write_text(json.dumps({"txn": "abc", "moves": moves}))
        before = _digest(outside)
        p = _run("share", "remove", "evil", "--from", str(site))
        assert "journal" in _one_line_exit_2(p)
        assert _digest(outside) == before
        assert not (site / "stolen").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_state_that_is_no_file_answers_at_once(tmp_path: Path, kind: str) -> None:
    site = _site(tmp_path, [])
    state = site / ".coinstall-share/state.json"
    state.unlink()
    if kind == "fifo":
        os.mkfifo(state)
    else:
        state.symlink_to("/dev/zero")
    t = time.monotonic()
    p = _run("share", "list", str(site))
    _one_line_exit_2(p)
    assert time.monotonic() - t < 30
