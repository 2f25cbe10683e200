"""``coinstall spec lint``: read specs with the stack macros and run the spec rules of the
catalogue (``scope == "spec"``, rules/spec_*.py) over them.

The result is a :class:`coinstall.check.CheckResult` (one :class:`ArtifactResult` of format
``spec`` per file, no runtime matrix), so the JSON and SARIF reports of ``coinstall check``
render it unchanged; findings carry the spec line.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from coinstall.artifacts.base import ArtifactInfo
from coinstall.check import ArtifactResult, CheckResult, TargetError
from coinstall.config import Config
from coinstall.files.verdict import Judgement
from coinstall.rules import REGISTRY, Finding, all_rules
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.stack import Stack
from coinstall.spec import macros as macros_mod
from coinstall.spec.context import SpecContext, SpecLayout, layout_of, profile_for
from coinstall.spec.read import SpecDoc, SpecError, expansion_query, read, read_text, split

#: The stack specs are read with when none is given (configuration or ``--stack``).
READ_STACK = Stack.parse("default=3.12,other=3.11")

_STYLE_OF_PROFILE = {"epel": "epel", "opensuse": "suse", "fedora": "fedora"}


class MacroFiles:
    """The stack macro files of one stack, one per style, written once into a private
    temporary directory (removed at exit)."""

    def __init__(self, stack: Stack, interpreters: dict[str, str] | None = None) -> None:
        self.stack = stack if stack.default is not None else READ_STACK
        if not self.stack.others:
            self.stack = Stack(
                self.stack.default,
                READ_STACK.others if READ_STACK.default != self.stack.default else ((3, 11),),
            )
        self.facts = macros_mod.stack_facts(self.stack, catalogue_mod.load(), interpreters)
        self._dir: str | None = None
        self._files: dict[str, str] = {}

    def path(self, style: str) -> str:
        """The macro file of ``style`` (written on first use)."""
        if style not in self._files:
            if self._dir is None:
                self._dir = tempfile.mkdtemp(prefix="coinstall-macros-")
                atexit.register(shutil.rmtree, self._dir, True)
            p = os.path.join(self._dir, f"macros.coinstall-{style}")
            with open(p, "w", encoding="utf-8") as f:
                f.write(macros_mod.render(self.stack, style, self.facts))
            self._files[style] = p
        return self._files[style]


@expansion_query
def _rule_texts(doc: SpecDoc) -> Iterator[str]:
    """What the spec rules expand (rules/spec_stacks.py: the stack's package version, the
    Requires/BuildRequires values): expanded by the parse worker with the spec's macros (the
    rules cannot name these themselves: rules/ does not import librpm)."""
    yield "%{python3_pkgversion}"
    yield "%{?python3_pkgversion}"
    yield "%{?__default_python3_version}"
    for t in doc.tags:
        if t.key in ("requires", "buildrequires") or (
            t.key in ("version", "release") and t.package is None
        ):
            yield t.value


def read_for(
    path: str,
    files: MacroFiles,
    profile: str | None = None,
) -> tuple[SpecDoc, SpecLayout]:
    """Read one spec with the macro style of its profile (``profile`` or the one its layout
    implies); returns the document and its layout.

    Raises:
        SpecError: see :func:`coinstall.spec.read.read`.
    """
    text = read_text(path)
    sections, tags, defs = split(path, text)
    layout = layout_of(SpecDoc(path, text, text.splitlines(), sections, tags, defs))
    prof = profile or profile_for(layout).name
    style = _STYLE_OF_PROFILE.get(prof, "fedora")
    if style == "epel" and layout == "alt":
        style = "alt"
    return read(path, files.path(style), text=text, structured=(sections, tags, defs)), layout


def run_spec_rules(ctx: SpecContext, config: Config | None = None) -> list[Finding]:
    """The findings of every spec rule of the context's profile, filtered and re-graded by
    ``config`` (``select``/``ignore``, per-path ignores on the spec path, severities)."""
    all_rules()
    out: list[Finding] = []
    for r in REGISTRY.values():
        if r.scope != "spec" or ctx.profile.name not in r.profiles:
            continue
        if config is not None and not config.enabled(r.name):
            continue
        for f in r.check(ctx):
            if config is not None:
                if config.ignored_at(r.name, (ctx.doc.path, os.path.basename(ctx.doc.path))):
                    continue
                sev = config.severity.get(r.name)
                if sev and sev != f.severity:
                    f = replace(f, severity=sev)
            out.append(f)
    out.sort(key=lambda f: (f.line or 0, f.rule))
    return out


def lint_doc(
    doc: SpecDoc, layout: SpecLayout, config: Config | None = None, left: Iterable[int] = ()
) -> tuple[list[Finding], SpecContext]:
    """Run the spec rules on a document read by :func:`read_for`."""
    cfg = config or Config()
    if cfg.profile:
        profile = PROFILES[cfg.profile]
    elif layout == "fedora" and cfg.stack.others:
        # a stack with another version is a question about parallel stacks: a Fedora spec
        # is judged by what EPEL/RHEL need of it
        profile = PROFILES["epel"]
    else:
        profile = profile_for(layout)
    ctx = SpecContext(doc, profile, cfg.stack, layout, frozenset(left))
    return run_spec_rules(ctx, cfg), ctx


def _version_release(doc: SpecDoc) -> str | None:
    """``Version-Release`` of the source package as rpmbuild expands them (``1.0.7-1``;
    ``1.0.7`` without a Release tag), as :class:`ArtifactInfo` gives an RPM's; None
    without a Version tag."""
    tag = {t.key: t.value for t in doc.tags if t.package is None}
    if "version" not in tag:
        return None
    v = doc.expand(tag["version"]).strip()
    r = doc.expand(tag["release"]).strip() if "release" in tag else ""
    return f"{v}-{r}" if r else v


def lint(
    paths: Sequence[str], config: Config | None = None, files: MacroFiles | None = None
) -> CheckResult:
    """Lint every spec of ``paths``; a spec that cannot be read becomes a
    :class:`TargetError` (``path``, ``line N: message``) and the others are still read."""
    cfg = config or Config()
    files = files or MacroFiles(cfg.stack)
    artifacts: list[ArtifactResult] = []
    errors: list[TargetError] = []
    for p in paths:
        try:
            doc, layout = read_for(p, files, cfg.profile)
        except SpecError as exc:
            errors.append(
                TargetError(p, f"line {exc.line}: {exc.message}" if exc.line else exc.message)
            )
            continue
        findings, ctx = lint_doc(doc, layout, cfg)
        info = ArtifactInfo(
            path=p,
            format="spec",
            name=doc.name or None,
            version=_version_release(doc),
            requires=list(doc.buildrequires),
            fields={"layout": layout},
        )
        artifacts.append(ArtifactResult(info, [], Judgement(), findings, [], ctx.profile))
    return CheckResult([], artifacts, errors)
