"""coinstall.runtimes.run: the one way coinstall runs a script in a target interpreter.

Real interpreters only: pyenv's 2.7 (the oldest the probe serves, no ``-I``) and 3.x, this
machine's ``/usr/bin/python3``.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from coinstall.runtimes import run

PY27 = os.path.expanduser("~/.pyenv/versions/2.7.18/bin/python")
PY36 = os.path.expanduser("~/.pyenv/versions/3.6.15/bin/python")
SYS = "/usr/bin/python3"
SRC = Path(__file__).resolve().parent.parent / "src" / "coinstall"

_STATE = (
    "import json, sys\n"
    "print(json.dumps({'path0': sys.path[:1], 'no_site': sys.flags.no_site,"
    " 'no_user_site': sys.flags.no_user_site, 'env': sys.flags.ignore_environment,"
    " 'dont_write': sys.dont_write_bytecode, 'site': 'site' in sys.modules}))\n"
)


@pytest.mark.parametrize("python", [PY27, PY36, SYS])
def test_flags_and_no_empty_path_entry(
    python: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A json.py in the working directory of the caller and on PYTHONPATH must not be imported.
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    state = json.loads(run.run_script(python, _STATE).last_line())
    assert state["path0"] != [""]
    assert state == {
        **state,
        "no_site": 1,
        "no_user_site": 1,
        "env": 1,
        "dont_write": True,
        "site": False,
    }
    with_site = json.loads(run.run_script(python, _STATE, site=True).last_line())
    assert with_site["site"] is True and with_site["no_site"] == 0
    assert with_site["no_user_site"] == 1
    user = json.loads(run.run_script(python, _STATE, site=True, user_site=True).last_line())
    assert user["no_user_site"] == 0
    plain = json.loads(run.run_script(python, _STATE, safe_path=False).last_line())
    assert plain["path0"] == [""]


def test_environment_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1")
    monkeypatch.setenv("PYTHONSTARTUP", "/nonexistent")
    script = (
        "import json, os; print(json.dumps(sorted(k for k in os.environ"
        " if k.startswith(('PYTHON', 'SOURCE_')))))"
    )
    assert json.loads(run.run_script(SYS, script).last_line()) == ["SOURCE_DATE_EPOCH"]
    assert json.loads(run.run_script(SYS, script, unset=("SOURCE_DATE_EPOCH",)).last_line()) == []


def test_stdin_larger_than_a_pipe_buffer_and_stderr() -> None:
    data = "x" * (3 * 1024 * 1024)
    res = run.run_script(
        PY27,
        "import sys\nd = sys.stdin.read()\nsys.stderr.write('e' * 300000)\nprint(len(d))\n",
        stdin=data,
    )
    assert res.last_line() == str(len(data)) and len(res.stderr) == 300000
    # A script that never reads its stdin still finishes.
    assert run.run_script(SYS, "print(1)", stdin=data).last_line() == "1"
    assert run.run_script(SYS, "import sys; print(repr(sys.stdin.read()))").last_line() == "''"


def test_timeout_kills() -> None:
    start = time.monotonic()
    with pytest.raises(run.RunError) as err:
        run.run_script(SYS, "import time; time.sleep(30)", timeout=0.5)
    assert time.monotonic() - start < 10
    assert err.value.reason == "timed out after 0.5 s"
    assert str(err.value) == f"{SYS}: timed out after 0.5 s"


def test_output_bounded() -> None:
    with pytest.raises(run.RunError, match=r"wrote more than 100000 bytes"):
        run.run_script(
            SYS,
            "import sys\nwhile True: sys.stdout.write('x' * 65536)\n",
            max_output=100_000,
            timeout=30,
        )
    with pytest.raises(run.RunError, match=r"wrote more than 100000 bytes"):
        run.run_script(
            SYS,
            "import sys\nwhile True: sys.stderr.write('x' * 65536)\n",
            max_output=100_000,
            timeout=30,
        )


def test_failures_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(run.RunError) as err:
        run.run_script(str(tmp_path / "python"), "")
    assert err.value.reason == "cannot run: No such file or directory"
    with pytest.raises(run.RunError) as err:
        run.run_script(SYS, "raise ValueError('one\\ntwo')")
    assert err.value.reason == "exited 1: two"
    assert "\n" not in str(err.value)
    res = run.run_script(SYS, "import sys; sys.exit(3)", check=False)
    assert res.returncode == 3 and res.error_tail() == "no output"
    text = tmp_path / "not-python"
    text.write_text("#!/bin/sh\necho hello\n")
    text.chmod(0o755)
    assert run.run_script(str(text), "", check=False).last_line() == "hello"


def test_no_other_interpreter_launch_in_src() -> None:
    """Every ``-c`` script run goes through run.run_script (pip's runs in share/resolve are
    commands, not scripts)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "run.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"subprocess\.(run|Popen|check_output|call)\(\s*\[[^\]]*\"-c\"", text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_callers_turn_a_failed_run_into_their_own_one_line_error(tmp_path: Path) -> None:
    """share's compile step raised FileNotFoundError (a traceback, exit 3) for an interpreter
    that is gone; every caller now says it in one line."""
    from coinstall.share.install import _import_with, compile_with
    from coinstall.share.site import ShareError, Target, query_python
    from coinstall.spec.macros import MacrosError, probe_facts

    gone = str(tmp_path / "python3.11")
    target = Target(
        id="cpython-3.11",
        python=gone,
        version=(3, 11),
        cache_tag="cpython-311",
        site_dir=str(tmp_path),
        hook=str(tmp_path / "h.pth"),
    )
    with pytest.raises(ShareError) as err:
        compile_with(target, [])
    assert str(err.value) == (
        "cpython-3.11: bytecode compilation failed: cannot run: No such file or directory"
    )
    with pytest.raises(ShareError, match=r"cannot run: No such file or directory$"):
        query_python(gone)
    cells = _import_with(target, ["json"], str(tmp_path))
    assert not cells["json"].ok
    assert cells["json"].origin == "interpreter failed: cannot run: No such file or directory"
    with pytest.raises(MacrosError, match=r"its layout \(cannot stat .*: No such"):
        probe_facts((3, 11), gone)
