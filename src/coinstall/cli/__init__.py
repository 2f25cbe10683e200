"""The command line: one module per command group, all registered on :data:`main`.

``runtimes`` (cli/runtimes.py); ``check``, ``rules``, ``explain`` (cli/check.py); ``plan``
(cli/plan.py); ``share`` (cli/share.py); ``fix`` (cli/fix.py).
"""

from coinstall.cli import check, fix, plan, runtimes, share  # noqa: F401  (registers the commands)
from coinstall.cli._common import main

__all__ = ["main"]
