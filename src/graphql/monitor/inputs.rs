//! The pytest-monitor inputs: filters and orders of the lists, and what the mutations take.

use async_graphql::{Enum, InputObject, Result};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::connection::SortDirection;
use crate::graphql::context::GqlResultExt;
use crate::service::monitor::{
    MetricFilter, MetricOrder, MetricOrderField, NewMetric, SessionFilter, SessionOrder,
    SessionOrderField, TagCondition,
};

/// Most tag conditions in one filter.
pub(super) const MAX_TAG_CONDITIONS: usize = 20;

/// A condition on a session's description tags.
#[derive(InputObject, Clone)]
#[graphql(name = "MonitorTagMatch")]
pub struct TagMatch {
    pub name: String,
    /// The value to match; omit to match any non-empty value.
    pub value: Option<String>,
}

#[derive(InputObject, Default)]
#[graphql(name = "MonitorContextFilter")]
pub struct ContextFilterInput {
    /// Contexts whose hash starts with this.
    pub h_prefix: Option<String>,
}

#[derive(InputObject, Default)]
#[graphql(name = "MonitorSessionFilter")]
pub struct SessionFilterInput {
    /// Sessions whose hash starts with this.
    pub h_prefix: Option<String>,
    pub scm_ref: Option<String>,
    pub scm_ref_prefix: Option<String>,
    /// Description tag conditions.
    pub tags: Option<Vec<TagMatch>>,
    /// Require every tag condition (default: any one).
    #[graphql(default)]
    pub tags_match_all: bool,
    /// Sessions started at or after this instant.
    pub run_from: Option<DateTime<Utc>>,
    /// Sessions started before this instant.
    pub run_to: Option<DateTime<Utc>>,
    /// Sessions that produced metrics for this component.
    pub component: Option<String>,
}

#[derive(InputObject, Default, Clone)]
#[graphql(name = "MonitorMetricFilter")]
pub struct MetricFilterInput {
    pub session_h: Option<String>,
    pub context_h: Option<String>,
    pub item: Option<String>,
    /// SQL LIKE pattern on the item (`%` and `_` are wildcards).
    pub item_like: Option<String>,
    pub variant: Option<String>,
    pub variant_like: Option<String>,
    /// Item kind: function, module, class...
    pub kind: Option<String>,
    pub component: Option<String>,
    /// Metrics of sessions whose SCM reference starts with this.
    pub scm_ref_prefix: Option<String>,
    /// Metrics of sessions tagged `pipeline_branch` = this.
    pub pipeline: Option<String>,
    /// Metrics of sessions tagged `pipeline_build_no` = this.
    pub build: Option<String>,
    /// Conditions on the session's description tags (all must hold).
    pub session_tags: Option<Vec<TagMatch>>,
    /// Items started at or after this instant.
    pub start_from: Option<DateTime<Utc>>,
    /// Items started before this instant.
    pub start_to: Option<DateTime<Utc>>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "MonitorSessionOrderField")]
pub enum SessionOrderBy {
    /// Insertion order.
    #[default]
    Id,
    RunDate,
}

#[derive(InputObject, Default, Clone, Copy)]
#[graphql(name = "MonitorSessionOrder")]
pub struct SessionOrderInput {
    #[graphql(default)]
    pub field: SessionOrderBy,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "MonitorMetricOrderField")]
pub enum MetricOrderBy {
    /// Insertion order.
    #[default]
    Id,
    TotalTime,
    UserTime,
    KernelTime,
    CpuUsage,
    MemUsage,
}

#[derive(InputObject, Default, Clone, Copy)]
#[graphql(name = "MonitorMetricOrder")]
pub struct MetricOrderInput {
    #[graphql(default)]
    pub field: MetricOrderBy,
    #[graphql(default)]
    pub direction: SortDirection,
}

pub(super) fn tag_conditions(tags: Option<Vec<TagMatch>>) -> Result<Vec<TagCondition>> {
    let tags = tags.unwrap_or_default();
    if tags.len() > MAX_TAG_CONDITIONS {
        return Err(AppError::invalid_field(
            "tags",
            format!("at most {MAX_TAG_CONDITIONS} tag conditions"),
        ))
        .gql();
    }
    Ok(tags
        .into_iter()
        .map(|t| TagCondition {
            name: t.name,
            value: t.value,
        })
        .collect())
}

impl SessionFilterInput {
    pub(super) fn into_filter(self) -> Result<SessionFilter> {
        Ok(SessionFilter {
            h_prefix: self.h_prefix,
            h: None,
            scm_ref: self.scm_ref,
            scm_ref_prefix: self.scm_ref_prefix,
            tags: tag_conditions(self.tags)?,
            tags_match_all: self.tags_match_all,
            run_from: self.run_from.map(|t| t.naive_utc()),
            run_to: self.run_to.map(|t| t.naive_utc()),
            component: self.component,
        })
    }
}

impl MetricFilterInput {
    pub(super) fn into_filter(self) -> Result<MetricFilter> {
        Ok(MetricFilter {
            session_h: self.session_h,
            context_h: self.context_h,
            item: self.item,
            item_like: self.item_like,
            variant: self.variant,
            variant_like: self.variant_like,
            kind: self.kind,
            component: self.component,
            component_like: None,
            scm_ref_prefix: self.scm_ref_prefix,
            pipeline: self.pipeline,
            build: self.build,
            session_tags: tag_conditions(self.session_tags)?,
            start_from: self.start_from.map(|t| t.naive_utc()),
            start_to: self.start_to.map(|t| t.naive_utc()),
        })
    }
}

impl From<SessionOrderInput> for SessionOrder {
    fn from(o: SessionOrderInput) -> Self {
        let field = match o.field {
            SessionOrderBy::Id => SessionOrderField::Id,
            SessionOrderBy::RunDate => SessionOrderField::RunDate,
        };
        SessionOrder {
            field,
            direction: o.direction.into(),
        }
    }
}

impl From<MetricOrderInput> for MetricOrder {
    fn from(o: MetricOrderInput) -> Self {
        let field = match o.field {
            MetricOrderBy::Id => MetricOrderField::Id,
            MetricOrderBy::TotalTime => MetricOrderField::TotalTime,
            MetricOrderBy::UserTime => MetricOrderField::UserTime,
            MetricOrderBy::KernelTime => MetricOrderField::KernelTime,
            MetricOrderBy::CpuUsage => MetricOrderField::CpuUsage,
            MetricOrderBy::MemUsage => MetricOrderField::MemUsage,
        };
        MetricOrder {
            field,
            direction: o.direction.into(),
        }
    }
}

#[derive(InputObject)]
#[graphql(name = "MonitorContextInput")]
pub struct NewContextInput {
    pub h: String,
    pub cpu_count: i64,
    /// MHz.
    pub cpu_frequency: i64,
    pub cpu_type: String,
    #[graphql(default)]
    pub cpu_vendor: String,
    /// MB.
    pub ram_total: i64,
    pub machine_node: String,
    pub machine_type: String,
    pub machine_arch: String,
    pub system_info: String,
    pub python_info: String,
}

#[derive(InputObject)]
#[graphql(name = "MonitorTagInput")]
pub struct TagInput {
    pub name: String,
    pub value: String,
}

#[derive(InputObject)]
#[graphql(name = "MonitorSessionInput")]
pub struct NewSessionInput {
    pub h: String,
    /// ISO 8601 date-time.
    pub run_date: String,
    pub scm_ref: Option<String>,
    #[graphql(default)]
    pub tags: Vec<TagInput>,
}

// Also the row of `POST /bulk/v1/monitor/metrics` (`rest::bulk`): serde reads it with the same
// names and defaults, so both doors take the same fields.
/// One pytest-monitor metric; also a row of `POST /bulk/v1/monitor/metrics`.
#[derive(InputObject, serde::Deserialize)]
#[graphql(name = "MonitorMetricInput")]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "a MonitorMetricInput object"
)]
pub struct NewMetricInput {
    pub session_h: String,
    pub context_h: String,
    pub item_start_time: String,
    pub item_path: String,
    pub item: String,
    #[graphql(default)]
    #[serde(default)]
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

impl From<NewMetricInput> for NewMetric {
    fn from(m: NewMetricInput) -> Self {
        NewMetric {
            session_h: m.session_h,
            context_h: m.context_h,
            item_start_time: m.item_start_time,
            item_path: m.item_path,
            item: m.item,
            item_variant: m.item_variant,
            item_fs_loc: m.item_fs_loc,
            kind: m.kind,
            component: m.component,
            total_time: m.total_time,
            user_time: m.user_time,
            kernel_time: m.kernel_time,
            cpu_usage: m.cpu_usage,
            mem_usage: m.mem_usage,
        }
    }
}
