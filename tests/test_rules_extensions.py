"""Extension-module rules on real packages, minimal built ones, real interpreters, and abi3audit
on the same wheels."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build
from coinstall.artifacts import open_artifact
from coinstall.check import check
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.discovery import discover
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.model import Runtime
from interpreters import PYENV_VERSIONS

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)
PYENV = PYENV_VERSIONS
#: abi3audit as installed with the test extras: beside the interpreter running the tests (the
#: venv's bin/, whichever venv that is), else on PATH.
ABI3AUDIT = str(Path(sys.executable).parent / "abi3audit")
if not os.access(ABI3AUDIT, os.X_OK):
    ABI3AUDIT = shutil.which("abi3audit") or ABI3AUDIT


def _pyenv(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no pyenv Python {version}")
    return found[0]


def _found(
    path: Path | str,
    rule: str,
    runtimes: list[Runtime] | None = None,
) -> list[tuple[str | None, str, str]]:
    res = check([str(path)], runtimes or KNOWN, CAT)
    assert not res.errors, res.errors
    return [(f.path, f.message, f.severity) for f in res.artifacts[0].findings if f.rule == rule]


def _member(whl: Path, suffix: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(whl) as zf:
        name = next(n for n in zf.namelist() if n.endswith(suffix))
        return name, zf.read(name)


@pytest.fixture(scope="module")
def corpus_rules(
    corpus_debs: dict[str, Path], corpus_wheels: dict[str, Path]
) -> dict[Path, set[str]]:
    """The rules that fire on each pinned .deb and wheel, judged against the catalogue
    (``_found``'s check): each package checked once for the three tests that say a rule is
    silent on real packages, not once per test."""
    out: dict[Path, set[str]] = {}
    for p in [*corpus_debs.values(), *corpus_wheels.values()]:
        res = check([str(p)], KNOWN, CAT)
        assert not res.errors, res.errors
        out[p] = {f.rule for f in res.artifacts[0].findings}
    assert len(out) == len(corpus_debs) + len(corpus_wheels)
    return out


@pytest.fixture(scope="module")
def installed() -> list[Runtime]:
    rts, _errors = discover()
    return rts


# ----------------------------------------------------------------- extension-untagged


@pytest.mark.network
def test_untagged_in_debian_shared_dir(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    _, so = _member(corpus_wheels["pyyaml-cp311"], ".so")
    deb = build.deb(
        tmp_path,
        "python3-untagged",
        "1.0-1",
        {
            "usr/lib/python3/dist-packages/yaml/_yaml.so": so,
            "usr/lib/python3/dist-packages/yaml/__init__.py": "",
        },
        arch="amd64",
    )
    hits = _found(deb, "extension-untagged")
    assert [p for p, _, _ in hits] == ["usr/lib/python3/dist-packages/yaml/_yaml.so"]
    assert "shared by every cpython 3 runtime" in hits[0][1]
    # The same bytes below python3.11's own directory are for that runtime only: silent.
    own = build.deb(
        tmp_path,
        "python3-own",
        "1.0-1",
        {"usr/lib/python3.11/dist-packages/yaml/_yaml.so": so},
        arch="amd64",
    )
    assert not _found(own, "extension-untagged")


@pytest.mark.network
def test_untagged_in_abi3_wheel_but_not_in_version_specific(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    _, so = _member(corpus_wheels["pyyaml-cp311"], ".so")
    w = build.wheel(
        tmp_path, "untagged", "1.0", {"yaml/_yaml.so": so}, tag="cp311-abi3-manylinux_2_17_x86_64"
    )
    assert [p for p, _, _ in _found(w, "extension-untagged")] == ["yaml/_yaml.so"]
    # issue 18: a version-specific wheel too (installed into any site directory, every
    # CPython 3 there tries NAME.so), with what the module's symbols say
    w2 = build.wheel(
        tmp_path, "untagged2", "1.0", {"yaml/_yaml.so": so}, tag="cp311-cp311-manylinux_2_17_x86_64"
    )
    (hit,) = _found(w2, "extension-untagged")
    assert "CPython 3.11 by its symbols" in hit[1]


def test_every_interpreter_tries_the_bare_suffix() -> None:
    """The fact the rule rests on: '.so' is in every CPython 3's EXTENSION_SUFFIXES."""
    pythons = [
        p
        for v in ("3.6", "3.9", "3.12", "3.13")
        for p in sorted(PYENV.glob(f"{v}.*/bin/python{v}"))[:1]
    ]
    pythons.append(Path("/usr/bin/python3.11"))
    assert len(pythons) >= 3
    for py in pythons:
        out = subprocess.run(
            [str(py), "-c", "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[-1])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert out == ".so", py


@pytest.mark.network
def test_untagged_silent_on_real_packages(corpus_rules: dict[Path, set[str]]) -> None:
    for p, rules in corpus_rules.items():
        assert "extension-untagged" not in rules, p


# ----------------------------------------------------------- stable-abi-missing-multiarch


@pytest.mark.network
def test_missing_multiarch_on_bookworm_cryptography(corpus_debs: dict[str, Path]) -> None:
    """python3-cryptography 38 (bookworm) ships _rust.abi3.so in the shared dist-packages: the
    case gh-122931 was opened for."""
    hits = _found(corpus_debs["python3-cryptography"], "stable-abi-missing-multiarch")
    paths = sorted(p or "" for p, _, _ in hits)
    assert paths == [
        "usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_openssl.abi3.so",
        "usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_rust.abi3.so",
    ]
    assert all(
        "_rust.abi3-x86_64-linux-gnu.so" in m or "_openssl.abi3-x86_64" in m for _, m, _ in hits
    )


@pytest.mark.network
def test_missing_multiarch_in_multi_arch_same_deb(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    _, so = _member(corpus_wheels["bcrypt-abi3-aarch64"], ".so")
    d = "usr/lib/python3/dist-packages/bcrypt/"
    bad = build.deb(
        tmp_path,
        "python3-bcrypt",
        "1.0-1",
        {d + "_bcrypt.abi3.so": so},
        arch="arm64",
        multi_arch="same",
    )
    hits = _found(bad, "stable-abi-missing-multiarch")
    assert [p for p, _, _ in hits] == [d + "_bcrypt.abi3.so"]
    assert "Multi-Arch: same" in hits[0][1] and "_bcrypt.abi3-aarch64-linux-gnu.so" in hits[0][1]
    good = build.deb(
        tmp_path,
        "python3-bcrypt-ok",
        "1.0-1",
        {d + "_bcrypt.abi3-aarch64-linux-gnu.so": so},
        arch="arm64",
        multi_arch="same",
    )
    assert not _found(good, "stable-abi-missing-multiarch")


def test_bookworm_python_does_not_load_the_triplet_name() -> None:
    """Why the fix text says 'where every supported runtime accepts it': Debian 12's 3.11 has
    no .abi3-<triplet>.so suffix (Debian patches 3.13 on; upstream 3.15)."""
    out = subprocess.run(
        [
            "/usr/bin/python3.11",
            "-c",
            "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".abi3.so" in out and ".abi3-x86_64-linux-gnu.so" not in out


@pytest.mark.network
def test_missing_multiarch_silent_on_tagged_debs(corpus_debs: dict[str, Path]) -> None:
    for name in ("python3-numpy", "python3-yaml", "python3-six"):
        assert not _found(corpus_debs[name], "stable-abi-missing-multiarch"), name


# --------------------------------------- stable-abi-symbol-violation / baseline-too-new

_VIOLATING_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *f(PyObject *self, PyObject *arg) {
    PyObject **d = _PyObject_GetDictPtr(arg);
    return PyLong_FromLong(PyUnicode_AsUTF8(arg) != NULL && d == NULL);
}
static PyMethodDef methods[] = {{"f", f, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_demo", NULL, -1, methods};
PyMODINIT_FUNC PyInit__demo(void) { return PyModule_Create(&mod); }
"""

# Built for the 3.10 stable ABI (PyModule_AddObjectRef is new in 3.10) but shipped as cp39-abi3.
_NEWER_C = r"""
#define Py_LIMITED_API 0x030A0000
#include <Python.h>
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_newer", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__newer(void) {
    PyObject *m = PyModule_Create(&mod);
    if (m && PyModule_AddObjectRef(m, "answer", Py_None) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
"""


def _compile(tmp: Path, name: str, source: str) -> bytes:
    """A real extension module compiled by gcc against CPython 3.12's headers."""
    include = next(PYENV.glob("3.12.*/include/python3.12"), None)
    if include is None or shutil.which("gcc") is None:
        pytest.skip("gcc or CPython 3.12 headers missing")
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / f"{name}.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O1", f"-I{include}", "-o", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def built_abi3_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("abi3")
    return build.wheel(
        tmp,
        "demo",
        "1.0",
        {
            "demo/_demo.abi3.so": _compile(tmp, "_demo", _VIOLATING_C),
            "demo/_newer.abi3.so": _compile(tmp, "_newer", _NEWER_C),
            "demo/__init__.py": "",
        },
        tag="cp39-abi3-manylinux_2_17_x86_64",
    )


def test_symbol_violation_on_built_module(built_abi3_wheel: Path) -> None:
    hits = _found(built_abi3_wheel, "stable-abi-symbol-violation")
    assert [(p, m) for p, m, _ in hits] == [
        (
            "demo/_demo.abi3.so",
            "_demo.abi3.so imports 2 symbol(s) outside the stable ABI: "
            "PyUnicode_AsUTF8, _PyObject_GetDictPtr",
        )
    ]


def test_baseline_too_new_on_built_module(built_abi3_wheel: Path, installed: list[Runtime]) -> None:
    hits = _found(built_abi3_wheel, "stable-abi-baseline-too-new")
    assert [p for p, _, _ in hits] == ["demo/_newer.abi3.so"]
    assert "PyModule_AddObjectRef (3.10)" in hits[0][1] and "cp39-abi3" in hits[0][1]
    # With the real 3.9 known, the verdict names it: the symbol does not exist there.
    real = _found(built_abi3_wheel, "stable-abi-baseline-too-new", combine(installed, CAT))
    if not any(r.version == (3, 9) and r.installed for r in installed):
        pytest.skip("no CPython 3.9 installed")
    assert real[0][2] == "error" and "does not export PyModule_AddObjectRef" in real[0][1]


def _import_with(py: Path, whl: Path, module: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    dest = tmp / f"site-{py.name}"
    if not dest.exists():
        with zipfile.ZipFile(whl) as zf:
            zf.extractall(dest)
    return subprocess.run(
        [str(py), "-c", f"import {module}"], cwd=dest, capture_output=True, text=True, check=False
    )


def test_real_interpreters_agree_on_built_module(built_abi3_wheel: Path, tmp_path: Path) -> None:
    """3.9 (the wheel tag's baseline) cannot load _newer.abi3.so; 3.10 can."""
    r39 = _import_with(_pyenv("3.9"), built_abi3_wheel, "demo._newer", tmp_path)
    assert r39.returncode != 0 and "undefined symbol: PyModule_AddObjectRef" in r39.stderr
    r310 = _import_with(_pyenv("3.10"), built_abi3_wheel, "demo._newer", tmp_path)
    assert r310.returncode == 0, r310.stderr


@pytest.mark.network
def test_baseline_too_new_on_procmaps(
    corpus_wheels: dict[str, Path], installed: list[Runtime], tmp_path: Path
) -> None:
    """procmaps-0.5.0-cp36-abi3 (abi3audit's README example) uses PyUnicode_AsUTF8AndSize,
    stable only since 3.10.  CPython 3.6 exports it anyway (it is older than its
    stabilisation): the real interpreter imports the module, so with it known the finding
    drops to a warning and says so."""
    whl = corpus_wheels["procmaps-abi3"]
    hits = _found(whl, "stable-abi-baseline-too-new")
    assert [(p, s) for p, _, s in hits] == [("procmaps.abi3.so", "error")]
    assert "PyUnicode_AsUTF8AndSize (3.10)" in hits[0][1]
    if not any(r.version == (3, 6) and r.installed for r in installed):
        pytest.skip("no CPython 3.6 installed")
    real = _found(whl, "stable-abi-baseline-too-new", combine(installed, CAT))
    assert real[0][2] == "warning" and "exports them anyway" in real[0][1]
    assert _import_with(_pyenv("3.6"), whl, "procmaps", tmp_path).returncode == 0


@pytest.mark.network
@pytest.mark.parametrize(
    "name", ["cryptography-abi3", "bcrypt-abi3", "bcrypt-abi3-aarch64", "pynacl-abi3"]
)
def test_stable_abi_rules_silent_on_clean_abi3_wheels(
    corpus_wheels: dict[str, Path], name: str
) -> None:
    for rule in ("stable-abi-symbol-violation", "stable-abi-baseline-too-new"):
        assert not _found(corpus_wheels[name], rule), (name, rule)


# ----------------------------------------------------------------- abi3audit parity


def _syms(message: str) -> set[str]:
    listed = message.split(";")[0].rsplit(": ", 1)[1]
    return {re.sub(r" \(\d+\.\d+\)$", "", s) for s in listed.split(", ")}


def _abi3audit(whl: Path) -> dict[str, tuple[set[str], set[str]]]:
    """abi3audit's per-module verdict: (non-abi3 symbols, symbols newer than the baseline)."""
    proc = subprocess.run(
        [ABI3AUDIT, "--report", str(whl)], capture_output=True, text=True, check=False
    )
    report = json.loads(proc.stdout)
    out = {}
    for spec in report["specs"].values():
        for so in spec.get("wheel", []):
            res = so["result"]
            out[so["name"]] = (set(res["non_abi3_symbols"]), set(res["future_abi3_objects"]))
    return out


def _coinstall(whl: Path) -> dict[str, tuple[set[str], set[str]]]:
    res = check([str(whl)], KNOWN, CAT)
    out: dict[str, tuple[set[str], set[str]]] = {}
    for r in res.artifacts[0].records:
        if r.kind == "extension" and ".abi3" in r.path:
            out[Path(r.path).name] = (set(), set())
    for f in res.artifacts[0].findings:
        if f.path is None:
            continue
        name = Path(f.path).name
        if f.rule == "stable-abi-symbol-violation":
            out[name][0].update(_syms(f.message))
        elif f.rule == "stable-abi-baseline-too-new":
            out[name][1].update(_syms(f.message))
    return out


@pytest.mark.network
@pytest.mark.parametrize(
    "name",
    ["cryptography-abi3", "bcrypt-abi3", "bcrypt-abi3-aarch64", "pynacl-abi3", "procmaps-abi3"],
)
def test_abi3audit_parity_real_wheels(corpus_wheels: dict[str, Path], name: str) -> None:
    assert _coinstall(corpus_wheels[name]) == _abi3audit(corpus_wheels[name])


def test_abi3audit_parity_built_wheel(built_abi3_wheel: Path) -> None:
    ours, theirs = _coinstall(built_abi3_wheel), _abi3audit(built_abi3_wheel)
    assert ours == theirs
    assert theirs["_demo.abi3.so"][0] == {"PyUnicode_AsUTF8", "_PyObject_GetDictPtr"}
    assert theirs["_newer.abi3.so"][1] == {"PyModule_AddObjectRef"}


# ----------------------------------------------------------------- extension-arch-mismatch


@pytest.mark.network
def test_arch_mismatch_aarch64_module_in_x86_64_wheel(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    _, so = _member(corpus_wheels["bcrypt-abi3-aarch64"], ".so")
    w = build.wheel(
        tmp_path,
        "bcrypt",
        "4.2.1",
        {"bcrypt/_bcrypt.abi3.so": so, "bcrypt/__init__.py": ""},
        tag="cp39-abi3-manylinux_2_28_x86_64",
    )
    hits = _found(w, "extension-arch-mismatch")
    assert [p for p, _, _ in hits] == ["bcrypt/_bcrypt.abi3.so"]
    assert "EM_AARCH64" in hits[0][1] and "x86_64-linux-gnu" in hits[0][1]
    # The real interpreter refuses it.
    proc = _import_with(_pyenv("3.12"), w, "bcrypt._bcrypt", tmp_path)
    assert proc.returncode != 0 and "ImportError" in proc.stderr


@pytest.mark.network
def test_arch_mismatch_in_debs(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    _, so = _member(corpus_wheels["bcrypt-abi3"], ".so")
    d = "usr/lib/python3/dist-packages/bcrypt/"
    arm = build.deb(tmp_path, "python3-bcrypt", "1.0-1", {d + "_bcrypt.abi3.so": so}, arch="arm64")
    assert "EM_X86_64" in _found(arm, "extension-arch-mismatch")[0][1]
    indep = build.deb(tmp_path, "python3-bcrypt-all", "1.0-1", {d + "_bcrypt.abi3.so": so})
    assert "architecture-independent" in _found(indep, "extension-arch-mismatch")[0][1]
    # A triplet in the file name is a claim too.
    named = build.deb(
        tmp_path,
        "python3-bcrypt-named",
        "1.0-1",
        {d + "_bcrypt.cpython-311-aarch64-linux-gnu.so": so},
        arch="amd64",
    )
    assert "its file name says aarch64-linux-gnu" in _found(named, "extension-arch-mismatch")[0][1]


@pytest.mark.network
def test_arch_mismatch_silent_on_real_packages(corpus_rules: dict[Path, set[str]]) -> None:
    for p, rules in corpus_rules.items():
        assert "extension-arch-mismatch" not in rules, p


# ------------------------------------------------------------ extension-missing-for-runtime


@pytest.mark.network
def test_missing_for_runtime_debian_range(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    name, so = _member(corpus_wheels["pyyaml-cp311"], ".so")
    d = "usr/lib/python3/dist-packages/"
    deb = build.deb(
        tmp_path,
        "python3-yaml",
        "6.0-9",
        {d + name: so, d + "yaml/__init__.py": ""},
        arch="amd64",
        depends="python3 (>= 3.11~), python3 (<< 3.13), python3:any",
    )
    hits = _found(deb, "extension-missing-for-runtime")
    assert [p for p, _, _ in hits] == [d + name]
    assert "yaml/_yaml is built for 3.11 only; missing for 3.12" in hits[0][1]
    assert "python3 (<< 3.13)" in hits[0][1]
    # The real 3.12 finds no module under that name.
    site = tmp_path / "site"
    (site / "yaml").mkdir(parents=True)
    (site / name).write_bytes(so)
    (site / "yaml/__init__.py").write_text("")
    proc = subprocess.run(
        [str(_pyenv("3.12")), "-c", "import yaml._yaml"],
        cwd=site,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "ModuleNotFoundError" in proc.stderr


@pytest.mark.network
def test_missing_for_runtime_two_versioned_dirs(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """An RPM for two stacks with the module in python3.11's tree only."""
    name, so = _member(corpus_wheels["pyyaml-cp311"], ".so")
    rpm = build.rpm(
        tmp_path,
        "python-yaml-both",
        "6.0",
        {
            f"usr/lib64/python3.11/site-packages/{name}": so,
            "usr/lib64/python3.11/site-packages/yaml/__init__.py": "",
            "usr/lib64/python3.12/site-packages/yaml/__init__.py": "",
        },
        arch="x86_64",
    )
    hits = _found(rpm, "extension-missing-for-runtime")
    assert len(hits) == 1 and "missing for 3.12" in hits[0][1]


@pytest.mark.network
def test_python3_defaults_release_is_not_a_runtime_range(
    corpus_debs: dict[str, Path], tmp_path: Path
) -> None:
    """bookworm's python3-tk and python3-gdbm ship lib-dynload modules for 3.11 only and
    ``Depends: python3 (>= 3.10.8-0~), python3 (<< 3.12)``: the lower bound names the
    python3-defaults release they need, not a 3.10 build they lack.  dh-python's own
    spelling of the same range, ``python3 (>= 3.10~)``, does claim a 3.10 build (dhpython
    depends.py writes ``>= MIN~`` from the versions it built extensions for)."""
    from coinstall.rules import _abi

    for name in ("python3-tk", "python3-gdbm"):
        deb = corpus_debs[name]
        assert _found(deb, "extension-missing-for-runtime") == [], name
        res = check([str(deb)], KNOWN, CAT)
        ctx = res.artifacts[0].context
        assert ctx is not None
        sup = _abi.support(ctx)
        assert sup.versions == {(3, 11)} and sup.lowest == (3, 11), name
        rng = _abi.deb_python3_range(ctx)
        assert (rng.low, rng.release_low, rng.high) == (None, (3, 10), (3, 12)), name
    mod = "usr/lib/python3.11/lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so"
    tar = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(corpus_debs["python3-tk"])],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp_path), f"./{mod}"], input=tar, check=True)
    dh = build.deb(
        tmp_path,
        "python3-tkx",
        "1.0",
        {mod: (tmp_path / mod).read_bytes()},
        arch="amd64",
        depends="python3 (>= 3.10~), python3 (<< 3.12)",
    )
    hits = _found(dh, "extension-missing-for-runtime")
    assert [m for _, m, _ in hits] == [
        "lib-dynload/_tkinter is built for 3.11 only; missing for 3.10 (ships files for 3.11 "
        "and Depends: python3 (>= 3.10~), python3 (<< 3.12))"
    ]


@pytest.mark.network
def test_missing_for_runtime_silent_on_real_packages(corpus_rules: dict[Path, set[str]]) -> None:
    # bookworm's numpy and yaml depend on python3 (>= 3.11~), python3 (<< 3.12): 3.11 only.
    for p, rules in corpus_rules.items():
        assert "extension-missing-for-runtime" not in rules, p


@pytest.mark.network
def test_abi3audit_parity_on_bookworm_cryptography(
    corpus_debs: dict[str, Path], installed: list[Runtime], tmp_path: Path
) -> None:
    """Debian's cryptography 38 says Requires-Python >=3.6; its _rust.abi3.so uses
    PySlice_Unpack and PySlice_AdjustIndices, stable only since 3.7.  In the .deb that claim
    is upstream's: dpkg does not read Requires-Python and the package's Depends name no
    runtime (``python3 (>= 3~)``), so the rule is silent there (issue 13 part 7).  The same
    module in a wheel tagged cp36-abi3 with that Requires-Python is what pip would install on
    3.6: abi3audit, told the same baseline, reports the same symbols; the real CPython 3.6
    exports both (since 3.6.1), so with it known the finding is a warning that says so."""
    deb = corpus_debs["python3-cryptography"]
    assert _found(deb, "stable-abi-baseline-too-new") == []
    so_path = "usr/lib/python3/dist-packages/cryptography/hazmat/bindings/_rust.abi3.so"
    tar = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp_path), f"./{so_path}"], input=tar, check=True)
    so = (tmp_path / so_path).read_bytes()
    whl = build.wheel(
        tmp_path,
        "cryptography",
        "38.0.4",
        {"cryptography/__init__.py": "", "cryptography/hazmat/bindings/_rust.abi3.so": so},
        tag="cp36-abi3-manylinux_2_17_x86_64",
        requires_python=">=3.6",
    )
    hits = _found(whl, "stable-abi-baseline-too-new")
    assert [(p, s) for p, _, s in hits] == [("cryptography/hazmat/bindings/_rust.abi3.so", "error")]
    assert "Requires-Python >=3.6" in hits[0][1]
    proc = subprocess.run(
        [ABI3AUDIT, "--report", "--assume-minimum-abi3", "3.6", str(tmp_path / so_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    result = next(iter(json.loads(proc.stdout)["specs"].values()))["object"]["result"]
    assert set(result["future_abi3_objects"]) == _syms(hits[0][1])
    assert result["non_abi3_symbols"] == []
    assert not _found(deb, "stable-abi-symbol-violation")
    if not any(r.version == (3, 6) and r.installed for r in installed):
        pytest.skip("no CPython 3.6 installed")
    real = _found(whl, "stable-abi-baseline-too-new", combine(installed, CAT))
    assert real[0][2] == "warning" and "exports them anyway" in real[0][1]


@pytest.mark.network
@pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian missing")
def test_lintian_has_no_stable_abi_tag(
    corpus_debs: dict[str, Path], corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """Parity record (reference/debian.md §3, 'Not covered by lintian'): on the .debs where
    stable-abi-missing-multiarch fires, lintian's tags on the .abi3.so files are about
    hardening, none about Python, multiarch or the file name."""
    _, so = _member(corpus_wheels["bcrypt-abi3"], ".so")
    ma_same = build.deb(
        tmp_path,
        "python3-bcrypt",
        "1.0-1",
        {"usr/lib/python3/dist-packages/bcrypt/_bcrypt.abi3.so": so},
        arch="amd64",
        multi_arch="same",
        depends="python3:any",
    )
    for deb in (corpus_debs["python3-cryptography"], ma_same):
        assert _found(deb, "stable-abi-missing-multiarch")
        proc = subprocess.run(
            ["lintian", "--no-cfg", "--allow-root", "-I", str(deb)],
            capture_output=True,
            text=True,
            check=False,
        )
        tags = {
            line.split(": ")[2].split()[0]
            for line in proc.stdout.splitlines()
            if ".abi3.so" in line and line[:2] in ("E:", "W:", "I:", "P:")
        }
        assert not {t for t in tags if re.search(r"python|multi-?arch|abi", t)}, tags


# ----------------------------------------------------------------- extension-tag-mismatch:
# a debug build shares its release build's directories

DYNLOAD = Path("/usr/lib/python3.11/lib-dynload")


def _member_deb(deb: Path, suffix: str) -> tuple[str, bytes]:
    """The first member of a .deb whose path ends with ``suffix``, read by coinstall's reader."""
    reader = open_artifact(str(deb))
    for m in reader.members(lambda path, size: path.endswith(suffix)):
        if m.type == "file" and m.path.endswith(suffix) and m.content is not None:
            return m.path, m.content
    raise AssertionError(f"no {suffix} in {deb}")


def test_debug_modules_in_the_shared_lib_dynload(installed: list[Runtime]) -> None:
    # Debian's python3.11-dbg installs cpython-311d modules into python3.11's own lib-dynload;
    # the real python3.11d imports them from there, so they are no tag mismatch.
    debug = [
        rt
        for rt in installed
        if rt.executable
        and rt.debug
        and rt.version == (3, 11)
        and rt.executable.startswith("/usr/bin/")
    ]
    dmods = sorted(DYNLOAD.glob("*.cpython-311d-x86_64-linux-gnu.so"))
    if not debug or not dmods:
        pytest.skip("Debian's python3.11-dbg is not installed")
    probe = (
        "import importlib.util, sys\n"
        "for n in sys.argv[1:]:\n"
        "    print(importlib.util.find_spec(n).origin)\n"
    )
    names = [p.name.split(".", 1)[0] for p in dmods[:5]]
    out = subprocess.run(
        [debug[0].executable or "", "-I", "-c", probe, *names],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(p) for p in dmods[:5]]
    assert _found(DYNLOAD, "extension-tag-mismatch", installed) == []
    assert _found(DYNLOAD, "extension-tag-mismatch") == []  # the catalogue's debug builds too


def test_debug_module_silent_other_version_fires(
    tmp_path: Path, corpus_debs: dict[str, Path]
) -> None:
    # A cpython-311d module beside python3.11's (Fedora's python3-debug layout) is the debug
    # build's; a cpython-312 module in python3.11's directory is nobody's.
    _, so = _member_deb(corpus_debs["python3-yaml"], ".cpython-311-x86_64-linux-gnu.so")
    base = "usr/lib64/python3.11/site-packages/yaml/"
    rpm = build.rpm(
        tmp_path,
        "python3-yaml",
        "6.0",
        {
            base + "_yaml.cpython-311-x86_64-linux-gnu.so": (so, 0o755),
            base + "_yaml.cpython-311d-x86_64-linux-gnu.so": (so, 0o755),
            base + "_other.cpython-312-x86_64-linux-gnu.so": (so, 0o755),
        },
        arch="x86_64",
        requires=["python(abi) = 3.11"],
    )
    found = {p for p, _, _ in _found(rpm, "extension-tag-mismatch")}
    assert found == {base + "_other.cpython-312-x86_64-linux-gnu.so"}
