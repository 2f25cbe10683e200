"""Parity with taskotron-python-versions on the shared RPM corpus.

taskotron cannot run here (it needs Koji, DNF repositories and Bugzilla), so its verdicts are
encoded from its own functional tests on these very fixtures (fedora-python/
taskotron-python-versions ``test/functional/``, HEAD afb8f155; /work/shared/reference/
fedora-rpm.md §1.4, tests/data/README.md) and, where no test covers a fixture, from
the check's code as §1.2 documents it.  taskotron checked a whole Koji build at once, so the
corpus is checked build by build (RPMs grouped by source RPM), as taskotron saw them.

Each taskotron check maps to the coinstall rules that report the same problem; a check
FAILED on a package exactly when one of its rules fires there.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

import build
from build import Symlink
from coinstall.artifacts import open_artifact
from corpus import RPM_DIR
from rules_r2 import exe, run

CHECK_RULES: dict[str, frozenset[str]] = {
    "two_three": frozenset({"requires-mixed-implementations"}),
    "naming_scheme": frozenset({"name-missing-implementation-prefix"}),
    "executables": frozenset({"entry-point-ownership", "entry-point-missing-versioned"}),
    "unversioned_shebangs": frozenset({"shebang-unversioned"}),
    # requires_naming_scheme (unversioned requires with a versioned provider) and
    # python_usage (/usr/bin/python, python-unversioned-command)
    "requires": frozenset({"requires-unversioned-python"}),
}

P, F = "PASSED", "FAILED"
T, A = "test", "algorithm"  # where the verdict comes from: taskotron's tests, or its code

#: package -> check -> (verdict, source)
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "libgccjit-devel": {  # test_two_three::test_package_depends_on_no_python; no binaries
        "two_three": (P, T), "naming_scheme": (P, A), "executables": (P, T),
        "unversioned_shebangs": (P, A), "requires": (P, A)},
    "nodejs-semver": {  # test_unversioned_shebangs: requires /usr/bin/env, summary {}
        "two_three": (P, A), "naming_scheme": (P, A), "executables": (P, A),
        "unversioned_shebangs": (P, T), "requires": (P, A)},
    "pyserial": {  # test_naming_scheme::test_package_is_misnamed (no python2- prefix)
        "two_three": (P, T), "naming_scheme": (F, T), "executables": (P, T),
        "unversioned_shebangs": (P, T), "requires": (P, T)},
    "python-peak-rules": {  # misnamed; requires correct (stubbed repo: unversioned only)
        "two_three": (P, T), "naming_scheme": (F, T), "executables": (P, T),
        "unversioned_shebangs": (P, A), "requires": (P, T)},
    "python2-geoip2": {
        "two_three": (P, T), "naming_scheme": (P, T), "executables": (P, T),
        "unversioned_shebangs": (P, A), "requires": (P, T)},
    "python3-pyserial": {  # executables in the py3 subpackage: miniterm-3.py, miniterm-3.5.py
        "two_three": (P, T), "naming_scheme": (P, T), "executables": (P, T),
        "unversioned_shebangs": (P, A), "requires": (P, A)},
    "tracer": {  # depends on 2 and 3; python-psutil, rpm-python misnamed; #!/usr/bin/python
        "two_three": (F, T), "naming_scheme": (P, T), "executables": (P, A),
        "unversioned_shebangs": (F, T), "requires": (F, T)},
    "yum": {  # python (python2 is available), python-iniparse, rpm-python; py2-only build
        "two_three": (P, A), "naming_scheme": (P, A), "executables": (P, A),
        "unversioned_shebangs": (F, A), "requires": (F, T)},
    # Not taskotron fixtures (openSUSE builds, ngircd): verdicts from the checks' code.
    "python311-pytest-xprocess": {
        "two_three": (P, A), "naming_scheme": (P, A), "executables": (P, A),
        "unversioned_shebangs": (P, A), "requires": (P, A)},
    "python39-evtx": {
        "two_three": (P, A), "naming_scheme": (P, A), "executables": (P, A),
        "unversioned_shebangs": (P, A), "requires": (P, A)},
    "ngircd": {
        "two_three": (P, A), "naming_scheme": (P, A), "executables": (P, A),
        "unversioned_shebangs": (P, A), "requires": (P, A)},
}


def _builds() -> list[list[Path]]:
    """The corpus grouped by source RPM: one list per Koji build."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in sorted(RPM_DIR.glob("*.rpm")):
        groups[open_artifact(str(p)).info.fields.get("sourcerpm", p.name)].append(p)
    return list(groups.values())


@pytest.fixture(scope="module")
def fired() -> dict[str, set[str]]:
    """package name -> rules that fired, checking each build together."""
    if not RPM_DIR.is_dir():
        pytest.skip(f"no RPMs in {RPM_DIR}")
    out: dict[str, set[str]] = {}
    for koji_build in _builds():
        for name, found in run(koji_build).items():
            out[name] = {r for r, _, _ in found}
    return out


def test_corpus_is_the_expected_one(fired: dict[str, set[str]]) -> None:
    assert set(fired) == set(EXPECTED)


def test_pyserial_is_one_build() -> None:
    assert sorted(p.name for b in _builds() for p in b if len(b) > 1) == [
        "pyserial-2.7-6.fc25.noarch.rpm", "python3-pyserial-2.7-6.fc25.noarch.rpm"]


@pytest.mark.parametrize(("package", "check"), [
    (pkg, chk) for pkg, checks in EXPECTED.items() for chk in checks])
def test_same_verdict_as_taskotron(fired: dict[str, set[str]], package: str, check: str) -> None:
    verdict, _source = EXPECTED[package][check]
    ours = sorted(fired[package] & CHECK_RULES[check])
    assert (F if ours else P) == verdict, (package, check, ours)


def test_every_check_fails_somewhere() -> None:
    """The table is not vacuous: each check except executables fails on some package."""
    failing = {c for checks in EXPECTED.values() for c, (v, _) in checks.items() if v == F}
    assert failing == set(CHECK_RULES) - {"executables"}


def test_executables_failed_on_a_built_build(tmp_path: Path) -> None:
    """No corpus build fails taskotron's executables check; this one does by its code
    (executables.py: Python 2 subpackages ship executables, no Python 3 subpackage does),
    and coinstall's entry-point-missing-versioned fires on the Python 3 package."""
    py2 = build.rpm(tmp_path, "python2-tool", "1.0", {
        "usr/lib/python2.7/site-packages/tool/__init__.py": "x = 1\n",
        "usr/bin/tool-2": exe("#!/usr/bin/python2\n"), "usr/bin/tool": Symlink("tool-2")},
        requires=["python(abi) = 2.7"], provides=["python-tool"], source_name="tool",
        release="1.fc28")
    py3 = build.rpm(tmp_path, "python3-tool", "1.0", {
        "usr/lib/python3.6/site-packages/tool/__init__.py": "x = 1\n"},
        requires=["python(abi) = 3.6"], source_name="tool", release="1.fc28")
    found = run([py2, py3])
    assert {r for r, _, _ in found["python3-tool"]} & CHECK_RULES["executables"] == {
        "entry-point-missing-versioned"}
    # the other checks pass on this build, in taskotron and here
    for name in ("python2-tool", "python3-tool"):
        others = set().union(*(v for k, v in CHECK_RULES.items() if k != "executables"))
        assert not {r for r, _, _ in found[name]} & others, name
