#!/usr/bin/env bash
# One-time set-up: bubblewrap (Debian/Ubuntu) and a virtual environment with the grader,
# the notebooks' kernel packages (TensorFlow, ...) and the test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

if ! command -v bwrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing bubblewrap (the sandbox) with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    else
        echo "setup: bubblewrap is missing; install it (sudo apt-get install bubblewrap)" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "setup: installing the grader and its kernel environment into $VENV (first time: a few minutes)"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[grade,kernel,dev,cluster]'
touch "$VENV/.installed"
echo "setup: done"
