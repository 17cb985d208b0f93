//! One section of an XPRESSO results script (a testscript, a testcase, a setup or cleanup
//! section), as the pyATS results archive describes it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_sections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub script_id: i64,
    /// 0-based order within the script.
    pub position: i32,
    /// The section's UUID (the API's `id`).
    pub uuid: String,
    pub section_id: String,
    pub parent_id: Option<String>,
    pub sequence_number: i64,
    pub section_name: String,
    pub section_type: String,
    pub result: String,
    pub source_file: String,
    pub source_line: i64,
    /// Seconds, as the archive writes them (a string).
    pub run_time: String,
    pub start_time: Option<DateTime>,
    pub stop_time: Option<DateTime>,
    pub log_file: String,
    pub log_start: i64,
    pub log_start_line: i64,
    pub log_size: i64,
    pub log_size_line: i64,
    pub description: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
