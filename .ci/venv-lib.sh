# Sourced by .ci/e2e-venv.sh and .ci/stacktach-venv.sh: what preparing a test virtualenv shares.
# The caller sets `python` (the interpreter the venv is made from), `dir` (the venv), `marker`
# (a file in it) and defines `log`; `venv_begin KEYFILE` then returns at once (exit 0) when the
# venv was made from KEYFILE and this Python and still runs, and otherwise leaves a runnable venv
# (rebuilt when its interpreter no longer runs) for the caller to install into, under a lock
# against a concurrent run; the caller writes "$key" to "$marker" when its install succeeded.

venv_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 | cut -d' ' -f1
    else
        "$python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
    fi
}

venv_up_to_date() {
    [ -x "$dir/bin/python" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$key" ] \
        && "$dir/bin/python" -c '' >/dev/null 2>&1
}

venv_begin() {
    key=$({ cat "$1"; "$python" -c 'import sys; print(sys.version)'; } | venv_sha256)
    if venv_up_to_date; then
        exit 0
    fi
    mkdir -p "$(dirname "$dir")"
    # Serialise concurrent runs (two test processes preparing the same venv).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$dir.lock"
        flock 9
        if venv_up_to_date; then
            exit 0
        fi
    fi
    # A venv whose interpreter no longer runs (the base Python changed) is rebuilt; only a folder
    # that is recognisably a venv is ever removed.
    if [ -f "$dir/pyvenv.cfg" ] && ! "$dir/bin/python" -c '' >/dev/null 2>&1; then
        rm -rf "$dir"
    fi
    if [ ! -x "$dir/bin/python" ]; then
        log "creating $dir"
        "$python" -m venv "$dir"
    fi
    rm -f "$marker"
}
