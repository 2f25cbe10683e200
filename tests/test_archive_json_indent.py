"""archive.output writes the JSON report's artifacts with its own indenting encoder
(``_indented``): the same text as ``json.dumps(indent=2)`` for every value ``json.loads`` makes,
including the scalars that compare equal across types (1, 1.0, True) in lists that look
alike, strings outside ASCII, NaN and infinities, empty and nested containers."""

from __future__ import annotations

import json
import math
from typing import Any

from coinstall.archive.output import _indent, _indented

VALUES: list[Any] = [
    {},
    [],
    "",
    0,
    -1,
    10**30,
    1.5,
    1e300,
    math.inf,
    -math.inf,
    None,
    True,
    False,
    ["a", "b"],
    [["a", "b"], ["a", "b"]],
    [["x", 1], ["x", True], ["x", 1.0], ["x", "1"]],
    [[1, 2], [True, 2], [1.0, 2.0]],
    {"k": []},
    {"k": {}},
    {'é\n"': "ü\u2028\x00"},
    {
        "files": [
            {"path": "a", "kind": "source", "usable_by": ["cpython-3.11", "pypy-3.9"]},
            {"path": "b", "kind": "other", "usable_by": None},
            {"path": "c", "kind": "source", "usable_by": ["cpython-3.11", "pypy-3.9"]},
            {"path": "d", "kind": "source", "usable_by": []},
        ],
        "deep": [[["cpython-3.11", "pypy-3.9"]], ["cpython-3.11", "pypy-3.9"]],
        "findings": [{"rule": "r", "severity": "error", "path": None, "message": "m"}],
    },
    ["a", {"b": ["a"]}, [["a"]]],
]


def test_indented_is_json_dumps_indent_2() -> None:
    for value in VALUES:
        for v in (value, json.loads(json.dumps(value))):
            want = _indent(json.dumps(v, indent=2), "    ")
            lists: dict[tuple[str, tuple[str, ...]], str] = {}
            assert _indented(v, "\n    ", lists) == want, v
            assert _indented(v, "\n    ", lists) == want, v  # again, from the kept lists
    nan = _indented([math.nan, {"x": math.nan}], "\n", {})
    assert nan == json.dumps([math.nan, {"x": math.nan}], indent=2)
