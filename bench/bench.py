#!/usr/bin/env python3
"""Benchmark driver for testgraph and its peers (PostGraphile, monitor-server-api).

Called by bench/run.sh, which builds the binaries and finds or installs the peers first; see
bench/README.md for what is measured. Standard library only. Everything it starts listens on
127.0.0.1, and every load run is bounded in time.
"""

import argparse
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WRK_DIR = os.path.join(BENCH, "wrk")
CLK_TCK = os.sysconf("SC_CLK_TCK")

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", "5432", "postgres"
TG_DB, MSA_DB = "tg_bench", "msa_bench"
PORTS = {"tg_pg": 18081, "tg_sqlite": 18082, "postgraphile": 18083, "msa": 18084}
# Both pytest-monitor servers page their REST lists by this many rows (the flat-list size).
REST_PAGE = 100
INGEST_ROWS = 5000
# Tasks the test-result ingestion cases cycle through (see the request bodies).
INGEST_TASKS = 160
MSA_WORKERS = 4  # monitor-server-api's own launcher default (launch-monitor-server.sh -w)

FULL = dict(versions=1000, builds=10, tasks=20, results=10, metrics=100_000, sessions=1000,
            contexts=10, jobs=100_000, builds_per_job=4, xpr_requests=10_000, duration=12,
            warmup=3, single_duration=8)
QUICK = dict(versions=30, builds=10, tasks=20, results=10, metrics=3000, sessions=30,
             contexts=4, jobs=3000, builds_per_job=4, xpr_requests=300, duration=2, warmup=1,
             single_duration=2)

NESTED_TG = ("{evergreenVersions(first:20){edges{node{builds(first:10){edges{node{"
             "tasks(first:5){edges{node{testResults(first:5){edges{node{testFile}}}}}}}}}}}}}")
FLAT_FIELDS = "item itemPath itemVariant kind component totalTime userTime kernelTime cpuUsage memUsage"
FLAT_TG = "{monitorMetrics(first:100){edges{node{id sessionH %s}}}}" % FLAT_FIELDS
POINT_FIELDS = "displayName status variant activated createTime timeTakenNs"
POINT_TG = "query($id:String!){evergreenTask(id:$id){id %s}}" % POINT_FIELDS
# KernelCI: the seeder spreads the jobs over ten trees; both KernelCI cases read one tree's
# newest jobs (a filter and a sort), the list through the legacy REST route, the tree with each
# job's builds (and their count) through GraphQL.
KCI_TREE = "next"
KCI_PAGE = 20
KCI_BUILDS = 10
KCI_JOB_FIELDS = "kernel status"
KCI_BUILD_FIELDS = "arch defconfig status"
KCI_TG = ("{kernelciJobs(first:%d,filter:{job:[\"%s\"]},orderBy:{field:CREATED_ON,direction:DESC})"
          "{edges{node{id %s builds(first:%d){totalCount edges{node{%s}}}}}}}" % (
              KCI_PAGE, KCI_TREE, KCI_JOB_FIELDS, KCI_BUILDS, KCI_BUILD_FIELDS))
KCI_REST = "/jobs?job=%s&sort=created_on&limit=%d" % (KCI_TREE, KCI_PAGE)
# XPRESSO: the seeder's group `bench` holds `xpr_requests` finished requests (every fourth a
# bundle of three items, the others one item), each item with run results of 3 scripts of 5
# sections. The list is the legacy route's first page (`Authorization: Jwt <token>`); the tree
# is that page through GraphQL with every level below it and each level's totalCount.
XPR_PAGE = 20
XPR_REST = "/api/v1/requests?limit=%d" % XPR_PAGE
XPR_TG = ("{xpressoRequests(first:%d){totalCount edges{node{requestId state verdict "
          "consolidatedSummary{totalTasks successRate} items(first:5){totalCount edges{node{"
          "itemId state run{summary{pass fail} scripts(first:5){totalCount edges{node{taskId "
          "sections(first:10){totalCount edges{node{sectionId result}}}}}}}}}}}}}}" % XPR_PAGE)


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Processes, /proc, PostgreSQL
# --------------------------------------------------------------------------------------------

def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def psql(db, sql):
    return sh(["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", db, "-v",
               "ON_ERROR_STOP=1", "-Atqc", sql])


def proc_children():
    kids = {}
    for st in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(st) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append(int(st.split("/")[2]))
    return kids


def tree(pid):
    kids, out, todo = proc_children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_by_pid(pids, reaped=()):
    """utime + stime per process; for the pids in `reaped` also the CPU of their exited, reaped
    children (cutime + cstime), which is how short-lived processes such as PostgreSQL's
    parallel workers stay accounted for."""
    out = {}
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        out[p] = int(rest[11]) + int(rest[12])  # utime, stime (fields 14 and 15)
        if p in reaped:
            out[p] += int(rest[13]) + int(rest[14])  # cutime, cstime (fields 16 and 17)
    return out


def cpu_delta(before, after, reaped=False):
    """Ticks spent between two `cpu_by_pid` samples by the processes alive at the second one (a
    process that started in between counts whole). With `reaped`, a process that exited in
    between is found again in its parent's cutime/cstime, with its whole life: what it had
    already spent at the first sample is taken off again."""
    spent = sum(t - before.get(p, 0) for p, t in after.items())
    if reaped:
        spent -= sum(t for p, t in before.items() if p not in after)
    return spent


def status_kb(pids, key):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def reset_peak(pids):
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    for p in pids:
        try:
            with open("/proc/%d/clear_refs" % p, "w") as f:
                f.write("5")
        except OSError:
            pass


_POSTMASTER = []


def postmaster():
    """The PostgreSQL postmaster: the parent of the checkpointer."""
    if not _POSTMASTER:
        pid = int(psql("postgres", "select pid from pg_stat_activity "
                                   "where backend_type = 'checkpointer'").split()[0])
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        _POSTMASTER.append(int(s[s.rindex(")") + 2:].split()[1]))
    return _POSTMASTER[0]


def pg_cpu():
    """CPU ticks of the whole PostgreSQL cluster: live processes (backends, WAL writer,
    checkpointer, autovacuum) plus the exited children the postmaster reaped (parallel
    workers, ended connections)."""
    pm = postmaster()
    return cpu_by_pid(tree(pm), reaped=(pm,))


def busy_processes():
    """Compilers, test binaries and CI scripts running on the machine (by executable name and
    first arguments, not by whole command lines, which may merely mention ~/.cargo in $PATH)."""
    me = {os.getpid(), os.getppid()}
    busy = []
    for d in glob.glob("/proc/[0-9]*"):
        pid = int(d.split("/")[2])
        if pid in me:
            continue
        try:
            with open(d + "/comm") as f:
                comm = f.read().strip()
            with open(d + "/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        head = " ".join(a.decode("utf-8", "replace") for a in argv[:2])
        if comm in ("cargo", "rustc", "cargo-clippy", "clippy-driver", "rustdoc") \
                or ".ci/run" in head:
            busy.append("%d %s" % (pid, " ".join(a.decode("utf-8", "replace")
                                                  for a in argv[:4])[:160]))
    return busy


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    try:
        commit = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
        # Only changes to the server's own code make the commit an inexact description.
        dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "entity",
                    "migration", "Cargo.toml", "Cargo.lock"]).strip()
        commit += " (with uncommitted changes to the server)" if dirty else ""
    except Exception:
        commit = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": os.uname().release,
        "postgres": psql("postgres", "show server_version").strip(),
        "wrk": (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
                .splitlines() or ["?"])[0].split(" Copyright")[0],
        "commit": commit,
    }


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

def http(method, url, body=None, timeout=60, extra_headers=None):
    data = body if body is None or isinstance(body, bytes) else body.encode()
    # Only bodies get a content type: Flask (monitor-server-api) answers 400 to a bodiless
    # request that claims JSON.
    headers = {"Content-Type": "application/json"} if data is not None else {}
    headers.update(extra_headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def gql(url, query, variables=None):
    st, body = http("POST", url, json.dumps({"query": query, "variables": variables or {}}))
    doc = json.loads(body)
    if st != 200 or doc.get("errors"):
        raise RuntimeError("GraphQL %s at %s: %s" % (st, url, body[:600]))
    return doc["data"]


class Server:
    """One server under test, started in its own process group and stopped by its pid."""

    def __init__(self, name, cmd, env, port, ready_path, logdir, db=None):
        self.name, self.cmd, self.port, self.ready_path, self.db = name, cmd, port, ready_path, db
        self.env = dict(os.environ, **env)
        self.logpath = os.path.join(logdir, name + ".log")
        self.proc = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=120):
        log("starting", self.name)
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start; see %s" % (self.name, self.logpath))
            try:
                st, _ = http("GET", self.base + self.ready_path, timeout=2)
                if st < 500:
                    return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.3)
        raise RuntimeError("%s not ready after %ss; see %s" % (self.name, timeout, self.logpath))

    def pids(self):
        return tree(self.proc.pid)

    def stop(self):
        if self.proc is None:
            return
        log("stopping", self.name)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self.logf.close()
        self.proc = None


# --------------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------------

def wrk(url, script, args=(), conns=4, threads=2, duration=10):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration, "--timeout", "30s",
           "-s", os.path.join(WRK_DIR, script), url]
    if args:
        cmd += ["--"] + list(args)
    out = subprocess.run(cmd, text=True, capture_output=True, timeout=duration + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[8:])
    raise RuntimeError("wrk gave no report: %s %s" % (out.stdout[-800:], out.stderr[-800:]))


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

class Case:
    """One request shape against one server: how to send it once (for statement counts and
    equivalence checks) and how to load it with wrk."""

    def __init__(self, key, server, path, script, body_file=None, rows=None, conns=4, threads=2,
                 method="GET", token_file=None):
        self.key, self.server, self.path, self.script = key, server, path, script
        self.body_file, self.rows, self.conns, self.threads = body_file, rows, conns, threads
        # A file holding the `Authorization` value (KernelCI's routes; get_auth.lua sends it).
        self.method, self.token_file = method, token_file

    def one_body(self):
        if self.body_file is None:
            return None
        with open(self.body_file, "rb") as f:
            data = f.read()
        return data.split(b"\n")[0] if self.script == "post_cycle.lua" else data

    def send_once(self):
        auth = None
        if self.token_file:
            with open(self.token_file) as f:
                auth = {"Authorization": f.readline().strip()}
        st, body = http(self.method, self.server.base + self.path, self.one_body(),
                        extra_headers=auth)
        if st >= 300:
            raise RuntimeError("%s on %s: HTTP %s %s" % (self.key, self.server.name, st, body[:400]))
        if body[:1] in (b"{", b"["):
            doc = json.loads(body)
            if isinstance(doc, dict) and doc.get("errors"):
                raise RuntimeError("%s on %s: %s" % (self.key, self.server.name, body[:600]))
            return doc
        return None

    def load(self, dur, warm):
        # get_auth.lua takes the token file; post.lua the body file, then the token file if any.
        args = [self.body_file] if self.body_file else []
        if self.token_file:
            args.append(self.token_file)
        url = self.server.base + self.path
        if warm:
            wrk(url, self.script, args, self.conns, self.threads, warm)
        pids = self.server.pids()
        db = self.server.db
        reset_peak(pids)
        c0 = cpu_by_pid(pids)
        d0 = pg_cpu() if db else {}
        r = wrk(url, self.script, args, self.conns, self.threads, dur)
        c1 = cpu_by_pid(self.server.pids())
        d1 = pg_cpu() if db else {}
        n = max(r["requests"], 1)
        secs = r["duration_us"] / 1e6
        lat = r["latency_us"]
        errors = sum(r["errors"].values())
        out = {
            "requests": r["requests"],
            "errors": errors,
            "error_detail": r["errors"],
            "rps": round(r["requests"] / secs, 1),
            "p50_ms": round(lat["p50"] / 1000, 2),
            "p99_ms": round(lat["p99"] / 1000, 2),
            "cpu_ms_per_req": round(cpu_delta(c0, c1) / CLK_TCK * 1000 / n, 3),
            "db_cpu_ms_per_req": (round(cpu_delta(d0, d1, reaped=True) / CLK_TCK * 1000 / n, 3)
                                  if db else None),
            "cpu_util_cores": round(cpu_delta(c0, c1) / CLK_TCK / secs, 2),
            "peak_mb": round(status_kb(pids, "VmHWM") / 1024, 1),
            "conns": self.conns,
            "seconds": round(secs, 1),
        }
        if self.rows:
            out["rows_per_s"] = round(out["rps"] * self.rows)
        log("  %-18s %-13s %8.1f req/s p50 %7.2f ms p99 %7.2f ms cpu %.3f ms/req peak %.1f MB%s" % (
            self.key, self.server.name, out["rps"], out["p50_ms"], out["p99_ms"],
            out["cpu_ms_per_req"], out["peak_mb"], " ERRORS %d" % errors if errors else ""))
        return out


class Alone:
    """A pseudo-server: the database with no server in front of it (see `AloneCase`)."""

    def __init__(self, name):
        self.name = name


def run_child(cmd, timeout):
    """Runs cmd to its end; returns its stdout and the CPU seconds it used (its own rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = time.time() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                raise RuntimeError("%s ran past %s s" % (cmd[0], timeout))
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if p.returncode != 0:
        raise RuntimeError("%s failed (%s): %s" % (cmd[0], p.returncode, stderr[-800:]))
    return stdout, ru.ru_utime + ru.ru_stime


def percentile_ms(lat_us, q):
    if not lat_us:
        raise RuntimeError("no latencies were recorded")
    return round(lat_us[min(len(lat_us) - 1, len(lat_us) * q // 100)] / 1000, 2)


class AloneCase:
    """The database itself doing the writes of one testgraph case, with no server in front:
    pgbench running the SQL testgraph sends (4 clients on 2 threads, as wrk), or for SQLite one
    writer (`sqlite_alone.py`). No server can store rows faster than its database does on the
    same machine, so this is the ceiling a write target is measured against. It runs right before
    testgraph's own case, while testgraph's server idles, on the same tables."""

    def __init__(self, key, server, rows, pgbench_script=None, pgbench_vars=(),
                 sqlite=None, db=TG_DB, sqlite_script="sqlite_alone.py", protocol="prepared"):
        self.key, self.server, self.rows = key, server, rows
        self.pgbench_script, self.pgbench_vars, self.sqlite = pgbench_script, pgbench_vars, sqlite
        # The database pgbench runs in, and the SQLite writer (bench/stacktach.py has its own).
        self.db, self.sqlite_script, self.protocol = db, sqlite_script, protocol
        # SQLite takes one writer at a time, but readers side by side (as many as wrk's
        # connections, the size of testgraph's SQLite pool).
        self.conns = 4 if pgbench_script or sqlite[1] == "read" else 1

    def _pgbench(self, dur, log_prefix=None):
        cmd = ["pgbench", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-n", "-M", self.protocol,
               "-c", "4", "-j", "2", "-T", str(dur), "-f", self.pgbench_script]
        for k, v in self.pgbench_vars:
            cmd += ["-D", "%s=%s" % (k, v)]
        if log_prefix:
            cmd += ["-l", "--log-prefix", log_prefix]
        return run_child(cmd + [self.db], dur + 120)

    def load(self, dur, warm):
        if self.pgbench_script:
            if warm:
                self._pgbench(warm)
            logdir = tempfile.mkdtemp(prefix="pgbench.")
            try:
                d0 = pg_cpu()
                out, cpu_s = self._pgbench(dur, os.path.join(logdir, "tx"))
                d1 = pg_cpu()
                # Each line: client, transaction, latency in µs, script, epoch s, µs.
                lat = sorted(int(line.split()[2]) for f in glob.glob(os.path.join(logdir, "tx*"))
                             for line in open(f))
            finally:
                shutil.rmtree(logdir, ignore_errors=True)
            m = re.search(r"number of transactions actually processed: (\d+)", out)
            n = int(m.group(1)) if m else len(lat)
            failed = re.search(r"number of failed transactions: (\d+)", out)
            errors = int(failed.group(1)) if failed else 0
            m = re.search(r"duration: (\d+) s", out)
            secs = float(m.group(1)) if m else float(dur)
            db_ms = round(cpu_delta(d0, d1, reaped=True) / CLK_TCK * 1000 / max(n, 1), 3)
            p50, p99 = percentile_ms(lat, 50), percentile_ms(lat, 99)
            what = "pgbench"
        else:
            db_path, mode, rows_file = self.sqlite
            out, _ = run_child([sys.executable, os.path.join(BENCH, self.sqlite_script),
                                db_path, mode, rows_file, str(dur), str(warm)], dur + warm + 120)
            r = json.loads(out.strip().splitlines()[-1])
            n, secs, errors, cpu_s = r["commits"], r["seconds"], 0, r["cpu_s"]
            p50, p99 = round(r["p50_ms"], 2), round(r["p99_ms"], 2)
            db_ms = None
            what = "SQLite %s" % r["sqlite_version"]
        res = {
            "requests": n,
            "errors": errors,
            "error_detail": {},
            "rps": round(n / secs, 1),
            "p50_ms": p50,
            "p99_ms": p99,
            # The client's own CPU: pgbench, or for SQLite the writer, SQLite included.
            "cpu_ms_per_req": round(cpu_s * 1000 / max(n, 1), 3),
            "db_cpu_ms_per_req": db_ms,
            "cpu_util_cores": round(cpu_s / secs, 2),
            "peak_mb": None,
            "conns": self.conns,
            "seconds": round(secs, 1),
            "client": what,
        }
        if self.rows:
            res["rows_per_s"] = round(res["rps"] * self.rows)
        log("  %-18s %-13s %8.1f tx/s p50 %7.2f ms p99 %7.2f ms client cpu %.3f ms/tx (%s)" % (
            self.key, self.server.name, res["rps"], res["p50_ms"], res["p99_ms"],
            res["cpu_ms_per_req"], what))
        return res


# The statements testgraph sends for these cases (src/service/monitor/mod.rs: `add_metric` and
# `insert_metrics_pg`; src/service/evergreen/lifecycle.rs: `insert_results_pg`), for pgbench.
# The hashes are bound as parameters (-D, prepared mode); the batches are literals.
POST_METRIC_SQL = (
    'INSERT INTO "monitor_metrics" ("session_id", "context_id", "session_h", "context_h", '
    '"item_start_time", "item_start_at", "item_path", "item", "item_variant", "item_fs_loc", '
    '"kind", "component", "total_time", "user_time", "kernel_time", "cpu_usage", "mem_usage") '
    'SELECT "monitor_sessions"."id", "monitor_contexts"."id", "monitor_sessions"."h", '
    '"monitor_contexts"."h", %(start)s, %(at)s::timestamp, %(item_path)s, %(item)s, '
    '%(item_variant)s, %(item_fs_loc)s, %(kind)s, %(component)s, %(total_time)r, '
    '%(user_time)r, %(kernel_time)r, %(cpu_usage)r, %(mem_usage)r FROM "monitor_sessions" '
    'INNER JOIN "monitor_contexts" ON "monitor_contexts"."h" = :ch '
    'WHERE "monitor_sessions"."h" = :sh;\n')
BULK_METRICS_SQL = (
    "INSERT INTO monitor_metrics (session_id, context_id, session_h, context_h, "
    "item_start_time, item_start_at, item_path, item, item_variant, item_fs_loc, kind, "
    "component, total_time, user_time, kernel_time, cpu_usage, mem_usage) "
    "SELECT r.s, r.c, r.sh, r.ch, r.start, r.at, r.path, r.item, r.variant, r.loc, r.kind, "
    "r.component, r.total, r.usr, r.kernel, r.cpu, r.mem "
    "FROM ROWS FROM (json_to_recordset(%s::json) AS (s int8, c int8, sh text, ch text, "
    "start text, at timestamp, path text, item text, variant text, loc text, kind text, "
    "component text, total float8, usr float8, kernel float8, cpu float8, mem float8)) "
    "WITH ORDINALITY AS r(s, c, sh, ch, start, at, path, item, variant, loc, kind, component, "
    "total, usr, kernel, cpu, mem, ord) ORDER BY r.ord;\n")


BULK_RESULTS_SQL = (
    "\\set i random(1, %(n)d)\n"
    "INSERT INTO evg_test_results (task_id, execution, test_file, status, url, log_id, "
    "line_num, exit_code, start_s, end_s) "
    "SELECT (ARRAY[%(ids)s]::int8[])[:i], (ARRAY[%(execs)s]::int4[])[:i], r.test_file, "
    "r.status, r.url, r.log_id, r.line_num, r.exit_code, r.start_s, r.end_s "
    "FROM ROWS FROM (json_to_recordset(%(json)s::json) AS (test_file text, status text, url text, "
    "log_id text, line_num int4, exit_code int4, start_s float8, end_s float8)) "
    "WITH ORDINALITY AS r(test_file, status, url, log_id, line_num, exit_code, start_s, end_s, "
    "ord) ORDER BY r.ord;\n")


# The three statements testgraph sends for `GET /jobs?job=…&sort=created_on&limit=20`, as
# PostgreSQL logs them: the token's look-up by the SHA-256 of its secret (src/service/tokens.rs),
# then the page and the count side by side on two connections (src/service/kernelci/jobs.rs:
# `list_jobs`, `count_jobs`). For pgbench, prepared, so the hash, the tree (an array), the limit
# and the offset are parameters, as sqlx binds them; and the same three for SQLite.
KCI_TOKEN_COLS = ('"api_tokens"."id", "api_tokens"."name", "api_tokens"."secret_hash", '
                  '"api_tokens"."scopes", "api_tokens"."group_name", "api_tokens"."created_at", '
                  '"api_tokens"."revoked_at"')
KCI_TOKEN_PG = ('SELECT %s FROM "api_tokens" WHERE "api_tokens"."secret_hash" = :hash '
                'AND "api_tokens"."revoked_at" IS NULL LIMIT 1;\n' % KCI_TOKEN_COLS)
KCI_LIST_PG = (
    'SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY(:trees) ORDER BY '
    '"kci_jobs"."created_on" DESC, "kci_jobs"."id" DESC LIMIT :limit OFFSET :offset;\n')
KCI_COUNT_PG = 'SELECT COUNT(*) AS "n" FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY(:trees);\n'
KCI_TOKEN_SQLITE = ('SELECT %s FROM "api_tokens" WHERE "api_tokens"."secret_hash" = ? '
                    'AND "api_tokens"."revoked_at" IS NULL LIMIT 1' % KCI_TOKEN_COLS)
KCI_LIST_SQLITE = (
    'SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" IN (?) ORDER BY '
    '"kci_jobs"."created_on" DESC, "kci_jobs"."id" DESC LIMIT ? OFFSET ?')
KCI_COUNT_SQLITE = 'SELECT COUNT(*) AS "n" FROM "kci_jobs" WHERE "kci_jobs"."job" IN (?)'


def sql_text(s):
    return "'%s'" % s.replace("'", "''")


def pgbench_scripts(bodies, metric, batch, task_ids, results):
    """pgbench scripts for the one-metric POST, the 5,000-metric batch (`batch`: metrics with
    snake_case keys, as POSTed) and the 5,000-result batch into a task drawn from `task_ids`,
    with the row ids the server would have looked up."""
    post = os.path.join(bodies, "pgbench_post_metric.sql")
    write(post, POST_METRIC_SQL % dict(
        {k: sql_text(v) if isinstance(v, str) else v for k, v in metric.items()},
        start=sql_text(metric["item_start_time"]),
        at=sql_text(metric["item_start_time"][:26].replace("T", " "))))
    hs = sorted({m["session_h"] for m in batch})
    cs = sorted({m["context_h"] for m in batch})
    ids = {}
    for table, hashes in (("monitor_sessions", hs), ("monitor_contexts", cs)):
        for line in psql(TG_DB, "SELECT h || ' ' || id FROM %s WHERE h IN (%s)" % (
                table, ", ".join(sql_text(h) for h in hashes))).split("\n"):
            if line:
                h, i = line.split()
                ids[h] = int(i)
    rows = [{"s": ids[m["session_h"]], "c": ids[m["context_h"]], "sh": m["session_h"],
             "ch": m["context_h"], "start": m["item_start_time"],
             "at": m["item_start_time"][:26].replace("T", " "), "path": m["item_path"],
             "item": m["item"], "variant": m["item_variant"], "loc": m["item_fs_loc"],
             "kind": m["kind"], "component": m["component"], "total": m["total_time"],
             "usr": m["user_time"], "kernel": m["kernel_time"], "cpu": m["cpu_usage"],
             "mem": m["mem_usage"]} for m in batch]
    bulk = os.path.join(bodies, "pgbench_bulk_metrics.sql")
    write(bulk, BULK_METRICS_SQL % sql_text(json.dumps(rows, separators=(",", ":"))))
    tasks = [line.split() for line in psql(TG_DB, "SELECT id || ' ' || execution FROM evg_tasks "
                                           "WHERE task_id IN (%s)" % ", ".join(
                                               sql_text(t) for t in task_ids)).split("\n") if line]
    rows = [{"test_file": r["testFile"], "status": r["status"], "url": r["url"],
             "log_id": r["logId"], "line_num": r["lineNum"], "exit_code": r["exitCode"],
             "start_s": r["start"], "end_s": r["end"]} for r in results]
    bulk_results = os.path.join(bodies, "pgbench_bulk_results.sql")
    write(bulk_results, BULK_RESULTS_SQL % {
        "n": len(tasks), "ids": ", ".join(t[0] for t in tasks),
        "execs": ", ".join(t[1] for t in tasks),
        "json": sql_text(json.dumps(rows, separators=(",", ":")))})
    return post, bulk, bulk_results


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def gql_body(query, variables=None):
    return json.dumps({"query": query, "variables": variables or {}}, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# PostGraphile: discover the names it generated for testgraph's tables
# --------------------------------------------------------------------------------------------

INTROSPECT = """{ __schema { queryType { name } types { name kind enumValues { name }
  fields { name args { name } type { name kind ofType { name kind ofType { name kind
  ofType { name kind } } } } } } } }"""


def unwrap(t):
    while t.get("ofType"):
        t = t["ofType"]
    return t["name"]


def postgraphile_queries(url):
    schema = gql(url, INTROSPECT)["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    query_type = types[schema["queryType"]["name"]]

    def field(type_name, returns, args=None, prefer=""):
        cands = [f for f in types[type_name]["fields"] or [] if unwrap(f["type"]) == returns
                 and (args is None or sorted(a["name"] for a in f["args"]) == sorted(args))]
        if prefer:
            cands.sort(key=lambda f: prefer not in f["name"])
        if not cands:
            raise RuntimeError("PostGraphile: no field of %s returning %s" % (type_name, returns))
        return cands[0]["name"]

    def order(node, wanted):
        values = {v["name"] for v in types[node + "OrderBy"]["enumValues"]}
        for w in wanted:
            if w not in values:
                raise RuntimeError("PostGraphile: %sOrderBy has no %s (has %s)" % (
                    node, w, sorted(values)))
        return "[" + ",".join(wanted) + "]"

    q = query_type["name"]
    versions = [f["name"] for f in query_type["fields"]
                if unwrap(f["type"]) == "EvgVersionConnection"
                and "orderBy" in [a["name"] for a in f["args"]]][0]
    builds = field("EvgVersion", "EvgBuildConnection", prefer="VersionId")
    tasks = field("EvgBuild", "EvgTaskConnection", prefer="BuildId")
    results = field("EvgTask", "EvgTestResultConnection", prefer="TaskId")
    metrics = [f["name"] for f in query_type["fields"]
               if unwrap(f["type"]) == "MonitorMetricConnection"
               and "orderBy" in [a["name"] for a in f["args"]]][0]
    metric_fields = {f["name"] for f in types["MonitorMetric"]["fields"]}
    metric_id = "rowId" if "rowId" in metric_fields else "id"
    metric_session = field("MonitorMetric", "MonitorSession", prefer="SessionId")
    task_by_id = field(q, "EvgTask", ["taskId"])
    task_fields = {f["name"] for f in types["EvgTask"]["fields"]}
    missing = [f for f in POINT_FIELDS.split() + FLAT_FIELDS.split()
               if f not in task_fields and f not in metric_fields]
    if missing:
        raise RuntimeError("PostGraphile lacks fields %s" % missing)
    nested = ("{%s(first:20,orderBy:%s){edges{node{%s(first:10,orderBy:%s){edges{node{"
              "%s(first:5,orderBy:%s){edges{node{%s(first:5,orderBy:%s){edges{node{testFile}}}}}}}}}}}}}" % (
                  versions, order("EvgVersion", ["ORDER_NUM_DESC", "PRIMARY_KEY_DESC"]),
                  builds, order("EvgBuild", ["POSITION_ASC", "PRIMARY_KEY_ASC"]),
                  tasks, order("EvgTask", ["POSITION_ASC", "PRIMARY_KEY_ASC"]),
                  results, order("EvgTestResult", ["PRIMARY_KEY_ASC"])))
    flat = "{%s(first:100,orderBy:%s){edges{node{%s %s{h} %s}}}}" % (
        metrics, order("MonitorMetric", ["PRIMARY_KEY_ASC"]), metric_id, metric_session,
        FLAT_FIELDS)
    point = "query($id:String!){%s(taskId:$id){taskId %s}}" % (task_by_id, POINT_FIELDS)
    # KernelCI: kci_jobs with their builds (the foreign key kci_builds.job_id), one tree's
    # newest jobs first (then the newest id, as testgraph breaks ties), each job's builds in
    # insertion order.
    jobs = [f["name"] for f in query_type["fields"]
            if unwrap(f["type"]) == "KciJobConnection"
            and {"orderBy", "condition"} <= {a["name"] for a in f["args"]}][0]
    job_builds = field("KciJob", "KciBuildConnection", prefer="JobId")
    job_fields = {f["name"] for f in types["KciJob"]["fields"]}
    # Aliased to testgraph's names, so that the two answers also compare with sorted keys.
    job_id = "id:oid" if "oid" in job_fields else "id"
    kci = ("{%s(first:%d,condition:{job:\"%s\"},orderBy:%s){edges{node{%s %s "
           "builds:%s(first:%d,orderBy:%s){totalCount edges{node{%s}}}}}}}" % (
               jobs, KCI_PAGE, KCI_TREE, order("KciJob", ["CREATED_ON_DESC", "PRIMARY_KEY_DESC"]),
               job_id, KCI_JOB_FIELDS, job_builds, KCI_BUILDS,
               order("KciBuild", ["PRIMARY_KEY_ASC"]), KCI_BUILD_FIELDS))
    names = dict(versions=versions, builds=builds, tasks=tasks, results=results,
                 metrics=metrics, metric_id=metric_id, metric_session=metric_session,
                 task_by_id=task_by_id, kci_jobs=jobs, kci_builds=job_builds)
    return dict(nested=nested, flat=flat, point=point, kci_tree=kci, names=names)


# --------------------------------------------------------------------------------------------
# Equivalence: the same rows, in the same order, from both GraphQL servers
# --------------------------------------------------------------------------------------------

def leaves(doc, skip=(), sort_keys=False):
    """Scalar values in document order (or with every object's keys sorted), ignoring the keys
    in `skip`."""
    out = []
    if isinstance(doc, dict):
        for k, v in (sorted(doc.items()) if sort_keys else doc.items()):
            if k not in skip:
                out.extend(leaves(v, skip, sort_keys))
    elif isinstance(doc, list):
        for v in doc:
            out.extend(leaves(v, skip, sort_keys))
    else:
        out.append(doc)
    return out


def normalise(v):
    # testgraph answers RFC 3339 with a zone, PostGraphile a zoneless timestamp: compare instants.
    if isinstance(v, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", v):
        return v[:19]
    # PostGraphile sends bigint columns as strings (its BigInt scalar).
    if isinstance(v, str) and re.match(r"^-?\d+$", v):
        return int(v)
    return v


def same_rows(a, b, sort_keys=False):
    la = [normalise(x) for x in leaves(a, sort_keys=sort_keys)]
    lb = [normalise(x) for x in leaves(b, sort_keys=sort_keys)]
    return la == lb, len(la)


# --------------------------------------------------------------------------------------------
# Statement counts from PostgreSQL's log
# --------------------------------------------------------------------------------------------

def pg_log_path():
    if os.environ.get("BENCH_PG_LOG"):
        return os.environ["BENCH_PG_LOG"]
    logs = sorted(glob.glob("/var/log/postgresql/postgresql-*.log"), key=os.path.getmtime)
    return logs[-1] if logs else None


STMT = re.compile(r"@(\w+) (?:\S+ )?LOG:\s+(?:statement|execute [^:]*): (.*)")


def count_statements(case, logfile):
    """Sends the case once and returns the statements PostgreSQL logged for its database."""
    time.sleep(0.3)
    start = os.path.getsize(logfile)
    case.send_once()
    time.sleep(0.8)
    with open(logfile, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    stmts = []
    for line in text.splitlines():
        m = STMT.search(line)
        if m and m.group(1) == case.server.db:
            stmts.append(m.group(2)[:200])
    return stmts


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

def seed(url, scale, seed_bin, concurrency):
    cmd = [seed_bin, "--database-url", url]
    for k in ("versions", "builds", "tasks", "results", "metrics", "sessions", "contexts",
              "jobs", "builds_per_job", "xpr_requests"):
        cmd += ["--%s" % k.replace("_", "-"), str(scale[k])]
    cmd += ["--concurrency", str(concurrency)]
    log("seeding", url, "with", " ".join(cmd[3:]))
    t = time.time()
    out = sh(cmd)
    summary = json.loads(out.strip().splitlines()[-1])
    summary["wall_seconds"] = round(time.time() - t, 1)
    # The KernelCI and XPRESSO read tokens' secrets stay out of results.json.
    tokens = {"kci": summary.pop("kci_token", None), "xpr": summary.pop("xpr_token", None)}
    log("  seeded in %.1fs: %s; seconds %s" % (summary["wall_seconds"], {k: summary[k] for k in (
        "versions", "builds", "tasks", "test_results", "sessions", "metrics", "kci_jobs",
        "kci_builds", "xpr_requests", "xpr_items")},
        {k: round(v, 1) for k, v in summary["seconds"].items()}))
    return summary, tokens


def fresh_pg_db(name):
    psql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    psql("postgres", "CREATE DATABASE %s" % name)


MSA_COPY = [
    ('"EXECUTION_CONTEXTS" ("ENV_H","CPU_COUNT","CPU_FREQUENCY_MHZ","CPU_TYPE","CPU_VENDOR",'
     '"RAM_TOTAL_MB","MACHINE_NODE","MACHINE_TYPE","MACHINE_ARCH","SYSTEM_INFO","PYTHON_INFO")',
     "SELECT h, cpu_count, cpu_frequency, cpu_type, cpu_vendor, ram_total, machine_node, "
     "machine_type, machine_arch, system_info, python_info FROM monitor_contexts ORDER BY id"),
    ('"TEST_SESSIONS" ("SESSION_H","RUN_DATE","SCM_REF","DESCRIPTION")',
     "SELECT h, run_date, scm_ref, description FROM monitor_sessions ORDER BY id"),
    ('"TEST_METRICS" ("SESSION_H","CONTEXT_H","ITEM_START_TIME","ITEM_PATH","ITEM",'
     '"ITEM_VARIANT","ITEM_FS_LOC","KIND","COMPONENT","TOTAL_TIME","USER_TIME","KERNEL_TIME",'
     '"CPU_USAGE","MEM_USAGE")',
     "SELECT s.h, c.h, m.item_start_time, m.item_path, m.item, m.item_variant, m.item_fs_loc, "
     "m.kind, m.component, m.total_time, m.user_time, m.kernel_time, m.cpu_usage, m.mem_usage "
     "FROM monitor_metrics m JOIN monitor_sessions s ON s.id = m.session_id "
     "JOIN monitor_contexts c ON c.id = m.context_id ORDER BY m.id"),
]


def load_msa(msa_python, env):
    """monitor-server-api creates its own tables (SQLAlchemy create_all); then the very rows
    testgraph stores are copied into them with COPY, in testgraph's id order."""
    subprocess.run([msa_python, "-c", "from monitor_server.app import prepare_app; prepare_app()"],
                   env=dict(os.environ, **env), check=True, cwd=ROOT)
    base = ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-v", "ON_ERROR_STOP=1", "-q"]
    for table, select in MSA_COPY:
        src = subprocess.Popen(base + ["-d", TG_DB, "-c", "COPY (%s) TO STDOUT" % select],
                               stdout=subprocess.PIPE)
        subprocess.run(base + ["-d", MSA_DB, "-c", "COPY %s FROM STDIN" % table],
                       stdin=src.stdout, check=True)
        src.stdout.close()
        if src.wait() != 0:
            raise RuntimeError("COPY out of %s failed" % TG_DB)
    psql(MSA_DB, "ANALYZE")
    return {t.split()[0].strip('"'): int(psql(MSA_DB, "SELECT count(*) FROM %s" % t.split()[0]))
            for t, _ in MSA_COPY}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--testgraph", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--postgraphile", required=True)
    ap.add_argument("--msa-venv", required=True)
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    ap.add_argument("--docs", default=None, help="markdown file whose generated block is replaced")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--wait-idle", type=int, default=1200,
                    help="seconds to wait for compilers/CI on this machine to finish")
    a = ap.parse_args()
    scale = QUICK if a.quick else FULL
    os.makedirs(a.out, exist_ok=True)
    logdir = os.path.join(a.out, "logs")
    bodies = os.path.join(a.out, "bodies")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    os.makedirs(bodies, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tgbench.")
    started = datetime.datetime.now(datetime.timezone.utc)
    res = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "command": a.command,
           "quick": a.quick, "scale": scale, "machine": machine(), "noise": {}}
    res["noise"]["busy_before_seed"] = busy_processes()
    res["noise"]["loadavg_start"] = loadavg()

    # ---- data ------------------------------------------------------------------------------
    fresh_pg_db(TG_DB)
    fresh_pg_db(MSA_DB)
    sqlite_path = os.path.join(tmp, "bench.db")
    pg_url = "postgres://%s@%s:%s/%s" % (PG_USER, PG_HOST, PG_PORT, TG_DB)
    sqlite_url = "sqlite://%s?mode=rwc" % sqlite_path
    (pg_seed, pg_token), (sqlite_seed, sqlite_token) = (seed(pg_url, scale, a.seed, 8),
                                                        seed(sqlite_url, scale, a.seed, 4))
    res["seed"] = {"postgres": pg_seed, "sqlite": sqlite_seed}
    # KernelCI's and XPRESSO's routes need a token on every request; each database has its own.
    # KernelCI's clients send the bare token, XPRESSO's `Jwt <token>`.
    token_files = {s: write(os.path.join(tmp, "kci_token_%s" % s), t["kci"] + "\n")
                   for s, t in (("tg_pg", pg_token), ("tg_sqlite", sqlite_token))}
    xpr_token_files = {s: write(os.path.join(tmp, "xpr_token_%s" % s), "Jwt %s\n" % t["xpr"])
                       for s, t in (("tg_pg", pg_token), ("tg_sqlite", sqlite_token))}
    # GraphQL takes the same token as `Bearer`.
    xpr_bearer_files = {s: write(os.path.join(tmp, "xpr_bearer_%s" % s), "Bearer %s\n" % t["xpr"])
                        for s, t in (("tg_pg", pg_token), ("tg_sqlite", sqlite_token))}
    psql(TG_DB, "VACUUM ANALYZE")
    msa_env = {"FLASK_ENV": "prod",
               "MONITOR_SERVER_DATABASE_URI": "postgresql://%s@%s:%s/%s" % (
                   PG_USER, PG_HOST, PG_PORT, MSA_DB),
               "MONITOR_SERVER_PAGINATION_COUNT": str(REST_PAGE)}
    msa_py = os.path.join(a.msa_venv, "bin", "python")
    res["seed"]["msa"] = load_msa(msa_py, msa_env)
    log("monitor-server-api loaded:", res["seed"]["msa"])
    info = res["seed"]["postgres"]

    # ---- servers ---------------------------------------------------------------------------
    def tg(name, url):
        # No StackTach pipeline worker: the bench holds no StackTach data, and its polls (two
        # UPDATEs of stt_streams a pass) would land in every case's statement count.
        return Server(name, [a.testgraph, "serve", "--database-url", url, "--bind",
                             "127.0.0.1:%d" % PORTS[name], "--open-mutations",
                             "--monitor-page-size", str(REST_PAGE), "--no-stacktach-worker"],
                      {"TESTGRAPH_LOG": "warn"}, PORTS[name], "/readyz", logdir,
                      TG_DB if name == "tg_pg" else None)

    tg_pg, tg_sqlite = tg("tg_pg", pg_url), tg("tg_sqlite", sqlite_url)
    pgl = Server("postgraphile",
                 [a.node, a.postgraphile, "-P", "postgraphile/presets/amber", "-c", pg_url, "-s",
                  "public", "-n", "127.0.0.1", "-p", str(PORTS["postgraphile"])],
                 {"NODE_ENV": "production", "GRAPHILE_ENV": "production"},
                 PORTS["postgraphile"], "/graphql", logdir, TG_DB)
    msa = Server("msa",
                 [os.path.join(a.msa_venv, "bin", "gunicorn"), "-w", str(MSA_WORKERS), "-b",
                  "127.0.0.1:%d" % PORTS["msa"], "--log-level", "warning",
                  "monitor_server.uwsgi:WSGI_SERVER"],
                 msa_env, PORTS["msa"], "/api/v1/contexts/count", logdir, MSA_DB)

    # ---- request bodies --------------------------------------------------------------------
    tasks = info["sample_task_ids"]
    sessions, contexts = info["sample_session_hs"], info["context_hs"]
    f_flat = write(os.path.join(bodies, "tg_flat.json"), gql_body(FLAT_TG))
    f_nested = write(os.path.join(bodies, "tg_nested.json"), gql_body(NESTED_TG))
    f_point = write(os.path.join(bodies, "tg_point.jsonl"),
                    "\n".join(gql_body(POINT_TG, {"id": t}) for t in tasks) + "\n")
    f_kci = write(os.path.join(bodies, "tg_kci_tree.json"), gql_body(KCI_TG))
    f_xpr = write(os.path.join(bodies, "tg_xpr_tree.json"), gql_body(XPR_TG))
    # The KernelCI list's statements for the database alone (see KCI_LIST_PG).
    pgb_kci = write(os.path.join(bodies, "pgbench_kci_jobs.sql"),
                    KCI_TOKEN_PG + KCI_LIST_PG + KCI_COUNT_PG)
    f_kci_sqlite = write(os.path.join(bodies, "sqlite_kci_jobs.json"), json.dumps({
        "readers": 4, "statements": [
            [KCI_TOKEN_SQLITE, [hashlib.sha256(sqlite_token["kci"].encode()).hexdigest()]],
            [KCI_LIST_SQLITE, [KCI_TREE, KCI_PAGE, 0]], [KCI_COUNT_SQLITE, [KCI_TREE]]]}))
    metric = {"session_h": sessions[0], "context_h": contexts[0],
              "item_start_time": "2024-06-01T12:00:00.000000", "item_path": "tests.test_bench",
              "item": "test_post", "item_variant": "test_post[1]",
              "item_fs_loc": "tests/test_bench.py", "kind": "function",
              "component": "component_1", "total_time": 0.42, "user_time": 0.4,
              "kernel_time": 0.01, "cpu_usage": 0.97, "mem_usage": 1.5}
    f_post = write(os.path.join(bodies, "post_metric.json"), json.dumps(metric))
    rows = []
    for i in range(INGEST_ROWS):
        rows.append({"sessionH": sessions[i % len(sessions)], "contextH": contexts[i % len(contexts)],
                     "itemStartTime": "2024-06-01T12:%02d:%02d.000000" % (i // 60 % 60, i % 60),
                     "itemPath": "tests.ingest.test_mod_%d" % (i % 50), "item": "test_ingest_%d" % i,
                     "itemVariant": "", "itemFsLoc": "tests/ingest/test_mod_%d.py" % (i % 50),
                     "kind": "function", "component": "component_%d" % (i % 6),
                     "totalTime": 0.5 + i % 100 / 100, "userTime": 0.4, "kernelTime": 0.02,
                     "cpuUsage": 0.9, "memUsage": 12.5})
    f_ingm = write(os.path.join(bodies, "tg_add_metrics.json"), gql_body(
        "mutation($m:[MonitorMetricInput!]!){addMonitorMetrics(input:$m){inserted}}", {"m": rows}))
    results = [{"testFile": "jstests/ingest/test_%05d.js" % i, "status": "pass",
                "url": "https://logs.example.invalid/ingest/%d" % i, "logId": "ingest%d" % i,
                "lineNum": i % 500, "exitCode": 0, "start": 1717243200.0 + i,
                "end": 1717243200.5 + i} for i in range(INGEST_ROWS)]
    # The oldest 160 of the 200 sample tasks (the last few lie in the nested tree's 20 newest
    # versions), one per line: concurrent requests then write to different tasks, as concurrent
    # agents would, instead of queueing on one task's row lock, and no task comes near the
    # server's limit of 100,000 test results a task (a full run writes about 30,000 to each).
    f_bulkm = write(os.path.join(bodies, "bulk_metrics.json"), json.dumps({"input": rows}))
    f_bulkr = write(os.path.join(bodies, "bulk_results.jsonl"), "".join(
        json.dumps({"taskId": t, "results": results}) + "\n" for t in tasks[:INGEST_TASKS]))
    f_ingr = write(os.path.join(bodies, "tg_add_results.jsonl"), "".join(gql_body(
        "mutation($t:String!,$r:[EvergreenTestResultInput!]!)"
        "{addEvergreenTestResults(taskId:$t,results:$r){inserted}}", {"t": t, "r": results}) + "\n"
        for t in tasks[:INGEST_TASKS]))

    # The database alone, for the bulk and one-metric write cases: pgbench with testgraph's
    # statements on PostgreSQL, one Python writer on SQLite (see AloneCase).
    batch = [{"session_h": r["sessionH"], "context_h": r["contextH"],
              "item_start_time": r["itemStartTime"], "item_path": r["itemPath"],
              "item": r["item"], "item_variant": r["itemVariant"], "item_fs_loc": r["itemFsLoc"],
              "kind": r["kind"], "component": r["component"], "total_time": r["totalTime"],
              "user_time": r["userTime"], "kernel_time": r["kernelTime"],
              "cpu_usage": r["cpuUsage"], "mem_usage": r["memUsage"]} for r in rows]
    pgb_post, pgb_bulk, pgb_results = pgbench_scripts(bodies, metric, batch,
                                                      tasks[:INGEST_TASKS], results)
    f_one = write(os.path.join(bodies, "sqlite_one.json"), json.dumps([metric]))
    f_batch = write(os.path.join(bodies, "sqlite_batch.json"), json.dumps(batch))
    f_results = write(os.path.join(bodies, "sqlite_results.json"),
                      json.dumps({"tasks": tasks[:INGEST_TASKS], "results": results}))
    pg_alone, sqlite_alone = Alone("pg_alone"), Alone("sqlite_alone")

    def alone_cases(s):
        if s is tg_pg:
            return {"post_metric": AloneCase("post_metric", pg_alone, None, pgb_post,
                                             [("sh", metric["session_h"]),
                                              ("ch", metric["context_h"])]),
                    "bulk_metrics": AloneCase("bulk_metrics", pg_alone, INGEST_ROWS, pgb_bulk),
                    "bulk_test_results": AloneCase("bulk_test_results", pg_alone, INGEST_ROWS,
                                                   pgb_results),
                    "rest_kci_jobs": AloneCase("rest_kci_jobs", pg_alone, None, pgb_kci,
                                               [("hash", hashlib.sha256(
                                                   pg_token["kci"].encode()).hexdigest()),
                                                ("trees", "{%s}" % KCI_TREE),
                                                ("limit", KCI_PAGE), ("offset", 0)])}
        return {"post_metric": AloneCase("post_metric", sqlite_alone, None,
                                         sqlite=(sqlite_path, "one", f_one)),
                "bulk_metrics": AloneCase("bulk_metrics", sqlite_alone, INGEST_ROWS,
                                          sqlite=(sqlite_path, "batch", f_batch)),
                "bulk_test_results": AloneCase("bulk_test_results", sqlite_alone, INGEST_ROWS,
                                               sqlite=(sqlite_path, "results", f_results)),
                "rest_kci_jobs": AloneCase("rest_kci_jobs", sqlite_alone, None,
                                           sqlite=(sqlite_path, "read", f_kci_sqlite))}

    def with_ceilings(s, cases):
        """Each of those write cases (and the KernelCI list, which has no peer) preceded by
        the same statements from the database alone."""
        alone = alone_cases(s)
        out = []
        for c in cases:
            if c.key in alone:
                out.append(alone[c.key])
            out.append(c)
        return out

    def tg_cases(s):
        return [
            Case("flat_list", s, "/graphql", "post.lua", f_flat, method="POST"),
            Case("point_lookup", s, "/graphql", "post_cycle.lua", f_point, method="POST"),
            Case("nested_tree", s, "/graphql", "post.lua", f_nested, method="POST"),
            Case("nested_tree_1c", s, "/graphql", "post.lua", f_nested, conns=1, threads=1,
                 method="POST"),
            Case("rest_sessions", s, "/api/v1/sessions/", "get.lua"),
            Case("rest_metrics", s, "/api/v1/metrics/", "get.lua"),
            Case("rest_evg_versions", s, "/rest/v1/projects/%s/versions" % info["project"],
                 "get.lua"),
            # KernelCI: one tree's 20 newest jobs (a filter and a sort) through the legacy REST
            # route, with the read token it needs; then the same jobs with their builds and
            # each job's build count through GraphQL.
            Case("rest_kci_jobs", s, KCI_REST, "get_auth.lua", token_file=token_files[s.name]),
            Case("kci_tree", s, "/graphql", "post.lua", f_kci, method="POST"),
            # XPRESSO (token on every request, no runnable peer): the legacy request list's
            # first page, then the same page with its items, results, scripts and sections
            # through GraphQL, with 4 clients and with one.
            Case("rest_xpr_requests", s, XPR_REST, "get_auth.lua",
                 token_file=xpr_token_files[s.name]),
            Case("xpr_tree", s, "/graphql", "post.lua", f_xpr, method="POST",
                 token_file=xpr_bearer_files[s.name]),
            Case("xpr_tree_1c", s, "/graphql", "post.lua", f_xpr, conns=1, threads=1,
                 method="POST", token_file=xpr_bearer_files[s.name]),
            Case("post_metric", s, "/api/v1/metrics/", "post.lua", f_post, method="POST"),
            Case("ingest_metrics", s, "/graphql", "post.lua", f_ingm, rows=INGEST_ROWS,
                 method="POST"),
            Case("ingest_test_results", s, "/graphql", "post_cycle.lua", f_ingr, rows=INGEST_ROWS,
                 method="POST"),
            # The same batches through the bulk routes (same service calls, no GraphQL variable).
            Case("bulk_metrics", s, "/bulk/v1/monitor/metrics", "post.lua", f_bulkm,
                 rows=INGEST_ROWS, method="POST"),
            Case("bulk_test_results", s, "/bulk/v1/evergreen/test_results", "post_cycle.lua",
                 f_bulkr, rows=INGEST_ROWS, method="POST"),
        ]

    def after_ingest(s, body):
        # The ingestion cases grew evg_test_results by a million rows or more (in other tasks).
        # The same tree again, on a freshly started server (new connections, so no plan cached
        # from before), shows how each server's SQL reacts to the bigger table.
        return [Case("nested_tree_after_ingest", s, "/graphql", "post.lua", body, method="POST")]

    def msa_cases(s):
        return [
            Case("rest_sessions", s, "/api/v1/sessions/", "get.lua"),
            Case("rest_metrics", s, "/api/v1/metrics/", "get.lua"),
            Case("post_metric", s, "/api/v1/metrics/", "post.lua", f_post, method="POST"),
        ]

    pgl_cases = None
    stmts = {}
    checks = {}
    servers_used = []
    logfile = pg_log_path()
    res["noise"]["pg_log"] = logfile
    try:
        # ---- phase 1: statements per request and equivalence (PostgreSQL) --------------------
        for db in (TG_DB, MSA_DB):
            psql("postgres", "ALTER DATABASE %s SET log_statement = 'all'" % db)
        can_log = logfile is not None and os.access(logfile, os.R_OK)
        tg_pg.start()
        servers_used.append(tg_pg)
        tg_answers = {}
        for c in tg_cases(tg_pg):
            if not c.key.startswith(("ingest", "post", "bulk")):
                c.send_once()
            if c.key in ("flat_list", "nested_tree", "point_lookup", "kci_tree"):
                tg_answers[c.key] = c.send_once()
            if c.key == "rest_kci_jobs":
                doc = c.send_once()
                res["kci_rest_answer"] = {"count": doc["count"], "results": len(doc["result"])}
                log("  GET %s: count %s, %d jobs" % (KCI_REST, doc["count"], len(doc["result"])))
                if len(doc["result"]) != KCI_PAGE:
                    raise RuntimeError("GET %s answered %d jobs" % (KCI_REST, len(doc["result"])))
            if c.key == "rest_xpr_requests":
                doc = c.send_once()  # a bare array, as XPRESSO answers it
                res["xpr_rest_answer"] = {"results": len(doc or [])}
                log("  GET %s: %d requests" % (XPR_REST, len(doc or [])))
                if len(doc or []) != XPR_PAGE:
                    raise RuntimeError("GET %s answered %d requests" % (XPR_REST, len(doc or [])))
            if can_log and not c.key.endswith("_1c"):
                stmts[("tg_pg", c.key)] = count_statements(c, logfile)
        tg_pg.stop()

        pgl.start()
        servers_used.append(pgl)
        q = postgraphile_queries(pgl.base + "/graphql")
        res["postgraphile_queries"] = q
        pf_flat = write(os.path.join(bodies, "pgl_flat.json"), gql_body(q["flat"]))
        pf_nested = write(os.path.join(bodies, "pgl_nested.json"), gql_body(q["nested"]))
        pf_point = write(os.path.join(bodies, "pgl_point.jsonl"),
                         "\n".join(gql_body(q["point"], {"id": t}) for t in tasks) + "\n")
        pf_kci = write(os.path.join(bodies, "pgl_kci_tree.json"), gql_body(q["kci_tree"]))
        pgl_cases = [
            Case("flat_list", pgl, "/graphql", "post.lua", pf_flat, method="POST"),
            Case("point_lookup", pgl, "/graphql", "post_cycle.lua", pf_point, method="POST"),
            Case("nested_tree", pgl, "/graphql", "post.lua", pf_nested, method="POST"),
            Case("nested_tree_1c", pgl, "/graphql", "post.lua", pf_nested, conns=1, threads=1,
                 method="POST"),
            Case("kci_tree", pgl, "/graphql", "post.lua", pf_kci, method="POST"),
        ]
        for c in pgl_cases:
            c.send_once()
            if c.key in tg_answers:
                theirs = c.send_once()
                same, n = same_rows(tg_answers[c.key], theirs)
                checks[c.key] = {"same_rows": same, "values_compared": n}
                if c.key == "kci_tree":
                    # The KernelCI query aliases PostGraphile's names to testgraph's: the values
                    # compare with each object's keys sorted too, whatever order the fields
                    # come in (GraphQL answers them in the query's order).
                    checks[c.key]["in_query_order"] = same
                    same, n = same_rows(tg_answers[c.key], theirs, sort_keys=True)
                    checks[c.key].update(same_rows=same, values_compared=n)
                log("  equivalence %s: %s (%d values)%s" % (
                    c.key, same, n, "" if checks[c.key].get("in_query_order", True)
                    else "; the fields' order differs"))
            if can_log and c.key != "nested_tree_1c":
                stmts[("postgraphile", c.key)] = count_statements(c, logfile)
        pgl.stop()

        msa.start()
        servers_used.append(msa)
        for c in msa_cases(msa):
            if not c.key.startswith("post"):
                c.send_once()
            if can_log:
                stmts[("msa", c.key)] = count_statements(c, logfile)
        msa.stop()
        for db in (TG_DB, MSA_DB):
            psql("postgres", "ALTER DATABASE %s RESET log_statement" % db)

        # ---- phase 2: load --------------------------------------------------------------------
        waited = 0
        while busy_processes() and waited < a.wait_idle:
            if waited == 0:
                log("waiting for other heavy processes:", busy_processes()[:3])
            time.sleep(30)
            waited += 30
        res["noise"]["waited_for_idle_s"] = waited
        res["noise"]["busy_at_load_start"] = busy_processes()
        res["noise"]["loadavg_load_start"] = loadavg()

        results_by = {}

        def run(server, cases):
            server.start()
            time.sleep(1.0)
            idle = status_kb(server.pids(), "VmRSS") / 1024
            entry = results_by.get(server.name) or {"idle_rss_mb": round(idle, 1), "cases": {}}
            log("%s idle RSS %.1f MB" % (server.name, idle))
            for c in cases:
                dur = scale["single_duration"] if c.conns == 1 else scale["duration"]
                if isinstance(c, AloneCase):
                    dest = results_by.setdefault(c.server.name, {"cases": {}})
                    dest["cases"][c.key] = c.load(scale["duration"], scale["warmup"])
                    continue
                entry["cases"][c.key] = c.load(dur, scale["warmup"])
            time.sleep(2.0)
            entry.setdefault("idle_rss_after_mb",
                             round(status_kb(server.pids(), "VmRSS") / 1024, 1))
            server.stop()
            results_by[server.name] = entry

        # Peers first: testgraph's write cases then grow the shared tables.
        run(pgl, pgl_cases)
        run(msa, msa_cases(msa))
        run(tg_pg, with_ceilings(tg_pg, tg_cases(tg_pg)))
        run(tg_pg, after_ingest(tg_pg, f_nested))
        run(pgl, after_ingest(pgl, pf_nested))
        run(tg_sqlite, with_ceilings(tg_sqlite, tg_cases(tg_sqlite)))
        run(tg_sqlite, after_ingest(tg_sqlite, f_nested))
        res["rows_after_load"] = {t: int(psql(TG_DB, "SELECT count(*) FROM %s" % t))
                                  for t in ("evg_test_results", "monitor_metrics")}
    finally:
        for s in (tg_pg, tg_sqlite, pgl, msa):
            s.stop()
        for db in (TG_DB, MSA_DB):
            try:
                psql("postgres", "ALTER DATABASE %s RESET log_statement" % db)
            except Exception:
                pass
        shutil.rmtree(tmp, ignore_errors=True)

    res["noise"]["loadavg_end"] = loadavg()
    res["noise"]["busy_at_end"] = busy_processes()
    res["servers"] = results_by
    res["statements"] = {"%s/%s" % k: v for k, v in stmts.items()}
    res["equivalence"] = checks
    res["targets"] = targets(res)
    res["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    name = "results-quick.json" if a.quick else "results.json"
    write(os.path.join(a.out, name), json.dumps(res, indent=2) + "\n")
    md = render(res)
    write(os.path.join(a.out, "performance-quick.md" if a.quick else "performance.md"), md)
    if a.docs:
        replace_block(a.docs, md)
        log("updated", a.docs)
    log("wrote", os.path.join(a.out, name))
    print(md)


# --------------------------------------------------------------------------------------------
# Targets and the report
# --------------------------------------------------------------------------------------------

def get(res, server, case, field):
    try:
        return res["servers"][server]["cases"][case][field]
    except KeyError:
        return None


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def targets(res):
    out = []

    def add(name, measured, ok, detail=""):
        out.append({"target": name, "measured": measured, "met": ok, "detail": detail})

    for case, need in (("flat_list", 2), ("point_lookup", 2), ("nested_tree", 3)):
        r = ratio(get(res, "tg_pg", case, "rps"), get(res, "postgraphile", case, "rps"))
        add("GraphQL %s >= %dx PostGraphile req/s" % (case.replace("_", " "), need),
            None if r is None else "%.2fx" % r, r is not None and r >= need)
    p50 = get(res, "tg_pg", "nested_tree_1c", "p50_ms")
    add("nested tree single-client p50 < 25 ms (PostgreSQL)",
        None if p50 is None else "%.2f ms" % p50, p50 is not None and p50 < 25)
    p50s = get(res, "tg_sqlite", "nested_tree_1c", "p50_ms")
    add("nested tree single-client p50 < 25 ms (SQLite)",
        None if p50s is None else "%.2f ms" % p50s, p50s is not None and p50s < 25)
    st = res["statements"].get("tg_pg/nested_tree")
    add("nested tree: one SQL statement per level (4 levels)",
        None if st is None else "%d statements" % len(st), st is not None and len(st) == 4)
    # KernelCI: the jobs→builds tree against PostGraphile; the REST list has no runnable peer
    # (the KernelCI backend needs MongoDB), so it is held against the database alone.
    r = ratio(get(res, "tg_pg", "kci_tree", "rps"), get(res, "postgraphile", "kci_tree", "rps"))
    add("GraphQL KernelCI jobs→builds >= 1x PostGraphile req/s",
        None if r is None else "%.2fx" % r, r is not None and r >= 1)
    st = res["statements"].get("tg_pg/kci_tree")
    add("KernelCI jobs→builds with totalCount: <= 3 SQL statements (jobs, builds, counts)",
        None if st is None else "%d statements" % len(st), st is not None and len(st) <= 3)
    st = res["statements"].get("tg_pg/rest_kci_jobs")
    add("GET /jobs list: <= 3 SQL statements (token, page, count)",
        None if st is None else "%d statements" % len(st), st is not None and len(st) <= 3)
    for srv, ceiling in (("tg_pg", "pg_alone"), ("tg_sqlite", "sqlite_alone")):
        mine, alone_rps = get(res, srv, "rest_kci_jobs", "rps"), get(res, ceiling,
                                                                     "rest_kci_jobs", "rps")
        share = ratio(mine, alone_rps)
        add("GET /jobs list >= 50 %% of the database alone (%s)" % srv,
            None if share is None else "%.0f %% (%.1f req/s)" % (100 * share, mine),
            share is not None and share >= 0.5,
            "" if alone_rps is None else "%s alone: %.1f req/s (same statements)" % (
                "PostgreSQL" if srv == "tg_pg" else "SQLite", alone_rps))
    # XPRESSO: no runnable peer (closed source). What holds it down is the statement count,
    # constant in the rows (the token, then a statement per level and kind), and the latency a
    # dashboard sees for the whole tree.
    st = res["statements"].get("tg_pg/rest_xpr_requests")
    add("XPRESSO GET /api/v1/requests: <= 5 SQL statements (token, page, summaries, items, "
        "results)", None if st is None else "%d statements" % len(st),
        st is not None and len(st) <= 5)
    st = res["statements"].get("tg_pg/xpr_tree")
    add("XPRESSO requests→items→run→scripts→sections with totalCounts: <= 12 SQL statements",
        None if st is None else "%d statements" % len(st), st is not None and len(st) <= 12)
    for srv in ("tg_pg", "tg_sqlite"):
        p50 = get(res, srv, "xpr_tree_1c", "p50_ms")
        add("XPRESSO tree single-client p50 < 25 ms (%s)" % srv,
            None if p50 is None else "%.2f ms" % p50, p50 is not None and p50 < 25)
    for srv in ("tg_pg", "tg_sqlite"):
        s = res["servers"].get(srv)
        if s:
            add("idle memory < 20 MB (%s)" % srv, "%.1f MB" % s["idle_rss_mb"],
                s["idle_rss_mb"] < 20)
            pk = get(res, srv, "nested_tree", "peak_mb")
            add("peak memory < 100 MB during nested load (%s)" % srv,
                None if pk is None else "%.1f MB" % pk, pk is not None and pk < 100)
    # The targets are for the bulk API; the GraphQL mutations' rows are in the table beside them.
    def alone(srv, measured, need, unit):
        """What the database alone reached in the same run, and whether the target lies above
        it (then no server in front of that database meets it on this machine)."""
        if measured is None:
            return ""
        shown = "{:,} rows/s".format(measured) if unit == "rows/s" else "%.1fx" % measured
        return "%s alone: %s, %s the target" % (
            "PostgreSQL" if srv == "pg_alone" else "SQLite", shown,
            "at or above" if measured >= need else "**below**")

    for srv, need in (("tg_pg", 100_000), ("tg_sqlite", 200_000)):
        ceiling = "pg_alone" if srv == "tg_pg" else "sqlite_alone"
        for case in ("bulk_metrics", "bulk_test_results"):
            r = get(res, srv, case, "rows_per_s")
            add("%s >= %dk rows/s (%s)" % (case.replace("_", " "), need // 1000, srv),
                None if r is None else "%d rows/s" % r, r is not None and r >= need,
                alone(ceiling, get(res, ceiling, case, "rows_per_s"), need, "rows/s"))
    for case in ("post_metric", "rest_sessions", "rest_metrics"):
        peer = get(res, "msa", case, "rps")
        r = ratio(get(res, "tg_pg", case, "rps"), peer)
        add("%s >= 20x monitor-server-api req/s" % case.replace("_", " "),
            None if r is None else "%.1fx" % r, r is not None and r >= 20,
            alone("pg_alone", ratio(get(res, "pg_alone", case, "rps"), peer), 20, "x"))
    return out


LABELS = {
    "flat_list": "flat list, 100 metrics (GraphQL)",
    "point_lookup": "point lookup, task by id (GraphQL)",
    "nested_tree": "nested tree 20→10→5→5 (GraphQL)",
    "nested_tree_1c": "nested tree, 1 client (GraphQL)",
    "rest_sessions": "GET /api/v1/sessions/ (100/page)",
    "rest_metrics": "GET /api/v1/metrics/ (100/page)",
    "rest_evg_versions": "GET /rest/v1/projects/bench/versions",
    "rest_kci_jobs": "GET %s (KernelCI, token; no peer)" % KCI_REST,
    "kci_tree": "KernelCI jobs→builds %d→%d + totalCount (GraphQL)" % (KCI_PAGE, KCI_BUILDS),
    "rest_xpr_requests": "GET %s (XPRESSO, token; no peer)" % XPR_REST,
    "xpr_tree": "XPRESSO requests→items→run→scripts→sections %d→5→1→5→10 + totalCounts "
                "(GraphQL; no peer)" % XPR_PAGE,
    "xpr_tree_1c": "XPRESSO tree, 1 client (GraphQL)",
    "post_metric": "POST /api/v1/metrics/ (one metric)",
    "ingest_metrics": "addMetrics, 5,000 rows/request",
    "ingest_test_results": "addEvergreenTestResults, 5,000 rows/request",
    "bulk_metrics": "POST /bulk/v1/monitor/metrics, 5,000 rows/request",
    "bulk_test_results": "POST /bulk/v1/evergreen/test_results, 5,000 rows/request",
    "nested_tree_after_ingest": "nested tree again, after the ingestion cases (GraphQL)",
}
SERVER_LABEL = {"tg_pg": "testgraph (PostgreSQL)", "tg_sqlite": "testgraph (SQLite)",
                "pg_alone": "PostgreSQL alone (pgbench, same SQL, 4 clients)",
                "sqlite_alone": "SQLite alone (same SQL; one writer, or 4 readers for a read)",
                "postgraphile": "PostGraphile 5 (PostgreSQL)",
                "msa": "monitor-server-api 1.1.0 (PostgreSQL)"}
PEER_OF = {"flat_list": "postgraphile", "point_lookup": "postgraphile",
           "nested_tree": "postgraphile", "nested_tree_1c": "postgraphile",
           "kci_tree": "postgraphile",
           "nested_tree_after_ingest": "postgraphile",
           "rest_sessions": "msa", "rest_metrics": "msa", "post_metric": "msa"}
# The database alone beside testgraph on that database (see AloneCase).
ALONE_OF = {"tg_pg": "pg_alone", "tg_sqlite": "sqlite_alone"}


def fmt(v, spec="%.1f"):
    return "—" if v is None else spec % v


def render(res):
    m, seed = res["machine"], res["seed"]
    pg = seed["postgres"]
    L = []
    L.append("Run of %s (finished %s)%s." % (res["date"], res["finished"],
                                             " — QUICK SMOKE RUN, tiny data" if res["quick"] else ""))
    L.append("")
    L.append("- Command: `%s`" % res["command"])
    L.append("- Machine: %s cores (`nproc`), %s, %s GiB RAM, Linux %s; PostgreSQL %s; %s; "
             "testgraph at %s." % (m["nproc"], m["cpu_model"], m["mem_gib"], m["kernel"],
                                   m["postgres"], m["wrk"], m["commit"]))
    L.append("- Data (same on both databases): %d versions × %d builds × %d tasks × %d test results "
             "= %s test results; %s sessions, %s metrics, %s contexts. Seeded through testgraph's "
             "services in %.0f s on PostgreSQL and %.0f s on SQLite."
             % (pg["versions"], res["scale"]["builds"], res["scale"]["tasks"],
                res["scale"]["results"], "{:,}".format(pg["test_results"]),
                "{:,}".format(pg["sessions"]), "{:,}".format(pg["metrics"]), pg["contexts"],
                pg["wall_seconds"], seed["sqlite"]["wall_seconds"]))
    if pg.get("kci_jobs"):
        L.append("- KernelCI (same on both databases): %s jobs (kernels) over %d trees, %s builds "
                 "(%d a job, one architecture each of five), created over 100 days; reported "
                 "through `service::kernelci::report_builds` in batches of 2,000 builds, which "
                 "took %.0f s of the seeding on PostgreSQL (8 writers) and %.0f s on SQLite "
                 "(4 writers, taking turns). The KernelCI cases read tree `%s` (%s jobs)."
                 % ("{:,}".format(pg["kci_jobs"]), len(pg["kci_trees"]),
                    "{:,}".format(pg["kci_builds"]), res["scale"]["builds_per_job"],
                    pg["seconds"]["kernelci"], seed["sqlite"]["seconds"]["kernelci"], KCI_TREE,
                    "{:,}".format(res.get("kci_rest_answer", {}).get("count", 0))))
    if pg.get("xpr_requests"):
        L.append("- XPRESSO (same on both databases): %s requests of the group `bench` (a lab of "
                 "ten testbeds, three profiles and a bundle of the three; every fourth request "
                 "a bundle, so three items, the others one), %s items, each driven by its runner "
                 "through QUEUED and RUNNING to FINISHED with run results of 3 scripts of 5 "
                 "sections, through the service functions the REST and GraphQL routes call; "
                 "%.0f s of the seeding on PostgreSQL and %.0f s on SQLite. Both XPRESSO cases "
                 "read the newest %d requests with a read token of the group."
                 % ("{:,}".format(pg["xpr_requests"]), "{:,}".format(pg["xpr_items"]),
                    pg["seconds"]["xpresso"], seed["sqlite"]["seconds"]["xpresso"], XPR_PAGE))
    L.append("- Load: wrk, %d s per case after %d s of warm-up, 4 connections on 2 threads "
             "(single-client rows: 1 connection, %d s). CPU is the server process tree's "
             "utime+stime over the measured run divided by requests; DB CPU likewise for the "
             "whole PostgreSQL cluster (backends, parallel workers, WAL writer, autovacuum); peak is VmHWM (reset before each case), summed "
             "over the process tree; SQL/req is what PostgreSQL logged for one request."
             % (res["scale"]["duration"], res["scale"]["warmup"], res["scale"]["single_duration"]))
    L.append("")
    L.append("- Database alone: for the one-metric POST and the two bulk routes, the same writes "
             "with no server in front, right before testgraph's own case on the same tables — "
             "pgbench running testgraph's statements (prepared, 4 clients on 2 threads; a bulk "
             "batch as its one `INSERT`, without the look-ups, the task's lock and count and the "
             "explicit transaction testgraph adds), and on SQLite one writer with testgraph's "
             "connection settings "
             "(`bench/sqlite_alone.py`). Their CPU column is the client's own (pgbench; for "
             "SQLite the writer, SQLite included). No server can write faster than its database "
             "alone does, so these rows are each write case's ceiling on this machine. The "
             "KernelCI `/jobs` list, which has no runnable peer here (the KernelCI backend needs "
             "MongoDB), gets the same: its three statements (the token's look-up, the page and the "
             "count) from pgbench, and on SQLite from 4 reader processes, one round of the three "
             "a request.")
    L.append("")
    L.append("| case | server | req/s | p50 ms | p99 ms | CPU ms/req | DB CPU ms/req | peak MB "
             "| SQL/req | ÷ peer (req/s) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    order = ["flat_list", "point_lookup", "nested_tree", "nested_tree_1c", "kci_tree",
             "xpr_tree", "xpr_tree_1c",
             "rest_sessions", "rest_metrics", "rest_evg_versions", "rest_kci_jobs",
             "rest_xpr_requests",
             "post_metric", "ingest_metrics",
             "ingest_test_results", "bulk_metrics", "bulk_test_results",
             "nested_tree_after_ingest"]
    for case in order:
        for srv in ("tg_pg", "tg_sqlite", "pg_alone", "sqlite_alone", "postgraphile", "msa"):
            r = get(res, srv, case, "rps")
            if r is None:
                continue
            c = res["servers"][srv]["cases"][case]
            st = res["statements"].get("%s/%s" % (srv, case))
            if st is None and srv == "tg_sqlite":
                st_s = "(as PG)"
            elif srv == "pg_alone":
                st_s = "3" if case == "rest_kci_jobs" else "1"  # the token, page and count
            else:
                st_s = "—" if st is None else str(len(st))
            peer = PEER_OF.get(case)
            rat = ""
            if srv.startswith("tg") and peer:
                rr = ratio(r, get(res, peer, case, "rps"))
                rat = fmt(rr, "**%.2f×**")
            elif srv.endswith("alone") and peer:
                rat = fmt(ratio(r, get(res, peer, case, "rps")), "(%.2f×)")
            ceiling = get(res, ALONE_OF.get(srv, ""), case, "rps")
            if ceiling:
                rat = (rat + " " if rat else "") + "%d %% of %s alone" % (
                    round(100 * r / ceiling), "PostgreSQL" if srv == "tg_pg" else "SQLite")
            rps = "%.1f" % r
            if c.get("rows_per_s"):
                rps += " (%s rows/s)" % "{:,}".format(c["rows_per_s"])
            if c["errors"]:
                rps += " ⚠ %d errors" % c["errors"]
            L.append("| %s | %s | %s | %.2f | %.2f | %.3f | %s | %s | %s | %s |" % (
                LABELS[case], SERVER_LABEL[srv], rps, c["p50_ms"], c["p99_ms"],
                c["cpu_ms_per_req"], fmt(c["db_cpu_ms_per_req"], "%.3f"), fmt(c["peak_mb"]),
                st_s, rat))
    L.append("")
    L.append("Idle resident memory (after start, before load → after all cases): " + "; ".join(
        "%s %.1f → %.1f MB" % (SERVER_LABEL[s], v["idle_rss_mb"], v["idle_rss_after_mb"])
        for s, v in res["servers"].items() if "idle_rss_mb" in v) + ".")
    ra = res.get("rows_after_load")
    if ra:
        L.append("")
        L.append("After the load phase `tg_bench` holds %s test results and %s metrics (from %s "
                 "and %s): the write cases ran last, then the `nested tree again` rows, each on a "
                 "freshly started server."
                 % ("{:,}".format(ra["evg_test_results"]), "{:,}".format(ra["monitor_metrics"]),
                    "{:,}".format(pg["test_results"]), "{:,}".format(pg["metrics"])))
    L.append("")
    L.append("Equivalence of the GraphQL queries (every scalar of both answers compared in order): "
             + "; ".join("%s %s (%d values)%s" % (
                 k, "same" if v["same_rows"] else "DIFFERENT", v["values_compared"],
                 "" if v.get("in_query_order", True) else
                 ", compared with sorted keys: the fields of the two answers come in different "
                 "orders (GraphQL answers them in the query's order)")
                 for k, v in res["equivalence"].items()) + ".")
    L.append("")
    L.append("### Targets")
    L.append("")
    L.append("| target | measured | | the database alone, same run |")
    L.append("|---|---|---|---|")
    for t in res["targets"]:
        L.append("| %s | %s | %s | %s |" % (t["target"], t["measured"] or "—",
                                             "met" if t["met"] else "**not met**", t["detail"]))
    L.append("")
    L.append("### Statements per request (PostgreSQL log, one request)")
    L.append("")
    for k, v in sorted(res["statements"].items()):
        L.append("- `%s`: %d" % (k, len(v)) + ("" if not v else " — " + " | ".join(
            "`%s`" % s[:90].replace("|", "\\|").replace("`", "'") for s in v[:8])
            + (" …" if len(v) > 8 else "")))
    L.append("")
    n = res["noise"]
    L.append("### Noise")
    L.append("")
    L.append("- Load average (1/5/15 min): %s at start, %s when load began, %s at the end."
             % (n["loadavg_start"], n.get("loadavg_load_start", "?"), n["loadavg_end"]))
    L.append("- Compilers or CI seen before seeding: %s; at load start: %s (waited %s s); "
             "at the end: %s." % (len(n["busy_before_seed"]), len(n.get("busy_at_load_start", [])),
                                  n.get("waited_for_idle_s", 0), len(n["busy_at_end"])))
    return "\n".join(L) + "\n"


BEGIN, END = "<!-- BEGIN GENERATED (bench/run.sh) -->", "<!-- END GENERATED -->"


def replace_block(path, md):
    text = open(path).read() if os.path.exists(path) else "# Performance\n\n%s\n%s\n" % (BEGIN, END)
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n%s\n%s\n" % (BEGIN, END)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    write(path, head + BEGIN + "\n" + md + END + tail)


if __name__ == "__main__":
    main()
