"""The one atomic writer (coinstall.atomic, issue 21 item 5): a failure before the rename leaves
the target as it was and no temporary file beside it; a success replaces the target whole.

The mid-write failure is the kernel's: a process whose file-size limit (RLIMIT_FSIZE) is below
the content gets EFBIG from write(2), as on a full disk, in coinstall's own process
(``coinstall report -o``, a separate process as users run it)."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from coinstall.atomic import atomic_open, write_atomic

COINSTALL = Path(sys.executable).with_name("coinstall")
WHEEL = Path(__file__).parent.parent / ".cache" / "corpus" / "wheels"


def _limit_fsize(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_success_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    write_atomic(target, "new\n" * 1000)
    assert target.read_text() == "new\n" * 1000
    assert os.listdir(tmp_path) == ["out.txt"]


def test_exception_inside_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_open(target, "wb") as fh:
        fh.write(b"half of the new")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_disk_error_mid_write_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    code = (
        "import sys\nfrom coinstall.atomic import write_atomic\n"
        "try:\n    write_atomic(sys.argv[1], 'x' * 1_000_000)\n"
        "except OSError as e:\n    print(e.errno)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: _limit_fsize(65536),
    )
    assert out.stdout.strip() == "27"  # EFBIG from write(2)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_permissions(tmp_path: Path) -> None:
    target = tmp_path / "s.spec"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new", keep_perms=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_atomic(target, "newer", perms=0o644)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    fresh = tmp_path / "fresh"
    write_atomic(fresh, b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~mask


def test_missing_directory_raises_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no" / "out", "x")
    assert os.listdir(tmp_path) == []


def test_report_output_failing_mid_write(tmp_path: Path) -> None:
    wheel = sorted(WHEEL.glob("*.whl"))[0]
    results = tmp_path / "results.json"
    with results.open("w") as fh:
        subprocess.run(
            [str(COINSTALL), "check", "--format", "json", str(wheel)], stdout=fh, check=False
        )
    assert json.loads(results.read_text())["artifacts"]
    outdir = tmp_path / "out"
    outdir.mkdir()
    target = outdir / "summary.html"
    target.write_text("old\n")
    # the HTML page is larger than 4 KiB; the results file is read, not written
    proc = subprocess.run(
        [str(COINSTALL), "report", "--format", "html", "-o", str(target), str(results)],
        capture_output=True,
        text=True,
        preexec_fn=lambda: _limit_fsize(4096),
    )
    assert proc.returncode != 0
    assert target.read_text() == "old\n"
    assert os.listdir(outdir) == ["summary.html"]
    ok = subprocess.run(
        [str(COINSTALL), "report", "--format", "html", "-o", str(target), str(results)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ok.returncode == 0 and target.read_text().startswith("<!")
    assert os.listdir(outdir) == ["summary.html"]


# A two-package Debian Packages index (deb822 paragraphs as in bookworm's): enough for a plan.
_PACKAGES = """\
Package: python3.11
Version: 3.11.2-6
Architecture: amd64
Source: python3.11

Package: python3-yaml
Version: 6.0-3
Architecture: amd64
Source: pyyaml
Depends: python3 (<< 3.12), python3 (>= 3.11~), libyaml-0-2

"""


def test_plan_output_failing_mid_write(tmp_path: Path) -> None:
    # cli/plan.py wrote through its own temporary file and left it behind on a write error
    (tmp_path / "Packages").write_text(_PACKAGES)
    outdir = tmp_path / "out"
    outdir.mkdir()
    target = outdir / "plan.html"
    target.write_text("old\n")
    cmd = [
        str(COINSTALL),
        "plan",
        "add",
        "3.12",
        "--from",
        "3.11",
        "--repo",
        str(tmp_path / "Packages"),
        "--format",
        "html",
        "-o",
        str(target),
        "--no-cache",
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, preexec_fn=lambda: _limit_fsize(4096)
    )
    assert proc.returncode != 0 and "File too large" in proc.stderr, proc.stderr
    assert target.read_text() == "old\n"
    assert os.listdir(outdir) == ["plan.html"]
    subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "python3-yaml" in target.read_text()
    assert os.listdir(outdir) == ["plan.html"]


def _unwritable_dir(tmp_path: Path) -> Path:
    """A directory in which this user cannot create a file: a read-only one (mode 555), or
    for root, whom file modes do not stop, sysfs (which refuses new files to everyone)."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        return ro
    return Path("/sys")


@pytest.mark.parametrize("command", ["plan", "report"])
def test_unwritable_output_is_one_line_exit_2(tmp_path: Path, command: str) -> None:
    # plan -o into a directory it cannot write exited 3 with a traceback (an "internal error")
    (tmp_path / "Packages").write_text(_PACKAGES)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"artifacts": [], "errors": []}))
    target = _unwritable_dir(tmp_path) / "out.json"
    args = (
        [
            "plan",
            "add",
            "3.12",
            "--from",
            "3.11",
            "--repo",
            str(tmp_path / "Packages"),
            "--no-cache",
        ]
        if command == "plan"
        else ["report", str(results)]
    )
    proc = subprocess.run(
        [str(COINSTALL), *args, "--format", "json", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"coinstall: {target}: cannot write: "), proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not target.exists()
