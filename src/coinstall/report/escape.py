"""Names from packages are hostile text: escape them before a terminal sees them.

A member or file name may hold a newline (which would split one error line in two), an ESC
(an ANSI sequence that recolours, moves the cursor or retitles the terminal), other C0/C1
control characters, or bytes that are not UTF-8 (kept by the readers as lone surrogates,
``surrogateescape``).  :func:`printable` shows each as a visible Python-style escape
(``\\n``, ``\\x1b``, ``\\udc80``), the way ``repr`` would, leaving everything else as it is.
JSON and SARIF need no such step: :mod:`json` escapes control characters itself.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, the Unicode line/paragraph separators, lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _esc(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def printable(text: str) -> str:
    """``text`` with every control character and lone surrogate shown as an escape: safe for
    a terminal, and always one line."""
    return _UNPRINTABLE.sub(_esc, text)


def markup(text: str) -> str:
    """:func:`printable`, then escaped for rich markup (a name holding ``[red]`` or ``[/]``
    is shown as written, neither styled nor a markup error).  rich is imported here, not
    with the module: a piped report (report/plain.py) needs :func:`printable` only."""
    from rich.markup import escape as markup_escape

    return markup_escape(printable(text))
