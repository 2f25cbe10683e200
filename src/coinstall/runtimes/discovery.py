"""Runtime discovery: find the Python interpreters on this machine and ask each what it is.

Three steps, each usable on its own:

* :func:`find_interpreters` / :func:`find_candidates` -- look for executables named like a
  Python interpreter in the usual places and de-duplicate them by the file they resolve to;
* :func:`probe` -- run ``probe_script.py`` (next to this module) in every one of them, in
  parallel, with a result cache keyed by the executable's identity;
* :func:`discover` -- both, turned into :class:`~coinstall.runtimes.model.Runtime` records.

Every fact in a discovered record comes from the interpreter itself (``sources=("probe",)``);
nothing is looked up in the catalogue here.  The probe runs through
:func:`coinstall.runtimes.run.run_script`: ``INTERPRETER -E -s -S -B -c SOURCE`` in the
directory ``/``, without any ``PYTHON*`` variable in the environment (see that module for why
not ``-I``).

This module imports nothing of coinstall's but :mod:`coinstall.runtimes` modules.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import re
import stat
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from coinstall.atomic import atomic_open
from coinstall.runtimes.catalogue import cpython_id, pypy_id
from coinstall.runtimes.model import Runtime, pyc_header_size

#: Command names taken for interpreters when scanning a directory.
NAME_RE = re.compile(r"^(python|pypy)(\d(\.\d+)?)?(d|t|td|m|dm|mu)?(-dbg)?$")
#: The command whose target is the system's default runtime (:attr:`Runtime.default`).
DEFAULT_COMMAND = "/usr/bin/python3"
#: Seconds one probe may take before it is killed and reported as a :class:`ProbeError`.
PROBE_TIMEOUT = 20.0
#: The probe script writes its JSON object after this marker.
PROBE_MARKER = "@@coinstall-probe@@"

#: The probe cache's shape (2: the probe answers ext_suffix, safe_path, usr_purelib and
#: usr_platlib, for coinstall macros).
_CACHE_FORMAT = 2
#: First four bytes of an ELF file and of the Mach-O (thin and fat, both byte orders) files.
_BINARY_MAGICS = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xbe\xba\xfe\xca",
)

_started_lock = threading.Lock()
_started = 0


@dataclass(frozen=True)
class Candidate:
    """One interpreter executable found on this machine.

    Attributes:
        executable: its real path (``os.path.realpath``); of hard links to one file, the
            smallest real path.  A virtual environment's interpreter (:func:`venv_of`) keeps
            its path in the environment (its directory resolved, not the file): resolved, it
            would be the base interpreter, which knows nothing of the environment.
        commands: the sorted basenames under which it was seen (``python3``, ``python3.11``).
        default: True when :data:`DEFAULT_COMMAND` resolves to the same file.
    """

    executable: str
    commands: tuple[str, ...]
    default: bool


class ProbeData(TypedDict):
    """One interpreter's answer to ``probe_script.py``, as :func:`probe` checked it (the JSON
    object the script prints; ``site_packages`` and ``stable_abi_missing`` are not checked)."""

    implementation: str
    version: list[int]  # [major, minor]
    full_version: str
    implementation_version: str | None
    abiflags: str
    magic: int | None
    cache_tag: str | None
    soabi: str | None
    extension_suffixes: list[str]
    multiarch: str | None
    platform: str
    purelib: str | None
    platlib: str | None
    stdlib: str | None
    sys_path: list[str]
    site_packages: NotRequired[list[str]]
    executable: str | None
    prefix: str | None
    debian: bool
    stable_abi_missing: NotRequired[list[str] | None]
    ext_suffix: str | None  # sysconfig EXT_SUFFIX
    safe_path: bool  # sys.flags.safe_path exists (-P, 3.11+)
    usr_purelib: str | None  # sysconfig posix_prefix purelib with every base /usr
    usr_platlib: str | None  # the same, platlib


class CacheEntry(TypedDict):
    """One interpreter's entry in the probe cache file: the identity of its executable (and
    of a virtual environment's ``pyvenv.cfg``) that keys it, and its answer.  Entries read
    back from the file are checked (:func:`_check`) before use."""

    key: list[int]
    data: ProbeData


@dataclass(frozen=True)
class ProbeResult:
    """What one interpreter reported.

    Attributes:
        executable: the real path that was probed.
        requested: the path as it was passed to :func:`probe`.
        data: the probe script's JSON object, checked for the keys and types listed in
            :func:`probe`.
        cached: True if it came from the cache and no interpreter was started for it.
    """

    executable: str
    requested: str
    data: ProbeData
    cached: bool


@dataclass(frozen=True)
class ProbeError:
    """An executable that could not be probed: ``path`` as requested and why, in ``message``."""

    path: str
    message: str


class _ProbeFailure(Exception):
    pass


def interpreters_started() -> int:
    """How many interpreter processes :func:`probe` has launched in this process, in total.

    Returns a monotonically growing int; compare two readings to count the launches of one
    call (a fully cached call launches none).
    """
    with _started_lock:
        return _started


def _count_start() -> None:
    global _started
    with _started_lock:
        _started += 1


# --------------------------------------------------------------------------------------------
# Finding executables


def _is_binary(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) in _BINARY_MAGICS
    except OSError:
        return False


#: PEP 405: a virtual environment is marked by ``pyvenv.cfg`` beside its interpreter or one
#: directory up (CPython ``Lib/site.py`` ``venv()``; ``Modules/getpath.py``).
VENV_CONFIG = "pyvenv.cfg"


def venv_of(path: str) -> str | None:
    """The virtual environment ``path`` (an interpreter, not resolved) starts, or None.

    The interpreter's own directory, or the one above it, holds ``pyvenv.cfg`` (PEP 405;
    CPython ``Lib/site.py`` ``venv()`` looks in these two places, in this order, from
    ``sys.executable``, the path the interpreter was started by).  Returns the environment
    directory's real path (the directory of ``pyvenv.cfg``'s parent level: ``site.py``'s
    ``site_prefix``).  Raises nothing."""
    exe_dir = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for d in (exe_dir, os.path.dirname(exe_dir)):
        if os.path.isfile(os.path.join(d, VENV_CONFIG)):
            return os.path.dirname(exe_dir)
    return None


def _venv_path(path: str) -> str:
    """An environment's interpreter path: its directory resolved, its name kept."""
    return os.path.join(
        os.path.realpath(os.path.dirname(os.path.abspath(path))), os.path.basename(path)
    )


def _search_dirs(environ: Mapping[str, str]) -> list[str]:
    dirs = [d for d in environ.get("PATH", os.defpath).split(os.pathsep) if d]
    dirs += ["/usr/bin", "/usr/local/bin"]
    home = environ.get("HOME") or os.path.expanduser("~")
    root = environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
    dirs += sorted(glob.glob(os.path.join(glob.escape(root), "versions", "*", "bin")))
    return dirs


def find_candidates(
    extra: Sequence[str | os.PathLike[str]] = (),
    *,
    environ: Mapping[str, str] | None = None,
) -> list[Candidate]:
    """The interpreter executables on this machine, one per file.

    Searched, in this order: each directory on ``PATH``, ``/usr/bin``, ``/usr/local/bin``,
    ``$PYENV_ROOT/versions/*/bin`` (``~/.pyenv`` by default), then the entries of
    ``COINSTALL_PYTHONS`` (``os.pathsep``-separated) and of ``extra``.  In a directory, a file
    is taken when its name matches :data:`NAME_RE`, it is an executable regular file after
    following symlinks, and it starts like an ELF or Mach-O binary (so pyenv's shell-script
    shims and ``*-config`` scripts are left out).  A file named directly in
    ``COINSTALL_PYTHONS`` or ``extra`` is always taken, whatever its name or content, so that
    :func:`probe` reports on it; a path that does not exist is taken as it is.

    Args:
        extra: more files or directories to look at.
        environ: the environment to read ``PATH``, ``HOME``, ``PYENV_ROOT`` and
            ``COINSTALL_PYTHONS`` from (default: ``os.environ``).

    Returns:
        One :class:`Candidate` per distinct file (same device and inode), in the order in
        which each was first seen.  Never raises for unreadable or missing directories.
    """
    env = os.environ if environ is None else environ
    try:
        default_st = os.stat(DEFAULT_COMMAND)
        default_id: tuple[int, int] | None = (default_st.st_dev, default_st.st_ino)
    except OSError:
        default_id = None

    found: dict[tuple[Any, ...], tuple[set[str], set[str]]] = {}

    def add(path: str, explicit: bool) -> None:
        real = os.path.realpath(path)
        venv = venv_of(path)
        try:
            st = os.stat(real)
        except OSError:
            if explicit:
                key: tuple[Any, ...] = ("missing", os.path.abspath(path))
                found.setdefault(key, (set(), set()))[0].add(os.path.abspath(path))
                found[key][1].add(os.path.basename(path))
            return
        if not explicit and not (
            stat.S_ISREG(st.st_mode) and os.access(real, os.X_OK) and _is_binary(real)
        ):
            return
        key = (st.st_dev, st.st_ino)
        if venv is not None:  # one environment: not its base, not another environment
            key, real = ("venv", venv, *key), _venv_path(path)
        reals, names = found.setdefault(key, (set(), set()))
        reals.add(real)
        names.add(os.path.basename(path))

    def scan(directory: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            if NAME_RE.match(name):
                add(os.path.join(directory, name), explicit=False)

    for directory in _search_dirs(env):
        scan(directory)
    explicit = [p for p in env.get("COINSTALL_PYTHONS", "").split(os.pathsep) if p]
    explicit += [os.fspath(p) for p in extra]
    for path in explicit:
        if os.path.isdir(path):
            scan(path)
        else:
            add(path, explicit=True)

    return [
        Candidate(
            executable=min(reals),
            commands=tuple(sorted(names)),
            default=default_id is not None and key == default_id,
        )
        for key, (reals, names) in found.items()
    ]


def find_interpreters(
    extra: Sequence[str | os.PathLike[str]] = (),
    *,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The real paths of :func:`find_candidates` (same arguments, order and rules).

    Returns a list of str, one per distinct interpreter file; raises nothing for missing or
    unreadable directories.
    """
    return [c.executable for c in find_candidates(extra, environ=environ)]


# --------------------------------------------------------------------------------------------
# Probing


@functools.cache
def probe_source() -> str:
    """The source of ``probe_script.py``, the text passed to ``-c``.

    Raises OSError if the file is missing from the installation.
    """
    from coinstall.stable_abi import symbol_names  # imports abi3info: only to probe

    text = Path(__file__).with_name("probe_script.py").read_text(encoding="utf-8")
    names = symbol_names()
    return text.replace("STABLE_ABI_SYMBOLS = []", f"STABLE_ABI_SYMBOLS = {names!r}", 1)


@functools.cache
def probe_key() -> str:
    """The SHA-256 that keys the probe cache: the probe script's text and the identity (size,
    mtime) of the installed abi3info package that fills in its symbol list.  Computing it
    imports nothing, so a run that finds every answer in the cache does not load the stable-ABI
    manifest (measured: benchmarks/startup_bench.py).

    Raises OSError if the probe script is missing from the installation.
    """
    import importlib.util

    digest = hashlib.sha256(Path(__file__).with_name("probe_script.py").read_bytes())
    spec = importlib.util.find_spec("abi3info")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        for name in sorted(os.listdir(loc)):
            if name.endswith(".py"):
                st = os.stat(os.path.join(loc, name))
                digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


def default_cache_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/coinstall/probes.json``, else ``~/.cache/coinstall/probes.json``.

    A relative ``XDG_CACHE_HOME`` is ignored, as the XDG base directory specification asks.
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".cache")
    return Path(base, "coinstall", "probes.json")


_MISSING = object()
_STR = (str,)
_OPT_STR = (str, type(None))
_FIELDS: dict[str, tuple[type, ...]] = {
    "implementation": _STR,
    "full_version": _STR,
    "implementation_version": _OPT_STR,
    "abiflags": _STR,
    "magic": (int, type(None)),
    "cache_tag": _OPT_STR,
    "soabi": _OPT_STR,
    "multiarch": _OPT_STR,
    "platform": _STR,
    "purelib": _OPT_STR,
    "platlib": _OPT_STR,
    "stdlib": _OPT_STR,
    "executable": _OPT_STR,
    "prefix": _OPT_STR,
    "debian": (bool,),
    "ext_suffix": _OPT_STR,
    "safe_path": (bool,),
    "usr_purelib": _OPT_STR,
    "usr_platlib": _OPT_STR,
}


def _check(data: object) -> ProbeData:
    """``data`` if it has the shape the probe script promises, else ValueError."""
    if not isinstance(data, dict):
        raise ValueError("probe output is not a JSON object")
    if "error" in data:
        raise ValueError(f"probe failed: {data['error']}")
    for key, types in _FIELDS.items():
        value = data.get(key, _MISSING)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ValueError(f"probe output: bad or missing {key!r}: {value!r}")
    version = data.get("version")
    if not (
        isinstance(version, list) and len(version) == 2 and all(type(v) is int for v in version)
    ):
        raise ValueError(f"probe output: bad or missing 'version': {version!r}")
    for key in ("extension_suffixes", "sys_path"):
        value = data.get(key)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError(f"probe output: bad or missing {key!r}: {value!r}")
    return cast(ProbeData, data)  # the keys and types above were checked


def _run_probe(executable: str, script: str) -> ProbeData:
    from coinstall.runtimes import run  # only a probe starts a process: a warm cache starts none

    _count_start()
    try:
        proc = run.run_script(executable, script, timeout=PROBE_TIMEOUT, check=False)
    except run.RunError as exc:
        raise _ProbeFailure(exc.reason) from exc
    lines = proc.text().splitlines()
    payload = next((ln for ln in reversed(lines) if ln.startswith(PROBE_MARKER)), None)
    if payload is None:
        raise _ProbeFailure(
            f"not a Python interpreter (exit status {proc.returncode}): {proc.error_tail()}"
        )
    try:
        return _check(json.loads(payload[len(PROBE_MARKER) :]))
    except ValueError as exc:
        raise _ProbeFailure(str(exc)) from exc


def _load_cache(path: Path, script_hash: str) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(raw, dict)
        or raw.get("format") != _CACHE_FORMAT
        or raw.get("probe_sha256") != script_hash
        or not isinstance(raw.get("entries"), dict)
    ):
        return {}
    entries: dict[str, Any] = raw["entries"]
    return entries


def _write_cache(path: Path, script_hash: str, entries: Mapping[str, Any]) -> None:
    document = {"format": _CACHE_FORMAT, "probe_sha256": script_hash, "entries": entries}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, perms=0o600) as handle:  # 0o600: mkstemp's, as before
            json.dump(document, handle, indent=1, sort_keys=True)
    except OSError:
        pass  # the cache only saves time; a read-only home must not stop discovery


def probe(
    executables: Iterable[str | os.PathLike[str]],
    *,
    cache_path: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
) -> tuple[list[ProbeResult], list[ProbeError]]:
    """Run the probe script in each executable, in parallel, with a cache.

    Each executable is resolved with ``os.path.realpath`` (a virtual environment's
    interpreter, :func:`venv_of`, only its directory: the file resolved would be the base
    interpreter; its ``pyvenv.cfg`` is then part of the cache key) and runs
    :func:`probe_source` through :func:`coinstall.runtimes.run.run_script` (``REAL -E -s -S
    -B -c``, in ``/``, without ``PYTHON*`` variables), for at most :data:`PROBE_TIMEOUT`
    seconds, in a thread pool
    of ``jobs`` workers (default: as many as ``ThreadPoolExecutor`` would use, capped by the
    work).  :func:`interpreters_started` counts the launches.

    The cache is a JSON file (default :func:`default_cache_path`) mapping each real path to
    the ``[st_mtime_ns, st_size, st_ino, st_dev]`` of the real file and the probe's answer; an
    entry is used only while that key still matches and the probe script is unchanged
    (its SHA-256 is stored), so a repeated call over unchanged interpreters starts none.
    The file is replaced atomically (temporary file in the same directory + ``os.replace``);
    failures to read or write it are ignored.  Failed probes are not cached.

    Returns:
        ``(results, errors)``, both in the order of ``executables``.  Each
        :class:`ProbeResult` ``data`` is a dict with: ``implementation`` (str), ``version``
        ([major, minor]), ``full_version`` (str), ``implementation_version`` (str | None),
        ``abiflags`` (str), ``magic`` (int | None), ``cache_tag``, ``soabi``, ``multiarch``
        (str | None), ``extension_suffixes`` (list[str]), ``platform`` (str), ``purelib``,
        ``platlib``, ``stdlib``, ``executable``, ``prefix`` (str | None), ``sys_path``
        (list[str]), ``site_packages`` (list[str]), ``debian`` (bool), ``ext_suffix`` (str |
        None: ``EXT_SUFFIX``), ``safe_path`` (bool: ``sys.flags.safe_path`` exists, ``-P``)
        and ``usr_purelib``, ``usr_platlib`` (str | None: sysconfig's ``posix_prefix`` paths
        with every base ``/usr``, what ``coinstall macros`` writes as ``%python3_sitelib``
        and ``%python3_sitearch``).  An executable that
        is missing, cannot be run, times out, or does not answer like the probe script gives
        a :class:`ProbeError` instead; this function does not raise for them.
    """
    script_hash = probe_key()
    path = Path(cache_path) if cache_path is not None else default_cache_path()
    cache = _load_cache(path, script_hash)

    answers: dict[int, ProbeResult | ProbeError] = {}
    todo: dict[str, list[int]] = {}  # real path -> indexes of the requests
    keys: dict[str, list[int]] = {}
    requested: list[str] = []
    for index, exe in enumerate(executables):
        given = os.fspath(exe)
        requested.append(given)
        venv = venv_of(given)
        real = os.path.realpath(given) if venv is None else _venv_path(given)
        try:
            st = os.stat(real)
            key = [st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev]
            if venv is not None:  # the environment's pyvenv.cfg is part of the answer
                cfgs = [os.path.join(d, VENV_CONFIG) for d in (os.path.dirname(real), venv)]
                cfg = os.stat(next((c for c in cfgs if os.path.isfile(c)), cfgs[1]))
                key += [cfg.st_mtime_ns, cfg.st_size, cfg.st_ino]
        except OSError as exc:
            answers[index] = ProbeError(given, f"cannot stat {real}: {exc.strerror or exc}")
            continue
        entry = cache.get(real)
        if isinstance(entry, dict) and entry.get("key") == key:
            try:
                answers[index] = ProbeResult(real, given, _check(entry.get("data")), True)
                continue
            except ValueError:
                pass
        keys[real] = key
        todo.setdefault(real, []).append(index)

    fresh: dict[str, CacheEntry] = {}
    if todo:
        import concurrent.futures

        script = probe_source()
        workers = jobs if jobs is not None else min(32, (os.cpu_count() or 1) + 4)
        workers = max(1, min(workers, len(todo)))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run_probe, real, script): real for real in todo}
            for future in concurrent.futures.as_completed(futures):
                real = futures[future]
                try:
                    data = future.result()
                except _ProbeFailure as exc:
                    for index in todo[real]:
                        answers[index] = ProbeError(requested[index], str(exc))
                    continue
                fresh[real] = {"key": keys[real], "data": data}
                for index in todo[real]:
                    answers[index] = ProbeResult(real, requested[index], data, False)

    if fresh:
        entries = _load_cache(path, script_hash)  # another process may have written since
        entries = {p: e for p, e in entries.items() if os.path.exists(p)}
        entries.update(fresh)
        _write_cache(path, script_hash, entries)

    results = [a for _, a in sorted(answers.items()) if isinstance(a, ProbeResult)]
    errors = [a for _, a in sorted(answers.items()) if isinstance(a, ProbeError)]
    return results, errors


# --------------------------------------------------------------------------------------------
# Runtime records


def runtime_id(
    implementation: str,
    version: tuple[int, int],
    abiflags: str,
    implementation_version: str | None,
    vendor_suffix: str = "",
) -> str:
    """The :attr:`Runtime.id` of a build, without the ``@`` disambiguation of :func:`discover`.

    CPython (and any implementation but PyPy): ``{implementation}-{X.Y}{abiflags}`` with
    ``m`` dropped from the flags (``cpython-3.12``, ``cpython-3.11d``, ``cpython-3.13t``,
    ``cpython-2.7u`` for flags ``mu``).  PyPy: ``pypy-{X.Y}-pp{A}{B}`` from the first two
    components of the PyPy version (``pypy-3.9-pp73``), ``pypy-{X.Y}`` if it is unknown.
    ``vendor_suffix`` is appended verbatim (e.g. ``"+debian"``).  Raises nothing.
    """
    xy = f"{version[0]}.{version[1]}"
    if implementation == "pypy":
        parts = (implementation_version or "").split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return pypy_id(xy, parts[0] + parts[1]) + vendor_suffix
        return f"pypy-{xy}{vendor_suffix}"
    if implementation == "cpython":
        return cpython_id(xy, abiflags) + vendor_suffix
    return f"{implementation}-{xy}{abiflags.replace('m', '')}{vendor_suffix}"


def runtime_from_probe(data: ProbeData, candidate: Candidate) -> Runtime:
    """A :class:`Runtime` from one probe answer (:attr:`ProbeResult.data`) and its candidate.

    Every field comes from the probe except ``executable`` (the candidate's real path),
    ``commands`` and ``default`` (from :func:`find_candidates`), ``id``
    (:func:`runtime_id`), ``pyc_header_size`` (:func:`pyc_header_size`) and ``vendor``
    (``"debian"`` when the probe saw Debian's ``/usr/lib/python3/dist-packages`` or
    ``/usr/lib/python2.7/dist-packages``, else ``"upstream"``).  Raises KeyError/TypeError on
    data that :func:`probe` did not check.
    """
    version = (int(data["version"][0]), int(data["version"][1]))
    implementation: str = data["implementation"]
    magic: int | None = data["magic"]
    return Runtime(
        id=runtime_id(implementation, version, data["abiflags"], data["implementation_version"]),
        implementation=implementation,
        version=version,
        abiflags=data["abiflags"],
        magic=magic,
        cache_tag=data["cache_tag"],
        pyc_header_size=pyc_header_size(implementation, version, magic),
        soabi=data["soabi"],
        extension_suffixes=tuple(data["extension_suffixes"]),
        multiarch=data["multiarch"],
        platform=data["platform"],
        vendor="debian" if data["debian"] else "upstream",
        full_version=data["full_version"],
        implementation_version=data["implementation_version"],
        executable=candidate.executable,
        commands=candidate.commands,
        default=candidate.default,
        purelib=data["purelib"],
        platlib=data["platlib"],
        stdlib=data["stdlib"],
        sys_path=tuple(data["sys_path"]),
        stable_abi_missing=(
            None if (missing := data.get("stable_abi_missing")) is None else frozenset(missing)
        ),
        sources=("probe",),
    )


def _sort_key(runtime: Runtime) -> tuple[str, tuple[int, int], str, str]:
    return (runtime.implementation, runtime.version, runtime.abiflags, runtime.executable or "")


def unique_ids(runtimes: Sequence[Runtime]) -> list[Runtime]:
    """``runtimes`` (same order) with shared ids made unique.

    Runtimes that share an id all get ``@{full_version}`` appended; those still equal then get
    ``-1``, ``-2``, ... in their order in ``runtimes``.  Raises nothing.
    """
    counts = Counter(r.id for r in runtimes)
    step = [
        r.with_id(f"{r.id}@{r.full_version or 'unknown'}") if counts[r.id] > 1 else r
        for r in runtimes
    ]
    counts = Counter(r.id for r in step)
    seen: Counter[str] = Counter()
    out = []
    for r in step:
        if counts[r.id] > 1:
            seen[r.id] += 1
            r = r.with_id(f"{r.id}-{seen[r.id]}")
        out.append(r)
    return out


def discover(
    extra: Sequence[str | os.PathLike[str]] = (),
    *,
    cache_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    jobs: int | None = None,
) -> tuple[list[Runtime], list[ProbeError]]:
    """Every Python runtime on this machine, asked directly.

    :func:`find_candidates` (``extra``, ``environ``), then :func:`probe` (``cache_path``,
    ``jobs``), then :func:`runtime_from_probe` and :func:`unique_ids`.

    Returns:
        ``(runtimes, errors)``: the :class:`Runtime` records (``sources=("probe",)``, unique
        ids) sorted by (implementation, version, abiflags, executable), and a
        :class:`ProbeError` for every candidate that could not be probed.  Broken or
        non-Python executables end up in ``errors``; this function does not raise for them.
    """
    candidates = find_candidates(extra, environ=environ)
    by_path = {c.executable: c for c in candidates}
    results, errors = probe(list(by_path), cache_path=cache_path, jobs=jobs)
    runtimes = [runtime_from_probe(r.data, by_path[r.requested]) for r in results]
    return unique_ids(sorted(runtimes, key=_sort_key)), errors
