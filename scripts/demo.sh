#!/usr/bin/env bash
# Set up (first run only) and render the built-in demo: a melody in the style of rain.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/gramophone demo "$@"
