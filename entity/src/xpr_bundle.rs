//! An XPRESSO bundle: a saved group of profile runs; a request for it gets one item per entry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_bundles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub group_name: String,
    pub name: String,
    /// The entries, a JSON array of `{"profile", "testbeds", "topology", "parameters"}`: each a
    /// profile UUID with the testbeds or topology and the arguments it runs with.
    pub entries: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
