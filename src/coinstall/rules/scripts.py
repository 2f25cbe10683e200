"""Script rules."""

from __future__ import annotations

from collections.abc import Iterator

from coinstall.rules import ArtifactContext, Finding, Rule, rule


@rule(
    "shebang-unversioned",
    severity="error",
    summary="A script whose shebang runs an unversioned python (#!/usr/bin/python, "
            "#!/usr/bin/env python).",
    why="PEP 394 leaves what `python` means to the system (Python 2, Python 3, or nothing); "
        "with parallel stacks the script may run under a runtime its package does not "
        "provide modules for.  Fedora's brp-mangle-shebangs fails the build, lintian reports "
        "script-uses-unversioned-python-in-shebang.",
    example="#!/usr/bin/env python  (in /usr/bin/miniterm.py)",
    fix="Name the stack's interpreter: #!/usr/bin/python3 or #!/usr/bin/python3.11 "
        "(%py3_shebang_fix on Fedora; dh_python3 rewrites shebangs on Debian).",
    source="PEP 394; Fedora Packaging Guidelines for Python (shebangs); Debian Python Policy "
           "3.4 (interpreter location)",
    peers=("lintian:script-uses-unversioned-python-in-shebang", "taskotron:unversioned_shebangs",
           "rpmlint:env-script-interpreter"),
)
def shebang_unversioned(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in ctx.records:
        sb = r.shebang
        if r.kind != "script" or sb is None or not sb.unversioned:
            continue
        if sb.interpreter == "python" and not sb.env:
            continue  # wheel script: the installer writes the real interpreter
        yield self.finding(r.path, f"#!{sb.raw} names no Python version")
