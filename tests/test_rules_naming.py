"""Naming rules on the real RPM corpus and on packages built in the test."""

from __future__ import annotations

from pathlib import Path

import build
from rules_r2 import hits, rpm

MOD2 = "usr/lib/python2.7/site-packages/bar/__init__.py"
MOD312 = "usr/lib/python3.12/site-packages/bar/__init__.py"


# ---------- name-missing-implementation-prefix


def test_prefix_fires_on_unversioned_python_name() -> None:
    found = hits([rpm("python-peak-rules")], "name-missing-implementation-prefix")
    assert len(found) == 1
    assert "unversioned prefix python-: name it python2-peak-rules" in found[0][2]


def test_prefix_fires_on_pyserial_next_to_its_python3_sibling() -> None:
    # taskotron missing_prefix: the build has python3-pyserial but no python2-pyserial.
    found = hits([rpm("pyserial"), rpm("python3-pyserial")], "name-missing-implementation-prefix")
    assert [m for _, _, m in found] == [
        "pyserial ships python2 modules (/usr/lib/python2.7/site-packages/serial/__init__.py) "
        "without an implementation prefix while python3-pyserial from the same source has one: "
        "name it python2-pyserial"
    ]


def test_prefix_silent_on_applications_and_prefixed_packages() -> None:
    # pyserial alone is an application (/usr/bin/miniterm.py); tracer and yum are applications.
    assert hits([rpm("pyserial")], "name-missing-implementation-prefix") == []
    paths = [
        rpm(n)
        for n in (
            "tracer",
            "yum",
            "python2-geoip2",
            "python3-pyserial",
            "python311-pytest-xprocess",
            "python39-evtx",
            "libgccjit",
            "nodejs-semver",
            "ngircd",
        )
    ]
    assert hits(paths, "name-missing-implementation-prefix") == []


def test_prefix_fires_on_built_library_without_prefix(tmp_path: Path) -> None:
    lib = build.rpm(tmp_path, "bar", "1.0", {MOD312: "x = 1\n"}, requires=["python(abi) = 3.12"])
    found = hits([lib], "name-missing-implementation-prefix")
    assert [m for _, _, m in found] == [
        f"bar ships only python3 modules (/{MOD312}) and no executable: name it python3-bar"
    ]
    deb = build.deb(
        tmp_path, "bar", "1.0", {"usr/lib/python3/dist-packages/bar/__init__.py": "x = 1\n"}
    )
    assert len(hits([deb], "name-missing-implementation-prefix")) == 1
    good = build.deb(
        tmp_path, "python3-bar", "1.0", {"usr/lib/python3/dist-packages/bar/__init__.py": "x = 1\n"}
    )
    assert hits([good], "name-missing-implementation-prefix") == []


# ---------- python2-missing-unversioned-provide


def test_python2_provide_silent_on_geoip2() -> None:
    # python2-geoip2-2.4.0-1.fc23 provides python-geoip2.
    assert hits([rpm("python2-geoip2")], "python2-missing-unversioned-provide") == []


def test_python2_provide_fires_on_built_rpm(tmp_path: Path) -> None:
    bad = build.rpm(
        tmp_path,
        "python2-bar",
        "1.0",
        {MOD2: "x = 1\n"},
        requires=["python(abi) = 2.7"],
        release="1.fc28",
    )
    assert [m for _, _, m in hits([bad], "python2-missing-unversioned-provide")] == [
        "python2-bar does not provide python-bar"
    ]
    (tmp_path / "good").mkdir()
    good = build.rpm(
        tmp_path / "good",
        "python2-bar",
        "1.0",
        {MOD2: "x = 1\n"},
        requires=["python(abi) = 2.7"],
        provides=["python-bar = 1.0"],
        release="1.fc28",
    )
    assert hits([good], "python2-missing-unversioned-provide") == []


# ---------- name-stack-mismatch


def test_stack_mismatch_silent_on_corpus() -> None:
    paths = [
        rpm(n)
        for n in (
            "python311-pytest-xprocess",
            "python39-evtx",
            "python3-pyserial",
            "python2-geoip2",
            "tracer",
            "yum",
        )
    ]
    assert hits(paths, "name-stack-mismatch") == []


def test_stack_mismatch_fires_on_built_packages(tmp_path: Path) -> None:
    bad = build.rpm(
        tmp_path,
        "python311-bar",
        "1.0",
        {MOD312: "x = 1\n"},
        requires=["python(abi) = 3.12"],
        vendor="openSUSE",
    )
    found = hits([bad], "name-stack-mismatch")
    assert [(p, m) for _, p, m in found] == [
        (MOD312, f"python311-bar is named for python3.11 but ships /{MOD312} for python3.12")
    ]
    deb = build.deb(
        tmp_path, "python3-baz", "1.0", {"usr/lib/python2.7/dist-packages/baz.py": "x = 1\n"}
    )
    assert len(hits([deb], "name-stack-mismatch")) == 1


def test_stack_mismatch_default_stack_needs_the_stack(tmp_path: Path) -> None:
    """python3-bar ships 3.12 files: wrong only when the default stack is known to be 3.13."""
    pkg = build.rpm(
        tmp_path, "python3-bar", "1.0", {MOD312: "x = 1\n"}, requires=["python(abi) = 3.12"]
    )
    assert hits([pkg], "name-stack-mismatch") == []
    assert hits([pkg], "name-stack-mismatch", stack="3.12") == []
    found = hits([pkg], "name-stack-mismatch", stack="default=3.13,other=3.12")
    assert len(found) == 1 and "default stack 3.13" in found[0][2]
