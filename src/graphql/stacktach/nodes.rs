//! The StackTach object types (events and their typed traits, streams and their distinguishing
//! traits, trigger definitions), their connections and the relations read through the request's
//! loader.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::inputs::StreamStateValue;
use super::loaders::{EventsOfStream, StacktachLoader, StacktachLoaders, StreamsOfEvent};
use crate::graphql::connection::{Cursor, Total, list_complexity, page_size};
use crate::graphql::context::{GqlResultExt, state};
use crate::graphql::time::{utc, utc_opt};
use crate::service::stacktach::definitions::{Constant, Criterion, Number, TraitCriterion};
use crate::service::stacktach::{
    DistValue, Event, Stream, TraitValue, TriggerDefinition, parse_iso, parse_traits,
};

pub(super) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<StacktachLoader>> {
    Ok(ctx.data::<StacktachLoaders>()?.as_ref())
}

// The connections of the StackTach types, each with the lazy `totalCount` (`Total`).
pub type EventConnection = Connection<Cursor, EventNode, Total>;
pub type StreamConnection = Connection<Cursor, StreamNode, Total>;

/// The type of a trait's value, as winchester stored it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "StacktachTraitType")]
pub enum TraitType {
    String,
    Int,
    Float,
    Datetime,
}

/// A number as the legacy API writes it (a float always with a fraction: `1.0`).
fn number_text(v: serde_json::Value) -> String {
    v.to_string()
}

/// A time as the `DateTime` scalar writes it.
fn time_text(t: NaiveDateTime) -> String {
    utc(t).to_rfc3339()
}

/// One trait of an event.
pub struct TraitNode {
    name: String,
    value: TraitValue,
}

/// One trait of an event: its name, its type, its value as text, and the value typed (the
/// accessor of its type; the others are null).
#[Object(name = "StacktachTrait")]
impl TraitNode {
    async fn name(&self) -> &str {
        &self.name
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> TraitType {
        match self.value {
            TraitValue::Text(_) => TraitType::String,
            TraitValue::Int(_) => TraitType::Int,
            TraitValue::Float(_) => TraitType::Float,
            TraitValue::Time(_) => TraitType::Datetime,
        }
    }
    /// The value as text: a string as it is, a number as JSON writes it (`512`, `1.0`), a time
    /// as the `DateTime` scalar writes it.
    async fn value(&self) -> String {
        match &self.value {
            TraitValue::Text(s) => s.clone(),
            TraitValue::Time(t) => time_text(*t),
            v => number_text(v.json()),
        }
    }
    /// The value of a `STRING` trait.
    async fn string(&self) -> Option<&str> {
        match &self.value {
            TraitValue::Text(s) => Some(s),
            _ => None,
        }
    }
    /// The value of an `INT` trait (64-bit).
    async fn int(&self) -> Option<i64> {
        match self.value {
            TraitValue::Int(i) => Some(i),
            _ => None,
        }
    }
    /// The value of a `FLOAT` trait.
    async fn float(&self) -> Option<f64> {
        match self.value {
            TraitValue::Float(f) => Some(f),
            _ => None,
        }
    }
    /// The value of a `DATETIME` trait.
    async fn datetime(&self) -> Option<DateTime<Utc>> {
        match self.value {
            TraitValue::Time(t) => Some(utc(t)),
            _ => None,
        }
    }
}

pub struct EventNode(pub Event);

/// A StackTach event: one OpenStack notification, distilled to its type, the time it was
/// generated and its typed traits.
#[Object(name = "StacktachEvent")]
impl EventNode {
    /// Insertion order (the legacy API's `_mark` is this in hex).
    async fn id(&self) -> i64 {
        self.0.id
    }
    /// The notification's id, in lower case.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// When the notification was generated (the legacy API's `timestamp`), to the microsecond.
    async fn generated(&self) -> DateTime<Utc> {
        utc(self.0.generated)
    }
    /// Every trait, by name.
    async fn traits(&self) -> Vec<TraitNode> {
        parse_traits(&self.0.traits)
            .into_iter()
            .map(|(name, value)| TraitNode { name, value })
            .collect()
    }
    /// The trait `name`, if the event has it.
    #[graphql(name = "trait")]
    async fn trait_named(&self, name: String) -> Option<TraitNode> {
        let value = parse_traits(&self.0.traits).remove(&name)?;
        Some(TraitNode { name, value })
    }
    /// The streams the event joined, in the order they were opened.
    async fn streams(&self, ctx: &Context<'_>) -> Result<Vec<StreamNode>> {
        let found = loader(ctx)?
            .load_one(StreamsOfEvent(self.0.id))
            .await
            .gql()?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(StreamNode)
            .collect())
    }
}

/// The type of a distinguishing trait's value: a trait's, or the time range a timex expression
/// reduced a time to (`timestamp: day`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "StacktachDistinguishingTraitType")]
pub enum DistType {
    String,
    Int,
    Float,
    Datetime,
    TimeRange,
}

/// One distinguishing trait of a stream.
pub struct DistNode {
    name: String,
    value: DistValue,
}

/// The value of a stored distinguishing trait (a time range as `{"__type__":
/// "timex.TimeRange", "begin", "end"}`), or none if it is unreadable.
fn dist_value(v: serde_json::Value) -> Option<DistValue> {
    Some(match v {
        serde_json::Value::String(s) => DistValue::Text(s),
        serde_json::Value::Number(n) if n.is_i64() => DistValue::Int(n.as_i64()?),
        serde_json::Value::Number(n) => DistValue::Float(n.as_f64()?),
        serde_json::Value::Object(o) => match o.get("__type__").and_then(|t| t.as_str()) {
            Some("timex.TimeRange") => DistValue::Range(
                parse_iso(o.get("begin")?.as_str()?)?,
                parse_iso(o.get("end")?.as_str()?)?,
            ),
            _ => DistValue::Time(parse_iso(o.get("datetime")?.as_str()?)?),
        },
        _ => return None,
    })
}

fn dist_traits(stored: &str) -> Vec<DistNode> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(stored)
    else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(name, v)| {
            Some(DistNode {
                name,
                value: dist_value(v)?,
            })
        })
        .collect()
}

/// One distinguishing trait of a stream: the events of a stream share its value. A time range
/// (`TIME_RANGE`) shows its `begin` and `end`.
#[Object(name = "StacktachDistinguishingTrait")]
impl DistNode {
    async fn name(&self) -> &str {
        &self.name
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> DistType {
        match self.value {
            DistValue::Text(_) => DistType::String,
            DistValue::Int(_) => DistType::Int,
            DistValue::Float(_) => DistType::Float,
            DistValue::Time(_) => DistType::Datetime,
            DistValue::Range(..) => DistType::TimeRange,
        }
    }
    /// The value as text: as a trait's, and a time range as `begin/end` (an ISO 8601 interval).
    async fn value(&self) -> String {
        match &self.value {
            DistValue::Text(s) => s.clone(),
            DistValue::Time(t) => time_text(*t),
            DistValue::Range(b, e) => format!("{}/{}", time_text(*b), time_text(*e)),
            v => number_text(v.json()),
        }
    }
    async fn string(&self) -> Option<&str> {
        match &self.value {
            DistValue::Text(s) => Some(s),
            _ => None,
        }
    }
    async fn int(&self) -> Option<i64> {
        match self.value {
            DistValue::Int(i) => Some(i),
            _ => None,
        }
    }
    async fn float(&self) -> Option<f64> {
        match self.value {
            DistValue::Float(f) => Some(f),
            _ => None,
        }
    }
    async fn datetime(&self) -> Option<DateTime<Utc>> {
        match self.value {
            DistValue::Time(t) => Some(utc(t)),
            _ => None,
        }
    }
    /// Where a `TIME_RANGE` begins (included).
    async fn begin(&self) -> Option<DateTime<Utc>> {
        match self.value {
            DistValue::Range(b, _) => Some(utc(b)),
            _ => None,
        }
    }
    /// Where a `TIME_RANGE` ends (excluded).
    async fn end(&self) -> Option<DateTime<Utc>> {
        match self.value {
            DistValue::Range(_, e) => Some(utc(e)),
            _ => None,
        }
    }
}

pub struct StreamNode(pub Stream);

/// A StackTach stream: the events one trigger grouped by their distinguishing traits, and where
/// it is in its fire/expire lifecycle.
#[Object(name = "StacktachStream")]
impl StreamNode {
    /// Creation order (the legacy API's `_mark` is this in hex).
    async fn id(&self) -> i64 {
        self.0.id
    }
    /// The trigger's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn state(&self) -> Result<StreamStateValue> {
        StreamStateValue::from_code(self.0.state).gql()
    }
    /// Bumped by every state change (winchester's optimistic lock).
    async fn state_serial_no(&self) -> i32 {
        self.0.state_serial_no
    }
    /// When its first event was generated.
    async fn first_event(&self) -> DateTime<Utc> {
        utc(self.0.first_event)
    }
    /// When its last event was generated.
    async fn last_event(&self) -> DateTime<Utc> {
        utc(self.0.last_event)
    }
    /// When it fires: set once its events meet the trigger's fire criteria.
    async fn fire_timestamp(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.fire_timestamp)
    }
    /// When it expires if it has not fired (the trigger's `expiration`).
    async fn expire_timestamp(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.expire_timestamp)
    }
    /// The values its events share, by name.
    async fn distinguishing_traits(&self) -> Vec<DistNode> {
        dist_traits(&self.0.dist_traits)
    }
    /// How many events it holds.
    async fn event_count(&self) -> i32 {
        self.0.event_count
    }
    /// Its events, oldest generated first: `first` of them (the page default when absent, at
    /// most the page maximum).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn events(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<EventNode>> {
        let limit = page_size(first, &state(ctx)?.config.limits).gql()?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let found = loader(ctx)?
            .load_one(EventsOfStream {
                id: self.0.id,
                limit,
            })
            .await
            .gql()?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(|(_, e)| EventNode(e))
            .collect())
    }
    /// The trigger definition that made it; null if the server no longer loads it.
    async fn trigger(&self, ctx: &Context<'_>) -> Result<Option<TriggerNode>> {
        Ok(state(ctx)?
            .triggers
            .iter()
            .find(|t| t.name == self.0.name)
            .cloned()
            .map(TriggerNode))
    }
}

/// One entry of a trigger's `distinguished_by`.
#[derive(SimpleObject)]
#[graphql(name = "StacktachDistinguisher")]
pub struct DistinguisherNode {
    /// The trait (or `timestamp`, the event's time).
    pub trait_name: String,
    /// The timex expression that reduces the trait's time (`day`: its UTC day), if any.
    pub expression: Option<String>,
}

/// A distinguishing trait a criterion takes from another trait of the events it matches.
#[derive(SimpleObject)]
#[graphql(name = "StacktachTraitMapping")]
pub struct TraitMappingNode {
    /// The distinguishing trait.
    pub distinguishing_trait: String,
    /// The event's trait that supplies its value.
    pub from_trait: String,
}

/// How a trait criterion compares.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "StacktachTraitOperator")]
pub enum TraitOperator {
    /// Equal to the value.
    Equals,
    /// A number greater than the value.
    Greater,
    /// A number less than the value.
    Less,
    /// A time within the timex expression's range.
    Within,
}

/// What one trait of a matching event must be.
#[derive(SimpleObject)]
#[graphql(name = "StacktachTraitCriterion")]
pub struct TraitCriterionNode {
    pub name: String,
    pub operator: TraitOperator,
    /// The constant or timex expression compared with.
    pub value: String,
}

fn number(n: Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => f.to_string(),
    }
}

fn trait_criterion(name: &str, c: &TraitCriterion) -> TraitCriterionNode {
    let (operator, value) = match c {
        TraitCriterion::Equals(k) => (
            TraitOperator::Equals,
            match k {
                Constant::Text { value, .. } => value.clone(),
                Constant::Int(i) => i.to_string(),
                Constant::Float(f) => f.to_string(),
                Constant::Bool(b) => b.to_string(),
            },
        ),
        TraitCriterion::Greater(n) => (TraitOperator::Greater, number(*n)),
        TraitCriterion::Less(n) => (TraitOperator::Less, number(*n)),
        TraitCriterion::Within(e) => (TraitOperator::Within, e.source().to_owned()),
    };
    TraitCriterionNode {
        name: name.to_owned(),
        operator,
        value,
    }
}

pub struct CriterionNode(Criterion);

/// A match or fire criterion of a trigger, summarised.
#[Object(name = "StacktachCriterion")]
impl CriterionNode {
    /// `fnmatch` patterns of which the event type must match one (`*`: any).
    async fn event_types(&self) -> Vec<&str> {
        self.0
            .event_type
            .included
            .iter()
            .map(|p| p.source())
            .collect()
    }
    /// `fnmatch` patterns the event type must match none of (written `!pattern`).
    async fn excluded_event_types(&self) -> Vec<&str> {
        self.0
            .event_type
            .excluded
            .iter()
            .map(|p| p.source())
            .collect()
    }
    /// For a fire criterion: how many of the stream's events must meet it.
    async fn number(&self) -> u64 {
        self.0.number
    }
    /// The timex range the event's time must fall in, if any.
    async fn timestamp(&self) -> Option<&str> {
        self.0.timestamp.as_ref().map(|t| t.source())
    }
    /// Distinguishing traits taken from other traits of the events this criterion matches.
    async fn map_distinguished_by(&self) -> Vec<TraitMappingNode> {
        self.0
            .map_distinguished_by
            .iter()
            .map(|(d, f)| TraitMappingNode {
                distinguishing_trait: d.clone(),
                from_trait: f.clone(),
            })
            .collect()
    }
    /// What the event's traits must be; all must hold.
    async fn traits(&self) -> Vec<TraitCriterionNode> {
        self.0
            .traits
            .iter()
            .map(|(n, c)| trait_criterion(n, c))
            .collect()
    }
}

pub struct TriggerNode(pub TriggerDefinition);

/// A trigger definition, read at start (`--stacktach-triggers`): which events it groups into
/// streams, by which traits, when a stream fires and when it expires.
#[Object(name = "StacktachTrigger")]
impl TriggerNode {
    /// Its streams' `name`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The traits whose values make a stream.
    async fn distinguished_by(&self) -> Vec<DistinguisherNode> {
        self.0
            .distinguished_by
            .iter()
            .map(|d| DistinguisherNode {
                trait_name: d.trait_name.clone(),
                expression: d.expr.as_ref().map(|e| e.source().to_owned()),
            })
            .collect()
    }
    /// The timex expression of a stream's expiry, over `$first` and `$last`.
    async fn expiration(&self) -> &str {
        self.0.expiration.source()
    }
    /// Seconds between meeting the fire criteria and firing.
    async fn fire_delay(&self) -> i64 {
        self.0.fire_delay
    }
    async fn fire_pipeline(&self) -> Option<&str> {
        self.0.fire_pipeline.as_deref()
    }
    async fn expire_pipeline(&self) -> Option<&str> {
        self.0.expire_pipeline.as_deref()
    }
    /// An event joins a stream if it meets one of these.
    async fn match_criteria(&self) -> Vec<CriterionNode> {
        self.0
            .match_criteria
            .iter()
            .cloned()
            .map(CriterionNode)
            .collect()
    }
    /// A stream fires once its events meet all of these.
    async fn fire_criteria(&self) -> Vec<CriterionNode> {
        self.0
            .fire_criteria
            .iter()
            .cloned()
            .map(CriterionNode)
            .collect()
    }
}
