#!/usr/bin/env python3
"""SQLite with no server in front: one writer inserting the very rows testgraph's write cases
insert, or readers sending the very statements of a read case, with the same statements and the
same connection settings, for a fixed time.

bench.py runs it against the SQLite bench file while testgraph's SQLite server idles, right
before testgraph's own case, to show what SQLite itself reaches with testgraph's schema on this
machine: the ceiling of any server in front of it. One writer, because SQLite admits one writer
at a time (testgraph's writers take turns too).

    sqlite_alone.py DB one|batch|results|read ROWS_JSON SECONDS WARMUP_SECONDS

`one`: each row of ROWS_JSON (a list of pytest-monitor metrics as POSTed, with session and context
hashes) is its own transaction, as `INSERT ... SELECT` joining the two hashes, the statement
`service::monitor::add_metric` sends. `batch`: the hashes are resolved first, then all rows are
inserted in one transaction, as `service::monitor::add_metrics` does. `results`: ROWS_JSON is
`{"tasks": [Evergreen task ids], "results": [test results as the bulk route takes them]}`; each
transaction inserts all the results into the next task in turn, after looking the task up, as
`service::evergreen::add_test_results` does (without its lock and count). `read`: ROWS_JSON is
`{"readers": N, "statements": [[SQL, [parameters]], ...]}`; N processes (SQLite reads side by
side, as testgraph's pool of 4 does) each run the statements in turn, every row fetched, one
round counting as one request. Prints one JSON line.
Standard library only; it uses Python's own SQLite library, whose version it reports.
"""

import json
import os
import sqlite3
import sys
import time

COLS = ("session_id, context_id, session_h, context_h, item_start_time, item_start_at, "
        "item_path, item, item_variant, item_fs_loc, kind, component, total_time, user_time, "
        "kernel_time, cpu_usage, mem_usage")
ONE = ("INSERT INTO monitor_metrics (%s) SELECT s.id, c.id, s.h, c.h, ?, ?, ?, ?, ?, ?, ?, ?, "
       "?, ?, ?, ?, ? FROM monitor_sessions s JOIN monitor_contexts c ON c.h = ? WHERE s.h = ?"
       % COLS)
BATCH = "INSERT INTO monitor_metrics (%s) VALUES (%s)" % (COLS, ", ".join("?" * 17))
RESULTS = ("INSERT INTO evg_test_results (task_id, execution, test_file, status, url, log_id, "
           "line_num, exit_code, start_s, end_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def start_at(text):
    """The instant testgraph stores beside the client's text (seconds precision is enough here:
    the column's index is not what is measured)."""
    return text[:19].replace("T", " ")


def read_rounds(path, statements, seconds, warmup, out):
    """One reader: the statements in turn until the time is up; writes its figures to `out`."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=10000"):
        db.execute("PRAGMA " + pragma)

    def one():
        for sql, params in statements:
            if not db.execute(sql, params).fetchall():
                raise SystemExit("no rows from %s" % sql[:80])

    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        one()
    lat = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    end = t0 + seconds
    now = t0
    while now < end:
        one()
        t = time.perf_counter()
        lat.append(t - now)
        now = t
    os.write(out, json.dumps({"lat": lat, "seconds": now - t0,
                              "cpu_s": time.process_time() - cpu0}).encode())
    os.close(out)


def read_mode(path, spec, seconds, warmup):
    """`spec["readers"]` forked readers; their rounds summed, their latencies merged."""
    kids = []
    for _ in range(spec["readers"]):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                read_rounds(path, spec["statements"], seconds, warmup, w)
            finally:
                os._exit(0)
        os.close(w)
        kids.append((pid, r))
    parts = []
    for pid, r in kids:
        chunks = []
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        os.waitpid(pid, 0)
        if not chunks:
            raise SystemExit("a reader failed")
        parts.append(json.loads(b"".join(chunks)))
    lat = sorted(x for p in parts for x in p["lat"])
    secs = max(p["seconds"] for p in parts)
    print(json.dumps({
        "commits": len(lat),
        "rows": len(lat),
        "seconds": secs,
        "cpu_s": sum(p["cpu_s"] for p in parts),
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000,
        "sqlite_version": sqlite3.sqlite_version,
        "readers": len(parts),
    }))


def main():
    path, mode, rows_file, seconds, warmup = sys.argv[1:6]
    seconds, warmup = float(seconds), float(warmup)
    with open(rows_file) as f:
        rows = json.load(f)
    if mode == "read":
        read_mode(path, rows, seconds, warmup)
        return
    db = sqlite3.connect(path, isolation_level=None)
    # testgraph's connection settings (src/db.rs).
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=10000"):
        db.execute("PRAGMA " + pragma)

    def values(m):
        return (m["item_start_time"], start_at(m["item_start_time"]), m["item_path"], m["item"],
                m["item_variant"], m["item_fs_loc"], m["kind"], m["component"],
                m["total_time"], m["user_time"], m["kernel_time"], m["cpu_usage"],
                m["mem_usage"])

    if mode == "one":
        params = [values(m) + (m["context_h"], m["session_h"]) for m in rows]

        def commit(i):
            cur = db.execute(ONE, params[i % len(params)])
            if cur.rowcount != 1:
                raise SystemExit("unknown session or context in the rows")
    elif mode == "batch":
        def ids(table, hashes):
            hashes = sorted(set(hashes))
            q = "SELECT h, id FROM %s WHERE h IN (%s)" % (table, ", ".join("?" * len(hashes)))
            return dict(db.execute(q, hashes).fetchall())

        def commit(_):
            # Per commit, as add_metrics resolves each batch's hashes before its transaction.
            sid = ids("monitor_sessions", [m["session_h"] for m in rows])
            cid = ids("monitor_contexts", [m["context_h"] for m in rows])
            batch = [(sid[m["session_h"]], cid[m["context_h"]], m["session_h"], m["context_h"])
                     + values(m) for m in rows]
            db.execute("BEGIN IMMEDIATE")
            db.executemany(BATCH, batch)
            db.execute("COMMIT")
    elif mode == "results":
        tasks = rows["tasks"]
        results = [(r["testFile"], r["status"], r["url"], r["logId"], r["lineNum"],
                    r["exitCode"], r["start"], r["end"]) for r in rows["results"]]
        rows = results

        def commit(i):
            task = db.execute("SELECT id, execution FROM evg_tasks WHERE task_id = ?",
                              (tasks[i % len(tasks)],)).fetchone()
            if task is None:
                raise SystemExit("unknown task %s" % tasks[i % len(tasks)])
            db.execute("BEGIN IMMEDIATE")
            db.executemany(RESULTS, [task + r for r in results])
            db.execute("COMMIT")
    else:
        raise SystemExit("mode is one, batch, results or read")

    per_commit = 1 if mode == "one" else len(rows)
    i, end = 0, time.perf_counter() + warmup
    while time.perf_counter() < end:
        commit(i)
        i += 1
    lat = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    end = t0 + seconds
    now = t0
    while now < end:
        commit(i)
        i += 1
        t = time.perf_counter()
        lat.append(t - now)
        now = t
    cpu = time.process_time() - cpu0
    lat.sort()
    print(json.dumps({
        "commits": len(lat),
        "rows": len(lat) * per_commit,
        "seconds": now - t0,
        # This process's CPU over the measured commits only (not start-up and warm-up): the
        # writer's own work, SQLite's included, since SQLite runs inside it.
        "cpu_s": cpu,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000,
        "sqlite_version": sqlite3.sqlite_version,
    }))


if __name__ == "__main__":
    main()
