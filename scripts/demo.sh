#!/usr/bin/env bash
# Set up (if needed) and open the demo app's window. Extra arguments go to `python -m app`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m app "$@"
