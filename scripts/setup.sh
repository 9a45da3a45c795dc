#!/usr/bin/env bash
# One-time set-up: bubblewrap (Debian/Ubuntu), a virtual environment with the grader,
# the notebooks' kernel packages (TensorFlow, ...) and the test tools, and the lean kernel
# environment the sandboxed notebooks run in (only what notebooks import). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
KVENV=${KVENV:-.venv-kernel}

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

# Chromium and its WebDriver: the tests open the HTML reports in a real headless browser
# (tests/test_report_browser.py skips, saying why, where they are missing).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing chromium and chromium-driver (browser tests of the reports) with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
            || echo "setup: chromium could not be installed: the browser tests will be skipped" >&2
    else
        echo "setup: no chromium/chromedriver: the browser tests of the reports will be skipped" \
             "(sudo apt-get install chromium chromium-driver)" >&2
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

# The lean kernel environment: pyproject's `kernel` extra only (TensorFlow, NumPy, matplotlib,
# scikit-learn, pandas, pillow, ipykernel, nbclient, nbformat), constrained to the versions the
# grader's venv has (`pip freeze`), so a notebook's grade cannot depend on which env ran it.
# A kernel started here imports TensorFlow seconds faster than one in the full venv.
# `grader grade` uses it unless --python says otherwise; `grader doctor` shows it.
if [ ! -x "$KVENV/bin/python" ]; then
    echo "setup: creating $KVENV (the notebooks' lean kernel environment)"
    "$PYTHON" -m venv "$KVENV"
fi
echo "setup: installing the notebooks' packages into $KVENV (the versions of $VENV)"
reqs=$(mktemp -d)
trap 'rm -rf "$reqs"' EXIT
"$VENV/bin/python" scripts/kernel_requirements.py > "$reqs/requirements.txt"
"$VENV/bin/python" -m pip freeze --exclude-editable | grep -v ' @ ' > "$reqs/constraints.txt"
"$KVENV/bin/python" -m pip install -q --upgrade pip
"$KVENV/bin/python" -m pip install -q -r "$reqs/requirements.txt" -c "$reqs/constraints.txt"
touch "$KVENV/.installed"
echo "setup: done"
