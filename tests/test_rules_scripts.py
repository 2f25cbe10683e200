"""Script rules, with the real peers run on the same packages: lintian (.debs, real and
built with dpkg-deb) and rpmlint (the RPM corpus and RPMs built with rpmbuild)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

import build
from corpus import RPM_DIR
from rules_r2 import exe, hits, run

MOD312 = "usr/lib/python3.12/site-packages/bar/__init__.py"
DIST = "usr/lib/python3/dist-packages/bar/__init__.py"

needs_lintian = pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian missing")
needs_rpmlint = pytest.mark.skipif(shutil.which("rpmlint") is None, reason="rpmlint missing")


def _paths(found: Sequence[tuple[str, str | None, str]]) -> set[str]:
    return {p for _, p, _ in found if p}


# ---------- shebang-env


def test_env_fires_on_built_packages(tmp_path: Path) -> None:
    r = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {
            "usr/bin/bar": exe("#!/usr/bin/env python3\n"),
            "usr/bin/bar-plain": exe("#!/usr/bin/python3\n"),
            MOD312: ("#!/usr/bin/env python3\n", 0o644),  # not executable: a module, never run
            "usr/lib/python3.12/site-packages/bar/tool.py": exe("#!/usr/bin/env python3\n"),
        },
        requires=["python(abi) = 3.12", "/usr/bin/python3"],
    )
    assert _paths(hits([r], "shebang-env")) == {
        "usr/bin/bar",
        "usr/lib/python3.12/site-packages/bar/tool.py",
    }


def test_env_silent_on_corpus() -> None:
    # pyserial's `#!/usr/bin/env python` modules are not executable.
    assert hits(sorted(RPM_DIR.glob("*.rpm")), "shebang-env") == []


_RPMLINT = re.compile(r"^\S+: E: env-script-interpreter (\S+) (\S+) (\S+)")


def _rpmlint_env(paths: Sequence[Path]) -> set[str]:
    """Files rpmlint reports as env-script-interpreter with a Python interpreter."""
    out = subprocess.run(
        ["rpmlint", *map(str, paths)], capture_output=True, text=True, check=False
    ).stdout
    return {
        m[1].lstrip("/")
        for m in map(_RPMLINT.match, out.splitlines())
        if m and m[3].startswith(("python", "pypy"))
    }


@needs_rpmlint
def test_env_agrees_with_rpmlint(tmp_path: Path) -> None:
    built = [
        build.rpm(
            tmp_path,
            "python3-bar",
            "1.0",
            {
                "usr/bin/bar": exe("#!/usr/bin/env python3\n"),
                "usr/bin/bar-nonexec": ("#!/usr/bin/env python3\n", 0o644),  # script dir: both
                MOD312: ("#!/usr/bin/env python3\n", 0o644),
                "usr/lib/python3.12/site-packages/bar/tool.py": exe("#!/usr/bin/env python3 -u\n"),
                "usr/libexec/bar/helper": exe("#!/usr/bin/env python3\n"),
            },
            requires=["python(abi) = 3.12"],
        ),
        build.rpm(
            tmp_path,
            "python3-clean",
            "1.0",
            {"usr/bin/clean": exe("#!/usr/bin/python3\n")},
            requires=["/usr/bin/python3"],
        ),
    ]
    corpus = sorted(RPM_DIR.glob("*.rpm"))
    for paths in (built, corpus):
        ours = _paths(hits(paths, "shebang-env"))
        assert ours == _rpmlint_env(paths)
    assert _rpmlint_env(built) == {
        "usr/bin/bar",
        "usr/bin/bar-nonexec",
        "usr/lib/python3.12/site-packages/bar/tool.py",
        "usr/libexec/bar/helper",
    }


# ---------- shebang-implementation-mismatch


def test_mismatch_fires_on_built_packages(tmp_path: Path) -> None:
    alt = build.rpm(
        tmp_path,
        "python3.12-bar",
        "1.0",
        {
            MOD312: "x = 1\n",
            "usr/bin/bar-3.12": exe("#!/usr/bin/python3.11\n"),
            "usr/bin/bar3": exe("#!/usr/bin/python3\n"),
            "usr/bin/bar-ok": exe("#!/usr/bin/python3.12 -s\n"),
            "usr/bin/bar-unv": exe("#!/usr/bin/python\n"),
        },
        requires=["python(abi) = 3.12", "/usr/bin/python3.12"],
    )
    found = {p: m for _, p, m in hits([alt], "shebang-implementation-mismatch")}
    assert found == {
        "usr/bin/bar-3.12": "#!/usr/bin/python3.11 runs python3.11; the package is for python3.12",
        "usr/bin/bar3": "#!/usr/bin/python3 runs python3, the default stack; the package is "
        "for python3.12",
    }
    # an unversioned script is shebang-unversioned's: one finding for one line
    assert [p for _, p, _ in hits([alt], "shebang-unversioned")] == ["usr/bin/bar-unv"]
    deb = build.deb(
        tmp_path,
        "python3-bar",
        "1.0",
        {
            DIST: "x = 1\n",
            "usr/bin/bar": exe("#!/usr/bin/python2.7\n"),
            "usr/bin/bar3": exe("#!/usr/bin/python3.11\n"),
        },
        depends="python3:any, python2.7",
    )
    assert _paths(hits([deb], "shebang-implementation-mismatch")) == {"usr/bin/bar"}


def test_mismatch_silent_on_clean_packages(corpus_debs: dict[str, Path], tmp_path: Path) -> None:
    paths = [*sorted(RPM_DIR.glob("*.rpm")), corpus_debs["python3-chardet"]]
    assert hits(paths, "shebang-implementation-mismatch") == []
    main = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {MOD312: "x = 1\n", "usr/bin/bar": exe("#!/usr/bin/python3\n")},
        requires=["python(abi) = 3.12", "/usr/bin/python3"],
    )
    assert hits([main], "shebang-implementation-mismatch") == []
    # ... unless the stack says python3 is 3.13.
    assert len(hits([main], "shebang-implementation-mismatch", stack="3.13,3.12")) == 1


# ---------- shebang-interpreter-not-required


def test_not_required_fires_on_built_rpm(tmp_path: Path) -> None:
    r = build.rpm(
        tmp_path,
        "python3-bar",
        "1.0",
        {
            MOD312: "x = 1\n",
            "usr/bin/bar": exe("#!/usr/bin/python3\n"),
            "usr/bin/bar-3.12": exe("#!/usr/bin/python3.12\n"),
        },
        requires=["python3-baz"],
    )
    assert _paths(hits([r], "shebang-interpreter-not-required")) == {
        "usr/bin/bar",
        "usr/bin/bar-3.12",
    }
    ok = build.rpm(
        tmp_path,
        "python3-ok",
        "1.0",
        {
            MOD312: "x = 1\n",
            "usr/bin/ok": exe("#!/usr/bin/python3\n"),
            "usr/bin/ok-3.12": exe("#!/usr/bin/python3.12\n"),
        },
        requires=["python(abi) = 3.12", "/usr/bin/python3.12"],
    )
    assert hits([ok], "shebang-interpreter-not-required") == []


def test_not_required_silent_on_corpus() -> None:
    # python3-pyserial requires /usr/bin/python3, pyserial /usr/bin/python2,
    # python39-evtx /usr/bin/python3.9: every script's interpreter.
    assert hits(sorted(RPM_DIR.glob("*.rpm")), "shebang-interpreter-not-required") == []


_LINTIAN = re.compile(r"^[EWIXP]: (\S+): (\S+) .*\[(\S+)\]$")
_LINTIAN_TAGS = ("script-uses-unversioned-python-in-shebang", "python3-script-but-no-python3-dep")


def _lintian(paths: Sequence[Path]) -> dict[str, set[tuple[str, str]]]:
    """tag -> {(package, path)} from the real lintian."""
    # -C: only the two checks that emit these tags (lintian's scripts and
    # languages/python/scripts), which keeps a large .deb to a few seconds.
    proc = subprocess.run(
        [
            "lintian",
            "--no-cfg",
            "-C",
            "scripts,languages/python/scripts",
            "--tags",
            ",".join(_LINTIAN_TAGS),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 2), proc.stderr  # 1: run-time error; 2: --fail-on (error tags)
    out: dict[str, set[tuple[str, str]]] = {t: set() for t in _LINTIAN_TAGS}
    for line in proc.stdout.splitlines():
        m = _LINTIAN.match(line)
        if m:
            out[m[2]].add((m[1], m[3]))
    return out


@needs_lintian
def test_scripts_agree_with_lintian(corpus_debs: dict[str, Path], tmp_path: Path) -> None:
    """lintian's script-uses-unversioned-python-in-shebang is shebang-unversioned and
    python3-script-but-no-python3-dep is shebang-interpreter-not-required for python3
    shebangs, file by file.  Known differences (asserted): lintian looks for unversioned
    shebangs only below a ``bin/`` directory, and checks no dependency for python3.X
    shebangs; coinstall reports both."""
    built = [
        build.deb(
            tmp_path,
            "python3-nodep",
            "1.0",
            {
                DIST: "x = 1\n",
                "usr/bin/a": exe("#!/usr/bin/python3\n"),
                "usr/bin/b": exe("#!/usr/bin/env python3\n"),
                "usr/bin/c": exe("#!/usr/bin/python\n"),
                "usr/bin/d": exe("#!/usr/bin/env python\n"),
                "usr/bin/e": exe("#!/usr/bin/python3.11\n"),
                "usr/share/nodep/f": exe("#!/usr/bin/python\n"),
            },
        ),
        build.deb(
            tmp_path,
            "python3-dep",
            "1.0",
            {
                DIST: "x = 1\n",
                "usr/bin/a": exe("#!/usr/bin/python3\n"),
                "usr/bin/e": exe("#!/usr/bin/python3.11 -I\n"),
            },
            depends="python3 (<< 3.12), python3 (>= 3.11~), python3.11",
        ),
        build.deb(
            tmp_path,
            "python3-any",
            "1.0",
            {"usr/bin/a": exe("#!/usr/bin/python3\n")},
            depends="python3-minimal:any",
        ),
        build.deb(
            tmp_path,
            "python3-recommends",
            "1.0",
            {"usr/bin/a": exe("#!/usr/bin/python3\n")},
            fields={"Recommends": "python3"},
        ),
    ]
    real = [corpus_debs[n] for n in ("python3-chardet", "python3-six", "python3-yaml")]
    peer = _lintian([*built, *real])
    found = run([*built, *real])

    def ours(rule: str, pred: str = "") -> set[tuple[str, str]]:
        return {
            (pkg, p) for pkg, fs in found.items() for r, p, m in fs if r == rule and p and pred in m
        }

    assert peer["script-uses-unversioned-python-in-shebang"] == {
        ("python3-nodep", "usr/bin/c"),
        ("python3-nodep", "usr/bin/d"),
    }
    assert ours("shebang-unversioned") == peer["script-uses-unversioned-python-in-shebang"] | {
        ("python3-nodep", "usr/share/nodep/f")
    }
    assert peer["python3-script-but-no-python3-dep"] == {
        ("python3-nodep", "usr/bin/a"),
        ("python3-nodep", "usr/bin/b"),
    }
    python3_only = {
        (pkg, p) for pkg, p in ours("shebang-interpreter-not-required") if not p.endswith("/e")
    }
    assert python3_only == peer["python3-script-but-no-python3-dep"]
    assert ("python3-nodep", "usr/bin/e") in ours("shebang-interpreter-not-required")
    assert ("python3-dep", "usr/bin/e") not in ours("shebang-interpreter-not-required")


@needs_lintian
def test_not_required_agrees_with_lintian_on_libpython_stdlib(corpus_debs: dict[str, Path]) -> None:
    """bookworm's libpython3.11-stdlib ships executable modules (pdb.py, tarfile.py, …)
    with ``#!/usr/bin/env python3`` and no dependency on python3: lintian and coinstall
    report the same files.  coinstall also reports test/regrtest.py (#!/usr/bin/python3.11,
    no dependency on python3.11), a shebang lintian does not check."""
    deb = corpus_debs["libpython3.11-stdlib"]
    tags = _lintian([deb])
    peer = tags["python3-script-but-no-python3-dep"]
    assert len(peer) == 11 and ("libpython3.11-stdlib", "usr/lib/python3.11/pdb.py") in peer
    ours = {
        ("libpython3.11-stdlib", p) for p in _paths(hits([deb], "shebang-interpreter-not-required"))
    }
    assert ours == peer | {("libpython3.11-stdlib", "usr/lib/python3.11/test/regrtest.py")}
    # the same modules are shebang-env findings; none is an unversioned-shebang script
    assert _paths(hits([deb], "shebang-env")) == {p for _, p in peer}
    assert tags["script-uses-unversioned-python-in-shebang"] == set()
    assert hits([deb], "shebang-unversioned") == []


@needs_lintian
def test_not_required_silent_on_the_package_that_ships_the_interpreter(
    corpus_debs: dict[str, Path],
) -> None:
    """bookworm's python3-minimal ships /usr/bin/python3 (a link to python3.11) and
    py3compile, py3clean and py3versions.py with ``#!/usr/bin/python3``: it needs no relation
    to itself (it was 3 false errors over the archive).  lintian agrees."""
    deb = corpus_debs["python3-minimal"]
    assert hits([deb], "shebang-interpreter-not-required") == []
    assert _lintian([deb])["python3-script-but-no-python3-dep"] == set()


def test_interpreter_not_required_silent_on_installed_trees() -> None:
    # An installed tree has no package relations to check a shebang against; Debian's own
    # stdlib tree holds executable modules with #!/usr/bin/python3.11 (base64.py, platform.py).
    from coinstall.check import check as run_check
    from coinstall.runtimes import catalogue as catalogue_mod
    from coinstall.runtimes.inventory import combine

    stdlib = "/usr/lib/python3.11"
    cat = catalogue_mod.load()
    res = run_check([stdlib], combine([], cat), cat)
    assert res.artifacts and not [
        f for f in res.artifacts[0].findings if f.rule == "shebang-interpreter-not-required"
    ]
