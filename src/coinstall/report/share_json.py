"""JSON output of ``coinstall share list|status|verify``: a documented contract
(docs/share-format.md), ``schema_version`` 1; fields are only added within one version."""

from __future__ import annotations

from typing import Literal, TypedDict

from coinstall.share.install import VerifyResult
from coinstall.share.site import State, StatusResult, Target

SCHEMA_VERSION = 1


class TargetJSON(TypedDict):
    """A ``targets[]`` object: one runtime the site serves."""

    id: str
    implementation: str | None
    version: str  # "3.12"
    python: str
    cache_tag: str
    site_dir: str
    hook: str


class TargetStatusJSON(TargetJSON):
    """A ``share status`` ``targets[]`` object: the target and what its interpreter reports."""

    hook_ok: bool
    site_index: int | None
    shared_index: int | None
    ok: bool
    error: str | None


class DistributionJSON(TypedDict):
    """A ``share list`` ``distributions[]`` object."""

    name: str
    version: str
    wheel: str
    files: list[str]
    bytecode: dict[str, list[str]]  # target id -> its bytecode files
    skipped: list[str]
    needed_by: list[str]


class CellJSON(TypedDict):
    """One module imported by one target (``share verify``)."""

    ok: bool
    origin: str
    shared: bool


class ModuleJSON(TypedDict):
    """A ``share verify`` ``modules[]`` object: one module's row of the import matrix."""

    module: str
    distribution: str
    runtimes: dict[str, CellJSON]  # target id -> cell


class ListJSON(TypedDict):
    """``share list --format json``."""

    schema_version: int
    command: Literal["list"]
    dir: str
    arch: str | None
    targets: list[TargetJSON]
    distributions: list[DistributionJSON]


class StatusJSON(TypedDict):
    """``share status --format json``."""

    schema_version: int
    command: Literal["status"]
    dir: str
    arch: str | None
    distributions: int
    files: int
    pending: bool
    ok: bool
    targets: list[TargetStatusJSON]


class VerifyJSON(TypedDict):
    """``share verify --format json``."""

    schema_version: int
    command: Literal["verify"]
    dir: str
    ok: bool
    targets: list[TargetJSON]
    modules: list[ModuleJSON]


def _target(t: Target) -> TargetJSON:
    return {
        "id": t.id,
        "implementation": t.markers.get("implementation_name"),
        "version": f"{t.version[0]}.{t.version[1]}",
        "python": t.python,
        "cache_tag": t.cache_tag,
        "site_dir": t.site_dir,
        "hook": t.hook,
    }


def list_json(state: State) -> ListJSON:
    """``share list``: the site, its targets and every installed distribution (keys in the
    order of docs/share-format.md)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "list",
        "dir": state.dir,
        "arch": state.arch,
        "targets": [_target(t) for t in state.targets],
        "distributions": [
            {
                "name": d.name,
                "version": d.version,
                "wheel": d.wheel,
                "files": sorted(d.files),
                "bytecode": {tid: sorted(ps) for tid, ps in sorted(d.bytecode.items())},
                "skipped": list(d.skipped),
                "needed_by": sorted(d.needed_by),
            }
            for d in sorted(state.dists.values(), key=lambda d: d.name.lower())
        ],
    }


def status_json(r: StatusResult) -> StatusJSON:
    """``share status``: hooks and ``sys.path`` order as each real interpreter reports."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "status",
        "dir": r.dir,
        "arch": r.arch,
        "distributions": r.dists,
        "files": r.files,
        "pending": r.pending,
        "ok": all(s.ok for s in r.targets),
        "targets": [
            {
                **_target(s.target),
                "hook_ok": s.hook_ok,
                "site_index": s.site_index,
                "shared_index": s.dir_index,
                "ok": s.ok,
                "error": s.error,
            }
            for s in r.targets
        ],
    }


def verify_json(r: VerifyResult, directory: str) -> VerifyJSON:
    """``share verify``: the import matrix, module x target."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "verify",
        "dir": directory,
        "ok": r.ok,
        "targets": [_target(t) for t in r.targets],
        "modules": [
            {
                "module": m,
                "distribution": r.owner[m],
                "runtimes": {
                    tid: {"ok": c.ok, "origin": c.origin, "shared": c.shared}
                    for tid, c in row.items()
                },
            }
            for m, row in r.cells.items()
        ],
    }
