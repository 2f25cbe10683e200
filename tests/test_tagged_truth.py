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


def _make(wheel: Path, stem: str, tag: str, root: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)
    found = [p for p in root.rglob("*.so")
             if str(p.relative_to(root)).split(".", 1)[0] == stem]
    assert len(found) == 1, (wheel, found)
    target = root / f"{stem}.{tag}-{TRIPLET}.so"
    found[0].rename(target)
    return target


def test_lying_tags_agree_with_real_imports(corpus_wheels: dict[str, Path],
                                            tmp_path: Path) -> None:
    runtimes, _errors = discovery.discover()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    wrong: list[str] = []
    pairs = agreed = cannot_tell = refused = 0
    for label, (wheel, stem, tag, dotted) in LIES.items():
        root = tmp_path / label
        module = _make(corpus_wheels[wheel], stem, tag, root)
        data = module.read_bytes()
        rec = classify(path=str(module.relative_to(root)), fmt="wheel", head=data[:4096],
                       content=data, size=len(data), mode=0o644, mtime=0, catalogue=CAT)
        assert rec.kind == "extension"
        rec.scope = Scope("any")
        j = judge([rec], runtimes)
        open_ = j.cannot_tell.get(rec.path, frozenset())
        for rt in runtimes:
            assert rt.executable is not None
            proc = subprocess.run([rt.executable, "-E", "-s", "-c", f"import {dotted}"],
                                  cwd=root, capture_output=True, text=True, timeout=120, env=env)
            truth = proc.returncode == 0
            ours = rt.id in j.usable[rec.path]
            pairs += 1
            if rt.id in open_:
                assert not ours
                cannot_tell += 1
                continue
            if truth != ours:
                err = (proc.stderr.strip().splitlines() or [f"rc {proc.returncode}"])[-1]
                wrong.append(f"{label} on {rt.id}: the interpreter "
                             f"{'imports it' if truth else 'fails: ' + err[:200]}; coinstall "
                             f"says {'usable' if ours else j.reasons[rec.path][rt.id]}")
            else:
                agreed += 1
                # the tag's own runtime finds the file; only the symbols can refuse it
                if not truth and tag.replace("cpython-", "") == "".join(
                        map(str, rt.version)) and rt.implementation == "cpython" \
                        and not rt.free_threaded and "does not export" in \
                        j.reasons[rec.path][rt.id]:
                    refused += 1
    print(f"{pairs} pairs, {agreed} agree, {cannot_tell} cannot tell, {len(wrong)} wrong, "
          f"{refused} refused by the symbols")
    assert not wrong, "\n".join(wrong)
    # the example: 3.11 fails on the cp312 module, and so does every lie's own
    # runtime here (pyenv's and Debian's 3.11 are two runtimes of one tag)
    assert refused >= len(LIES)
