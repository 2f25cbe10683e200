"""``coinstall macros --interpreter`` takes the /usr layout from the discovery probe's answer
(issue 21: one way to run code in a target, the probe's answers reused): the probe script
reports sysconfig's ``posix_prefix`` paths with every base ``/usr`` (Fedora macros.python3's
``%python3_sitelib``/``%python3_sitearch``), ``EXT_SUFFIX`` and ``-P``, on every real
interpreter from 2.7 on; ``macros`` starts no interpreter the probe cache already answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from coinstall.runtimes import discovery
from interpreters import EXTRA_PYTHONS, extra_python, pyenv_python

COINSTALL = str(Path(sys.executable).with_name("coinstall"))

#: Asked of each interpreter directly (the test's ground truth, not coinstall's code): what
#: Fedora's macros.python3 asks at build time.
_TRUTH = (
    "import json, sys, sysconfig\n"
    "v = {'platbase': '/usr', 'base': '/usr', 'installed_base': '/usr',"
    " 'installed_platbase': '/usr'}\n"
    "print(json.dumps([sysconfig.get_path('purelib', 'posix_prefix', vars=v),"
    " sysconfig.get_path('platlib', 'posix_prefix', vars=v),"
    " sysconfig.get_config_var('EXT_SUFFIX'), hasattr(sys.flags, 'safe_path')]))\n"
)


def _interpreters() -> list[str]:
    found = []
    for v in ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"):
        path = pyenv_python(v)
        assert path is not None, f"pyenv's {v} missing: run scripts/setup.sh"
        found.append(str(path))
    return found + [extra_python(v) for v in EXTRA_PYTHONS]


def test_the_probe_answers_the_usr_layout_on_every_real_interpreter(tmp_path: Path) -> None:
    exes = _interpreters()
    results, errors = discovery.probe(exes, cache_path=tmp_path / "probes.json")
    assert errors == []
    assert len(results) == len(exes) == 12
    for r in results:
        truth = subprocess.run(
            [r.requested, "-c", _TRUTH], capture_output=True, text=True, check=True
        )
        purelib, platlib, ext_suffix, safe_path = json.loads(truth.stdout)
        got = [r.data[k] for k in ("usr_purelib", "usr_platlib", "ext_suffix", "safe_path")]
        assert got == [purelib, platlib, ext_suffix, safe_path], r.requested
        assert purelib.startswith("/usr/lib/python"), purelib
    cache = json.loads((tmp_path / "probes.json").read_text())
    assert cache["format"] == 2  # the answer's shape changed: an old cache is not read


def _recording_python(tmp_path: Path, real: str) -> tuple[Path, Path]:
    """A ``#!/bin/sh`` interpreter that appends one line to a log at each start, then runs
    ``real``."""
    log = tmp_path / "launches.log"
    log.touch()
    exe = tmp_path / "bin" / "python3.12"
    exe.parent.mkdir()
    exe.write_text(f'#!/bin/sh\necho launch >> {log}\nexec {real} "$@"\n')
    exe.chmod(0o755)
    return exe, log


def test_macros_starts_no_interpreter_the_probe_cache_answered(tmp_path: Path) -> None:
    """``coinstall runtimes --python X`` warms the probe cache; ``coinstall macros
    --interpreter 3.12=X`` then starts nothing (before: it started X again, every time),
    and writes X's own ``/usr`` sitelib and sitearch."""
    real = pyenv_python("3.12")
    assert real is not None, "pyenv's 3.12 missing: run scripts/setup.sh"
    exe, log = _recording_python(tmp_path, str(real))
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), COINSTALL_PYTHONS="")
    runtimes = subprocess.run(
        [COINSTALL, "runtimes", "--python", str(exe), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert runtimes.returncode == 0, runtimes.stderr
    assert len(log.read_text().splitlines()) == 1  # the probe, once
    for style in ("fedora", "alt", "epel", "suse"):
        macros = [COINSTALL, "macros", "--stack", "default=3.12,other=3.11", "--style", style]
        macros += ["--interpreter", f"3.12={exe}"]
        first = subprocess.run(macros, capture_output=True, text=True, env=env)
        assert first.returncode == 0, first.stderr
        again = subprocess.run(macros, capture_output=True, text=True, env=env)
        assert again.stdout == first.stdout
        assert len(log.read_text().splitlines()) == 1, log.read_text()  # macros started none
    truth = subprocess.run([str(real), "-c", _TRUTH], capture_output=True, text=True, check=True)
    purelib, platlib, ext_suffix, _ = json.loads(truth.stdout)
    assert (
        f'["3.12"]={{py="{exe}",sitelib="{purelib}",sitearch="{platlib}",ext="{ext_suffix}"'
        in first.stdout
    )


def test_macros_names_the_probes_reason_for_an_interpreter_that_is_not_the_version(
    tmp_path: Path,
) -> None:
    """Python 2.7 given for 3.12: the probe runs on 2.7 and says which Python it is (before:
    the macros' own 3.3+ script failed with an AttributeError)."""
    py27 = pyenv_python("2.7")
    assert py27 is not None
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    py = f"3.12={py27}"
    proc = subprocess.run(
        [COINSTALL, "macros", "--stack", "default=3.12", "--style", "alt", "--interpreter", py],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stderr == f"coinstall: {py27} is Python 2.7, not 3.12\n"
