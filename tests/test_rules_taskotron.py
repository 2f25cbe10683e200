"""Parity with taskotron-python-versions on the shared RPM corpus.

taskotron cannot run here (it needs Koji, DNF repositories and Bugzilla), so its verdicts are
encoded from its own functional tests on these very fixtures (fedora-python/
taskotron-python-versions ``test/functional/``, HEAD afb8f155; /work/shared/reference/
fedora-rpm.md §1.4, tests/data/README.md) and, where no test covers a fixture, from the
check's code as §1.2 documents it.  Each verdict names its source: 22 of the 55 are read from
a taskotron test on the fixture (the test id ends ``taskotron-test``), 33 are inferred
(``inferred``; most of them PASSED, i.e. coinstall's silence, which is a weaker claim).
taskotron checked a whole Koji build at once, so the corpus is checked build by build (RPMs
grouped by source RPM), as taskotron saw them.

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
#: Verdict sources.  A taskotron functional test (``test/functional/<file>::<test>`` at HEAD
#: afb8f155) that asserts, on this very fixture, the value the check's verdict is computed
#: from (two_three's version set, naming_scheme's misnamed/correct, have_binaries False,
#: check_requires_naming_scheme's result, get_scripts_summary): the verdict is *read from
#: taskotron's own tests*.  ``INFERRED``: no taskotron test covers the pair; the verdict is
#: the authors' reading of the check's code (fedora-rpm.md §1.2) — for executables on
#: pyserial and python3-pyserial the tests assert get_binaries per package, but the verdict
#: (comparing a build's Python 2 and Python 3 programs) is computed by code no test runs.
INFERRED = "inferred from the check's code"
TT_2ONLY = "test_two_three.py::test_package_depends_on_2_only"
TT_3ONLY = "test_two_three.py::test_package_depends_on_3_only"
TT_BOTH = "test_two_three.py::test_package_depends_on_2_and_3"
TT_NONE = "test_two_three.py::test_package_depends_on_no_python"
NS_BAD = "test_naming_scheme.py::test_package_is_misnamed"
NS_OK = "test_naming_scheme.py::test_package_is_named_correctly"
EX_NONE = "test_executables.py::test_does_not_have_binaries"
RQ_OK = "test_requires.py::test_package_requires_are_correct"
RQ_BAD = "test_requires.py::test_package_requires_are_misnamed"
US_SUM = "test_unversioned_shebangs.py::test_get_scripts_summary"
X = INFERRED

#: package -> check -> (verdict, source)
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "libgccjit-devel": {  # no Python, no binaries
        "two_three": (P, TT_NONE),
        "naming_scheme": (P, X),
        "executables": (P, EX_NONE),
        "unversioned_shebangs": (P, X),
        "requires": (P, X),
    },
    "nodejs-semver": {  # requires /usr/bin/env, summary {} (issue #31 regression test)
        "two_three": (P, X),
        "naming_scheme": (P, X),
        "executables": (P, X),
        "unversioned_shebangs": (P, US_SUM),
        "requires": (P, X),
    },
    "pyserial": {  # no python2- prefix
        "two_three": (P, TT_2ONLY),
        "naming_scheme": (F, NS_BAD),
        "executables": (P, X),
        "unversioned_shebangs": (P, US_SUM),
        "requires": (P, RQ_OK),
    },
    "python-peak-rules": {  # misnamed; requires correct (stubbed repo: unversioned only)
        "two_three": (P, TT_2ONLY),
        "naming_scheme": (F, NS_BAD),
        "executables": (P, EX_NONE),
        "unversioned_shebangs": (P, X),
        "requires": (P, RQ_OK),
    },
    "python2-geoip2": {
        "two_three": (P, TT_2ONLY),
        "naming_scheme": (P, NS_OK),
        "executables": (P, EX_NONE),
        "unversioned_shebangs": (P, X),
        "requires": (P, RQ_OK),
    },
    "python3-pyserial": {  # executables in the py3 subpackage: miniterm-3.py, miniterm-3.5.py
        "two_three": (P, TT_3ONLY),
        "naming_scheme": (P, NS_OK),
        "executables": (P, X),
        "unversioned_shebangs": (P, X),
        "requires": (P, X),
    },
    "tracer": {  # depends on 2 and 3; python-psutil, rpm-python misnamed; #!/usr/bin/python
        "two_three": (F, TT_BOTH),
        "naming_scheme": (P, NS_OK),
        "executables": (P, X),
        "unversioned_shebangs": (F, US_SUM),
        "requires": (F, RQ_BAD),
    },
    "yum": {  # python (python2 is available), python-iniparse, rpm-python; py2-only build
        "two_three": (P, X),
        "naming_scheme": (P, X),
        "executables": (P, X),
        "unversioned_shebangs": (F, X),
        "requires": (F, RQ_BAD),
    },
    # Not taskotron fixtures (openSUSE builds, ngircd): verdicts from the checks' code.
    "python311-pytest-xprocess": {
        "two_three": (P, X),
        "naming_scheme": (P, X),
        "executables": (P, X),
        "unversioned_shebangs": (P, X),
        "requires": (P, X),
    },
    "python39-evtx": {
        "two_three": (P, X),
        "naming_scheme": (P, X),
        "executables": (P, X),
        "unversioned_shebangs": (P, X),
        "requires": (P, X),
    },
    "ngircd": {
        "two_three": (P, X),
        "naming_scheme": (P, X),
        "executables": (P, X),
        "unversioned_shebangs": (P, X),
        "requires": (P, X),
    },
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
        "pyserial-2.7-6.fc25.noarch.rpm",
        "python3-pyserial-2.7-6.fc25.noarch.rpm",
    ]


def _case_id(package: str, check: str) -> str:
    src = EXPECTED[package][check][1]
    return f"{package}-{check}-{'inferred' if src == INFERRED else 'taskotron-test'}"


_CASES = [(pkg, chk) for pkg, checks in EXPECTED.items() for chk in checks]


@pytest.mark.parametrize(("package", "check"), _CASES, ids=[_case_id(*c) for c in _CASES])
def test_same_verdict_as_taskotron(fired: dict[str, set[str]], package: str, check: str) -> None:
    """One case per (package, check); the test id says whether the verdict is read from a
    taskotron functional test on that fixture (``taskotron-test``) or inferred."""
    verdict, _source = EXPECTED[package][check]
    ours = sorted(fired[package] & CHECK_RULES[check])
    assert (F if ours else P) == verdict, (package, check, ours)


def test_executables_failed_on_a_built_build(tmp_path: Path) -> None:
    """No corpus build fails taskotron's executables check; this one does by its code
    (executables.py: Python 2 subpackages ship executables, no Python 3 subpackage does),
    and coinstall's entry-point-missing-versioned fires on the Python 3 package."""
    py2 = build.rpm(
        tmp_path,
        "python2-tool",
        "1.0",
        {
            "usr/lib/python2.7/site-packages/tool/__init__.py": "x = 1\n",
            "usr/bin/tool-2": exe("#!/usr/bin/python2\n"),
            "usr/bin/tool": Symlink("tool-2"),
        },
        requires=["python(abi) = 2.7"],
        provides=["python-tool"],
        source_name="tool",
        release="1.fc28",
    )
    py3 = build.rpm(
        tmp_path,
        "python3-tool",
        "1.0",
        {"usr/lib/python3.6/site-packages/tool/__init__.py": "x = 1\n"},
        requires=["python(abi) = 3.6"],
        source_name="tool",
        release="1.fc28",
    )
    found = run([py2, py3])
    assert {r for r, _, _ in found["python3-tool"]} & CHECK_RULES["executables"] == {
        "entry-point-missing-versioned"
    }
    # the other checks pass on this build, in taskotron and here
    for name in ("python2-tool", "python3-tool"):
        others = set().union(*(v for k, v in CHECK_RULES.items() if k != "executables"))
        assert not {r for r, _, _ in found[name]} & others, name
