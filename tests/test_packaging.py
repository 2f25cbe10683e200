"""The package people install: `python -m build` gives an sdist and a wheel that pass
`twine check` and `check-wheel-contents`, and the wheel installed alone (no extras) into a
clean venv runs `runtimes`, `check` and `check --release`; the optional commands name the extra
they need (issue 21, items 9 and 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RPM = REPO / "tests" / "data" / "rpm" / "pyserial-2.7-6.fc25.noarch.rpm"
SPEC = REPO / "tests" / "data" / "spec"

#: a real `python -m build` and a clean venv with pip installs (README: the fast subset)
pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # as a release is built: an isolated build environment with the pinned-below backend
    proc = _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_sdist_and_wheel_pass_twine_and_check_wheel_contents(dist: Path) -> None:
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    twine = _run([str(BIN / "twine"), "check", "--strict", *map(str, wheels + sdists)])
    assert twine.returncode == 0, twine.stdout + twine.stderr
    assert twine.stdout.count("PASSED") == 2
    cwc = _run([str(BIN / "check-wheel-contents"), str(wheels[0])])
    assert cwc.returncode == 0, cwc.stdout + cwc.stderr
    assert ": OK" in cwc.stdout


def test_pipx_install_runs_the_core_commands(dist: Path, tmp_path: Path) -> None:
    """README's ``pipx install coinstall``, with the real pipx and the built wheel: pipx's own
    environment (no extras, no system site-packages, so no librpm binding) runs
    ``runtimes``, ``check``, ``check --release`` and ``macros`` from the command pipx put on
    PATH; ``spec`` and ``--scheduler`` each name the extra they need in one line.  (One
    install: this was two tests, a plain venv and pipx, each installing the same wheel.)"""
    home = tmp_path / "pipx"
    env = dict(
        os.environ,
        PIPX_HOME=str(home),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    env.pop("PYTHONPATH", None)
    wheel = next(dist.glob("*.whl"))
    inst = _run([str(BIN / "pipx"), "install", "--python", sys.executable, str(wheel)], env=env)
    assert inst.returncode == 0, inst.stdout[-2000:] + inst.stderr[-2000:]
    py = home / "venvs" / "coinstall" / "bin" / "python"
    names = set(
        _run(
            [
                str(py),
                "-c",
                "import importlib.metadata as m\nfor d in m.distributions(): print(d.name)",
            ]
        )
        .stdout.lower()
        .split()
    )
    assert "coinstall" in names and not names & {
        "dask",
        "distributed",
        "tornado",
        "specfile",
        "rpm",
    }
    assert _run([str(py), "-c", "import rpm"]).returncode == 1  # no librpm binding here

    exe = str(tmp_path / "bin" / "coinstall")
    rts = _run([exe, "runtimes", "--known"], env=env)
    assert rts.returncode == 0 and "cpython-3.12" in rts.stdout, rts.stderr
    chk = _run([exe, "check", "--no-installed", str(RPM)], env=env)
    assert chk.returncode in (0, 1) and "pyserial" in chk.stdout, chk.stderr
    wheels = sorted((REPO / ".cache" / "corpus" / "wheels").glob("*.whl"))
    rel = _run([exe, "check", "--release", "--no-installed", str(wheels[0])], env=env)
    assert rel.returncode in (0, 1) and rel.stdout and "Traceback" not in rel.stderr, rel.stderr
    assert "Traceback" not in chk.stderr
    lint = _run([exe, "spec", "lint", str(next(SPEC.rglob("*.spec")))], env=env)
    assert lint.returncode == 2
    assert "pip install 'coinstall[spec]'" in lint.stderr and "python3-rpm" in lint.stderr
    assert len(lint.stderr.strip().splitlines()) == 1

    version = _run([exe, "--version"], env=env)
    meta = _run([str(py), "-c", "import importlib.metadata as m; print(m.version('coinstall'))"])
    assert version.returncode == 0 and meta.stdout.strip() in version.stdout

    dask = _run(
        [exe, "check", "--no-installed", "--scheduler", "tcp://127.0.0.1:9", str(RPM)], env=env
    )
    assert dask.returncode == 2
    assert "pip install 'coinstall[dask]'" in dask.stderr
    assert len(dask.stderr.strip().splitlines()) == 1

    # `coinstall macros` needs no extra: its text is spec/templates/macros.j2, in the wheel
    mac = _run([exe, "macros", "--stack", "default=3.12,other=3.11", "--style", "epel"], env=env)
    assert mac.returncode == 0, mac.stderr
    assert "%python3_other_pkgversion 311\n" in mac.stdout and "Traceback" not in mac.stderr
