#!/usr/bin/env python3
"""The StackTach.v3 rows of the benchmark (issue 19): ingestion through `POST /v1/events`, the
`/v1/events` and `/v1/streams` lists against the real quincy/winchester server, and the pipeline
worker's burst on two testgraph processes sharing one PostgreSQL database.

Called by bench/run.sh after bench.py (or alone with `bench/run.sh --stacktach-only`); see
bench/README.md, "StackTach.v3", for what is measured. Reuses bench.py's machinery (servers, wrk,
CPU accounting, the database-alone cases). Standard library only; the peer's own scripts
(bench/stacktach/load_peer.py, quincy_wsgi.py) run in its virtualenv.
"""

import argparse
import csv
import datetime
import heapq
import http.client
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

log = b.log
ROOT, BENCH = b.ROOT, b.BENCH
STT = os.path.join(BENCH, "stacktach")
EXAMPLES = os.path.join(ROOT, "examples", "stacktach")
STT_DB, ALONE_DB, BURST_DB = "stt_bench", "stt_alone", "stt_burst"
PORTS = {"tg_pg": 18091, "tg_sqlite": 18092, "quincy": 18093, "burst_a": 18094,
         "burst_b": 18095}
BATCH = 1000
INGEST_CONNS = 4
QUINCY_WORKERS = 4  # as monitor-server-api's gunicorn in bench.py
BURST_EVENTS_PER_STREAM = 10
STREAM_CHUNK = 500  # streams written or updated a statement per this many, as testgraph
TS_FMT = "%Y-%m-%d %H:%M:%S.%f"

FULL = dict(events=1_000_000, peer_events=100_000, burst_events=100_000, burst_streams=10_000,
            duration=10, warmup=2, span_s=2400)
QUICK = dict(events=20_000, peer_events=10_000, burst_events=2_000, burst_streams=200,
             duration=2, warmup=1, span_s=600)


# --------------------------------------------------------------------------------------------
# The events: a compute cloud's notifications, as stackdistiller distils them
# --------------------------------------------------------------------------------------------

# Each request's notifications: (event type, seconds after the previous one, vm state, task state).
REQUESTS = {
    "build": [("scheduler.select_destinations.start", 0, "building", "scheduling"),
              ("scheduler.select_destinations.end", 1.5, "building", "scheduling"),
              ("compute.instance.create.start", 1.0, "building", "networking"),
              ("compute.instance.update", 4, "building", "networking"),
              ("compute.instance.update", 6, "building", "block_device_mapping"),
              ("compute.instance.update", 5, "building", "spawning"),
              ("compute.instance.create.end", 40, "active", None),
              ("compute.instance.update", 0.5, "active", None)],
    "reboot": [("compute.instance.reboot.start", 0, "active", "rebooting"),
               ("compute.instance.update", 0.5, "active", "rebooting"),
               ("compute.instance.update", 8, "active", "reboot_started"),
               ("compute.instance.reboot.end", 20, "active", None),
               ("compute.instance.update", 0.5, "active", None)],
    "power_off": [("compute.instance.power_off.start", 0, "active", "powering-off"),
                  ("compute.instance.update", 0.5, "active", "powering-off"),
                  ("compute.instance.power_off.end", 12, "stopped", None),
                  ("compute.instance.update", 0.5, "stopped", None)],
    "power_on": [("compute.instance.power_on.start", 0, "stopped", "powering-on"),
                 ("compute.instance.update", 0.5, "stopped", "powering-on"),
                 ("compute.instance.power_on.end", 15, "active", None),
                 ("compute.instance.update", 0.5, "active", None)],
    "resize": [("compute.instance.resize.prep.start", 0, "active", "resize_prep"),
               ("compute.instance.resize.prep.end", 2, "active", "resize_prep"),
               ("compute.instance.update", 1, "active", "resize_migrating"),
               ("compute.instance.resize.start", 1, "active", "resize_migrating"),
               ("compute.instance.update", 30, "active", "resize_migrated"),
               ("compute.instance.resize.end", 1, "active", "resize_migrated"),
               ("compute.instance.finish_resize.start", 2, "active", "resize_finish"),
               ("compute.instance.update", 1, "active", "resize_finish"),
               ("compute.instance.finish_resize.end", 10, "resized", None),
               ("compute.instance.update", 0.5, "resized", None)],
    "resize_confirm": [("compute.instance.resize.confirm.start", 0, "resized", None),
                       ("compute.instance.update", 2, "active", None),
                       ("compute.instance.resize.confirm.end", 1, "active", None)],
    "snapshot": [("compute.instance.snapshot.start", 0, "active", "image_snapshot"),
                 ("compute.instance.update", 0.5, "active", "image_snapshot"),
                 ("compute.instance.update", 3, "active", "image_pending_upload"),
                 ("compute.instance.update", 2, "active", "image_uploading"),
                 ("compute.instance.snapshot.end", 45, "active", None),
                 ("compute.instance.update", 0.5, "active", None)],
    "delete": [("compute.instance.delete.start", 0, "active", "deleting"),
               ("compute.instance.update", 0.5, "active", "deleting"),
               ("compute.instance.shutdown.start", 1, "active", "deleting"),
               ("compute.instance.shutdown.end", 6, "active", "deleting"),
               ("compute.instance.delete.end", 2, "deleted", None)],
}
# What an instance does after its build, in turns (a pair is two API requests).
ACTIONS = [(["reboot"], 3), (["power_off", "power_on"], 2), (["resize", "resize_confirm"], 1),
           (["snapshot"], 2)]
FLAVORS = [("2", 512, 1, 20), ("3", 1024, 1, 40), ("4", 2048, 2, 80), ("5", 4096, 2, 160),
           ("6", 8192, 4, 320), ("7", 15360, 6, 620)]
DISTROS = ["ubuntu", "centos", "debian", "rhel"]
HOSTS = 200
TENANTS = 500


def iso(t):
    return t.isoformat()


def dt_wrap(t):
    return {"__type__": "datetime", "datetime": iso(t)}


class Cloud:
    """Deterministic notifications of a compute cloud, in time order: instances arrive one after
    another over `span_s` seconds ending at `t_end`; each is built (scheduler and compute
    notifications under one request id), then reboots, powers off and on, resizes, snapshots (a
    request id each), gets its nightly `compute.instance.exists` audit (for the day before) and
    may be deleted. Times are real (`t_end` is the load's start), so the example triggers'
    expirations (`$last + 1h`, `$first + 1d`) keep the streams open while the load runs."""

    def __init__(self, n_events, t_end, span_s, seed=19):
        self.n, self.rng = n_events, random.Random(seed)
        self.t0 = t_end - datetime.timedelta(seconds=span_s)
        # About 62 notifications an instance; arrivals spread over the span.
        self.gap = span_s / (n_events / 62.0)
        self.uuid_rng = random.Random(seed * 7919)

    def uid(self):
        return str(uuid.UUID(int=self.uuid_rng.getrandbits(128), version=4))

    def instance(self, i, start):
        rng = self.rng
        flavor, mem, vcpus, disk = FLAVORS[rng.randrange(len(FLAVORS))]
        host = rng.randrange(HOSTS)
        inst = dict(instance_id=self.uid(), tenant_id="%032x" % (rng.randrange(TENANTS) * 7919),
                    user_id="user-%05d" % rng.randrange(5000), host="compute-%03d" % host,
                    instance_flavor_id=flavor, memory_mb=mem, vcpus=vcpus, root_gb=disk,
                    os_distro=DISTROS[rng.randrange(len(DISTROS))],
                    display_name="vm-%06d" % i)
        plan = [("build", start)]
        t = start + 60
        for _ in range(rng.randrange(6, 11)):
            t += rng.expovariate(1 / 30.0) + 5
            names = rng.choices([a for a, _ in ACTIONS], [w for _, w in ACTIONS])[0]
            for name in names:
                plan.append((name, t))
                t += 25 + rng.random() * 30
        if rng.random() < 0.4:
            plan.append(("delete", t + rng.expovariate(1 / 30.0) + 5))
        out = []
        launched = None
        for name, t in plan:
            req = "req-" + self.uid()
            for k, (etype, dt, state, task) in enumerate(REQUESTS[name]):
                t += dt * (0.7 + 0.6 * rng.random())
                out.append((t, etype, req, state, task))
        audit_at = start + rng.random() * (t - start)
        out.append((audit_at, "compute.instance.exists", None, "active", None))
        out.sort(key=lambda e: e[0])
        for ev in out:
            if ev[1] == "compute.instance.create.end":
                launched = ev[0]
        return inst, out, launched

    def events(self):
        """Yields the notifications, oldest first, `n` of them."""
        heap, seq, emitted, i = [], 0, 0, 0
        next_start = 0.0
        infos = {}
        while emitted < self.n:
            while not heap or heap[0][0] >= next_start:
                inst, evs, launched = self.instance(i, next_start)
                infos[i] = (inst, launched, len(evs))
                for t, etype, req, state, task in evs:
                    heapq.heappush(heap, (t, seq, i, etype, req, state, task))
                    seq += 1
                i += 1
                next_start += self.rng.expovariate(1 / self.gap)
            t, _, ii, etype, req, state, task = heapq.heappop(heap)
            inst, launched, left = infos[ii]
            if left == 1:
                del infos[ii]
            else:
                infos[ii] = (inst, launched, left - 1)
            when = self.t0 + datetime.timedelta(seconds=t)
            traits = dict(inst, state=state, service="compute")
            if task:
                traits["task_state"] = task
            if launched is not None and t >= launched:
                traits["launched_at"] = dt_wrap(self.t0 + datetime.timedelta(seconds=launched))
            if etype.startswith("scheduler."):
                traits["service"] = "scheduler"
                traits["host"] = "scheduler-%02d" % (ii % 3 + 1)
            if etype == "compute.instance.exists":
                day = datetime.datetime.combine(when.date(), datetime.time()) \
                    - datetime.timedelta(days=1)
                req = "req-audit-%s-%s" % (inst["host"], day.date().isoformat())
                traits["audit_period_beginning"] = dt_wrap(day)
                traits["audit_period_ending"] = dt_wrap(day + datetime.timedelta(days=1))
                traits["bandwidth_in"] = round(self.rng.uniform(0, 5e6), 1)
                traits["bandwidth_out"] = round(self.rng.uniform(0, 5e6), 1)
            traits["request_id"] = req
            yield {"message_id": self.uid(), "event_type": etype,
                   "timestamp": iso(when.replace(microsecond=when.microsecond or 1)),
                   "traits": traits}
            emitted += 1


def encode(batch):
    return json.dumps(batch, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------
# The example triggers in Python, for the database-alone cases (which streams a batch joins)
# --------------------------------------------------------------------------------------------

def dist_key(values):
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_ts(s):
    return datetime.datetime.fromisoformat(s)


def day_range(t):
    d = datetime.datetime.combine(t.date(), datetime.time())
    return {"__type__": "timex.TimeRange", "begin": iso(d),
            "end": iso(d + datetime.timedelta(days=1))}


def groups_of(batch, now):
    """The streams a batch's events join under examples/stacktach/triggers.yaml (instance_usage,
    request_trace; the batch holds no `create.error`): [(trigger, key, [event indexes], first,
    last, expire, fire, fire_hits)], times as the database stores them."""
    groups = {}
    for i, e in enumerate(batch):
        et, tr = e["event_type"], e["traits"]
        t = parse_ts(e["timestamp"])
        if et.startswith("compute.instance."):
            src = t
            if et == "compute.instance.exists":
                src = parse_ts(tr["audit_period_beginning"]["datetime"])
            key = dist_key({"instance_id": tr["instance_id"], "timestamp": day_range(src)})
            groups.setdefault(("instance_usage", key), []).append(i)
        if (et.startswith("compute.instance.") or et.startswith("scheduler.")) \
                and et != "compute.instance.exists":
            groups.setdefault(("request_trace", dist_key({"request_id": tr["request_id"]})),
                              []).append(i)
    out = []
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    for (trig, key), idx in groups.items():
        times = [parse_ts(batch[i]["timestamp"]) for i in idx]
        first, last = min(times), max(times)
        types = [batch[i]["event_type"] for i in idx]
        if trig == "instance_usage":
            expire = last + datetime.timedelta(hours=1)
            hits = [types.count("compute.instance.exists")]
            fire = now if hits[0] else None
        else:
            expire = first + datetime.timedelta(days=1)
            hits = [types.count("compute.instance.create.end"),
                    types.count("compute.instance.create.start")]
            fire = now + datetime.timedelta(seconds=60) if all(hits) else None
        out.append([trig, key, idx, first.strftime(fmt), last.strftime(fmt),
                    expire.strftime(fmt), fire.strftime(fmt) if fire else None,
                    json.dumps(hits, separators=(",", ":"))])
    return out


def sql_text(s):
    return b.sql_text(s)


def pgbench_ingest_script(path, batches, stream_ids, opened):
    """pgbench: each of the 4 clients ingests its own batch (of the next ones testgraph gets) with
    testgraph's statements per batch, message ids made new each time by a random suffix: the
    events' `INSERT ... ON CONFLICT DO NOTHING RETURNING id`, the advisory locks on the batch's
    keys, per trigger the `SELECT` of the keys' active streams, the streams testgraph opens in
    that batch (`opened`) written with their final values in one multi-row
    `INSERT ... RETURNING *` per 500 (their keys with the message ids' suffix), the streams the
    batch joins (the others; in the copy of testgraph's database they exist: `stream_ids`)
    updated in one `UPDATE ... FROM (VALUES ...)` per 500, and the links. A stream opened is not
    updated."""
    lines = ["\\set r random(1, 1000000000000)"]
    for c, (batch, groups) in enumerate(batches):
        lines.append(("\\if" if c == 0 else "\\elif") + " :client_id %% %d = %d" % (
            len(batches), c))
        lines.append("BEGIN;")
        rows = [{"m": e["message_id"], "t": e["event_type"],
                 "g": parse_ts(e["timestamp"]).strftime(TS_FMT), "tr": b_traits(e["traits"])}
                for e in batch]
        lines.append(
            "INSERT INTO stt_events (message_id, event_type, generated, traits) "
            "SELECT r.m || '-' || :r, r.t, r.g, r.tr FROM ROWS FROM (json_to_recordset(%s::json) "
            "AS (m text, t text, g timestamp, tr text)) WITH ORDINALITY AS r(m, t, g, tr, ord) "
            "ORDER BY r.ord ON CONFLICT (message_id) DO NOTHING RETURNING id;"
            % sql_text(json.dumps(rows, separators=(",", ":"), ensure_ascii=False)))
        keys = sorted("%s\x1f%s" % (g[0], g[1]) for g in groups)
        lines.append("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7))) FROM "
                     "(SELECT unnest(%s::text[]) AS k ORDER BY 1) s;" % sql_text(
                         "{" + ",".join('"%s"' % k.replace("\\", "\\\\").replace('"', '\\"')
                                        for k in keys) + "}"))
        # The keys of the streams opened get the transaction's suffix too, so that no
        # transaction finds the streams opened by the earlier ones (testgraph finds none).
        def key_sql(trig, key):
            if (trig, key) not in opened[c]:
                return sql_text(key)
            end = key.index('"', key.index('":"') + 3)
            return "(%s || '-' || :r || %s)" % (sql_text(key[:end]), sql_text(key[end:]))

        for trig in sorted({g[0] for g in groups}):
            ks = [g[1] for g in groups if g[0] == trig]
            lines.append("SELECT * FROM stt_streams WHERE name = %s AND state = 1 AND "
                         "dist_traits IN (%s) AND (expire_timestamp IS NULL OR "
                         "expire_timestamp > now());" % (sql_text(trig), ", ".join(
                             key_sql(trig, k) for k in ks)))
        new = [g for g in groups if (g[0], g[1]) in opened[c]]
        joined = [g for g in groups if (g[0], g[1]) not in opened[c]]

        def ts(v):
            return "NULL" if v is None else sql_text(v)

        for k in range(0, len(new), STREAM_CHUNK):
            lines.append(
                "INSERT INTO stt_streams (name, state, state_serial_no, first_event, last_event, "
                "expire_timestamp, fire_timestamp, dist_traits, event_count, fire_hits) VALUES "
                "%s RETURNING *;" % ", ".join(
                    "(%s, 1, 0, %s, %s, %s, %s, %s, %d, %s)" % (
                        sql_text(trig), sql_text(first), sql_text(last), sql_text(expire),
                        ts(fire), key_sql(trig, key), len(idx), sql_text(hits))
                    for trig, key, idx, first, last, expire, fire, hits
                    in new[k:k + STREAM_CHUNK]))
        for k in range(0, len(joined), STREAM_CHUNK):
            vals = []
            for n, (trig, key, idx, first, last, expire, fire, hits) in enumerate(
                    joined[k:k + STREAM_CHUNK]):
                cast = ("::bigint", "::timestamp", "::timestamp", "::timestamp", "::timestamp",
                        "::integer", "::text") if n == 0 else ("",) * 7
                vals.append("(%s)" % ", ".join(v + t for v, t in zip(
                    (str(stream_ids[(trig, key)]), sql_text(first), sql_text(last),
                     sql_text(expire), ts(fire), str(len(idx)), sql_text(hits)), cast)))
            lines.append(
                "UPDATE stt_streams AS s SET first_event = v.f, last_event = v.l, "
                "expire_timestamp = v.e, fire_timestamp = v.fi, fire_hits = v.h, "
                "event_count = s.event_count + v.n FROM (VALUES %s) AS v(id, f, l, e, fi, n, h) "
                "WHERE s.id = v.id;" % ", ".join(vals))
        links = []
        for trig, key, idx, *_ in groups:
            sid = stream_ids[(trig, key)]
            links += [{"m": batch[i]["message_id"], "s": sid} for i in idx]
        # testgraph knows the events' ids from the RETURNING; here they are found again by
        # message id (an index look-up per link more than testgraph does). The links of a stream
        # opened in the batch go to its stand-in in the copy (`pg_alone_case`), as the script
        # does not carry the ids its INSERT returns over to the next statement.
        lines.append(
            "INSERT INTO stt_stream_events (stream_id, event_id) SELECT l.s, e.id FROM "
            "json_to_recordset(%s::json) AS l(m text, s int8) JOIN stt_events e ON "
            "e.message_id = l.m || '-' || :r;" % sql_text(json.dumps(links, separators=(",", ":"))))
        lines.append("COMMIT;")
    lines.append("\\endif")
    return b.write(path, "\n".join(lines) + "\n")


def b_traits(traits):
    """Traits as testgraph stores them: one JSON object, keys sorted, compact."""
    return json.dumps(traits, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Posting batches: a few keep-alive connections, each batch once
# --------------------------------------------------------------------------------------------

class Poster:
    """Posts `bodies` (each once, in order, taken by whichever connection is free) to
    `POST /v1/events` of the servers in `bases` (connections spread over them) with `conns`
    connections; records each request's end time, latency and report."""

    def __init__(self, bases, bodies, conns=INGEST_CONNS, make=None):
        self.bases, self.bodies, self.conns, self.make = bases, bodies, conns, make
        self.lock = threading.Lock()
        self.next = 0
        self.done = []  # (end perf_counter, latency s, stored events, opened streams)
        self.errors = []
        self.threads = []

    def _take(self):
        with self.lock:
            i = self.next
            if i >= len(self.bodies):
                return None
            self.next += 1
        body = self.bodies[i]
        return self.make(body) if self.make else body

    def _run(self, base):
        u = urllib.parse.urlparse(base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
        while True:
            body = self._take()
            if body is None:
                break
            t = time.perf_counter()
            try:
                conn.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
                continue
            end = time.perf_counter()
            if r.status != 201:
                self.errors.append("HTTP %s %s" % (r.status, data[:300]))
                continue
            rep = json.loads(data)
            with self.lock:
                self.done.append((end, end - t, rep["stored"], rep["streams_opened"]))
        conn.close()

    def start(self):
        for k in range(self.conns):
            th = threading.Thread(target=self._run, args=(self.bases[k % len(self.bases)],),
                                  daemon=True)
            th.start()
            self.threads.append(th)
        return self

    def join(self):
        for th in self.threads:
            th.join()
        if self.errors:
            raise RuntimeError("ingestion errors: %s" % self.errors[:3])
        return self

    def totals(self):
        with self.lock:
            return (len(self.done), sum(d[2] for d in self.done), sum(d[3] for d in self.done))


def ingest(bases, bodies, conns=INGEST_CONNS, what="ingest"):
    t = time.time()
    p = Poster(bases, bodies, conns).start().join()
    n, stored, opened = p.totals()
    secs = time.time() - t
    log("  %s: %d batches, %d events stored, %d streams opened in %.1f s (%.0f events/s)" % (
        what, n, stored, opened, secs, stored / max(secs, 1e-9)))
    return {"batches": n, "events": stored, "streams_opened": opened,
            "seconds": round(secs, 1), "events_per_s": round(stored / max(secs, 1e-9))}


def measured_ingest(server, bodies, dur, warm):
    """Posts `bodies` with 4 connections; measures a window of `dur` seconds after `warm`
    seconds (requests that end inside it), with the server's and PostgreSQL's CPU, as
    bench.Case.load does for wrk; then lets the rest of the bodies go in."""
    p = Poster([server.base], bodies).start()

    def finished():
        return not any(th.is_alive() for th in p.threads)

    # The window opens after `warm` seconds, or sooner with few bodies (a fifth of them done),
    # and closes after `dur` seconds or when every body is in.
    start = time.perf_counter()
    while time.perf_counter() - start < warm and len(p.done) < len(bodies) // 5:
        time.sleep(0.02)
    pids = server.pids()
    b.reset_peak(pids)
    c0, d0 = b.cpu_by_pid(pids), (b.pg_cpu() if server.db else {})
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < dur and not finished():
        time.sleep(0.02)
    c1, d1 = b.cpu_by_pid(server.pids()), (b.pg_cpu() if server.db else {})
    t1 = time.perf_counter()
    peak = b.status_kb(pids, "VmHWM") / 1024
    with p.lock:
        window = [d for d in p.done if t0 <= d[0] < t1]
        ran_out = p.next >= len(bodies)
    p.join()
    n = max(len(window), 1)
    lat = sorted(d[1] for d in window)
    events = sum(d[2] for d in window)
    secs = max(t1 - t0, 1e-3)
    out = {
        "requests": len(window), "errors": 0, "error_detail": {},
        "rps": round(len(window) / secs, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000, 2) if lat else None,
        "cpu_ms_per_req": round(b.cpu_delta(c0, c1) / b.CLK_TCK * 1000 / n, 3),
        "db_cpu_ms_per_req": (round(b.cpu_delta(d0, d1, reaped=True) / b.CLK_TCK * 1000 / n, 3)
                              if server.db else None),
        "cpu_util_cores": round(b.cpu_delta(c0, c1) / b.CLK_TCK / secs, 2),
        "db_cpu_util_cores": (round(b.cpu_delta(d0, d1, reaped=True) / b.CLK_TCK / secs, 2)
                              if server.db else None),
        "peak_mb": round(peak, 1), "conns": INGEST_CONNS, "seconds": round(secs, 1),
        "rows_per_s": round(events / secs),
        "streams_opened_in_window": sum(d[3] for d in window),
        "bodies_ran_out": ran_out,
    }
    log("  %-18s %-13s %8.1f batches/s = %d events/s p50 %s ms p99 %s ms cpu %.1f ms/batch "
        "(%.2f cores)%s" % ("ingest", server.name, out["rps"], out["rows_per_s"], out["p50_ms"],
                            out["p99_ms"], out["cpu_ms_per_req"], out["cpu_util_cores"],
                            "" if out["db_cpu_util_cores"] is None else
                            ", PostgreSQL %.2f cores" % out["db_cpu_util_cores"]))
    return out


# --------------------------------------------------------------------------------------------
# The peer: winchester's database with testgraph's rows, quincy under gunicorn
# --------------------------------------------------------------------------------------------

def psql_stdin(db, sql):
    """psql with the statement on stdin (a statement with a large literal exceeds the size of
    one command-line argument)."""
    return subprocess.run(["psql", "-h", b.PG_HOST, "-p", b.PG_PORT, "-U", b.PG_USER, "-d", db,
                           "-v", "ON_ERROR_STOP=1", "-Atq", "-f", "-"], input=sql, text=True,
                          capture_output=True, check=True).stdout


def export_csv(db, sql, path):
    with open(path, "w") as f:
        subprocess.run(["psql", "-h", b.PG_HOST, "-p", b.PG_PORT, "-U", b.PG_USER, "-d", db,
                        "-v", "ON_ERROR_STOP=1", "-Atqc",
                        "COPY (%s) TO STDOUT WITH (FORMAT csv)" % sql], stdout=f, check=True)
    return path


def load_peer(venv, work, db):
    """winchester's SQLite database with the events and streams testgraph holds in `db`."""
    ev = export_csv(db, "SELECT id, message_id, event_type, generated, traits FROM stt_events "
                        "ORDER BY id", os.path.join(work, "events.csv"))
    st = export_csv(db, "SELECT id, name, state, state_serial_no, first_event, last_event, "
                        "expire_timestamp, fire_timestamp, dist_traits FROM stt_streams ORDER BY id",
                    os.path.join(work, "streams.csv"))
    ln = export_csv(db, "SELECT stream_id, event_id FROM stt_stream_events ORDER BY 1, 2",
                    os.path.join(work, "links.csv"))
    db_path = os.path.join(work, "winchester.db")
    yaml_path = b.write(os.path.join(work, "winchester.yaml"),
                        "database:\n  url: sqlite:///%s\n" % db_path)
    ini = b.write(os.path.join(work, "quincy.ini"),
                  "[global]\nenabled_versions = 1\nv1_impl = quince.v1_impl:Impl\n\n"
                  "[quince]\nwinchester_config = %s\n" % yaml_path)
    t = time.time()
    out = b.sh([os.path.join(venv, "bin", "python"), os.path.join(STT, "load_peer.py"),
                yaml_path, ev, st, ln])
    summary = json.loads(out.strip().splitlines()[-1])
    summary["wall_seconds"] = round(time.time() - t, 1)
    log("  winchester loaded:", summary)
    return summary, ini


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------

def list_requests(sample):
    """The list requests: quincy's defaults (200 newest), an event type, an instance's events by
    trait, a trigger's streams, an instance's streams by distinguishing trait."""
    inst = sample["instance_id"]
    return [
        ("events", "/v1/events"),
        ("events_type", "/v1/events?event_name=compute.instance.create.end"),
        ("events_trait", "/v1/events?traits=instance_id:%s" % inst),
        ("streams", "/v1/streams"),
        ("streams_trigger", "/v1/streams?trigger_name=instance_usage"),
        ("streams_trait", "/v1/streams?distinguishing_traits=instance_id:%s" % inst),
    ]


LABELS = {
    "ingest": "POST /v1/events, 1,000 events a batch (example triggers)",
    "events": "GET /v1/events (200 newest)",
    "events_type": "GET /v1/events?event_name=compute.instance.create.end",
    "events_trait": "GET /v1/events?traits=instance_id:… (one instance)",
    "streams": "GET /v1/streams (200 newest)",
    "streams_trigger": "GET /v1/streams?trigger_name=instance_usage",
    "streams_trait": "GET /v1/streams?distinguishing_traits=instance_id:…",
}


def get_retrying(base, path, tries=6):
    """GET, again when the connection drops (gunicorn replaces a quincy worker that crashed)."""
    for i in range(tries):
        try:
            return b.http("GET", base + path, timeout=120)
        except (OSError, http.client.HTTPException) as e:
            if i == tries - 1:
                raise
            log("  GET %s: %s; again" % (path, e))
            time.sleep(1)


def answer_ids(base, path):
    st, body = get_retrying(base, path)
    if st != 200:
        raise RuntimeError("GET %s%s: HTTP %s %s" % (base, path, st, body[:300]))
    doc = json.loads(body)
    return [(d.get("_mark"), d.get("message_id") or d.get("name")) for d in doc]


def wait_idle(limit):
    waited = 0
    while limit and waited < limit:
        busy = b.busy_processes()
        if not busy:
            break
        if waited == 0:
            log("waiting for compilers/CI to finish:", busy[:3])
        time.sleep(15)
        waited += 15
    return waited


def tg_server(testgraph, name, url, logdir, db, triggers, worker=False, port=None,
              interval_ms=None):
    cmd = [testgraph, "serve", "--database-url", url, "--bind",
           "127.0.0.1:%d" % (port or PORTS[name]), "--stacktach-triggers", triggers,
           "--stacktach-pipelines", os.path.join(EXAMPLES, "pipelines.yaml")]
    if not worker:
        cmd.append("--no-stacktach-worker")
    if interval_ms:
        cmd += ["--stacktach-worker-interval-ms", str(interval_ms)]
    return b.Server(name, cmd, {"TESTGRAPH_LOG": "warn"}, port or PORTS[name], "/readyz", logdir,
                    db)


def run_lists(res, key, server, reqs, scale):
    out = res["servers"].setdefault(key, {"cases": {}})["cases"]
    for case, path in reqs:
        c = b.Case(case, server, path, "get.lua")
        get_retrying(server.base, path)
        out[case] = c.load(scale["duration"], scale["warmup"])
        out[case]["path"] = path


def stream_counts(db_url_kind, server):
    st, body = b.http("GET", server.base + "/v1/streams/count")
    ev_st, ev_body = b.http("GET", server.base + "/v1/events/count")
    return {"streams": json.loads(body)[0]["count"], "events": json.loads(ev_body)[0]["count"]}


def alone_spec(server_db_kind, batches, now):
    return [(batch, groups_of(batch, now)) for batch in batches]


def pg_alone_case(testgraph_srv, bodies_events, bodies_dir, restart):
    """PostgreSQL alone: a copy of testgraph's database as it stands (CREATE DATABASE ...
    TEMPLATE, so testgraph's server stops for the copy), and the next 4 batches as pgbench
    transactions there."""
    testgraph_srv.stop()
    b.psql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % ALONE_DB)
    b.psql("postgres", "CREATE DATABASE %s TEMPLATE %s" % (ALONE_DB, STT_DB))
    restart()
    now = datetime.datetime.utcnow()
    spec = alone_spec("pg", bodies_events, now)
    # The streams each batch joins, found in the copy (an active one of the key, the newest);
    # the others testgraph opens in that batch, and so does the script, each time. The links of
    # these go to a stand-in opened here once, completed (state 6), so that neither the batch's
    # SELECT of active streams nor its UPDATE sees it.
    stream_ids, opened = {}, []
    for c, (batch, groups) in enumerate(spec):
        keys = [{"n": g[0], "k": g[1], "f": g[3]} for g in groups]
        rows = psql_stdin(ALONE_DB, (
            "SELECT k.n || chr(31) || k.k || chr(31) || coalesce((SELECT s.id FROM stt_streams s "
            "WHERE s.name = k.n AND s.dist_traits = k.k AND s.state = 1 AND (s.expire_timestamp "
            "IS NULL OR s.expire_timestamp > now() AT TIME ZONE 'UTC') ORDER BY s.id DESC LIMIT "
            "1), -1) FROM json_to_recordset(%s::json) AS k(n text, k text, f text)")
            % sql_text(json.dumps(keys)) + ";").split("\n")
        missing = set()
        for line in rows:
            if not line:
                continue
            n, k, sid = line.split("\x1f")
            if int(sid) < 0:
                missing.add((n, k))
            else:
                stream_ids[(n, k)] = int(sid)
        opened.append(missing)
        if missing:
            todo = [{"n": n, "k": k} for n, k in missing if (n, k) not in stream_ids]
            if todo:
                for line in psql_stdin(ALONE_DB, (
                        "INSERT INTO stt_streams (name, state, state_serial_no, first_event, "
                        "last_event, dist_traits, event_count, fire_hits) SELECT k.n, 6, 0, now(), "
                        "now(), k.k, 0, '[0]' FROM json_to_recordset(%s::json) AS k(n text, k text) "
                        "RETURNING name || chr(31) || dist_traits || chr(31) || id;")
                        % sql_text(json.dumps(todo))).split("\n"):
                    if line:
                        n, k, sid = line.split("\x1f")
                        stream_ids[(n, k)] = int(sid)
    script = pgbench_ingest_script(os.path.join(bodies_dir, "pgbench_stt_ingest.sql"), spec,
                                   stream_ids, opened)
    info = {"groups_per_batch": [len(g) for _, g in spec],
            "opened_per_batch": [len(o) for o in opened]}
    return b.AloneCase("ingest", b.Alone("pg_alone"), BATCH, script, db=ALONE_DB,
                       protocol="simple"), info


def sqlite_alone_case(sqlite_path, bodies_events, work):
    copy = os.path.join(work, "alone.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    src = sqlite3.connect(sqlite_path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    now = datetime.datetime.utcnow()
    spec = alone_spec("sqlite", bodies_events, now)
    # Whether testgraph opens each group's stream in that batch: no active stream of its key in
    # the copy (as pg_alone_case); the script then opens it each time and updates the others.
    db = sqlite3.connect(copy)
    now_text = now.strftime("%Y-%m-%d %H:%M:%S")
    for _, groups in spec:
        for g in groups:
            g.append(db.execute(
                "SELECT 1 FROM stt_streams WHERE name = ? AND dist_traits = ? AND state = 1 AND "
                "(expire_timestamp IS NULL OR expire_timestamp > ?) LIMIT 1",
                (g[0], g[1], now_text)).fetchone() is None)
    db.close()
    f = b.write(os.path.join(work, "sqlite_stt_ingest.json"), json.dumps({"batches": [
        {"events": [[e["message_id"], e["event_type"], parse_ts(e["timestamp"]).strftime(TS_FMT),
                     b_traits(e["traits"])] for e in batch], "groups": groups}
        for batch, groups in spec]}))
    info = {"groups_per_batch": [len(g) for _, g in spec],
            "opened_per_batch": [sum(1 for g in groups if g[8]) for _, groups in spec]}
    return b.AloneCase("ingest", b.Alone("sqlite_alone"), BATCH,
                       sqlite=(copy, "ingest", f),
                       sqlite_script=os.path.join("stacktach", "sqlite_ingest_alone.py")), info


def count_ingest_statements(server, body, logfile):
    """The statements PostgreSQL logs for one batch (log_statement = 'all' on the database)."""
    b.psql("postgres", "ALTER DATABASE %s SET log_statement = 'all'" % STT_DB)
    try:
        server.stop()
        server.start()
        time.sleep(0.3)
        start = os.path.getsize(logfile)
        st, _ = b.http("POST", server.base + "/v1/events", body)
        time.sleep(0.8)
        with open(logfile, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    finally:
        b.psql("postgres", "ALTER DATABASE %s RESET log_statement" % STT_DB)
        server.stop()
        server.start()
    kinds = {}
    n = 0
    for line in text.splitlines():
        m = b.STMT.search(line)
        if m and m.group(1) == STT_DB:
            n += 1
            words = m.group(2).split()
            kind = " ".join(words[:3]) if words else "?"
            kinds[kind] = kinds.get(kind, 0) + 1
    return {"statements": n, "by_start": dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:12])}


# --------------------------------------------------------------------------------------------
# The worker burst
# --------------------------------------------------------------------------------------------

def burst_batches(n_events, n_streams, seed=190):
    """The burst: `n_streams` build requests of 10 notifications each, interleaved (a window of
    requests in flight), half of whose builds end (`create.end`: the stream fires) and half fail
    (`create.error`: it expires). Each batch is made when it is sent, its events stamped with the
    time then, as notifications arriving live."""
    rng = random.Random(seed)
    per = BURST_EVENTS_PER_STREAM
    flight = max(10, n_streams // 20)
    plan = []  # (order key, request, k)
    for r in range(n_streams):
        for k in range(per):
            plan.append((r + k * flight / per + rng.random(), r, k))
    plan.sort()
    plan = plan[:n_events]
    reqs = ["req-" + str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n_streams)]
    insts = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n_streams)]
    steps = (["scheduler.select_destinations.start", "scheduler.select_destinations.end",
              "compute.instance.create.start"] + ["compute.instance.update"] * 6)
    mid = random.Random(seed + 1)
    chunks = [plan[i:i + BATCH] for i in range(0, len(plan), BATCH)]

    def make(chunk):
        now = datetime.datetime.utcnow()
        evs = []
        for _, r, k in chunk:
            if k < per - 1:
                et = steps[k]
            else:
                et = "compute.instance.create.end" if r % 2 == 0 else "compute.instance.create.error"
            evs.append({"message_id": str(uuid.UUID(int=mid.getrandbits(128), version=4)),
                        "event_type": et, "timestamp": iso(now),
                        "traits": {"instance_id": insts[r], "request_id": reqs[r],
                                   "tenant_id": "%032x" % (r % 97), "host": "compute-%03d" % (
                                       r % HOSTS), "service": "compute", "state": "building",
                                   "memory_mb": 2048, "vcpus": 2, "os_distro": "ubuntu"}})
        return encode(evs)

    return chunks, make


def run_burst(a, scale, res, logdir):
    n_events, n_streams = scale["burst_events"], scale["burst_streams"]
    b.fresh_pg_db(BURST_DB)
    url = "postgres://%s@%s:%s/%s" % (b.PG_USER, b.PG_HOST, b.PG_PORT, BURST_DB)
    trig = os.path.join(STT, "triggers.yaml")
    servers = [tg_server(a.testgraph, n, url, logdir, BURST_DB, trig, worker=True)
               for n in ("burst_a", "burst_b")]
    try:
        servers[0].start()  # migrates first
        servers[1].start()
        chunks, make = burst_batches(n_events, n_streams)
        log("burst: %d events for %d streams through 2 servers (worker on in both)" % (
            n_events, n_streams))
        t_start = time.time()
        p = Poster([s.base for s in servers], chunks, conns=INGEST_CONNS, make=make).start().join()
        t_ingested = time.time()
        n, stored, opened = p.totals()
        log("  ingested %d events, %d streams opened in %.1f s" % (stored, opened,
                                                                    t_ingested - t_start))
        # Poll: which streams are completed, and when each was due (its fire time if it has one,
        # else its expiry), until all are or a deadline passes.
        seen = {}
        deadline = time.time() + 600
        total = int(b.psql(BURST_DB, "SELECT count(*) FROM stt_streams"))
        last_due = None
        while time.time() < deadline:
            now = time.time()
            rows = b.psql(BURST_DB, (
                "SELECT id, extract(epoch FROM coalesce(fire_timestamp, expire_timestamp)), "
                "state FROM stt_streams WHERE state IN (4, 5, 6) OR id = 0"))
            for line in rows.split("\n"):
                if line:
                    sid, due, state = line.split("|")
                    if sid not in seen:
                        seen[sid] = (now, float(due), int(state))
            if len(seen) >= total:
                break
            time.sleep(0.5)
        done_at = time.time()
        last_due = float(b.psql(BURST_DB, "SELECT extract(epoch FROM max(coalesce("
                                          "fire_timestamp, expire_timestamp))) FROM stt_streams"))
        states = dict(line.split("|") for line in b.psql(
            BURST_DB, "SELECT state, count(*) FROM stt_streams GROUP BY 1").split("\n") if line)
        fired = int(b.psql(BURST_DB, "SELECT count(*) FROM stt_streams WHERE fire_timestamp "
                                     "IS NOT NULL"))
        lags = sorted(max(0.0, t - due) for t, due, _ in seen.values())
        all_done = len(seen) >= total and all(s == 6 for _, _, s in seen.values())
        finish = max(t for t, _, _ in seen.values()) if seen else None
        out = {
            "events": stored, "streams": total, "streams_opened": opened,
            "streams_fired": fired, "streams_expired": total - fired,
            "ingest_seconds": round(t_ingested - t_start, 1),
            "ingest_events_per_s": round(stored / max(t_ingested - t_start, 1e-9)),
            "states": {b_state(int(k)): int(v) for k, v in states.items()},
            "all_completed": all_done,
            "lag_after_last_due_s": round(finish - last_due, 1) if finish else None,
            "lag_max_s": round(lags[-1], 1) if lags else None,
            "lag_p99_s": round(lags[min(len(lags) - 1, len(lags) * 99 // 100)], 1) if lags else None,
            "lag_p50_s": round(lags[len(lags) // 2], 1) if lags else None,
            "total_seconds": round((finish or done_at) - t_start, 1),
            "poll_interval_s": 0.5, "worker_interval_ms": 1000, "servers": 2,
            "expiration": "$last + 1m", "fire_delay_s": 10,
        }
        log("  burst: %s" % out)
        res["burst"] = out
    finally:
        for s in servers:
            s.stop()


def b_state(code):
    return {1: "active", 2: "firing", 3: "expiring", 4: "error", 5: "expire_error",
            6: "completed", 7: "retry_fire", 8: "retry_expire"}.get(code, str(code))


# --------------------------------------------------------------------------------------------
# One database: load, compare, ingest, grow, list
# --------------------------------------------------------------------------------------------

def run_database(a, scale, res, kind, logdir, bodies_dir, tmp, peer_hook):
    """testgraph on one database: the first `peer_events` events (then `peer_hook`, and the
    lists on that data), the database alone and testgraph's measured ingestion on the next
    batches, the rest of the events up to `events`, the lists again."""
    name = "tg_pg" if kind == "pg" else "tg_sqlite"
    if kind == "pg":
        b.fresh_pg_db(STT_DB)
        url = "postgres://%s@%s:%s/%s" % (b.PG_USER, b.PG_HOST, b.PG_PORT, STT_DB)
        sqlite_path = None
    else:
        sqlite_path = os.path.join(tmp, "stacktach.db")
        url = "sqlite://%s?mode=rwc" % sqlite_path
    srv = tg_server(a.testgraph, name, url, logdir, STT_DB if kind == "pg" else None,
                    os.path.join(EXAMPLES, "triggers.yaml"))
    t_gen = time.time()
    cloud = Cloud(scale["events"], datetime.datetime.utcnow(), scale["span_s"])
    n_peer = scale["peer_events"] // BATCH
    # Only the bodies are kept, and the events of the few batches the alone cases need.
    bodies, kept, cur = [], {}, []
    for e in cloud.events():
        cur.append(e)
        if len(cur) == BATCH:
            if len(bodies) == n_peer // 2 or n_peer <= len(bodies) < n_peer + INGEST_CONNS:
                kept[len(bodies)] = cur
            bodies.append(encode(cur))
            cur = []
    if cur:
        bodies.append(encode(cur))
    log("%s: %d events in %d bodies generated in %.1f s (%.0f MB)" % (
        name, scale["events"], len(bodies), time.time() - t_gen,
        sum(len(x) for x in bodies) / 1e6))
    info = res.setdefault("data", {}).setdefault(name, {})
    try:
        srv.start()
        info["phase1"] = ingest([srv.base], bodies[:n_peer], what="%s first %d events" % (
            name, scale["peer_events"]))
        if kind == "pg":
            b.psql(STT_DB, "VACUUM ANALYZE")
        info["at_peer_size"] = stream_counts(kind, srv)
        sample = kept[n_peer // 2][0]["traits"]
        reqs = list_requests(sample)
        res["requests"] = reqs
        peer_hook(srv, reqs)
        log("%s: lists over %s events" % (name, "{:,}".format(info["at_peer_size"]["events"])))
        run_lists(res, name + "@peer", srv, reqs, scale)
        # Ingestion: the database alone on a copy, then testgraph on the next batches.
        rest = bodies[n_peer:]
        rest_events = [kept[n_peer + k] for k in range(INGEST_CONNS)]
        if kind == "pg":
            case, ainfo = pg_alone_case(srv, rest_events[:INGEST_CONNS], bodies_dir,
                                        lambda: srv.start())
            logfile = b.pg_log_path()
            if logfile and os.access(logfile, os.R_OK):
                # One batch of the same kind (fresh message ids), for the statement count.
                probe = [dict(e, message_id="probe-" + e["message_id"]) for e in rest_events[0]]
                res["statements_per_batch"] = count_ingest_statements(srv, encode(probe),
                                                                      logfile)
                log("  statements for one batch: %s" % res["statements_per_batch"])
        else:
            case, ainfo = sqlite_alone_case(sqlite_path, rest_events[:INGEST_CONNS], tmp)
        res.setdefault("alone_info", {})[kind] = ainfo
        alone_key = "pg_alone" if kind == "pg" else "sqlite_alone"
        res["servers"].setdefault(alone_key, {"cases": {}})["cases"]["ingest"] = case.load(
            scale["duration"], scale["warmup"])
        if kind == "pg":
            b.psql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % ALONE_DB)
        res["servers"].setdefault(name, {"cases": {}})["cases"]["ingest"] = measured_ingest(
            srv, rest, scale["duration"], scale["warmup"])
        info["total"] = stream_counts(kind, srv)
        log("%s: %s" % (name, info["total"]))
        if kind == "pg":
            b.psql(STT_DB, "VACUUM ANALYZE")
        srv.stop()
        srv.start()
        log("%s: lists over %s events" % (name, "{:,}".format(info["total"]["events"])))
        run_lists(res, name, srv, reqs, scale)
        res["servers"][name]["idle_rss_mb"] = round(b.status_kb(srv.pids(), "VmRSS") / 1024, 1)
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--testgraph", required=True)
    ap.add_argument("--peer-venv", required=True, help="the StackTach peers' virtualenv")
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    ap.add_argument("--docs", default=None, help="markdown file whose StackTach block is replaced")
    ap.add_argument("--command", default="bench/run.sh --stacktach-only")
    ap.add_argument("--wait-idle", type=int, default=1200,
                    help="seconds to wait for compilers/CI on this machine to finish")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: pg,sqlite,burst")
    a = ap.parse_args()
    scale = QUICK if a.quick else FULL
    skip = set(filter(None, a.skip.split(",")))
    os.makedirs(a.out, exist_ok=True)
    logdir = os.path.join(a.out, "logs-stacktach")
    bodies_dir = os.path.join(a.out, "bodies")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    os.makedirs(bodies_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="sttbench.")
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.time()
    res = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "command": a.command,
           "quick": a.quick, "scale": scale, "machine": b.machine(), "noise": {},
           "servers": {}}
    res["noise"]["busy_at_start"] = b.busy_processes()
    res["noise"]["loadavg_start"] = b.loadavg()
    res["noise"]["waited_for_idle_s"] = wait_idle(a.wait_idle)
    res["noise"]["busy_at_load_start"] = b.busy_processes()

    peer = {}

    def peer_hook(srv, reqs):
        """Once, on PostgreSQL: winchester gets testgraph's rows, quincy answers the lists."""
        if peer or srv.name != "tg_pg":
            return
        work = os.path.join(tmp, "peer")
        os.makedirs(work, exist_ok=True)
        res["peer_load"], ini = load_peer(a.peer_venv, work, STT_DB)
        q = b.Server("quincy", [os.path.join(a.peer_venv, "bin", "gunicorn"), "-w",
                                str(QUINCY_WORKERS), "-b", "127.0.0.1:%d" % PORTS["quincy"],
                                "--log-level", "warning", "--chdir", STT, "quincy_wsgi:application"],
                     {"QUINCY_INI": ini}, PORTS["quincy"], "/v1/streams/count", logdir)
        peer["srv"] = q
        try:
            q.start()
            # Every worker answers each request once before anything is compared or measured.
            for _ in range(QUINCY_WORKERS):
                for _, path in reqs:
                    get_retrying(q.base, path)
            checks = {}
            for case, path in reqs:
                mine, theirs = answer_ids(srv.base, path), answer_ids(q.base, path)
                checks[case] = {"same": mine == theirs, "rows": len(mine)}
                log("  equivalence %s: %s (%d rows)" % (case, mine == theirs, len(mine)))
            res["equivalence"] = checks
            log("quincy: lists over %s events" % "{:,}".format(res["peer_load"]["events"]))
            run_lists(res, "quincy", q, reqs, scale)
        finally:
            q.stop()
            # gunicorn restarts a worker that dies; how often that happened is kept.
            with open(q.logpath, errors="replace") as f:
                res["quincy_worker_deaths"] = sum("was sent SIG" in line for line in f)

    try:
        if "pg" not in skip:
            run_database(a, scale, res, "pg", logdir, bodies_dir, tmp, peer_hook)
        if "sqlite" not in skip:
            run_database(a, scale, res, "sqlite", logdir, bodies_dir, tmp, peer_hook)
        if "burst" not in skip:
            run_burst(a, scale, res, logdir)
    finally:
        res["noise"]["busy_at_end"] = b.busy_processes()
        res["noise"]["loadavg_end"] = b.loadavg()
        res["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M UTC")
        res["wall_seconds"] = round(time.time() - t_start)
        path = os.path.join(a.out, "stacktach-quick.json" if a.quick else "stacktach.json")
        with open(path, "w") as f:
            json.dump(res, f, indent=1, default=str)
        log("results in", path)
        shutil.rmtree(tmp, ignore_errors=True)
    res["targets"] = targets(res)
    with open(path, "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = render(res)
    b.write(os.path.join(a.out, "stacktach-quick.md" if a.quick else "stacktach.md"), md)
    if a.docs:
        replace_block(a.docs, md)
        log("replaced the StackTach block of", a.docs)
    print(md)


# --------------------------------------------------------------------------------------------
# Targets and the table
# --------------------------------------------------------------------------------------------

def get(res, srv, case, key):
    return res["servers"].get(srv, {}).get("cases", {}).get(case, {}).get(key)


def targets(res):
    out = []

    def add(target, measured, met, detail=""):
        out.append({"target": target, "measured": measured, "met": bool(met), "detail": detail})

    for srv, alone, label in (("tg_pg", "pg_alone", "PostgreSQL"),
                              ("tg_sqlite", "sqlite_alone", "SQLite")):
        ev = get(res, srv, "ingest", "rows_per_s")
        al = get(res, alone, "ingest", "rows_per_s")
        if ev is None:
            continue
        share = ev / al if al else None
        add("ingestion >= 10,000 events/s, or >= 70 %% of the database alone (%s)" % label,
            "{:,} events/s".format(ev) + ("" if share is None else " (%.0f %% of %s alone: %s "
                                          "events/s)" % (100 * share, label, "{:,}".format(al))),
            ev >= 10_000 or (share is not None and share >= 0.7))
    for case, _ in res.get("requests", []):
        q = get(res, "quincy", case, "rps")
        for srv, label in (("tg_pg@peer", "PostgreSQL"), ("tg_sqlite@peer", "SQLite")):
            mine = get(res, srv, case, "rps")
            if mine is None or q is None:
                continue
            add("%s >= 20x quincy req/s (%s)" % (LABELS[case], label),
                "%.1fx (%.1f vs %.1f req/s)" % (mine / q, mine, q), mine / q >= 20)
    bu = res.get("burst")
    if bu:
        add("burst: %s events, %s streams, 2 servers: all fired or expired within 60 s of the "
            "last stream's due time" % ("{:,}".format(bu["events"]), "{:,}".format(bu["streams"])),
            "%s s after the last due time (lag max %s s, p99 %s s)" % (
                bu["lag_after_last_due_s"], bu["lag_max_s"], bu["lag_p99_s"]),
            bu["all_completed"] and bu["lag_after_last_due_s"] is not None
            and bu["lag_after_last_due_s"] <= 60 and (bu["lag_max_s"] or 0) <= 60)
    return out


SERVER_LABEL = {"tg_pg": "testgraph (PostgreSQL)", "tg_sqlite": "testgraph (SQLite)",
                "pg_alone": "PostgreSQL alone (pgbench, same statements, 4 clients)",
                "sqlite_alone": "SQLite alone (same statements, one writer)",
                "quincy": "quincy + winchester (SQLite, gunicorn ×%d)" % QUINCY_WORKERS}


def render(res):
    m = res["machine"]
    d = res.get("data", {})
    L = []
    L.append("Run of %s (finished %s, %d s)%s." % (
        res["date"], res["finished"], res["wall_seconds"],
        " — QUICK SMOKE RUN, small data" if res["quick"] else ""))
    L.append("")
    L.append("- Command: `%s`" % res["command"])
    L.append("- Machine: %s cores (`nproc`), %s, %s GiB RAM, Linux %s; PostgreSQL %s; %s; "
             "testgraph at %s." % (m["nproc"], m["cpu_model"], m["mem_gib"], m["kernel"],
                                   m["postgres"], m["wrk"], m["commit"]))
    for k, label in (("tg_pg", "PostgreSQL"), ("tg_sqlite", "SQLite")):
        if k in d and "total" in d[k]:
            L.append("- Data on %s: %s events → %s streams (example triggers); the comparison "
                     "with quincy at %s events → %s streams." % (
                         label, "{:,}".format(d[k]["total"]["events"]),
                         "{:,}".format(d[k]["total"]["streams"]),
                         "{:,}".format(d[k]["at_peer_size"]["events"]),
                         "{:,}".format(d[k]["at_peer_size"]["streams"])))
    pl = res.get("peer_load")
    if pl:
        L.append("- quincy's winchester database (SQLite, loaded with testgraph's PostgreSQL rows "
                 "in %.0f s): %s events, %s traits, %s streams, %s distinguishing traits, %s "
                 "stream-event links." % (pl["wall_seconds"], "{:,}".format(pl["events"]),
                                          "{:,}".format(pl["traits"]), "{:,}".format(pl["streams"]),
                                          "{:,}".format(pl["dist_traits"]),
                                          "{:,}".format(pl["stream_events"])))
    L.append("- Lists: wrk, %d s per case after %d s of warm-up, 4 connections on 2 threads. "
             "Ingestion: 4 connections posting batches of 1,000 new events, measured over %d s "
             "after %d s." % (res["scale"]["duration"], res["scale"]["warmup"],
                              res["scale"]["duration"], res["scale"]["warmup"]))
    L.append("")
    L.append("| case | server | data | req/s | p50 ms | p99 ms | CPU ms/req | DB CPU ms/req | "
             "÷ peer or alone |")
    L.append("|---|---|---|---:|---:|---:|---:|---:|---:|")

    def size(srv):
        base = srv.split("@")[0]
        if srv == "quincy":
            return "%s ev" % "{:,}".format(pl["events"]) if pl else "—"
        dd = d.get(base, {})
        part = dd.get("at_peer_size" if "@" in srv else "total")
        return "%s ev / %s st" % ("{:,}".format(part["events"]), "{:,}".format(part["streams"])) \
            if part else "—"

    # Ingestion
    for srv, alone in (("pg_alone", None), ("tg_pg", "pg_alone"), ("sqlite_alone", None),
                       ("tg_sqlite", "sqlite_alone")):
        c = res["servers"].get(srv, {}).get("cases", {}).get("ingest")
        if not c:
            continue
        rat = ""
        if alone and get(res, alone, "ingest", "rows_per_s"):
            rat = "**%.0f %%** of alone" % (100 * c["rows_per_s"] / get(res, alone, "ingest",
                                                                         "rows_per_s"))
        L.append("| %s | %s | %s | %.1f (%s events/s) | %s | %s | %.1f | %s | %s |" % (
            LABELS["ingest"], SERVER_LABEL[srv], "at %s ev" % "{:,}".format(
                res["scale"]["peer_events"]), c["rps"], "{:,}".format(c["rows_per_s"]),
            c["p50_ms"], c["p99_ms"], c["cpu_ms_per_req"], b.fmt(c["db_cpu_ms_per_req"], "%.1f"),
            rat))
    for case, _ in res.get("requests", []):
        for srv in ("quincy", "tg_pg@peer", "tg_sqlite@peer", "tg_pg", "tg_sqlite"):
            c = res["servers"].get(srv, {}).get("cases", {}).get(case)
            if not c:
                continue
            rat = ""
            q = get(res, "quincy", case, "rps")
            if srv.endswith("@peer") and q:
                rat = "**%.1f×**" % (c["rps"] / q)
            err = " ⚠ %d errors" % c["errors"] if c["errors"] else ""
            L.append("| %s | %s | %s | %.1f%s | %.2f | %.2f | %.3f | %s | %s |" % (
                LABELS[case], SERVER_LABEL[srv.split("@")[0]], size(srv), c["rps"], err,
                c["p50_ms"], c["p99_ms"], c["cpu_ms_per_req"],
                b.fmt(c["db_cpu_ms_per_req"], "%.3f"), rat))
    if res.get("quincy_worker_deaths"):
        L.append("")
        L.append("gunicorn restarted a quincy worker %d time(s) during its cases (`Worker was sent "
                 "SIGSEGV` in its log); wrk's connections reconnect." % res["quincy_worker_deaths"])
    eq = res.get("equivalence")
    if eq:
        L.append("")
        L.append("Same answers (each row's `_mark` and message id or trigger name, in order) "
                 "from testgraph (PostgreSQL) and quincy: " + "; ".join(
                     "%s %s (%d rows)" % (k, "same" if v["same"] else "DIFFERENT", v["rows"])
                     for k, v in eq.items()) + ".")
    sp = res.get("statements_per_batch")
    if sp:
        L.append("")
        L.append("Statements PostgreSQL logged for one batch of 1,000 events: %d (%s)." % (
            sp["statements"], ", ".join("`%s…` %d" % (k, v) for k, v in sp["by_start"].items())))
    bu = res.get("burst")
    if bu:
        L.append("")
        L.append("Worker burst (two testgraph processes on one PostgreSQL database, worker on in "
                 "both, `bench/stacktach/triggers.yaml`: expiration `%s`, fire delay %d s): %s "
                 "events opened %s streams in %.1f s (%s events/s); %s fire, %s expire. All "
                 "completed: %s; the last stream ended %s s after the last due time (its fire or "
                 "expiry time); per stream, completion minus due time: p50 %s s, p99 %s s, max %s "
                 "s (polled every %.1f s); %s s from the first event to the last completion. "
                 "States at the end: %s." % (
                     bu["expiration"], bu["fire_delay_s"], "{:,}".format(bu["events"]),
                     "{:,}".format(bu["streams"]), bu["ingest_seconds"],
                     "{:,}".format(bu["ingest_events_per_s"]), "{:,}".format(bu["streams_fired"]),
                     "{:,}".format(bu["streams_expired"]), "yes" if bu["all_completed"] else "NO",
                     bu["lag_after_last_due_s"], bu["lag_p50_s"], bu["lag_p99_s"], bu["lag_max_s"],
                     bu["poll_interval_s"], bu["total_seconds"], bu["states"]))
    L.append("")
    L.append("#### Targets")
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---|---|")
    for t in res.get("targets", []):
        L.append("| %s | %s | %s |" % (t["target"], t["measured"] or "—",
                                       "met" if t["met"] else "**not met**"))
    n = res["noise"]
    L.append("")
    L.append("Noise: load average %s at start, %s at the end; compilers or CI seen at start: %d "
             "(waited %s s), at the end: %d." % (
                 n["loadavg_start"], n["loadavg_end"], len(n["busy_at_start"]),
                 n.get("waited_for_idle_s", 0), len(n["busy_at_end"])))
    return "\n".join(L) + "\n"


BEGIN, END = "<!-- stacktach:begin (bench/run.sh) -->", "<!-- stacktach:end -->"


def replace_block(path, md):
    text = open(path).read()
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + "\n\n## StackTach.v3\n\n%s\n%s\n" % (BEGIN, END)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    b.write(path, head + BEGIN + "\n" + md + END + tail)


if __name__ == "__main__":
    main()
