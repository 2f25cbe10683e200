"""What ``coinstall fix`` prints, as a user running it in a terminal sees it (issue 17 item 9,
issue 19 item 11): hostile file names are escaped (no ESC reaches the terminal, a newline
forges no line), a wheel's members are shown relative."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

COINSTALL = [sys.executable, "-m", "coinstall"]
FIX = ("fix", "--no-installed", "--profile", "debian", "--stack", "default=3.11")
SUMMARY = re.compile(r"^\s+\d+ (fixed|would fix), \d+ left$")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("dry", [False, True])
def test_hostile_names_are_escaped_in_fix_and_fix_diff(tmp_path: Path, dry: bool) -> None:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    names = ["red\x1b[31mX\x1b]0;owned\x07", "forge\n  0 fixed, 0 left"]
    for n in names:
        p = root / "usr/bin" / n
        p.write_bytes(b"#!/usr/bin/env python3\nprint(1)\n")
        p.chmod(0o755)
    p = _run(*FIX, *(["--diff"] if dry else []), str(root))
    assert p.returncode in (0, 1), p.stderr
    out = p.stdout + p.stderr
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mX" in out
    assert "forge\\n  0 fixed, 0 left" in out
    if not dry:
        assert [ln for ln in p.stdout.splitlines() if SUMMARY.match(ln)] == ["  2 fixed, 0 left"], (
            p.stdout
        )


def _wheel(tmp: Path) -> Path:
    whl = tmp / "demo-1.0-py3-none-any.whl"
    files = {
        "demo/__init__.py": b"X = 1\n",
        "demo-1.0.data/scripts/demo": b"#!/usr/bin/env python3 -u\nimport demo\n",
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(whl, "w") as zf:
        for n, data in files.items():
            info = zipfile.ZipInfo(n)
            info.external_attr = 0o100755 << 16
            zf.writestr(info, data)
        zf.writestr(
            "demo-1.0.dist-info/RECORD",
            "".join(f"{n},,\n" for n in files) + "demo-1.0.dist-info/RECORD,,\n",
        )
    return whl


def test_a_wheels_members_are_shown_relative(tmp_path: Path) -> None:
    """The README: a wheel's paths stay relative; ``fix`` printed ``/demo-1.0.data/...``."""
    whl = _wheel(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    p = _run("fix", "--no-installed", "-o", str(out), str(whl))
    assert p.returncode in (0, 1), p.stderr
    assert "  demo-1.0.data/scripts/demo: " in p.stdout, p.stdout
    assert "/demo-1.0.data" not in p.stdout
    # the fixed wheel is readable as any new file is (0o666 less the umask), not 0o600
    umask = os.umask(0)
    os.umask(umask)
    fixed = out / whl.name
    assert fixed.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("layout", "profile"),
    [
        ("usr/lib/python3/dist-packages/demo/__init__.py", "debian"),
        ("DEBIAN/control", "debian"),
        ("usr/lib64/python3.12/site-packages/demo/__init__.py", "fedora"),
        ("usr/lib/python3.12/site-packages/demo/__init__.py", "fedora"),
        ("opt/demo/__init__.py", "wheel"),
    ],
)
def test_check_and_fix_judge_a_build_root_by_one_profile(
    tmp_path: Path, layout: str, profile: str
) -> None:
    """Issue 19 item 10: ``fix root`` said profile debian, ``check root`` profile wheel."""
    root = tmp_path / "root"
    f = root / layout
    f.parent.mkdir(parents=True)
    f.write_text("Package: demo\n" if layout.startswith("DEBIAN") else "")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/demo").write_text("#!/usr/bin/env python3\n")
    (root / "usr/bin/demo").chmod(0o755)
    check = _run("check", "--no-installed", "--format", "json", str(root))
    [art] = json.loads(check.stdout)["artifacts"]
    fix = _run("fix", "--no-installed", "--diff", str(root))
    assert f"(tree, profile {profile})" in fix.stdout, fix.stdout + fix.stderr
    assert art["profile"] == profile


def test_a_symlinked_layout_names_no_profile(tmp_path: Path) -> None:
    """The layout is read with lstat: ``usr`` a symbolic link to this machine's /usr does
    not make a tree a Debian build root."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "usr").symlink_to("/usr")
    check = _run("check", "--no-installed", "--format", "json", str(root))
    [art] = json.loads(check.stdout)["artifacts"]
    assert art["profile"] == "wheel"


def test_an_output_in_a_missing_directory_is_one_usage_line(tmp_path: Path) -> None:
    """Issue 19 item 8 (the fix part): ``fix --output nodir/x.whl`` ended in exit 3."""
    whl = _wheel(tmp_path)
    p = _run("fix", "--no-installed", "--output", str(tmp_path / "nodir/x.whl"), str(whl))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "internal error" not in p.stderr and "Traceback" not in p.stderr
    # click's usage error (as for every other command's -o, cli/_common.output_dir_exists):
    # the usage line, the help hint, and one line naming the option and the reason
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "--output" in errors[0], p.stderr
    assert "its directory does not exist" in errors[0]
    assert not (tmp_path / "nodir").exists()
