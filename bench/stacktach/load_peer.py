"""Loads winchester's database with the events and streams testgraph stored, for quincy.

    load_peer.py WINCHESTER_YAML EVENTS_CSV STREAMS_CSV LINKS_CSV

Runs in the StackTach peer's virtualenv (.ci/stacktach-venv.sh). winchester's own DBInterface opens
the database named in WINCHESTER_YAML (`database: {url: ...}`) and its models create the schema
(`models.Base.metadata.create_all`); then the rows go in with bulk inserts through SQLAlchemy Core
on winchester's own tables, so every value is bound and converted by winchester's column types
(its PreciseTimestamp included), as `DBInterface.create_event` / `create_stream` /
`add_event_stream` would have stored them, one call per event, only faster:

- `event_type`: one row per event type; `event`: id (testgraph's, so the hex marks are the same),
  message_id, generated, event_type_id;
- `trait`: one row per trait, typed as winchester types a Python value (string 1, int 2, float 3,
  datetime 4 in t_string / t_int / t_float / t_datetime);
- `stream`: id, name, state, state_serial_no, first/last event, expire and fire timestamps;
- `dist_trait`: one row per distinguishing trait, a `timex.TimeRange` as type 5 with
  dt_timerange_begin/end;
- `streamevent`: the stream-event links.

The CSV files are testgraph's `stt_events` (id, message_id, event_type, generated, traits JSON),
`stt_streams` (id, name, state, state_serial_no, first_event, last_event, expire_timestamp,
fire_timestamp, dist_traits JSON) and `stt_stream_events` (stream_id, event_id), as PostgreSQL's
`COPY ... (FORMAT csv)` writes them. Prints one JSON line of counts and seconds.
"""
import csv
import datetime
import json
import sys
import time
import warnings

warnings.simplefilter("ignore")

import yaml  # noqa: E402
from winchester import models  # noqa: E402
from winchester.db import DBInterface  # noqa: E402

csv.field_size_limit(1 << 30)
CHUNK = 20_000


def ts(text):
    if not text:
        return None
    return datetime.datetime.fromisoformat(text)


def typed(value):
    """winchester's (type, column, value) of a trait value in testgraph's stored JSON form."""
    if isinstance(value, bool):
        return models.Datatype.int, "int", int(value)
    if isinstance(value, str):
        return models.Datatype.string, "string", value
    if isinstance(value, int):
        return models.Datatype.int, "int", value
    if isinstance(value, float):
        return models.Datatype.float, "float", value
    if isinstance(value, dict) and value.get("__type__") == "datetime":
        return models.Datatype.datetime, "datetime", ts(value["datetime"])
    if isinstance(value, dict) and value.get("__type__") == "timex.TimeRange":
        return models.Datatype.timerange, "timerange", (ts(value["begin"]), ts(value["end"]))
    raise SystemExit("unexpected trait value %r" % (value,))


def main():
    cfg_path, events_csv, streams_csv, links_csv = sys.argv[1:5]
    with open(cfg_path) as f:
        cfg = yaml.safe_load(f)
    db = DBInterface(cfg["database"])
    engine = db.engine
    models.Base.metadata.create_all(engine)
    t0 = time.time()
    tables = models.Base.metadata.tables
    ev_t, tr_t, et_t = tables["event"], tables["trait"], tables["event_type"]
    st_t, dt_t, se_t = tables["stream"], tables["dist_trait"], tables["streamevent"]
    counts = dict(events=0, traits=0, event_types=0, streams=0, dist_traits=0, stream_events=0)
    with engine.begin() as conn:
        types = {}
        events, traits = [], []

        def flush():
            if events:
                conn.execute(ev_t.insert(), events)
            if traits:
                conn.execute(tr_t.insert(), traits)
            counts["events"] += len(events)
            counts["traits"] += len(traits)
            events.clear()
            traits.clear()

        with open(events_csv, newline="") as f:
            for eid, message_id, event_type, generated, traits_json in csv.reader(f):
                if event_type not in types:
                    types[event_type] = len(types) + 1
                    conn.execute(et_t.insert(), [{"id": types[event_type], "desc": event_type}])
                eid = int(eid)
                events.append({"id": eid, "message_id": message_id, "generated": ts(generated),
                               "event_type_id": types[event_type]})
                for name, value in json.loads(traits_json).items():
                    kind, col, v = typed(value)
                    row = {"event_id": eid, "name": name, "type": int(kind), "t_string": None,
                           "t_int": None, "t_float": None, "t_datetime": None}
                    row["t_" + col] = v
                    traits.append(row)
                if len(events) >= CHUNK:
                    flush()
        flush()
        counts["event_types"] = len(types)

        streams, dists = [], []
        with open(streams_csv, newline="") as f:
            for (sid, name, state, serial, first, last, expire, fire,
                 dist_json) in csv.reader(f):
                sid = int(sid)
                streams.append({"id": sid, "name": name, "state": int(state),
                                "state_serial_no": int(serial), "first_event": ts(first),
                                "last_event": ts(last), "expire_timestamp": ts(expire),
                                "fire_timestamp": ts(fire)})
                for dname, value in json.loads(dist_json).items():
                    kind, col, v = typed(value)
                    row = {"stream_id": sid, "name": dname, "type": int(kind), "dt_string": None,
                           "dt_int": None, "dt_float": None, "dt_datetime": None,
                           "dt_timerange_begin": None, "dt_timerange_end": None}
                    if col == "timerange":
                        row["dt_timerange_begin"], row["dt_timerange_end"] = v
                    else:
                        row["dt_" + col] = v
                    dists.append(row)
        for i in range(0, len(streams), CHUNK):
            conn.execute(st_t.insert(), streams[i:i + CHUNK])
        for i in range(0, len(dists), CHUNK):
            conn.execute(dt_t.insert(), dists[i:i + CHUNK])
        counts["streams"], counts["dist_traits"] = len(streams), len(dists)

        links = []
        with open(links_csv, newline="") as f:
            for sid, eid in csv.reader(f):
                links.append({"stream_id": int(sid), "event_id": int(eid)})
                if len(links) >= CHUNK:
                    conn.execute(se_t.insert(), links)
                    counts["stream_events"] += len(links)
                    links.clear()
        if links:
            conn.execute(se_t.insert(), links)
            counts["stream_events"] += len(links)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    counts["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
