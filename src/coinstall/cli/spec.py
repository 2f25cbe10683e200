"""``coinstall spec lint``, ``coinstall spec port`` and ``coinstall macros``: RPM spec files
for parallel Python stacks."""

from __future__ import annotations

import sys

import click

from coinstall.check import TargetError
from coinstall.cli._common import (
    load_config,
    main,
    output_dir_exists,
    require_extra,
    stderr,
    stdout,
    write_output,
)
from coinstall.report import OutputFormat, spec_text
from coinstall.report import json as json_report
from coinstall.report import sarif as sarif_report
from coinstall.runtimes import catalogue as catalogue_mod
from coinstall.runtimes.stack import Stack, StackError
from coinstall.spec import macros as macros_mod

STACK_HELP = "Supported versions and the default: default=3.12,other=3.11."


def _stack(text: str | None) -> Stack | None:
    if not text:
        return None
    try:
        return Stack.parse(text)
    except StackError as exc:
        raise click.BadParameter(str(exc), param_hint="--stack") from None


def _interpreters(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        ver, sep, path = v.partition("=")
        if not sep or not path:
            raise click.BadParameter(
                f"{v!r}: expected VERSION=PATH (3.12=/usr/bin/python3.12)",
                param_hint="--interpreter",
            )
        out[ver.strip()] = path.strip()
    return out


@main.group("spec")
def spec_group() -> None:
    """RPM spec files for parallel Python stacks: lint, port."""


@spec_group.command("lint")
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@click.option("--stack", "stack_text", metavar="SPEC", help=STACK_HELP)
@click.option(
    "--profile",
    type=click.Choice(["fedora", "epel", "opensuse"]),
    help="Judge every spec by this policy (default: from its layout: a spec "
    "defining %python3_pkgversion or using python3_other is epel's, one with "
    "%python_subpackages openSUSE's, others Fedora's, or epel's when --stack "
    "names another version).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    help="Output format (the JSON and SARIF of `coinstall check`, with the line).",
)
@click.option("--select", metavar="RULES", help="Run only these rules (comma-separated).")
@click.option("--ignore", metavar="RULES", help="Never run these rules (comma-separated).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file (as for `coinstall check`).",
)
def lint_cmd(
    specs: tuple[str, ...],
    stack_text: str | None,
    profile: str | None,
    fmt: OutputFormat,
    select: str | None,
    ignore: str | None,
    config_path: str | None,
) -> None:
    """Check spec files against the parallel-stack rules (`coinstall rules` lists them,
    area spec_*).

    Exit status: 0 no error findings, 1 error findings, 2 a spec could not be read (one
    line naming the file and the line; the other specs are still checked).
    """
    require_extra("specfile", "rpm")
    from coinstall.spec.lint import lint

    cfg = load_config(
        config_path, profile=profile, stack_text=stack_text, select=select, ignore=ignore
    )
    try:
        result = lint(list(specs), cfg)
    except macros_mod.MacrosError as exc:  # a stack no macro file can be written for
        raise click.BadParameter(str(exc), param_hint="--stack") from None
    if fmt == "json":
        click.echo(json_report.dumps(result, str(cfg.stack) if cfg.stack.known else None))
    elif fmt == "sarif":
        click.echo(sarif_report.dumps(result))
    else:
        spec_text.render(result, stdout())
    _print_errors(result.errors, fmt)
    sys.exit(result.exit_status)


@spec_group.command("port")
@click.argument("spec_path", metavar="SPEC", type=click.Path())
@click.option(
    "--to",
    "target",
    type=click.Choice(["alt", "epel", "suse"]),
    required=True,
    help="alt: one alternative stack (%global python3_pkgversion 3.X); epel: the "
    "default stack plus %python3_other_pkgversion (a subpackage per stack for "
    "a library); suse: openSUSE flavors (%python_subpackages).",
)
@click.option(
    "--python",
    "python",
    metavar="X.Y",
    help="The alternative stack's version for --to alt (default: the stack's default, else 3.12).",
)
@click.option("--stack", "stack_text", metavar="SPEC", help=STACK_HELP)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print a unified diff instead of the ported spec."
)
@click.option("--in-place", is_flag=True, help="Replace SPEC atomically with its port.")
def port_cmd(
    spec_path: str,
    target: str,
    python: str | None,
    stack_text: str | None,
    show_diff: bool,
    in_place: bool,
) -> None:
    """Port a spec to another stack layout, keeping every line that needs no change.

    Lines it cannot port mechanically are left as written and listed on standard error as
    findings to resolve by hand (with their line in the ported spec).  Exit status: 0
    ported, 2 the spec could not be read (nothing written).
    """
    require_extra("specfile", "rpm")
    from coinstall.spec.lint import MacroFiles, read_for
    from coinstall.spec.port import PortError, port, unresolved
    from coinstall.spec.read import SpecError

    st = _stack(stack_text)
    try:
        files = MacroFiles(st or Stack())
    except macros_mod.MacrosError as exc:
        raise click.BadParameter(str(exc), param_hint="--stack") from None
    if python is None:
        python = f"{st.default[0]}.{st.default[1]}" if st and st.default else "3.12"
    try:
        alt = Stack.parse(f"default={python}")
        assert alt.default is not None
        macros_mod.catalogue_facts(alt.default, catalogue_mod.load())
    except (StackError, macros_mod.MacrosError) as exc:
        raise click.BadParameter(str(exc), param_hint="--python") from None
    try:
        doc, _ = read_for(spec_path, files)
    except macros_mod.MacrosError as exc:
        raise click.BadParameter(str(exc), param_hint="--stack") from None
    except SpecError as exc:
        stderr().print(f"coinstall: {exc}", markup=False)
        sys.exit(2)
    try:
        result = port(doc, target, python)
    except PortError as exc:
        stderr().print(f"coinstall: {spec_path}: cannot port: {exc}", markup=False)
        sys.exit(2)
    try:
        result.findings += unresolved(result, spec_path, target, files, files.stack)
    except macros_mod.MacrosError as exc:
        raise click.BadParameter(str(exc), param_hint="--stack") from None
    except SpecError as exc:  # the port of a spec that read must read: say so, write nothing
        stderr().print(f"coinstall: {spec_path}: the port does not read: {exc}", markup=False)
        sys.exit(2)
    result.findings.sort(key=lambda f: f.line or 0)
    err = stderr()
    for f in result.findings:
        err.print(f"{spec_path}:{f.line}: {f.severity} {f.rule}: {f.message}", markup=False)
    for note in result.notes:
        err.print(f"{spec_path}: note: {note}", markup=False)
    if in_place:
        write_output(spec_path, result.text, keep_perms=True)
    elif show_diff:
        click.echo(result.diff(doc.text, spec_path), nl=False)
    else:
        click.echo(result.text, nl=False)


def _print_errors(errors: list[TargetError], fmt: OutputFormat) -> None:
    err = stderr()
    for e in errors:
        err.print(f"coinstall: {e.path}: {e.message}", markup=False)


@main.command("macros")
@click.option("--stack", "stack_text", metavar="SPEC", required=True, help=STACK_HELP)
@click.option(
    "--style",
    type=click.Choice(list(macros_mod.STYLES)),
    default="epel",
    show_default=True,
    help="fedora (%python3_pkgversion 3), alt (3.X), epel (+ python3_other), suse (flavors).",
)
@click.option(
    "--interpreter",
    "interpreters",
    multiple=True,
    metavar="X.Y=PATH",
    help="Build with this interpreter for version X.Y (repeatable; default "
    "/usr/bin/pythonX.Y); its sysconfig layout under /usr is asked.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    callback=output_dir_exists,
    help="Write the file atomically here instead of standard output.",
)
def macros_cmd(
    stack_text: str, style: str, interpreters: tuple[str, ...], output: str | None
) -> None:
    """Write the RPM macro file of a stack (%python3_pkgversion, %__python3, sitelib,
    %py3_build, %pyproject_*, ... and the other stack's forms), for rpmbuild --load."""
    st = _stack(stack_text)
    assert st is not None
    try:
        facts = macros_mod.stack_facts(st, catalogue_mod.load(), _interpreters(interpreters))
        text = macros_mod.render(st, style, facts)
    except macros_mod.MacrosError as exc:
        stderr().print(f"coinstall: {exc}", markup=False)
        sys.exit(2)
    for path in macros_mod.absent_interpreters(facts):
        ver = path.rsplit("python", 1)[-1]
        stderr().print(
            f"coinstall: warning: {path} does not exist here; rpmbuild with these "
            f"macros runs it (give --interpreter {ver}=PATH)",
            markup=False,
        )
    if output:
        write_output(output, text, keep_perms=True)
    else:
        click.echo(text, nl=False)
