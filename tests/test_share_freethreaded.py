"""``coinstall share`` with a free-threaded target: the real 3.13t of the test set-up beside the
real 3.13, each in a venv made by that interpreter (the hook goes into the venv, never into the
set-up's interpreters), run as a user runs it (``coinstall`` as a separate process).

A shared directory serves both: a free-threaded target never receives a GIL-only wheel
(``cp313-cp313``) nor an ``abi3`` one (PEP 703: the build does not support the stable ABI;
``abi3t`` from 3.15, PEP 803), and a ``cp313t`` wheel is refused for the GIL twin; a pure
wheel is installed for both, and both import it.  Pinned corpus wheels, given as files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import corpus
from interpreters import extra_python

COINSTALL = [str(Path(sys.executable).parent / "coinstall")]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COINSTALL, *args], capture_output=True, text=True, timeout=600)


def _files(d: Path) -> list[str]:
    return sorted(
        str(p.relative_to(d)) for p in d.rglob("*") if p.is_file() and ".coinstall" not in p.parts
    )


def test_free_threaded_target_never_gets_gil_or_abi3_wheels(tmp_path: Path) -> None:
    venvs = {}
    for v in ("3.13", "3.13t"):
        d = tmp_path / f"venv{v}"
        subprocess.run(
            [extra_python(v), "-m", "venv", "--without-pip", str(d)],
            check=True,
            capture_output=True,
        )
        venvs[v] = str(d / "bin" / "python")
    site = tmp_path / "site"
    init = _run("share", "init", str(site), "--python", venvs["3.13"], "--python", venvs["3.13t"])
    assert init.returncode == 0, init.stderr
    assert "cpython-3.13t" in init.stdout and "lib/python3.13t/site-packages" in init.stdout
    before = _files(site)

    abi3 = _run("share", "install", "--into", str(site), str(corpus.wheel("bcrypt-abi3")))
    out = " ".join(abi3.stdout.split())
    assert abi3.returncode == 1, abi3.stdout + abi3.stderr
    assert "refused bcrypt 4.2.1" in out and "cannot be used by 1 runtime(s)" in out
    assert (
        "cpython-3.13t: stable-ABI (abi3) wheel; free-threaded cpython-3.13t cannot load "
        "abi3" in out
    )
    assert "cpython-3.13:" not in out  # the GIL build can use it

    gil = _run("share", "install", "--into", str(site), str(corpus.wheel("markupsafe-cp313")))
    out = " ".join(gil.stdout.split())
    assert (
        gil.returncode == 1
        and "cpython-3.13t: built for the version-specific ABI cp313 only" in out
    ), out
    ft = _run("share", "install", "--into", str(site), str(corpus.wheel("markupsafe-cp313t")))
    out = " ".join(ft.stdout.split())
    assert ft.returncode == 1 and "cpython-3.13: " in out and "cpython-3.13t:" not in out, out
    assert _files(site) == before  # nothing of the three was installed

    pure = _run("share", "install", "--into", str(site), str(corpus.wheel("six")))
    assert pure.returncode == 0, pure.stdout + pure.stderr
    for v, py in venvs.items():
        got = subprocess.run(
            [
                py,
                "-c",
                "import six, sys; print(six.__file__, "
                "sys._is_gil_enabled() if hasattr(sys, '_is_gil_enabled') "
                "else True)",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert got.returncode == 0, (v, got.stderr)
        path, gil_on = got.stdout.split()
        assert path == os.path.join(site, "six.py")
        assert gil_on == ("False" if v == "3.13t" else "True")
    assert _run("share", "uninit", "--purge", str(site)).returncode == 0
