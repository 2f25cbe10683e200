"""``shebang-build-path``: a script whose shebang (or an RPM whose Requires) names the build
machine's interpreter — here a venv under /tmp, as ``macros --interpreter 3.11=/tmp/.../venv/
bin/python3.11`` produces.  A real RPM (rpmbuild; its Requires made by rpm's own script.req
from the script, as rpmbuild's generator does), a build root and a wheel; ``coinstall check``
and ``coinstall fix`` run as separate processes; the fixed script is executed and runs under
the system's /usr/bin/python3.11."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build

BIN = Path(sys.executable).parent
VENV_PY = "/tmp/coinstall-build-1234/venv/bin/python3.11"  # no such file on any user's machine
SCRIPT = f"#!{VENV_PY}\nimport sys\nprint('ran by', sys.executable)\n"
SITE = "usr/lib/python3.11/site-packages"


def _coinstall(*args: str, ok: tuple[int, ...]) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [str(BIN / "coinstall"), *args], capture_output=True, text=True, timeout=300
    )
    assert res.returncode in ok, (res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    return res


def _findings(path: Path) -> list[tuple[str | None, str]]:
    res = _coinstall("check", "--no-installed", "--format", "json", str(path), ok=(0, 1))
    (art,) = json.loads(res.stdout)["artifacts"]
    return [(f["path"], f["message"]) for f in art["findings"] if f["rule"] == "shebang-build-path"]


def _files(script: str) -> build.FileSpec:
    return {
        "usr/bin/foo": (script, 0o755),
        f"{SITE}/foo/__init__.py": "",
        f"{SITE}/foo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n",
    }


def test_rpm_script_and_requires(tmp_path: Path) -> None:
    stage = tmp_path / "stage" / "usr" / "bin"
    stage.mkdir(parents=True)
    (stage / "foo").write_text(SCRIPT)
    (stage / "foo").chmod(0o755)
    generated = subprocess.run(
        ["/usr/lib/rpm/script.req"],
        input=f"{stage / 'foo'}\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert generated == [VENV_PY]  # rpm's generator turns the shebang into a Requires
    rpm = build.rpm(
        tmp_path,
        "python3.11-foo",
        "1.0",
        _files(SCRIPT),
        arch="noarch",
        requires=[*generated, "python(abi) = 3.11"],
    )
    found = _findings(rpm)
    assert (
        "usr/bin/foo",
        f"#!{VENV_PY} runs the build machine's interpreter (under /tmp/); "
        "no distribution installs Python there",
    ) in found
    assert (
        None,
        f"Requires: {VENV_PY} (under /tmp/): no distribution installs it, the "
        "package cannot be installed",
    ) in found
    assert len(found) == 2
    # the same package with the system interpreter: nothing
    good = build.rpm(
        tmp_path / "good",
        "python3.11-foo",
        "1.0",
        _files("#!/usr/bin/python3.11\nprint(1)\n"),
        arch="noarch",
        requires=["/usr/bin/python3.11", "python(abi) = 3.11"],
    )
    assert _findings(good) == []


def test_fix_build_root_then_run(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for rel, value in _files(SCRIPT).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data, mode = value if isinstance(value, tuple) else (value, 0o644)
        p.write_text(str(data))
        p.chmod(mode)
    foo = root / "usr" / "bin" / "foo"
    with pytest.raises(FileNotFoundError):  # execve: the venv's interpreter is not there
        subprocess.run([str(foo)], capture_output=True)
    assert [p for p, _ in _findings(root)] == ["usr/bin/foo"]
    res = _coinstall("fix", "--select", "shebang-build-path", str(root), ok=(0,))
    assert f"{VENV_PY} -> #!/usr/bin/python3.11" in res.stdout
    assert foo.read_text().splitlines()[0] == "#!/usr/bin/python3.11"
    ran = subprocess.run([str(foo)], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "ran by /usr/bin/python3.11"
    assert _findings(root) == []


def test_fix_wheel_script(tmp_path: Path) -> None:
    whl = build.wheel(
        tmp_path, "foo", "1.0", {"foo/__init__.py": "", "foo-1.0.data/scripts/foo": (SCRIPT, 0o755)}
    )
    assert [p for p, _ in _findings(whl)] == ["foo-1.0.data/scripts/foo"]
    out = tmp_path / "fixed"
    out.mkdir()
    _coinstall("fix", "--select", "shebang-build-path", "--output", str(out), str(whl), ok=(0,))
    (fixed,) = out.iterdir()
    with zipfile.ZipFile(fixed) as z:
        assert z.read("foo-1.0.data/scripts/foo").startswith(b"#!python\n")
    assert _findings(fixed) == []
    # installed by the real installer (python -m installer writes its own interpreter into
    # #!python), the script runs under the installing interpreter
    dest = tmp_path / "inst"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "installer",
            "--destdir",
            str(dest),
            "--prefix",
            "/usr",
            "--no-compile-bytecode",
            str(fixed),
        ],
        check=True,
        capture_output=True,
    )
    script = dest / "usr" / "bin" / "foo"
    assert script.read_text().splitlines()[0] == f"#!{sys.executable}"
    ran = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == f"ran by {sys.executable}"


def test_a_virtual_environment_is_not_a_package(tmp_path: Path) -> None:
    """A venv's scripts name the environment's own python (under /tmp here): that is what its
    installer writes (PEP 405, PEP 427), not a build machine's interpreter leaking into a
    package.  On 92a51ab ``check`` called every one an error and ``fix`` rewrote them to
    /usr/bin/python3.X, which would run pip outside the environment.  Only an interpreter that
    is gone is reported, and fix leaves the scripts to a reinstall."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    scripts = sorted(p.name for p in (venv / "bin").iterdir() if p.name.startswith("pip"))
    assert scripts, "ensurepip installs pip's scripts"
    pip = venv / "bin" / scripts[0]
    first = pip.read_text().splitlines()[0]
    assert first.startswith(f"#!{venv}/bin/python")
    assert _findings(venv) == []
    _coinstall("fix", str(venv), ok=(0, 1))
    assert pip.read_text().splitlines()[0] == first
    ran = subprocess.run([str(pip), "--version"], capture_output=True, text=True, check=True)
    assert str(venv) in ran.stdout  # pip still runs inside the environment
    # an interpreter that is gone (the environment moved): reported, and left by fix
    gone = f"#!{tmp_path}/moved/bin/python3"
    pip.write_text(pip.read_text().replace(first, gone, 1))
    assert _findings(venv) == [
        (
            f"bin/{scripts[0]}",
            f"{gone}: no such interpreter on this machine (under /tmp/): the script fails "
            "with 'bad interpreter'",
        )
    ]
    res = _coinstall(
        "fix", "--select", "shebang-build-path", "--format", "json", str(venv), ok=(1,)
    )
    assert "reinstall with the interpreter that should run it" in res.stdout
    assert pip.read_text().splitlines()[0] == gone
