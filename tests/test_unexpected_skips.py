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


def _session(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    (tmp_path / "test_it.py").write_text("import pytest\n" + body)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            *args,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


SKIPS = [
    "def test_a():\n    pytest.skip('no tool')\n",
    "def helper():\n    pytest.skip('no tool')\n\ndef test_a():\n    helper()\n    assert False\n",
    "@pytest.mark.skipif(True, reason='no tool')\ndef test_a():\n    pass\n",
    "@pytest.mark.parametrize('x', [])\ndef test_a(x):\n    pass\n",
]
#: scripts/test.sh's pytest-xdist options
XDIST = ("-n", "2", "--dist", "loadfile")


@pytest.mark.parametrize(
    "body", SKIPS, ids=["skip", "skip-in-helper", "skipif", "empty-parametrize"]
)
def test_a_skip_fails_the_session(tmp_path: Path, body: str) -> None:
    done = _session(tmp_path, "def test_ok():\n    pass\n\n" + body)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unexpected skips" in done.stdout and "test_it.py::test_a" in done.stdout


def test_xfail_and_passes_do_not(tmp_path: Path) -> None:
    done = _session(
        tmp_path,
        "def test_ok():\n    pass\n\n"
        "@pytest.mark.xfail(strict=True, reason='known')\n"
        "def test_known():\n    assert False\n",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unexpected skips" not in done.stdout


def test_a_skip_on_an_xdist_worker_fails_the_session(tmp_path: Path) -> None:
    """Under pytest-xdist the workers' skips reach the controller, which fails the session."""
    bodies = [b.replace("test_a", f"test_{c}") for b, c in zip(SKIPS, "abcd", strict=True)]
    done = _session(tmp_path, "def test_ok():\n    pass\n\n" + "\n".join(bodies), *XDIST)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unexpected skips" in done.stdout
    for c in "abcd":
        assert f"test_it.py::test_{c}" in done.stdout, done.stdout


def test_xdist_keeps_a_module_fixture_on_one_worker(tmp_path: Path) -> None:
    """Under ``--dist loadfile`` a module's tests run on one worker, so a module-scoped fixture
    (a real build, a Dask cluster) is made once, not once per worker; an xfail and passes
    pass the session.  (``--dist loadgroup`` would not do: pytest-xdist 3.8 marks a group by
    setting ``item._nodeid``, which pytest 9 no longer reads.)"""
    body = (
        "import os\nfrom pathlib import Path\n\n"
        "@pytest.fixture(scope='module')\ndef made():\n"
        "    with open(Path(__file__).with_name('made.txt'), 'a') as f:\n"
        "        f.write(f'{os.getpid()}\\n')\n\n"
        + "".join(
            f"def test_uses_{i}(made):\n    pass\n\ndef test_alone_{i}():\n    pass\n\n"
            for i in range(4)
        )
        + "@pytest.mark.xfail(strict=True, reason='known')\n"
        "def test_known():\n    assert False\n"
    )
    done = _session(tmp_path, body, *XDIST)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed, 1 xfailed" in done.stdout and "unexpected skips" not in done.stdout
    assert len((tmp_path / "made.txt").read_text().splitlines()) == 1
