"""CRLF shebangs (issue 19 item 9), as a user meets them: a script written on Windows.  The
kernel keeps the ``\\r`` as part of the interpreter path or its argument (Linux
``fs/binfmt_script.c``), so the script cannot run; ``check`` must say so and ``fix`` must write
a line the kernel runs.  Proved by executing the scripts for real, before and after."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

COINSTALL = [sys.executable, "-m", "coinstall"]
OPTS = ("--profile", "debian", "--stack", "default=3.11")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=120)


def _execute(script: Path) -> subprocess.CompletedProcess[str] | OSError:
    try:
        return subprocess.run([str(script)], capture_output=True, text=True, timeout=60)
    except OSError as exc:  # the kernel found no interpreter named in the #! line
        return exc


@pytest.mark.parametrize(
    "first",
    [b"#!/usr/bin/env python3\r\n", b"#!/usr/bin/python3\r\n", b"#!/usr/bin/env python3 -u\r\n"],
)
def test_a_crlf_shebang_is_unusable_and_fixed_to_a_runnable_line(
    tmp_path: Path, first: bytes
) -> None:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    script = root / "usr/bin/foo"
    script.write_bytes(first + b"print('ran')\r\n")
    script.chmod(0o755)
    before = _execute(script)
    assert isinstance(before, OSError) or before.returncode != 0, before  # the premise
    done = _run("check", "--format", "json", *OPTS, str(root))
    assert "shebang-carriage-return" in done.stdout, done.stdout
    [art] = json.loads(done.stdout)["artifacts"]
    assert [f["usable_by"] for f in art["files"]] == [[]]  # no runtime runs it
    done = _run("fix", *OPTS, str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "shebang-carriage-return" in done.stdout
    data = script.read_bytes()
    assert b"\r" not in data.split(b"\n", 1)[0]
    assert data.endswith(b"print('ran')\r\n")  # the rest keeps its line ends
    ran = _execute(script)
    assert not isinstance(ran, OSError) and ran.returncode == 0, ran
    assert ran.stdout == "ran\n"
    done = _run("check", "--format", "json", *OPTS, str(root))
    assert "shebang-carriage-return" not in done.stdout
    [art] = json.loads(done.stdout)["artifacts"]
    assert art["files"][0]["usable_by"], art  # /usr/bin/python3 runs it here
