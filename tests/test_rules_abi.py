"""Rules on what an extension module's binary says against its wheel's tags and its
directory (issue 18): wheel-tag-module-mismatch, stable-abi-in-free-threaded-tree, and
extension-untagged's evidence; real wheels' modules in minimal built wheels and trees,
checked as users run it (a separate coinstall process) and in-process."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import build
from coinstall.check import check
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.inventory import combine

CAT = catalogue_mod.load()
KNOWN = combine([], CAT)
COINSTALL = Path(sys.executable).parent / "coinstall"


def _module(whl: Path) -> bytes:
    with zipfile.ZipFile(whl) as zf:
        (name,) = [
            n
            for n in zf.namelist()
            if n.endswith(".so") and "/" in n and not n.endswith("_rational_tests.so")
        ][:1]
        return zf.read(name)


def _rules(path: Path) -> dict[str, list[str]]:
    res = check([str(path)], KNOWN, CAT)
    assert not res.errors, res.errors
    out: dict[str, list[str]] = {}
    for f in res.artifacts[0].findings:
        out.setdefault(f.rule, []).append(f"{f.path}: {f.message}")
    return out


def test_wheel_tag_module_mismatch(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    cp312 = _module(corpus_wheels["msgpack-cp312"])
    ft = _module(corpus_wheels["markupsafe-cp313t"])
    gil = _module(corpus_wheels["markupsafe-cp313"])
    abi3 = _module(corpus_wheels["bcrypt-abi3"])
    gil313 = _module(corpus_wheels["msgpack-cp313"])
    plat = "manylinux_2_17_x86_64"
    cases = {
        # an abi3 tag over a version-specific module (by name, and by symbols when untagged)
        "a": (
            {"a/_core.cpython-312-x86_64-linux-gnu.so": cp312},
            f"cp39-abi3-{plat}",
            "version-specific",
        ),
        "b": ({"b/_cmsgpack.so": cp312}, f"cp39-abi3-{plat}", "full C-API"),
        # a none-ABI platform wheel holding an extension module
        "c": ({"c/_core.abi3.so": abi3}, f"py3-none-{plat}", "ABI tag is none"),
        # cp313t wheel with a GIL build's module, and the reverse
        "d": (
            {"d/_speedups.cpython-313-x86_64-linux-gnu.so": gil},
            f"cp313-cp313t-{plat}",
            "GIL build's module",
        ),
        "e": ({"e/_speedups.abi3.so": abi3}, f"cp313-cp313t-{plat}", "GIL-enabled"),
        "f": ({"f/_speedups.so": ft}, f"cp313-cp313-{plat}", "PyUnstable_Module_SetGIL"),
        # name and tag agree, the symbols do not (flags that lie): a GIL build's cp313
        # module renamed 313t in a cp313t wheel, a 3.13t module renamed 313 in a cp313 one
        "j": (
            {"j/_cmsgpack.cpython-313t-x86_64-linux-gnu.so": gil313},
            f"cp313-cp313t-{plat}",
            "imports _Py_Dealloc",
        ),
        "k": (
            {"k/_speedups.cpython-313-x86_64-linux-gnu.so": ft},
            f"cp313-cp313-{plat}",
            "free-threaded CPython (imports PyUnstable_Module_SetGIL)",
        ),
    }
    for name, (files, tag, words) in cases.items():
        w = build.wheel(tmp_path, name, "1.0", files, tag=tag)
        hits = _rules(w).get("wheel-tag-module-mismatch", [])
        assert len(hits) == 1 and words in hits[0], (name, hits)
    # consistent wheels: silent
    for name, files, tag in (
        ("g", {"g/_core.cpython-312-x86_64-linux-gnu.so": cp312}, f"cp312-cp312-{plat}"),
        ("h", {"h/_bcrypt.abi3.so": abi3}, f"cp39-abi3-{plat}"),
        ("i", {"i/_speedups.cpython-313t-x86_64-linux-gnu.so": ft}, f"cp313-cp313t-{plat}"),
    ):
        w = build.wheel(tmp_path, name, "1.0", files, tag=tag)
        assert "wheel-tag-module-mismatch" not in _rules(w), name
    # the real pinned wheels are consistent
    for key in (
        "msgpack-cp312",
        "bcrypt-abi3",
        "markupsafe-cp313t",
        "markupsafe-cp313",
        "cryptography-abi3",
        "numpy-cp312",
        "pyyaml-cp27mu",
    ):
        assert "wheel-tag-module-mismatch" not in _rules(corpus_wheels[key]), key


def test_stable_abi_in_free_threaded_tree_and_untagged_evidence(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    abi3 = _module(corpus_wheels["bcrypt-abi3"])
    cp312 = _module(corpus_wheels["msgpack-cp312"])
    root = tmp_path / "root"
    for d, name, data in (
        ("usr/lib/python3.13t/site-packages/bcrypt", "_bcrypt.abi3.so", abi3),
        ("usr/lib/python3.13/site-packages/bcrypt", "_bcrypt.abi3.so", abi3),
    ):
        (root / d).mkdir(parents=True)
        (root / d / name).write_bytes(data)
    w = build.wheel(
        tmp_path, "mp", "1.0", {"mp/_cmsgpack.so": cp312}, tag="cp312-cp312-manylinux_2_17_x86_64"
    )
    proc = subprocess.run(
        [str(COINSTALL), "check", "--no-installed", "--format", "json", str(root), str(w)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    found = {(a["format"], f["rule"]): f for a in doc["artifacts"] for f in a["findings"]}
    hit = found[("tree", "stable-abi-in-free-threaded-tree")]
    assert "python3.13t" in hit["path"] and hit["severity"] == "error"
    assert (
        sum(
            f["rule"] == "stable-abi-in-free-threaded-tree"
            for a in doc["artifacts"]
            for f in a["findings"]
        )
        == 1
    )  # not 3.13's own
    untagged = found[("wheel", "extension-untagged")]
    assert "CPython 3.12 by its symbols" in untagged["message"]
