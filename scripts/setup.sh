#!/usr/bin/env bash
# Set up coinstall for development and tests on a fresh machine of this kind (Debian 12 with
# pyenv's Pythons): the extra interpreters the tests compare against, the venv, the pinned
# real packages the tests read.  Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: a PyPy and a debug CPython beside pyenv's 2.7 and 3.6-3.13 (the ground-truth
# tests ask them), rpm/lintian/rpmlint for the benchmark's peers, dh-python and
# python3.11-examples (pathfix.py) for coinstall fix's peers; python3-rpm (spec reading),
# rpm2cpio and cpio for coinstall spec's build tests; dpkg-dev
# (dpkg-scanpackages) for the index fuzz test.
apt_pkgs=(pypy3 python3.11-dbg python3.11-venv lintian rpmlint rpm python3-rpm rpm2cpio cpio ben createrepo-c chromium time dh-python python3.11-examples dpkg-dev)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# apt's own lists, kept lz4-compressed as Debian's container images keep them
# (Acquire::GzipIndexes; tests/test_plan_indices.py reads the machine's list): fetch them when
# the bookworm main list is not there in that form.
if ! ls /var/lib/apt/lists/*_bookworm_main_binary-amd64_Packages.lz4 >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq -o Acquire::GzipIndexes=true \
    -o Acquire::IndexTargets::deb::Packages::KeepCompressedAs=lz4
fi

# Real CPython 3.13 (Debian trixie), 3.14 (sid) and a free-threaded 3.13t (built from trixie's
# source, ~10+ minutes the first time) in a cache outside the clone, without touching the
# system: started now, in the background, and waited for at the end.
bash scripts/interpreters.sh &
interpreters_pid=$!

# The tool runs on CPython 3.11+: take the first such interpreter.
if [ ! -x .venv/bin/python ]; then
  py=""
  for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      py=$(command -v "$cand"); break
    fi
  done
  [ -n "$py" ] || { echo "setup: no Python 3.11+ found" >&2; exit 1; }
  "$py" -m venv .venv
fi
# The editable install (pip asks the index and builds the editable wheel: most of a re-run's
# time) only when pyproject.toml changed since the last one; src/ changes need none.
stamp=.venv/.coinstall-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $PWD"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -f "$stamp"
  out=$(.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1) \
    && echo "$want" > "$stamp"
  printf '%s\n' "$out" | grep -v -e "^WARNING: Location" -e '^$' || true
fi
.venv/bin/python -c 'import coinstall' >/dev/null

# Pinned real packages (PyPI wheels, Debian .debs) into .cache/corpus.
.venv/bin/python tests/corpus.py >/dev/null
.venv/bin/python tests/plan_corpus.py >/dev/null

wait "$interpreters_pid" || { echo "setup: scripts/interpreters.sh failed" >&2; exit 1; }

# coinstall's pip (this venv's) runs under each target runtime (`coinstall share`:
# TARGET .../pip/__pip-runner__.py; the share tests' venvs): byte-compiled here once for each
# runtime pip supports (3.7+, PyPy), or every such run compiles pip from source again when
# bytecode writing is off (PYTHONDONTWRITEBYTECODE).  compileall skips what is up to date.
pipdir=$(.venv/bin/python -c 'import os, pip; print(os.path.dirname(pip.__file__))')
interp=${COINSTALL_TEST_CACHE:-$HOME/.cache/coinstall-test}/interpreters/bin
for py in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.{7,8,9,10,11,12,13}.*/bin/python3 \
  /usr/bin/pypy3 "$interp"/python3.13 "$interp"/python3.13t "$interp"/python3.14; do
  [ -x "$py" ] || continue
  "$py" -m compileall -q "$pipdir" >/dev/null 2>&1 \
    || echo "setup: could not byte-compile pip for $py" >&2
done
