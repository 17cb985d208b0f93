//! StackTach's answers (fact sheet §5.1, §5.3; winchester's `Event.as_dict`, `Stream.as_dict` and
//! quincy's `jsonutil`): bare JSON arrays of events and streams with their keys sorted (as the doc
//! shows them), typed values wrapped with `__type__`, `[{"count": N}]`, hex `_mark`s, and Falcon's
//! `Content-Type: application/json; charset=utf-8`.
//!
//! The stored `traits` and `dist_traits` are already JSON objects in this form, so an event is
//! its traits plus `message_id`, `event_type`, `timestamp` (and `_mark` in a list), and a
//! stream's `distinguishing_traits` is its stored object as it is.

use std::collections::BTreeMap;

use poem::Response;
use poem::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::service::stacktach::{Event, IngestReport, Mark, Stream, StreamState, datetime_json};

/// The content type of every JSON answer (Falcon's default).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A stored JSON object, or an empty one if it does not read as one.
fn stored_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// `m` with its keys sorted (the map keeps insertion order).
fn sorted(m: BTreeMap<String, Value>) -> Value {
    Value::Object(m.into_iter().collect())
}

/// An event: its traits, `message_id`, `event_type` and `timestamp` (which win over traits of
/// those names, as in winchester's `as_dict`), and `_mark` when `mark` is given (lists only).
pub fn event(e: &Event, mark: Option<&Mark>) -> Value {
    let mut m: BTreeMap<String, Value> = stored_object(&e.traits).into_iter().collect();
    m.insert("message_id".into(), json!(e.message_id));
    m.insert("event_type".into(), json!(e.event_type));
    m.insert("timestamp".into(), datetime_json(e.generated));
    if let Some(mark) = mark {
        m.insert("_mark".into(), json!(mark.of(e.id)));
    }
    sorted(m)
}

fn optional_time(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, datetime_json)
}

/// A stream, keys sorted; `events` (already written) when its events were asked for.
pub fn stream(s: &Stream, mark: &Mark, events: Option<Vec<Value>>) -> Value {
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    m.insert("_mark".into(), json!(mark.of(s.id)));
    m.insert(
        "distinguishing_traits".into(),
        Value::Object(stored_object(&s.dist_traits)),
    );
    if let Some(events) = events {
        m.insert("events".into(), Value::Array(events));
    }
    m.insert("expire_timestamp".into(), optional_time(s.expire_timestamp));
    m.insert("fire_timestamp".into(), optional_time(s.fire_timestamp));
    m.insert("first_event".into(), datetime_json(s.first_event));
    m.insert("id".into(), json!(s.id));
    m.insert("last_event".into(), datetime_json(s.last_event));
    m.insert("name".into(), json!(s.name));
    let state = StreamState::from_code(s.state).map_or("unknown", StreamState::name);
    m.insert("state".into(), json!(state));
    sorted(m)
}

/// A count's answer: `[{"count": n}]` (the doc's `[23]` is not what quincy sent, nor what
/// klugman reads).
pub fn count(n: u64) -> Value {
    json!([{ "count": n }])
}

/// What `POST /v1/events` did.
pub fn ingest_report(r: &IngestReport) -> Value {
    json!({
        "stored": r.stored,
        "duplicates": r.duplicates,
        "streams_opened": r.streams_opened,
        "stream_events": r.stream_events,
    })
}

/// `v` as JSON with `status`.
pub fn respond(status: StatusCode, v: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(JSON_CONTENT_TYPE)
        .body(v.to_string())
}

/// 200 with an empty body: what quincy answered a `DELETE` and a `PUT`.
pub fn empty_ok() -> Response {
    Response::builder().status(StatusCode::OK).finish()
}

/// The OpenAPI schemas of the answers and of the ingestion body.
pub fn schemas() -> Value {
    let datetime = json!({
        "type": "object",
        "description": "A datetime: naive UTC, ISO 8601, microseconds only when not zero.",
        "required": ["__type__", "datetime"],
        "properties": {
            "__type__": {"type": "string", "enum": ["datetime"]},
            "datetime": {"type": "string", "example": "2015-02-27T18:27:18.603932"}
        }
    });
    let range = json!({
        "type": "object",
        "description": "A time range [begin, end) that a trigger's timex expression made.",
        "required": ["__type__", "begin", "end"],
        "properties": {
            "__type__": {"type": "string", "enum": ["timex.TimeRange"]},
            "begin": {"type": "string"}, "end": {"type": "string"}
        }
    });
    // anyOf, not oneOf: an integer is a number too, so it would match two of the kinds.
    let trait_value = json!({"anyOf": [
        {"type": "string"}, {"type": "integer"}, {"type": "number"}, datetime.clone()
    ]});
    let nullable_time = json!({"allOf": [datetime.clone()], "nullable": true});
    let event = json!({
        "type": "object",
        "description": "An event: every trait as a key (typed: strings, integers, floats, datetime wrappers) beside message_id, event_type, timestamp, and _mark in a list. Keys sorted.",
        "required": ["event_type", "message_id", "timestamp"],
        "properties": {
            "_mark": {"type": "string", "description": "The id in hex, '+' first in an ascending list; pass it back as mark to page."},
            "event_type": {"type": "string"},
            "message_id": {"type": "string"},
            "timestamp": datetime
        },
        "additionalProperties": trait_value
    });
    let stream = json!({
        "type": "object",
        "required": ["_mark", "distinguishing_traits", "expire_timestamp", "fire_timestamp",
                     "first_event", "id", "last_event", "name", "state"],
        "properties": {
            "_mark": {"type": "string"},
            "distinguishing_traits": {"type": "object", "additionalProperties": {"anyOf": [
                {"type": "string"}, {"type": "integer"}, {"type": "number"}, datetime, range
            ]}},
            "events": {"type": "array", "items": event, "description": "With details=true only (single stream)."},
            "expire_timestamp": nullable_time,
            "fire_timestamp": nullable_time,
            "first_event": datetime,
            "id": {"type": "integer"},
            "last_event": datetime,
            "name": {"type": "string", "description": "The trigger's name."},
            "state": {"type": "string", "enum": StreamState::ALL.iter().map(|s| s.name()).collect::<Vec<_>>()}
        }
    });
    json!({
        "StacktachStreamList": {"type": "array", "items": stream},
        "StacktachEventList": {"type": "array", "items": event},
        "StacktachEvent": event,
        "StacktachCount": {"type": "array", "items": {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}}},
        "StacktachError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "StacktachEventBatch": {
            "description": "An array of events, or {\"events\": [...]}. A message id already stored is skipped.",
            "oneOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/StacktachNewEvent"}},
                {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/StacktachNewEvent"}}}}
            ]
        },
        "StacktachNewEvent": {
            "type": "object",
            "required": ["message_id", "event_type", "timestamp"],
            "properties": {
                "message_id": {"type": "string", "maxLength": 100},
                "event_type": {"type": "string", "maxLength": 255},
                "timestamp": {"description": "ISO 8601 (an offset is converted to UTC) or a datetime wrapper; `generated` is accepted instead.", "oneOf": [{"type": "string"}, datetime]},
                "traits": {"type": "object", "additionalProperties": trait_value}
            }
        },
        "StacktachIngestReport": {"type": "object", "properties": {
            "stored": {"type": "integer"}, "duplicates": {"type": "integer"},
            "streams_opened": {"type": "integer"}, "stream_events": {"type": "integer"}
        }},
    })
}
