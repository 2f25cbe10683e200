"""Real Fedora rawhide specs that use what Debian 12's librpm 4.18 lacks (tests/data/spec-newer):
rpm 4.20's declarative builds, Fedora's forge macros, rpm 4.19's string macros; and the one-line
errors of what coinstall cannot read (a shell expansion, a section header specfile cannot split).
Run as users run it: ``coinstall spec lint`` / ``spec port`` as separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coinstall.runtimes.stack import Stack
from coinstall.spec.lint import MacroFiles, read_for

DATA = Path(__file__).resolve().parent / "data" / "spec-newer"
COINSTALL = str(Path(sys.executable).with_name("coinstall"))
READABLE = [
    "python-nose2",
    "python-sphinx-theme-builder",
    "python-executing",
    "python-sly",
    "python-django-storages",
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COINSTALL, *args], capture_output=True, text=True, timeout=300)


def test_newer_rpm_specs_are_read_and_lint_without_false_errors() -> None:
    """On c80075f all five were unreadable or wrong: "Unknown tag: BuildSystem" (nose2,
    sphinx-theme-builder, whose BuildOption sits in %{!?with_bootstrap:...}), "Unknown tag:
    %forgemeta" (executing), "Tag takes single token only" for %{sub ...} in Release (sly),
    and 11 spec-mixed-stacks errors on django-storages' generated extras subpackages
    (python3-django-storages+azure requiring python3.12dist(...): the main stack's own)."""
    proc = _run("spec", "lint", "--format", "json", *(str(DATA / f"{n}.spec") for n in READABLE))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["errors"] == [] and len(out["artifacts"]) == len(READABLE)
    findings = [f for a in out["artifacts"] for f in a["findings"]]
    assert not [f for f in findings if f["severity"] == "error"], findings
    assert not [f for f in findings if f["rule"] == "spec-mixed-stacks"]
    sly = next(a for a in out["artifacts"] if a["name"] == "python-sly")
    # specfile's sanitizer turns the shortcommit shell idiom into rpm 4.19's %{sub}
    assert sly["version"] == "0.4-0.44.f8fcbb0"


def test_rpm_419_string_macros_mean_what_rpm_says() -> None:
    """The stand-ins for rpm 4.19's string macros (coinstall.spec.compat), expanded in the
    parse worker's librpm 4.18 with python-sly's own %{sub} use: 1-based inclusive like
    Lua's string.sub."""
    files = MacroFiles(Stack.parse("default=3.12,other=3.11"))
    doc, _ = read_for(str(DATA / "python-sly.spec"), files)
    assert doc.expand("%{sub abcdefgh 2 4}") == "bcd"
    assert doc.expand("%{len:abcde}") == "5"
    assert doc.expand("%{upper:abc}") == "ABC"
    assert doc.expand("%{lower:ABC}") == "abc"
    assert doc.expand("%{reverse:abc}") == "cba"
    assert doc.expand("%{rep ab 3}") == "ababab"


def test_declarative_build_is_left_to_the_packager_where_the_target_lacks_it() -> None:
    spec = str(DATA / "python-nose2.spec")
    epel = _run("spec", "port", "--to", "epel", spec)
    assert epel.returncode == 0, epel.stderr
    manual = [ln for ln in epel.stderr.splitlines() if "spec-port-manual" in ln]
    assert any("BuildSystem" in ln and "EPEL" in ln for ln in manual)
    assert sum("declarative build" in ln for ln in manual) == 3  # BuildSystem + 2 BuildOption
    suse = _run("spec", "port", "--to", "suse", spec)
    assert suse.returncode == 0, suse.stderr
    manual = [ln for ln in suse.stderr.splitlines() if "spec-port-manual" in ln]
    # openSUSE's python-rpm-macros have %buildsystem_pyproject_*: only Fedora's options go
    assert not any("BuildSystem:" in ln for ln in manual)
    assert sum("BuildOption(" in ln and "060-buildsystem" in ln for ln in manual) == 2
    assert "BuildSystem:    pyproject" in suse.stdout


def test_what_cannot_be_read_is_one_plain_line() -> None:
    mako = _run("spec", "lint", str(DATA / "python-pyramid-mako.spec"))
    assert mako.returncode == 2
    err = [ln for ln in mako.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "shell expansion %(c=" in err[0] and "does not run" in err[0]
    assert "Cannot allocate memory" not in mako.stderr
    rope = _run("spec", "lint", str(DATA / "python-rope.spec"))
    assert rope.returncode == 2
    err = [ln for ln in rope.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "%{expand:" in err[0] and not err[0].endswith(": ")
