//! The XPRESSO request mutation root: submitting and stopping requests (a member's token with
//! `run_request` or `stop_request`), and the runner's mutations, which need no token: a
//! request's postback token, given as an argument, authorises moving its items and attaching
//! their results.

use async_graphql::{Context, Object, Result};

use super::access::caller;
use super::inputs::{FinalState, PhaseResultInput, PhaseValue, RequestInput, StateValue};
use super::nodes::{ItemNode, PhaseResultNode, RequestNode};
use crate::error::AppError;
use crate::graphql::context::{GqlResultExt, state};
use crate::service::tokens::Scope;
use crate::service::xpresso::{self as svc, ItemMove, State};

#[derive(Default)]
pub struct RequestMutation;

#[Object]
impl RequestMutation {
    /// Submits a request of the caller's group for its profile or bundle (XPRESSO's `POST
    /// /api/v1/requests`): its items are made from the catalog, `PREPARING`. Needs a token with
    /// `run_request`. BAD_USER_INPUT, with XPRESSO's sentence, for an unknown profile or bundle
    /// and every other refused submission.
    async fn submit_xpresso_request(
        &self,
        ctx: &Context<'_>,
        input: RequestInput,
    ) -> Result<RequestNode> {
        let who = caller(ctx, Scope::RunRequest)?;
        let new = input.into_new().gql()?;
        let (request, _) = svc::submit_request(&state(ctx)?.db, &who, &new)
            .await
            .gql()?;
        Ok(RequestNode(request))
    }

    /// Stops one of the group's requests: every item that has not ended becomes `STOPPED`, with
    /// who stopped it, when and why, and so does the request. Needs a token with
    /// `stop_request`. NOT_FOUND for an unknown request (another group's included),
    /// BAD_USER_INPUT for one that already ended.
    async fn stop_xpresso_request(
        &self,
        ctx: &Context<'_>,
        request_id: String,
        reason: String,
    ) -> Result<RequestNode> {
        let who = caller(ctx, Scope::StopRequest)?;
        let Some(number) = svc::parse_request_id(&request_id) else {
            return Err(AppError::not_found(format!(
                "request {request_id} not found"
            )))
            .gql();
        };
        let (request, _) = svc::stop_request(&state(ctx)?.db, &who, number, &reason)
            .await
            .gql()?;
        Ok(RequestNode(request))
    }

    /// The runner moves an item of its request one step on: `PREPARING` → `QUEUED` →
    /// `RUNNING` (choosing `selectedTestbed` among the submitted testbeds, by UUID or name; the
    /// first when not given) → `FINALIZING`. Ending an item is `finishXpressoItem`'s. Needs no
    /// token: `postbackToken` is the request's (UNAUTHENTICATED when it is no request's,
    /// FORBIDDEN when the item belongs to another request). BAD_USER_INPUT for a move the item's
    /// state does not allow; CONFLICT when the item is already there (another runner moved it).
    async fn move_xpresso_item(
        &self,
        ctx: &Context<'_>,
        postback_token: String,
        item_id: String,
        to: StateValue,
        selected_testbed: Option<String>,
    ) -> Result<ItemNode> {
        let to = State::from(to);
        if to.is_terminal() {
            return Err(AppError::invalid_field(
                "to",
                format!(
                    "an item is ended with finishXpressoItem (FINISHED, FAILED) or stopped with \
                     stopXpressoRequest, not moved to {}",
                    to.as_str()
                ),
            ))
            .gql();
        }
        let mv = ItemMove {
            to,
            selected_testbed,
            error_detail: None,
        };
        let (request, item) = svc::move_item(&state(ctx)?.db, &postback_token, &item_id, &mv)
            .await
            .gql()?;
        Ok(ItemNode::new(item, request.group_name))
    }

    /// The runner ends an item of its request: `FINISHED` from `FINALIZING`, or `FAILED` (with
    /// `errorDetail`) from any state before. The request ends with its last item. Authorised
    /// and refused as `moveXpressoItem`.
    async fn finish_xpresso_item(
        &self,
        ctx: &Context<'_>,
        postback_token: String,
        item_id: String,
        #[graphql(name = "state")] outcome: FinalState,
        error_detail: Option<String>,
    ) -> Result<ItemNode> {
        if outcome == FinalState::Finished && error_detail.is_some() {
            return Err(AppError::invalid_field(
                "errorDetail",
                "an error detail is given only with FAILED",
            ))
            .gql();
        }
        let mv = ItemMove {
            to: outcome.into(),
            selected_testbed: None,
            error_detail,
        };
        let (request, item) = svc::move_item(&state(ctx)?.db, &postback_token, &item_id, &mv)
            .await
            .gql()?;
        Ok(ItemNode::new(item, request.group_name))
    }

    /// The runner attaches a phase's results (scripts and their sections) to an item of its
    /// request while it is `RUNNING` or `FINALIZING`, replacing what that phase had. Answers the
    /// stored results. Authorised as `moveXpressoItem`; BAD_USER_INPUT for an item in another
    /// state or an upload out of bounds.
    async fn attach_xpresso_results(
        &self,
        ctx: &Context<'_>,
        postback_token: String,
        item_id: String,
        phase: PhaseValue,
        input: PhaseResultInput,
    ) -> Result<PhaseResultNode> {
        let new = input.into_new().gql()?;
        let (request, item, result) = svc::attach_results(
            &state(ctx)?.db,
            &postback_token,
            &item_id,
            phase.into(),
            &new,
        )
        .await
        .gql()?;
        Ok(PhaseResultNode {
            row: result,
            item_id: svc::item_id(request.id, item.position),
        })
    }
}
