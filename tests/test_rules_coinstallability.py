"""file-conflict over artifacts checked together, with dpkg and rpm as the arbiters."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import build
from coinstall.check import check
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)
SITE = "usr/lib/python3/dist-packages/foo/"


def _conflicts(*paths: Path) -> dict[str, list[tuple[str | None, str]]]:
    res = check([str(p) for p in paths], KNOWN, CAT)
    assert not res.errors, res.errors
    return {
        Path(a.info.path).name: [
            (f.path, f.message) for f in a.findings if f.rule == "file-conflict"
        ]
        for a in res.artifacts
    }


def _dpkg_install(
    root: Path,
    debs: list[Path],
    foreign: str = "arm64",
) -> subprocess.CompletedProcess[str]:
    """Install into an empty dpkg database below ``root`` (packages without maintainer
    scripts only): dpkg itself judges the file overlaps."""
    admin = root / "var/lib/dpkg"
    if not admin.exists():
        for d in ("info", "updates"):
            (admin / d).mkdir(parents=True)
        for f in ("status", "available"):
            (admin / f).touch()
        subprocess.run(
            ["dpkg", f"--root={root}", f"--admindir={admin}", "--add-architecture", foreign],
            check=True,
        )
    out = subprocess.CompletedProcess[str]([], 0, "", "")
    for deb in debs:
        out = subprocess.run(
            [
                "dpkg",
                f"--root={root}",
                f"--admindir={admin}",
                "--force-script-chrootless",
                "--force-depends",
                "-i",
                str(deb),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            return out
    return out


def _rpm_test(root: Path, rpms: list[Path]) -> subprocess.CompletedProcess[str]:
    """``rpm -i --test`` of the RPMs together into an empty database: rpm's conflict check."""
    if not (root / "var/lib/rpm").exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["rpm", "--root", str(root), "--initdb"], check=True, capture_output=True)
    return subprocess.run(
        [
            "rpm",
            "--root",
            str(root),
            "-i",
            "--test",
            "--nodeps",
            "--ignorearch",
            "--ignoreos",
            *map(str, rpms),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


needs_dpkg = pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg missing")
needs_rpm = pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm missing")


@needs_dpkg
def test_multi_arch_same_debs_with_differing_shared_file(tmp_path: Path) -> None:
    common = {SITE + "__init__.py": "x = 1\n"}
    amd = build.deb(
        tmp_path,
        "python3-foo",
        "1.0-1",
        {**common, SITE + "_foo.abi3.so": b"\x7fELF amd64 build"},
        arch="amd64",
        multi_arch="same",
    )
    arm = build.deb(
        tmp_path,
        "python3-foo",
        "1.0-1",
        {**common, SITE + "_foo.abi3.so": b"\x7fELF arm64 build"},
        arch="arm64",
        multi_arch="same",
    )
    found = _conflicts(amd, arm)
    for name in (amd.name, arm.name):
        assert [p for p, _ in found[name]] == [SITE + "_foo.abi3.so"]  # not __init__.py
        assert "Multi-Arch: same instances must ship identical files" in found[name][0][1]
    proc = _dpkg_install(tmp_path / "root", [amd, arm])
    assert proc.returncode != 0
    assert f"trying to overwrite shared '/{SITE}_foo.abi3.so'" in proc.stdout + proc.stderr


@needs_dpkg
def test_multi_arch_same_debs_with_identical_files_are_clean(tmp_path: Path) -> None:
    files = {SITE + "__init__.py": "x = 1\n", SITE + "_foo.abi3-TRIPLET.so": b""}
    amd = build.deb(
        tmp_path,
        "python3-foo",
        "1.0-1",
        {k.replace("TRIPLET", "x86_64-linux-gnu"): v for k, v in files.items()},
        arch="amd64",
        multi_arch="same",
    )
    arm = build.deb(
        tmp_path,
        "python3-foo",
        "1.0-1",
        {k.replace("TRIPLET", "aarch64-linux-gnu"): v for k, v in files.items()},
        arch="arm64",
        multi_arch="same",
    )
    assert _conflicts(amd, arm) == {amd.name: [], arm.name: []}
    assert _dpkg_install(tmp_path / "root", [amd, arm]).returncode == 0


@needs_dpkg
def test_two_debian_packages_may_not_share_a_path(tmp_path: Path) -> None:
    a = build.deb(tmp_path, "python3-foo", "1.0-1", {"usr/bin/foo": "#!/usr/bin/python3\n"})
    b = build.deb(tmp_path, "python3-foo-ng", "1.0-1", {"usr/bin/foo": "#!/usr/bin/python3\n"})
    found = _conflicts(a, b)
    assert found[a.name] == [
        (
            "usr/bin/foo",
            "/usr/bin/foo is also in python3-foo-ng_1.0-1_all"
            ".deb: dpkg does not share a path between two packages",
        )
    ]
    proc = _dpkg_install(tmp_path / "root", [a, b])
    assert proc.returncode != 0 and "trying to overwrite '/usr/bin/foo'" in proc.stderr
    # Replaces declares the takeover: dpkg allows it, the rule stays silent.
    c = build.deb(
        tmp_path,
        "python3-foo-ng2",
        "1.0-1",
        {"usr/bin/foo": "#!/usr/bin/python3\n"},
        fields={"Replaces": "python3-foo", "Conflicts": "python3-foo"},
    )
    assert _conflicts(a, c) == {a.name: [], c.name: []}


def _installed(root: Path) -> set[str]:
    out = subprocess.run(
        [
            "dpkg-query",
            f"--admindir={root}/var/lib/dpkg",
            "-W",
            "-f=${Package} ${db:Status-Abbrev}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split()[0] for line in out.splitlines() if line.split()[1:] == ["ii"]}


@needs_dpkg
def test_debs_exclusive_through_a_virtual_package(tmp_path: Path) -> None:
    """bookworm's python3-clang-13 ... -19 all Provide, Conflict with and Replace
    python-clang-x.y and ship the same clang/ module: alternatives, never installed together
    (dpkg removes or refuses the other), so no file-conflict."""
    virtual = {
        "Provides": "python3-foo-x.y",
        "Conflicts": "python3-foo-x.y",
        "Replaces": "python3-foo-x.y",
    }
    files = {SITE + "__init__.py": "version = 13\n"}
    a = build.deb(tmp_path, "python3-foo-13", "13.0-1", files, fields=virtual)
    b = build.deb(
        tmp_path,
        "python3-foo-14",
        "14.0-1",
        {SITE + "__init__.py": "version = 14\n"},
        fields=virtual,
    )
    assert _conflicts(a, b) == {a.name: [], b.name: []}
    root = tmp_path / "root"
    _dpkg_install(root, [a, b])
    assert len(_installed(root) & {"python3-foo-13", "python3-foo-14"}) == 1
    # a package outside the virtual package's group overlaps: the rule fires, dpkg refuses
    c = build.deb(tmp_path, "python3-foo-15", "15.0-1", files)
    assert [p for p, _ in _conflicts(a, c)[c.name]] == [SITE + "__init__.py"]
    proc = _dpkg_install(tmp_path / "root2", [a, c])
    assert proc.returncode != 0 and "trying to overwrite" in proc.stderr


@needs_dpkg
def test_real_alternatives_through_a_virtual_package(
    corpus_debs: dict[str, Path], tmp_path: Path
) -> None:
    """bookworm's python3-clang-13 and -14 both ship /usr/lib/python3/dist-packages/clang/
    and Provide, Conflict with and Replace python-clang-x.y: no file-conflict (they were 22 of
    the 52 false errors of the archive run), and dpkg keeps them apart."""
    a, b = corpus_debs["python3-clang-13"], corpus_debs["python3-clang-14"]
    assert _conflicts(a, b) == {a.name: [], b.name: []}
    root = tmp_path / "root"
    _dpkg_install(root, [a, b])
    assert len(_installed(root) & {"python3-clang-13", "python3-clang-14"}) == 1


@needs_rpm
def test_two_stack_rpms_with_differing_script(tmp_path: Path) -> None:
    a = build.rpm(tmp_path, "python3.11-foo", "1.0", {"usr/bin/foo": "#!/usr/bin/python3.11\n"})
    b = build.rpm(tmp_path, "python3.12-foo", "1.0", {"usr/bin/foo": "#!/usr/bin/python3.12\n"})
    found = _conflicts(a, b)
    assert [p for p, _ in found[a.name]] == ["usr/bin/foo"]
    assert "the content differs" in found[a.name][0][1]
    proc = _rpm_test(tmp_path / "root", [a, b])
    assert "file /usr/bin/foo conflicts between attempted installs" in proc.stdout + proc.stderr
    # Identical files may be owned by two RPMs: rpm and the rule both accept them.
    c = build.rpm(tmp_path, "python3.12-bar", "1.0", {"usr/bin/foo": "#!/usr/bin/python3.11\n"})
    assert _conflicts(a, c) == {a.name: [], c.name: []}
    proc = _rpm_test(tmp_path / "root2", [a, c])
    assert proc.returncode == 0 and "conflicts" not in proc.stdout + proc.stderr


def test_two_wheels_of_different_projects(tmp_path: Path) -> None:
    a = build.wheel(
        tmp_path, "alpha", "1.0", {"common/__init__.py": "A = 1\n", "alpha/__init__.py": ""}
    )
    b = build.wheel(
        tmp_path, "beta", "1.0", {"common/__init__.py": "B = 1\n", "beta/__init__.py": ""}
    )
    found = _conflicts(a, b)
    assert [p for p, _ in found[a.name]] == ["common/__init__.py"]
    # Two builds of one project are alternatives, not co-installed.
    a2 = build.wheel(tmp_path, "alpha", "2.0", {"common/__init__.py": "A = 2\n"})
    assert _conflicts(a, a2) == {a.name: [], a2.name: []}


def test_single_artifact_is_never_a_conflict(tmp_path: Path) -> None:
    a = build.wheel(tmp_path, "alpha", "1.0", {"alpha/__init__.py": ""})
    assert _conflicts(a) == {a.name: []}


@pytest.mark.network
def test_silent_on_real_debs_checked_together(corpus_debs: dict[str, Path]) -> None:
    found = _conflicts(*corpus_debs.values())
    assert all(v == [] for v in found.values()), found


@needs_rpm
def test_silent_on_real_rpms_checked_together(corpus_rpms: list[Path], tmp_path: Path) -> None:
    """The corpus (pyserial and python3-pyserial of one source among them) installs together:
    rpm's own conflict check agrees."""
    found = _conflicts(*corpus_rpms)
    assert all(v == [] for v in found.values()), found
    proc = _rpm_test(tmp_path / "root", corpus_rpms)
    assert "conflicts" not in proc.stdout + proc.stderr
