"""What every command group shares: the ``coinstall`` group, the consoles, runtime discovery,
rule-name options.  Only ``cli/`` and ``report/`` know the screen.

Start-up: this module imports only click.  rich (the consoles), runtime discovery and the rule
registry are imported by the functions that need them, and the command modules load when their
command is invoked (:class:`LazyGroup`): ``coinstall check --format json`` never imports rich,
``coinstall runtimes`` never imports the rules (benchmarks/startup_bench.py).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from coinstall import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from coinstall.config import Config
    from coinstall.runtimes.model import Runtime

F = TypeVar("F", bound=Callable[..., Any])

PYTHON_OPT = click.option(
    "--python",
    "pythons",
    multiple=True,
    metavar="PATH",
    help="Also probe this interpreter (repeatable; COINSTALL_PYTHONS adds more).",
)


def stdout() -> Console:
    """Colour and the terminal's width on a terminal; plain and wide when piped."""
    from rich.console import Console

    from coinstall.report.plain import PIPE_WIDTH

    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)


def write_plain(render: Callable[[], str]) -> bool:
    """Write ``render()``'s text on stdout when stdout is not a terminal and the report needs
    no rich layout (:mod:`coinstall.report.plain`); False when the caller must print it with
    rich (:func:`stdout`), which then prints the same bytes."""
    from coinstall.report import plain

    if not plain.piped():
        return False
    try:
        text = render()
    except plain.NotPlain:
        return False
    sys.stdout.write(text)
    sys.stdout.flush()
    return True


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def write_output(path: str, text: str, keep_perms: bool = False) -> None:
    """Write ``text`` to ``path`` atomically (:func:`coinstall.atomic.write_atomic`, with
    ``keep_perms``), or print one line naming the path and exit with status 2: a read-only
    directory, no permission or a full disk is the user's to fix, not coinstall's bug."""
    from coinstall.atomic import write_atomic

    try:
        write_atomic(path, text, keep_perms=keep_perms)
    except OSError as exc:
        stderr().print(f"coinstall: {path}: cannot write: {exc.strerror or exc}", markup=False)
        sys.exit(2)


#: What an optional command needs that a plain ``pip install coinstall`` does not install:
#: module -> (what it is for, the extra that installs it, the system package it needs beside).
EXTRAS: dict[str, tuple[str, str, str | None]] = {
    "distributed": ("--scheduler (a Dask cluster)", "dask", None),
    # PyPI's `rpm` is a shim that loads the system's librpm bindings: both are needed
    "specfile": ("coinstall spec", "spec", "python3-rpm (dnf, apt; rpm-python on zypper)"),
    "rpm": ("coinstall spec", "spec", "python3-rpm (dnf, apt; rpm-python on zypper)"),
}


def require_extra(*modules: str) -> None:
    """Exit with one line naming the extra to install when one of ``modules`` is missing.

    ``coinstall[dask]`` and ``coinstall[spec]`` are optional (pyproject.toml): a command that
    needs one of them says so instead of a traceback.  Exit status 2 (a usage problem).
    """
    import importlib.util

    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
            if found and module == "rpm":
                importlib.import_module("rpm")  # the shim is there; are the bindings?
        except ImportError:
            found = False
        if not found:
            what, extra, system = EXTRAS[module]
            also = f" and the system package {system}" if system else ""
            sys.stderr.write(
                f"coinstall: {what} needs the {module!r} module: "
                f"pip install 'coinstall[{extra}]'{also}\n"
            )
            sys.exit(2)


def discover(pythons: tuple[str, ...], use_installed: bool) -> list[Runtime]:
    if not use_installed:
        return []
    from coinstall.runtimes import discovery

    found, errors = discovery.discover(list(pythons))
    if errors:  # the console only then: --format json need not import rich
        err = stderr()
        for e in errors:
            err.print(f"warning: {e.path}: {e.message}")
    return found


class LazyGroup(click.Group):
    """A click group whose commands live in modules imported on first use.

    :attr:`lazy` maps a command name to the module that registers it on :data:`main` (with
    ``@main.command``/``@main.group``); ``cli/__init__.py`` fills it.  :attr:`summaries` holds
    each lazy command's one-line help, so that ``coinstall --help`` lists the commands without
    importing them (tests/test_startup_paths.py checks each against the command's own help).
    A command registered directly (its module imported eagerly) works as in a plain group.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}
        self.summaries: dict[str, str] = {}

    def _load(self, name: str) -> None:
        module = self.lazy.get(name)
        if module is not None and name not in self.commands:
            importlib.import_module(module)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands section of ``--help``, as click's ``Group.format_commands`` writes it,
        from a lazy command's stored summary instead of importing its module."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name not in self.commands and name in self.summaries:
                # a stand-in command shortens the summary as click shortens any help text
                stand_in = click.Command(name, help=self.summaries[name])
                rows.append((name, stand_in.get_short_help_str(limit)))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


#: Exit status for an error inside coinstall itself (never 1, which means "error findings").
EXIT_BUG = 3


class GuardedGroup(LazyGroup):
    """The last guard: anything unexpected that escapes a command is one line saying it is a
    coinstall bug, exit status 3; the traceback only with ``coinstall --debug``.  Click's own
    exits (usage errors: 2) and ``sys.exit`` pass through."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            click.exceptions.ClickException,
            click.exceptions.Exit,
            click.exceptions.Abort,
            SystemExit,
            KeyboardInterrupt,
        ):
            raise
        except BrokenPipeError:  # `coinstall check ... | head`: the reader went away
            sys.stderr.close()
            sys.exit(0)
        except BaseException as exc:
            if ctx.params.get("debug"):
                import traceback  # only here: it pulls in linecache and tokenize at start-up

                traceback.print_exc()
            from coinstall.artifacts.base import exc_line
            from coinstall.report.escape import printable

            hint = "" if ctx.params.get("debug") else "; run with --debug for the traceback"
            sys.stderr.write(
                printable(
                    f"coinstall: internal error (a coinstall bug, please report it): "
                    f"{exc_line(exc, typed=True)}{hint}"
                )
                + "\n"
            )
            sys.exit(EXIT_BUG)


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
# the version the build writes into the metadata (coinstall/__init__.py), without
# importlib.metadata; coinstall/__main__.py answers a bare --version before click is imported
@click.version_option(version=__version__)
@click.option(
    "--debug",
    is_flag=True,
    envvar="COINSTALL_DEBUG",
    help="On an internal error (exit status 3) print the traceback too.",
)
def main(debug: bool) -> None:
    """Check, plan and share Python packages across parallel runtimes.

    Exit status: 0 no error findings, 1 error findings, 2 a target could not be read or a
    usage error, 3 an internal error of coinstall.
    """


def output_dir_exists(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of an ``--output`` option: the file's directory must exist, else a
    usage error (exit 2) before any work, not an OSError from the atomic write at the end
    (which the last guard would report as a coinstall bug)."""
    import os

    if value and not os.path.isdir(os.path.dirname(os.path.abspath(value))):
        raise click.BadParameter(f"{value}: its directory does not exist")
    return value


def limit_values(pairs: tuple[str, ...]) -> dict[str, int]:
    """``("member-mb=4096", ...)`` from ``--limit`` as a mapping.

    Raises:
        click.BadParameter: not ``KEY=INTEGER``.
    """
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not value.strip().isdigit():
            raise click.BadParameter(f"{pair!r} is not KEY=MEGABYTES", param_hint="--limit")
        out[key.strip()] = int(value)
    return out


def LIMIT_OPT(fn: F) -> F:
    """The ``--limit KEY=N`` option (its help names the reader limits: imported here, so that
    ``coinstall --help`` does not import the readers)."""
    from coinstall.artifacts import limits as limits_mod

    return click.option(
        "--limit",
        "limits",
        multiple=True,
        metavar="KEY=N",
        help="Reader limit (repeatable): "
        + ", ".join(limits_mod.Limits.keys())
        + " (docs/configuration.md).",
    )(fn)


def apply_limits(config_limits: dict[str, int], pairs: tuple[str, ...]) -> None:
    """Set the run's reader limits: defaults, then the configuration's ``[limits]``, then
    ``--limit`` options.

    Raises:
        click.BadParameter: an unknown key or a value that is not a positive integer.
    """
    from coinstall.artifacts import limits as limits_mod

    try:
        lim = limits_mod.Limits().with_values(config_limits)
        lim = lim.with_values(limit_values(pairs))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from None
    limits_mod.set_default(lim)


def rule_list(value: str | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    from coinstall.rules import rule_names

    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(names - rule_names())
    if unknown:
        raise click.BadParameter(f"unknown rule {', '.join(unknown)}", param_hint=what)
    return names


def load_config(
    config_path: str | None,
    *,
    profile: str | None = None,
    stack_text: str | None = None,
    select: str | None = None,
    ignore: str | None = None,
) -> Config:
    """The run's configuration: the file (``--config``, else ``coinstall.toml`` or
    ``pyproject.toml`` ``[tool.coinstall]`` found upwards; docs/configuration.md), then the
    command-line options over it (``--profile``, ``--stack``, ``--select`` replace; ``--ignore``
    adds).  Rule names are checked against :func:`coinstall.rules.rule_names` (no rule module
    is imported).

    A configuration file that cannot be used is one line on stderr and exit status 2.

    Raises:
        click.BadParameter: a ``--stack`` that does not parse, an unknown rule name.
    """
    from coinstall import config as config_mod
    from coinstall.rules import rule_names
    from coinstall.runtimes.stack import Stack, StackError

    try:
        cfg = config_mod.load(config_path, set(rule_names()))
    except config_mod.ConfigError as exc:
        stderr().print(f"coinstall: {exc}", markup=False)
        sys.exit(2)
    if profile:
        cfg.profile = config_mod.profile_name(profile)  # a click.Choice of them
    if stack_text:
        try:
            cfg.stack = Stack.parse(stack_text)
        except StackError as exc:
            raise click.BadParameter(str(exc), param_hint="--stack") from None
    sel = rule_list(select, "--select")
    if sel is not None:
        cfg.select = sel
    ign = rule_list(ignore, "--ignore")
    if ign is not None:
        cfg.ignore = cfg.ignore | ign
    return cfg
