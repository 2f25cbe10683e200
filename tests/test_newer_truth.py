"""Ground truth on inputs the other oracle tests do not use (issue 18 item 5): wheels built for
the free-threaded 3.13t and for 3.14 / 3.14t (numpy, MarkupSafe, PyYAML, msgpack) and
trixie's and sid's .debs of python3-numpy, python3-cryptography and python3-yaml
(``corpus.NEWER_WHEELS`` / ``corpus.NEWER_DEBS``, fetched by ``tests/corpus.py`` with
scripts/interpreters.sh's private apt configuration).

Every extension module of them is put before every interpreter on this machine -- Debian
trixie's 3.13, sid's 3.14 and the free-threaded 3.13t among them -- the way
``tests/test_ground_truth.py`` does (the interpreter's own finder, ``dlopen`` with its flags,
then the real import in a child process, where a signal means "does not use it"), and
coinstall's verdict must equal the interpreter's answer or be "cannot tell" for that pair.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import corpus
from coinstall.runtimes import discovery
from coinstall.runtimes.model import Runtime
from interpreters import EXTRA_PYTHONS
from test_ground_truth import Case, _ask, _import_crashes, _loads
from test_ground_truth import _cases as ground_cases


def _cases(
    paths: list[Path], runtimes: list[Runtime], tmp: Path
) -> tuple[list[Case], dict[int, frozenset[str]]]:
    """The cases (test_ground_truth's) and, per case index, the runtimes coinstall says
    "cannot tell" for."""
    open_: dict[int, frozenset[str]] = {}
    return ground_cases(paths, runtimes, tmp, open_), open_


@pytest.mark.network
def test_newer_wheels_and_debs_agree_with_real_interpreters(tmp_path: Path) -> None:
    wheels, debs = corpus.fetch_newer()
    runtimes, _errors = discovery.discover()
    ids = {rt.executable: rt.id for rt in runtimes}
    new = {v: ids.get(str(p)) for v, p in EXTRA_PYTHONS.items()}
    assert all(new.values()), f"not discovered: {new} (run scripts/setup.sh)"
    cases, open_ = _cases(sorted(wheels.values()) + sorted(debs.values()), runtimes, tmp_path)
    assert len(cases) > 100
    wrong: list[str] = []
    pairs = agreed = cannot_tell = 0
    used: dict[str, int] = {}
    for rt in runtimes:
        answers = _ask(rt, cases)
        picked = [
            i
            for i, (c, (found, loaded)) in enumerate(zip(cases, answers, strict=True))
            if found == c.local and _loads(loaded, c.local)
        ]
        died = _import_crashes(rt, [cases[i] for i in picked])
        crashed = {picked[i]: how for i, how in died.items()}
        for i, (case, (found, loaded)) in enumerate(zip(cases, answers, strict=True)):
            pairs += 1
            if rt.id in open_[i]:
                assert not case.verdicts[rt.id]
                cannot_tell += 1
                continue
            truth = i in picked and i not in crashed
            used[rt.id] = used.get(rt.id, 0) + truth
            if truth != case.verdicts[rt.id]:
                wrong.append(
                    f"{rt.id}: {case.path} ({os.path.basename(case.artifact)}): "
                    f"interpreter {'uses' if truth else 'does not use'} it "
                    f"(found={found}, dlopen={loaded}, "
                    f"import={crashed.get(i, 'ok')}); coinstall says "
                    f"{'usable' if case.verdicts[rt.id] else 'not usable'}"
                )
            else:
                agreed += 1
    print(
        f"{pairs} pairs, {agreed} agree, {cannot_tell} cannot tell, {len(wrong)} wrong; "
        f"modules used per runtime: {used}"
    )
    assert not wrong, "\n".join(wrong)
    # Each new interpreter really uses some of these modules: trixie's 3.13 its .debs' modules,
    # sid's 3.14 the cp314 wheels' and sid's .debs', the 3.13t numpy's cp313t modules.
    for v, rid in new.items():
        assert used.get(rid or "", 0) >= 5, (v, used)
