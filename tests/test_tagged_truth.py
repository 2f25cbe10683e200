"""Ground truth for version-tagged modules whose tag lies (issue 18 item 3, first bullet): the
tag's runtime finds the module by its name, but its imported symbols must exist there too.

Real wheels' modules are renamed to another CPython's tag (msgpack's cp312 ``_cmsgpack`` as
``_cmsgpack.cpython-311-x86_64-linux-gnu.so``, ...), beside their package's Python code, and
every interpreter on this machine imports them in a subprocess (exit status 0: uses it; an
ImportError or a signal: does not).  coinstall's verdict must agree, or be "cannot tell"; the
real 3.11 fails on the cp312 module with "undefined symbol", and coinstall must not call it
usable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

from coinstall.files.location import Scope
from coinstall.files.verdict import classify, judge
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery

CAT = catalogue_mod.load()
TRIPLET = "x86_64-linux-gnu"

#: label -> (corpus wheel, module stem in the wheel, the tag it is renamed to, what to import)
LIES = {
    "cp312-as-311": ("msgpack-cp312", "msgpack/_cmsgpack", "cpython-311", "msgpack._cmsgpack"),
    "cp313-as-312": ("msgpack-cp313", "msgpack/_cmsgpack", "cpython-312", "msgpack._cmsgpack"),
    "cp311-as-310": ("msgpack-cp311", "msgpack/_cmsgpack", "cpython-310", "msgpack._cmsgpack"),
    "cp310-as-39": ("msgpack-cp310", "msgpack/_cmsgpack", "cpython-39", "msgpack._cmsgpack"),
    "cp313-as-314": ("pyyaml-cp313", "yaml/_yaml", "cpython-314", "yaml._yaml"),
    "cp311-as-313": ("pyyaml-cp311", "yaml/_yaml", "cpython-313", "yaml._yaml"),
}

#: Lying ABI flags (issue 18): the version is right, the build is not.  ``None`` as the wheel:
#: Debian python3.11-dbg's ``_testbuffer.cpython-311d-x86_64-linux-gnu.so``, copied.
FLAG_LIES = {
    # GIL builds' modules named for the free-threaded 3.13t: msgpack's imports _Py_Dealloc
    # (the real 3.13t: "init function returned uninitialized object"); MarkupSafe's imports
    # nothing that tells (the real 3.13t: SIGSEGV)
    "gil-as-313t-msgpack": (
        "msgpack-cp313",
        "msgpack/_cmsgpack",
        "cpython-313t",
        "msgpack._cmsgpack",
    ),
    "gil-as-313t-markupsafe": (
        "markupsafe-cp313",
        "markupsafe/_speedups",
        "cpython-313t",
        "markupsafe._speedups",
    ),
    # a 3.13t module named for the GIL build: undefined symbol PyUnstable_Module_SetGIL
    "ft-as-313-markupsafe": (
        "markupsafe-cp313t",
        "markupsafe/_speedups",
        "cpython-313",
        "markupsafe._speedups",
    ),
    # a release module named for the debug build (3.11d loads it: bpo-36465), and a debug
    # build's module named for the release build (undefined symbol _Py_RefTotal)
    "release-as-311d": ("msgpack-cp311", "msgpack/_cmsgpack", "cpython-311d", "msgpack._cmsgpack"),
    "debug-as-311": (None, "_testbuffer", "cpython-311", "_testbuffer"),
}
DBG_TESTBUFFER = Path(
    "/usr/lib/python3.11/lib-dynload/_testbuffer.cpython-311d-x86_64-linux-gnu.so"
)


def _make(wheel: Path | None, stem: str, tag: str, root: Path) -> Path:
    if wheel is None:
        assert DBG_TESTBUFFER.exists(), "python3.11-dbg is part of scripts/setup.sh"
        root.mkdir(parents=True)
        target = root / f"{stem}.{tag}-{TRIPLET}.so"
        shutil.copy(DBG_TESTBUFFER, target)
        return target
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)
    found = [p for p in root.rglob("*.so") if str(p.relative_to(root)).split(".", 1)[0] == stem]
    assert len(found) == 1, (wheel, found)
    target = root / f"{stem}.{tag}-{TRIPLET}.so"
    found[0].rename(target)
    return target


def _judge_lies(
    lies: dict[str, tuple[str | None, str, str, str]],
    corpus_wheels: dict[str, Path],
    tmp_path: Path,
) -> tuple[list[str], dict[str, dict[str, str]], dict[str, int]]:
    """Make every lie, judge it and import it in every real interpreter: the wrong pairs,
    label -> runtime id -> ("usable"/"unusable"/"cannot tell" + what the interpreter did),
    and the counts."""
    runtimes, _errors = discovery.discover()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    wrong: list[str] = []
    seen: dict[str, dict[str, str]] = {}
    n = {"pairs": 0, "agreed": 0, "cannot_tell": 0, "refused": 0}
    for label, (wheel, stem, tag, dotted) in lies.items():
        root = tmp_path / label
        module = _make(corpus_wheels[wheel] if wheel else None, stem, tag, root)
        data = module.read_bytes()
        rec = classify(
            path=str(module.relative_to(root)),
            fmt="wheel",
            head=data[:4096],
            content=data,
            size=len(data),
            mode=0o644,
            mtime=0,
            catalogue=CAT,
        )
        assert rec.kind == "extension"
        rec.scope = Scope("any")
        j = judge([rec], runtimes)
        open_ = j.cannot_tell.get(rec.path, frozenset())
        seen[label] = {}
        for rt in runtimes:
            assert rt.executable is not None
            # the module made here, not a namesake (3.12 has its own _testbuffer)
            code = (
                f"import os, {dotted}; assert os.path.realpath({dotted}.__file__)"
                f".startswith(os.path.realpath(os.getcwd())), {dotted}.__file__"
            )
            proc = subprocess.run(
                [rt.executable, "-E", "-s", "-c", code],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
            )
            truth = proc.returncode == 0
            ours = rt.id in j.usable[rec.path]
            n["pairs"] += 1
            verdict = "cannot tell" if rt.id in open_ else "usable" if ours else "unusable"
            seen[label][rt.id] = f"{verdict}, {'imports' if truth else 'fails'}"
            if rt.id in open_:
                assert not ours
                n["cannot_tell"] += 1
                continue
            if truth != ours:
                err = (proc.stderr.strip().splitlines() or [f"rc {proc.returncode}"])[-1]
                wrong.append(
                    f"{label} on {rt.id}: the interpreter "
                    f"{'imports it' if truth else 'fails: ' + err[:200]}; coinstall "
                    f"says {'usable' if ours else j.reasons[rec.path][rt.id]}"
                )
            else:
                n["agreed"] += 1
                # the tag's own runtime finds the file; only the symbols can refuse it
                if (
                    not truth
                    and tag.replace("cpython-", "") == "".join(map(str, rt.version))
                    and rt.implementation == "cpython"
                    and not rt.free_threaded
                    and "does not export" in j.reasons[rec.path][rt.id]
                ):
                    n["refused"] += 1
    print(n, "wrong:", len(wrong))
    return wrong, seen, n


def test_lying_tags_agree_with_real_imports(corpus_wheels: dict[str, Path], tmp_path: Path) -> None:
    wrong, _seen, n = _judge_lies(LIES, corpus_wheels, tmp_path)
    assert not wrong, "\n".join(wrong)
    # the example: 3.11 fails on the cp312 module, and so does every lie's own
    # runtime here (pyenv's and Debian's 3.11 are two runtimes of one tag)
    assert n["refused"] >= len(LIES)


def test_lying_build_flags_agree_with_real_imports(
    corpus_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """Flags that lie: a GIL build's module named ``t``, a free-threaded one without, a debug
    build's named for the release build and the reverse; the tag's own interpreter decides."""
    wrong, seen, _n = _judge_lies(FLAG_LIES, corpus_wheels, tmp_path)
    for label, row in seen.items():
        print(label, {k: v for k, v in row.items() if not v.startswith("unusable, fails")})
    assert not wrong, "\n".join(wrong)
    # the lies' own interpreters: the 3.13t fails on both GIL modules, 3.13 on the 3.13t one,
    # 3.11 on the debug one; 3.11d imports the release one
    assert seen["gil-as-313t-msgpack"]["cpython-3.13t"] == "unusable, fails"
    # MarkupSafe 3.0.2 imports nothing that tells: its PyModuleDef header does
    assert seen["gil-as-313t-markupsafe"]["cpython-3.13t"] == "unusable, fails"
    assert {
        v for k, v in seen["ft-as-313-markupsafe"].items() if k.startswith("cpython-3.13@")
    } == {"unusable, fails"}
    assert {v for k, v in seen["debug-as-311"].items() if k.startswith("cpython-3.11@")} == {
        "unusable, fails"
    }
    assert seen["release-as-311d"]["cpython-3.11d"] == "usable, imports"
