"""``python -m coinstall``."""

from coinstall.cli import main

main()
