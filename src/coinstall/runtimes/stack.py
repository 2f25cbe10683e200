"""A stack definition: which Python versions a distribution (or a project) supports, and which
one is the default (the one ``/usr/bin/python3`` runs).

Several rules depend on it: unversioned entry points belong to the default stack's package
(Fedora Packaging Guidelines, "Executables"), a ``python3.12`` package must not ship files for
another stack, a package supporting every stack needs an extension module for each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class StackError(ValueError):
    """A stack definition that cannot be parsed; ``str()`` is one line naming the bad part."""


def parse_version(text: str) -> tuple[int, int]:
    """``"3.11"`` -> ``(3, 11)``.

    Raises:
        StackError: not ``MAJOR.MINOR``.
    """
    parts = text.strip().split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise StackError(f"{text!r} is not a MAJOR.MINOR Python version")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True)
class Stack:
    """Supported Python versions.

    Attributes:
        default: the default version ``(3, 11)``, None if not known.
        others: the other supported versions, in the order given.
    """

    default: tuple[int, int] | None = None
    others: tuple[tuple[int, int], ...] = ()

    @property
    def versions(self) -> tuple[tuple[int, int], ...]:
        """Every supported version, default first."""
        return ((self.default,) if self.default else ()) + self.others

    @property
    def known(self) -> bool:
        """True when the stack says anything."""
        return bool(self.versions)

    def __str__(self) -> str:
        parts = []
        if self.default:
            parts.append(f"default={self.default[0]}.{self.default[1]}")
        parts += [f"other={v[0]}.{v[1]}" for v in self.others]
        return ",".join(parts) or "(none)"

    @classmethod
    def parse(cls, text: str) -> Stack:
        """Parse ``default=3.11,other=3.12,other=3.13`` (``other`` may repeat; a bare version
        counts as ``other``, or as the default when it comes first and none is named).

        Raises:
            StackError: an unknown key, a bad version, two defaults.
        """
        default: tuple[int, int] | None = None
        others: list[tuple[int, int]] = []
        items = [i.strip() for i in text.split(",") if i.strip()]
        for n, item in enumerate(items):
            key, sep, value = item.partition("=")
            if not sep:
                key, value = ("default" if n == 0 and "default=" not in text else "other"), item
            key = key.strip()
            if key == "default":
                if default is not None:
                    raise StackError("the stack names two defaults")
                default = parse_version(value)
            elif key in ("other", "others"):
                others.append(parse_version(value))
            else:
                raise StackError(f"unknown stack key {key!r} (expected default= or other=)")
        return cls(default, tuple(v for v in others if v != default))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Stack:
        """Build from configuration: ``{"default": "3.11", "other": ["3.12"]}``.

        Raises:
            StackError: an unknown key or a bad version.
        """
        default = None
        others: list[tuple[int, int]] = []
        for key, value in data.items():
            if key == "default":
                if not isinstance(value, str):
                    raise StackError('stack.default must be a string such as "3.11"')
                default = parse_version(value)
            elif key in ("other", "others"):
                vals: Sequence[object] = (
                    [value]
                    if isinstance(value, str)
                    else value
                    if isinstance(value, list)
                    else [None]
                )
                for v in vals:
                    if not isinstance(v, str):
                        raise StackError(f'stack.{key} must be a list of strings such as "3.12"')
                    others.append(parse_version(v))
            else:
                raise StackError(f"unknown key stack.{key}")
        return cls(default, tuple(v for v in others if v != default))
