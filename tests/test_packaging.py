"""The package people install: `python -m build` gives an sdist and a wheel that pass
`twine check` and `check-wheel-contents`, and the wheel installed alone (no extras) into a
clean venv runs `runtimes`, `check` and `check --release`; the optional commands name the extra
they need (issue 21, items 9 and 10)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
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


def test_plain_install_runs_the_core_commands(dist: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # without ensurepip's copy of pip (unpacked and byte-compiled into every venv, most of a
    # venv's cost): this run's pip, the same pip 23.2.1 that 3.11's ensurepip bundles, acts
    # on the venv through pip's own --python option (pip >= 22.3)
    venv.create(env_dir, with_pip=False, system_site_packages=False)
    py = env_dir / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(py), "--disable-pip-version-check"]
    wheel = next(dist.glob("*.whl"))
    # the pip index of this machine's configuration (PyPI); the wheel without extras
    inst = _run([*pip, "install", "-q", str(wheel)])
    assert inst.returncode == 0, inst.stderr[-3000:]
    listed = _run([*pip, "list", "--format", "freeze"]).stdout.lower()
    assert "coinstall==" in listed, listed
    names = {ln.split("==")[0] for ln in listed.split()}
    # the optional backends stay out of a plain install
    assert not names & {"dask", "distributed", "tornado", "specfile", "rpm"}, names
    exe = str(env_dir / "bin" / "coinstall")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)

    version = _run([exe, "--version"], env=env)
    meta = _run([str(py), "-c", "import importlib.metadata as m; print(m.version('coinstall'))"])
    assert version.returncode == 0 and meta.stdout.strip() in version.stdout

    rts = _run([exe, "runtimes", "--known"], env=env)
    assert rts.returncode == 0 and "cpython-3.12" in rts.stdout, rts.stderr

    chk = _run([exe, "check", "--no-installed", str(RPM)], env=env)
    assert chk.returncode in (0, 1) and "pyserial" in chk.stdout, chk.stderr
    assert "Traceback" not in chk.stderr

    wheels = sorted((REPO / ".cache" / "corpus" / "wheels").glob("*.whl"))
    assert wheels, "the set-up downloads the corpus wheels"
    rel = _run([exe, "check", "--release", "--no-installed", str(wheels[0])], env=env)
    assert rel.returncode in (0, 1) and "Traceback" not in rel.stderr, rel.stderr

    spec = next(SPEC.rglob("*.spec"))
    lint = _run([exe, "spec", "lint", str(spec)], env=env)
    assert lint.returncode == 2
    assert "pip install 'coinstall[spec]'" in lint.stderr and "python3-rpm" in lint.stderr
    assert len(lint.stderr.strip().splitlines()) == 1

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
