"""Ground truth for ``coinstall spec port --to epel`` and ``coinstall macros``: real specs
(tests/data/spec-build/: a pure library, a library with a C extension, a library with a console
script, an application) of pinned PyPI sdists, ported to EPEL with default 3.12 and other 3.11,
built by Debian's real ``rpmbuild`` with pyenv's interpreters (named in the macro file);
``coinstall check`` on the RPMs together finds no error, and each stack's real interpreter
imports the modules from the unpacked payload (``rpm2cpio | cpio``) and runs the scripts.

Built RPMs are cached in .cache/spec-build/rpms/<sha256 of spec, macros, sources> so a rerun
costs no build.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from coinstall.cli import main
from coinstall.runtimes import catalogue
from coinstall.runtimes.stack import Stack
from coinstall.spec import macros
from coinstall.spec.lint import MacroFiles, read_for
from coinstall.spec.port import port

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "data" / "spec-build"
CACHE = ROOT / ".cache" / "spec-build"
#: The pinned sdists (and the build backend wheels pip's isolated build installs offline).
SDISTS = {"six==1.16.0": "six-1.16.0.tar.gz", "MarkupSafe==2.1.5": "MarkupSafe-2.1.5.tar.gz",
          "humanfriendly==10.0": "humanfriendly-10.0.tar.gz",
          "pyflakes==3.2.0": "pyflakes-3.2.0.tar.gz"}
WHEELS = {"setuptools==75.1.0": "setuptools-75.1.0-py3-none-any.whl",
          "wheel==0.44.0": "wheel-0.44.0-py3-none-any.whl"}
STACK = Stack.parse("default=3.12,other=3.11")


def _pyenv(v: str) -> str | None:
    roots = [os.environ.get("PYENV_ROOT", ""), "/root/.pyenv"]
    for r in roots:
        found = sorted(glob.glob(f"{r}/versions/{v}.*/bin/python{v}"))
        if found:
            return found[-1]
    return None


def _fetch() -> Path:
    dl = CACHE / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    for pins, binary in ((SDISTS, False), (WHEELS, True)):
        missing = [p for p, f in pins.items() if not (dl / f).exists()]
        if missing:
            kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *kind,
                            "-d", str(dl), *missing], check=True)
    return dl


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    py312, py311 = _pyenv("3.12"), _pyenv("3.11")
    if not (py312 and py311 and shutil.which("rpmbuild")):
        pytest.skip("needs pyenv's 3.12 and 3.11 and rpmbuild")
    dl = _fetch()
    facts = macros.stack_facts(STACK, catalogue.load(), {"3.12": py312, "3.11": py311})
    mtext = macros.render(STACK, "epel", facts)
    top = tmp_path_factory.mktemp("rpmbuild")
    (top / "SOURCES").mkdir()
    (top / "SPECS").mkdir()
    mfile = top / "macros.coinstall"
    mfile.write_text(mtext)
    for f in SDISTS.values():
        shutil.copy(dl / f, top / "SOURCES" / f)
    files = MacroFiles(STACK)
    out: dict[str, list[Path]] = {}
    for spec in sorted(SPECS.glob("*.spec")):
        doc, _ = read_for(str(spec), files)
        ported = port(doc, "epel")
        assert ported.findings == [], ported.findings
        key = hashlib.sha256(ported.text.encode() + mtext.encode() + b"".join(
            (dl / f).read_bytes() for f in SDISTS.values())).hexdigest()[:24]
        cached = CACHE / "rpms" / key
        if not list(cached.glob("*.rpm")):
            target = top / "SPECS" / spec.name
            target.write_text(ported.text)
            proc = subprocess.run(
                ["nice", "rpmbuild", "-bb", "--nodeps", "--load", str(mfile),
                 "--define", f"_topdir {top}", "--define", "debug_package %{nil}",
                 "--define", f"_coinstall_wheel_opts --find-links {dl}", str(target)],
                capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr[-3000:]
            tmp = cached.with_name(key + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for line in proc.stdout.splitlines() + proc.stderr.splitlines():
                if line.startswith("Wrote: ") and line.endswith(".rpm"):
                    shutil.copy(line[len("Wrote: "):], tmp)
            shutil.rmtree(cached, ignore_errors=True)
            os.replace(tmp, cached)
        out[spec.stem] = sorted(cached.glob("*.rpm"))
    return out


def _unpack(rpm: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    data = subprocess.run(["rpm2cpio", str(rpm)], capture_output=True, check=True).stdout
    subprocess.run(["cpio", "-idm", "--quiet"], input=data, cwd=dest, check=True)


def test_ported_specs_build_a_package_per_stack(built: dict[str, list[Path]]) -> None:
    names = {k: sorted(p.name for p in v) for k, v in built.items()}
    assert names == {
        "pyflakes": ["pyflakes-3.2.0-1.noarch.rpm"],  # an application: one stack
        "python-humanfriendly": ["python311-humanfriendly-10.0-1.noarch.rpm",
                                 "python312-humanfriendly-10.0-1.noarch.rpm"],
        "python-markupsafe": ["python311-markupsafe-2.1.5-1.x86_64.rpm",
                              "python312-markupsafe-2.1.5-1.x86_64.rpm"],
        "python-six": ["python311-six-1.16.0-1.noarch.rpm", "python312-six-1.16.0-1.noarch.rpm"],
    }


def test_coinstall_check_finds_no_error_in_the_rpms_together(
        built: dict[str, list[Path]]) -> None:
    rpms = [str(p) for v in built.values() for p in v]
    res = CliRunner().invoke(main, ["check", "--no-installed", "--profile", "epel", "--stack",
                                    str(STACK), "--format", "json", *rpms])
    assert res.exit_code == 0, res.output[-2000:]
    import json

    data = json.loads(res.stdout)
    errors = [(a["path"], f) for a in data["artifacts"] for f in a["findings"]
              if f["severity"] == "error"]
    assert errors == [] and len(data["artifacts"]) == 7


def test_each_stack_imports_and_runs_the_payload(built: dict[str, list[Path]],
                                                 tmp_path: Path) -> None:
    root = tmp_path / "root"
    for v in built.values():
        for rpm in v:
            _unpack(rpm, root)
    bindir = root / "usr" / "bin"
    assert sorted(p.name for p in bindir.iterdir()) == [
        "humanfriendly", "humanfriendly-3", "humanfriendly-3.11", "humanfriendly-3.12",
        "pyflakes"]
    for ver in ("3.11", "3.12"):
        py = _pyenv(ver)
        assert py is not None
        env = dict(os.environ, PYTHONPATH=str(root / f"usr/lib/python{ver}/site-packages"),
                   PYTHONNOUSERSITE="1")
        code = ("import six, markupsafe, humanfriendly, markupsafe._speedups as s; "
                "print(s.__file__); print(markupsafe.escape('<a>'))")
        out = subprocess.run([py, "-c", code], env=env, capture_output=True, text=True,
                             check=True).stdout.split()
        assert out[0].endswith(f"_speedups.cpython-{ver.replace('.', '')}-x86_64-linux-gnu.so")
        assert out[0].startswith(str(root)) and out[1] == "&lt;a&gt;"
        # foo-3.X runs its own stack's interpreter (its shebang) with the payload's modules
        script = bindir / f"humanfriendly-{ver}"
        assert script.read_text().splitlines()[0] == f"#!{py}"
        run = subprocess.run([str(script), "--format-size=1000000"], env=env,
                             capture_output=True, text=True, check=True)
        assert run.stdout.strip() == "1 MB"
    env = dict(os.environ, PYTHONPATH=str(root / "usr/lib/python3.12/site-packages"))
    for name in ("humanfriendly", "humanfriendly-3"):  # the default stack's
        run = subprocess.run([str(bindir / name), "--format-size=2000"], env=env,
                             capture_output=True, text=True, check=True)
        assert run.stdout.strip() == "2 KB"
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    run = subprocess.run([str(bindir / "pyflakes"), str(bad)], env=env, capture_output=True,
                         text=True)
    assert run.returncode == 1 and "'os' imported but unused" in run.stdout
