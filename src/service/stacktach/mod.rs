//! StackTach.v3's domain: events (OpenStack notifications with typed traits), the trigger
//! definitions that group them into streams, and the streams' fire/expire lifecycle.
//!
//! This file is the table of contents: each concern is a module of its own, and everything public
//! is re-exported here.

pub mod definitions;
mod events;
mod filters;
mod ingest;
mod model;
mod pipeline;
mod pipelines;
mod streams;
mod strings;
pub mod timex;

pub use definitions::TriggerDefinition;
pub use events::{count_events, event_by_message_id, events_of_streams, list_events};
pub use ingest::{IngestReport, ingest};
pub use model::{
    DEFAULT_LIMIT, DistValue, Event, EventFilter, EventView, MAX_BATCH, MAX_LIMIT, MAX_TRAITS,
    Mark, NewEvent, Stream, StreamFilter, StreamState, TraitValue, datetime_json, dist_json, iso,
    parse_iso, parse_traits, traits_json, truncate_us,
};
pub use pipeline::{MAX_PIPELINE_EVENTS, Pass, claim_due, finish, release_stale_claims, run_due};
pub use pipelines::{Handler, Pipelines, load_pipelines};
pub use streams::{
    count_streams, delete_stream, list_streams, reset_stream, stream_by_id, streams_by_ids,
    streams_of_events,
};
pub use timex::TimeExpr;
