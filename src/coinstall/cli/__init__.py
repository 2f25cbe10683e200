"""The command line: one module per command group, all registered on :data:`main`.

``runtimes`` (cli/runtimes.py); ``check``, ``rules``, ``explain`` (cli/check.py); ``plan``
(cli/plan.py); ``share`` (cli/share.py); ``fix`` (cli/fix.py); ``spec``, ``macros``
(cli/spec.py); ``report``
(cli/report.py); ``cache`` (cli/cache.py).
"""

from coinstall.cli._common import LazyGroup, main

# Each command module registers its commands on ``main`` when imported; it is imported when its
# command is invoked (or listed by --help), so a run pays only for the command it runs.
assert isinstance(main, LazyGroup)
main.lazy.update(
    {
        "runtimes": "coinstall.cli.runtimes",
        "check": "coinstall.cli.check",
        "rules": "coinstall.cli.check",
        "explain": "coinstall.cli.check",
        "plan": "coinstall.cli.plan",
        "share": "coinstall.cli.share",
        "fix": "coinstall.cli.fix",
        "spec": "coinstall.cli.spec",
        "macros": "coinstall.cli.spec",
        "report": "coinstall.cli.report",
        "cache": "coinstall.cli.cache",
    }
)
# `coinstall --help` lists these without importing the modules above (each command's first
# help paragraph; tests/test_startup_paths.py fails when one drifts from its docstring).
main.summaries.update(
    {
        "cache": "The caches: check's results (SQLite) and plan's parsed indices (plan/), "
        "under $COINSTALL_CACHE_DIR, $XDG_CACHE_HOME/coinstall or ~/.cache/coinstall.",
        "check": "Check packages (wheel, .deb, .rpm, directory) without running them.",
        "explain": "Explain one rule: what it finds, why it matters, an example, the fix, "
        "its source.",
        "fix": "Repair what check finds: shebangs, extension-module names, bytecode, "
        "versioned entry points, on build roots, installed trees and wheels.",
        "macros": "Write the RPM macro file of a stack (%python3_pkgversion, %__python3, sitelib, "
        "%py3_build, %pyproject_*, ... and the other stack's forms), for rpmbuild --load.",
        "plan": "Plan a Python runtime transition over a whole repository.",
        "report": "Summarise check results (`coinstall check --format json` or `jsonl` files): "
        "findings per rule, severity and profile, the packages with the most findings, "
        "headline numbers.",
        "rules": "List the rule catalogue: name, severity, profiles, what each rule finds.",
        "runtimes": "List the Python runtimes on this machine (or, with --known, every one "
        "coinstall knows).",
        "share": "Install version-independent packages once for many runtimes.",
        "spec": "RPM spec files for parallel Python stacks: lint, port.",
    }
)

__all__ = ["main"]
