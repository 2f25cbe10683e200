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
main.lazy.update({
    "runtimes": "coinstall.cli.runtimes",
    "check": "coinstall.cli.check", "rules": "coinstall.cli.check",
    "explain": "coinstall.cli.check",
    "plan": "coinstall.cli.plan",
    "share": "coinstall.cli.share",
    "fix": "coinstall.cli.fix",
    "spec": "coinstall.cli.spec", "macros": "coinstall.cli.spec",
    "report": "coinstall.cli.report", "cache": "coinstall.cli.cache",
})

__all__ = ["main"]
