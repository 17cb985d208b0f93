//! A StackTach stream's event: deleting a stream deletes its links, never its events.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stt_stream_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
