#!/usr/bin/env bash
# Prepares a Python 3.11 virtualenv with the real StackTach.v3 programs: the server quincy
# (falcon) with the quince backend over a winchester database, and the real client klugman.
# Recipe: ../shared/reference/peers.md, "StackTach.v3". Used by tests/fixtures/stacktach/capture_peer.py
# (and by any end-to-end test that runs klugman against testgraph).
#
#   .ci/stacktach-venv.sh DIR   # creates DIR (python3.11 -m venv) if needed and installs the peers
#
# The four peers and their two helpers are Python 2 only on PyPI: they are installed with
# `--pre --no-deps` at pinned versions, converted in place with lib2to3, and winchester gets two
# more fixes (collections.abc, no bytes decode of str). Nothing of them enters the repository.
#
# Idempotent: a marker file in DIR records a hash of this script and of the Python version; when it
# matches and the venv's python still runs, the script returns at once. The lib2to3 conversion is
# not idempotent, so whenever the marker is missing the peers are force-reinstalled before it.
# Environment: PYTHON (default python3.11, else python3) is the interpreter the venv is created
# from; it must be Python 3.11 (lib2to3 is gone from 3.13, and the recipe was checked on 3.11).
# Exit status: 2 usage, 3 no suitable Python, other non-zero: the install failed.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi

script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
dir=$1
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
is_311() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1
}
if [ -n "${PYTHON:-}" ]; then
    python=$PYTHON
else
    python=python3.11
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_311 "$candidate"; then
            python=$candidate
            break
        fi
    done
fi
marker="$dir/.testgraph-stacktach-venv"

# Dependencies the peers need at run time (their own metadata is Python 2 era, hence --no-deps).
DEPS=('falcon<4' python-dateutil iso8601 prettytable docopt six ply python-daemon 'alembic<1.14'
    'SQLAlchemy==1.4.52' pyyaml requests)
# The peers, pinned; all are pre-releases or Python 2 only.
PEERS=(timex==0.20.0 simport==0.2.dev16 klugman==0.5.dev25 quincy==0.3.dev24 quince==0.3.dev10
    winchester==0.56)
# Top-level packages converted with lib2to3.
PACKAGES=(timex simport klugman quincy quince winchester)

log() { echo "stacktach-venv: $*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
    log "$python not found on PATH"
    exit 3
fi
if ! "$python" -c '' >/dev/null 2>&1; then
    log "$python does not run"
    exit 3
fi
if ! is_311 "$python"; then
    log "$python is Python $("$python" -c 'import sys; print(sys.version.split()[0])'), 3.11 is required"
    exit 3
fi

# shellcheck source=venv-lib.sh
. "$(dirname "$script")/venv-lib.sh"
venv_begin "$script"
vpy="$dir/bin/python"
pip=("$vpy" -m pip install --disable-pip-version-check --no-input -q)

log "installing dependencies into $dir"
"${pip[@]}" "${DEPS[@]}"
log "installing ${PEERS[*]}"
# --force-reinstall: a previous, possibly half-converted copy is replaced by pristine sources.
"${pip[@]}" --pre --no-deps --force-reinstall "${PEERS[@]}"

site=$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for pkg in "${PACKAGES[@]}"; do
    log "lib2to3: $pkg"
    # lib2to3 prints every diff and a deprecation warning; keep them out unless it fails.
    if ! out=$("$vpy" -W ignore -m lib2to3 -w -n "$site/$pkg" 2>&1); then
        echo "$out" >&2
        log "lib2to3 failed on $pkg"
        exit 1
    fi
done

# winchester fix 1: the collections ABC aliases are gone since Python 3.10.
for f in config.py definition.py; do
    sed -i -E \
        -e 's/^import collections$/import collections.abc/' \
        -e 's/collections\.(Mapping|MutableMapping|Sequence)\b/collections.abc.\1/g' \
        "$site/winchester/$f"
done
# winchester fix 2: text is already str; decoding it fails. The line goes (a `pass` keeps the
# enclosing `if` valid).
sed -i -E "s/^([[:space:]]*)value = value\.decode\('utf8', 'ignore'\)[[:space:]]*$/\1pass/" \
    "$site/winchester/models.py"
if grep -q "value.decode('utf8', 'ignore')" "$site/winchester/models.py" \
    || grep -Eq 'collections\.(Mapping|MutableMapping|Sequence)\b' \
        "$site/winchester/config.py" "$site/winchester/definition.py"; then
    log "the winchester fixes did not apply"
    exit 1
fi
# Stale bytecode of the Python 2 sources (pip may have tried to compile them).
find "${PACKAGES[@]/#/$site/}" -name __pycache__ -type d -prune -exec rm -rf {} +

log "checking the install"
"$vpy" -c 'import quincy.api, quince.v1_impl, winchester.db, klugman.v1, timex, simport'
if ! help=$("$dir/bin/klugman" --help 2>&1); then
    echo "$help" >&2
    log "\`klugman --help\` failed"
    exit 1
fi
case "$help" in
    *Usage*|*usage*) ;;
    *) echo "$help" >&2; log "\`klugman --help\` printed no usage"; exit 1 ;;
esac
echo "$key" >"$marker"
log "ready: $dir"
