"""Ground truth for an untagged module of a real bookworm package (issue 18): python3-saga's
``_saga_api.so``, a SWIG module named without any ABI tag that uses only the stable ABI and
links ``libpython3.11.so.1.0`` (``DT_NEEDED``).

The .deb and the libraries the module needs (libsaga-api8, libwxbase3.2-1, libpcre2-32-0;
pinned in ``corpus.SAGA_DEBS``) are unpacked with ``dpkg-deb -x``; every interpreter on this
machine imports ``_saga_api`` from the unpacked ``dist-packages`` in a subprocess, with
``LD_LIBRARY_PATH`` naming the unpacked libraries only (exit status 0: uses it; an ImportError
or a signal: does not).  coinstall's verdict must agree or be "cannot tell": pyenv's 3.6
imports it although it lacks the module's 3.7 stable-ABI symbols, because the loader takes
them from the linked libpython3.11 -- that pair is "cannot tell", not "not usable".
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import corpus
from coinstall.files.location import Scope
from coinstall.files.verdict import classify, judge
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery

MODULE = "usr/lib/python3/dist-packages/_saga_api.so"


def test_saga_api_verdicts_equal_real_imports(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for deb in corpus.fetch_saga().values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    data = (root / MODULE).read_bytes()
    rec = classify(
        path=MODULE,
        fmt="deb",
        head=data[:4096],
        content=data,
        size=len(data),
        mode=0o644,
        mtime=0,
        catalogue=catalogue_mod.load(),
    )
    assert rec.kind == "extension" and rec.elf is not None
    assert rec.elf.libpython == "libpython3.11.so.1.0"
    rec.scope = Scope("any")  # the question is the file, not its directory
    runtimes, _errors = discovery.discover()
    j = judge([rec], runtimes)
    open_ = j.cannot_tell.get(MODULE, frozenset())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_"))}
    env["LD_LIBRARY_PATH"] = str(root / "usr/lib/x86_64-linux-gnu")
    wrong: list[str] = []
    agreed = used = 0
    for rt in runtimes:
        assert rt.executable is not None
        proc = subprocess.run(
            [rt.executable, "-E", "-s", "-c", "import _saga_api"],
            cwd=root / "usr/lib/python3/dist-packages",
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        truth = proc.returncode == 0
        ours = rt.id in j.usable[MODULE]
        if rt.id in open_:
            assert not ours
            continue
        used += truth
        if truth != ours:
            err = (proc.stderr.strip().splitlines() or [f"rc {proc.returncode}"])[-1]
            wrong.append(
                f"{rt.id}: the interpreter {'imports it' if truth else 'fails: ' + err}"
                f"; coinstall says {'usable' if ours else j.reasons[MODULE][rt.id]}"
            )
        else:
            agreed += 1
    print(
        f"{len(runtimes)} pairs, {agreed} agree, {len(open_)} cannot tell "
        f"({sorted(open_)}), {len(wrong)} wrong"
    )
    assert not wrong, "\n".join(wrong)
    # bookworm's own 3.11 uses it, and the 3.6 that lacks its symbols is left open
    assert any(rt.id in j.usable[MODULE] for rt in runtimes if rt.version == (3, 11))
    assert any(i.startswith("cpython-3.6") for i in open_), open_
    assert used >= 5
