"""Renderers: the only code besides ``cli.py`` that knows the screen or an output format."""

from typing import Literal, get_args

#: An output format a command can write (``--format``; each command offers some of them).
OutputFormat = Literal["text", "json", "jsonl", "sarif", "html", "markdown"]
#: Every :data:`OutputFormat`.
FORMATS: tuple[OutputFormat, ...] = get_args(OutputFormat)
