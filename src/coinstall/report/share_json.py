"""JSON output of ``coinstall share list|status|verify``: a documented contract
(docs/share-format.md), ``schema_version`` 1; fields are only added within one version."""

from __future__ import annotations

from typing import Any

from coinstall.share.install import VerifyResult
from coinstall.share.site import State, StatusResult, Target

SCHEMA_VERSION = 1


def _target(t: Target) -> dict[str, Any]:
    return {
        "id": t.id,
        "implementation": t.markers.get("implementation_name"),
        "version": f"{t.version[0]}.{t.version[1]}",
        "python": t.python,
        "cache_tag": t.cache_tag,
        "site_dir": t.site_dir,
        "hook": t.hook,
    }


def _document(command: str, directory: str, **fields: Any) -> dict[str, Any]:
    """The document of one command: ``schema_version``, ``command``, ``dir``, then ``fields`` in
    the order given (docs/share-format.md)."""
    return {"schema_version": SCHEMA_VERSION, "command": command, "dir": directory, **fields}


def list_json(state: State) -> dict[str, Any]:
    """``share list``: the site, its targets and every installed distribution."""
    return _document(
        "list",
        state.dir,
        arch=state.arch,
        targets=[_target(t) for t in state.targets],
        distributions=[
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
    )


def status_json(r: StatusResult) -> dict[str, Any]:
    """``share status``: hooks and ``sys.path`` order as each real interpreter reports."""
    return _document(
        "status",
        r.dir,
        arch=r.arch,
        distributions=r.dists,
        files=r.files,
        pending=r.pending,
        ok=all(s.ok for s in r.targets),
        targets=[
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
    )


def verify_json(r: VerifyResult, directory: str) -> dict[str, Any]:
    """``share verify``: the import matrix, module x target."""
    return _document(
        "verify",
        directory,
        ok=r.ok,
        targets=[_target(t) for t in r.targets],
        modules=[
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
    )
