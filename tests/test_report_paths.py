"""Issue 13 part 6: text and SARIF name a system package's members by their installed path
(``/usr/bin/tracer``, as rpmlint and lintian do) and an installed tree's files by their
absolute path; a wheel's members stay relative; the JSON contract keeps member paths."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import build
from coinstall.cli import main
from corpus import RPM_DIR

TRACER = RPM_DIR / "tracer-0.6.9-2.fc25.noarch.rpm"


def _check(*args: str) -> str:
    res = CliRunner().invoke(main, ["check", "--no-installed", *args])
    assert res.exit_code in (0, 1), res.output
    return res.output


def test_text_names_rpm_members_as_installed() -> None:
    out = _check(str(TRACER))
    assert "shebang-unversioned /usr/bin/tracer: " in out
    assert " usr/bin/tracer" not in out
    # the matrix's first file too
    assert "/usr/lib/python3.5/site-packages/tracer/__init__.py: " in out


def test_text_and_sarif_name_files_as_rpmlint_does() -> None:
    """rpmlint's python-bytecode-wrong-magic-value on tracer names 18 files by installed path;
    our text and SARIF name the same 18 paths, spelled the same way."""
    if shutil.which("rpmlint") is None:
        pytest.skip("rpmlint not installed")
    lint = subprocess.run(["rpmlint", str(TRACER)], capture_output=True, text=True).stdout
    theirs = set(re.findall(r"python-bytecode-wrong-magic-value (\S+)", lint))
    assert len(theirs) == 18 and all(p.startswith("/usr/lib/python3.5/") for p in theirs)
    text = _check("--select", "bytecode-magic-mismatch", str(TRACER))
    assert set(re.findall(r"bytecode-magic-mismatch (\S+):", text)) == theirs
    sarif = json.loads(
        _check("--format", "sarif", "--select", "bytecode-magic-mismatch", str(TRACER))
    )
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert uris == theirs


def test_json_keeps_member_paths() -> None:
    doc = json.loads(_check("--format", "json", str(TRACER)))
    paths = {f["path"] for f in doc["artifacts"][0]["findings"]}
    assert "usr/bin/tracer" in paths and "/usr/bin/tracer" not in paths


def test_deb_wheel_and_tree(tmp_path: Path) -> None:
    bad = "#!/usr/bin/env python\nprint(1)\n"
    deb = build.deb(tmp_path, "python3-envy", "1.0", {"usr/bin/envy": (bad, 0o755)})
    whl = build.wheel(
        tmp_path,
        "envy",
        "1.0",
        {"envy-1.0.data/scripts/envy": (bad, 0o755), "envy/__init__.py": ""},
    )
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin/envy").write_text(bad)
    (tree / "bin/envy").chmod(0o755)
    out = _check("--select", "shebang-unversioned", str(deb), str(whl), str(tree))
    assert "shebang-unversioned /usr/bin/envy: " in out
    assert "shebang-unversioned envy-1.0.data/scripts/envy: " in out
    assert f"shebang-unversioned {tree}/bin/envy: " in out
    sarif = json.loads(
        _check(
            "--format", "sarif", "--select", "shebang-unversioned", str(deb), str(whl), str(tree)
        )
    )
    uris = sorted(
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
        for loc in r["locations"]
    )
    assert uris == sorted(
        ["/usr/bin/envy", "envy-1.0.data/scripts/envy", (tree / "bin/envy").as_uri()]
    )


def test_piped_text_keeps_a_long_header_whole(tmp_path: Path) -> None:
    """A long wheel name (cryptography's manylinux wheels run past 200 columns) used to be cut
    by rich's rule with an ellipsis, losing the counts and the profile in piped output."""
    plat = "manylinux_2_17_x86_64.manylinux2014_x86_64.manylinux_2_28_x86_64" * 2
    named = build.wheel(
        tmp_path, "long_named_project", "1.0", {"lnp/__init__.py": ""}, tag=f"py3-none-{plat}"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "coinstall", "check", "--no-installed", str(named)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith(str(named)) and first.endswith("profile wheel"), first
    assert "…" not in proc.stdout
