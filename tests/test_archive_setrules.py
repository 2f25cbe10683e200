"""Set-scope rules from the compact indexes (coinstall.archive.setrules) give the findings the
one-by-one engine gives (coinstall.check.check), rule for rule and in the same order, over
packages built so that every set-scope rule fires (the pinned corpus has no file conflict and
no missing versioned entry point).  The index keeps only some fields of each file (the
record_fields the rules declare, coinstall.rules.kept_record_fields): this is the test that
fails when a set-scope rule reads a field it does not declare.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import build
from build import Symlink
from coinstall.archive import setrules, worker
from coinstall.check import check
from coinstall.config import Config
from rules_r2 import CAT, KNOWN, exe, rpm

SITE = "usr/lib/python3/dist-packages/foo/"
MOD312 = "usr/lib/python3.12/site-packages/bar/__init__.py"


def test_set_findings_from_indexes_are_the_engines(tmp_path: Path) -> None:
    # scripts/setup.sh installs both; without them this test must fail, not skip.
    assert shutil.which("dpkg-deb") and shutil.which("rpmbuild"), "run scripts/setup.sh"
    debs = [
        build.deb(
            tmp_path,
            "python3-foo",
            "1.0-1",
            {SITE + "__init__.py": "x = 1\n", SITE + "_foo.abi3.so": b"\x7fELF amd64"},
            arch="amd64",
            multi_arch="same",
        ),
        build.deb(
            tmp_path,
            "python3-foo",
            "1.0-1",
            {SITE + "__init__.py": "x = 1\n", SITE + "_foo.abi3.so": b"\x7fELF arm64"},
            arch="arm64",
            multi_arch="same",
        ),
        build.deb(tmp_path, "python3-foo-ng", "1.0-1", {"usr/bin/foo": "#!/usr/bin/python3\n"}),
        build.deb(tmp_path, "python3-foo-cli", "1.0-1", {"usr/bin/foo": "#!/usr/bin/python3\n"}),
        build.deb(tmp_path, "bar", "1.0", {"usr/lib/python3/dist-packages/bar/__init__.py": ""}),
    ]
    rpms = [
        build.rpm(tmp_path, "python3.11-foo", "1.0", {"usr/bin/foo": "#!/usr/bin/python3.11\n"}),
        build.rpm(tmp_path, "python3.12-foo", "1.0", {"usr/bin/foo": "#!/usr/bin/python3.12\n"}),
        build.rpm(
            tmp_path,
            "python3.12-baz",
            "1.0",
            {MOD312: "x = 1\n", "usr/bin/baz": exe("#!/usr/bin/python3.12\n")},
            requires=["python(abi) = 3.12"],
        ),
        build.rpm(
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
        ),
        build.rpm(
            tmp_path,
            "python3-bar",
            "1.0",
            {MOD312: "x = 1\n"},
            requires=["python(abi) = 3.12"],
            source_name="bar",
            release="1.fc28",
        ),
        rpm("pyserial"),
        rpm("python3-pyserial"),
        rpm("python-peak-rules"),
        rpm("yum"),
    ]
    wheels = [
        build.wheel(
            tmp_path,
            "alpha",
            "1.0",
            {"common/__init__.py": "A = 1\n", "alpha-1.0.data/scripts/tool": "#!python\n"},
        ),
        build.wheel(
            tmp_path,
            "beta",
            "1.0",
            {
                "common/__init__.py": "B = 1\n",
                "beta-1.0.data/purelib/common/x.py": "",
                "beta-1.0.data/scripts/tool": "#!python\nB\n",
            },
        ),
        build.wheel(tmp_path, "gamma", "1.0", {"common/x.py": "G = 1\n"}),
    ]
    paths = [str(p) for p in [*debs, *rpms, *wheels]]
    cfg = Config()
    active = set(setrules.active(cfg))

    res = check(paths, KNOWN, CAT, cfg)
    assert not res.errors, res.errors
    expected = {
        n: [f.to_json() for f in a.findings if f.rule in active]
        for n, a in enumerate(res.artifacts)
    }
    assert {f["rule"] for found in expected.values() for f in found} == active

    settings = worker.Settings(tuple(KNOWN), cfg, digests=True, set_index=True, timeout=0)
    indexes = []
    for p in paths:
        o = worker.check_one(p, settings)
        assert o.index is not None, o.errors
        indexes.append(o.index)
    found = setrules.set_findings(indexes, KNOWN, CAT, cfg)
    assert {n: found.get(n, []) for n in expected} == expected
