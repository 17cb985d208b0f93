//! A StackTach stream: the events one trigger grouped by their distinguishing traits, and where
//! the stream is in its fire/expire lifecycle.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stt_streams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The trigger's name.
    pub name: String,
    /// winchester's state number (1 active ... 8 retry_expire).
    pub state: i16,
    /// Bumped by every state change: the optimistic lock of winchester's `state_serial_no`.
    pub state_serial_no: i32,
    pub first_event: DateTime,
    pub last_event: DateTime,
    pub expire_timestamp: Option<DateTime>,
    pub fire_timestamp: Option<DateTime>,
    /// The distinguishing traits as one JSON object in the API's form (time ranges as
    /// `{"__type__": "timex.TimeRange", ...}`), keys sorted: also the key a new event's stream
    /// is found by.
    pub dist_traits: String,
    /// How many events it holds.
    pub event_count: i32,
    /// How many of its events met each fire criterion, a JSON array of counts, so that an event
    /// decides whether the stream fires without reading the others.
    pub fire_hits: String,
    /// When the pipeline worker claimed it (`firing` / `expiring`); a claim older than the
    /// worker's lease is handed back.
    pub claimed_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
