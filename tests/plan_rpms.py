"""Real RPMs built with rpmbuild for the plan tests: a python3.11 stack and, in a later
snapshot, its python3.12 counterpart (Fedora/EPEL ``python3.X-foo`` names, openSUSE
``python3XY-foo`` names), with the dependencies Fedora's generators write
(``python(abi) = 3.11``, ``python3.11dist(foo)``; written out in the specs because Debian's rpm
has no python-rpm-generators) and BuildRequires that make waves and a bootstrap cycle.

The extension module files are empty: the planner reads file names from the metadata, never
file contents.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HEADER = """Name: {src}
Version: 1.0
Release: {release}
Summary: coinstall plan test package {src}
License: MIT
BuildArch: {arch}
{buildrequires}
%global debug_package %{{nil}}
%global __os_install_post %{{nil}}
%global _build_id_links none
%description
Test package for coinstall plan.
"""

SUBPACKAGE = """%package -n {name}
Summary: {name}
{requires}
%description -n {name}
{name}
"""


@dataclass
class Binary:
    name: str
    files: list[str]
    requires: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)


@dataclass
class Spec:
    src: str
    binaries: list[Binary]
    buildrequires: list[str] = field(default_factory=list)
    arch: str = "noarch"
    release: str = "1"

    def text(self) -> str:
        br = "\n".join(f"BuildRequires: {b}" for b in self.buildrequires)
        out = [HEADER.format(src=self.src, release=self.release, arch=self.arch, buildrequires=br)]
        for b in self.binaries:
            req = "\n".join(
                [f"Requires: {r}" for r in b.requires] + [f"Provides: {p}" for p in b.provides]
            )
            out.append(SUBPACKAGE.format(name=b.name, requires=req))
        out.append("%install")
        for b in self.binaries:
            for f in b.files:
                out.append(f"mkdir -p %{{buildroot}}{Path(f).parent}")
                out.append(f"touch %{{buildroot}}{f}")
        for b in self.binaries:
            out.append(f"%files -n {b.name}")
            out.extend(b.files)
        return "\n".join(out) + "\n"


def _stack(
    v: str,
    name: str,
    files: list[str],
    requires: list[str] = (),  # type: ignore[assignment]
    arch_dir: str = "lib",
) -> Binary:
    return Binary(
        f"python{v}-{name}",
        [f.format(v=v, vv=v.replace(".", ""), lib=arch_dir) for f in files],
        [f"python(abi) = {v}", *(r.format(v=v) for r in requires)],
        [f"python{v}dist({name}) = 1.0"],
    )


def alpha(versions: list[str], release: str) -> Spec:
    files = [
        "/usr/{lib}/python{v}/site-packages/alpha/__init__.py",
        "/usr/{lib}/python{v}/site-packages/alpha/_speed.cpython-{vv}-x86_64-linux-gnu.so",
    ]
    return Spec(
        "python-alpha",
        [_stack(v, "alpha", files, arch_dir="lib64") for v in versions],
        arch="x86_64",
        release=release,
    )


def snapshot_specs(later: bool) -> list[Spec]:
    """The specs of the first snapshot (python3.11 only) or the later one (python-alpha
    rebuilt for 3.11 and 3.12; python-zeta retired)."""
    pure = ["/usr/lib/python{v}/site-packages/{n}.py"]
    specs = [
        alpha(["3.11", "3.12"] if later else ["3.11"], "2" if later else "1"),
        Spec(
            "python-beta",
            [
                _stack(
                    "3.11",
                    "beta",
                    [p.replace("{n}", "beta") for p in pure],
                    ["python{v}dist(alpha)"],
                )
            ],
            buildrequires=["python3.11-alpha"],
        ),
        # openSUSE-style name for the same stack.
        Spec(
            "python-delta",
            [
                Binary(
                    "python311-delta",
                    ["/usr/lib/python3.11/site-packages/delta.py"],
                    ["python(abi) = 3.11"],
                )
            ],
            buildrequires=["python3.11-beta", "python3.11-alpha"],
        ),
        # A program that runs on any python3: version-independent.
        Spec("gamma-tool", [Binary("gamma", ["/usr/bin/gamma"], ["/usr/bin/python3"])]),
        # A build-dependency cycle.
        Spec(
            "python-eps",
            [_stack("3.11", "eps", [p.replace("{n}", "eps") for p in pure])],
            buildrequires=["python3.11-zeta"],
        ),
    ]
    if not later:
        specs.append(
            Spec(
                "python-zeta",
                [_stack("3.11", "zeta", [p.replace("{n}", "zeta") for p in pure])],
                buildrequires=["python3.11-eps"],
            )
        )
    return specs


def build_repo(out: Path, specs: list[Spec], extra_rpms: list[Path]) -> Path:
    """Build binary and source RPMs of ``specs`` with rpmbuild, copy ``extra_rpms`` beside
    them and run createrepo_c; returns the repository directory."""
    top = out / "rpmbuild"
    repo = out / "repo"
    repo.mkdir(parents=True)
    for spec in specs:
        path = out / f"{spec.src}.spec"
        path.write_text(spec.text())
        for mode in ("-bb", "-bs"):
            subprocess.run(
                ["rpmbuild", "--define", f"_topdir {top}", "--quiet", "--nodeps", mode, str(path)],
                check=True,
                capture_output=True,
            )
    for rpm in top.rglob("*.rpm"):
        shutil.copy(rpm, repo)
    for rpm in extra_rpms:
        shutil.copy(rpm, repo)
    subprocess.run(
        ["createrepo_c", "--quiet", "--general-compress-type", "xz", str(repo)],
        check=True,
        capture_output=True,
    )
    return repo
