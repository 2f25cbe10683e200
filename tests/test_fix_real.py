"""``coinstall fix`` on real input: the bookworm .debs of the test corpus unpacked with
``dpkg-deb -x`` into one build root, and each RPM of ``tests/data/rpm`` unpacked with
``rpm2cpio | cpio``.  After the fix, ``check`` reports none of the fixed findings, the real
interpreters run every rewritten script (through the kernel) and import every module they
imported before (and no fewer)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime
from test_fix import pyenv, run_check, run_fix

_IMPORT_ALL = r"""
import importlib, json, os, sys
site = sys.argv[1]
sys.path.insert(0, site)
ok = []
for name in sorted(os.listdir(site)):
    mod = name[:-3] if name.endswith(".py") else name
    if name.startswith(("_", ".")) or not (name.endswith(".py") or
            os.path.isfile(os.path.join(site, name, "__init__.py"))):
        continue
    try:
        importlib.import_module(mod)
        ok.append(mod)
    except BaseException:
        pass
print(json.dumps(ok))
"""


@pytest.fixture(scope="module")
def installed() -> list[Runtime]:
    found, _errors = discovery.discover()
    return found


def _importable(exe: str, site: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [exe, "-s", "-c", _IMPORT_ALL, str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1])) if done.stdout else []


def test_bookworm_build_root(
    tmp_path: Path, corpus_debs: dict[str, Path], installed: list[Runtime]
) -> None:
    root = tmp_path / "root"
    for deb in corpus_debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    # a small built problem no real bookworm package shows: an untagged copy of PyYAML's
    # extension (dh_python3 would have tagged it)
    yaml = root / "usr/lib/python3/dist-packages/yaml"
    (yaml / "_yaml.cpython-311-x86_64-linux-gnu.so").rename(yaml / "_yaml.so")
    site = root / "usr/lib/python3/dist-packages"
    pythons = [p for p in ("/usr/bin/python3.11", pyenv("3.11")) if p and os.path.exists(p)]
    before = {p: _importable(p, site) for p in pythons}
    result = run_fix(root, installed, stack="default=3.11", profile="debian")
    assert {f.rule for f in result.fixed} >= {
        "shebang-env",
        "shebang-implementation-mismatch",
        "extension-untagged",
    }
    after_check = run_check(root, installed, stack="default=3.11", profile="debian")
    assert not set(after_check) & set(result.fixed)
    # what is left is what no safe fix exists for: abi3 names Debian's 3.11 would not import
    assert {x.finding.rule for x in result.left if "no safe automatic repair" not in x.reason} <= {
        "stable-abi-missing-multiarch"
    }
    for p in pythons:
        after = _importable(p, site)
        assert set(after) >= set(before[p]), (p, set(before[p]) - set(after))
    # every rewritten script starts its interpreter through the kernel
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    scripts = [e.path for e in result.edits if e.op == "write" and e.note.startswith("#!")]
    assert scripts
    for path in scripts:
        script = root / path
        first = script.read_text(errors="replace").splitlines()[0]
        interp = first[2:].split()[0]
        if not os.path.exists(interp):
            continue
        done = subprocess.run(
            [str(script), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        assert done.returncode not in (126, 127), (path, done.stderr)
        assert "Unknown option" not in done.stderr and "bad interpreter" not in done.stderr


RPMS = Path(__file__).resolve().parent / "data" / "rpm"


@pytest.mark.skipif(not shutil.which("rpm2cpio"), reason="no rpm2cpio")
@pytest.mark.parametrize("rpm", sorted(p.name for p in RPMS.glob("*.rpm")))
def test_rpm_payloads(rpm: str, tmp_path: Path, installed: list[Runtime]) -> None:
    root = tmp_path / "root"
    root.mkdir()
    payload = subprocess.run(["rpm2cpio", str(RPMS / rpm)], capture_output=True, check=True).stdout
    subprocess.run(
        ["cpio", "-idm", "--quiet"], input=payload, cwd=root, check=True, capture_output=True
    )
    profile = (
        "opensuse" if rpm.startswith(("python3", "python2")) and rpm[7:8].isdigit() else "fedora"
    )
    if rpm.startswith(("python311-", "python39-")):
        profile = "opensuse"
    stack = "default=3.11,other=3.9,other=3.5"
    before = run_check(root, installed, stack=stack, profile=profile)
    result = run_fix(root, installed, stack=stack, profile=profile)
    after = run_check(root, installed, stack=stack, profile=profile)
    assert not set(after) & set(result.fixed)
    assert len(after) == len(before) - len(result.fixed) or result.fixed == []
    for x in result.left:  # every finding left says why
        assert x.reason
    if rpm.startswith("tracer-"):
        # Python 2 bytecode beside the sources in /usr/lib/python3.5: removed (3.5 never
        # reads a legacy pyc with its source beside it, PEP 3147); the unversioned shebang of a
        # package with Python 2 modules is left
        assert any(f.rule == "bytecode-magic-mismatch" for f in result.fixed)
        assert not list((root / "usr/lib/python3.5").rglob("*.pyc")) or all(
            "__pycache__" in str(p) for p in (root / "usr/lib/python3.5").rglob("*.pyc")
        )
        assert any(x.finding.rule == "shebang-unversioned" for x in result.left)
