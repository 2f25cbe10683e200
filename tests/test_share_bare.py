"""``coinstall share`` for targets without pip of their own and for PyPy: venvs made
``--without-pip`` of pyenv's oldest CPython, Debian's python3.11 and Debian's pypy3, real pure
wheels from PyPI at pinned versions, the real interpreters importing the result.  (Split from
tests/test_share.py, whose module set-up -- six venvs and a shared site -- these tests do not
need: ``--dist loadfile`` runs the two files on two workers.)"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import click
import pytest

import corpus
from coinstall.share import install as share_install
from coinstall.share import site as share_site
from coinstall.share.site import SharedSite
from test_share import COINSTALL, VERSIONS, _pyenv, _run, _sys_path, _tree

pytestmark = pytest.mark.network


PYPY = "/usr/bin/pypy3"
DEBIAN_PY311 = "/usr/bin/python3.11"
#: Pins of the pure wheels the no-pip and PyPy sites take (exceptiongroup only where
#: python_version < "3.11": a marker each target's pip run evaluates itself).
BARE_CONSTRAINTS = "six==1.16.0\ntomli==2.0.1\nattrs==24.2.0\nexceptiongroup==1.2.2\n"


def _bare_venv(base: Path, name: str, python: str) -> str:
    """A venv of ``python`` made ``--without-pip``; asserts it really has no pip."""
    d = base / name
    subprocess.run([python, "-m", "venv", "--without-pip", str(d)], check=True, capture_output=True)
    py = str(d / "bin" / "python")
    no_pip = _run([py, "-m", "pip", "--version"])
    assert no_pip.returncode != 0 and "No module named pip" in no_pip.stderr
    return py


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``runtime id -> bin/python`` of pip-less venvs: pyenv's 3.8 (or the oldest found),
    Debian's python3.11 and Debian's pypy3, where present."""
    base = tmp_path_factory.mktemp("bare")
    out = {}
    oldest = next((p for v in VERSIONS if (p := _pyenv(v))), None)
    for rid, py in (("pyenv", oldest), ("debian", DEBIAN_PY311), ("pypy", PYPY)):
        if py and os.path.exists(py):
            out[rid] = _bare_venv(base, f"{rid}-venv", py)
    if len(out) < 2:
        pytest.skip("needs two of pyenv CPython, Debian's python3.11, pypy3")
    return out


@pytest.fixture(scope="module")
def bare_constraints(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("bare-cons") / "constraints.txt"
    p.write_text(BARE_CONSTRAINTS)
    return str(p)


def test_targets_without_pip_are_resolved_by_one_pip(
    tmp_path: Path, bare: dict[str, str], bare_constraints: str
) -> None:
    d = str(tmp_path / "nopip")
    share_site.init(d, list(bare.values()))
    try:
        proc = _run(
            [
                *COINSTALL,
                "share",
                "install",
                "-c",
                bare_constraints,
                "six",
                "tomli",
                "exceptiongroup; python_version < '3.11'",
                "--into",
                d,
            ]
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        state = SharedSite(d).load()
        assert {n: x.version for n, x in state.dists.items()} == {
            "six": "1.16.0",
            "tomli": "2.0.1",
            "exceptiongroup": "1.2.2",
        }
        # the marker was evaluated for each runtime by pip running under that runtime
        old = sorted(t.id for t in state.targets if t.version < (3, 11))
        assert state.dists["exceptiongroup"].needed_by == old
        assert state.dists["six"].needed_by == sorted(t.id for t in state.targets)
        # every target has its own bytecode and imports everything from the shared site
        for t in state.targets:
            assert f"__pycache__/six.{t.cache_tag}.pyc" in state.dists["six"].bytecode[t.id]
        result = share_install.verify(d)
        assert result.ok and {"six", "tomli", "exceptiongroup"} <= set(result.cells)
        assert all(c.shared for row in result.cells.values() for c in row.values())
    finally:
        share_site.uninit(d, purge=True)


def test_killed_install_leaves_nothing_in_tmp(
    tmp_path: Path, bare: dict[str, str], bare_constraints: str
) -> None:
    """Killed while pip resolves, an install leaves its pins file in the site's own work
    directory (not a ``coinstall-share-*`` directory in $TMPDIR), and the next command that
    takes the lock removes it with the rest of the debris."""
    d = str(tmp_path / "killed")
    share_site.init(d, list(bare.values()))
    site = SharedSite(d)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    marker = tmp_path / "paused"
    env = dict(
        os.environ,
        TMPDIR=str(tmpdir),
        **{share_site.PAUSE_ENV: "resolving", share_site.PAUSE_FILE_ENV: str(marker)},
    )
    proc = subprocess.Popen(
        [*COINSTALL, "share", "install", "-c", bare_constraints, "six", "--into", d],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        try:
            deadline = time.monotonic() + 300
            while not marker.exists():
                assert proc.poll() is None, "install ended before the pause point"
                assert time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        works = [n for n in os.listdir(site.meta) if n.startswith("work-")]
        assert len(works) == 1
        assert Path(site.meta, works[0], "pins.txt").is_file()
        assert not list(tmpdir.glob("coinstall-share-*"))
        proc2 = _run([*COINSTALL, "share", "verify", d], env=dict(os.environ, TMPDIR=str(tmpdir)))
        assert proc2.returncode == 0, proc2.stdout + proc2.stderr
        assert not [n for n in os.listdir(site.meta) if n.startswith("work-")]
        assert "six" not in site.load().dists
    finally:
        share_site.uninit(d, purge=True)


def test_pypy_target_shares_pure_wheels_with_its_own_bytecode(
    tmp_path: Path, bare: dict[str, str], bare_constraints: str
) -> None:
    if "pypy" not in bare:
        pytest.skip("no pypy3")
    d = str(tmp_path / "pypy")
    init = share_site.init(d, list(bare.values()))
    try:
        pp = next(t for t in init.targets if t.id.startswith("pypy-"))
        assert pp.cache_tag == "pypy39" and pp.hook.startswith(pp.site_dir + "/")
        assert os.path.realpath(d) in _sys_path(pp.python)
        # from the pinned files (no index round trip; resolution by name for PyPy is
        # test_targets_without_pip_are_resolved_by_one_pip's subject)
        wheels = [str(corpus.wheel("six")), str(corpus.wheel("attrs"))]
        res = share_install.install(d, wheels, [bare_constraints])
        assert sorted(x.name for x in res.installed) == ["attrs", "six"]
        pyc = Path(d, "__pycache__", "six.pypy39.pyc")
        assert pyc.read_bytes()[:4] == share_site.runtime_of(pp.python).magic_bytes
        # PyPy finds its pyc valid: importing with bytecode writing on rewrites nothing
        before = _tree(d)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        out = _run([pp.python, "-c", "import six, attr; print(six.__file__)"], env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == os.path.join(d, "six.py")
        assert _tree(d) == before
        result = share_install.verify(d)
        assert result.ok and result.cells["attr"][pp.id].shared
        # a stable-ABI wheel: PyPy cannot import .abi3.so, so it is refused -- for PyPy only
        rts = [share_site.runtime_of(t.python) for t in init.targets]
        why = share_install.acceptance(
            str(corpus.wheel("pynacl-abi3")), rts, SharedSite(d).load().arch
        )
        assert set(why) == {pp.id}
        assert "imports no .abi3.so" in why[pp.id]
        # a pp73 wheel serves PyPy and no CPython
        why = share_install.acceptance(
            str(corpus.wheel("numpy-pypy39")), rts, SharedSite(d).load().arch
        )
        assert set(why) == {t.id for t in init.targets} - {pp.id}
        assert all("version-specific ABI pypy39_pp73" in w for w in why.values())
    finally:
        share_site.uninit(d, purge=True)


def test_pypy_only_site_takes_a_pp73_wheel(tmp_path: Path, bare: dict[str, str]) -> None:
    """numpy's pp39-pypy39_pp73 build, installed into a site for pypy3 alone, imports and
    computes there (ground truth: the real PyPy)."""
    if "pypy" not in bare:
        pytest.skip("no pypy3")
    d = str(tmp_path / "pponly")
    share_site.init(d, [bare["pypy"]])
    try:
        res = share_install.install(d, [str(corpus.wheel("numpy-pypy39"))])
        assert not res.refused, res.refused
        assert [(x.name, x.version) for x in res.installed] == [("numpy", "1.26.4")]
        assert list(res.installed[0].bytecode) == ["pypy-3.9-pp73"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        out = _run(
            [
                bare["pypy"],
                "-c",
                "import numpy; print(numpy.__file__, int(numpy.arange(10).sum()))",
            ],
            env=env,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [os.path.join(d, "numpy", "__init__.py"), "45"]
    finally:
        share_site.uninit(d, purge=True)


def test_a_target_too_old_for_coinstalls_pip_is_one_clear_error(tmp_path: Path) -> None:
    """pip 23.2 runs under Python 3.7+: a 3.6 target gets pip's own one-line reason (exit
    2), and nothing is written into the site."""
    py36 = _pyenv("3.6")
    if not py36:
        pytest.skip("no pyenv 3.6")
    d = str(tmp_path / "old")
    share_site.init(d, [_bare_venv(tmp_path, "venv36", py36)])
    try:
        proc = _run([*COINSTALL, "share", "install", "six==1.16.0", "--into", d])
        assert proc.returncode == 2
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("coinstall share: cpython-3.6 (pip --python ")
        assert "does not support python 3.6" in last
        assert sorted(os.listdir(d)) == [share_site.STATE_DIR]
        assert not [n for n in os.listdir(SharedSite(d).meta) if n.startswith("work-")]
    finally:
        share_site.uninit(d, purge=True)


def test_runtimes_option_names_pypy_by_id() -> None:
    """``share init --runtimes`` selects PyPy by its runtime id only; the default (no option)
    is every CPython 3 found.  (Only the selection is run: no hook is written.)"""
    from coinstall.cli.share import _share_pythons
    from coinstall.runtimes import discovery

    found, _ = discovery.discover([])
    pypy = [rt for rt in found if rt.implementation == "pypy" and rt.version[0] == 3]
    if not pypy:
        pytest.skip("no PyPy 3 runtime found")
    assert _share_pythons(pypy[0].id, ()) == [pypy[0].executable]
    default = _share_pythons(None, ())
    assert default and pypy[0].executable not in default
    cpython3 = {
        rt.executable for rt in found if rt.implementation == "cpython" and rt.version[0] == 3
    }
    assert set(default) == cpython3
    # "3.9" names CPython 3.9, never PyPy's language version
    if any(rt.version_str == pypy[0].version_str for rt in found if rt.implementation == "cpython"):
        assert pypy[0].executable not in _share_pythons(pypy[0].version_str, ())
    else:
        with pytest.raises(click.BadParameter):
            _share_pythons(pypy[0].version_str, ())
