"""Script rules."""

from __future__ import annotations

import os
from collections.abc import Iterator

from coinstall.files.script import Shebang
from coinstall.files.verdict import FileRecord
from coinstall.names import stack_label
from coinstall.relations import alternative_stack, relations, stack_of
from coinstall.rules import ArtifactContext, Finding, Rule, rule
from coinstall.rules.profiles import SYSTEM_PROFILES, installed_by_pip


@rule(
    "shebang-unversioned",
    headline="run an unversioned python",
    headline_rank=50,
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
    peers=("lintian:script-uses-unversioned-python-in-shebang", "taskotron:unversioned_shebangs"),
    fixer="shebang:fix",
    heads_only=True,
)
def shebang_unversioned(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    for r in ctx.records:
        sb = r.shebang
        if r.kind != "script" or sb is None or not sb.unversioned:
            continue
        if sb.interpreter == "python" and not sb.env:
            continue  # wheel script: the installer writes the real interpreter
        yield self.finding(r.path, f"#!{sb.raw} names no Python version")


def runnable(ctx: ArtifactContext) -> Iterator[tuple[FileRecord, Shebang]]:
    """Files that run with a Python shebang: scripts, and executable modules of system
    packages (in a wheel, modules keep whatever mode the build left; only scripts run)."""
    modules = ctx.info.format != "wheel"
    for r in ctx.records:
        sb = r.shebang
        if sb is None:
            continue
        if r.kind == "script" or (
            modules and r.kind == "source" and r.mode is not None and r.mode & 0o111
        ):
            yield r, sb


@rule(
    "shebang-env",
    headline="start Python through env",
    headline_rank=40,
    severity="warning",
    summary="A packaged script starts Python through env (#!/usr/bin/env python3).",
    why="env runs whatever python3 comes first on the user's PATH (a virtualenv, "
    "/usr/local, pyenv), not the stack the package's modules were installed for; the "
    "package manager cannot see the dependency either.",
    example="#!/usr/bin/env python3  (in /usr/bin/foo)",
    fix="Name the interpreter's path: #!/usr/bin/python3 (Fedora's brp-mangle-shebangs and "
    "%py3_shebang_fix, Debian's dh_python3 rewrite env shebangs).",
    source="Debian Python Policy 2.4.2 (the /usr/bin/env form is deprecated); Fedora "
    "redhat-rpm-config brp-mangle-shebangs (rewrites /usr/bin/env X); rpmlint FilesCheck "
    "env-script-interpreter",
    peers=("rpmlint:env-script-interpreter",),
    fixer="shebang:fix",
    heads_only=True,
)
def shebang_env(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """Scripts as :func:`coinstall.files.verdict.classify` finds them (files with a Python
    shebang in a program directory, executable files with one elsewhere, wheel
    ``.data/scripts``: installers rewrite only ``#!python``) and executable modules, as
    rpmlint and brp-mangle-shebangs see them."""
    for r, sb in runnable(ctx):
        if sb.env:
            yield self.finding(r.path, f"#!{sb.raw} runs the first {sb.command} on PATH")


def _own_major(ctx: ArtifactContext) -> tuple[str, int] | None:
    """The one (implementation, major) the package's files, python(abi) requires and name
    agree on, or None."""
    st = stack_of(ctx)
    found = {(i, v[0]) for i, v in st.files} | set(st.shared) | {("cpython", v[0]) for v in st.abi}
    t = st.name
    if t is not None and t.major is not None and t.kind == "module":
        found.add((t.implementation, t.major))
    return next(iter(found)) if len(found) == 1 else None


@rule(
    "shebang-implementation-mismatch",
    severity="error",
    summary="A script in a package for one stack is run by another (python3.11 or an "
    "unversioned python in a python3.12 package).",
    why="The script imports the package's modules, which only the package's own runtime "
    "has on its path; run by another interpreter it fails with ImportError, or works "
    "until the default python3 moves on.",
    example="#!/usr/bin/python3.11 in /usr/bin/foo-3.12 of python3.12-foo",
    fix="Rewrite the shebang to the stack's interpreter (%py3_shebang_fix with the right "
    "%python3_pkgversion; %python_clone -a on openSUSE; dh_python3 on Debian).",
    source="Fedora Packaging Guidelines for Python (shebangs, %py3_shebang_fix); openSUSE "
    "python-rpm-macros %python_clone; Debian Python Policy 2.4 (interpreter name)",
    peers=(),
    profiles=SYSTEM_PROFILES,
    fixer="shebang:fix",
    heads_only=True,
)
def shebang_implementation_mismatch(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """The package's stack is what its files, ``python(abi)`` requires and name agree on
    (one major, and one minor version where known).  A shebang naming another major or
    minor version or implementation is reported; ``python3`` is reported in a package known
    to be for a non-default stack (``--stack``, or a name only alternative stacks use,
    :func:`~coinstall.relations.alternative_stack`);
    an unversioned ``python`` in an executable module of a Python 3 or PyPy package (in a
    script ``shebang-unversioned`` reports it; in a Python 2 package it was PEP 394's
    recommended spelling until 2019)."""
    own = stack_of(ctx).exact
    major = _own_major(ctx)
    if major is None:
        return
    impl, maj = major
    want = stack_label(impl, maj, own[1] if own else None)
    for r, sb in runnable(ctx):
        sb_impl = "cpython" if sb.implementation == "python" else "pypy"
        if sb.version is None:
            if impl == "cpython" and maj == 2:
                continue  # PEP 394 (before 2019): python meant python2; shebang-unversioned
            if r.kind == "script":
                continue  # shebang-unversioned reports it: one finding for one line
            bad = "names no version"
        elif sb_impl != impl:
            bad = f"runs {sb.implementation}"
        else:
            parts = sb.version.split(".")
            other_minor = (
                len(parts) == 2 and own is not None and (int(parts[0]), int(parts[1])) != own[1]
            )
            if int(parts[0]) != maj or other_minor:
                bad = f"runs {sb.command}"
            elif len(parts) == 1 and own and alternative_stack(ctx, own[1]):
                bad = f"runs {sb.command}, the default stack"
            else:
                continue
        yield self.finding(r.path, f"#!{sb.raw} {bad}; the package is for {want}")


def _interpreter_names(sb_impl: str, version: str) -> tuple[str, ...]:
    head = "python" if sb_impl == "python" else "pypy"
    return (f"{head}{version}", f"{head}{version}-minimal", f"/usr/bin/{head}{version}")


def _satisfied(ctx: ArtifactContext, impl: str, version: str) -> bool:
    """Whether the package's requirements provide the interpreter ``{impl}{version}``.

    Debian, as lintian's scripts check (data/scripts/interpreters, versioned-interpreters):
    ``python3:any | python3-minimal:any`` for python3, ``python3.X:any | python3.X-minimal:any``
    for python3.X, in Pre-Depends, Depends, Recommends or Suggests.  RPM: the interpreter's
    path or package (``/usr/bin/python3``, ``python3``, ``python3.11``, ``python311``) or
    ``python(abi) = X.Y`` of that major (python-rpm-generators pairs them).
    """
    rel = relations(ctx.info)
    if rel.flavor == "deb":
        names = set(_interpreter_names(impl, version))
        return any(r.name in names for g in (*rel.requires, *rel.weak) for r in g)
    parts = version.split(".")
    want_impl = "cpython" if impl == "python" else "pypy"
    for g in rel.requires:
        for r in g:
            t = r.target
            if t is None or t.implementation != want_impl or t.major != int(parts[0]):
                continue
            if t.kind not in ("interpreter", "abi"):
                continue
            if len(parts) == 1 and (t.version is None or t.kind == "abi"):
                return True
            if len(parts) == 2 and t.version == (int(parts[0]), int(parts[1])):
                return True
    return False


@rule(
    "shebang-interpreter-not-required",
    severity="error",
    summary="An executable script's interpreter is not among the package's requires "
    "(#!/usr/bin/python3 without a dependency on python3).",
    why="Installing the package does not install the interpreter its scripts need; the "
    "script fails with `bad interpreter: No such file or directory` on a minimal system.",
    example="/usr/bin/foo with #!/usr/bin/python3 in a .deb without Depends: python3",
    fix="Debian: ${python3:Depends} in Depends and dh_python3; RPM: let the dependency "
    "generators run (they add /usr/bin/python3 from the shebang), or Requires: python3.",
    source="Debian Policy 10.4 and lintian scripts check (python3-script-but-no-python3-dep); "
    "rpm's script.req dependency generator",
    peers=("lintian:python3-script-but-no-python3-dep",),
    profiles=SYSTEM_PROFILES,
    heads_only=True,
)
def shebang_interpreter_not_required(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """Executable scripts with a versioned Python shebang (unversioned ones are
    ``shebang-unversioned``'s); lintian checks the same files."""
    if ctx.info.format not in ("deb", "rpm"):
        return  # an installed tree or a wheel declares no system package relations
    cache: dict[tuple[str, str], bool] = {}
    # the package that ships the interpreter (Debian's python3-minimal ships /usr/bin/python3
    # and py3compile, which runs with it) needs no relation to itself: dpkg and rpm resolve a
    # path the package itself installs (rpm's script.req requirement is self-provided)
    own = {"/" + r.path for r in ctx.records} | {"/" + m.path for m in ctx.links}
    for r, sb in runnable(ctx):
        if sb.version is None or r.mode is None or not r.mode & 0o111:
            continue
        ran = f"/usr/bin/{sb.command}" if sb.env else sb.interpreter
        if ran in own:
            continue
        key = (sb.implementation, sb.version)
        if key not in cache:
            cache[key] = _satisfied(ctx, *key)
        if not cache[key]:
            yield self.finding(
                r.path,
                f"#!{sb.raw} but {ctx.info.name} does not require {sb.implementation}{sb.version}",
            )


#: Path prefixes no distribution installs an interpreter under: temporary directories (FHS 3.0
#: 3.18 /tmp, 5.15 /var/tmp), home directories (FHS 3.8 /home, 3.14 /root) and the build
#: directories of the build systems (mock /builddir, sbuild and pbuilder /build).
BUILD_PREFIXES = ("/tmp/", "/var/tmp/", "/home/", "/root/", "/builddir/", "/build/")
#: Path components that name a virtual environment (PEP 405; virtualenv, tox, nox), a pyenv
#: root or an rpmbuild tree (``%_topdir``'s BUILDROOT).
BUILD_COMPONENTS = frozenset(
    {
        "venv",
        ".venv",
        "virtualenv",
        ".virtualenvs",
        ".tox",
        ".nox",
        ".pyenv",
        "pyenv",
        "BUILDROOT",
        "rpmbuild",
    }
)


def build_path(path: str) -> str | None:
    """Why ``path`` (an absolute interpreter path) is the build machine's, or None.

    Returns:
        ``"under /home/"`` or ``"in a venv directory"``; None for any other path
        (``/usr/bin/python3``, ``/opt/rh/.../python3``, ``/usr/local/bin/python3``).
    """
    for prefix in BUILD_PREFIXES:
        if path.startswith(prefix):
            return f"under {prefix}"
    hit = next((c for c in path.split("/")[:-1] if c in BUILD_COMPONENTS), None)
    return f"in a {hit} directory" if hit else None


@rule(
    "shebang-build-path",
    severity="error",
    summary="A script's shebang (or an RPM Requires) names the build machine's interpreter: a "
    "venv, /tmp, /root, /home, a pyenv root or a build root.",
    why="No distribution installs Python there: on the user's machine the script fails with "
    "`bad interpreter: No such file or directory` (or runs whatever happens to be at that "
    "path), and an RPM whose generator turned the shebang into `Requires: /home/.../python3` "
    "cannot be installed at all.  It happens when a package is built with an interpreter "
    "from a virtual environment or pyenv (`macros --interpreter 3.12=/some/venv/bin/"
    "python3.12`, `pip wheel` in a venv with a setup.py `scripts=`).",
    example="#!/home/builder/venv/bin/python3.12 in /usr/bin/foo; Requires: "
    "/home/builder/venv/bin/python3.12",
    fix="Rewrite the shebang to the system interpreter of that version, /usr/bin/python3.X "
    "(Fedora's %pyproject_install and %py3_shebang_fix do; `coinstall fix` does on a build "
    "root or wheel — a wheel's script gets #!python, which installers rewrite), then "
    "rebuild: the Requires is generated from the shebang.",
    source="FHS 3.0 (/tmp, /var/tmp, /home, /root hold no programs); PEP 405 (virtual "
    "environments); rpm's script.req (a shebang becomes a Requires); rpmlint "
    "FilesCheck wrong-script-interpreter; Fedora Packaging Guidelines for Python "
    "(shebangs)",
    peers=("rpmlint:wrong-script-interpreter",),
    fixer="shebang:fix",
    heads_only=True,
)
def shebang_build_path(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """Scripts and executable modules (:func:`runnable`) whose shebang runs an interpreter
    directly (not through env) at a path :func:`build_path` rejects; for an RPM also every
    ``Requires`` naming such a path (rpm's script.req writes one per shebang).

    A tree installed by pip (a virtual environment, ``pip install --prefix``/``--target``:
    a directory judged by the ``wheel`` profile, :func:`~coinstall.rules.profiles.
    installed_by_pip`) is not a package: its installer wrote the interpreter that installed it
    into each script (PEP 427, "#!python" is rewritten at install time; ``venv`` scripts name
    the environment's own python), which is right where that interpreter exists on this
    machine.  There only an interpreter that is gone is reported (the script fails with "bad
    interpreter"); its path is only stat'ed, never run."""
    installed = installed_by_pip(ctx.info)
    for r, sb in runnable(ctx):
        if sb.env or not sb.interpreter.startswith("/"):
            continue
        why = build_path(sb.interpreter)
        if not why:
            continue
        if not installed:
            yield self.finding(
                r.path,
                f"#!{sb.raw} runs the build machine's interpreter "
                f"({why}); no distribution installs Python there",
            )
        elif not (os.path.isfile(sb.interpreter) and os.access(sb.interpreter, os.X_OK)):
            yield self.finding(
                r.path,
                f"#!{sb.raw}: no such interpreter on this machine ({why}): the script fails "
                "with 'bad interpreter'",
            )
    rel = relations(ctx.info)
    if rel.flavor != "rpm":
        return
    for g in rel.requires:
        for req in g:
            why = build_path(req.name) if req.name.startswith("/") else None
            if why:
                yield self.finding(
                    None,
                    f"Requires: {req.name} ({why}): no distribution "
                    "installs it, the package cannot be installed",
                )


@rule(
    "shebang-carriage-return",
    severity="error",
    summary="A script whose shebang line ends in a carriage return (#!/usr/bin/python3\\r\\n, "
    "a file with CRLF line ends).",
    why="The kernel reads the #! line up to the newline and strips only spaces and tabs, so "
    "the \\r is part of the interpreter path or its argument: #!/usr/bin/python3\\r "
    "fails with 'No such file or directory', #!/usr/bin/env python3\\r makes env look "
    "for 'python3\\r'.  No runtime runs the script.",
    example="#!/usr/bin/env python3\\r  (in /usr/bin/foo, written on Windows)",
    fix="End the first line with LF alone (dos2unix, or sed -i '1s/\\r$//').",
    source="Linux fs/binfmt_script.c (load_script: the line ends at '\\n', only ' ' and "
    "'\\t' are stripped); execve(2)",
    peers=("lintian:script-with-crlf-line-terminators",),
    fixer="shebang:fix",
    heads_only=True,
)
def shebang_carriage_return(self: Rule, ctx: ArtifactContext) -> Iterator[Finding]:
    """Runnable files (:func:`runnable`) whose Python shebang line ends in ``\\r``; a wheel's
    ``#!python`` is exempt (installers replace the whole first line)."""
    for r, sb in runnable(ctx):
        if sb.cr and not (sb.interpreter == "python" and not sb.env):
            yield self.finding(
                r.path, f"#!{sb.raw}\\r: the kernel runs a name ending in \\r, which does not exist"
            )
