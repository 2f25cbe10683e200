"""The first rules on real packages, and `coinstall check` end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coinstall.check import check
from coinstall.rules import all_rules
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine
from corpus import RPM_DIR

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)


def _findings(path: Path | str) -> list[tuple[str, str | None]]:
    res = check([str(path)], KNOWN, CAT)
    assert not res.errors, res.errors
    return [(f.rule, f.path) for f in res.artifacts[0].findings]


def test_rules_have_complete_data() -> None:
    names = {r.name for r in all_rules()}
    assert {"bytecode-magic-mismatch", "extension-tag-mismatch", "shebang-unversioned"} <= names
    for r in all_rules():
        assert r.summary and r.why and r.example and r.fix and r.source, r.name


def test_bytecode_magic_mismatch_fires_on_tracer() -> None:
    # tracer-0.6.9-2.fc25 ships Python 2.7 bytecode (magic 62211) in /usr/lib/python3.5/.
    found = _findings(RPM_DIR / "tracer-0.6.9-2.fc25.noarch.rpm")
    hits = [p for rule, p in found if rule == "bytecode-magic-mismatch"]
    assert "usr/lib/python3.5/site-packages/tracer/__init__.pyc" in hits
    assert all(p and p.startswith("usr/lib/python3.5/") for p in hits)


@pytest.mark.parametrize(
    "name",
    [
        "python3-pyserial-2.7-6.fc25.noarch.rpm",
        "python2-geoip2-2.4.0-1.fc23.noarch.rpm",
        "python311-pytest-xprocess-0.23.0-2.4.noarch.rpm",
        "libgccjit-devel-6.1.1-3.fc24.armv7hl.rpm",
        "nodejs-semver-5.1.1-2.fc26.noarch.rpm",
    ],
)
def test_bytecode_magic_mismatch_silent_on_clean_rpms(name: str) -> None:
    assert not [r for r, _ in _findings(RPM_DIR / name) if r == "bytecode-magic-mismatch"]


def test_shebang_unversioned() -> None:
    assert ("shebang-unversioned", "usr/bin/yum-deprecated") in _findings(
        RPM_DIR / "yum-3.4.3-512.fc26.noarch.rpm"
    )
    assert ("shebang-unversioned", "usr/bin/tracer") in _findings(
        RPM_DIR / "tracer-0.6.9-2.fc25.noarch.rpm"
    )
    # python39-evtx's scripts name python3.9: clean.
    assert not [
        r
        for r, _ in _findings(RPM_DIR / "python39-evtx-0.7.4-29.1.noarch.rpm")
        if r == "shebang-unversioned"
    ]


@pytest.mark.network
def test_shebang_unversioned_silent_on_chardet(corpus_debs: dict[str, Path]) -> None:
    found = _findings(corpus_debs["python3-chardet"])
    assert not [r for r, _ in found if r == "shebang-unversioned"]


@pytest.mark.network
def test_extension_tag_mismatch_in_an_installed_tree(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """A real cpython-311 module placed in python3.12's site-packages: 3.12 will not import it."""
    with zipfile.ZipFile(corpus_wheels["pyyaml-cp311"]) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".so"))
        data = zf.read(name)
    site12 = tmp_path / "usr/lib/python3.12/site-packages/yaml"
    site12.mkdir(parents=True)
    (site12 / Path(name).name).write_bytes(data)
    site11 = tmp_path / "usr/lib/python3.11/site-packages/yaml"
    site11.mkdir(parents=True)
    (site11 / Path(name).name).write_bytes(data)
    res = check([str(tmp_path)], KNOWN, CAT)
    hits = [f for f in res.artifacts[0].findings if f.rule == "extension-tag-mismatch"]
    assert [f.path for f in hits] == [f"usr/lib/python3.12/site-packages/yaml/{Path(name).name}"]
    assert "cpython-3.12" in hits[0].message


@pytest.mark.network
def test_wheel_verdicts(corpus_wheels: dict[str, Path]) -> None:
    res = check(
        [
            str(corpus_wheels["numpy-cp312"]),
            str(corpus_wheels["markupsafe-cp313t"]),
            str(corpus_wheels["bcrypt-abi3-aarch64"]),
        ],
        KNOWN,
        CAT,
    )
    numpy, ms, bcrypt = res.artifacts
    ext = [r for r in numpy.records if r.kind == "extension"]
    assert ext
    for r in ext:
        assert numpy.judgement.usable[r.path] == {"cpython-3.12", "cpython-3.12d"}, r.path
    speedups = next(r for r in ms.records if r.kind == "extension")
    assert ms.judgement.usable[speedups.path] == {
        "cpython-3.13t",
        "cpython-3.13td",
        "cpython-3.13t+debian",
        "cpython-3.13td+debian",
    }
    # an aarch64 wheel is judged by the aarch64 runtimes of the catalogue (issue 13), not by
    # this machine's x86_64 ones
    so = next(r for r in bcrypt.records if r.kind == "extension")
    usable = bcrypt.judgement.usable[so.path]
    assert {"cpython-3.9/manylinux_aarch64", "cpython-3.12/manylinux_aarch64"} <= usable
    assert "cpython-3.8/manylinux_aarch64" not in usable  # cp39-abi3: 3.9 symbols
    assert "cpython-3.12" not in bcrypt.judgement.reasons[so.path]
    assert all(rt.endswith("/manylinux_aarch64") for rt in usable)


@pytest.mark.network
def test_issue_command_json(corpus_wheels: dict[str, Path], corpus_debs: dict[str, Path]) -> None:
    targets = [
        str(corpus_wheels["numpy-cp312"]),
        str(corpus_debs["python3-yaml"]),
        str(RPM_DIR / "python3-pyserial-2.7-6.fc25.noarch.rpm"),
    ]
    if Path("/usr/lib/python3/dist-packages").is_dir():
        targets.append("/usr/lib/python3/dist-packages")
    proc = subprocess.run(
        [sys.executable, "-m", "coinstall", "check", "--format", "json", *targets],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema_version"] == 1 and report["errors"] == []
    ids = [r["id"] for r in report["runtimes"]]
    assert len(ids) == len(set(ids))
    assert any(r["executable"] for r in report["runtimes"])
    assert any(r["executable"] is None for r in report["runtimes"])
    for r in report["runtimes"]:
        assert set(r) >= {
            "id",
            "implementation",
            "version",
            "abiflags",
            "executable",
            "magic",
            "cache_tag",
            "extension_suffixes",
        }
    assert [a["format"] for a in report["artifacts"]] == ["wheel", "deb", "rpm", "tree"][
        : len(targets)
    ]
    for a in report["artifacts"]:
        assert set(a) >= {"path", "format", "name", "version", "files", "findings"}
        for f in a["files"]:
            # issue 18: extension modules also carry the third state, cannot_tell
            assert set(f) == {"path", "kind", "usable_by"} | (
                {"cannot_tell"} if f["kind"] == "extension" else set()
            )
            assert f["usable_by"] is None or set(f["usable_by"]) <= set(ids)
    yaml = report["artifacts"][1]
    so = next(f for f in yaml["files"] if f["kind"] == "extension")
    assert "cpython-3.12" not in so["usable_by"]
    assert any(i.startswith("cpython-3.11") for i in so["usable_by"])


def test_check_without_targets_checks_installed_site_packages() -> None:
    if not shutil.which("python3"):
        pytest.skip("no python3")
    proc = subprocess.run(
        [sys.executable, "-m", "coinstall", "check", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert len(report["artifacts"]) >= 5
    assert all(a["format"] == "tree" for a in report["artifacts"])


def test_runtimes_known_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "coinstall", "runtimes", "--known", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data = json.loads(proc.stdout)
    assert len(data) >= 60 and all(d["executable"] is None for d in data)


def test_script_verdict_follows_this_machines_interpreter() -> None:
    """For installed runtimes, #!/usr/bin/python3 means whatever /usr/bin/python3 is here."""
    from coinstall.runtimes import discovery

    installed, _ = discovery.discover()
    default = [r for r in installed if r.default]
    if not default:
        pytest.skip("no /usr/bin/python3 here")
    res = check([str(RPM_DIR / "python3-pyserial-2.7-6.fc25.noarch.rpm")], installed, CAT)
    usable = res.artifacts[0].judgement.usable["usr/bin/miniterm-3.py"]
    assert usable == {default[0].id}
