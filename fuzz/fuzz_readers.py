"""Coverage-guided fuzzing of coinstall's readers with atheris (libFuzzer for Python).

Not part of the test-suite (it runs for a fixed budget of time, not to a verdict); the seeded
mutation test ``tests/test_fuzz.py`` is the CI counterpart.

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_readers.py wheel --seconds 120
    .venv/bin/python fuzz/fuzz_readers.py deb --seconds 120
    .venv/bin/python fuzz/fuzz_readers.py rpm --seconds 120
    .venv/bin/python fuzz/fuzz_readers.py packages --seconds 120
    .venv/bin/python fuzz/fuzz_readers.py spec --seconds 120

Each input is written to a file under ``/dev/shm`` and read the way ``coinstall check`` reads a
target (:func:`coinstall.check.check_artifact`: header, every member with digests, every file
classified and judged, every rule run) or the way ``plan`` reads an index
(:func:`coinstall.plan.indices.read_index`), or a spec file the way ``spec lint`` and ``spec port``
read it (:func:`coinstall.spec.lint.read_for`, every spec rule, a port to each target).  The
spec seeds are real specs and the hostile ones of ``tests/test_spec_hostile.py`` (shell and Lua
hidden in nested macros), with a dictionary of macro syntax; a spec that creates the marker file
those seeds name, or any file in the work directory, is a crash too ("executed").  The
documented errors
(:class:`~coinstall.artifacts.ArtifactError`, :class:`~coinstall.plan.indices.PackageIndexError`,
:class:`~coinstall.spec.read.SpecError`) are
the expected outcome of bad input; any other exception is a *crash*: something
:func:`coinstall.check.check_target` would still contain as an error line, but that a reader
should have named.  Crashes are counted by signature (type, message head, innermost coinstall
frame) and written to ``fuzz/crashes-<format>.txt`` instead of stopping the run, so one run
reports them all.  The seed corpus is the real corpus (``.cache/corpus``, ``tests/data/rpm``).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

with atheris.instrument_imports(
    include=[
        "coinstall",
        "rpmfile",
        "debian",
        "zipfile",
        "tarfile",
        "packaging",
        "elftools",
        "specfile",
    ]
):
    from coinstall.artifacts import ArtifactError
    from coinstall.check import check_artifact
    from coinstall.config import Config
    from coinstall.plan.indices import PackageIndexError, read_index
    from coinstall.rules import all_rules
    from coinstall.runtimes import catalogue as catalogue_mod
    from coinstall.runtimes.inventory import combine
    from coinstall.spec.lint import MacroFiles, lint_doc, read_for
    from coinstall.spec.port import TARGETS, port
    from coinstall.spec.read import SpecError

SUFFIX = {
    "wheel": "fuzz-1.0-py3-none-any.whl",
    "deb": "fuzz_1.0_all.deb",
    "rpm": "fuzz-1.0-1.noarch.rpm",
    "packages": "Packages",
    "spec": "fuzz.spec",
}
SEEDS = {
    "wheel": [
        "six-1.16.0-py2.py3-none-any.whl",
        "attrs-24.2.0-py3-none-any.whl",
        "MarkupSafe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ],
    "deb": ["python3-six_1.16.0-4_all.deb"],
}
#: Real specs the spec fuzzing starts from (beside the hostile ones).
SPEC_SEEDS = [
    "fedora/python-ansicolor.spec",
    "epel7/python-scandir.spec",
    "alt/python3.11-six.spec",
    "fedora/PyYAML.spec",
]
#: libFuzzer dictionary for specs: the macro syntax the hostile seeds hide code in.
SPEC_TOKENS = [
    "%global ",
    "%define ",
    "%undefine ",
    "%%",
    "%{expand:",
    "%{lua:",
    "%[lua:",
    "%(",
    "%{shescape:",
    "%{uncompress:",
    "%{load:",
    "%include ",
    "%{?",
    "%{!?",
    "%{",
    "}",
    "io.open(",
    "os.execute(",
    "io.popen(",
    "posix.exec(",
    "rpm.expand(",
    "touch ",
    "%%%%",
    "\\\n",
]

crashes: Counter[str] = Counter()
examples: dict[str, str] = {}


def _signature(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if "/coinstall/" in f.filename] or tb
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    head = (str(exc).splitlines() or [""])[0][:80]
    return f"{type(exc).__name__} at {where}: {head}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("format", choices=sorted(SUFFIX))
    ap.add_argument("--seconds", type=int, default=120)
    args, rest = ap.parse_known_args()

    all_rules()
    cat = catalogue_mod.load()
    runtimes = combine([], cat)
    cfg = Config()
    work = Path(
        tempfile.mkdtemp(
            prefix="coinstall-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
        )
    )
    target = work / SUFFIX[args.format]
    marker = work / "marker"
    macro_files = MacroFiles(cfg.stack) if args.format == "spec" else None

    def read_spec() -> None:
        assert macro_files is not None
        try:
            doc, layout = read_for(str(target), macro_files)
        except SpecError:
            return
        lint_doc(doc, layout, cfg)
        for to in TARGETS:
            port(doc, to)

    runs = 0
    start = time.monotonic()

    def one(data: bytes) -> None:
        nonlocal runs
        runs += 1
        if runs % 5000 == 0:
            _report(args.format, runs, time.monotonic() - start)
        target.write_bytes(data)
        try:
            if args.format == "packages":
                read_index("packages", str(target))
            elif args.format == "spec":
                read_spec()
                made = sorted(set(os.listdir(work)) - {target.name, "seeds", "spec.dict"})
                if made:
                    for name in made:
                        (work / name).unlink()
                    raise RuntimeError(f"executed: the spec created {made}")
            else:
                check_artifact(str(target), runtimes, cat, cfg, digests=True)
        except (ArtifactError, PackageIndexError):
            pass
        except Exception as exc:
            sig = _signature(exc)
            crashes[sig] += 1
            if sig not in examples:
                examples[sig] = "".join(traceback.format_exception(exc))
                _report(args.format, runs, time.monotonic() - start)

    seeds = work / "seeds"
    seeds.mkdir()
    if args.format == "rpm":
        files = sorted(glob.glob(str(REPO / "tests/data/rpm/*.rpm")), key=os.path.getsize)[:4]
    elif args.format == "spec":
        files = [str(REPO / "tests/data/spec" / n) for n in SPEC_SEEDS]
        sys.path.insert(0, str(REPO / "tests"))
        from test_spec_hostile import VARIANTS, spec_text

        for name in VARIANTS:
            (seeds / f"hostile-{name}.spec").write_text(spec_text(name, marker))
        (work / "spec.dict").write_text(
            "".join(
                '"' + t.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\x0A") + '"\n'
                for t in SPEC_TOKENS
            )
        )
        rest.append(f"-dict={work / 'spec.dict'}")
    elif args.format == "packages":
        files = []
        text = b"".join(
            f"Package: python3-x{i}\nVersion: 1.0-{i}\nArchitecture: all\nSource: x{i}\n"
            f"Depends: python3 (>= 3.11~), python3:any, libc6 (>= 2.{i})\n\n".encode()
            for i in range(5)
        )
        (seeds / "Packages").write_bytes(text)
    else:
        files = [
            str(REPO / ".cache/corpus" / ("wheels" if args.format == "wheel" else "debs") / n)
            for n in SEEDS[args.format]
        ]
    for f in files:
        if os.path.exists(f):
            (seeds / Path(f).name).write_bytes(Path(f).read_bytes())

    argv = [
        sys.argv[0],
        str(seeds),
        f"-max_total_time={args.seconds}",
        "-rss_limit_mb=2048",
        "-max_len=4000000",
        "-print_final_stats=1",
        *rest,
    ]
    atheris.Setup(argv, one)
    # libFuzzer ends the process itself when the budget is spent (its last lines say
    # "Done N runs in S second(s)"); the report below is rewritten as the run goes.
    atheris.Fuzz()
    return 0


def _report(fmt: str, runs: int, seconds: float) -> None:
    """Rewrite ``fuzz/crashes-<format>.txt``: executions so far, crash signatures, one
    traceback each."""
    out = REPO / "fuzz" / f"crashes-{fmt}.txt"
    with open(out, "w") as f:
        f.write(
            f"# {fmt}: {runs} executions in {seconds:.0f} s; "
            f"{sum(crashes.values())} crashing inputs, {len(crashes)} signatures\n"
        )
        for sig, n in crashes.most_common():
            f.write(f"\n## {n} x {sig}\n{examples[sig]}")


if __name__ == "__main__":
    sys.exit(main())
