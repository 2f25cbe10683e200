"""Issue 19 item 8: a user's mistake is one usage error (exit 2), never coinstall's internal
error (exit 3), for every command that writes a file or takes a stack; ``spec lint --format
json`` gives the spec's version.  Each case runs ``coinstall`` as a separate process, as the
user met it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import build

COINSTALL = str(Path(sys.executable).with_name("coinstall"))
SPEC = Path(__file__).resolve().parent / "data" / "spec-port" / "python-trail3.spec"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COINSTALL, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whl")
    return build.wheel(out, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})


def _usage_error(p: subprocess.CompletedProcess[str], option: str, text: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "internal error" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and option in errors[0] and text in errors[0], p.stderr


def test_lint_json_gives_the_version(tmp_path: Path) -> None:
    spec = tmp_path / "python-trail3.spec"
    spec.write_text(SPEC.read_text().replace("Version:        1.0", "Version:        1.0.7"))
    p = run("spec", "lint", "--format", "json", str(spec))
    assert p.returncode == 0, p.stderr
    art = json.loads(p.stdout)["artifacts"][0]
    assert (art["name"], art["version"]) == ("python-trail3", "1.0.7-1")


def test_epel_macros_refuse_a_second_other_stack(tmp_path: Path) -> None:
    """EPEL has one %python3_other_pkgversion: other=3.10 was silently dropped."""
    p = run("macros", "--stack", "default=3.12,other=3.11,other=3.10", "--style", "epel")
    assert p.returncode == 2 and p.stdout == ""
    assert (
        p.stderr.strip().splitlines()[-1].endswith("names 2: write one macro file per other stack")
    )
    # the styles that name every version keep both
    p = run("macros", "--stack", "default=3.12,other=3.11,other=3.10", "--style", "suse")
    assert p.returncode == 0 and "%pythons python311 python310 python312" in p.stdout
    _usage_error(
        run(
            "spec",
            "port",
            "--to",
            "epel",
            "--stack",
            "default=3.12,other=3.11,other=3.10",
            str(SPEC),
        ),
        "--stack",
        "names 2",
    )


@pytest.mark.parametrize(
    "args, option, text",
    [
        (["spec", "lint", "--stack", "default=4.1", str(SPEC)], "--stack", "CPython 4.1"),
        (
            ["spec", "port", "--to", "epel", "--stack", "default=4.1", str(SPEC)],
            "--stack",
            "CPython 4.1",
        ),
        (["spec", "port", "--to", "alt", "--python", "4.1", str(SPEC)], "--python", "CPython 4.1"),
        (
            ["macros", "--stack", "default=3.12,other=3.11", "-o", "/nonexistent/dir/m"],
            "--output",
            "its directory does not exist",
        ),
    ],
)
def test_mistakes_are_usage_errors(args: list[str], option: str, text: str) -> None:
    _usage_error(run(*args), option, text)


def test_outputs_in_a_missing_directory(tmp_path: Path, wheel: Path) -> None:
    """Every -o/--output: the atomic write's FileNotFoundError reached the last guard."""
    res = tmp_path / "r.json"
    p = run("check", "--no-installed", "--format", "json", str(wheel))
    res.write_text(p.stdout)
    for args in (
        ["fix", "--output", "nodir/x.whl", str(wheel)],
        ["report", str(res), "-o", "nodir/r.txt"],
        ["plan", "add", "3.15", "--from", "3.14", "--repo", str(wheel.parent), "-o", "nodir/p.txt"],
        ["macros", "--stack", "default=3.12,other=3.11", "-o", "nodir/m"],
    ):
        _usage_error(run(*args, cwd=tmp_path), "--output", "its directory does not exist")
        assert not (tmp_path / "nodir").exists()


def test_macros_warn_about_an_interpreter_missing_here(tmp_path: Path) -> None:
    """Issue 19 item 6: the macro file names interpreters rpmbuild will run; one that does
    not exist here is a warning (the file is still written)."""
    p = run(
        "macros", "--stack", "default=3.12,other=3.11", "--style", "epel", "-o", str(tmp_path / "m")
    )
    assert p.returncode == 0 and (tmp_path / "m").exists()
    for v in ("3.12", "3.11"):
        missing = not Path(f"/usr/bin/python{v}").exists()
        said = f"/usr/bin/python{v} does not exist here" in p.stderr
        assert said == missing, p.stderr
    assert "does not exist here" in p.stderr  # this machine has no /usr/bin/python3.12
