//! pytest-monitor's vocabulary: the limits, the row types and what callers send, the filters
//! and orders of the lists.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use entity::{monitor_context as ctx, monitor_metric as met, monitor_session as ses};

use sea_orm::{DbErr, QueryResult};

use super::description::tags_from_json;
use crate::error::{AppError, AppResult};
use crate::service::counts::Generation;
use crate::service::rows::{Cols, ColumnSet, Positional};
use crate::service::{Direction, SortValue};

/// Longest hash accepted for contexts and sessions (the legacy column is 64 characters).
pub const MAX_HASH_LEN: usize = 64;

/// Writes this process made to the pytest-monitor tables: the legacy lists' cached totals
/// (`service::counts`) are counted again after one.
pub static WRITES: Generation = Generation::new();
/// Most metrics written by one `add_metrics` call.
pub const MAX_METRICS_PER_BATCH: usize = 100_000;
/// Rows per multi-row INSERT: 16 columns each stays far below both backends' bind-parameter limits.
pub(super) const INSERT_CHUNK: usize = 1_000;

// ----------------------------------------------------------------------------------------------
// Values in and out
// ----------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct NewContext {
    pub h: String,
    pub cpu_count: i64,
    pub cpu_frequency: i64,
    pub cpu_type: String,
    pub cpu_vendor: String,
    pub ram_total: i64,
    pub machine_node: String,
    pub machine_type: String,
    pub machine_arch: String,
    pub system_info: String,
    pub python_info: String,
}

pub type Context = ctx::Model;

#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    pub h: String,
    /// ISO 8601 as the client sent it; normalised on write.
    pub run_date: String,
    pub scm_ref: Option<String>,
    /// The description's keys and values, in the client's order.
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: i64,
    pub h: String,
    pub run_date: String,
    pub run_at: NaiveDateTime,
    pub scm_ref: Option<String>,
    /// The description as stored (a JSON object of strings, see `tags_to_json`); read it with
    /// `tags`.
    description: String,
}

impl Session {
    pub(super) fn from_model(m: ses::Model) -> Self {
        Session {
            id: m.id,
            h: m.h,
            run_date: m.run_date,
            run_at: m.run_at,
            scm_ref: m.scm_ref,
            description: m.description,
        }
    }

    /// The description's keys and values, in the client's order. Parsed when asked for, and
    /// borrowed from the stored text wherever it needs no unescaping: a listed page shows each
    /// session's tags once, and owning them had cost two allocations a tag.
    pub fn tags(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        tags_from_json(&self.description)
    }
}

impl Positional for Session {
    type Entity = ses::Entity;

    fn decode(row: &sea_orm::QueryResult, cols: ColumnSet) -> Result<Self, sea_orm::DbErr> {
        ses::Model::decode(row, cols).map(Session::from_model)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewMetric {
    pub session_h: String,
    pub context_h: String,
    pub item_start_time: String,
    pub item_path: String,
    pub item: String,
    pub item_variant: String,
    pub item_fs_loc: String,
    pub kind: String,
    pub component: Option<String>,
    pub total_time: f64,
    pub user_time: f64,
    pub kernel_time: f64,
    pub cpu_usage: f64,
    pub mem_usage: f64,
}

/// A metric with the hashes of its session and context, as both edges present it.
/// Read by position (`Positional`), not derived from names.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub id: i64,
    pub session_id: i64,
    pub context_id: i64,
    pub session_h: String,
    pub context_h: String,
    pub item_start_time: String,
    pub item_path: String,
    pub item: String,
    pub item_variant: String,
    pub item_fs_loc: String,
    pub kind: String,
    pub component: Option<String>,
    pub total_time: f64,
    pub user_time: f64,
    pub kernel_time: f64,
    pub cpu_usage: f64,
    pub mem_usage: f64,
}

/// A page of rows and, for page-number paging, the total that matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

// ----------------------------------------------------------------------------------------------
// Filters and orders
// ----------------------------------------------------------------------------------------------

/// One condition on a session's description: the key is present and equals `value`, or, when
/// `value` is `None`, is present and not empty (the legacy `with_flags` semantics).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagCondition {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ContextFilter {
    pub h_prefix: Option<String>,
    pub h: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionFilter {
    pub h_prefix: Option<String>,
    pub h: Option<String>,
    pub scm_ref: Option<String>,
    pub scm_ref_prefix: Option<String>,
    pub tags: Vec<TagCondition>,
    /// All tag conditions must hold (otherwise any one is enough, the legacy default).
    pub tags_match_all: bool,
    pub run_from: Option<NaiveDateTime>,
    pub run_to: Option<NaiveDateTime>,
    /// Sessions that produced metrics for this component (exact).
    pub component: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricFilter {
    pub session_h: Option<String>,
    pub context_h: Option<String>,
    pub item: Option<String>,
    /// SQL LIKE pattern on the item, wildcards honoured.
    pub item_like: Option<String>,
    pub variant: Option<String>,
    pub variant_like: Option<String>,
    pub kind: Option<String>,
    pub component: Option<String>,
    pub component_like: Option<String>,
    pub scm_ref_prefix: Option<String>,
    /// Description tag `pipeline_branch` of the session.
    pub pipeline: Option<String>,
    /// Description tag `pipeline_build_no` of the session.
    pub build: Option<String>,
    pub session_tags: Vec<TagCondition>,
    pub start_from: Option<NaiveDateTime>,
    pub start_to: Option<NaiveDateTime>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SessionOrderField {
    /// Insertion order, what the legacy server returns.
    #[default]
    Id,
    RunDate,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionOrder {
    pub field: SessionOrderField,
    pub direction: Direction,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MetricOrderField {
    #[default]
    Id,
    TotalTime,
    UserTime,
    KernelTime,
    CpuUsage,
    MemUsage,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricOrder {
    pub field: MetricOrderField,
    pub direction: Direction,
}

impl MetricOrderField {
    pub(super) fn column(self) -> Option<met::Column> {
        match self {
            MetricOrderField::Id => None,
            MetricOrderField::TotalTime => Some(met::Column::TotalTime),
            MetricOrderField::UserTime => Some(met::Column::UserTime),
            MetricOrderField::KernelTime => Some(met::Column::KernelTime),
            MetricOrderField::CpuUsage => Some(met::Column::CpuUsage),
            MetricOrderField::MemUsage => Some(met::Column::MemUsage),
        }
    }

    /// The cursor value of a row under this order.
    pub fn sort_value(self, m: &Metric) -> SortValue {
        match self {
            MetricOrderField::Id => SortValue::Id,
            MetricOrderField::TotalTime => SortValue::Float(m.total_time),
            MetricOrderField::UserTime => SortValue::Float(m.user_time),
            MetricOrderField::KernelTime => SortValue::Float(m.kernel_time),
            MetricOrderField::CpuUsage => SortValue::Float(m.cpu_usage),
            MetricOrderField::MemUsage => SortValue::Float(m.mem_usage),
        }
    }
}

impl SessionOrderField {
    pub fn sort_value(self, s: &Session) -> SortValue {
        match self {
            SessionOrderField::Id => SortValue::Id,
            SessionOrderField::RunDate => SortValue::Time(s.run_at),
        }
    }
}

/// A context's or session's hash as the legacy column holds it: present and at most 64 characters.
pub(super) fn check_hash(field: &str, h: &str) -> AppResult<()> {
    if h.is_empty() {
        return Err(AppError::invalid_field(
            field,
            format!("'{field}' must not be empty"),
        ));
    }
    if h.chars().count() > MAX_HASH_LEN {
        return Err(AppError::invalid_field(
            field,
            format!("'{field}' is longer than {MAX_HASH_LEN} characters"),
        ));
    }
    Ok(())
}

impl Positional for ses::Model {
    type Entity = ses::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            h: c.read()?,
            run_date: c.read()?,
            run_at: c.read()?,
            scm_ref: c.read()?,
            description: c.read()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::rows::column_names as names;

    /// `decode` reads the fields in this order; the entity must declare its columns in it too.
    #[test]
    fn declared_column_order_is_the_decoding_order() {
        // `service::monitor::Metric` reads these, all but `item_start_at`.
        assert_eq!(
            names::<entity::monitor_metric::Entity>(),
            [
                "id",
                "session_id",
                "context_id",
                "session_h",
                "context_h",
                "item_start_time",
                "item_start_at",
                "item_path",
                "item",
                "item_variant",
                "item_fs_loc",
                "kind",
                "component",
                "total_time",
                "user_time",
                "kernel_time",
                "cpu_usage",
                "mem_usage"
            ]
        );
        assert_eq!(
            names::<ses::Entity>(),
            ["id", "h", "run_date", "run_at", "scm_ref", "description"]
        );
        assert_eq!(
            names::<ses::Entity>(),
            ["id", "h", "run_date", "run_at", "scm_ref", "description"]
        );
    }
}
