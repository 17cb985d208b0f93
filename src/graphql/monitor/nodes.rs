//! The pytest-monitor object types (sessions, execution contexts, metrics, tags), their
//! connections, and the relations read through the request's loader.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::inputs::{MetricFilterInput, MetricOrderInput};
use super::loaders::{
    ChildPage, ContextId, ContextsOfSession, MetricCountOf, MetricsOf, MonitorLoader,
    MonitorLoaders, SessionId,
};
use crate::error::AppError;
use crate::graphql::connection::{Cursor, Total, list_complexity, nested};
use crate::graphql::context::GqlResultExt;
use crate::graphql::onepass::tree_object;
use crate::service::KeyCursor;
use crate::service::monitor::{
    Context as ExecContext, Metric, MetricFilter, MetricOrder, MetricParent, Session,
};

pub(super) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<MonitorLoader>> {
    Ok(ctx.data::<MonitorLoaders>()?.as_ref())
}

pub type SessionConnection = Connection<Cursor, SessionNode, Total>;
pub type MetricConnection = Connection<Cursor, MetricNode, Total>;
pub type ContextConnection = Connection<Cursor, ContextNode, Total>;

pub(super) fn metric_cursor(order: MetricOrder) -> impl Fn(&Metric) -> KeyCursor {
    move |m| KeyCursor {
        value: order.field.sort_value(m),
        id: m.id,
    }
}

/// A description tag of a session.
#[derive(SimpleObject, Clone)]
#[graphql(name = "MonitorTag")]
pub struct Tag {
    pub name: String,
    pub value: String,
}

tree_object! {
    /// One pytest run, as recorded by the pytest-monitor plugin.
    SessionNode(Session) = SessionScalars + SessionRelations as s, "MonitorSession";
    /// The session hash the client chose.
    h -> &str ["h"; h] = &s.h;
    /// Start of the run, ISO 8601 as the client sent it (re-emitted like the legacy server).
    run_date -> &str ["runDate"; run_date] = &s.run_date;
    /// Start of the run as an instant (UTC when the client gave an offset, else taken as UTC).
    run_at -> DateTime<Utc> ["runAt"; run_at] = s.run_at.and_utc();
    scm_ref -> Option<&str> ["scmRef"; scm_ref] = s.scm_ref.as_deref();
}

/// The relations of `MonitorSession` (its scalar fields are `SessionScalars`).
pub struct SessionRelations(std::sync::Arc<Session>);

#[Object]
impl SessionRelations {
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
            (first, after),
            filter,
            order_by,
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

pub struct ContextNode(pub ExecContext);

/// The machine a session ran on.
#[Object(name = "MonitorContext")]
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
            (first, after),
            filter,
            order_by,
        )
        .await
    }
}

tree_object! {
    /// One test item's resource use in one session.
    MetricNode(Metric) = MetricScalars + MetricRelations as m, "MonitorMetric";
    id -> i64 ["id"; id] = m.id;
    session_h -> &str ["sessionH"; session_h] = &m.session_h;
    context_h -> &str ["contextH"; context_h] = &m.context_h;
    /// Start of the item, verbatim as the client sent it.
    item_start_time -> &str ["itemStartTime"; item_start_time] = &m.item_start_time;
    item_path -> &str ["itemPath"; item_path] = &m.item_path;
    item -> &str ["item"; item] = &m.item;
    item_variant -> &str ["itemVariant"; item_variant] = &m.item_variant;
    item_fs_loc -> &str ["itemFsLoc"; item_fs_loc] = &m.item_fs_loc;
    kind -> &str ["kind"; kind] = &m.kind;
    component -> Option<&str> ["component"; component] = m.component.as_deref();
    /// Wall time in seconds.
    total_time -> f64 ["totalTime"; total_time] = m.total_time;
    user_time -> f64 ["userTime"; user_time] = m.user_time;
    kernel_time -> f64 ["kernelTime"; kernel_time] = m.kernel_time;
    cpu_usage -> f64 ["cpuUsage"; cpu_usage] = m.cpu_usage;
    /// Memory in MB (may be negative: the plugin reports a difference).
    mem_usage -> f64 ["memUsage"; mem_usage] = m.mem_usage;
}

/// The relations of `MonitorMetric` (its scalar fields are `MetricScalars`).
pub struct MetricRelations(std::sync::Arc<Metric>);

#[Object]
impl MetricRelations {
    async fn session(&self, ctx: &Context<'_>) -> Result<SessionNode> {
        let s = loader(ctx)?
            .load_one(SessionId(self.0.session_id))
            .await
            .gql()?;
        s.map(SessionNode::new)
            .ok_or_else(|| AppError::Internal(format!("metric {} has no session", self.0.id)))
            .gql()
    }
    async fn context(&self, ctx: &Context<'_>) -> Result<ContextNode> {
        let c = loader(ctx)?
            .load_one(ContextId(self.0.context_id))
            .await
            .gql()?;
        c.map(ContextNode)
            .ok_or_else(|| AppError::Internal(format!("metric {} has no context", self.0.id)))
            .gql()
    }
}

/// A session's or context's metrics: a page through the loader, and its total counted, when
/// asked, through the loader too (one grouped count for the whole level).
async fn child_metrics(
    ctx: &Context<'_>,
    parent: MetricParent,
    id: i64,
    (first, after): (Option<i32>, Option<String>),
    filter: MetricFilter,
    order_by: Option<MetricOrderInput>,
) -> Result<MetricConnection> {
    let order: MetricOrder = order_by.unwrap_or_default().into();
    let loaders = ctx.data::<MonitorLoaders>()?;
    let counter = loaders.clone();
    let count_filter = filter.clone();
    let total = Total::new(async move {
        let key = MetricCountOf {
            parent,
            id,
            filter: count_filter,
        };
        Ok(counter.load_one(key).await.gql()?.unwrap_or(0))
    });
    let key = |limit, after| MetricsOf {
        parent,
        id,
        page: ChildPage {
            limit,
            after,
            order,
            filter,
        },
    };
    let cursor = metric_cursor(order);
    nested(
        ctx,
        loaders,
        first,
        after,
        key,
        cursor,
        MetricNode::new,
        total,
    )
    .await
}
