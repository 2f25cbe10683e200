#!/usr/bin/env python3
"""Benchmark ``coinstall check`` (the whole rule catalogue) against its peers and a floor.

This is a benchmark, not a test: it prints timings and ratios and asserts nothing about speed.
See ``benchmarks/README.md`` for what is measured and how to read the tables.

Run from the repository root::

    .venv/bin/python benchmarks/run.py                 # everything (several minutes)
    .venv/bin/python benchmarks/run.py --quick         # batch timings only, one run each
    .venv/bin/python benchmarks/run.py --groups rpm,abi3

Inputs are the pinned real packages of ``benchmarks/bench_corpus.py`` (the test corpus plus
more): every RPM of ``tests/data/rpm`` (peer: rpmlint), 30+ Debian bookworm .debs
(lintian), 30+ PyPI wheels (check-wheel-contents) and their abi3 subset (abi3audit).  Each
group is timed as one invocation over all its files (best of ``--repeat``) and, unless
``--quick``, file by file (best of ``--package-repeat``).
"""

from __future__ import annotations

import argparse
import bz2
import datetime
import gzip
import importlib
import importlib.metadata
import io
import json
import lzma
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Literal, cast

import zstandard
from rpmfile.headers import get_headers

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "latest.json"
CHUNK = 1 << 20

#: Exit statuses that mean "ran and reported" (findings included), per tool.
OK_CODES: dict[str, frozenset[int]] = {
    "coinstall": frozenset({0, 1}),  # 1 = error findings; 2 = a target could not be read
    "lintian": frozenset({0, 2}),  # 2 = tags at or above --fail-on (default: error); 1 = crash
    "rpmlint": frozenset({0, 64, 66}),  # 64 = errors found, 66 = badness threshold exceeded
    "abi3audit": frozenset({0, 1}),  # 1 = violations found
    "check-wheel-contents": frozenset({0, 1}),  # 1 = a check failed
    "python": frozenset({0}),
}


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Best-of-N measurement of one command or in-process call.

    Attributes:
        best_s: smallest wall-clock time (``time.perf_counter``) over the runs.
        runs_s: every run's wall-clock time, in order.
        cpu_s: user+system CPU of the best run (the child and the grandchildren it reaped, for
            a subprocess; this process, for an in-process call).
        returncode: exit status of the last run (None in-process).
        ok: every run exited with an expected status (or raised nothing).
        note: what went wrong, or a one-line summary of the tool's output.
    """

    best_s: float
    runs_s: list[float]
    cpu_s: float
    returncode: int | None = None
    ok: bool = True
    note: str = ""


@dataclass
class Proc:
    """Output of the last run of a command."""

    returncode: int
    stdout: bytes
    stderr: bytes


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def time_command(
    cmd: Sequence[str], repeat: int, ok_codes: frozenset[int], cwd: str | None = None
) -> tuple[Timing, Proc]:
    """Run ``cmd`` ``repeat`` times in ``cwd`` (stdout/stderr captured, stdin closed); best
    wall time."""
    runs: list[float] = []
    cpus: list[float] = []
    last = Proc(-1, b"", b"")
    ok = True
    note = ""
    for _ in range(repeat):
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        proc = subprocess.run(
            list(cmd), stdin=subprocess.DEVNULL, capture_output=True, check=False, cwd=cwd
        )
        t1 = time.perf_counter()
        cpus.append(_children_cpu() - cpu0)
        runs.append(t1 - t0)
        last = Proc(proc.returncode, proc.stdout, proc.stderr)
        if proc.returncode not in ok_codes and ok:
            ok = False
            tail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
            note = f"exit {proc.returncode}: {tail.splitlines()[-1] if tail else '(no output)'}"
    best = min(range(len(runs)), key=runs.__getitem__)
    return Timing(runs[best], runs, cpus[best], last.returncode, ok, note), last


def time_call(fn: Callable[[], object], repeat: int) -> tuple[Timing, object]:
    """Call ``fn`` ``repeat`` times in this process; best wall time and the last result."""
    runs: list[float] = []
    cpus: list[float] = []
    result: object = None
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = fn()
        t1 = time.perf_counter()
        cpus.append(time.process_time() - c0)
        runs.append(t1 - t0)
    best = min(range(len(runs)), key=runs.__getitem__)
    return Timing(runs[best], runs, cpus[best]), result


# --------------------------------------------------------------------------- floor


def _ar_members(data: bytes) -> dict[str, tuple[int, int]]:
    """``name -> (offset, size)`` of a (System V / GNU) ``ar`` archive held in ``data``."""
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    out: dict[str, tuple[int, int]] = {}
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        out[name] = (pos + 60, size)
        pos += 60 + size + (size & 1)
    return out


def _drain(stream: IO[bytes]) -> int:
    total = 0
    while chunk := stream.read(CHUNK):
        total += len(chunk)
    return total


def floor_deb(path: Path) -> int:
    """Decompress ``data.tar.*`` of a .deb in tarfile stream mode, reading every member's
    bytes; return the number of bytes of file content read."""
    data = path.read_bytes()
    members = _ar_members(data)
    name = next(n for n in members if n.startswith("data.tar"))
    offset, size = members[name]
    raw: IO[bytes] = io.BytesIO(memoryview(data)[offset : offset + size])
    if name.endswith(".zst"):
        raw = cast(
            IO[bytes], zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        )
    mode: Literal["r|", "r|*"] = "r|" if name.endswith(".zst") else "r|*"
    total = 0
    with tarfile.open(fileobj=raw, mode=mode) as tar:
        for ti in tar:
            if ti.isfile():
                fh = tar.extractfile(ti)
                if fh is not None:
                    total += _drain(fh)
    return total


def _payload_stream(fh: IO[bytes], comp: str, name: str) -> IO[bytes]:
    if comp in ("gzip", ""):
        return cast(IO[bytes], gzip.GzipFile(fileobj=fh))
    if comp in ("xz", "lzma"):
        return cast(IO[bytes], lzma.LZMAFile(fh))
    if comp == "bzip2":
        return cast(IO[bytes], bz2.BZ2File(fh))
    if comp == "zstd":
        return cast(
            IO[bytes], zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        )
    raise ValueError(f"{name}: unsupported payload compression {comp!r}")


def floor_rpm(path: Path) -> int:
    """Decompress an RPM's payload (everything after the header) fully; return its size
    (the uncompressed cpio archive)."""
    with path.open("rb") as fh:
        (_start, end), headers = get_headers(fh)
        comp = headers.get("archive_compression", b"gzip")
        comp = comp.decode() if isinstance(comp, bytes) else str(comp)
        fh.seek(end)
        with _payload_stream(fh, comp, path.name) as stream:
            return _drain(stream)


def floor_wheel(path: Path) -> int:
    """Read (inflate) every zip member of a wheel; return the bytes read."""
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                total += len(zf.read(info))
    return total


# --------------------------------------------------------------------------- output summaries


def summarise_coinstall(proc: Proc) -> str:
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        return f"exit {proc.returncode}, output is not JSON"
    arts = doc.get("artifacts", [])
    findings = [f for a in arts for f in a.get("findings", [])]
    by_sev: dict[str, int] = {}
    for f in findings:
        sev = str(f.get("severity", "?"))
        by_sev[sev] = by_sev.get(sev, 0) + 1
    sev = ", ".join(f"{n} {s}" for s, n in sorted(by_sev.items())) or "none"
    return (
        f"exit {proc.returncode}: {len(arts)} artifacts, {len(findings)} findings ({sev}), "
        f"{len(doc.get('errors', []))} unreadable"
    )


def summarise_lintian(proc: Proc) -> str:
    tags = [
        ln
        for ln in proc.stdout.decode("utf-8", "replace").splitlines()
        if len(ln) > 2 and ln[1] == ":" and ln[0] in "EWIPXCO"
    ]
    kinds: dict[str, int] = {}
    for ln in tags:
        kinds[ln[0]] = kinds.get(ln[0], 0) + 1
    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    return f"exit {proc.returncode}: {len(tags)} tags ({detail})"


def summarise_rpmlint(proc: Proc) -> str:
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    last = next((ln.strip() for ln in reversed(lines) if "checked" in ln), "no summary line")
    return f"exit {proc.returncode}: {last}"


def summarise_abi3audit(proc: Proc) -> str:
    """Counts from abi3audit's ``--report`` JSON: ``specs -> {path: {"wheel": [{"name",
    "result": {"non_abi3_symbols", "is_abi3_baseline_compatible", ...}}]}}``."""
    try:
        specs = json.loads(proc.stdout)["specs"]
        exts = [e["result"] for spec in specs.values() for e in spec.get("wheel", [])]
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"exit {proc.returncode}, output is not abi3audit's JSON report"
    bad_symbols = sum(bool(r.get("non_abi3_symbols")) for r in exts)
    too_new = sum(not r.get("is_abi3_baseline_compatible", True) for r in exts)
    return (
        f"exit {proc.returncode}: {len(exts)} extensions, {bad_symbols} with non-abi3 "
        f"symbols, {too_new} above the tag's baseline"
    )


def summarise_check_wheel_contents(proc: Proc) -> str:
    """Counts from check-wheel-contents' output: one ``PATH: OK`` or ``PATH: CODE message``
    line per wheel and failed check (code W001...), indented continuation lines after it."""
    top = [
        ln
        for ln in proc.stdout.decode("utf-8", "replace").splitlines()
        if ln and not ln[0].isspace()
    ]
    ok = sum(ln.endswith(": OK") for ln in top)
    codes: dict[str, int] = {}
    for ln in top:
        m = re.search(r": ([WE]\d{3}): ", ln)
        if m:
            codes[m.group(1)] = codes.get(m.group(1), 0) + 1
    detail = ", ".join(f"{n} {c}" for c, n in sorted(codes.items()))
    return f"exit {proc.returncode}: {ok} wheels OK, {sum(codes.values())} failed checks" + (
        f" ({detail})" if detail else ""
    )


# --------------------------------------------------------------------------- groups


@dataclass
class Group:
    """One kind of input, its floor, its peer."""

    name: str
    paths: list[Path]
    floor: Callable[[Path], int]
    peer: str
    peer_cmd: list[str] | None  # without the paths; None if the peer is not installed
    peer_summary: Callable[[Proc], str]
    #: extra peer arguments for the batch run only (lintian's -j: the per-file runs stay serial)
    peer_batch_args: list[str] = field(default_factory=list)


@dataclass
class PackageResult:
    """One file of a group, checked on its own by every tool."""

    file: str
    mb_compressed: float
    mb_unpacked: float
    floor: Timing
    coinstall_inprocess: Timing
    coinstall_cli: Timing | None
    peer_timing: Timing | None
    findings: int

    @property
    def ratio_floor(self) -> float:
        return self.coinstall_inprocess.best_s / max(self.floor.best_s, 1e-9)

    @property
    def ratio_peer(self) -> float | None:
        if self.coinstall_cli is None or self.peer_timing is None:
            return None
        return self.coinstall_cli.best_s / self.peer_timing.best_s


@dataclass
class GroupResult:
    name: str
    files: list[str]
    mb_compressed: float
    mb_unpacked: float
    floor: Timing
    coinstall_inprocess: Timing
    coinstall_cli: Timing
    peer: str
    peer_cmd: list[str] | None
    peer_timing: Timing | None
    ratio_coinstall_floor: float
    ratio_coinstall_peer: float | None
    ratio_coinstall_peer_cpu: float | None
    rules_fired: dict[str, int]
    packages: list[PackageResult] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def load_bench_corpus() -> ModuleType:
    here = str(REPO_ROOT / "benchmarks")
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module("bench_corpus")


def _find_tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def _is_abi3(path: Path) -> bool:
    """The wheel's ABI tag set (third field from the end of the file name) contains abi3."""
    return "abi3" in path.name.removesuffix(".whl").split("-")[-2].split(".")


def build_groups(bench: ModuleType, only: set[str], jobs: int) -> list[Group]:
    wheels, debs = bench.fetch()
    lintian = _find_tool("lintian")
    rpmlint = _find_tool("rpmlint")
    abi3audit = _find_tool("abi3audit")
    cwc = _find_tool("check-wheel-contents")
    all_wheels = sorted(wheels.values(), key=lambda p: p.name.lower())
    groups = [
        Group(
            "rpm",
            list(bench.rpms()),
            floor_rpm,
            "rpmlint",
            [rpmlint] if rpmlint else None,
            summarise_rpmlint,
        ),
        Group(
            "deb",
            sorted(debs.values(), key=lambda p: p.name),
            floor_deb,
            "lintian",
            # --tag-display-limit 0 == the deprecated --no-tag-display-limit (no per-tag cap)
            [lintian, "--tag-display-limit", "0"] if lintian else None,
            summarise_lintian,
            ["--jobs", str(jobs)],
        ),
        Group(
            "wheel",
            all_wheels,
            floor_wheel,
            "check-wheel-contents",
            # --no-config: read no [tool.check-wheel-contents] from any pyproject.toml
            [cwc, "--no-config"] if cwc else None,
            summarise_check_wheel_contents,
        ),
        Group(
            "abi3",
            [p for p in all_wheels if _is_abi3(p)],
            floor_wheel,
            "abi3audit",
            # --report: JSON on stdout, so the summary counts what was scanned and found
            [abi3audit, "--report"] if abi3audit else None,
            summarise_abi3audit,
        ),
    ]
    return [g for g in groups if g.name in only and g.paths]


@dataclass
class Engine:
    """coinstall in-process, exactly as ``check --no-installed [--stack SPEC]`` with no
    configuration file runs it: every registered rule, the profile chosen per artifact."""

    check: Callable[[Sequence[str]], Any]
    rules: list[str]


def coinstall_inprocess(stack: str | None) -> Engine:
    """Load the catalogue, combine runtimes and register every rule once, outside the timed
    region; the returned ``check(paths)`` is what gets timed.

    Raises:
        StackError (``coinstall.runtimes.stack``): ``stack`` cannot be parsed.
    """
    from coinstall.check import check
    from coinstall.config import Config
    from coinstall.rules import all_rules
    from coinstall.runtimes import catalogue
    from coinstall.runtimes.inventory import combine
    from coinstall.runtimes.stack import Stack

    cat = catalogue.load()
    runtimes = combine([], cat)
    rules = [r.name for r in all_rules()]
    config = Config(stack=Stack.parse(stack)) if stack else Config()

    def run(targets: Sequence[str]) -> Any:
        return check(list(targets), runtimes, cat, config)

    return Engine(run, rules)


def _inproc_note(result: Any) -> tuple[str, int, bool]:
    arts = result.artifacts
    n = sum(len(a.findings) for a in arts)
    return f"{len(arts)} artifacts, {n} findings, {len(result.errors)} errors", n, not result.errors


@dataclass
class Settings:
    repeat: int
    package_repeat: int
    per_package: bool
    coinstall_exe: str
    workdir: str  # an empty directory: subprocesses run there and find no configuration file
    stack: str | None = None


def _cli(s: Settings, paths: Sequence[str]) -> list[str]:
    stack = ["--stack", s.stack] if s.stack else []
    return [s.coinstall_exe, "check", "--no-installed", "--format", "json", *stack, *paths]


def run_package(g: Group, path: Path, s: Settings, engine: Engine) -> PackageResult:
    """Every tool on one file; in-process timings first, then the subprocesses."""
    r = s.package_repeat
    floor_t, unpacked = time_call(lambda: g.floor(path), r)
    in_t, result = time_call(lambda: engine.check([str(path)]), r)
    in_t.note, findings, in_t.ok = _inproc_note(result)
    cli_t = peer_t = None
    if s.per_package:
        cli_t, _ = time_command(_cli(s, [str(path)]), r, OK_CODES["coinstall"], s.workdir)
        if g.peer_cmd is not None:
            peer_t, proc = time_command([*g.peer_cmd, str(path)], r, OK_CODES[g.peer], s.workdir)
            peer_t.note = peer_t.note or g.peer_summary(proc)
    return PackageResult(
        path.name,
        path.stat().st_size / 1e6,
        cast(int, unpacked) / 1e6,
        floor_t,
        in_t,
        cli_t,
        peer_t,
        findings,
    )


def run_group(g: Group, s: Settings, engine: Engine) -> GroupResult:
    paths = [str(p) for p in g.paths]
    size = sum(p.stat().st_size for p in g.paths)
    print(f"benchmark: {g.name}: {len(paths)} files, {size / 1e6:.1f} MB", file=sys.stderr)

    floor_t, unpacked = time_call(lambda: sum(g.floor(p) for p in g.paths), s.repeat)
    in_t, checked = time_call(lambda: engine.check(paths), s.repeat)
    result = cast(Any, checked)
    in_t.note, _, in_t.ok = _inproc_note(result)
    fired: dict[str, int] = {}
    for a in result.artifacts:
        for f in a.findings:
            fired[f.rule] = fired.get(f.rule, 0) + 1

    cli_t, cli_proc = time_command(_cli(s, paths), s.repeat, OK_CODES["coinstall"], s.workdir)
    cli_t.note = cli_t.note or summarise_coinstall(cli_proc)

    peer_t: Timing | None = None
    if g.peer_cmd is not None:
        peer_t, peer_proc = time_command(
            [*g.peer_cmd, *g.peer_batch_args, *paths], s.repeat, OK_CODES[g.peer], s.workdir
        )
        peer_t.note = peer_t.note or g.peer_summary(peer_proc)

    packages = []
    for i, p in enumerate(g.paths, 1):
        print(f"benchmark: {g.name}: [{i}/{len(g.paths)}] {p.name}", file=sys.stderr)
        packages.append(run_package(g, p, s, engine))

    return GroupResult(
        name=g.name,
        files=[p.name for p in g.paths],
        mb_compressed=size / 1e6,
        mb_unpacked=cast(int, unpacked) / 1e6,
        floor=floor_t,
        coinstall_inprocess=in_t,
        coinstall_cli=cli_t,
        peer=g.peer,
        peer_cmd=[*g.peer_cmd, *g.peer_batch_args] if g.peer_cmd else None,
        peer_timing=peer_t,
        ratio_coinstall_floor=in_t.best_s / floor_t.best_s,
        ratio_coinstall_peer=cli_t.best_s / peer_t.best_s if peer_t else None,
        ratio_coinstall_peer_cpu=cli_t.cpu_s / peer_t.cpu_s if peer_t and peer_t.cpu_s else None,
        rules_fired=dict(sorted(fired.items())),
        packages=packages,
    )


def run_startup(s: Settings, groups: list[Group]) -> dict[str, Timing]:
    """Per-process start-up: bare interpreter, importing coinstall, a check of nothing; and
    each peer's ``--version`` as a rough lower bound of its start-up."""
    py = str(Path(s.coinstall_exe).parent / "python")
    if not Path(py).exists():
        py = sys.executable
    out: dict[str, Timing] = {}
    with tempfile.TemporaryDirectory(prefix="coinstall-bench-empty-") as empty:
        cmds: dict[str, tuple[list[str], str]] = {
            "python -c pass": ([py, "-c", "pass"], "python"),
            "python -c 'import coinstall.cli'": ([py, "-c", "import coinstall.cli"], "python"),
            "coinstall check --no-installed --format json EMPTY_DIR": (
                _cli(s, [empty]),
                "coinstall",
            ),
        }
        for g in groups:
            if g.peer_cmd is not None:
                cmds[f"{g.peer} --version"] = ([g.peer_cmd[0], "--version"], "python")
        for label, (cmd, tool) in cmds.items():
            out[label], _ = time_command(cmd, s.repeat, OK_CODES[tool], s.workdir)
    return out


# --------------------------------------------------------------------------- report


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def _ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def render_groups(results: list[GroupResult], repeat: int) -> str:
    parts = [
        f"Whole group in one invocation per tool; best of {repeat} wall-clock runs "
        "(time.perf_counter), seconds.\n"
    ]
    rows = []
    for r in results:
        flag = "" if r.coinstall_cli.ok and (r.peer_timing is None or r.peer_timing.ok) else " !"
        rows.append(
            [
                r.name + flag,
                str(len(r.files)),
                f"{r.mb_compressed:.1f}",
                f"{r.mb_unpacked:.1f}",
                _fmt(r.floor.best_s),
                _fmt(r.coinstall_inprocess.best_s),
                _fmt(r.coinstall_cli.best_s),
                f"{_fmt(r.peer_timing.best_s if r.peer_timing else None)} ({r.peer})",
                _fmt(r.ratio_coinstall_floor, ".1f") + "x",
                _ratio(r.ratio_coinstall_peer),
                _ratio(r.ratio_coinstall_peer_cpu),
            ]
        )
    parts.append(
        _table(
            [
                "group",
                "files",
                "MB compr.",
                "MB unpacked",
                "floor s",
                "coinstall in-proc s",
                "coinstall CLI s",
                "peer s",
                "coinstall/floor",
                "coinstall/peer",
                "coinstall/peer CPU",
            ],
            rows,
        )
    )
    parts.append(
        "  coinstall/floor    = coinstall in-process / floor (both in this process);"
        "\n  coinstall/peer     = coinstall CLI / peer CLI, wall (both pay start-up);"
        "\n  coinstall/peer CPU = the same with user+sys CPU seconds (robust to load);"
        "\n  ! = a command exited with an unexpected status (see below).\n"
    )
    parts.append("CPU time (user+sys) of the best run, seconds; CPU > wall means parallel work:")
    parts.append(
        _table(
            ["group", "floor", "coinstall in-proc", "coinstall CLI", "peer"],
            [
                [
                    r.name,
                    _fmt(r.floor.cpu_s),
                    _fmt(r.coinstall_inprocess.cpu_s),
                    _fmt(r.coinstall_cli.cpu_s),
                    f"{_fmt(r.peer_timing.cpu_s if r.peer_timing else None)} ({r.peer})",
                ]
                for r in results
            ],
        )
        + "\n"
    )
    return "\n".join(parts)


def short(filename: str) -> str:
    """A file name for the tables: a wheel keeps only the first of its platform tags."""
    if not filename.endswith(".whl"):
        return filename
    *head, platforms = filename.removesuffix(".whl").split("-")
    first = platforms.split(".")[0]
    return "-".join([*head, first + ("…" if first != platforms else "")])


def render_packages(r: GroupResult, repeat: int, top: int) -> str:
    """The per-file table of one group, then its outliers."""
    if not r.packages:
        return ""
    rows = []
    for p in r.packages:
        rows.append(
            [
                short(p.file),
                f"{p.mb_compressed:.2f}",
                f"{p.mb_unpacked:.2f}",
                _fmt(p.floor.best_s),
                _fmt(p.coinstall_inprocess.best_s),
                _fmt(p.coinstall_cli.best_s if p.coinstall_cli else None),
                _fmt(p.peer_timing.best_s if p.peer_timing else None),
                _fmt(p.ratio_floor, ".1f") + "x",
                _ratio(p.ratio_peer),
                str(p.findings),
                p.peer_timing.note if p.peer_timing else "",
            ]
        )
    out = [
        f"{r.name}: every file on its own (best of {repeat}), seconds; peer = {r.peer}",
        _table(
            [
                "file",
                "MB",
                "MB unp.",
                "floor",
                "in-proc",
                "CLI",
                "peer",
                "in/floor",
                "CLI/peer",
                "findings",
                "peer reported",
            ],
            rows,
        ),
    ]
    by_floor = sorted(r.packages, key=lambda p: p.ratio_floor, reverse=True)[:top]
    out.append(
        "  highest coinstall/floor: "
        + ", ".join(f"{short(p.file)} {p.ratio_floor:.1f}x" for p in by_floor)
    )
    with_peer = [p for p in r.packages if p.ratio_peer is not None]
    if with_peer:
        by_peer = sorted(with_peer, key=lambda p: cast(float, p.ratio_peer))
        out.append(
            "  highest coinstall/peer: "
            + ", ".join(f"{short(p.file)} {p.ratio_peer:.2f}x" for p in by_peer[::-1][:top])
        )
        out.append(
            "  lowest coinstall/peer: "
            + ", ".join(f"{short(p.file)} {p.ratio_peer:.2f}x" for p in by_peer[:top])
        )
    slow = sorted(r.packages, key=lambda p: p.coinstall_inprocess.best_s, reverse=True)[:top]
    out.append(
        "  slowest coinstall in-process: "
        + ", ".join(f"{short(p.file)} {p.coinstall_inprocess.best_s:.3f}s" for p in slow)
    )
    return "\n".join(out) + "\n"


def render_tail(results: list[GroupResult], startup: dict[str, Timing], rules: list[str]) -> str:
    parts = ["Per-process start-up (best wall s):"]
    if all(t.ok for t in startup.values()):
        parts.append(
            _table(["command", "s"], [[label, _fmt(t.best_s)] for label, t in startup.items()])
        )
    else:
        parts.append(
            _table(
                ["command", "s", "problem"],
                [[label, _fmt(t.best_s), "" if t.ok else t.note] for label, t in startup.items()],
            )
        )
    base = startup.get("coinstall check --no-installed --format json EMPTY_DIR")
    if base is not None:
        parts.append("\ncoinstall CLI minus its start-up (check of an empty directory):")
        parts.append(
            _table(
                ["group", "CLI - start-up s", "vs in-process s"],
                [
                    [
                        r.name,
                        _fmt(r.coinstall_cli.best_s - base.best_s),
                        _fmt(r.coinstall_inprocess.best_s),
                    ]
                    for r in results
                ],
            )
        )
    parts.append(f"\nRule catalogue run: {len(rules)} rules ({', '.join(rules)}).")
    parts.append("Findings per rule (in-process, whole group):")
    for r in results:
        fired = ", ".join(f"{k} {v}" for k, v in r.rules_fired.items()) or "none"
        parts.append(f"  {r.name}: {fired}")
    parts.append("\nWhat each command reported (last run, whole group):")
    for r in results:
        parts.append(f"  {r.name}: coinstall CLI      {r.coinstall_cli.note}")
        parts.append(f"  {r.name}: coinstall in-proc  {r.coinstall_inprocess.note}")
        if r.peer_timing is not None:
            parts.append(f"  {r.name}: {r.peer:<18} {r.peer_timing.note}")
        else:
            parts.append(f"  {r.name}: {r.peer:<18} not installed, skipped")
    return "\n".join(parts)


def _version(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(
            [*cmd, "--version"], capture_output=True, text=True, check=False, timeout=60
        )
    except OSError as exc:
        return f"unavailable ({exc})"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else f"exit {proc.returncode}"


def metadata(groups: list[Group], s: Settings, rules: list[str]) -> dict[str, Any]:
    tools = {
        "coinstall": importlib.metadata.version("coinstall"),
        "zstandard": importlib.metadata.version("zstandard"),
        "rpmfile": importlib.metadata.version("rpmfile"),
    }
    for g in groups:
        if g.peer_cmd is not None:
            tools[g.peer] = _version([g.peer_cmd[0]])
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv,
        "repeat": s.repeat,
        "package_repeat": s.package_repeat if s.per_package else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "coinstall_exe": s.coinstall_exe,
        "stack": s.stack,
        "rules": rules,
        "tools": tools,
    }


def _jsonable(r: GroupResult) -> dict[str, Any]:
    doc = asdict(r)
    for p, d in zip(r.packages, doc["packages"], strict=True):
        d["ratio_coinstall_floor"] = p.ratio_floor
        d["ratio_coinstall_peer"] = p.ratio_peer
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per whole-group command (best counts; default 3)",
    )
    parser.add_argument(
        "--package-repeat",
        type=int,
        default=1,
        help="runs per command in the file-by-file pass (default 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one run of each whole-group command; file by file only the "
        "in-process figures (no per-file subprocesses)",
    )
    parser.add_argument(
        "--groups",
        "--group",
        default="rpm,deb,wheel,abi3",
        help="comma-separated subset of rpm,deb,wheel,abi3 (default: all)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel jobs for peers that have them (lintian --jobs) in the "
        "whole-group run (default: CPU count)",
    )
    parser.add_argument(
        "--stack",
        metavar="SPEC",
        help="coinstall's --stack (default=3.11,other=3.12) for every check; "
        "default: none, as with no configuration",
    )
    parser.add_argument("--top", type=int, default=3, help="outliers listed per group")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"JSON results file; a .md beside it (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--coinstall",
        default=str(REPO_ROOT / ".venv" / "bin" / "coinstall"),
        help="the coinstall console script to run (default: the repo venv's)",
    )
    args = parser.parse_args(argv)
    only = set(args.groups.split(","))
    if unknown := only - {"rpm", "deb", "wheel", "abi3"}:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    if args.repeat < 1 or args.package_repeat < 1:
        parser.error("--repeat and --package-repeat must be at least 1")
    coinstall_exe = args.coinstall
    if not Path(coinstall_exe).exists():
        coinstall_exe = shutil.which("coinstall") or coinstall_exe

    bench = load_bench_corpus()
    try:
        groups = build_groups(bench, only, args.jobs)
    except bench.tests_corpus().CorpusError as exc:
        print(f"benchmark: corpus unavailable: {exc}", file=sys.stderr)
        return 2
    for g in groups:
        if g.peer_cmd is None:
            print(f"benchmark: {g.peer} not found; its column stays n/a", file=sys.stderr)

    from coinstall.runtimes.stack import StackError

    try:
        engine = coinstall_inprocess(args.stack)
    except StackError as exc:
        parser.error(f"--stack: {exc}")
    with tempfile.TemporaryDirectory(prefix="coinstall-bench-cwd-") as workdir:
        s = Settings(
            repeat=1 if args.quick else args.repeat,
            package_repeat=args.package_repeat,
            per_package=not args.quick,
            coinstall_exe=coinstall_exe,
            workdir=workdir,
            stack=args.stack,
        )
        results = [run_group(g, s, engine) for g in groups]
        startup = run_startup(s, groups)
    text = "\n".join(
        [
            render_groups(results, s.repeat),
            *(render_packages(r, s.package_repeat, args.top) for r in results if r.packages),
            render_tail(results, startup, engine.rules),
        ]
    )
    print(text)

    doc: dict[str, Any] = {
        "meta": metadata(groups, s, engine.rules),
        "groups": [_jsonable(r) for r in results],
        "startup": {k: asdict(v) for k, v in startup.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, args.output)
    md = args.output.with_suffix(".md")
    md.write_text(
        f"# coinstall benchmark, {doc['meta']['date']}\n\n"
        f"Command: `{' '.join(['python', *sys.argv])}`\n\n"
        f"Tools: {', '.join(f'{k} {v}' for k, v in doc['meta']['tools'].items())}\n\n"
        f"```\n{text}\n```\n"
    )
    print(f"\nresults written to {args.output} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
