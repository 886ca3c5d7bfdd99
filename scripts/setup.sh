#!/usr/bin/env bash
# Set up this machine for AI Product Matrix, then run the app or the tests. Idempotent.
#
#   bash scripts/setup.sh run     # install what the app needs, then start it on the embedded models
#   bash scripts/setup.sh test    # install what the app and the tests need, then run the test suite
#
# Debian with Python 3.11. Extra arguments go to `python app.py` or to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
shift || true
PY="${PYTHON:-python3}"
export OMP_WAIT_POLICY=PASSIVE PIP_DISABLE_PIP_VERSION_CHECK=1

apt_packages=$(grep -v '^#' packages.txt)
if [ "$mode" = "test" ]; then
  apt_packages="$apt_packages chromium espeak-ng sox"
fi
missing=""
for p in $apt_packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: apt-get install$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

# pip is quick when everything is already satisfied, so these run every time.
$PY -m pip install -q -r requirements.txt
$PY -m pip install -q --no-deps -r requirements-embedded.txt

case "$mode" in
  run)
    exec $PY app.py "$@"
    ;;
  test)
    $PY -m pip install -q -r requirements-test.txt
    exec $PY -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/setup.sh run|test [args]" >&2
    exit 2
    ;;
esac
