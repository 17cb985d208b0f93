//! StackTach's vocabulary: typed trait values, the values that distinguish a stream (a time
//! range included), a read-only view of an event for the trigger engine, and the stream states.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

/// A trait's value, typed as winchester stored it (`t_string`, `t_int`, `t_float`, `t_datetime`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum TraitValue {
    Text(String),
    Int(i64),
    Float(f64),
    Time(NaiveDateTime),
}

/// A distinguishing trait's value: a trait value, or the time range a timex expression reduced
/// a time to (`timestamp: day` gives the event's UTC day).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum DistValue {
    Text(String),
    Int(i64),
    Float(f64),
    Time(NaiveDateTime),
    /// `[begin, end)`.
    Range(NaiveDateTime, NaiveDateTime),
}

/// An event as the trigger engine sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventView<'a> {
    pub event_type: &'a str,
    /// When the event was generated (winchester's `generated`, the notification's timestamp).
    pub generated: NaiveDateTime,
    pub traits: &'a BTreeMap<String, TraitValue>,
}

/// A stream's states, with winchester's numbers (`StreamState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamState {
    Active = 1,
    Firing = 2,
    Expiring = 3,
    Error = 4,
    ExpireError = 5,
    Completed = 6,
    RetryFire = 7,
    RetryExpire = 8,
}

impl StreamState {
    pub const ALL: [StreamState; 8] = [
        StreamState::Active,
        StreamState::Firing,
        StreamState::Expiring,
        StreamState::Error,
        StreamState::ExpireError,
        StreamState::Completed,
        StreamState::RetryFire,
        StreamState::RetryExpire,
    ];

    /// The name the API shows (`active`, `expire_error`...).
    pub fn name(self) -> &'static str {
        match self {
            StreamState::Active => "active",
            StreamState::Firing => "firing",
            StreamState::Expiring => "expiring",
            StreamState::Error => "error",
            StreamState::ExpireError => "expire_error",
            StreamState::Completed => "completed",
            StreamState::RetryFire => "retry_fire",
            StreamState::RetryExpire => "retry_expire",
        }
    }

    /// A state by its name, ignoring case.
    pub fn parse(s: &str) -> Option<StreamState> {
        StreamState::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(n: i16) -> Option<StreamState> {
        StreamState::ALL.into_iter().find(|st| st.code() == n)
    }
}

/// A stored event.
pub type Event = entity::stt_event::Model;
/// A stored stream.
pub type Stream = entity::stt_stream::Model;

/// Most rows a list answers (quincy's default `limit` is 200; larger limits are cut to this).
pub const MAX_LIMIT: u64 = 10_000;
/// The page size when `limit` is absent, as quincy had it.
pub const DEFAULT_LIMIT: u64 = 200;
/// Most events in one ingested batch.
pub const MAX_BATCH: usize = 10_000;
/// Most traits on one event.
pub const MAX_TRAITS: usize = 500;

/// An event as it is ingested (a distilled notification).
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub message_id: String,
    pub event_type: String,
    pub generated: NaiveDateTime,
    pub traits: BTreeMap<String, TraitValue>,
}

/// Where a list starts and which way it runs: winchester's `mark`. Descending (the default)
/// returns ids below `from`; ascending (a `+` mark) ids above it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    pub from: Option<i64>,
    pub ascending: bool,
}

impl Mark {
    /// The `_mark` of a row with id `id` in this direction: hex, `+` first when ascending.
    pub fn of(&self, id: i64) -> String {
        if self.ascending {
            format!("+{id:x}")
        } else {
            format!("{id:x}")
        }
    }
}

/// The filters of `GET /v1/events` and its count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    /// `generated > from` (strict, as quincy's `from_datetime`).
    pub from: Option<NaiveDateTime>,
    /// `generated <= to` (inclusive, as quincy's `to_datetime`).
    pub to: Option<NaiveDateTime>,
    pub event_type: Option<String>,
    /// Each trait must be a string equal to the value.
    pub traits: Vec<(String, String)>,
    pub mark: Mark,
}

/// The filters of `GET /v1/streams` and its count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamFilter {
    /// `first_event < older_than`.
    pub older_than: Option<NaiveDateTime>,
    /// `last_event > younger_than`.
    pub younger_than: Option<NaiveDateTime>,
    pub state: Option<StreamState>,
    /// The trigger's name.
    pub name: Option<String>,
    /// Each distinguishing trait must be a string equal to the value.
    pub dist_traits: Vec<(String, String)>,
    pub mark: Mark,
}

/// `t` at microseconds, the precision both databases keep (winchester's too).
pub fn truncate_us(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// Python's `datetime.isoformat()` of a naive time: microseconds only when not zero.
pub fn iso(t: NaiveDateTime) -> String {
    use chrono::Timelike;
    if t.nanosecond() / 1_000 == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

/// A datetime as the API wraps it.
pub fn datetime_json(t: NaiveDateTime) -> serde_json::Value {
    serde_json::json!({"__type__": "datetime", "datetime": iso(t)})
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl TraitValue {
    /// The value as the API shows it.
    pub fn json(&self) -> serde_json::Value {
        match self {
            TraitValue::Text(s) => serde_json::Value::String(s.clone()),
            TraitValue::Int(i) => serde_json::Value::from(*i),
            TraitValue::Float(f) => float_json(*f),
            TraitValue::Time(t) => datetime_json(*t),
        }
    }
}

impl DistValue {
    /// The value as the API shows it.
    pub fn json(&self) -> serde_json::Value {
        match self {
            DistValue::Text(s) => serde_json::Value::String(s.clone()),
            DistValue::Int(i) => serde_json::Value::from(*i),
            DistValue::Float(f) => float_json(*f),
            DistValue::Time(t) => datetime_json(*t),
            DistValue::Range(b, e) => serde_json::json!({
                "__type__": "timex.TimeRange", "begin": iso(*b), "end": iso(*e)
            }),
        }
    }
}

/// Traits as they are stored: one JSON object in the API's form, keys sorted.
pub fn traits_json(traits: &BTreeMap<String, TraitValue>) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        traits.iter().map(|(k, v)| (k.clone(), v.json())).collect();
    serde_json::Value::Object(map).to_string()
}

/// Distinguishing traits as they are stored (and looked up): one JSON object, keys sorted.
pub fn dist_json(values: &[(String, DistValue)]) -> String {
    let mut sorted: Vec<&(String, DistValue)> = values.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let map: serde_json::Map<String, serde_json::Value> = sorted
        .into_iter()
        .map(|(k, v)| (k.clone(), v.json()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// The typed traits of a stored JSON object (the inverse of `traits_json`).
pub fn parse_traits(stored: &str) -> BTreeMap<String, TraitValue> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(stored)
    else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => TraitValue::Text(s),
                serde_json::Value::Number(n) if n.is_i64() => TraitValue::Int(n.as_i64()?),
                serde_json::Value::Number(n) => TraitValue::Float(n.as_f64()?),
                serde_json::Value::Object(o) => {
                    let text = o.get("datetime")?.as_str()?;
                    TraitValue::Time(parse_iso(text)?)
                }
                _ => return None,
            };
            Some((k, value))
        })
        .collect()
}

/// A naive ISO 8601 time as Python writes and dateutil reads it (`2015-02-28T13:30`, seconds and
/// fraction optional, a space instead of `T` accepted; an offset or `Z` is converted to UTC).
pub fn parse_iso(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        parse_iso(s).unwrap()
    }

    #[test]
    fn times_are_written_as_python_writes_them() {
        assert_eq!(iso(t("2015-02-27T00:00:00")), "2015-02-27T00:00:00");
        assert_eq!(
            iso(t("2015-02-27T18:27:18.603932")),
            "2015-02-27T18:27:18.603932"
        );
        assert_eq!(iso(t("2015-02-28T13:30")), "2015-02-28T13:30:00");
        assert_eq!(iso(t("2015-02-28T13:30:00+01:00")), "2015-02-28T12:30:00");
    }

    #[test]
    fn traits_round_trip_through_their_stored_form() {
        let mut traits = BTreeMap::new();
        traits.insert("instance_id".into(), TraitValue::Text("abc".into()));
        traits.insert("memory_mb".into(), TraitValue::Int(512));
        traits.insert("ratio".into(), TraitValue::Float(1.0));
        traits.insert(
            "launched_at".into(),
            TraitValue::Time(t("2015-02-27T18:27:18.603932")),
        );
        let stored = traits_json(&traits);
        assert_eq!(
            stored,
            r#"{"instance_id":"abc","launched_at":{"__type__":"datetime","datetime":"2015-02-27T18:27:18.603932"},"memory_mb":512,"ratio":1.0}"#
        );
        assert_eq!(parse_traits(&stored), traits);
    }

    #[test]
    fn marks_are_hex_with_a_plus_when_ascending() {
        assert_eq!(Mark::default().of(634), "27a");
        assert_eq!(
            Mark {
                from: None,
                ascending: true
            }
            .of(634),
            "+27a"
        );
    }
}
