//! The XPRESSO request query root: the group's requests (filtered, ordered, paged by cursor),
//! one request and one item.

use async_graphql::{Context, Object, Result};

use super::access::caller;
use super::inputs::{RequestFilterInput, RequestOrderInput};
use super::nodes::{ItemNode, RequestConnection, RequestNode};
use crate::error::AppError;
use crate::graphql::connection::{
    Total, after_slice, connect, list_complexity, page_rows, page_size,
};
use crate::graphql::context::{GqlResultExt, state};
use crate::service::tokens::Scope;
use crate::service::xpresso::{self as svc, Request, RequestFilter, RequestOrder, State};
use crate::service::{Direction, KeyCursor, Slice, SortValue};

/// A request's cursor in a list of this order.
fn cursor(order: RequestOrder, r: &Request) -> KeyCursor {
    let value = match order {
        RequestOrder::Number => SortValue::Id,
        RequestOrder::DateCreated => SortValue::Time(r.date_created),
        // The list holds only completed requests (`restricted`), which have the time.
        RequestOrder::DateCompleted => match r.date_completed {
            Some(t) => SortValue::Time(t),
            None => SortValue::Id,
        },
        RequestOrder::State => SortValue::Text(r.state.clone()),
    };
    KeyCursor { value, id: r.id }
}

/// Refuses a cursor made for a list in another order, whose sort value would be compared with
/// the wrong column.
fn check_cursor(order: RequestOrder, slice: &Slice) -> Result<()> {
    let Slice::After { after: Some(c), .. } = slice else {
        return Ok(());
    };
    let fits = matches!(
        (order, &c.value),
        (RequestOrder::Number, SortValue::Id)
            | (RequestOrder::DateCreated, SortValue::Time(_))
            | (RequestOrder::DateCompleted, SortValue::Time(_))
            | (RequestOrder::State, SortValue::Text(_))
    );
    if fits {
        Ok(())
    } else {
        Err(AppError::invalid_field(
            "after",
            "the cursor comes from a list in another order",
        ))
        .gql()
    }
}

/// The filter for an order: `DATE_COMPLETED` lists only the requests that ended (the others
/// have no completion time to be placed by); `None` when no state is left to match.
fn restricted(order: RequestOrder, mut filter: RequestFilter) -> Option<RequestFilter> {
    if order != RequestOrder::DateCompleted {
        return Some(filter);
    }
    let ended: Vec<State> = State::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .filter(|s| filter.states.is_empty() || filter.states.contains(s))
        .collect();
    if ended.is_empty() {
        return None;
    }
    filter.states = ended;
    Some(filter)
}

#[derive(Default)]
pub struct RequestQuery;

#[Object]
impl RequestQuery {
    /// The group's requests, filtered; newest first unless `orderBy` says otherwise. Needs a
    /// token (any XPRESSO scope reads).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn xpresso_requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<RequestFilterInput>,
        order_by: Option<RequestOrderInput>,
    ) -> Result<RequestConnection> {
        let who = caller(ctx, Scope::Read)?;
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let order = order_by.unwrap_or_default();
        let by: RequestOrder = order.field.into();
        let direction: Direction = order.direction.into();
        let slice = after_slice(after.as_deref(), limit)?;
        check_cursor(by, &slice)?;
        let has_previous = after.is_some();
        let Some(filter) = restricted(by, RequestFilter::from(filter.unwrap_or_default())) else {
            return Ok(connect(
                Vec::new(),
                limit,
                has_previous,
                move |r| cursor(by, r),
                RequestNode,
                Total::new(async { Ok(0) }),
            ));
        };
        let rows = page_rows(
            ctx,
            svc::list_requests(&st.db, &who.group, &filter, by, direction, &slice),
        )
        .await?;
        let group = who.group;
        Ok(connect(
            rows,
            limit,
            has_previous,
            move |r| cursor(by, r),
            RequestNode,
            Total::counted(&st.db, move |db| async move {
                svc::count_requests(&db, &group, &filter).await
            }),
        ))
    }

    /// One of the group's requests by its id (`REQ0000426`); null when there is none (another
    /// group's requests included).
    async fn xpresso_request(
        &self,
        ctx: &Context<'_>,
        request_id: String,
    ) -> Result<Option<RequestNode>> {
        let who = caller(ctx, Scope::Read)?;
        let Some(number) = svc::parse_request_id(&request_id) else {
            return Ok(None);
        };
        let found = svc::request(&state(ctx)?.db, &who.group, number)
            .await
            .gql()?;
        Ok(found.map(RequestNode))
    }

    /// One item of the group's requests by its id (`REQ0000426-1`); null when there is none.
    async fn xpresso_item(&self, ctx: &Context<'_>, item_id: String) -> Result<Option<ItemNode>> {
        let who = caller(ctx, Scope::Read)?;
        let Some((number, position)) = svc::parse_item_id(&item_id) else {
            return Ok(None);
        };
        let db = &state(ctx)?.db;
        let item = svc::item(db, &who.group, number, position).await.gql()?;
        Ok(item.map(|i| ItemNode::new(i, who.group)))
    }
}
