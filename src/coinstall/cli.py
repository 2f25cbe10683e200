"""Command line: ``coinstall runtimes``, ``check``, ``rules``, ``explain``, ``plan``, ``share``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click
from rich.console import Console

from coinstall import config as config_mod
from coinstall.check import TargetError, check, default_targets
from coinstall.report import json as json_report
from coinstall.report import sarif as sarif_report
from coinstall.report import text as text_report
from coinstall.rules import REGISTRY, all_rules
from coinstall.rules.profiles import PROFILES
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes import discovery
from coinstall.runtimes.inventory import combine
from coinstall.runtimes.model import Runtime
from coinstall.runtimes.stack import Stack, StackError

_PYTHON_OPT = click.option(
    "--python", "pythons", multiple=True, metavar="PATH",
    help="Also probe this interpreter (repeatable; COINSTALL_PYTHONS adds more).")


def _stdout() -> Console:
    """Colour and the terminal's width on a terminal; plain and wide when piped."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _discover(pythons: tuple[str, ...], use_installed: bool) -> list[Runtime]:
    if not use_installed:
        return []
    found, errors = discovery.discover(list(pythons))
    err = _stderr()
    for e in errors:
        err.print(f"warning: {e.path}: {e.message}")
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coinstall")
def main() -> None:
    """Check, plan and share Python packages across parallel runtimes."""


@main.command()
@click.option("--known", is_flag=True, help="List the catalogue (every runtime coinstall knows).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@_PYTHON_OPT
def runtimes(known: bool, fmt: str, pythons: tuple[str, ...]) -> None:
    """List the Python runtimes on this machine (or, with --known, every one coinstall knows)."""
    cat = catalogue_mod.load()
    rts = cat.known() if known else _discover(pythons, True)
    if fmt == "json":
        click.echo(json.dumps([rt.to_json() for rt in rts], indent=2))
    else:
        text_report.render_runtimes(rts, _stdout())


def _rule_list(value: str | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(names - set(REGISTRY))
    if unknown:
        raise click.BadParameter(f"unknown rule {', '.join(unknown)}", param_hint=what)
    return names


@main.command("check")
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              help="Output format (JSON: docs/json-format.md; SARIF 2.1.0).")
@click.option("--summary", is_flag=True, help="One line per artifact instead of the matrices.")
@click.option("--profile", type=click.Choice(list(PROFILES)),
              help="Judge every artifact by this policy (default: chosen per artifact).")
@click.option("--stack", "stack_text", metavar="SPEC",
              help="Supported versions and the default: default=3.11,other=3.12.")
@click.option("--select", metavar="RULES", help="Run only these rules (comma-separated).")
@click.option("--ignore", metavar="RULES", help="Never run these rules (comma-separated).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: coinstall.toml or pyproject.toml "
                   "[tool.coinstall] found from the current directory up).")
@click.option("--no-installed", is_flag=True,
              help="Judge against the catalogue only; start no interpreter.")
@click.option("-v", "--verbose", is_flag=True, help="List every known runtime in each matrix.")
@_PYTHON_OPT
def check_cmd(targets: tuple[str, ...], fmt: str, summary: bool, profile: str | None,
              stack_text: str | None, select: str | None, ignore: str | None,
              config_path: str | None, no_installed: bool, verbose: bool,
              pythons: tuple[str, ...]) -> None:
    """Check packages (wheel, .deb, .rpm, directory) without running them.

    With no TARGETS, checks the site-packages of every Python installation found.
    Exit status: 0 no error findings, 1 error findings, 2 a target could not be read or a
    usage/configuration error.
    """
    all_rules()  # register every rule before names are validated
    try:
        cfg = config_mod.load(config_path, set(REGISTRY))
    except config_mod.ConfigError as exc:
        _stderr().print(f"coinstall: {exc}", markup=False)
        sys.exit(2)
    if profile:
        cfg.profile = profile
    if stack_text:
        try:
            cfg.stack = Stack.parse(stack_text)
        except StackError as exc:
            raise click.BadParameter(str(exc), param_hint="--stack") from None
    sel = _rule_list(select, "--select")
    if sel is not None:
        cfg.select = sel
    ign = _rule_list(ignore, "--ignore")
    if ign is not None:
        cfg.ignore = cfg.ignore | ign
    cat = catalogue_mod.load()
    installed = _discover(pythons, not no_installed)
    all_rts = combine(installed, cat)
    paths = list(targets) if targets else default_targets(installed)
    missing = [t for t in paths if not os.path.lexists(t)]
    result = check([t for t in paths if t not in missing], all_rts, cat, cfg)
    for t in missing:
        result.errors.append(TargetError(t, "no such file or directory"))
    stack = str(cfg.stack) if cfg.stack.known else None
    if fmt == "json":
        click.echo(json_report.dumps(result, stack))
    elif fmt == "sarif":
        click.echo(sarif_report.dumps(result))
    elif summary:
        text_report.render_summary(result, _stdout())
    else:
        text_report.render(result, _stdout(), verbose=verbose)
    if fmt == "text" and result.errors:
        err = _stderr()
        for e in result.errors:
            err.print(f"coinstall: {e.path}: {e.message}", markup=False)
    sys.exit(result.exit_status)


@main.command("rules")
@click.option("--profile", type=click.Choice(list(PROFILES)), help="Only this profile's rules.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text")
def rules_cmd(profile: str | None, fmt: str) -> None:
    """List the rule catalogue: name, severity, profiles, what each rule finds."""
    rules = all_rules(profile)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in rules], indent=2))
    elif fmt == "markdown":
        click.echo(text_report.rules_markdown(rules), nl=False)
    else:
        text_report.render_rules(rules, _stdout())


@main.command("explain")
@click.argument("name")
def explain_cmd(name: str) -> None:
    """Explain one rule: what it finds, why it matters, an example, the fix, its source."""
    all_rules()
    r = REGISTRY.get(name)
    if r is None:
        close = [n for n in sorted(REGISTRY) if name in n or n in name]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        _stderr().print(f"coinstall: no rule named {name!r}{hint}; `coinstall rules` lists them",
                        markup=False)
        sys.exit(2)
    text_report.render_explain(r, _stdout())


# --- coinstall plan (issue 4) ----------------------------------------------------------------

_PLAN_REPO = click.option(
    "--repo", "repos", multiple=True, required=True, metavar="PATH",
    help="Packages/Sources file, repomd.xml, a directory of indices, an RPM repository or a "
         "directory of artifacts (repeatable).")
_PLAN_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]),
                            default="text", help="Output (JSON: docs/plan-format.md).")
_PLAN_OUT = click.option("-o", "--output", type=click.Path(dir_okay=False),
                         help="Write to this file (atomically) instead of stdout.")
_PLAN_LATER = click.option("--later", "later", multiple=True, metavar="PATH",
                           help="A later snapshot of the same repository: report progress.")
_PLAN_NOCACHE = click.option("--no-cache", is_flag=True,
                             help="Do not use or write the parsed-index cache.")


@main.group("plan")
def plan_group() -> None:
    """Plan a Python runtime transition over a whole repository.

    Exit status: 0 every input read in full; 2 something was skipped or unreadable (the plan
    is still produced from the rest) or no package was read at all.
    """


def _plan_run(transition: str, new: str, old: str, repos: tuple[str, ...], fmt: str,
              output: str | None, later: tuple[str, ...], no_cache: bool) -> None:
    from coinstall.plan import engine
    from coinstall.plan import load as plan_load
    from coinstall.plan.evidence import Classifier

    try:
        new_v, old_v = engine.parse_version(new), engine.parse_version(old)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    cat = catalogue_mod.load()
    known = {rt.version for rt in cat.known() if rt.implementation == "cpython"}
    for v in (new_v, old_v):
        if v not in known:
            raise click.BadParameter(f"Python {v[0]}.{v[1]} is not in the runtime catalogue")
    err = _stderr()
    with _plan_status(err) as note:
        index = plan_load.load(list(repos), use_cache=not no_cache,
                               on_file=lambda p: note(f"reading {p}"))
        note("classifying binaries")
        plan = engine.plan_transition(
            index, Classifier(cat), transition, new_v, old_v,
            progress=lambda d, t: note(f"classifying binaries {d}/{t}"))
        data = plan.to_json()
        if later:
            note("reading the later snapshot")
            later_idx = plan_load.load(list(later), use_cache=not no_cache)
            data = engine.progress(data, later_idx, Classifier(cat))
            data["problems"] += [str(p) for p in later_idx.problems]
    _plan_emit(data, fmt, output)
    for p in data["problems"]:
        err.print(f"coinstall: {p}", markup=False)
    sys.exit(2 if data["problems"] or not index.binaries else 0)


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


def _plan_emit(data: dict[str, Any], fmt: str, output: str | None) -> None:
    import io
    import tempfile

    if fmt == "json":
        text = json.dumps(data, indent=1) + "\n"
    elif fmt == "html":
        from coinstall.report import plan_html
        text = plan_html.render(data)
    else:
        from coinstall.report import plan_text
        buf = io.StringIO()
        console = Console(file=buf, highlight=False, width=200,
                          force_terminal=sys.stdout.isatty() and output is None)
        plan_text.render(data, console)
        text = buf.getvalue()
    if output is None:
        click.echo(text, nl=False)
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(output)), prefix=".tmp-")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, output)


@plan_group.command("add")
@click.argument("version")
@click.option("--from", "old", required=True, metavar="X.Y", help="The runtime already there.")
@_PLAN_REPO
@_PLAN_FORMAT
@_PLAN_OUT
@_PLAN_LATER
@_PLAN_NOCACHE
def plan_add(version: str, old: str, repos: tuple[str, ...], fmt: str, output: str | None,
             later: tuple[str, ...], no_cache: bool) -> None:
    """Add runtime VERSION beside --from: what to rebuild, in which waves."""
    _plan_run("add", version, old, repos, fmt, output, later, no_cache)


@plan_group.command("default")
@click.argument("version")
@click.option("--from", "old", required=True, metavar="X.Y", help="The current default.")
@_PLAN_REPO
@_PLAN_FORMAT
@_PLAN_OUT
@_PLAN_LATER
@_PLAN_NOCACHE
def plan_default(version: str, old: str, repos: tuple[str, ...], fmt: str,
                 output: str | None, later: tuple[str, ...], no_cache: bool) -> None:
    """Make VERSION the default instead of --from: what must be rebuilt first."""
    _plan_run("default", version, old, repos, fmt, output, later, no_cache)


@plan_group.command("drop")
@click.argument("version")
@click.option("--to", "new", required=True, metavar="X.Y", help="The runtime that stays.")
@_PLAN_REPO
@_PLAN_FORMAT
@_PLAN_OUT
@_PLAN_LATER
@_PLAN_NOCACHE
def plan_drop(version: str, new: str, repos: tuple[str, ...], fmt: str, output: str | None,
              later: tuple[str, ...], no_cache: bool) -> None:
    """Retire runtime VERSION: what still needs it (blocks) and what to rebuild."""
    _plan_run("drop", new, version, repos, fmt, output, later, no_cache)


@plan_group.command("progress")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@_PLAN_REPO
@_PLAN_FORMAT
@_PLAN_OUT
@_PLAN_NOCACHE
def plan_progress(plan_file: str, repos: tuple[str, ...], fmt: str, output: str | None,
                  no_cache: bool) -> None:
    """Progress of a saved JSON plan (PLAN_FILE) against a later snapshot (--repo)."""
    from coinstall.plan import engine
    from coinstall.plan import load as plan_load
    from coinstall.plan.evidence import Classifier

    try:
        with open(plan_file, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("format") != "coinstall-plan/1":
            raise ValueError("not a coinstall plan (format coinstall-plan/1)")
    except (OSError, ValueError) as e:
        _stderr().print(f"coinstall: {plan_file}: {e}", markup=False)
        sys.exit(2)
    with _plan_status(_stderr()) as note:
        later_idx = plan_load.load(list(repos), use_cache=not no_cache,
                                   on_file=lambda p: note(f"reading {p}"))
        data = engine.progress(data, later_idx, Classifier(catalogue_mod.load()))
    data["problems"] = [str(p) for p in later_idx.problems]
    _plan_emit(data, fmt, output)
    for p in data["problems"]:
        _stderr().print(f"coinstall: {p}", markup=False)
    sys.exit(2 if later_idx.problems or not later_idx.binaries else 0)


# --------------------------------------------------------------------------------------------
# coinstall share (issue 5): one contiguous block; the engine is coinstall.share.


_T = TypeVar("_T")


def _share_run(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``; a ShareError becomes one line on stderr and exit status 2."""
    from coinstall.share.site import ShareError
    try:
        return fn(*args, **kwargs)
    except ShareError as exc:
        _stderr().print(f"coinstall share: {exc}")
        sys.exit(2)


_SHARE_TIMEOUT = click.option(
    "--lock-timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
    help="How long to wait for another coinstall process working on the same site.")


@main.group("share")
def share_cmd() -> None:
    """Install version-independent packages once for many runtimes."""


def _share_pythons(runtimes_opt: str | None, pythons: tuple[str, ...]) -> list[str]:
    """Interpreters for ``share init``: ``--python`` paths as given, plus the discovered
    CPython 3 runtimes ``--runtimes`` selects (all of them when neither option is given)."""
    if pythons and runtimes_opt is None:
        return list(pythons)
    found = [rt for rt in _discover((), True)
             if rt.implementation == "cpython" and rt.version[0] == 3 and rt.executable]
    if runtimes_opt is not None:
        wanted = [w.strip() for w in runtimes_opt.split(",") if w.strip()]
        unknown = [w for w in wanted if not any(w in (rt.version_str, rt.id) for rt in found)]
        if unknown:
            raise click.BadParameter(f"no CPython runtime {', '.join(unknown)} found",
                                     param_hint="--runtimes")
        found = [rt for rt in found if rt.version_str in wanted or rt.id in wanted]
    return list(pythons) + [rt.executable for rt in found if rt.executable]


@share_cmd.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--runtimes", "runtimes_opt", metavar="X.Y,...",
              help="CPython versions or runtime ids to serve (default: every CPython 3 found).")
@click.option("--python", "pythons", multiple=True, metavar="PATH",
              help="Serve this interpreter (a venv's python: its site-packages gets the hook).")
@_SHARE_TIMEOUT
def share_init(directory: str, runtimes_opt: str | None, pythons: tuple[str, ...],
               lock_timeout: float) -> None:
    """Create shared site DIRECTORY and hook it into each runtime's site-packages."""
    from coinstall.report import share_text
    from coinstall.share import site as share_site
    result = _share_run(share_site.init, directory, _share_pythons(runtimes_opt, pythons),
                         timeout=lock_timeout)
    share_text.render_init(result, _stdout())


@share_cmd.command("install")
@click.argument("requirements", nargs=-1, required=True)
@click.option("--into", "directory", required=True, type=click.Path(file_okay=False),
              help="The shared site.")
@click.option("-c", "--constraint", "constraints", multiple=True, type=click.Path(),
              help="pip constraints file (repeatable).")
@_SHARE_TIMEOUT
def share_install(requirements: tuple[str, ...], directory: str, constraints: tuple[str, ...],
                  lock_timeout: float) -> None:
    """Install REQUIREMENTs or wheel files that every target runtime can use.

    Exit status: 0 installed (or already there), 1 refused, 2 error.
    """
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod
    err = _stderr()
    result = _share_run(share_install_mod.install, directory, requirements, constraints,
                         timeout=lock_timeout, progress=lambda m: err.print(f"... {m}"))
    share_text.render_install(result, _stdout())
    sys.exit(1 if result.refused else 0)


@share_cmd.command("list")
@click.argument("directory", type=click.Path(file_okay=False))
def share_list(directory: str) -> None:
    """List the distributions installed in shared site DIRECTORY."""
    from coinstall.report import share_text
    from coinstall.share.site import SharedSite
    state = _share_run(SharedSite(directory).load)
    share_text.render_list(state, _stdout())


@share_cmd.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
@_SHARE_TIMEOUT
def share_verify(directory: str, lock_timeout: float) -> None:
    """Import every top-level module with every target runtime; exit 1 on any failure."""
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod
    result = _share_run(share_install_mod.verify, directory, timeout=lock_timeout)
    share_text.render_verify(result, _stdout())
    sys.exit(0 if result.ok else 1)


@share_cmd.command("remove")
@click.argument("names", nargs=-1, required=True)
@click.option("--from", "directory", required=True, type=click.Path(file_okay=False),
              help="The shared site.")
@click.option("--force", is_flag=True, help="Remove even what other distributions need.")
@_SHARE_TIMEOUT
def share_remove(names: tuple[str, ...], directory: str, force: bool,
                 lock_timeout: float) -> None:
    """Remove distributions NAMES and every runtime's bytecode of them."""
    from coinstall.report import share_text
    from coinstall.share import install as share_install_mod
    result = _share_run(share_install_mod.remove, directory, names, timeout=lock_timeout,
                         force=force)
    share_text.render_remove(result, _stdout())


@share_cmd.command("status")
@click.argument("directory", type=click.Path(file_okay=False))
def share_status(directory: str) -> None:
    """Show the targets, their hooks and where each real interpreter puts the site."""
    from coinstall.report import share_text
    from coinstall.share import site as share_site
    result = _share_run(share_site.status, directory)
    share_text.render_status(result, _stdout())
    sys.exit(0 if all(t.ok for t in result.targets) else 1)


@share_cmd.command("uninit")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--purge", is_flag=True, help="Also remove every installed distribution.")
@_SHARE_TIMEOUT
def share_uninit(directory: str, purge: bool, lock_timeout: float) -> None:
    """Remove the hooks and the state of shared site DIRECTORY."""
    from coinstall.share import site as share_site
    removed = _share_run(share_site.uninit, directory, purge, timeout=lock_timeout)
    out = _stdout()
    for p in removed:
        out.print(f"removed {p}")


if __name__ == "__main__":  # pragma: no cover
    main()
