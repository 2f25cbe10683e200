"""The text reports without rich, for a pipe: what rich prints there, byte for byte.

A build system (OBS, Koji, mock, a CI job) runs ``coinstall check one.rpm`` once per package
with stdout on a pipe or a log file.  There rich writes no colour, no style and no cursor
control: only the characters, at the fixed width the reports use when piped
(:data:`PIPE_WIDTH`).  Importing rich's console and table for that costs more start-up than
reading a small package (issue 22), so the reports that a build log receives are laid out here
as plain text, the way rich lays them out, for the cases where that layout is simple:

* every piece of text whose width counts is printable ASCII (one character, one terminal cell:
  rich's cell widths of other characters are rich's own table; a line printed with
  ``soft_wrap`` may hold any printable character), and none holds what rich's markup would
  turn into an emoji (``:name:``, which rich replaces even in escaped text);
* a table fits the width, or rich narrows only its last column (:func:`table`); a line
  printed without ``soft_wrap`` fits the width (rich word-wraps it otherwise).

Anything else raises :class:`NotPlain` and the caller renders with rich, so the output is
rich's in every case (tests/test_plain_output.py compares the two on real packages and on
crafted text).  This module is glue: rich has no plain-text writer that avoids importing its
console.

Source of the layout: rich 13-15's ``rich/table.py`` (``Table(box=None, pad_edge=False)``:
padding ``(0, 1)`` between columns, none at the edges, every cell padded to its column's
width, the header justified as its column) and ``rich/rule.py`` (a left-aligned title, one
space, ``─`` to the width; ``-`` when the stream's encoding is not UTF).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from itertools import pairwise
from typing import TextIO

#: The width of every text report when stdout is not a terminal (cli._common.stdout).
PIPE_WIDTH = 200

#: What rich's emoji replacement (``rich/_emoji_replace.py``) could match: a colon, no
#: whitespace, a colon.  Such text is left to rich.
_EMOJI_CODE = re.compile(r":\S*:")


class NotPlain(Exception):
    """This report needs rich's layout (wrapping, wide characters, emoji codes)."""


def piped(stream: TextIO | None = None) -> bool:
    """Whether rich would write ``stream`` (default ``sys.stdout``) as plain text: it is not
    a terminal by rich's own test (``Console.is_terminal``: ``TTY_COMPATIBLE``, then
    ``FORCE_COLOR``, then ``isatty()``; rich 13-15), not a Windows console, not Jupyter, and
    UTF-8 (rich's rules draw ``─`` then).  Conservative: any doubt is rich's."""
    stream = stream if stream is not None else sys.stdout
    if stream is None or os.name == "nt" or "IPython" in sys.modules:
        return False
    env = os.environ
    tty_compatible = env.get("TTY_COMPATIBLE", "")
    if tty_compatible == "1":
        return False
    if tty_compatible != "0" and env.get("FORCE_COLOR"):
        return False
    try:
        if stream.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    encoding = (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
    return encoding.replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def check(text: str, *, measured: bool = True) -> str:
    """``text`` itself when rich prints it unchanged, as a plain string.

    ``measured``: its width counts (a table's cell, a rule's title, a line rich would wrap),
    so it must be ASCII, one cell per character; a line printed with ``soft_wrap`` may hold
    any printable character.

    Raises:
        NotPlain: a character that is not printable (or not ASCII, when ``measured``), or an
            emoji code.
    """
    if (
        not text.isprintable()
        or (measured and not text.isascii())
        or (":" in text and _EMOJI_CODE.search(text))
    ):
        raise NotPlain(text)
    return text


def line(text: str, width: int = PIPE_WIDTH) -> str:
    """A line rich prints without ``soft_wrap``: unchanged when it fits ``width``.

    Raises:
        NotPlain: as :func:`check`, or longer than ``width`` (rich would wrap it).
    """
    if len(check(text)) > width:
        raise NotPlain(text)
    return text


def rule(title: str, width: int = PIPE_WIDTH) -> str:
    """``Console.rule(title, align="left")``: the title, a space, ``─`` to ``width``.

    Raises:
        NotPlain: as :func:`check`, or too long for rich to show whole (it would cut the
            title with an ellipsis).
    """
    check(title)
    if not title or len(title) > width - 2:
        raise NotPlain(title)
    return f"{title} " + "─" * (width - len(title) - 1)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: frozenset[int] = frozenset(),
    width: int = PIPE_WIDTH,
) -> list[str]:
    """The lines of ``rich.table.Table(box=None, pad_edge=False, show_header=True)`` with
    these columns (``right``: the indices of the right-justified ones; the last column
    ``overflow="fold"``) and rows.

    Wider than ``width``, rich narrows the widest columns (``Table._collapse_widths``) and
    word-wraps their cells, folding a word longer than the column: done here when only the
    last column is narrowed.

    Raises:
        NotPlain: a cell that is not plain (:func:`check`), an empty header, or a table rich
            would narrow another way (a column other than the last, or below one cell).
    """
    if not headers or not all(headers):
        raise NotPlain("an empty header")
    cells = [list(headers), *(list(r) for r in rows)]
    last = len(headers) - 1
    # rich's padding (0, 1) without the edges: (left, right) cells around each column
    pads = [(0 if i == 0 else 1, 0 if i == last else 1) for i in range(len(headers))]
    natural = [max(len(check(r[i])) for r in cells) + sum(pads[i]) for i in range(len(headers))]
    widths = _collapse(natural, width) if sum(natural) > width else natural
    if widths[:last] != natural[:last] or widths[last] - sum(pads[last]) < 1:
        raise NotPlain("a table rich narrows in more than its last column")
    out = []
    for r in cells:
        columns = []
        for i, cell in enumerate(r):
            left, rt = pads[i]
            inner = widths[i] - left - rt
            columns.append([" " * left + ln + " " * rt for ln in _wrap(cell, inner, i in right)])
        height = max(len(c) for c in columns)
        for i, c in enumerate(columns):  # rich's vertical="top": blank lines below
            c += [" " * widths[i]] * (height - len(c))
        out += ["".join(c[k] for c in columns) for k in range(height)]
    return out


#: rich/_wrap.py's word: leading whitespace, a word, the whitespace after it.
_WORD = re.compile(r"\s*\S+\s*")


def _wrap(text: str, width: int, right: bool) -> list[str]:
    """``rich.text.Text.wrap`` of ASCII ``text`` to ``width`` cells with overflow "fold",
    each line justified left (or ``right``): rich/_wrap.py's ``divide_line``, then each line
    stripped on the right, cut to ``width`` and padded (``Lines.justify``)."""
    breaks: list[int] = []
    offset = 0
    for m in _WORD.finditer(text):
        start, word = m.start(), m.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:  # folded across lines
            chunks = [word[k : k + width] for k in range(0, len(word), width)]
            for n, chunk in enumerate(chunks):
                if start:
                    breaks.append(start)
                if n == len(chunks) - 1:
                    offset = len(chunk)
                else:
                    start += len(chunk)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, len(text)]
    lines = [text[a:b] for a, b in pairwise(bounds)] or [""]
    out = []
    for ln in lines:
        ln = ln.rstrip()[:width]
        out.append(ln.rjust(width) if right else ln.ljust(width))
    return out


def _collapse(widths: list[int], max_width: int) -> list[int]:
    """rich's ``Table._collapse_widths`` with every column wrappable, and ``ratio_reduce``
    (rich/_ratio.py) inlined: the widest columns lose width first."""
    widths = list(widths)
    total = sum(widths)
    excess = total - max_width
    while total and excess > 0:
        widest = max(widths)
        second = max((w if w != widest else 0) for w in widths)
        difference = widest - second
        ratios = [1 if w == widest else 0 for w in widths]
        if not difference:
            break
        maximum = min(excess, difference)
        # ratio_reduce(excess, ratios, [maximum] * n, widths)
        total_ratio = sum(ratios) if maximum else 0
        remaining = excess
        new = []
        for ratio, value in zip(ratios, widths, strict=True):
            if ratio and maximum and total_ratio > 0:
                distributed = min(maximum, round(ratio * remaining / total_ratio))
                new.append(value - distributed)
                remaining -= distributed
                total_ratio -= ratio
            else:
                new.append(value)
        widths = new
        total = sum(widths)
        excess = total - max_width
    return widths
