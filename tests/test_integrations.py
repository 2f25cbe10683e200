"""Where maintainers run coinstall (docs/integrations.md), run for real: the pre-commit hook
through `pre-commit try-repo`, cibuildwheel's documented `audit-command` line, and click's shell
completion (issue 21, item 11)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WHEELS = REPO / ".cache" / "corpus" / "wheels"
GOOD = WHEELS / "requests-2.32.3-py3-none-any.whl"
# abi3-tagged, but its module calls a function outside the stable ABI (abi3audit agrees)
BAD = WHEELS / "procmaps-0.5.0-cp36-abi3-manylinux2010_x86_64.whl"
DOC = (REPO / "docs" / "integrations.md").read_text()


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.slow  # pre-commit builds its hook venv (pip install of this repo)
def test_pre_commit_try_repo_runs_the_hook(tmp_path: Path) -> None:
    assert GOOD.is_file() and BAD.is_file(), "the set-up downloads the corpus wheels"
    proj = tmp_path / "proj"
    proj.mkdir()
    _git(proj, "init", "-q")
    shutil.copy(GOOD, proj / GOOD.name)
    shutil.copy(BAD, proj / BAD.name)
    _git(proj, "add", ".")
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "pc-home"),
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    env.pop("PYTHONPATH", None)

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(BIN / "pre-commit"),
                "try-repo",
                str(REPO),
                "coinstall-check-wheels",
                "--files",
                *files,
            ],
            cwd=proj,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    good = try_repo(GOOD.name)
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    assert re.search(r"coinstall check \(wheels\)\.+Passed", good.stdout), good.stdout
    bad = try_repo(BAD.name)
    assert bad.returncode == 1, bad.stdout[-3000:] + bad.stderr[-3000:]
    assert "Failed" in bad.stdout and "stable-abi" in bad.stdout


def _audit_command() -> str:
    m = re.search(r'^audit-command = "(.*)"$', DOC, re.M)
    assert m, "docs/integrations.md documents an audit-command line"
    return m.group(1)


def test_cibuildwheel_audit_command_line() -> None:
    line = _audit_command()
    assert "{wheel}" in line
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    # cibuildwheel substitutes the placeholder with the quoted wheel path and runs a shell
    for wheel, want in ((GOOD, 0), (BAD, 1)):
        cmd = line.replace("{wheel}", shlex.quote(str(wheel)))
        proc = subprocess.run(cmd, shell=True, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == want, (cmd, proc.stdout[-2000:], proc.stderr[-2000:])


def test_shell_completion_as_documented() -> None:
    assert "_COINSTALL_COMPLETE=bash_source coinstall" in DOC
    env = dict(os.environ, _COINSTALL_COMPLETE="bash_source")
    src = subprocess.run(
        [str(BIN / "coinstall")], env=env, capture_output=True, text=True, timeout=60
    )
    assert src.returncode == 0 and "complete -o nosort -F" in src.stdout
    # what bash asks when the user presses TAB after `coinstall ch`
    env = dict(
        os.environ, _COINSTALL_COMPLETE="bash_complete", COMP_WORDS="coinstall ch", COMP_CWORD="1"
    )
    words = subprocess.run(
        [str(BIN / "coinstall")], env=env, capture_output=True, text=True, timeout=60
    )
    assert "plain,check" in words.stdout.split()
