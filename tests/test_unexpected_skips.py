"""The session fails on a skip not allowed by ``tests/conftest.py`` (issue 19: the set-up
installs every tool and interpreter, so a skip is a broken set-up, never a pass): a separate
pytest process with this suite's conftest hooks, on a skipped test, a skip in a helper and in
an empty parametrisation, then on an xfail and a plain pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Loads the suite's conftest under another name and re-exports its hooks.
_CONFTEST = f"""
import importlib.util, sys
sys.path.insert(0, {str(TESTS)!r})
_spec = importlib.util.spec_from_file_location("suite_conftest", {str(TESTS / "conftest.py")!r})
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
pytest_runtest_logreport = _mod.pytest_runtest_logreport
pytest_terminal_summary = _mod.pytest_terminal_summary
pytest_sessionfinish = _mod.pytest_sessionfinish
"""


def _session(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    (tmp_path / "test_it.py").write_text("import pytest\n" + body)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("body", [
    "def test_a():\n    pytest.skip('no tool')\n",
    "def helper():\n    pytest.skip('no tool')\n\ndef test_a():\n    helper()\n    assert False\n",
    "@pytest.mark.skipif(True, reason='no tool')\ndef test_a():\n    pass\n",
    "@pytest.mark.parametrize('x', [])\ndef test_a(x):\n    pass\n",
], ids=["skip", "skip-in-helper", "skipif", "empty-parametrize"])
def test_a_skip_fails_the_session(tmp_path: Path, body: str) -> None:
    done = _session(tmp_path, "def test_ok():\n    pass\n\n" + body)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unexpected skips" in done.stdout and "test_it.py::test_a" in done.stdout


def test_xfail_and_passes_do_not(tmp_path: Path) -> None:
    done = _session(tmp_path, "def test_ok():\n    pass\n\n"
                    "@pytest.mark.xfail(strict=True, reason='known')\n"
                    "def test_known():\n    assert False\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unexpected skips" not in done.stdout
