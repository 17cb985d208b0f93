#!/usr/bin/env bash
# Prepares the Python virtualenv .ci/fuzz.sh runs schemathesis from.
#
#   .ci/fuzz-venv.sh DIR        # creates DIR (python3 -m venv) if needed, installs tests/fuzz/requirements.txt
#
# Idempotent, as .ci/e2e-venv.sh: a marker in DIR records a hash of the requirements file and of
# the Python version. Environment: PYTHON (default python3).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
req="$root/tests/fuzz/requirements.txt"
dir=$1
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
python=${PYTHON:-python3}
marker="$dir/.testgraph-fuzz-requirements"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "fuzz-venv: $python not found on PATH" >&2
    exit 3
fi

log() { echo "fuzz-venv: $*" >&2; }
# shellcheck source=venv-lib.sh
. "$root/.ci/venv-lib.sh"
venv_begin "$req"
echo "fuzz-venv: installing $(basename "$req") into $dir" >&2
"$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req"
"$dir/bin/schemathesis" --version >/dev/null
echo "$key" >"$marker"
