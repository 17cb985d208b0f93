#!/usr/bin/env bash
# Prepares the Python virtualenv that the end-to-end test tests/it/e2e_pytest_monitor.rs runs the
# real pytest-monitor plugin from.
#
#   .ci/e2e-venv.sh DIR        # creates DIR (python3 -m venv) if needed, installs tests/e2e/requirements.txt
#
# Idempotent: a marker file in DIR records a hash of the requirements file and of the Python
# version; when it matches and the venv's python still runs, the script returns at once.
# Environment: PYTHON (default python3) is the interpreter the venv is created from.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
req="$root/tests/e2e/requirements.txt"
dir=$1
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
python=${PYTHON:-python3}
marker="$dir/.testgraph-e2e-requirements"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "e2e-venv: $python not found on PATH" >&2
    exit 3
fi

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 | cut -d' ' -f1
    else
        "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
    fi
}

key=$({ cat "$req"; "$python" -c 'import sys; print(sys.version)'; } | sha256)

up_to_date() {
    [ -x "$dir/bin/python" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$key" ] \
        && "$dir/bin/python" -c '' >/dev/null 2>&1
}

if up_to_date; then
    exit 0
fi

mkdir -p "$(dirname "$dir")"
# Serialise concurrent runs (two test processes preparing the same venv).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir.lock"
    flock 9
    if up_to_date; then
        exit 0
    fi
fi

# A venv whose interpreter no longer runs (the base Python changed) is rebuilt; only a folder
# that is recognisably a venv is ever removed.
if [ -f "$dir/pyvenv.cfg" ] && ! "$dir/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$dir"
fi
if [ ! -x "$dir/bin/python" ]; then
    echo "e2e-venv: creating $dir" >&2
    "$python" -m venv "$dir"
fi
rm -f "$marker"
echo "e2e-venv: installing $(basename "$req") into $dir" >&2
"$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req"
"$dir/bin/python" -c 'import pytest, pytest_monitor'
echo "$key" >"$marker"
