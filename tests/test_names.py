"""The shared name vocabulary (coinstall.names, files.extension.ext_name): one table that the
rules and the transition planner both read, and the extension/bytecode file-name grammar
checked against real interpreters."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from coinstall import names
from coinstall.files.extension import ext_name
from coinstall.plan.evidence import Classifier, stack_key
from coinstall.plan.indices import BinaryRecord
from coinstall.runtimes import catalogue
from interpreters import EXTRA_PYTHONS, PYENV_VERSIONS

# name -> (implementation, version) as classify_name (rules) reads it, and what the planner
# reads: versioned_runtime (an interpreter/library named after one version: "uses") and
# parallel_stack (a parallel stack's package: "pins", stack_key).
TABLE: list[
    tuple[
        str,
        str | None,
        tuple[int, int] | None,
        str | None,
        tuple[int, int] | None,
        tuple[int, int] | None,
    ]
] = [
    # name, implementation, version, kind, versioned_runtime, parallel_stack
    ("python3.11", "cpython", (3, 11), "interpreter", (3, 11), None),
    ("python3.11-minimal", "cpython", (3, 11), "runtime", (3, 11), (3, 11)),
    ("python3.11-venv", "cpython", (3, 11), "runtime", (3, 11), (3, 11)),
    ("libpython3.11", "cpython", (3, 11), "runtime", (3, 11), None),
    ("libpython3.11-stdlib", "cpython", (3, 11), "runtime", (3, 11), None),
    ("libpython3.12.so.1.0()(64bit)", "cpython", (3, 12), "runtime", (3, 12), None),
    ("libpython3.11d.so.1.0()(64bit)", "cpython", (3, 11), "runtime", None, None),
    ("python3.11-requests", "cpython", (3, 11), "module", (3, 11), (3, 11)),
    ("python3.11-foo-bar", "cpython", (3, 11), "module", None, (3, 11)),
    ("python311-requests", "cpython", (3, 11), "module", None, (3, 11)),
    ("python39-evtx", "cpython", (3, 9), "module", None, (3, 9)),
    ("python36-foo", "cpython", (3, 6), "module", None, (3, 6)),
    ("python34-foo", "cpython", (3, 4), "module", None, None),
    ("python3-requests", "cpython", None, "module", None, None),
    ("python3", "cpython", None, "interpreter", None, None),
    ("python3-minimal", "cpython", None, "runtime", None, None),
    ("pypy3-foo", "pypy", None, "module", None, None),
    ("pypy3.9-foo", "pypy", (3, 9), "module", None, None),
    ("python2.7", "cpython", (2, 7), "interpreter", (2, 7), None),
    ("python3.11dist(requests)", "cpython", (3, 11), "dist", None, None),
    ("/usr/bin/python3.11", "cpython", (3, 11), "interpreter", None, None),
    ("python-pyresample-test", None, None, None, None, None),  # bookworm test data
    ("python-pysam-tests", None, None, None, None, None),
    ("nodejs-semver", None, None, None, None, None),
    ("pythonfoo", None, None, None, None, None),
]


@pytest.mark.parametrize(("name", "impl", "version", "kind", "runtime", "stack"), TABLE)
def test_one_table_for_rules_and_planner(
    name: str,
    impl: str | None,
    version: tuple[int, int] | None,
    kind: str | None,
    runtime: tuple[int, int] | None,
    stack: tuple[int, int] | None,
) -> None:
    t = names.classify_name(name)
    if impl is None:
        assert t is None
    else:
        assert t is not None
        assert (t.implementation, t.version, t.kind) == (impl, version, kind)
    assert names.versioned_runtime(name) == runtime
    st = names.parallel_stack(name)
    assert (st[0] if st else None) == stack
    # What the planner reads never contradicts what the rules read.
    for v in (runtime, stack):
        if v is not None:
            assert t is not None and t.implementation == "cpython" and t.version == v


def test_package_name_parts() -> None:
    p = names.package_name("python3.11-foo")
    assert p == names.PackageName("cpython", 3, 11, True, "foo", "python3.11-")
    p = names.package_name("python311-foo")
    assert p == names.PackageName("cpython", 3, 11, False, "foo", "python311-")
    assert names.package_name("python5-foo") is None
    assert names.package_name("libxml2-python3") is None


def test_dist_name() -> None:
    assert names.dist_name("python3.11dist(requests)") == names.DistName(
        "cpython", 3, 11, "dist", "requests"
    )
    assert names.dist_name("python3dist(requests)") == names.DistName(
        "cpython", 3, None, "dist", "requests"
    )
    assert names.dist_name("pypy3.9dist(cffi)") == names.DistName("pypy", 3, 9, "dist", "cffi")
    assert names.dist_name("python3egg(foo)") == names.DistName("cpython", 3, None, "egg", "foo")
    assert names.dist_name("python3-foo") is None


def test_stack_key_uses_the_shared_stack_names() -> None:
    assert stack_key("python3.11-requests") == "python3-requests"
    assert stack_key("python312-requests") == "python3-requests"
    assert stack_key("python3-requests") == "python3-requests"
    assert stack_key("python34-foo") == "python34-foo"
    assert stack_key("nodejs") == "nodejs"


def _interpreters() -> list[Path]:
    found = sorted(PYENV_VERSIONS.glob("*/bin/python3.*[0-9]"))
    found += [
        Path(p)
        for p in ("/usr/bin/python3.11", "/usr/bin/python3.11d", "/usr/bin/pypy3")
        if Path(p).exists()
    ]
    found += list(EXTRA_PYTHONS.values())  # the set-up's Debian 3.13, 3.14 and 3.13t
    return [p for p in found if not p.name.endswith("-config")]


_PROBE = (
    "import importlib.machinery as m, importlib.util as u, json, sys; "
    "print(json.dumps([sys.implementation.name, list(sys.version_info[:2]), "
    "m.EXTENSION_SUFFIXES, u.cache_from_source('/usr/share/python-app/mod.py')]))"
)


def test_extension_and_pyc_names_of_real_interpreters() -> None:
    """Every extension suffix a real interpreter accepts parses to its implementation and
    version (or the stable ABI / untagged), and the planner pins a CPython's tagged extension
    and its PEP 3147 bytecode name to that version."""
    exes = _interpreters()
    if len(exes) < 3:
        pytest.skip("fewer than three real interpreters installed")
    cl = Classifier(catalogue.load())
    checked = 0
    for exe in exes:
        out = subprocess.run(
            [str(exe), "-c", _PROBE], capture_output=True, text=True, check=True
        ).stdout
        impl, ver, suffixes, pyc = json.loads(out)
        ver = tuple(ver)
        for suffix in suffixes:
            n = ext_name(f"/usr/lib/x/mod{suffix}")
            if suffix in (".so", ".abi3.so", ".abi3t.so"):
                assert n is not None and n.kind == {".so": "untagged"}.get(suffix, suffix[1:-3])
                continue
            if suffix.startswith(".abi3-"):  # Debian's 3.13+: the stable ABI with the triplet
                assert n is not None and (n.kind, n.triplet) == ("abi3", suffix[6:-3]), n
                continue
            assert n is not None and n.kind == "soabi", (exe, suffix)
            assert n.stem == "mod" and n.implementation == impl and n.version == ver, (
                exe,
                suffix,
                n,
            )
            if impl == "cpython" and "d" not in n.flags and "t" not in n.flags and ver >= (3, 2):
                ev = cl.classify(
                    BinaryRecord(
                        "p",
                        "1",
                        "x86_64",
                        "p",
                        syntax="rpm",
                        files=(f"/usr/share/python-app/mod{suffix}",),
                    )
                )
                assert ev.pins == {ver}, (exe, suffix, ev.reasons)
                checked += 1
        if impl == "cpython" and ver[0] == 3 and pyc:
            ev = cl.classify(BinaryRecord("p", "1", "x86_64", "p", syntax="rpm", files=(pyc,)))
            assert ev.pins == {ver}, (exe, pyc)
    assert checked >= 3
