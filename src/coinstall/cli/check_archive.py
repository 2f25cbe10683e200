"""``coinstall check`` over many targets: ``--jobs``, ``--scheduler``, ``--repo/--mirror``,
``--format jsonl``, the result cache (coinstall.archive).  Called by cli/check.py."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence

import click

from coinstall.archive import default_jobs, runner, setrules
from coinstall.archive.cache import ResultCache, run_key
from coinstall.archive.output import collect, with_set_findings, write_json, write_jsonl
from coinstall.archive.runner import Backend, Target
from coinstall.archive.worker import Outcome, Settings
from coinstall.check import TargetError, run_runtimes
from coinstall.cli._common import stderr, stdout
from coinstall.config import Config
from coinstall.plan.indices import PackageIndexError
from coinstall.report.escape import printable
from coinstall.rules import wants_digests
from coinstall.runtimes.catalogue import Catalogue
from coinstall.runtimes.model import Runtime


def _targets(
    paths: Sequence[str],
    repo: str | None,
    mirror: str | None,
    select_packages: str | None,
    cache: ResultCache | None,
) -> tuple[list[Target], list[TargetError]]:
    if repo is None:
        if mirror is not None or select_packages is not None:
            raise click.UsageError("--mirror and --select-packages go with --repo INDEX")
        missing = [p for p in paths if not os.path.lexists(p)]
        return (
            [Target(p) for p in paths if p not in missing],
            [TargetError(p, "no such file or directory") for p in missing],
        )
    from coinstall.archive.repo import read_repo

    if mirror is None:
        raise click.UsageError("--repo needs --mirror DIR (where the index's files are)")
    try:
        listed = read_repo(repo, mirror, select_packages, cache)
    except PackageIndexError as exc:
        stderr().print(f"coinstall: {printable(str(exc))}", markup=False)
        sys.exit(2)
    for p in listed.problems:  # index text: escaped, as check escapes member names
        stderr().print(f"warning: {printable(str(p))}", markup=False)
    extra = [Target(p) for p in paths if os.path.lexists(p)]
    late = [TargetError(p, "no such file or directory") for p in paths if not os.path.lexists(p)]
    return (listed.targets + extra, late + [TargetError(p, m) for p, m in listed.absent])


def _backend(settings: Settings, jobs: int, scheduler: str | None) -> Backend:
    if scheduler:
        from coinstall.cli._common import require_extra

        require_extra("distributed")
        from coinstall.archive.dask_backend import DaskBackend

        try:
            return DaskBackend(scheduler, settings)
        except (OSError, TimeoutError, ValueError) as exc:
            stderr().print(f"coinstall: no Dask scheduler at {scheduler}: {exc}", markup=False)
            sys.exit(2)
    if jobs <= 1:
        return runner.InlineBackend(settings)
    return runner.PoolBackend(settings, jobs)


def run_check(
    paths: Sequence[str],
    cfg: Config,
    runtimes: Sequence[Runtime],
    cat: Catalogue,
    *,
    fmt: str,
    summary: bool,
    verbose: bool,
    jobs: int | None,
    scheduler: str | None,
    repo: str | None,
    mirror: str | None,
    select_packages: str | None,
    timeout: float,
    use_cache: bool,
) -> int:
    """Run the archive check and write the report; returns the exit status."""
    # SIGTERM unwinds like Ctrl-C, so that the pool's processes are stopped, not orphaned
    old_term = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cache = ResultCache() if use_cache else None
    try:
        targets, late = _targets(paths, repo, mirror, select_packages, cache)
    except BaseException:
        if cache is not None:
            cache.close()
        raise
    packages = sum(1 for t in targets if not os.path.isdir(t.path))
    settings = Settings(
        tuple(runtimes),
        cfg,
        digests=packages > 1 and wants_digests(cfg),
        set_index=bool(setrules.active(cfg)),
        matrix=fmt == "text",
        timeout=timeout,
        hash_files=use_cache,
    )
    n_jobs = jobs if jobs else default_jobs([t.path for t in targets])
    backend = _backend(settings, n_jobs, scheduler)
    stack = str(cfg.stack) if cfg.stack.known else None
    # the report's runtimes[]: the run's, then foreign platforms' named by wheel file names
    run_rts = run_runtimes([t.path for t in targets], runtimes, cat)
    # rich's progress bar (rich.progress, rich.console: about a tenth of a warm archive run's
    # CPU to import) only where it is shown: on a terminal
    bar: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    progress: Callable[[int, int, int], None] | None = None
    if sys.stderr.isatty() and len(targets) > 1:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        shown = Progress(
            TextColumn("checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[cached]} cached"),
            TimeRemainingColumn(),
            console=stderr(),
            transient=True,
        )
        task = shown.add_task("check", total=len(targets), cached=0)

        def progress(done: int, total: int, cached: int) -> None:
            shown.update(task, completed=done, cached=cached)

        bar = shown

    outcomes: Iterator[Outcome] = runner.run(
        targets, settings, backend=backend, cache=cache, progress=progress
    )
    if settings.set_index:
        outcomes = with_set_findings(
            outcomes, runtimes, cat, cfg, cache, run_key(settings) if cache is not None else ""
        )
    try:
        with bar:
            if fmt == "jsonl":
                status = write_jsonl(outcomes, sys.stdout, run_rts, stack, late).exit_status
            elif fmt == "json":
                status = write_json(outcomes, sys.stdout, run_rts, stack, late).exit_status
            else:
                result = collect(outcomes, run_rts, late, base=runtimes)
                status = result.exit_status
        if fmt == "sarif":
            from coinstall.report import sarif as sarif_report

            click.echo(sarif_report.dumps(result))
        elif fmt == "text":
            from coinstall.report import text as text_report

            if summary:
                text_report.render_summary(result, stdout())
            else:
                text_report.render(result, stdout(), verbose=verbose)
            err = stderr()
            for e in result.errors:
                err.print(f"coinstall: {printable(e.path)}: {printable(e.message)}", markup=False)
    finally:
        if cache is not None:
            cache.close()
        signal.signal(signal.SIGTERM, old_term)
    return status
