#!/usr/bin/env bash
# Create .venv (if needed) and install Gramophone with its test tools into it.
# torch is installed first, pinned to a CPU build where one is available, so that pip never
# pulls a multi-GB CUDA build as a side effect. Override with GRAMOPHONE_TORCH, e.g.
#   GRAMOPHONE_TORCH="torch --index-url https://download.pytorch.org/whl/cu124" scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.gramophone-installed
pip_install() {
  # pip's output minus one harmless warning some package mirrors cause; pip's own status decides
  .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }
  return "${PIPESTATUS[0]}"
}
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # shellcheck disable=SC2086  # GRAMOPHONE_TORCH may hold several words (a spec and pip options)
  pip_install ${GRAMOPHONE_TORCH:-torch==2.13.0}
  pip_install -e '.[test,ray]'  # ray: the tests run batches on a real local Ray cluster
  .venv/bin/python -c 'import torch, pedalboard, soundfile, pythonosc, soxr, pyloudnorm, tqdm, ray, gramophone.engine'
  touch "$stamp"
fi
