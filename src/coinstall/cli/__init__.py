"""The command line: one module per command group, all registered on :data:`main`.

``runtimes`` (cli/runtimes.py); ``check``, ``rules``, ``explain`` (cli/check.py); ``plan``
(cli/plan.py); ``share`` (cli/share.py); ``report`` (cli/report.py); ``cache`` (cli/cache.py).
"""

from coinstall.cli import (  # noqa: F401  (registers the commands)
    cache,
    check,
    plan,
    report,
    runtimes,
    share,
)
from coinstall.cli._common import main

__all__ = ["main"]
