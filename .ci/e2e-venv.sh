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

log() { echo "e2e-venv: $*" >&2; }
# shellcheck source=venv-lib.sh
. "$root/.ci/venv-lib.sh"
venv_begin "$req"
echo "e2e-venv: installing $(basename "$req") into $dir" >&2
"$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req"
"$dir/bin/python" -c 'import pytest, pytest_monitor'
echo "$key" >"$marker"
