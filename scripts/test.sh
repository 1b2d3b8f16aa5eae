#!/usr/bin/env bash
# Set up (if needed) and run every check: lint, types, and the whole test suite (unit tests,
# Chromium end-to-end tests, the real Qt window over CDP, the benchmark smoke run).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check app tests benchmarks docs
.venv/bin/mypy
.venv/bin/pytest "$@"
