//! A StackTach event: one OpenStack notification, distilled to its type, time and typed traits.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stt_events")]
pub struct Model {
    /// Insertion order; the API's `_mark` is this in hex.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The notification's id, lower-case, unique: a notification sent twice is stored once.
    #[sea_orm(unique)]
    pub message_id: String,
    pub event_type: String,
    /// When the notification was generated (microseconds).
    pub generated: DateTime,
    /// The traits as one JSON object in the API's own form: strings and numbers plain (floats
    /// always with a fraction), datetimes as `{"__type__": "datetime", "datetime": iso}`.
    pub traits: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
