//! The StackTach inputs: the event and stream filters (quincy's query parameters, typed), their
//! orders, the stream states, and the events `ingestStacktachEvents` takes.

use std::collections::BTreeMap;

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::graphql::connection::SortDirection;
use crate::graphql::time::naive;
use crate::service::stacktach::{EventFilter, Mark, NewEvent, StreamFilter, TraitValue};

/// A stream's state in its fire/expire lifecycle (winchester's `StreamState`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "StacktachStreamState")]
pub enum StreamStateValue {
    /// Collecting events; fires or expires when its time comes.
    Active,
    /// Its fire pipeline is running.
    Firing,
    /// Its expire pipeline is running.
    Expiring,
    /// Its fire pipeline failed; `resetStacktachStream` makes it `RETRY_FIRE`.
    Error,
    /// Its expire pipeline failed; `resetStacktachStream` makes it `RETRY_EXPIRE`.
    ExpireError,
    /// Its pipeline ran.
    Completed,
    /// Waiting to fire again.
    RetryFire,
    /// Waiting to expire again.
    RetryExpire,
}

impl From<StreamStateValue> for crate::service::stacktach::StreamState {
    fn from(s: StreamStateValue) -> Self {
        use crate::service::stacktach::StreamState as S;
        match s {
            StreamStateValue::Active => S::Active,
            StreamStateValue::Firing => S::Firing,
            StreamStateValue::Expiring => S::Expiring,
            StreamStateValue::Error => S::Error,
            StreamStateValue::ExpireError => S::ExpireError,
            StreamStateValue::Completed => S::Completed,
            StreamStateValue::RetryFire => S::RetryFire,
            StreamStateValue::RetryExpire => S::RetryExpire,
        }
    }
}

impl StreamStateValue {
    /// The state of a stored state number.
    pub fn from_code(code: i16) -> AppResult<Self> {
        use crate::service::stacktach::StreamState as S;
        Ok(
            match S::from_code(code).ok_or_else(|| {
                AppError::Internal(format!("a stream has the unknown state {code}"))
            })? {
                S::Active => StreamStateValue::Active,
                S::Firing => StreamStateValue::Firing,
                S::Expiring => StreamStateValue::Expiring,
                S::Error => StreamStateValue::Error,
                S::ExpireError => StreamStateValue::ExpireError,
                S::Completed => StreamStateValue::Completed,
                S::RetryFire => StreamStateValue::RetryFire,
                S::RetryExpire => StreamStateValue::RetryExpire,
            },
        )
    }
}

/// A trait that must be a string equal to `value` (a trait stored as a number or a time never
/// matches, as in winchester).
#[derive(InputObject, Clone)]
#[graphql(name = "StacktachStringTraitInput")]
pub struct StringTraitInput {
    pub name: String,
    pub value: String,
}

fn pairs(traits: Option<Vec<StringTraitInput>>) -> Vec<(String, String)> {
    traits
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.name, t.value))
        .collect()
}

/// Conditions on events, all of which must hold (quincy's `GET /v1/events` parameters).
#[derive(InputObject, Default, Clone)]
#[graphql(name = "StacktachEventFilter")]
pub struct EventFilterInput {
    /// Events generated strictly after this instant (quincy's `from_datetime`).
    pub generated_after: Option<DateTime<Utc>>,
    /// Events generated at or before this instant (quincy's `to_datetime`, inclusive).
    pub generated_at_or_before: Option<DateTime<Utc>>,
    /// The event type, exactly (quincy's `event_name`).
    pub event_type: Option<String>,
    /// Traits that must each be a string equal to the value (quincy's `traits`).
    pub traits: Option<Vec<StringTraitInput>>,
}

impl EventFilterInput {
    /// The service's filter, starting at `mark`.
    pub(super) fn filter(self, mark: Mark) -> EventFilter {
        EventFilter {
            from: naive(self.generated_after),
            to: naive(self.generated_at_or_before),
            event_type: self.event_type,
            traits: pairs(self.traits),
            mark,
        }
    }
}

/// Conditions on streams, all of which must hold (quincy's `GET /v1/streams` parameters).
#[derive(InputObject, Default, Clone)]
#[graphql(name = "StacktachStreamFilter")]
pub struct StreamFilterInput {
    /// Streams whose first event is before this instant (quincy's `older_than`).
    pub first_event_before: Option<DateTime<Utc>>,
    /// Streams whose last event is after this instant (quincy's `younger_than`).
    pub last_event_after: Option<DateTime<Utc>>,
    pub state: Option<StreamStateValue>,
    /// The trigger's name, exactly (quincy's `trigger_name`).
    pub name: Option<String>,
    /// Distinguishing traits that must each be a string equal to the value (quincy's
    /// `distinguishing_traits`).
    pub distinguishing_traits: Option<Vec<StringTraitInput>>,
}

impl StreamFilterInput {
    /// The service's filter, starting at `mark`.
    pub(super) fn filter(self, mark: Mark) -> StreamFilter {
        StreamFilter {
            older_than: naive(self.first_event_before),
            younger_than: naive(self.last_event_after),
            state: self.state.map(Into::into),
            name: self.name,
            dist_traits: pairs(self.distinguishing_traits),
            mark,
        }
    }
}

/// What events are ordered by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "StacktachEventOrderField")]
pub enum EventOrderField {
    /// Insertion order (the legacy API's `_mark`).
    #[default]
    Id,
}

/// The order of events: by insertion. Without `orderBy`: newest first.
#[derive(InputObject, Clone, Copy)]
#[graphql(name = "StacktachEventOrder")]
pub struct EventOrderInput {
    #[graphql(default)]
    pub field: EventOrderField,
    /// Descending (newest first) unless told otherwise.
    #[graphql(default_with = "SortDirection::Desc")]
    pub direction: SortDirection,
}

/// What streams are ordered by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "StacktachStreamOrderField")]
pub enum StreamOrderField {
    /// Creation order (the legacy API's `_mark`).
    #[default]
    Id,
}

/// The order of streams: by creation. Without `orderBy`: newest first.
#[derive(InputObject, Clone, Copy)]
#[graphql(name = "StacktachStreamOrder")]
pub struct StreamOrderInput {
    #[graphql(default)]
    pub field: StreamOrderField,
    /// Descending (newest first) unless told otherwise.
    #[graphql(default_with = "SortDirection::Desc")]
    pub direction: SortDirection,
}

/// Whether a direction runs up the ids (a `+` mark in the legacy API).
pub(super) fn ascending(d: Option<SortDirection>) -> bool {
    d == Some(SortDirection::Asc)
}

/// One trait of an ingested event: its name and exactly one of the typed values.
#[derive(InputObject, Clone)]
#[graphql(name = "StacktachTraitInput")]
pub struct TraitInput {
    /// Unique within the event.
    pub name: String,
    /// A string value.
    pub string: Option<String>,
    /// An integer value (64-bit).
    pub int: Option<i64>,
    /// A floating-point value (finite).
    pub float: Option<f64>,
    /// A time, kept to the microsecond in UTC.
    pub datetime: Option<DateTime<Utc>>,
}

/// An event to ingest: a notification as stackdistiller makes it.
#[derive(InputObject, Clone)]
#[graphql(name = "StacktachEventInput")]
pub struct EventInput {
    /// The notification's id, 1 to 100 characters, compared in lower case: an event whose
    /// message id is stored already is skipped.
    pub message_id: String,
    /// 1 to 255 characters (`compute.instance.create.end`).
    pub event_type: String,
    /// When the notification was generated (its `timestamp`), kept to the microsecond.
    pub generated: DateTime<Utc>,
    /// At most 500, each with exactly one of `string`, `int`, `float` and `datetime`.
    #[graphql(default)]
    pub traits: Vec<TraitInput>,
}

impl EventInput {
    /// The service's event; `i` is its position in the batch, for error messages.
    pub(super) fn into_new(self, i: usize) -> AppResult<NewEvent> {
        let mut traits = BTreeMap::new();
        for (j, t) in self.traits.into_iter().enumerate() {
            let at = format!("input[{i}].traits[{j}]");
            let mut values = Vec::new();
            if let Some(s) = t.string {
                values.push(TraitValue::Text(s));
            }
            if let Some(n) = t.int {
                values.push(TraitValue::Int(n));
            }
            if let Some(f) = t.float {
                values.push(TraitValue::Float(f));
            }
            if let Some(d) = t.datetime {
                values.push(TraitValue::Time(d.naive_utc()));
            }
            let value = match (values.pop(), values.is_empty()) {
                (Some(v), true) => v,
                _ => {
                    return Err(AppError::invalid_field(
                        at,
                        "a trait has exactly one of string, int, float and datetime",
                    ));
                }
            };
            if t.name.trim().is_empty() || t.name.len() > 100 {
                return Err(AppError::invalid_field(
                    at,
                    "a trait name is 1 to 100 characters",
                ));
            }
            if matches!(value, TraitValue::Float(f) if !f.is_finite()) {
                return Err(AppError::invalid_field(at, "a float trait must be finite"));
            }
            if traits.insert(t.name.clone(), value).is_some() {
                return Err(AppError::invalid_field(
                    at,
                    format!("the trait '{}' appears twice", t.name),
                ));
            }
        }
        Ok(NewEvent {
            message_id: self.message_id,
            event_type: self.event_type,
            generated: self.generated.naive_utc(),
            traits,
        })
    }
}
