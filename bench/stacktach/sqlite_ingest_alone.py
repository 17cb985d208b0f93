#!/usr/bin/env python3
"""SQLite with no server in front, ingesting StackTach event batches as testgraph does: the
ceiling for `POST /v1/events` on SQLite (bench/stacktach.py runs it, as bench/sqlite_alone.py is
run for the other write cases, on a copy of testgraph's SQLite file).

    sqlite_ingest_alone.py DB ingest SPEC_JSON SECONDS WARMUP_SECONDS

SPEC_JSON: {"batches": [{"events": [[message_id, event_type, generated, traits_json], ...],
"groups": [[trigger, dist_traits_json, [event indexes], first, last, expire, fire, fire_hits,
opened], ...]}, ...]}, the batches testgraph is about to ingest with the streams each event joins
(computed by bench/stacktach.py with the example triggers; `opened`: the copy holds no active
stream of the key, so testgraph opens one in that batch). One writer (SQLite admits one at a
time; so do testgraph's writers), testgraph's connection settings, one transaction a batch, the
batches in turn, each time with fresh message ids; per batch the statements of
`service::stacktach::ingest`: the events in one multi-row `INSERT ... ON CONFLICT DO NOTHING
RETURNING id`, their string traits into `stt_event_strings` a statement per 10,000, per trigger
the `SELECT` of the active streams of the batch's keys, the streams opened written with their
final values in one multi-row `INSERT ... RETURNING *` per 500 followed by their string
distinguishing traits into `stt_stream_strings`, the
streams joined (the newest active stream of each other key) in one `WITH v(...) AS (VALUES ...)
UPDATE ... FROM v` per 500, and the stream-event links in one multi-row `INSERT` per 5,000. A
group marked opened opens a new stream each time (as testgraph did for that batch), under its
key with the run's suffix (as the message ids), so that no run finds the streams of the earlier
ones; a stream opened is not updated.
Prints one JSON line as sqlite_alone.py does.
Standard library only.
"""

import json
import sqlite3
import sys
import time

STREAM_COLS = ("name, state, state_serial_no, first_event, last_event, expire_timestamp, "
               "fire_timestamp, dist_traits, event_count, fire_hits")
CHUNK = 500  # streams written or updated a statement per this many, as testgraph
STRINGS_CHUNK = 10_000  # string-trait rows a statement, as testgraph (service/stacktach/strings.rs)


def write_strings(db, table, owner, rows):
    for k in range(0, len(rows), STRINGS_CHUNK):
        chunk = rows[k:k + STRINGS_CHUNK]
        db.execute("INSERT INTO %s (name, value, %s) VALUES %s"
                   % (table, owner, ", ".join(["(?, ?, ?)"] * len(chunk))),
                   [v for row in chunk for v in row])


def strings_of(owner_id, stored):
    return [(k, v, owner_id) for k, v in json.loads(stored).items() if isinstance(v, str)]


def with_suffix(key, suffix):
    """Distinguishing traits (compact JSON) with `suffix` at the end of the first value, a
    string: a key of its own, still JSON."""
    end = key.index('"', key.index('":"') + 3)
    return key[:end] + suffix + key[end:]


def main():
    path, _mode, spec_file, seconds, warmup = sys.argv[1:6]
    seconds, warmup = float(seconds), float(warmup)
    with open(spec_file) as f:
        spec = json.load(f)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=10000"):
        db.execute("PRAGMA " + pragma)
    batches = spec["batches"]
    counter = [0]

    def one(batch, now):
        counter[0] += 1
        suffix = "-a%d" % counter[0]
        events = batch["events"]
        db.execute("BEGIN")
        sql = ("INSERT INTO stt_events (message_id, event_type, generated, traits) VALUES %s "
               "ON CONFLICT (message_id) DO NOTHING RETURNING id"
               % ", ".join(["(?, ?, ?, ?)"] * len(events)))
        params = []
        for m, t, g, tr in events:
            params += [m + suffix, t, g, tr]
        ids = sorted(r[0] for r in db.execute(sql, params).fetchall())
        write_strings(db, "stt_event_strings", "event_id",
                      [row for (_, _, _, tr), i in zip(events, ids) for row in strings_of(i, tr)])
        # The keys of the streams opened get the suffix too, so that the batch's next runs do
        # not find the streams opened by its earlier ones (testgraph finds none of them).
        groups = [g[:1] + [with_suffix(g[1], suffix) if g[8] else g[1]] + g[2:]
                  for g in batch["groups"]]
        by_trigger = {}
        for g in groups:
            by_trigger.setdefault(g[0], []).append(g[1])
        found = {}
        for trig, keys in by_trigger.items():
            q = ("SELECT * FROM stt_streams WHERE name = ? AND +state = 1 AND dist_traits IN (%s) "
                 "AND (expire_timestamp IS NULL OR expire_timestamp > ?)"
                 % ", ".join("?" * len(keys)))
            for row in db.execute(q, [trig] + keys + [now]).fetchall():
                # The newest active stream of a key is the one its events join.
                k = (row[1], row[8])
                found[k] = max(found.get(k, 0), row[0])
        # A key testgraph joined in that batch but found inactive here is opened (as it would be).
        new, joined = [], []
        for g in groups:
            sid = found.get((g[0], g[1]))
            (new if sid is None else joined).append((g, sid))
        stream_of = {}
        for k in range(0, len(new), CHUNK):
            chunk = new[k:k + CHUNK]
            params = []
            for (trig, key, idx, first, last, expire, fire, hits, _), _ in chunk:
                params += [trig, first, last, expire, fire, key, len(idx), hits]
            strings = []
            for row in db.execute(
                    "INSERT INTO stt_streams (%s) VALUES %s RETURNING *" % (
                        STREAM_COLS, ", ".join(["(?, 1, 0, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))),
                    params).fetchall():
                stream_of[(row[1], row[8])] = row[0]
                strings += strings_of(row[0], row[8])
            write_strings(db, "stt_stream_strings", "stream_id", strings)
        for k in range(0, len(joined), CHUNK):
            chunk = joined[k:k + CHUNK]
            params = []
            for (trig, key, idx, first, last, expire, fire, hits, _), sid in chunk:
                params += [sid, first, last, expire, fire, len(idx), hits]
                stream_of[(trig, key)] = sid
            db.execute("WITH v(id, f, l, e, fi, n, h) AS (VALUES %s) UPDATE stt_streams SET "
                       "first_event = v.f, last_event = v.l, expire_timestamp = v.e, "
                       "fire_timestamp = v.fi, fire_hits = v.h, "
                       "event_count = stt_streams.event_count + v.n FROM v "
                       "WHERE stt_streams.id = v.id"
                       % ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)), params)
        links = []
        for trig, key, idx, *_ in groups:
            sid = stream_of[(trig, key)]
            links += [(sid, ids[i]) for i in idx]
        for k in range(0, len(links), 5000):
            chunk = links[k:k + 5000]
            db.execute("INSERT INTO stt_stream_events (stream_id, event_id) VALUES %s"
                       % ", ".join(["(?, ?)"] * len(chunk)), [v for pair in chunk for v in pair])
        db.execute("COMMIT")

    def now_text():
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())

    end = time.perf_counter() + warmup
    i = 0
    while time.perf_counter() < end:
        one(batches[i % len(batches)], now_text())
        i += 1
    lat = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    end = t0 + seconds
    now = t0
    while now < end:
        one(batches[i % len(batches)], now_text())
        i += 1
        t = time.perf_counter()
        lat.append(t - now)
        now = t
    secs = now - t0
    lat.sort()
    print(json.dumps({
        "commits": len(lat),
        "rows": len(lat) * len(batches[0]["events"]),
        "seconds": secs,
        "cpu_s": time.process_time() - cpu0,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000,
        "sqlite_version": sqlite3.sqlite_version,
    }))


if __name__ == "__main__":
    main()
