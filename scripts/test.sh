#!/usr/bin/env bash
# Set up, then lint, type-check and run the test-suite.  .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src/ tests/ benchmarks/ scripts/
.venv/bin/ruff format --check src/ tests/ benchmarks/ scripts/ fuzz/
.venv/bin/mypy src
set +e
# In parallel (pytest-xdist): one worker per core; --dist loadfile keeps each test file on one
# worker, so a module-scoped fixture (a real build, a Dask cluster) is made once.
.venv/bin/python -m pytest -q -n auto --dist loadfile "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure here too.
exit $status
