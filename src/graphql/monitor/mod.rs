//! GraphQL for the pytest-monitor domain: execution contexts, sessions and metrics as cursor
//! connections with filters and ordering, relations through the request's dataloader, and the
//! mutations that write contexts, sessions and metric batches.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::connection::SortDirection;
use crate::graphql::connection::{
    Cursor, after_slice, connect, decode, list_complexity, page_rows, page_size,
};
use crate::graphql::context::{GqlResultExt, require, state};
use crate::graphql::onepass;
use loaders::{
    ChildPage, ContextId, ContextsOfSession, MetricsOf, MonitorLoader, MonitorLoaders, SessionId,
};

pub mod loaders;
mod tree;

/// The object types the one-pass writer covers, with their scalar fields (for the test that
/// keeps them equal to the schema's).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    use onepass::TreeRow;
    vec![
        (Metric::NODE, Metric::field_names()),
        (Session::NODE, Session::field_names()),
    ]
}
use crate::error::AppError;
use crate::service::monitor::{
    self as svc, Context as ExecContext, ContextFilter, Metric, MetricFilter, MetricOrder,
    MetricOrderField, MetricParent, NewContext, NewMetric, NewSession, Session, SessionFilter,
    SessionOrder, SessionOrderField, TagCondition,
};
use crate::service::tokens::Scope;
use crate::service::{KeyCursor, Slice};

/// Most tag conditions in one filter.
const MAX_TAG_CONDITIONS: usize = 20;

fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<MonitorLoader>> {
    Ok(ctx.data::<MonitorLoaders>()?.as_ref())
}

// ----------------------------------------------------------------------------------------------
// Inputs
// ----------------------------------------------------------------------------------------------

/// A condition on a session's description tags.
#[derive(InputObject, Clone)]
pub struct TagMatch {
    pub name: String,
    /// The value to match; omit to match any non-empty value.
    pub value: Option<String>,
}

#[derive(InputObject, Default)]
pub struct ContextFilterInput {
    /// Contexts whose hash starts with this.
    pub h_prefix: Option<String>,
}

#[derive(InputObject, Default)]
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
pub enum SessionOrderBy {
    /// Insertion order.
    #[default]
    Id,
    RunDate,
}

#[derive(InputObject, Default, Clone, Copy)]
pub struct SessionOrderInput {
    #[graphql(default)]
    pub field: SessionOrderBy,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
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
pub struct MetricOrderInput {
    #[graphql(default)]
    pub field: MetricOrderBy,
    #[graphql(default)]
    pub direction: SortDirection,
}

fn tag_conditions(tags: Option<Vec<TagMatch>>) -> Result<Vec<TagCondition>> {
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
    fn into_filter(self) -> Result<SessionFilter> {
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
    fn into_filter(self) -> Result<MetricFilter> {
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

// ----------------------------------------------------------------------------------------------
// Connections
// ----------------------------------------------------------------------------------------------

/// `totalCount` of a connection, counted only when a client asks for it.
pub struct SessionTotal(SessionFilter);

#[Object]
impl SessionTotal {
    /// Number of sessions matching the filter (one extra COUNT query).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        svc::count_sessions(&state(ctx)?.db, &self.0).await.gql()
    }
}

pub struct MetricTotal(MetricFilter);

#[Object]
impl MetricTotal {
    /// Number of metrics matching the filter (one extra COUNT query).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        svc::count_metrics(&state(ctx)?.db, &self.0).await.gql()
    }
}

pub struct ContextTotal(ContextFilter);

#[Object]
impl ContextTotal {
    /// Number of contexts matching the filter (one extra COUNT query).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        svc::count_contexts(&state(ctx)?.db, &self.0).await.gql()
    }
}

pub type SessionConnection = Connection<Cursor, SessionNode, SessionTotal>;
pub type MetricConnection = Connection<Cursor, MetricNode, MetricTotal>;
pub type ContextConnection = Connection<Cursor, ContextNode, ContextTotal>;

fn metric_cursor(order: MetricOrder) -> impl Fn(&Metric) -> KeyCursor {
    move |m| KeyCursor {
        value: order.field.sort_value(m),
        id: m.id,
    }
}

// ----------------------------------------------------------------------------------------------
// Nodes
// ----------------------------------------------------------------------------------------------

/// A description tag of a session.
#[derive(SimpleObject, Clone)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

/// One pytest run, as recorded by the pytest-monitor plugin.
pub struct SessionNode(pub Session);

#[Object(name = "Session")]
impl SessionNode {
    /// The session hash the client chose.
    async fn h(&self) -> &str {
        &self.0.h
    }
    /// Start of the run, ISO 8601 as the client sent it (re-emitted like the legacy server).
    async fn run_date(&self) -> &str {
        &self.0.run_date
    }
    /// Start of the run as an instant (UTC when the client gave an offset, else taken as UTC).
    async fn run_at(&self) -> DateTime<Utc> {
        self.0.run_at.and_utc()
    }
    async fn scm_ref(&self) -> Option<&str> {
        self.0.scm_ref.as_deref()
    }
    /// The description, key by key, in the client's order.
    async fn tags(&self) -> Vec<Tag> {
        self.0
            .tags()
            .into_iter()
            .map(|(name, value)| Tag {
                name: name.into_owned(),
                value: value.into_owned(),
            })
            .collect()
    }
    /// The value of one description tag.
    async fn tag(&self, name: String) -> Option<String> {
        self.0
            .tags()
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.into_owned())
    }
    /// This session's metrics.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<MetricFilterInput>,
        order_by: Option<MetricOrderInput>,
    ) -> Result<MetricConnection> {
        let mut filter = filter.unwrap_or_default().into_filter()?;
        filter.session_h = None;
        child_metrics(
            ctx,
            MetricParent::Session,
            self.0.id,
            first,
            after,
            filter,
            order_by,
            |f| f.session_h = Some(self.0.h.clone()),
        )
        .await
    }
    /// The execution contexts this session's metrics ran on.
    async fn contexts(&self, ctx: &Context<'_>) -> Result<Vec<ContextNode>> {
        let found = loader(ctx)?
            .load_one(ContextsOfSession(self.0.id))
            .await
            .gql()?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(ContextNode)
            .collect())
    }
}

/// The machine a session ran on.
pub struct ContextNode(pub ExecContext);

#[Object(name = "ExecutionContext")]
impl ContextNode {
    async fn h(&self) -> &str {
        &self.0.h
    }
    async fn cpu_count(&self) -> i64 {
        self.0.cpu_count
    }
    /// Nominal CPU frequency in MHz.
    async fn cpu_frequency(&self) -> i64 {
        self.0.cpu_frequency
    }
    async fn cpu_type(&self) -> &str {
        &self.0.cpu_type
    }
    async fn cpu_vendor(&self) -> &str {
        &self.0.cpu_vendor
    }
    /// Total RAM in MB.
    async fn ram_total(&self) -> i64 {
        self.0.ram_total
    }
    async fn machine_node(&self) -> &str {
        &self.0.machine_node
    }
    async fn machine_type(&self) -> &str {
        &self.0.machine_type
    }
    async fn machine_arch(&self) -> &str {
        &self.0.machine_arch
    }
    async fn system_info(&self) -> &str {
        &self.0.system_info
    }
    async fn python_info(&self) -> &str {
        &self.0.python_info
    }
    /// Metrics measured on this context.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<MetricFilterInput>,
        order_by: Option<MetricOrderInput>,
    ) -> Result<MetricConnection> {
        let mut filter = filter.unwrap_or_default().into_filter()?;
        filter.context_h = None;
        child_metrics(
            ctx,
            MetricParent::Context,
            self.0.id,
            first,
            after,
            filter,
            order_by,
            |f| f.context_h = Some(self.0.h.clone()),
        )
        .await
    }
}

/// One test item's resource use in one session.
#[derive(SimpleObject)]
#[graphql(name = "Metric", complex)]
pub struct MetricNode {
    #[graphql(skip)]
    pub row: Metric,
    pub id: i64,
    pub session_h: String,
    pub context_h: String,
    /// Start of the item, verbatim as the client sent it.
    pub item_start_time: String,
    pub item_path: String,
    pub item: String,
    pub item_variant: String,
    pub item_fs_loc: String,
    pub kind: String,
    pub component: Option<String>,
    /// Wall time in seconds.
    pub total_time: f64,
    pub user_time: f64,
    pub kernel_time: f64,
    pub cpu_usage: f64,
    /// Memory in MB (may be negative: the plugin reports a difference).
    pub mem_usage: f64,
}

impl From<Metric> for MetricNode {
    fn from(m: Metric) -> Self {
        MetricNode {
            id: m.id,
            session_h: m.session_h.clone(),
            context_h: m.context_h.clone(),
            item_start_time: m.item_start_time.clone(),
            item_path: m.item_path.clone(),
            item: m.item.clone(),
            item_variant: m.item_variant.clone(),
            item_fs_loc: m.item_fs_loc.clone(),
            kind: m.kind.clone(),
            component: m.component.clone(),
            total_time: m.total_time,
            user_time: m.user_time,
            kernel_time: m.kernel_time,
            cpu_usage: m.cpu_usage,
            mem_usage: m.mem_usage,
            row: m,
        }
    }
}

#[ComplexObject]
impl MetricNode {
    async fn session(&self, ctx: &Context<'_>) -> Result<SessionNode> {
        let s = loader(ctx)?
            .load_one(SessionId(self.row.session_id))
            .await
            .gql()?;
        s.map(SessionNode)
            .ok_or_else(|| AppError::Internal(format!("metric {} has no session", self.row.id)))
            .gql()
    }
    async fn context(&self, ctx: &Context<'_>) -> Result<ContextNode> {
        let c = loader(ctx)?
            .load_one(ContextId(self.row.context_id))
            .await
            .gql()?;
        c.map(ContextNode)
            .ok_or_else(|| AppError::Internal(format!("metric {} has no context", self.row.id)))
            .gql()
    }
}

#[allow(clippy::too_many_arguments)]
async fn child_metrics(
    ctx: &Context<'_>,
    parent: MetricParent,
    id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: MetricFilter,
    order_by: Option<MetricOrderInput>,
    restrict_total: impl FnOnce(&mut MetricFilter),
) -> Result<MetricConnection> {
    let limit = page_size(first, &state(ctx)?.config.limits).gql()?;
    if let Some(a) = &after {
        decode(a).gql()?;
    }
    let order: MetricOrder = order_by.unwrap_or_default().into();
    let key = MetricsOf {
        parent,
        id,
        page: ChildPage {
            limit: limit + 1,
            after: after.clone(),
            order,
            filter: filter.clone(),
        },
    };
    let rows = loader(ctx)?.load_one(key).await.gql()?.unwrap_or_default();
    let mut total_filter = filter;
    restrict_total(&mut total_filter);
    Ok(connect(
        rows,
        limit,
        after.is_some(),
        metric_cursor(order),
        MetricNode::from,
        MetricTotal(total_filter),
    ))
}

// ----------------------------------------------------------------------------------------------
// Query and mutation roots
// ----------------------------------------------------------------------------------------------

#[derive(Default)]
pub struct MonitorQuery;

#[Object]
impl MonitorQuery {
    /// Execution contexts, in insertion order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn contexts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ContextFilterInput>,
    ) -> Result<ContextConnection> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let filter = ContextFilter {
            h_prefix: filter.and_then(|f| f.h_prefix),
            h: None,
        };
        let rows = svc::list_contexts(&st.db, &filter, &after_slice(after.as_deref(), limit)?)
            .await
            .gql()?;
        Ok(connect(
            rows,
            limit,
            after.is_some(),
            |c| KeyCursor::by_id(c.id),
            ContextNode,
            ContextTotal(filter),
        ))
    }

    /// One execution context by its full hash.
    async fn context(&self, ctx: &Context<'_>, h: String) -> Result<Option<ContextNode>> {
        let st = state(ctx)?;
        let filter = ContextFilter {
            h: Some(h),
            h_prefix: None,
        };
        let rows = svc::list_contexts(
            &st.db,
            &filter,
            &Slice::Offset {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .gql()?;
        Ok(rows.into_iter().next().map(ContextNode))
    }

    /// Sessions, filtered and ordered.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<SessionFilterInput>,
        order_by: Option<SessionOrderInput>,
    ) -> Result<onepass::Resolved<SessionConnection>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let order: SessionOrder = order_by.unwrap_or_default().into();
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_sessions(&st.db, &filter, order, &slice)).await?;
        let field = order.field;
        let cursor = move |s: &Session| KeyCursor {
            value: field.sort_value(s),
            id: s.id,
        };
        // A page of a session's plain fields and tags is written straight to JSON (`onepass`);
        // asking for `tag(name)`, its metrics or contexts sends it through the resolvers.
        if let Some(plan) = onepass::plan_list::<Session>(ctx, &st.config.limits) {
            let count = svc::count_sessions(&st.db, &filter);
            let page = (rows, limit, after.is_some());
            return onepass::answer_list(st, &plan, page, &cursor, count).await;
        }
        Ok(onepass::Resolved::Typed(connect(
            rows,
            limit,
            after.is_some(),
            cursor,
            SessionNode,
            SessionTotal(filter),
        )))
    }

    /// One session by its full hash.
    async fn session(&self, ctx: &Context<'_>, h: String) -> Result<Option<SessionNode>> {
        let st = state(ctx)?;
        let filter = SessionFilter {
            h: Some(h),
            ..Default::default()
        };
        let rows = svc::list_sessions(
            &st.db,
            &filter,
            SessionOrder::default(),
            &Slice::Offset {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .gql()?;
        Ok(rows.into_iter().next().map(SessionNode))
    }

    /// Metrics across sessions, filtered and ordered.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<MetricFilterInput>,
        order_by: Option<MetricOrderInput>,
    ) -> Result<onepass::Resolved<MetricConnection>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let order: MetricOrder = order_by.unwrap_or_default().into();
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_metrics(&st.db, &filter, order, &slice)).await?;
        // A page of plain metric fields is written straight to JSON (`onepass`); asking for a
        // metric's session or context sends it through the resolvers.
        if let Some(plan) = onepass::plan_list::<Metric>(ctx, &st.config.limits) {
            let count = svc::count_metrics(&st.db, &filter);
            let page = (rows, limit, after.is_some());
            return onepass::answer_list(st, &plan, page, &metric_cursor(order), count).await;
        }
        Ok(onepass::Resolved::Typed(connect(
            rows,
            limit,
            after.is_some(),
            metric_cursor(order),
            MetricNode::from,
            MetricTotal(filter),
        )))
    }
}

#[derive(InputObject)]
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
pub struct TagInput {
    pub name: String,
    pub value: String,
}

#[derive(InputObject)]
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
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "a NewMetricInput object"
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

#[derive(SimpleObject)]
pub struct AddMetricsPayload {
    /// Number of metrics stored (all of the batch, or none on error).
    pub inserted: u64,
}

#[derive(Default)]
pub struct MonitorMutation;

#[Object]
impl MonitorMutation {
    /// Registers an execution context. Re-sending an identical context returns the stored one.
    async fn create_context(
        &self,
        ctx: &Context<'_>,
        input: NewContextInput,
    ) -> Result<ContextNode> {
        require(ctx, Scope::Write)?;
        let new = NewContext {
            h: input.h,
            cpu_count: input.cpu_count,
            cpu_frequency: input.cpu_frequency,
            cpu_type: input.cpu_type,
            cpu_vendor: input.cpu_vendor,
            ram_total: input.ram_total,
            machine_node: input.machine_node,
            machine_type: input.machine_type,
            machine_arch: input.machine_arch,
            system_info: input.system_info,
            python_info: input.python_info,
        };
        svc::create_context(&state(ctx)?.db, new)
            .await
            .map(ContextNode)
            .gql()
    }

    /// Records a session. Re-sending an identical session returns the stored one.
    async fn create_session(
        &self,
        ctx: &Context<'_>,
        input: NewSessionInput,
    ) -> Result<SessionNode> {
        require(ctx, Scope::Write)?;
        let new = NewSession {
            h: input.h,
            run_date: input.run_date,
            scm_ref: input.scm_ref,
            tags: input.tags.into_iter().map(|t| (t.name, t.value)).collect(),
        };
        svc::create_session(&state(ctx)?.db, new)
            .await
            .map(SessionNode)
            .gql()
    }

    /// Stores a batch of metrics in one transaction: all of them, or none if any is invalid.
    async fn add_metrics(
        &self,
        ctx: &Context<'_>,
        input: Vec<NewMetricInput>,
    ) -> Result<AddMetricsPayload> {
        require(ctx, Scope::Write)?;
        let batch = input.into_iter().map(NewMetric::from).collect();
        let inserted = svc::add_metrics(&state(ctx)?.db, batch).await.gql()?;
        Ok(AddMetricsPayload { inserted })
    }
}
