//! A pytest-monitor session: one pytest run, keyed by the client's hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "monitor_sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub h: String,
    /// ISO 8601 text, normalised as the legacy server re-emitted it.
    pub run_date: String,
    /// The same instant (UTC when the client gave an offset, else as given) for ordering and windows.
    pub run_at: DateTime,
    pub scm_ref: Option<String>,
    /// The description object as JSON text, keys in the client's order.
    pub description: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
