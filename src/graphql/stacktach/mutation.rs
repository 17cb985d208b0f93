//! The StackTach mutation root: ingesting events (grouped into streams by the trigger
//! definitions), resetting a stream that failed, and deleting a stream.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::inputs::EventInput;
use super::nodes::StreamNode;
use crate::error::{AppError, AppResult};
use crate::graphql::context::{GqlResultExt, require, state};
use crate::service::stacktach::{self as svc, NewEvent};
use crate::service::tokens::Scope;

/// What ingesting a batch of events did.
#[derive(SimpleObject)]
#[graphql(name = "StacktachIngestPayload")]
pub struct IngestPayload {
    /// Events stored.
    pub stored: u64,
    /// Events skipped because their message id was stored before.
    pub duplicates: u64,
    /// Streams the batch opened.
    pub streams_opened: u64,
    /// Events added to streams (one event can join the streams of several triggers).
    pub stream_events: u64,
}

impl From<svc::IngestReport> for IngestPayload {
    fn from(r: svc::IngestReport) -> Self {
        IngestPayload {
            stored: r.stored,
            duplicates: r.duplicates,
            streams_opened: r.streams_opened,
            stream_events: r.stream_events,
        }
    }
}

#[derive(Default)]
pub struct StacktachMutation;

#[Object]
impl StacktachMutation {
    /// Ingests a batch of events (at most 10,000) in one transaction: each new event is stored
    /// and joins, or opens, the active stream of every trigger it matches; an event whose
    /// message id is stored already is skipped. All are stored, or none if any is invalid.
    async fn ingest_stacktach_events(
        &self,
        ctx: &Context<'_>,
        input: Vec<EventInput>,
    ) -> Result<IngestPayload> {
        require(ctx, Scope::Write)?;
        let st = state(ctx)?;
        let events: Vec<NewEvent> = input
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.into_new(i))
            .collect::<AppResult<_>>()
            .gql()?;
        let now = chrono::Utc::now().naive_utc();
        svc::ingest(&st.db, &events, &st.triggers, now)
            .await
            .map(IngestPayload::from)
            .gql()
    }

    /// Resets a stream whose pipeline failed so that the worker tries again: `ERROR` becomes
    /// `RETRY_FIRE`, `EXPIRE_ERROR` becomes `RETRY_EXPIRE`; a stream in any other state is left
    /// as it is. Answers the stream. NOT_FOUND for an unknown stream, CONFLICT when it changed
    /// meanwhile.
    async fn reset_stacktach_stream(&self, ctx: &Context<'_>, id: i64) -> Result<StreamNode> {
        require(ctx, Scope::Write)?;
        svc::reset_stream(&state(ctx)?.db, id)
            .await
            .map(StreamNode)
            .gql()
    }

    /// Deletes a stream with its distinguishing traits and its links to events; the events
    /// stay. False when there was no such stream.
    async fn delete_stacktach_stream(&self, ctx: &Context<'_>, id: i64) -> Result<bool> {
        require(ctx, Scope::Write)?;
        match svc::delete_stream(&state(ctx)?.db, id).await {
            Ok(()) => Ok(true),
            Err(AppError::NotFound(_)) => Ok(false),
            Err(e) => Err(e).gql(),
        }
    }
}
