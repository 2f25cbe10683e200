#!/usr/bin/env python3
"""Ground truth over the bookworm archive: every untagged extension module (``NAME.so``) of
the 4,250 ``python3-*`` packages, imported by every real interpreter on this machine, against
coinstall's verdict (issue 18, item 5).

Run from the repository root, after ``scripts/setup.sh`` and after the archive is fetched
(``benchmarks/archive_bench.py --only fetch`` fills ``.cache/archive-bench/debs``)::

    nice .venv/bin/python scripts/archive_truth.py [--debs DIR] [--jobs 2] [--json OUT]

Steps:

1. **Find.**  Every ``.deb`` of ``--debs`` is read with coinstall's own reader
   (:func:`coinstall.artifacts.open_artifact`); a member is an untagged extension module when
   :func:`coinstall.files.extension.parse_ext_name` gives kind ``untagged`` and
   :func:`coinstall.files.verdict.classify` calls it ``extension`` (an ``.so`` holding its
   ``PyInit_``/``init`` name).  The list is kept in ``--scan-cache`` (per .deb name and size).
2. **Verdict.**  :func:`coinstall.files.verdict.judge` for every runtime that discovery finds
   (``/usr/bin/python3.11``: bookworm's own 3.11.2, and its ``python3.11d``; pyenv's 2.7 and
   3.6-3.13; PyPy 3.9; the trixie 3.13, sid 3.14 and free-threaded 3.13t of
   ``scripts/interpreters.sh``).  The file's directory is not the question (``Scope("any")``,
   as tests/test_saga_truth.py): only whether the interpreter loads the binary.
3. **Truth.**  The package is unpacked once (``dpkg-deb -x`` into a scratch directory) and
   each interpreter loads the module in a fresh process (``-E -s``, ``--timeout`` seconds)
   with ``importlib.machinery.ExtensionFileLoader`` under its dotted name (the site directory
   of the unpacked package first on ``sys.path``; the package's own ``usr/lib/<triplet>`` on
   ``LD_LIBRARY_PATH``).  The outcome is classified:

   * ``ok``: imported;
   * ``abi``: the dynamic loader's ``undefined symbol: Py…``/``_Py…`` (CPython opens modules
     ``RTLD_NOW``), or no ``PyInit_``/``init`` function (the import system's lookup), or a
     signal (a crash while loading: the 3.13t on a GIL-build module);
   * ``missing-lib``: ``cannot open shared object file`` (a library of another package that is
     not installed here), an undefined non-Python symbol or a ``version `X' not found`` (a
     library of another version): not evidence about the interpreter's ABI;
   * ``init``: the object loaded (no loader error) but its init code raised (a Python
     dependency missing, ...): not evidence either way, counted apart.

   Evidence is ``ok`` (the verdict must be usable or "cannot tell") and ``abi`` (the verdict
   must be unusable or "cannot tell").  ``init`` against an unusable verdict that blames a
   symbol is also wrong (the loader found every symbol) and is counted as wrong.

Output: one line per wrong pair, the totals, and ``--json`` with every pair.

``--fetch-deps DIR`` also ``apt-get download``s, into DIR, the Depends closure
(``apt-cache depends --recurse``) a package's libraries need and this machine lacks, unpacked
beside it, when that is at most ``--max-deps`` packages (python3-paraview's is Qt and VTK: not
cheap, its modules stay ``missing-lib``); ``--lib-debs DIR`` unpacks pinned ones
(tests/test_archive_truth.py).

Measured 2026-12-07 (bookworm amd64, the 4,250 ``python3-*`` packages; scan 658 s with 2
workers on a shared machine):

* 182 untagged extension modules in 10 packages (python3-paraview 162, python3-escript and
  -escript-mpi 6 each, python3-torchaudio 2, python3-mathgl, -renderdoc, -rviz, -saga, -stfio,
  -uno 1 each).
* First run, every runtime (15: pyenv 2.7, 3.6-3.13, Debian 3.11 and 3.11d, PyPy 3.9, the
  trixie 3.13, sid 3.14, 3.13t), the package's ``usr/lib`` only on ``LD_LIBRARY_PATH``:
  ``scripts/archive_truth.py --json run1.json``: 2,730 pairs; truth: 2,715 ``missing-lib``,
  15 ``abi``; judged: 2 agree, 50 cannot tell, 2,665 no evidence, 13 "wrong" -- all 13 pyuno
  on every CPython, whose loader aborts (SIGABRT) on the missing ``libuno_cppu.so.3``: the
  classifier's mistake (a signal counted as ABI), fixed (a missing library first); the
  verdicts stayed as they were.  The archive's untagged modules are almost all C++ modules
  of big libraries (VTK, Boost.Python, UNO, Torch): without their libraries they prove
  nothing, hence ``--fetch-deps``.
* Second run, 8 runtimes (2.7u, 3.10, bookworm's 3.11.2 and 3.11d, 3.12, trixie 3.13.5,
  3.13t, sid 3.14), ``--fetch-deps /tmp/libdebs --runtimes ...`` (27 library .debs fetched:
  python3-mathgl's and -renderdoc's closures; escript, paraview, rviz, stfio, torchaudio, uno
  above the 40-package cap), 1,477 s: 1,456 pairs; truth: 1,431 ``missing-lib``, 11 ``ok``,
  8 ``abi``, 6 ``init`` (python3-mathgl's module loads, then wants numpy); judged: 13 agree,
  32 cannot tell, 0 wrong, 1,411 no evidence.  The agreeing evidence: python3-saga's
  ``_saga_api.so`` imports in 3.10-3.14 (usable) and crashes the 3.13t (unusable: limited
  API on a free-threaded build); python3-renderdoc's ``renderdoc.so`` imports in 3.10-3.13
  and crashes 3.14 (all "cannot tell": one of 3.8-3.15) and the 3.13t (unusable: GIL build);
  python3-mathgl's crashes the 3.13t (unusable); Python 2.7 finds no ``init`` function in any.
  No verdict needed a fix: every disagreement the first run showed was the classifier's.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from coinstall.artifacts import open_artifact  # noqa: E402
from coinstall.files import extension as ext  # noqa: E402
from coinstall.files.location import Scope  # noqa: E402
from coinstall.files.verdict import classify, judge  # noqa: E402
from coinstall.runtimes import catalogue as catalogue_mod  # noqa: E402
from coinstall.runtimes import discovery  # noqa: E402
from coinstall.runtimes.model import Runtime  # noqa: E402

CACHE = Path(os.environ.get("COINSTALL_TEST_CACHE", REPO / ".cache"))
EXTRA = (
    Path(os.environ.get("COINSTALL_TEST_CACHE") or Path.home() / ".cache" / "coinstall-test")
    / "interpreters"
    / "bin"
)
_SITE = re.compile(
    r"^(?:usr/(?:local/)?lib/(?:python[23](?:\.\d+)?|pypy3?(?:\.\d+)?)/"
    r"(?:dist|site)-packages|usr/lib/python[23]\.\d+(?:/lib-dynload)?)/"
)

#: The child: load the module by its file, under its dotted name, print one JSON line.
CHILD = r"""
import sys, json
path, name, site = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, site)
try:
    import importlib.util, importlib.machinery
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    loader.exec_module(mod)
    out = {"ok": True, "error": ""}
except BaseException as exc:
    out = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
sys.stdout.write("\n@@" + json.dumps(out) + "\n")
sys.stdout.flush()
"""

#: Python 2.7's child (no importlib.util): imp.load_dynamic does the same dlopen + init lookup.
CHILD2 = r"""
import sys, json, imp
path, name, site = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, site)
try:
    imp.load_dynamic(name, path)
    out = {"ok": True, "error": ""}
except BaseException as exc:
    out = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
sys.stdout.write("\n@@" + json.dumps(out) + "\n")
sys.stdout.flush()
"""


@dataclass
class Module:
    deb: str  # file name of the .deb
    package: str
    path: str  # member path
    dotted: str  # the name it is imported under
    site: str  # its site directory (member path), "" if none


@dataclass
class Pair:
    deb: str
    path: str
    runtime: str
    verdict: str  # usable / unusable / cannot tell
    reason: str
    truth: str  # ok / abi / missing-lib / init
    error: str
    judged: str = ""  # agree / cannot-tell / wrong / no-evidence


def _dotted(path: str) -> tuple[str, str]:
    name = posixpath.basename(path)
    parsed = ext.parse_ext_name(name)
    stem = parsed.stem if parsed is not None else name.split(".", 1)[0]
    m = _SITE.match(path)
    if m is None:
        return stem, ""
    rel = posixpath.dirname(path[m.end() :])
    parts = [p for p in rel.split("/") if p] if rel else []
    if all(p.isidentifier() for p in parts):
        return ".".join([*parts, stem]), m.group(0).rstrip("/")
    return stem, m.group(0).rstrip("/")


def scan_one(deb: str) -> list[dict[str, str]]:
    """The untagged extension modules of one .deb (see the module docstring)."""
    cat = catalogue_mod.load()
    reader = open_artifact(deb)

    def want(path: str, size: int) -> bool:
        n = ext.parse_ext_name(posixpath.basename(path))
        return n is not None and n.kind == "untagged" and path.endswith(".so")

    found: list[dict[str, str]] = []
    for m in reader.members(want):
        if m.type != "file" or (m.content is None and m.spool is None):
            continue
        rec = classify(
            path=m.path,
            fmt="deb",
            head=m.head,
            content=m.content,
            size=m.size,
            mode=m.mode,
            mtime=m.mtime,
            catalogue=cat,
            spool=m.spool,
        )
        if rec.kind != "extension":
            continue
        dotted, site = _dotted(m.path)
        found.append(
            asdict(Module(os.path.basename(deb), reader.info.name or "", m.path, dotted, site))
        )
    return found


def scan(debs: list[Path], cache: Path, jobs: int) -> list[Module]:
    known: dict[str, object] = {}
    if cache.is_file():
        known = json.loads(cache.read_text())
    todo = [d for d in debs if known.get(d.name, {}).get("size") != d.stat().st_size]  # type: ignore[union-attr]
    if todo:
        print(f"scanning {len(todo)} of {len(debs)} packages ...", file=sys.stderr)
        with ProcessPoolExecutor(jobs) as pool:
            for d, mods in zip(todo, pool.map(scan_one, map(str, todo), chunksize=8), strict=True):
                known[d.name] = {"size": d.stat().st_size, "modules": mods}
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(cache)
    out: list[Module] = []
    for d in debs:
        out += [Module(**m) for m in known[d.name]["modules"]]  # type: ignore[index]
    return out


_UNDEF = re.compile(r"undefined symbol: (\S+)")


def classify_error(ok: bool, rc: int, error: str) -> str:
    if ok:
        return "ok"
    if "cannot open shared object file" in error:  # also pyuno's own abort() message
        return "missing-lib"
    if rc < 0:
        return "abi"  # a signal while loading
    m = _UNDEF.search(error)
    if m is not None:
        return "abi" if m.group(1).startswith(("Py", "_Py")) else "missing-lib"
    if "cannot open shared object file" in error or re.search(r"version `[^']+' not found", error):
        return "missing-lib"
    if (
        "does not define module export function" in error
        or "does not define init function" in error
        or "no module export" in error
    ):
        return "abi"
    return "init"


def _lib_dirs(root: Path) -> list[str]:
    """Every directory of the unpacked package holding a shared library (``lib*.so*``): its
    own private libraries (python3-escript's ``libescript.so`` beside its modules)."""
    return sorted({str(p.parent) for p in root.rglob("lib*.so*") if p.is_file()})


def _installed(pkg: str) -> bool:
    q = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
    )
    return q.stdout.endswith("ok installed")


def dependency_debs(package: str, into: Path, cap: int) -> list[Path]:
    """The .debs of ``package``'s run-time closure (``apt-cache depends --recurse``, Depends
    only) that this machine lacks, downloaded with ``apt-get download`` into ``into`` (kept
    between runs); [] when more than ``cap`` would be needed (not cheap: python3-paraview's
    closure is Qt and VTK).  Python packages are left out: the question is the libraries."""
    proc = subprocess.run(
        [
            "apt-cache",
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
            package,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    names = sorted(
        {
            ln.strip()
            for ln in proc.stdout.splitlines()
            if ln
            and not ln.startswith((" ", "<"))
            and ln.strip() != package
            and ":" not in ln
            and not ln.startswith("python")
        }
    )
    missing = [n for n in names if not _installed(n)]
    if len(missing) > cap:
        return []
    into.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_")[0]: p for p in into.glob("*.deb")}
    todo = [n for n in missing if n not in have]
    if todo:
        subprocess.run(
            ["apt-get", "download", "-q", *todo], cwd=into, capture_output=True, check=False
        )
        have = {p.name.split("_")[0]: p for p in into.glob("*.deb")}
    return [have[n] for n in missing if n in have]


def run_import(rt: Runtime, root: Path, mod: Module, timeout: float) -> tuple[str, str]:
    assert rt.executable is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_"))}
    libs = _lib_dirs(root)
    if libs:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libs)
    child = CHILD2 if rt.version[0] == 2 else CHILD
    site = str(root / mod.site) if mod.site else str(root)
    try:
        proc = subprocess.run(
            [rt.executable, "-E", "-s", "-c", child, str(root / mod.path), mod.dotted, site],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=root,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return "init", f"timeout after {timeout} s"
    line = next((x for x in reversed(proc.stdout.splitlines()) if x.startswith("@@")), None)
    if line is None:
        err = (proc.stderr.strip().splitlines() or [""])[-1][:300]
        return classify_error(False, proc.returncode, err), f"rc {proc.returncode}: {err}"
    res = json.loads(line[2:])
    return classify_error(res["ok"], 0, res["error"]), res["error"][:300]


def verdicts(
    mods: list[Module], debs_dir: Path, runtimes: list[Runtime]
) -> dict[tuple[str, str], dict[str, tuple[str, str]]]:
    """(deb, path) -> runtime id -> (usable/unusable/cannot tell, reason)."""
    cat = catalogue_mod.load()
    by_deb: dict[str, set[str]] = {}
    for m in mods:
        by_deb.setdefault(m.deb, set()).add(m.path)
    out: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for deb, paths in by_deb.items():
        reader = open_artifact(str(debs_dir / deb))
        for m in reader.members(lambda p, _s, paths=paths: p in paths):  # type: ignore[misc]
            if m.path not in paths:
                continue
            rec = classify(
                path=m.path,
                fmt="deb",
                head=m.head,
                content=m.content,
                size=m.size,
                mode=m.mode,
                mtime=m.mtime,
                catalogue=cat,
                spool=m.spool,
            )
            rec.scope = Scope("any")
            j = judge([rec], runtimes)
            open_ = j.cannot_tell.get(m.path, frozenset())
            out[(deb, m.path)] = {
                rt.id: (
                    "cannot tell"
                    if rt.id in open_
                    else "usable"
                    if rt.id in j.usable[m.path]
                    else "unusable",
                    j.reasons.get(m.path, {}).get(rt.id, ""),
                )
                for rt in runtimes
            }
    return out


def judge_pair(p: Pair) -> str:
    if p.verdict == "cannot tell":
        return "cannot-tell"
    if p.truth == "ok":
        return "agree" if p.verdict == "usable" else "wrong"
    if p.truth == "abi":
        return "agree" if p.verdict == "unusable" else "wrong"
    if p.truth == "init" and p.verdict == "unusable" and "export" in p.reason:
        return "wrong"  # the loader found every symbol the verdict says is missing
    return "no-evidence"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--debs", type=Path, default=CACHE / "archive-bench" / "debs")
    ap.add_argument(
        "--scan-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "coinstall-archive-truth-scan.json",
    )
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--limit", type=int, default=0, help="only the first N packages (by name)")
    ap.add_argument("--json", type=Path, help="write every pair here")
    ap.add_argument(
        "--fetch-deps",
        type=Path,
        metavar="DIR",
        help="apt-get download the libraries each package needs and this machine "
        "lacks into DIR, unpacked beside the package",
    )
    ap.add_argument(
        "--lib-debs",
        type=Path,
        metavar="DIR",
        help="unpack every .deb of DIR beside each package (pinned libraries: "
        "tests/test_archive_truth.py)",
    )
    ap.add_argument(
        "--max-deps",
        type=int,
        default=40,
        help="with --fetch-deps: skip a package needing more .debs than this",
    )
    ap.add_argument("--runtimes", default="", help="comma-separated runtime ids (default: all)")
    args = ap.parse_args()
    t0 = time.monotonic()
    debs = sorted(args.debs.glob("*.deb"))
    if args.limit:
        debs = debs[: args.limit]
    mods = scan(debs, args.scan_cache, args.jobs)
    print(
        f"{len(mods)} untagged extension modules in {len({m.deb for m in mods})} of "
        f"{len(debs)} packages ({time.monotonic() - t0:.0f} s)",
        file=sys.stderr,
    )
    extra = [str(p) for p in sorted(EXTRA.glob("python3*"))] if EXTRA.is_dir() else []
    runtimes, _errors = discovery.discover(extra)
    if args.runtimes:
        keep = set(args.runtimes.split(","))
        runtimes = [r for r in runtimes if r.id in keep or r.id.split("@")[0] in keep]
    table = verdicts(mods, args.debs, runtimes)
    pairs: list[Pair] = []
    scratch = Path(tempfile.mkdtemp(prefix="archive-truth-"))
    try:
        by_deb: dict[str, list[Module]] = {}
        for m in mods:
            by_deb.setdefault(m.deb, []).append(m)
        with ThreadPoolExecutor(args.jobs) as pool:
            for i, (deb, ms) in enumerate(sorted(by_deb.items())):
                root = scratch / deb
                subprocess.run(["dpkg-deb", "-x", str(args.debs / deb), str(root)], check=True)
                for dep in sorted(args.lib_debs.glob("*.deb")) if args.lib_debs else ():
                    subprocess.run(["dpkg-deb", "-x", str(dep), str(root)], check=True)
                if args.fetch_deps is not None:
                    for dep in dependency_debs(ms[0].package, args.fetch_deps, args.max_deps):
                        subprocess.run(["dpkg-deb", "-x", str(dep), str(root)], check=True)
                jobs = [(m, rt) for m in ms for rt in runtimes]
                results = pool.map(
                    lambda a, root=root: run_import(
                        a[1],
                        root,
                        a[0],  # type: ignore[misc]
                        args.timeout,
                    ),
                    jobs,
                )
                for (m, rt), (truth, err) in zip(jobs, results, strict=True):
                    verdict, reason = table[(m.deb, m.path)][rt.id]
                    p = Pair(m.deb, m.path, rt.id, verdict, reason, truth, err)
                    p.judged = judge_pair(p)
                    pairs.append(p)
                    if p.judged == "wrong":
                        print(
                            f"WRONG {m.package} {m.path} on {rt.id}: {truth} ({err}); "
                            f"coinstall: {verdict} {reason}",
                            flush=True,
                        )
                shutil.rmtree(root, ignore_errors=True)
                if (i + 1) % 20 == 0:
                    print(f"  {i + 1}/{len(by_deb)} packages", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    judged = Counter(p.judged for p in pairs)
    truths = Counter(p.truth for p in pairs)
    print(
        f"modules: {len(mods)} in {len({m.deb for m in mods})} packages; runtimes: "
        f"{len(runtimes)}; pairs: {len(pairs)}"
    )
    print("truth:", dict(truths))
    print("judged:", dict(judged))
    for rt in runtimes:
        c = Counter(p.judged for p in pairs if p.runtime == rt.id)
        print(f"  {rt.id:24} {dict(c)}")
    print(f"{time.monotonic() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in pairs], indent=1))
    return 1 if judged["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
