//! The pytest-monitor query root: contexts, sessions and metrics, filtered and ordered.

use async_graphql::{Context, Object, Result};

use super::inputs::{
    ContextFilterInput, MetricFilterInput, MetricOrderInput, SessionFilterInput, SessionOrderInput,
};
use super::nodes::{
    ContextConnection, ContextNode, MetricConnection, MetricNode, SessionConnection, SessionNode,
    metric_cursor,
};
use crate::graphql::connection::{
    Total, after_slice, connect, list_complexity, page_rows, page_size,
};
use crate::graphql::context::{GqlResultExt, state};
use crate::graphql::onepass;
use crate::service::monitor::{
    self as svc, ContextFilter, Metric, MetricOrder, Session, SessionFilter, SessionOrder,
};
use crate::service::{KeyCursor, Slice};

#[derive(Default)]
pub struct MonitorQuery;

#[Object]
impl MonitorQuery {
    /// Execution contexts, in insertion order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn monitor_contexts(
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
            Total::counted(&st.db, move |db| async move {
                svc::count_contexts(&db, &filter).await
            }),
        ))
    }

    /// One execution context by its full hash.
    async fn monitor_context(&self, ctx: &Context<'_>, h: String) -> Result<Option<ContextNode>> {
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
    async fn monitor_sessions(
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
            SessionNode::new,
            Total::counted(&st.db, move |db| async move {
                svc::count_sessions(&db, &filter).await
            }),
        )))
    }

    /// One session by its full hash.
    async fn monitor_session(&self, ctx: &Context<'_>, h: String) -> Result<Option<SessionNode>> {
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
        Ok(rows.into_iter().next().map(SessionNode::new))
    }

    /// Metrics across sessions, filtered and ordered.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn monitor_metrics(
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
            MetricNode::new,
            Total::counted(&st.db, move |db| async move {
                svc::count_metrics(&db, &filter).await
            }),
        )))
    }
}
