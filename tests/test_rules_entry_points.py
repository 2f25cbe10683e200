"""Entry-point rules on the real RPM corpus (whose programs are often symbolic links) and on
RPMs built in the test."""

from __future__ import annotations

from pathlib import Path

import build
from build import Symlink
from coinstall.check import check_artifact
from coinstall.rules.entry_points import entry_points
from corpus import RPM_DIR
from rules_r2 import CAT, KNOWN, exe, hits, rpm, run

MOD312 = "usr/lib/python3.12/site-packages/bar/__init__.py"
MOD311 = "usr/lib/python3.11/site-packages/bar/__init__.py"


def test_links_reach_the_rules() -> None:
    """/usr/bin/miniterm-3.5.py is a symbolic link in python3-pyserial: the context keeps it."""
    res = check_artifact(str(rpm("python3-pyserial")), KNOWN, CAT)
    assert res.context is not None
    links = {m.path: m.link_target for m in res.context.links if m.type == "symlink"}
    assert links == {"usr/bin/miniterm-3.5.py": "/usr/bin/miniterm.py-3"}
    eps = {(e.name, e.base, e.version) for e in entry_points(res.context)}
    assert eps == {("miniterm-3.5.py", "miniterm", "3.5"), ("miniterm-3.py", "miniterm", "3")}


def test_entry_point_names_of_evtx() -> None:
    res = check_artifact(str(rpm("python39-evtx")), KNOWN, CAT)
    assert res.context is not None
    eps = {e.name: e for e in entry_points(res.context)}
    assert eps["evtx_dump.py"].alternative and eps["evtx_dump.py"].version is None
    assert eps["evtx_dump.py-3.9"].base == "evtx_dump" and eps["evtx_dump.py-3.9"].version == "3.9"


def test_silent_on_corpus() -> None:
    """taskotron's executables check passes on every build of the corpus (pyserial's Python 3
    subpackage ships miniterm-3.py too); python39-evtx follows openSUSE's %python_clone."""
    paths = sorted(RPM_DIR.glob("*.rpm"))
    assert hits(paths, "entry-point-ownership") == []
    assert hits(paths, "entry-point-missing-versioned") == []


def test_ownership_fires_on_alternative_stack(tmp_path: Path) -> None:
    alt = build.rpm(
        tmp_path,
        "python3.12-bar",
        "1.0",
        {
            MOD312: "x = 1\n",
            "usr/bin/bar": exe("#!/usr/bin/python3.12\n"),
            "usr/bin/bar-3": Symlink("bar-3.12"),
            "usr/bin/bar-3.12": exe("#!/usr/bin/python3.12\n"),
            "usr/bin/baz-3.11": exe("#!/usr/bin/python3.12\n"),
        },
        requires=["python(abi) = 3.12", "/usr/bin/python3.12"],
    )
    found = {p: m for _, p, m in hits([alt], "entry-point-ownership")}
    assert set(found) == {"usr/bin/bar", "usr/bin/bar-3", "usr/bin/baz-3.11"}
    assert found["usr/bin/baz-3.11"] == (
        "/usr/bin/baz-3.11 names python3.11 but python3.12-bar is a python3.12 package"
    )
    assert "not the default stack" in found["usr/bin/bar"]


def test_ownership_uses_the_stack(tmp_path: Path) -> None:
    """python3-bar for 3.11 owns /usr/bin/bar only if 3.11 is the default stack."""
    pkg = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {
            MOD311: "x = 1\n",
            "usr/bin/bar": exe("#!/usr/bin/python3\n"),
            "usr/bin/bar-3.11": exe("#!/usr/bin/python3.11\n"),
        },
        requires=["python(abi) = 3.11"],
    )
    assert hits([pkg], "entry-point-ownership") == []
    assert hits([pkg], "entry-point-ownership", stack="default=3.11,other=3.12") == []
    assert [
        p for _, p, _ in hits([pkg], "entry-point-ownership", stack="default=3.12,other=3.11")
    ] == ["usr/bin/bar"]


def test_ownership_opensuse_needs_alternatives(tmp_path: Path) -> None:
    bad = build.rpm(
        tmp_path,
        "python311-bar",
        "1.0",
        {
            MOD311: "x = 1\n",
            "usr/bin/bar": exe("#!/usr/bin/python3.11\n"),
            "usr/bin/bar-3.11": exe("#!/usr/bin/python3.11\n"),
        },
        requires=["python(abi) = 3.11"],
        vendor="openSUSE",
        release="1.1",
    )
    assert [p for _, p, _ in hits([bad], "entry-point-ownership")] == ["usr/bin/bar"]
    good = build.rpm(
        tmp_path,
        "python311-good",
        "1.0",
        {
            MOD311: "x = 1\n",
            "usr/bin/good": Symlink("/etc/alternatives/good"),
            "usr/bin/good-3.11": exe("#!/usr/bin/python3.11\n"),
        },
        requires=["python(abi) = 3.11"],
        vendor="openSUSE",
        release="1.1",
    )
    assert hits([good], "entry-point-ownership") == []


def test_missing_versioned_fires(tmp_path: Path) -> None:
    suse = build.rpm(
        tmp_path,
        "python311-bar",
        "1.0",
        {MOD311: "x = 1\n", "usr/bin/bar": Symlink("/etc/alternatives/bar")},
        requires=["python(abi) = 3.11"],
        vendor="openSUSE",
        release="1.1",
    )
    assert [m for _, _, m in hits([suse], "entry-point-missing-versioned")] == [
        "/usr/bin/bar has no bar-3.11 clone (%python_clone -a)"
    ]
    fedora = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {
            MOD312: "x = 1\n",
            "usr/bin/bar-3": exe("#!/usr/bin/python3\n"),
            "usr/bin/bar": Symlink("bar-3"),
        },
        requires=["python(abi) = 3.12"],
    )
    assert [m for _, _, m in hits([fedora], "entry-point-missing-versioned")] == [
        "/usr/bin/bar-3 has no versioned bar-3.12 in python3-bar"
    ]
    alt = build.rpm(
        tmp_path,
        "python3.12-baz",
        "1.0",
        {MOD312: "x = 1\n", "usr/bin/baz": exe("#!/usr/bin/python3.12\n")},
        requires=["python(abi) = 3.12"],
    )
    assert [p for _, p, _ in hits([alt], "entry-point-missing-versioned")] == ["usr/bin/baz"]


def test_missing_versioned_silent_on_default_stack_unversioned(tmp_path: Path) -> None:
    """The current Fedora guidelines let the default stack ship only /usr/bin/bar."""
    pkg = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {MOD312: "x = 1\n", "usr/bin/bar": exe("#!/usr/bin/python3\n")},
        requires=["python(abi) = 3.12"],
    )
    assert hits([pkg], "entry-point-missing-versioned") == []


def test_missing_versioned_across_a_build(tmp_path: Path) -> None:
    """python2-bar ships /usr/bin/bar-2 and bar, python3-bar (same source) no program:
    the Python 3 package is told, once per program (bar and bar-2 are one program)."""
    py2 = build.rpm(
        tmp_path,
        "python2-bar",
        "1.0",
        {
            "usr/lib/python2.7/site-packages/bar/__init__.py": "x = 1\n",
            "usr/bin/bar-2": exe("#!/usr/bin/python2\n"),
            "usr/bin/bar": Symlink("bar-2"),
        },
        requires=["python(abi) = 2.7"],
        source_name="bar",
        release="1.fc28",
    )
    py3 = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {MOD312: "x = 1\n"},
        requires=["python(abi) = 3.12"],
        source_name="bar",
        release="1.fc28",
    )
    assert hits([py3], "entry-point-missing-versioned") == []
    assert [m for _, _, m in hits([py2, py3], "entry-point-missing-versioned")] == [
        "/usr/bin/bar-2 has no versioned bar-2.7 in python2-bar",  # 201x: foo-2 and foo-2.7
        "python2-bar ships /usr/bin/bar-2 but python3-bar has no bar or bar-3.12",
    ]


def test_bare_digit_names(tmp_path: Path) -> None:
    """pip3 next to pip3.12 is Python 3's pip; a lone md2 is just a name."""
    pkg = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {
            MOD312: "x = 1\n",
            "usr/bin/pip3": exe("#!/usr/bin/python3\n"),
            "usr/bin/pip3.12": exe("#!/usr/bin/python3\n"),
            "usr/bin/md2": exe("#!/usr/bin/python3\n"),
        },
        requires=["python(abi) = 3.12"],
    )
    res = check_artifact(str(pkg), KNOWN, CAT)
    assert res.context is not None
    eps = {(e.name, e.base, e.version) for e in entry_points(res.context)}
    assert eps == {("pip3", "pip", "3"), ("pip3.12", "pip", "3.12"), ("md2", "md2", None)}
    assert hits([pkg], "entry-point-ownership") == []


def _stack_pkg(out: Path, name: str, ver: str, release: str) -> Path:
    """A noarch RPM of one stack: modules in python{ver}'s site-packages, /usr/bin/tool and
    /usr/bin/tool-{ver} run by python{ver}, a script run by the unversioned python3, and a
    requirement on python3dist(bar) (python-rpm-generators: the default stack's name)."""
    site = f"usr/lib/python{ver}/site-packages/tool/__init__.py"
    return build.rpm(
        out,
        name,
        "1.0",
        {
            site: "x = 1\n",
            "usr/bin/tool": exe(f"#!/usr/bin/python{ver}\n"),
            f"usr/bin/tool-{ver}": exe(f"#!/usr/bin/python{ver}\n"),
            f"usr/lib/python{ver}/site-packages/tool/run.py": exe("#!/usr/bin/python3\n"),
        },
        release=release,
        requires=[f"python(abi) = {ver}", "python3dist(bar)"],
    )


STACK_RULES = ("entry-point-ownership", "requires-other-stack", "shebang-implementation-mismatch")


def test_epel_style_names_follow_the_stack(tmp_path: Path) -> None:
    """Issue 13 part 3: EPEL 7 named its *default* stack python36-foo
    (%python3_pkgversion 36), so a python3X-/python3.X- prefix is the default stack when the
    stack says X is the default.  Both stacks' packages, EPEL-style (.el7) and with no dist
    tag, judged under both stack definitions: only the non-default one is reported, and for
    each of the rules that ask "is this the default stack?"."""
    stacks = {"default=3.12,other=3.11": (3, 12), "default=3.11,other=3.12": (3, 11)}
    for release in ("1.el7", "1"):
        for prefix in ("python3{m}-", "python3.{m}-"):
            for minor in (11, 12):
                name = prefix.format(m=minor) + "tool"
                pkg = _stack_pkg(tmp_path, name, f"3.{minor}", release)
                for stack, default in stacks.items():
                    found = {r for r, _, _ in run([pkg], stack=stack)[name]}
                    want = set() if default == (3, minor) else set(STACK_RULES)
                    assert found & set(STACK_RULES) == want, (release, name, stack, found)
                    if want:
                        assert any(
                            "not the default stack" in m
                            for _, _, m in hits([pkg], "entry-point-ownership", stack=stack)
                        )


def test_epel_concatenated_name_alone_is_not_an_alternative_stack(tmp_path: Path) -> None:
    """Without --stack, EPEL's python312-tool may be the default stack (EPEL 7's python36-)
    or not: silent.  EPEL's dotted python3.12-tool (EPEL 8+) and Fedora's versioned names are
    never the default stack (python3-tool is): reported."""
    concat = _stack_pkg(tmp_path, "python312-tool", "3.12", "1.el7")
    assert {r for r, _, _ in run([concat])["python312-tool"]} & set(STACK_RULES) == set()
    dotted = _stack_pkg(tmp_path, "python3.12-tool", "3.12", "1.el8")
    assert "entry-point-ownership" in {r for r, _, _ in run([dotted])["python3.12-tool"]}
    fedora = _stack_pkg(tmp_path, "python3.12-tool", "3.12", "1.fc40")
    assert "entry-point-ownership" in {r for r, _, _ in run([fedora])["python3.12-tool"]}


def test_python3_stack_says_nothing_of_python2_packages() -> None:
    """A stack of Python 3 versions does not make fc25's Python 2 pyserial and yum (Python
    2.7, the only Python 2 stack) non-default: /usr/bin/miniterm-2.py and yum-deprecated are
    theirs to own, #!/usr/bin/python2 is their stack's interpreter."""
    pkgs = [rpm("pyserial"), rpm("yum")]
    for stack in ("default=3.11,other=3.12", "default=3.12"):
        found = run(pkgs, stack=stack)
        for name in ("pyserial", "yum"):
            rules = {r for r, _, _ in found[name]}
            assert not rules & {"entry-point-ownership", "shebang-implementation-mismatch"}, (
                stack,
                name,
                found[name],
            )
