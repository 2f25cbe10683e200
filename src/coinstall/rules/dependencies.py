"""Dependency rules: what a package requires must name its own implementation and stack."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from coinstall.names import Target, stack_label
from coinstall.relations import (
    alternative_stack,
    relations,
    stack_of,
)
from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.rules.profiles import RPM_PROFILES, SYSTEM_PROFILES

#: Debian meta-packages that depend on every supported version on purpose.
_ALL_VERSIONS = ("-all", "-all-dev", "-all-dbg")


@rule(
    "requires-mixed-implementations",
    severity="error",
    summary="One package requires two implementations or two stacks (python2 and python3, "
    "python3.11 and python3.12, CPython and PyPy).",
    why="A package is built for one runtime; requiring two drags a second stack onto every "
    "system that installs it (Python 2 kept alive by a Python 3 package), and usually "
    "means modules or scripts for one stack were packaged with another's.",
    example="tracer-0.6.9-2.fc25 requires python(abi) = 2.7 and python(abi) = 3.5",
    fix="Split the package per stack (python2-foo, python3-foo), or fix the shebang or the "
    "module directory that pulls in the other stack.",
    source="Fedora Packaging Guidelines for Python (one subpackage per stack); taskotron "
    "two_three.py",
    peers=("taskotron:two_three",),
    profiles=SYSTEM_PROFILES,
)
def requires_mixed_implementations(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """Versioned requirements that are not :meth:`Target.compatible` with each other;
    unversioned ones (``/usr/bin/python``) are ``requires-unversioned-python``'s.  Debian's
    ``python3-all``-style meta-packages are exempt."""
    name = ctx.info.name or ""
    if name.endswith(_ALL_VERSIONS):
        return
    seen: list[tuple[Target, str]] = []
    for t, raw in relations(ctx.info).required_targets():
        if t.unversioned:
            continue
        for s, sraw in seen:
            if not s.compatible(t):
                yield self.finding(None, f"requires {s.label} ({sraw}) and {t.label} ({raw})")
                return
        seen.append((t, raw))


#: Requirements that name the unversioned interpreter (taskotron python_usage.py;
#: requires.py reported "python (python2 is available)").
_UNVERSIONED_INTERPRETER = ("/usr/bin/python", "python", "python-unversioned-command")


@rule(
    "requires-unversioned-python",
    severity="error",
    summary="A package requires the unversioned python (/usr/bin/python, python, "
    "python-unversioned-command) or a python-foo name where a versioned one exists.",
    why="What `python` and `python-foo` resolve to changed with the Python 3 switch (Fedora "
    "31) and differs between releases; a requirement on them may install the wrong stack "
    "or nothing.  Fedora forbids /usr/bin/python as a dependency.",
    example="yum-3.4.3-512.fc26 requires /usr/bin/python and python >= 2.4",
    fix="Require the versioned name: python3, /usr/bin/python3, python3-foo, "
    "%{py3_dist foo} (python3dist(foo)).",
    source='Fedora Packaging Guidelines for Python, "Multiple Python Runtimes" '
    "(/usr/bin/python MUST NOT be a dependency); taskotron python_usage.py and "
    "requires.py (requires_naming_scheme)",
    peers=("taskotron:python_usage", "taskotron:requires_naming_scheme"),
    profiles=RPM_PROFILES,
    scope="set",
)
def requires_unversioned_python(
    self: Rule, ctxs: Sequence[ArtifactContext]
) -> Iterator[tuple[ArtifactContext, Finding]]:
    """The unversioned interpreter is always reported.  A ``python-foo`` requirement is
    reported when a package checked together has a versioned name and provides
    ``python-foo`` (``python2-foo`` providing ``python-foo``): the artifacts checked together
    stand in for the repository that taskotron's requires_naming_scheme queried with DNF
    (coinstall has no repository; without a versioned provider in sight it stays silent)."""
    versioned: dict[str, str] = {}
    for c in ctxs:
        rel = relations(c.info)
        if c.info.name and rel.name is not None and not rel.name.unversioned:
            for p in rel.names:
                if p.startswith("python-"):
                    versioned.setdefault(p, c.info.name)
    for c in ctxs:
        for g in relations(c.info).requires:
            r = g[0]
            if r.name in _UNVERSIONED_INTERPRETER:
                yield (
                    c,
                    self.finding(
                        None,
                        f"requires {r.raw}: name the interpreter's "
                        f"version (python3, /usr/bin/python3)",
                    ),
                )
            elif r.name in versioned and versioned[r.name] != c.info.name:
                yield c, self.finding(None, f"requires {r.raw}: {versioned[r.name]} is available")


def _own_version(ctx: ArtifactContext) -> tuple[str, tuple[int, int]] | None:
    return stack_of(ctx).exact


def _names_default(t: Target) -> bool:
    """``python3-foo``, ``python3dist(foo)``, ``/usr/bin/python3``, ``python3``: names
    that always resolve to the default stack (python-rpm-generators ``python3dist`` only for
    ``%__default_python3_version``; python.lua alternative provides)."""
    return (
        t.implementation == "cpython"
        and t.major == 3
        and t.version is None
        and t.kind in ("module", "dist", "interpreter")
    )


@rule(
    "requires-other-stack",
    severity="error",
    summary="A package for one stack requires another stack's runtime or modules "
    "(a python3.12 package requiring python3.11-foo or python(abi) = 3.11).",
    why="The dependency installs modules the package's runtime cannot import (they are in "
    "another version's site-packages), or a second interpreter; the package breaks "
    "silently at import time.",
    example="python3.12-foo requires python3.11dist(bar)",
    fix="Require the same stack: %{py3_dist bar} with the stack's %python3_pkgversion, "
    "python3.12-bar, python312-bar ($python_ prefixes on openSUSE).",
    source="Fedora/EPEL %python3_pkgversion and %py3_dist (python-rpm-macros); "
    "python-rpm-generators pythondistdeps.py (pythonX.Ydist requires per stack)",
    peers=(),
    profiles=RPM_PROFILES,
)
def requires_other_stack(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """The package's own stack is the single version its files, ``python(abi)`` requires
    and name agree on.  A requirement naming another minor version (or major, or
    implementation) is reported; one naming the default stack (``python3-foo``) is reported
    when the package is known not to be for the default stack
    (:func:`~coinstall.relations.alternative_stack`: ``--stack`` says so, or its name
    carries a prefix only alternative stacks use — any versioned prefix on Fedora, the dotted
    ``python3.11-`` on EPEL, where EPEL 7's default stack itself was ``python36-``)."""
    own = _own_version(ctx)
    if own is None:
        return
    impl, ver = own
    rel = relations(ctx.info)
    label = stack_label(impl, ver[0], ver)
    non_default = alternative_stack(ctx, ver)
    for t, raw in rel.required_targets():
        if t.unversioned:
            continue
        if t.implementation != impl or t.major != ver[0] or (t.version and t.version != ver):
            yield self.finding(None, f"a {label} package requires {raw} ({t.label})")
        elif non_default and _names_default(t):
            yield self.finding(
                None,
                f"a {label} package (not the default stack) requires "
                f"{raw}, which names the default stack",
            )
