"""Configuration: ``[tool.coinstall]`` in ``pyproject.toml`` or a ``coinstall.toml``.

Keys (all optional)::

    profile = "fedora"                   # fedora, epel, opensuse, debian, wheel
    select = ["bytecode-magic-mismatch"] # only these rules (default: every rule)
    ignore = ["shebang-env"]             # never these rules
    [severity]                           # per-rule severity overrides
    shebang-env = "error"
    [per-path-ignores]                   # glob on the artifact file name or member path
    "*/tests/*" = ["bytecode-without-source"]
    [stack]
    default = "3.11"
    other = ["3.12"]
    [limits]                             # reader limits in MB (coinstall.artifacts.limits)
    member-mb = 4096

In ``coinstall.toml`` the keys are at the top level; in ``pyproject.toml`` under
``[tool.coinstall]``.  An unknown key is an error that names it, like ruff's and rpmlint's
configuration readers.  The file is found with ``--config FILE``, else by looking in the current
directory and its parents for ``coinstall.toml`` (first) or a ``pyproject.toml`` that has a
``[tool.coinstall]`` table.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from coinstall.runtimes.stack import Stack, StackError

#: A finding's severity (rules declare a default; ``[severity]`` overrides it per rule).
Severity = Literal["error", "warning", "info"]
#: Every :data:`Severity`, most severe first.
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
#: A distribution policy profile (:data:`coinstall.rules.profiles.PROFILES` has one of each).
ProfileName = Literal["fedora", "epel", "opensuse", "debian", "wheel"]
#: Every :data:`ProfileName`.
PROFILE_NAMES: tuple[ProfileName, ...] = get_args(ProfileName)
_KEYS = ("profile", "select", "ignore", "severity", "per-path-ignores", "stack", "limits")


class ConfigError(ValueError):
    """A configuration file that cannot be used; ``str()`` is one line naming the file and the
    key or value at fault."""


def profile_name(name: str) -> ProfileName:
    """``name`` as a :data:`ProfileName`.  Raises ConfigError if it is none."""
    for known in PROFILE_NAMES:
        if name == known:
            return known
    raise ConfigError(f"profile must be one of {', '.join(PROFILE_NAMES)}, not {name!r}")


@dataclass
class Config:
    """Settings for a check run.

    Attributes:
        path: the file they came from (None: defaults and command line only).
        profile: a profile name forced for every artifact, or None to choose per artifact.
        select: rule names to run (None: all).
        ignore: rule names never to run.
        severity: ``rule name -> severity`` overrides.
        per_path_ignores: ``glob -> rule names`` silenced for matching paths.
        stack: the supported versions and the default.
        limits: ``[limits]`` as written (``{"member-mb": 4096}``), applied over the defaults
            of :class:`coinstall.artifacts.limits.Limits`.
    """

    path: str | None = None
    profile: ProfileName | None = None
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    per_path_ignores: dict[str, frozenset[str]] = field(default_factory=dict)
    stack: Stack = field(default_factory=Stack)
    limits: dict[str, int] = field(default_factory=dict)

    def enabled(self, rule: str) -> bool:
        """Whether ``rule`` runs at all."""
        return (self.select is None or rule in self.select) and rule not in self.ignore

    def ignored_at(self, rule: str, paths: Collection[str | None]) -> bool:
        """Whether a per-path ignore silences ``rule`` for any of ``paths`` (the artifact's
        file name and path, the member path)."""
        for pattern, rules in self.per_path_ignores.items():
            if rule in rules or "*" in rules:
                for p in paths:
                    if p is not None and fnmatch.fnmatch(p, pattern):
                        return True
        return False


def _names(where: str, key: str, value: Any, rule_names: Collection[str]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of rule names")
    for v in value:
        if v not in rule_names and v != "*":
            raise ConfigError(f"{where}: {key}: unknown rule {v!r}")
    return frozenset(value)


def from_mapping(data: Mapping[str, Any], where: str, rule_names: Collection[str]) -> Config:
    """Validate one ``[tool.coinstall]`` table.

    Raises:
        ConfigError: an unknown key, an unknown rule or profile, a bad severity or stack.
    """
    for key in data:
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(_KEYS)})")
    cfg = Config(path=where)
    if "profile" in data:
        if data["profile"] not in PROFILE_NAMES:
            raise ConfigError(f"{where}: profile must be one of {', '.join(PROFILE_NAMES)}")
        cfg.profile = data["profile"]
    if "select" in data:
        cfg.select = _names(where, "select", data["select"], rule_names)
    if "ignore" in data:
        cfg.ignore = _names(where, "ignore", data["ignore"], rule_names)
    sev = data.get("severity", {})
    if not isinstance(sev, dict):
        raise ConfigError(f"{where}: severity must be a table of rule = severity")
    for name, value in sev.items():
        if name not in rule_names:
            raise ConfigError(f"{where}: severity: unknown rule {name!r}")
        if value not in SEVERITIES:
            raise ConfigError(f"{where}: severity.{name} must be one of {', '.join(SEVERITIES)}")
        cfg.severity[name] = value
    ppi = data.get("per-path-ignores", {})
    if not isinstance(ppi, dict):
        raise ConfigError(f"{where}: per-path-ignores must be a table of glob = [rules]")
    for pattern, rules in ppi.items():
        cfg.per_path_ignores[pattern] = _names(
            where, f"per-path-ignores.{pattern!r}", rules, rule_names
        )
    if "stack" in data:
        if not isinstance(data["stack"], dict):
            raise ConfigError(f'{where}: stack must be a table (default = "3.11", other = [...])')
        try:
            cfg.stack = Stack.from_mapping(data["stack"])
        except StackError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if "limits" in data:
        from coinstall.artifacts.limits import Limits

        lim = data["limits"]
        if not isinstance(lim, dict):
            raise ConfigError(f"{where}: limits must be a table (member-mb = 4096, ...)")
        try:
            Limits().with_values(lim)
        except ValueError as exc:
            raise ConfigError(f"{where}: limits: {exc}") from None
        cfg.limits = dict(lim)
    return cfg


#: The largest configuration file read (a real one is a few KB).
CONFIG_MAX = 1 << 20


def _read(p: Path) -> bytes:
    """A configuration file's bytes: a regular file of at most :data:`CONFIG_MAX` bytes,
    stat before open (a FIFO or ``/dev/zero`` given as ``--config`` is refused unopened).

    Raises:
        ConfigError: one line naming the file.
    """
    from coinstall.artifacts.base import ArtifactError
    from coinstall.artifacts.limits import read_regular

    try:
        return read_regular(str(p), CONFIG_MAX, "configuration files")
    except ArtifactError as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None


def find(start: Path) -> tuple[Path, bool] | None:
    """The configuration file that applies in ``start``: ``(path, is_pyproject)`` or None."""
    for d in (start, *start.parents):
        own = d / "coinstall.toml"
        if own.is_file():
            return own, False
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(_read(pyproject).decode("utf-8"))
            except (ConfigError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "coinstall" in data.get("tool", {}):
                return pyproject, True
    return None


def load(path: str | None, rule_names: Collection[str], start: Path | None = None) -> Config:
    """Read the configuration: ``path`` if given, else the one :func:`find` finds from
    ``start`` (default: the current directory); defaults when there is none.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or holds a bad value.
    """
    if path is not None:
        p = Path(path)
        is_pyproject = p.name == "pyproject.toml"
    else:
        found = find((start or Path.cwd()).resolve())
        if found is None:
            return Config()
        p, is_pyproject = found
    try:
        data = tomllib.loads(_read(p).decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    if is_pyproject:
        data = data.get("tool", {}).get("coinstall", {})
        where = f"{p} [tool.coinstall]"
    else:
        where = str(p)
    return from_mapping(data, where, rule_names)
