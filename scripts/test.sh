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
# worker, so a module-scoped fixture (a real build, a Dask cluster) is made once.  The 25
# slowest tests are listed at the end (the suite's wall time is issue 21 item 12).
.venv/bin/python -m pytest -q -n auto --dist loadfile --durations=25 "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure here too.
exit $status
