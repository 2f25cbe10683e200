"""``coinstall plan``: a runtime transition over a whole repository."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click
from rich.console import Console

from coinstall.cli._common import (
    LIMIT_OPT,
    apply_limits,
    main,
    output_dir_exists,
    stderr,
    write_output,
)
from coinstall.report.escape import printable
from coinstall.runtimes import catalogue as catalogue_mod

_PLAN_REPO = click.option(
    "--repo",
    "repos",
    multiple=True,
    required=True,
    metavar="PATH",
    help="Packages/Sources file, repomd.xml, a directory of indices, an RPM repository or a "
    "directory of artifacts (repeatable).",
)
_PLAN_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    help="Output (JSON: docs/plan-format.md).",
)
_PLAN_OUT = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    callback=output_dir_exists,
    help="Write to this file (atomically) instead of stdout.",
)
_PLAN_LATER = click.option(
    "--later",
    "later",
    multiple=True,
    metavar="PATH",
    help="A later snapshot of the same repository: report progress.",
)
_PLAN_SUITE = click.option(
    "--suite",
    metavar="NAME",
    help="The Debian suite to plan over when the inputs hold several (apt lists with trixie, "
    "sid and experimental): a dists/ directory name or the Release file's Suite or "
    "Codename. One suite per plan; without it, several suites are refused.",
)
_PLAN_FULL = click.option(
    "--full",
    is_flag=True,
    help="Text: list every source of every wave and every blocked "
    "source instead of the first ones.",
)
_PLAN_MIRROR = click.option(
    "--mirror",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False),
    help="Where the --repo index's .deb/.rpm files are (a pool): each binary is classified "
    "from its artifact's real contents (file list, ELF symbols) instead of the index.",
)
_PLAN_NOCACHE = click.option(
    "--no-cache", is_flag=True, help="Do not use or write the parsed-index cache."
)

_F = TypeVar("_F", bound=Callable[..., Any])


def _plan_options(*, later: bool = True) -> Callable[[_F], _F]:
    """The options every plan command takes, in their --help order: --repo, --format,
    --output, --later (not for ``progress``, which is given the later snapshot as --repo),
    --no-cache, --suite, --full."""
    options = [_PLAN_REPO, _PLAN_FORMAT, _PLAN_OUT]
    options += [_PLAN_LATER] if later else []
    options += [_PLAN_NOCACHE, _PLAN_SUITE, _PLAN_FULL]

    def decorate(f: _F) -> _F:
        for option in reversed(options):  # click lists the outermost decorator first
            f = option(f)
        return f

    return decorate


@main.group("plan")
@LIMIT_OPT
def plan_group(limits: tuple[str, ...]) -> None:
    """Plan a Python runtime transition over a whole repository.

    Exit status: 0 every input read in full; 2 something was skipped or unreadable (the plan
    is still produced from the rest) or no package was read at all; 3 an internal error.
    ``coinstall plan --limit index-mb=2048 add ...`` sets a reader limit.
    """
    apply_limits({}, limits)


def _plan_run(
    transition: str,
    new: str,
    old: str,
    repos: tuple[str, ...],
    fmt: str,
    output: str | None,
    later: tuple[str, ...],
    no_cache: bool,
    suite: str | None = None,
    full: bool = False,
    mirror: str | None = None,
) -> None:
    from coinstall.plan import engine
    from coinstall.plan import load as plan_load
    from coinstall.plan.evidence import Classifier

    free_threaded = transition == "add" and new.strip().endswith("t")
    if free_threaded:  # add 3.14t: the free-threaded build beside its GIL twin
        new = new.strip()[:-1]
        old = old or new
        if later:
            raise click.UsageError("--later is not supported for a free-threaded plan yet")
    if not old:
        raise click.UsageError("--from X.Y is required (optional only for X.Yt)")
    try:
        new_v, old_v = engine.parse_version(new), engine.parse_version(old)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    cat = catalogue_mod.load()
    known = {rt.version for rt in cat.known() if rt.implementation == "cpython"}
    for v in (new_v, old_v):
        if v not in known:
            raise click.BadParameter(f"Python {v[0]}.{v[1]} is not in the runtime catalogue")
    err = stderr()
    with _plan_status(err) as note:
        index = _load_suite(plan_load, list(repos), no_cache, suite, note)
        if mirror is not None:
            note(f"reading the artifacts under {mirror}")
            plan_load.apply_mirror(index, mirror)
        note("classifying binaries")
        if free_threaded:
            from coinstall.plan import freethreaded

            if freethreaded.ft_runtime(cat, new_v) is None:
                raise click.BadParameter(f"Python {new}t is not in the runtime catalogue")
            plan = freethreaded.plan_free_threaded(
                index,
                Classifier(cat),
                cat,
                new_v,
                old_v,
                progress=lambda d, t: note(f"classifying binaries {d}/{t}"),
            )
        else:
            plan = engine.plan_transition(
                index,
                Classifier(cat),
                transition,
                new_v,
                old_v,
                progress=lambda d, t: note(f"classifying binaries {d}/{t}"),
            )
        data: dict[str, Any] = dict(plan.to_json())  # progress() adds to it
        if later:
            note("reading the later snapshot")
            later_idx = _load_suite(plan_load, list(later), no_cache, suite or index.suite, None)
            data = engine.progress(data, later_idx, Classifier(cat))
            data["problems"] += [str(p) for p in later_idx.problems]
    _plan_emit(data, fmt, output, full)
    for p in data["problems"]:
        err.print(f"coinstall: {printable(p)}", markup=False)
    sys.exit(2 if data["problems"] or not index.binaries else 0)


def _load_suite(
    plan_load: Any,
    repos: list[str],
    no_cache: bool,
    suite: str | None,
    note: Callable[[str], None] | None,
) -> Any:
    """``plan_load.load`` of one suite; several suites without ``--suite`` (or a suite not
    there) is one line and exit 2."""
    try:
        return plan_load.load(
            repos,
            use_cache=not no_cache,
            suite=suite,
            on_file=(lambda p: note(f"reading {p}")) if note else None,
        )
    except plan_load.SuiteError as e:
        stderr().print(f"coinstall: {printable(str(e))}", markup=False)
        sys.exit(2)


def _plan_status(err: Console) -> Any:
    """A rich status line on a terminal (stderr is a tty); silent otherwise."""
    import contextlib

    @contextlib.contextmanager
    def ctx() -> Iterator[Callable[[str], None]]:
        if not sys.stderr.isatty():
            yield lambda msg: None
            return
        with err.status("planning") as st:
            yield lambda msg: st.update(msg)

    return ctx()


def _plan_emit(data: dict[str, Any], fmt: str, output: str | None, full: bool = False) -> None:
    import io

    if fmt == "json":
        text = json.dumps(data, indent=1) + "\n"
    elif fmt == "html":
        from coinstall.report import plan_html

        text = plan_html.render(data)
    else:
        from coinstall.report import plan_text

        buf = io.StringIO()
        console = Console(
            file=buf,
            highlight=False,
            width=200,
            force_terminal=sys.stdout.isatty() and output is None,
        )
        plan_text.render(data, console, full=full)
        text = buf.getvalue()
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text)


@plan_group.command("add")
@click.argument("version")
@click.option(
    "--from",
    "old",
    metavar="X.Y",
    help="The runtime already there (for VERSION X.Yt, the free-threaded build: X.Y by default).",
)
@_plan_options()
@_PLAN_MIRROR
def plan_add(
    version: str,
    old: str | None,
    repos: tuple[str, ...],
    fmt: str,
    output: str | None,
    later: tuple[str, ...],
    no_cache: bool,
    suite: str | None,
    full: bool,
    mirror: str | None,
) -> None:
    """Add runtime VERSION beside --from: what to rebuild, in which waves.

    VERSION X.Yt (3.14t) plans a free-threaded stack: each source is classed pure,
    version-specific, abi3, untagged or unknown from its binaries' contents
    (docs/plan-format.md)."""
    _plan_run("add", version, old or "", repos, fmt, output, later, no_cache, suite, full, mirror)


@plan_group.command("default")
@click.argument("version")
@click.option("--from", "old", required=True, metavar="X.Y", help="The current default.")
@_plan_options()
def plan_default(
    version: str,
    old: str,
    repos: tuple[str, ...],
    fmt: str,
    output: str | None,
    later: tuple[str, ...],
    no_cache: bool,
    suite: str | None,
    full: bool,
) -> None:
    """Make VERSION the default instead of --from: what must be rebuilt first."""
    _plan_run("default", version, old, repos, fmt, output, later, no_cache, suite, full)


@plan_group.command("drop")
@click.argument("version")
@click.option("--to", "new", required=True, metavar="X.Y", help="The runtime that stays.")
@_plan_options()
def plan_drop(
    version: str,
    new: str,
    repos: tuple[str, ...],
    fmt: str,
    output: str | None,
    later: tuple[str, ...],
    no_cache: bool,
    suite: str | None,
    full: bool,
) -> None:
    """Retire runtime VERSION: what still needs it (blocks) and what to rebuild."""
    _plan_run("drop", new, version, repos, fmt, output, later, no_cache, suite, full)


@plan_group.command("progress")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@_plan_options(later=False)
def plan_progress(
    plan_file: str,
    repos: tuple[str, ...],
    fmt: str,
    output: str | None,
    no_cache: bool,
    suite: str | None,
    full: bool,
) -> None:
    """Progress of a saved JSON plan (PLAN_FILE) against a later snapshot (--repo)."""
    from coinstall.artifacts import ArtifactError
    from coinstall.artifacts import limits as limits_mod
    from coinstall.plan import engine
    from coinstall.plan import load as plan_load
    from coinstall.plan.evidence import Classifier

    try:  # stat before open: a FIFO or /dev/zero is refused unopened; size capped
        data = json.loads(
            limits_mod.read_regular(
                plan_file, limits_mod.default().index_mb << 20, "limit index-mb"
            )
        )
        if not isinstance(data, dict) or data.get("format") != "coinstall-plan/1":
            raise ValueError("not a coinstall plan (format coinstall-plan/1)")
        if "free_threading" in data:
            raise ValueError("progress of a free-threaded plan is not supported yet")
    except (ArtifactError, ValueError) as e:
        stderr().print(f"coinstall: {printable(plan_file)}: {printable(str(e))}", markup=False)
        sys.exit(2)
    with _plan_status(stderr()) as note:
        later_idx = _load_suite(plan_load, list(repos), no_cache, suite or data.get("suite"), note)
        data = engine.progress(data, later_idx, Classifier(catalogue_mod.load()))
    data["problems"] = [str(p) for p in later_idx.problems]
    _plan_emit(data, fmt, output, full)
    for p in data["problems"]:
        stderr().print(f"coinstall: {printable(p)}", markup=False)
    sys.exit(2 if later_idx.problems or not later_idx.binaries else 0)
