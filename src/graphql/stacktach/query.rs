//! The StackTach query root: events and streams (filtered as quincy filters them, paged by id
//! either way), one event by message id, one stream, and the trigger definitions.

use async_graphql::{Context, Object, Result};

use super::inputs::{
    EventFilterInput, EventOrderInput, StreamFilterInput, StreamOrderInput, ascending,
};
use super::nodes::{EventConnection, EventNode, StreamConnection, StreamNode, TriggerNode};
use crate::error::AppError;
use crate::graphql::connection::{Total, connect, decode, list_complexity, page_rows, page_size};
use crate::graphql::context::{GqlResultExt, state};
use crate::service::stacktach::{self as svc, Mark};
use crate::service::{KeyCursor, SortValue};

/// Where a page starts: after the row of the cursor `after`, in the direction asked.
fn mark(after: Option<&str>, ascending: bool) -> Result<Mark> {
    let from = match after {
        None => None,
        Some(a) => match decode(a).gql()? {
            KeyCursor {
                value: SortValue::Id,
                id,
            } => Some(id),
            _ => {
                return Err(AppError::invalid_field(
                    "after",
                    "not a cursor returned by this list",
                ))
                .gql();
            }
        },
    };
    Ok(Mark { from, ascending })
}

#[derive(Default)]
pub struct StacktachQuery;

#[Object]
impl StacktachQuery {
    /// Events, filtered, newest first (by insertion) unless `orderBy` says `ASC`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn stacktach_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EventFilterInput>,
        order_by: Option<EventOrderInput>,
    ) -> Result<EventConnection> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let ascending = ascending(order_by.map(|o| o.direction));
        let filter = filter.unwrap_or_default();
        let counted = filter.clone().filter(Mark::default());
        let page = filter.filter(mark(after.as_deref(), ascending)?);
        let rows = page_rows(ctx, svc::list_events(&st.db, &page, limit + 1)).await?;
        Ok(connect(
            rows,
            limit,
            after.is_some(),
            |e| KeyCursor::by_id(e.id),
            EventNode,
            Total::counted(&st.db, move |db| async move {
                svc::count_events(&db, &counted).await
            }),
        ))
    }

    /// The event with this message id (compared in lower case); null when there is none.
    async fn stacktach_event(
        &self,
        ctx: &Context<'_>,
        message_id: String,
    ) -> Result<Option<EventNode>> {
        let found = svc::event_by_message_id(&state(ctx)?.db, &message_id)
            .await
            .gql()?;
        Ok(found.map(EventNode))
    }

    /// Streams, filtered, newest first (by creation) unless `orderBy` says `ASC`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn stacktach_streams(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<StreamFilterInput>,
        order_by: Option<StreamOrderInput>,
    ) -> Result<StreamConnection> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let ascending = ascending(order_by.map(|o| o.direction));
        let filter = filter.unwrap_or_default();
        let counted = filter.clone().filter(Mark::default());
        let page = filter.filter(mark(after.as_deref(), ascending)?);
        let rows = page_rows(ctx, svc::list_streams(&st.db, &page, limit + 1)).await?;
        Ok(connect(
            rows,
            limit,
            after.is_some(),
            |s| KeyCursor::by_id(s.id),
            StreamNode,
            Total::counted(&st.db, move |db| async move {
                svc::count_streams(&db, &counted).await
            }),
        ))
    }

    /// One stream by id; null when there is none.
    async fn stacktach_stream(&self, ctx: &Context<'_>, id: i64) -> Result<Option<StreamNode>> {
        let found = svc::stream_by_id(&state(ctx)?.db, id).await.gql()?;
        Ok(found.map(StreamNode))
    }

    /// The trigger definitions the server groups events by, as loaded at start.
    async fn stacktach_triggers(&self, ctx: &Context<'_>) -> Result<Vec<TriggerNode>> {
        Ok(state(ctx)?
            .triggers
            .iter()
            .cloned()
            .map(TriggerNode)
            .collect())
    }
}
