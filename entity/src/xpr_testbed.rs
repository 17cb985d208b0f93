//! An XPRESSO testbed: a named lab resource (its pyATS testbed YAML) that a group's requests run
//! on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_testbeds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The identifier the API shows and requests name (a UUID).
    #[sea_orm(unique)]
    pub uuid: String,
    /// The owning group: only its members see or use the testbed.
    pub group_name: String,
    pub name: String,
    /// The testbed file (pyATS YAML) as given.
    pub definition: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
