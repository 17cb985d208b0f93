//! StackTach.v3's handlers (seed 004; quincy `v1_api.py` and quince `v1_impl.py` over winchester
//! `db/interface.py`, their last commits of 2015). Each reads the request with `query`, calls the
//! StackTach service and writes the answer with `wire`; errors are rendered by
//! `errors::render`. `POST /v1/events` is testgraph's own: the way events get in.

use std::collections::BTreeMap;

use poem::http::{HeaderValue, StatusCode};
use poem::{Request, Response};
use serde_json::{Map, Value};

use super::errors;
use super::query::{self, StreamRef};
use super::wire;
use crate::error::{AppError, AppResult, FieldError};
use crate::service::stacktach::{self as svc, MAX_LIMIT, Mark, NewEvent, TraitValue, parse_iso};
use crate::state::AppState;

fn pairs(req: &Request) -> Vec<(String, String)> {
    query::pairs(req.uri().query().unwrap_or_default())
}

/// The raw path segment `name`.
fn segment<'a>(req: &'a Request, name: &str) -> &'a str {
    req.raw_path_param(name).unwrap_or_default()
}

/// `GET /v1/streams` (quincy `StreamCollection.on_get`): the streams matching the filters, newest
/// id first unless the mark says `+`, at most `limit`. `details` is not honoured on the list, as
/// in quincy.
pub async fn list_streams(st: &AppState, req: &Request) -> AppResult<Response> {
    let pairs = pairs(req);
    let filter = query::stream_filter(&pairs)?;
    let limit = query::limit(&pairs);
    let rows = svc::list_streams(&st.db, &filter, limit).await?;
    let body: Vec<Value> = rows
        .iter()
        .map(|s| wire::stream(s, &filter.mark, None))
        .collect();
    Ok(wire::respond(StatusCode::OK, &Value::Array(body)))
}

/// `GET /v1/streams/count`: `[{"count": n}]` of the streams matching the filters (the mark
/// applies, `limit` does not).
pub async fn count_streams(st: &AppState, req: &Request) -> AppResult<Response> {
    let filter = query::stream_filter(&pairs(req))?;
    let n = svc::count_streams(&st.db, &filter).await?;
    Ok(wire::respond(StatusCode::OK, &wire::count(n)))
}

/// `GET /v1/streams/<id>` (quincy `StreamItem.on_get`): an array of the one stream, or `[]` for
/// an unknown id; with `details` (or the doc's `detail`) true, its events oldest first, without
/// `_mark`. `count` in any case is the count route, as quincy compared the lower-cased id.
pub async fn stream(st: &AppState, req: &Request) -> AppResult<Response> {
    let id = match query::stream_ref(segment(req, "id"))? {
        StreamRef::Count => return count_streams(st, req).await,
        StreamRef::Id(id) => id,
    };
    let details = query::details(&pairs(req))?;
    let Some(found) = svc::stream_by_id(&st.db, id).await? else {
        return Ok(wire::respond(StatusCode::OK, &Value::Array(Vec::new())));
    };
    let events = if details {
        let rows = svc::events_of_streams(&st.db, &[found.id], MAX_LIMIT).await?;
        Some(rows.iter().map(|(_, e)| wire::event(e, None)).collect())
    } else {
        None
    };
    let body = wire::stream(&found, &Mark::default(), events);
    Ok(wire::respond(StatusCode::OK, &Value::Array(vec![body])))
}

/// A stream id for a write: `count` is not one.
fn write_id(req: &Request) -> AppResult<i64> {
    match query::stream_ref(segment(req, "id"))? {
        StreamRef::Id(id) => Ok(id),
        StreamRef::Count => Err(AppError::bad_request("a stream id is an integer: 'count'")),
    }
}

/// `DELETE /v1/streams/<id>` (quince `delete_stream`): deletes the stream and its links; its
/// events are kept. 200 with no body; a JSON 404 for an unknown id.
pub async fn delete_stream(st: &AppState, req: &Request) -> AppResult<Response> {
    let id = write_id(req)?;
    svc::delete_stream(&st.db, id)
        .await
        .map_err(|e| e.reworded(&format!("no stream {id}")))?;
    Ok(wire::empty_ok())
}

/// `PUT /v1/streams/<id>` (quince `reset_stream`): `error` becomes `retry_fire`, `expire_error`
/// becomes `retry_expire`, any other state stays. 200 with no body; a JSON 404 for an unknown id.
pub async fn reset_stream(st: &AppState, req: &Request) -> AppResult<Response> {
    let id = write_id(req)?;
    svc::reset_stream(&st.db, id)
        .await
        .map_err(|e| e.reworded(&format!("no stream {id}")))?;
    Ok(wire::empty_ok())
}

/// The methods `/v1/streams/<id>` takes, for a `POST` that is not an override.
const STREAM_ITEM_ALLOW: &str = "DELETE, GET, HEAD, OPTIONS, PUT";

/// `POST /v1/streams/<id>` with `X-HTTP-Method-Override: PUT`: the doc's way to reset a stream
/// (quincy had no such responder). Any other `POST` is Falcon's 405.
pub async fn post_stream(st: &AppState, req: &Request) -> AppResult<Response> {
    let overridden = req
        .header("x-http-method-override")
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("PUT"));
    if !overridden {
        return Ok(errors::wrong_method(HeaderValue::from_static(
            STREAM_ITEM_ALLOW,
        )));
    }
    reset_stream(st, req).await
}

/// `GET /v1/events` (quincy `EventCollection.on_get`): the events matching the filters, newest id
/// first unless the mark says `+`, at most `limit`, each with its `_mark`.
pub async fn list_events(st: &AppState, req: &Request) -> AppResult<Response> {
    let pairs = pairs(req);
    let filter = query::event_filter(&pairs)?;
    let limit = query::limit(&pairs);
    let rows = svc::list_events(&st.db, &filter, limit).await?;
    let body: Vec<Value> = rows
        .iter()
        .map(|e| wire::event(e, Some(&filter.mark)))
        .collect();
    Ok(wire::respond(StatusCode::OK, &Value::Array(body)))
}

/// `GET /v1/events/count` (undocumented, used by klugman): `[{"count": n}]`.
pub async fn count_events(st: &AppState, req: &Request) -> AppResult<Response> {
    let filter = query::event_filter(&pairs(req))?;
    let n = svc::count_events(&st.db, &filter).await?;
    Ok(wire::respond(StatusCode::OK, &wire::count(n)))
}

/// `GET /v1/events/<message_id>` (quincy `EventItem.on_get`): the event as a bare object without
/// `_mark`; the id is compared in lower case; `count` in any case is the count route. A JSON 404
/// for an unknown id.
pub async fn event(st: &AppState, req: &Request) -> AppResult<Response> {
    let raw = segment(req, "message_id");
    let id = raw.trim().to_lowercase();
    if id == "count" {
        return count_events(st, req).await;
    }
    let found = svc::event_by_message_id(&st.db, &id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no event with message id '{id}'")))?;
    Ok(wire::respond(StatusCode::OK, &wire::event(&found, None)))
}

/// `POST /v1/events` (testgraph's own): stores a batch of events, in one transaction, and
/// groups the new ones into streams by the trigger definitions read at start
/// (`--stacktach-triggers`). A message id stored before is
/// skipped. 201 `{"stored", "duplicates", "streams_opened", "stream_events"}`.
pub async fn ingest(st: &AppState, body: &[u8]) -> AppResult<Response> {
    let events = read_events(body)?;
    let now = chrono::Utc::now().naive_utc();
    let report = svc::ingest(&st.db, &events, &st.triggers, now).await?;
    Ok(wire::respond(
        StatusCode::CREATED,
        &wire::ingest_report(&report),
    ))
}

/// The events of an ingestion body: an array, or `{"events": [...]}`. Every wrong field is
/// reported in one 400.
pub fn read_events(body: &[u8]) -> AppResult<Vec<NewEvent>> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("the body is not JSON: {e}")))?;
    let items = match doc {
        Value::Array(items) => items,
        Value::Object(mut o) => match o.remove("events") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(AppError::bad_request(
                    "the body is an array of events, or {\"events\": [...]}",
                ));
            }
        },
        _ => {
            return Err(AppError::bad_request(
                "the body is an array of events, or {\"events\": [...]}",
            ));
        }
    };
    let mut wrong = Vec::new();
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("events[{i}]{f}");
        let Value::Object(o) = item else {
            wrong.push(FieldError {
                field: at(""),
                message: "an event is an object".into(),
            });
            continue;
        };
        let mut text = |key: &str| match o.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            _ => {
                wrong.push(FieldError {
                    field: at(&format!(".{key}")),
                    message: "a non-empty string is required".into(),
                });
                None
            }
        };
        let message_id = text("message_id");
        let event_type = text("event_type");
        let (key, raw_time) = match (o.get("timestamp"), o.get("generated")) {
            (Some(t), _) => ("timestamp", Some(t)),
            (None, Some(t)) => ("generated", Some(t)),
            (None, None) => ("timestamp", None),
        };
        let generated = raw_time.and_then(time);
        if generated.is_none() {
            wrong.push(FieldError {
                field: at(&format!(".{key}")),
                message: "an ISO 8601 time, or {\"__type__\": \"datetime\", \"datetime\": ...}"
                    .into(),
            });
        }
        let traits = match o.get("traits") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(t)) => read_traits(t, &at(".traits"), &mut wrong),
            Some(_) => {
                wrong.push(FieldError {
                    field: at(".traits"),
                    message: "an object of name: value".into(),
                });
                BTreeMap::new()
            }
        };
        if let (Some(message_id), Some(event_type), Some(generated)) =
            (message_id, event_type, generated)
        {
            events.push(NewEvent {
                message_id,
                event_type,
                generated,
                traits,
            });
        }
    }
    if !wrong.is_empty() {
        return Err(AppError::InvalidFields(wrong));
    }
    Ok(events)
}

/// A time: ISO 8601 text or a datetime wrapper.
fn time(v: &Value) -> Option<chrono::NaiveDateTime> {
    match v {
        Value::String(s) => parse_iso(s),
        Value::Object(o) if o.get("__type__").and_then(Value::as_str) == Some("datetime") => o
            .get("datetime")
            .and_then(Value::as_str)
            .and_then(parse_iso),
        _ => None,
    }
}

fn read_traits(
    t: &Map<String, Value>,
    at: &str,
    wrong: &mut Vec<FieldError>,
) -> BTreeMap<String, TraitValue> {
    let mut out = BTreeMap::new();
    for (name, v) in t {
        let value = match v {
            Value::String(s) => Some(TraitValue::Text(s.clone())),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some(TraitValue::Int(i)),
                None => n.as_f64().map(TraitValue::Float),
            },
            Value::Object(_) => time(v).map(TraitValue::Time),
            _ => None,
        };
        match value {
            Some(value) if !name.trim().is_empty() => {
                out.insert(name.clone(), value);
            }
            _ => wrong.push(FieldError {
                field: format!("{at}.{name}"),
                message: "a trait is a string, an integer, a float or {\"__type__\": \"datetime\", \"datetime\": ...}, under a non-empty name".into(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingestion_bodies_take_both_forms_and_every_value_type() {
        let body = br#"{"events": [{"message_id": "M-1", "event_type": "compute.instance.update",
            "timestamp": "2015-02-27T15:27:18.603932",
            "traits": {"s": "x", "i": 512, "f": 1.5, "t": {"__type__": "datetime", "datetime": "2015-02-27T00:00:00"}}}]}"#;
        let events = read_events(body).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.message_id, "M-1");
        assert_eq!(e.traits["s"], TraitValue::Text("x".into()));
        assert_eq!(e.traits["i"], TraitValue::Int(512));
        assert_eq!(e.traits["f"], TraitValue::Float(1.5));
        assert_eq!(
            e.traits["t"],
            TraitValue::Time(parse_iso("2015-02-27T00:00:00").unwrap())
        );
        let bare = br#"[{"message_id": "a", "event_type": "x", "generated": {"__type__": "datetime", "datetime": "2015-02-27T00:00:00"}}]"#;
        assert_eq!(read_events(bare).unwrap()[0].traits.len(), 0);
    }

    #[test]
    fn every_wrong_field_is_named() {
        let body = br#"[{"event_type": "", "timestamp": "yesterday", "traits": {"b": true, "n": null}}, 3]"#;
        let Err(AppError::InvalidFields(fields)) = read_events(body) else {
            panic!("expected field errors");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "events[0].message_id",
                "events[0].event_type",
                "events[0].timestamp",
                "events[0].traits.b",
                "events[0].traits.n",
                "events[1]"
            ]
        );
        assert!(read_events(b"{}").is_err());
        assert!(read_events(b"not json").is_err());
    }
}
