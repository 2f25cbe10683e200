"""Co-installability rules: artifacts checked together that cannot be installed side by side."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence

from coinstall.files.verdict import FileRecord, install_path
from coinstall.relations import multi_arch_same, relations
from coinstall.rules import ArtifactContext, Finding, Rule, rule

#: Findings per pair of artifacts before the rest are summarised in one line.
_PER_PAIR = 25


def _relations(ctx: ArtifactContext) -> set[str]:
    """Package names a .deb declares Conflicts, Breaks or Replaces on (dpkg then lets one
    package take over the other's files, or refuses the pair explicitly)."""
    from debian.deb822 import PkgRelation  # python-debian: only for .debs

    names: set[str] = set()
    for key in ("Conflicts", "Breaks", "Replaces"):
        text = ctx.info.fields.get(key)
        if text:
            for group in PkgRelation.parse_relations(text):
                names |= {alt["name"] for alt in group if alt.get("name")}
    return names


def _declared(a: ArtifactContext, b: ArtifactContext) -> bool:
    """Whether .deb ``a`` declares Conflicts, Breaks or Replaces on ``b``: on its name, or on
    a virtual package ``b`` provides.  Packages that all provide and conflict with one virtual
    package are mutually exclusive (Debian Policy §7.4 and §7.6.2, the
    ``mail-transport-agent`` idiom; bookworm's ``python3-clang-13`` … ``-19`` with
    ``python-clang-x.y``): dpkg refuses the second ("conflicting packages - not
    installing"), so their shared paths are never installed together."""
    said = _relations(a)
    return bool(said) and not said.isdisjoint(relations(b.info).names)


def _pair_kind(a: ArtifactContext, b: ArtifactContext) -> str | None:
    """How two artifacts would be installed together, or None if they are alternatives
    (the same package again, another version of it, or formats never installed together).

    Returns ``"multiarch"`` (the same .deb for two architectures, Multi-Arch: same),
    ``"multilib"`` (the same RPM for two architectures), or ``"distinct"`` (two packages)."""
    if a.info.format != b.info.format or a.info.format not in ("deb", "rpm", "wheel"):
        return None
    if a.info.path == b.info.path:
        return None
    if a.info.name != b.info.name:
        return "distinct"
    if a.info.format == "wheel" or a.info.arch == b.info.arch or a.info.version != b.info.version:
        return None  # another build/version of the same package: installed instead, not beside
    if a.info.format == "deb":
        same = multi_arch_same(a.info) and multi_arch_same(b.info)
        return "multiarch" if same else None  # dpkg cross-grades, it does not co-install
    return "multilib"


def _differs(a: FileRecord, b: FileRecord) -> bool:
    if a.sha256 is None or b.sha256 is None:
        return a.size != b.size
    return a.sha256 != b.sha256


def _label(ctx: ArtifactContext) -> str:
    return posixpath.basename(ctx.info.path)


def _conflicts(
    a: ArtifactContext, b: ArtifactContext, kind: str, bfiles: dict[str, FileRecord]
) -> Iterator[tuple[str, str]]:
    """``(path, reason)`` for every path both would install that cannot be shared;
    ``bfiles`` is ``b``'s files by install path."""
    if a.info.format == "deb" and (_declared(a, b) or _declared(b, a)):
        return
    for ra in a.records:
        path = install_path(a.info.format, ra)
        rb = bfiles.get(path)
        if rb is None:
            continue
        if a.info.format == "deb" and kind == "distinct":
            # dpkg refuses to overwrite another package's file whatever its content
            # (dpkg(1) "trying to overwrite"), unless Replaces says so.
            yield path, "dpkg does not share a path between two packages"
            continue
        if not _differs(ra, rb):
            continue  # RPM and Multi-Arch: same share byte-identical files
        if (
            a.info.format == "rpm"
            and ra.elf is not None
            and rb.elf is not None
            and ra.elf.elfclass != rb.elf.elfclass
        ):
            continue  # rpm's file colouring installs the preferred-class ELF of a multilib pair
        if kind == "multiarch":
            yield path, "Multi-Arch: same instances must ship identical files"
        else:
            yield path, "the content differs"


@rule(
    "file-conflict",
    headline="conflict with another package over a path",
    headline_rank=90,
    severity="error",
    summary="Two artifacts checked together would install the same path with different "
    "content (two stacks, two architectures, two packages).",
    why="The package manager refuses the second package (rpm: 'conflicts with file from "
    "package'; dpkg: 'trying to overwrite', or differing shared files of Multi-Arch: same "
    "instances), or, for wheels, pip silently overwrites the first project's file: the "
    "parallel install the packages were meant for is impossible.",
    example="python3-foo_1.0_amd64.deb and python3-foo_1.0_i386.deb both shipping "
    "/usr/lib/python3/dist-packages/foo/_foo.abi3.so with different bytes",
    fix="Give each stack or architecture its own path (versioned directories, multiarch "
    "triplets in extension names, python3.X-suffixed scripts), move shared files to a "
    "common -common/-data package, or declare Conflicts/Replaces where the packages are "
    "alternatives.",
    source="dpkg(1) file overwrite rules and the Debian Multi-Arch specification "
    "(wiki.debian.org/Multiarch/Implementation); rpm file conflicts and file colouring "
    "(rpm.org: multilib); PEP 427 installation schemes",
    peers=(),
    scope="set",
    digests=True,
    pairwise=True,
    record_fields=("size", "sha256", "elf"),
)
def file_conflict(
    self: Rule,
    ctxs: Sequence[ArtifactContext],
) -> Iterator[tuple[ArtifactContext, Finding]]:
    items = list(ctxs)
    if len(items) < 2:
        return
    by_path = [{install_path(c.info.format, r): r for r in c.records} for c in items]
    for i, a in enumerate(items):
        for j in range(i + 1, len(items)):
            b = items[j]
            kind = _pair_kind(a, b)
            if kind is None:
                continue
            hits = list(_conflicts(a, b, kind, by_path[j]))
            for n, (path, reason) in enumerate(hits):
                if n == _PER_PAIR:
                    rest = len(hits) - _PER_PAIR
                    for ctx, other in ((a, b), (b, a)):
                        yield (
                            ctx,
                            self.finding(
                                None, f"{rest} more conflicting paths with {_label(other)}"
                            ),
                        )
                    break
                for ctx, other in ((a, b), (b, a)):
                    yield (
                        ctx,
                        self.finding(
                            path, f"/{path.lstrip('/')} is also in {_label(other)}: {reason}"
                        ),
                    )
