"""A piped text report is written without rich, and is byte for byte what rich prints.

Issue 22: a build system runs ``coinstall check one.rpm`` with stdout on a pipe; importing
rich's console and table to write plain text was a sixth of the run.  coinstall.report.plain
lays the report out as rich does; where it cannot (wide characters, emoji codes, a table rich
narrows in several columns) it says so and rich prints it.  These tests compare the two:
processes on real packages, and the layout functions against rich on crafted text.
"""

from __future__ import annotations

import ast
import io
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from coinstall.check import check
from coinstall.config import Config
from coinstall.report import plain
from coinstall.report import text as text_report
from coinstall.runtimes import catalogue
from coinstall.runtimes.inventory import combine
from corpus import RPM_DIR, deb, wheel

REPO = Path(__file__).resolve().parent.parent
COINSTALL = Path(sys.executable).parent / "coinstall"

# `coinstall ARGS` as the console script runs it; then, on stderr, the rich modules imported.
# With FORCE_RICH the plain writer is turned off, so rich renders the same report: the reference.
PROBE = """
import sys
from coinstall.report import plain
if {force_rich!r}:
    plain.piped = lambda stream=None: False
from coinstall.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("RICH", sorted(m for m in sys.modules if m == "rich" or m.startswith("rich.")),
      file=sys.stderr)
sys.exit(code)
"""


def _run(args: list[str], env: dict[str, str], *, force_rich: bool) -> tuple[int, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(force_rich=force_rich), *args],
        capture_output=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    err = proc.stderr.decode()
    line = [ln for ln in err.splitlines() if ln.startswith("RICH ")]
    assert line, err
    return proc.returncode, proc.stdout.decode(), ast.literal_eval(line[-1].split(" ", 1)[1])


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("kind", ["rpm", "deb", "wheel"])
def test_piped_check_is_riches_bytes_without_rich(kind: str, tmp_path: Path) -> None:
    target = {
        "rpm": lambda: RPM_DIR / "pyserial-2.7-6.fc25.noarch.rpm",
        # its matrix is wider than the page: rich folds the why-not column
        "deb": lambda: deb("python3-gdbm"),
        "wheel": lambda: wheel("six"),
    }[kind]()
    env = _env(tmp_path)
    rc, piped, mods = _run(["check", str(target)], env, force_rich=False)
    rc_rich, rendered, rich_mods = _run(["check", str(target)], env, force_rich=True)
    assert (rc, piped) == (rc_rich, rendered)
    assert mods == []
    assert "rich.console" in rich_mods  # the reference really is rich's
    assert piped.endswith(" unreadable\n")
    if kind == "deb":  # a folded cell: a line that starts below the runtime column
        assert any(ln.startswith(" " * 60) and ln.strip() for ln in piped.splitlines())


def test_console_script_piped_equals_rich(tmp_path: Path) -> None:
    """The installed ``coinstall`` script, stdout a pipe: the same bytes as rich's rendering."""
    env = _env(tmp_path)
    target = str(RPM_DIR / "pyserial-2.7-6.fc25.noarch.rpm")
    proc = subprocess.run(
        [str(COINSTALL), "check", target], capture_output=True, timeout=300, env=env, cwd=REPO
    )
    _, rendered, _ = _run(["check", target], env, force_rich=True)
    assert proc.stdout.decode() == rendered
    assert "─" in rendered.splitlines()[0]


def test_forced_colour_is_left_to_rich(tmp_path: Path) -> None:
    """FORCE_COLOR makes rich treat a pipe as a terminal (colour codes): rich writes it."""
    env = dict(_env(tmp_path), FORCE_COLOR="1")
    target = str(RPM_DIR / "pyserial-2.7-6.fc25.noarch.rpm")
    _, out, mods = _run(["check", target], env, force_rich=False)
    assert "rich.console" in mods
    assert "\x1b[" in out


def _rich_lines(renderable: object, width: int = plain.PIPE_WIDTH) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, highlight=False, force_terminal=False).print(renderable)
    return buf.getvalue().splitlines()


def _rich_table(headers: tuple[str, ...], rows: list[tuple[str, ...]], right: int) -> Table:
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for i, h in enumerate(headers):
        if i == len(headers) - 1:
            t.add_column(h, overflow="fold")
        else:
            t.add_column(h, justify="right" if i == right else "left")
    for r in rows:
        t.add_row(*r)
    return t


def test_tables_lay_out_as_riches() -> None:
    """Random cells (words, long words, runs of spaces, hostile text): plain.table either
    declines or gives rich's lines; both happen, and folded tables are among the compared."""
    rng = random.Random(22)
    alphabet = "abcdefghij/._-[]" + " " * 4  # ":" is declined (emoji codes): tested below
    compared = declined = folded = 0
    headers = ("runtime", "use", "files", "why not (first file)")
    for _ in range(400):
        rows = []
        for _ in range(rng.randint(0, 6)):
            why_len = rng.choice([0, 5, 40, 150, 190, 260, 420])
            why = "".join(rng.choice(alphabet) for _ in range(why_len))
            if rng.random() < 0.3:
                why = why.replace(" ", "")  # one long word: folded
            # a label as wide as the why-not column: rich narrows both (declined)
            label = "".join(rng.choice("abc-. ") for _ in range(rng.choice([3, 20, 70, 150])))
            rows.append((label, rng.choice(["full", "none"]), f"{rng.randint(0, 99)}/99", why))
        ours: list[str] | None
        try:
            ours = plain.table(headers, rows, right=frozenset({2}))
        except plain.NotPlain:
            ours = None
        # rich's markup: the reports escape the cells; escape here likewise
        from rich.markup import escape

        theirs = _rich_lines(_rich_table(headers, [tuple(escape(c) for c in r) for r in rows], 2))
        if ours is None:
            declined += 1
            continue
        assert ours == theirs, (rows, ours, theirs)
        compared += 1
        folded += len(ours) > len(rows) + 1
    assert compared > 100 and declined > 10 and folded > 20, (compared, declined, folded)


@pytest.mark.parametrize(
    "title",
    ["x", "a b  c", "[rpm: p 1:2-3 noarch]  (1 source)", "y" * 190, "y" * 197, "y" * 198],
)
def test_rule_is_riches(title: str) -> None:
    from rich.markup import escape

    buf = io.StringIO()
    console = Console(file=buf, width=plain.PIPE_WIDTH, highlight=False, force_terminal=False)
    console.rule(escape(title), align="left", style="bold")
    assert plain.rule(title) + "\n" == buf.getvalue()


@pytest.mark.parametrize("text", [":smile:", "a:thumbs_up:b", "caf\u00e9", "\x1b[31m", "tab\t"])
def test_what_rich_would_change_is_declined(text: str) -> None:
    with pytest.raises(plain.NotPlain):
        plain.check(text)
    with pytest.raises(plain.NotPlain):
        plain.table(("h",), [(text,)])
    with pytest.raises(plain.NotPlain):
        plain.rule(text)


def test_rich_does_turn_an_emoji_code_into_an_emoji() -> None:
    """Why :func:`plain.check` declines ``:smile:``: rich replaces it even in escaped text."""
    from rich.markup import escape

    assert _rich_lines(escape("a :smile: b")) != ["a :smile: b"]


@pytest.mark.parametrize(
    "name",
    ["plain", "smile:smile:", "br[bold]x[red]", "\u00fcber", "sp ace  two", "n" * 180, "w" * 240],
)
def test_hostile_member_names_in_a_report(name: str, tmp_path: Path) -> None:
    """A tree whose only extension module has a hostile name (the matrix's why-not names it):
    the plain report is rich's, or declined (and then rich prints it)."""
    pkg = tmp_path / "tree" / "pkg"
    pkg.mkdir(parents=True)
    try:
        (pkg / f"{name}.cpython-311-x86_64-linux-gnu.so").write_bytes(b"x")
    except OSError:  # a name too long for this file system: the member-name test is moot
        (pkg / f"{name[:200]}.cpython-311-x86_64-linux-gnu.so").write_bytes(b"x")
    (pkg / "mod.py").write_text("print(1)\n")
    cat = catalogue.load()
    result = check([str(tmp_path / "tree")], combine([], cat), cat, Config())
    for verbose in (False, True):
        buf = io.StringIO()
        console = Console(file=buf, width=plain.PIPE_WIDTH, highlight=False, force_terminal=False)
        text_report.render(result, console, verbose=verbose)
        try:
            ours = text_report.render_plain(result, verbose=verbose)
        except plain.NotPlain:
            assert name in ("smile:smile:", "\u00fcber")
            continue
        assert ours == buf.getvalue()


SHEBANG_RULES = "shebang-env,shebang-implementation-mismatch,shebang-unversioned"


def _build_root(root: Path) -> None:
    """A build root with scripts to fix: plain names, markup, a space; a non-ASCII name and a
    long one (fix's lines are wrapped at the width: rich's to lay out)."""
    bindir = root / "usr" / "bin"
    bindir.mkdir(parents=True)
    names = ["tool-a", "t[bold]x[red]", "sp ace", "caf\u00e9", "l" * 190, "miniterm.py"]
    for i, name in enumerate(names):
        head = "#!/usr/bin/env python\n" if i % 2 else "#!/usr/bin/python\n"
        (bindir / name).write_text(head + "print(1)\n")
        (bindir / name).chmod(0o755)


@pytest.mark.parametrize("dry", [False, True])
def test_piped_fix_is_riches_bytes_without_rich(dry: bool, tmp_path: Path) -> None:
    """``fix --select <shebang rules>`` on a build root, stdout a pipe: rich's bytes, and
    no rich module imported when every line is plain (one target per run, both ways)."""
    env = _env(tmp_path)
    outputs = {}
    for force_rich in (False, True):
        for names in ("all", "ascii"):
            root = tmp_path / f"root-{force_rich}-{names}"
            _build_root(root)
            if names == "ascii":  # lines rich would wrap or measure: left to rich
                (root / "usr" / "bin" / "caf\u00e9").unlink()
                (root / "usr" / "bin" / ("l" * 190)).unlink()
            args = ["fix", "--stack", "default=3.11", "--select", SHEBANG_RULES, str(root)]
            rc, out, mods = _run([*args, "--diff"] if dry else args, env, force_rich=force_rich)
            outputs[force_rich, names] = (rc, out.replace(str(root), "ROOT"), mods)
    for names in ("all", "ascii"):
        assert outputs[False, names][:2] == outputs[True, names][:2]
        assert "rich.console" in outputs[True, names][2]
    assert outputs[False, "ascii"][2] == []  # plain: no rich at all
    if not dry:  # a line rich wraps: rich writes it (--diff's lines are never wrapped)
        assert "rich.console" in outputs[False, "all"][2]
    text = outputs[False, "ascii"][1]
    assert "t[bold]x[red]" in text and "/usr/bin/sp ace" in text
    assert text.splitlines()[-1].endswith(" left")
