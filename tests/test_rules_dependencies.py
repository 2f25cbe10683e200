"""Relation classification and the dependency rules, on the RPM corpus, a real .deb and
packages built in the test."""

from __future__ import annotations

from pathlib import Path

import pytest

import build
from coinstall.artifacts import open_artifact
from coinstall.relations import classify_name, relations
from rules_r2 import hits, rpm, run

MOD312 = "usr/lib/python3.12/site-packages/bar/__init__.py"


@pytest.mark.parametrize(
    ("name", "op", "ver", "flavor", "label", "kind"),
    [
        ("python(abi)", "=", "3.5", "rpm", "python3.5", "abi"),
        ("python(abi)", "=", "2.7", "rpm", "python2.7", "abi"),
        ("/usr/bin/python3", None, None, "rpm", "python3", "interpreter"),
        ("/usr/bin/python3.11", None, None, "rpm", "python3.11", "interpreter"),
        ("/usr/bin/python", None, None, "rpm", "python", "interpreter"),
        ("python3.11dist(foo)", ">=", "1", "rpm", "python3.11", "dist"),
        ("python3dist(foo)", None, None, "rpm", "python3", "dist"),
        ("pythonegg(3)(foo)", None, None, "rpm", "python3", "dist"),
        ("python3-foo", ">=", "1", "rpm", "python3", "module"),
        ("python3-foo(x86-64)", None, None, "rpm", "python3", "module"),
        ("python3.11-foo", None, None, "rpm", "python3.11", "module"),
        ("python311-foo", None, None, "rpm", "python3.11", "module"),
        ("python39-evtx", None, None, "rpm", "python3.9", "module"),
        ("python2-geoip2", None, None, "rpm", "python2", "module"),
        ("pypy3-foo", None, None, "rpm", "pypy3", "module"),
        ("python-foo", None, None, "rpm", "python", "module"),
        ("python", ">=", "2.4", "rpm", "python", "interpreter"),
        ("python311", None, None, "rpm", "python3.11", "interpreter"),
        ("python3.11-libs", None, None, "rpm", "python3.11", "runtime"),
        ("libpython3.11.so.1.0()(64bit)", None, None, "rpm", "python3.11", "runtime"),
        ("system-python", None, None, "rpm", "python3", "interpreter"),
        ("python3", "<<", "3.12", "deb", "python3", "interpreter"),
        ("python3-minimal", None, None, "deb", "python3", "runtime"),
        ("python3.11", None, None, "deb", "python3.11", "interpreter"),
        ("python-foo", None, None, "deb", "python2", "module"),
        ("python", None, None, "deb", "python2", "interpreter"),
        ("python-is-python3", None, None, "deb", "python3", "interpreter"),
    ],
)
def test_classify_name(
    name: str, op: str | None, ver: str | None, flavor: str, label: str, kind: str
) -> None:
    t = classify_name(name, op, ver, flavor)
    assert t is not None
    assert (t.label, t.kind) == (label, kind)


@pytest.mark.parametrize(
    "name",
    [
        "python-rpm-macros",
        "python-srpm-macros",
        "python-pip-wheel",
        "python-sphinx-doc",
        "ngircd",
        "pythonfoo",
        "/usr/bin/env",
        "nodejs(engine)",
        "rpmlib(PayloadIsXz)",
    ],
)
def test_classify_not_python(name: str) -> None:
    assert classify_name(name) is None


def test_relations_of_a_real_deb(corpus_debs: dict[str, Path]) -> None:
    """python3-chardet (bookworm): Depends: python3-pkg-resources, python3:any."""
    rel = relations(open_artifact(str(corpus_debs["python3-chardet"])).info)
    labels = {t.label for t, _ in rel.required_targets()}
    assert labels == {"python3"}
    assert rel.name is not None and rel.name.prefix == "python3-"


def test_debian_common_packages_are_not_python2(corpus_debs: dict[str, Path]) -> None:
    """python3-apt (bookworm) depends on python-apt-common, a data package: no mixing."""
    deb = corpus_debs["python3-apt"]
    rel = relations(open_artifact(str(deb)).info)
    assert any(r.name == "python-apt-common" and r.target is None for g in rel.requires for r in g)
    assert hits([deb], "requires-mixed-implementations") == []


def test_relations_parsed_once_per_artifact() -> None:
    info = open_artifact(str(rpm("tracer"))).info
    assert relations(info) is relations(info)


# ---------- requires-mixed-implementations


def test_mixed_fires_on_tracer() -> None:
    found = hits([rpm("tracer")], "requires-mixed-implementations")
    assert [m for _, _, m in found] == [
        "requires python2.7 (python(abi) = 2.7) and python3.5 (python(abi) = 3.5)"
    ]


def test_mixed_silent_on_single_stack_packages() -> None:
    paths = [
        rpm(n)
        for n in (
            "pyserial",
            "python3-pyserial",
            "python2-geoip2",
            "yum",
            "python311-pytest-xprocess",
            "python39-evtx",
            "python-peak-rules",
            "libgccjit",
            "nodejs-semver",
            "ngircd",
        )
    ]
    assert hits(paths, "requires-mixed-implementations") == []


def test_mixed_fires_on_built_packages(tmp_path: Path) -> None:
    two_stacks = build.rpm(
        tmp_path,
        "python3.12-bar",
        "1.0",
        {MOD312: "x = 1\n"},
        requires=["python(abi) = 3.12", "python3.11dist(baz)"],
    )
    found = hits([two_stacks], "requires-mixed-implementations")
    assert [m for _, _, m in found] == [
        "requires python3.12 (python(abi) = 3.12) and python3.11 (python3.11dist(baz))"
    ]
    deb = build.deb(
        tmp_path,
        "python3-bar",
        "1.0",
        {"usr/lib/python3/dist-packages/bar.py": "x = 1\n"},
        depends="python3 (>= 3.11~), python3:any | python3-minimal:any, python-six",
    )
    assert [m for _, _, m in hits([deb], "requires-mixed-implementations")] == [
        "requires python3 (python3 (>= 3.11~)) and python2 (python-six)"
    ]
    fine = build.deb(
        tmp_path,
        "python3-all-fine",
        "1.0",
        {"usr/share/doc/x/README": "x"},
        depends="python3 (<< 3.12), python3 (>= 3.11~), python3.11",
    )
    assert hits([fine], "requires-mixed-implementations") == []


# ---------- requires-unversioned-python


def test_unversioned_fires_on_tracer_and_yum() -> None:
    found = {
        n: [m for r, _, m in f if r == "requires-unversioned-python"]
        for n, f in run([rpm("tracer"), rpm("yum")]).items()
    }
    assert any("requires /usr/bin/python" in m for m in found["tracer"])
    assert any("requires python:" in m for m in found["tracer"])
    assert any("requires python >= 2.4" in m for m in found["yum"])


def test_unversioned_python_foo_needs_a_versioned_provider(tmp_path: Path) -> None:
    """python-peak-rules requires python-decoratortools: taskotron's stubbed repository had
    no versioned provider, and coinstall has none in sight: both pass.  Checked together with
    python2-geoip2 (which provides python-geoip2), a package requiring python-geoip2 fails."""
    assert (
        hits(
            [
                rpm("python-peak-rules"),
                rpm("pyserial"),
                rpm("python3-pyserial"),
                rpm("python2-geoip2"),
            ],
            "requires-unversioned-python",
        )
        == []
    )
    user = build.rpm(
        tmp_path,
        "python2-user",
        "1.0",
        {"usr/lib/python2.7/site-packages/u.py": ""},
        requires=["python(abi) = 2.7", "python-geoip2"],
    )
    assert hits([user], "requires-unversioned-python") == []
    found = hits([user, rpm("python2-geoip2")], "requires-unversioned-python")
    assert [m for _, _, m in found] == ["requires python-geoip2: python2-geoip2 is available"]


# ---------- requires-other-stack


def test_other_stack_silent_on_corpus() -> None:
    paths = [
        rpm(n)
        for n in (
            "python311-pytest-xprocess",
            "python39-evtx",
            "python3-pyserial",
            "pyserial",
            "python2-geoip2",
            "tracer",
            "yum",
        )
    ]
    assert hits(paths, "requires-other-stack") == []


def test_other_stack_fires_on_built_rpms(tmp_path: Path) -> None:
    bad = build.rpm(
        tmp_path,
        "python312-bar",
        "1.0",
        {MOD312: "x = 1\n"},
        requires=["python(abi) = 3.12", "python311-baz", "/usr/bin/python3.12"],
        vendor="openSUSE",
    )
    assert [m for _, _, m in hits([bad], "requires-other-stack")] == [
        "a python3.12 package requires python311-baz (python3.11)"
    ]
    alt = build.rpm(
        tmp_path,
        "python3.12-bar",
        "1.0",
        {MOD312: "x = 1\n"},
        requires=["python(abi) = 3.12", "python3-baz"],
    )
    assert [m for _, _, m in hits([alt], "requires-other-stack")] == [
        "a python3.12 package (not the default stack) requires python3-baz, which names the "
        "default stack"
    ]
    main = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {MOD312: "x = 1\n"},
        requires=["python(abi) = 3.12", "python3-baz"],
    )
    assert hits([main], "requires-other-stack") == []
    assert len(hits([main], "requires-other-stack", stack="default=3.13,other=3.12")) == 1
