"""The process pool's fixed cost (issue 22, goal 2): the fork server imports what a worker
needs once (coinstall.archive.preload), so that a worker forked from it imports nothing on its
first .deb, RPM or wheel; and the pool is not started for a run the result cache answers."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from coinstall import archive
from coinstall.archive import POOL_MIN_BYTES, runner, worker
from coinstall.archive.worker import Settings
from coinstall.config import Config
from coinstall.runtimes import catalogue
from coinstall.runtimes.inventory import combine

CAT = catalogue.load()
RTS = combine([], CAT)
#: asked in the worker: eval is a builtin, pickled by name (no test code runs in the worker)
COINSTALL = str(Path(sys.executable).with_name("coinstall"))
MODULES = "sorted(__import__('sys').modules)"


def test_a_worker_imports_nothing_on_its_first_packages(
    corpus_debs: dict[str, Path], corpus_wheels: dict[str, Path], corpus_rpms: list[Path]
) -> None:
    """Without the preload, the worker imported python-debian, pyelftools, abi3info, the rule
    modules and the readers itself (~0.2 s of CPU per worker under no load)."""
    targets = [
        str(corpus_debs["python3-yaml"]),  # ELF extensions: pyelftools, the stable ABI
        str(corpus_debs["python3-six"]),
        *(str(p) for p in corpus_rpms[:2]),
        *(str(p) for _, p in sorted(corpus_wheels.items())[:3]),
    ]
    st = Settings(RTS, Config(), digests=True, set_index=True, matrix=True, hash_files=True)
    with ProcessPoolExecutor(
        1,
        mp_context=runner._forkserver_context(),
        initializer=worker.init_process,
        initargs=(st,),
    ) as pool:
        before = set(pool.submit(eval, MODULES).result())
        for t in targets:
            out = pool.submit(worker.check_in_process, t, None).result()
            assert out.artifact is not None, (t, out.errors)
        after = set(pool.submit(eval, MODULES).result())
    assert sorted(after - before) == []


#: Runs a command as a child subreaper (prctl PR_SET_CHILD_SUBREAPER): every process of its
#: tree that nobody else reaps (the fork server, multiprocessing's resource tracker) is reaped
#: here; prints how many processes were reaped.
REAPER = """
import ctypes, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
n = 0
while True:
    try:
        __import__("os").wait()
    except ChildProcessError:
        break
    n += 1
print(n)
"""


def _processes(cmd: list[str], env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, "-c", REAPER, *cmd], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout)


def test_a_cached_run_starts_no_pool(tmp_path: Path, corpus_debs: dict[str, Path]) -> None:
    """``--repo`` with ``--jobs 2`` started the fork server before reading the index, even when
    the result cache held every package (the warm archive run)."""
    mirror = tmp_path / "mirror"
    paras = []
    for name in ("python3-six", "python3-chardet"):
        src = corpus_debs[name]
        rel = f"pool/main/{src.name}"
        (mirror / "pool" / "main").mkdir(parents=True, exist_ok=True)
        shutil.copy(src, mirror / rel)
        data = src.read_bytes()
        paras.append(
            f"Package: {name}\nFilename: {rel}\nSize: {len(data)}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    index = tmp_path / "Packages"
    index.write_text("\n".join(paras))
    env = {**os.environ, "COINSTALL_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [COINSTALL, "check", "--no-installed", "--format", "jsonl", "--jobs", "2"]
    cmd += ["--repo", str(index), "--mirror", str(mirror)]
    cold = _processes(cmd, env)
    assert cold >= 2  # coinstall and the pool's fork server at least
    assert _processes(cmd, env) == 1  # warm: coinstall alone


def _files(tmp_path: Path, sizes: list[int]) -> list[str]:
    tmp_path.mkdir()
    out = []
    for n, size in enumerate(sizes):
        p = tmp_path / f"p{n}.deb"
        with open(p, "wb") as f:
            f.truncate(size)  # sparse: the decision reads sizes only
        out.append(str(p))
    return out


def test_the_pool_is_chosen_by_the_work_it_runs_beside_the_rest(tmp_path: Path) -> None:
    """One large package among small ones: a second worker reads only the small ones beside
    it (the 14 test-corpus .debs, 9.8 MiB, were 1.05x slower by default than --jobs 1 while
    the threshold counted every byte)."""
    cores = archive._cores()
    big = 4 * POOL_MIN_BYTES
    assert archive.parallel_bytes([big, 10, 10], 2) == 20
    assert archive.parallel_bytes([100, 100, 100, 100], 2) == 200
    assert archive.parallel_bytes([], 2) == 0
    assert archive.default_jobs(_files(tmp_path / "a", [big, 1000, 1000])) == 1
    even = _files(tmp_path / "b", [POOL_MIN_BYTES] * 4)
    assert archive.default_jobs(even) == (cores if cores > 1 else 1)
    # sizes as lstat gives them: a missing path is no work
    assert archive.default_jobs([*even[:1], str(tmp_path / "missing.deb")]) == 1
