//! pytest-monitor's domain: execution contexts, sessions (with their description tags) and
//! metrics. Every read and write of these tables goes through here, for the legacy REST routes and
//! for GraphQL alike.
//!
//! This file is the table of contents: each concern is a module of its own, and everything public
//! is re-exported here, so callers name `service::monitor::X` whatever file holds it.

mod contexts;
mod derived;
mod description;
mod iso8601;
mod metrics;
mod model;
mod sessions;

pub use contexts::{
    contexts_by_ids, contexts_for_sessions, count_contexts, create_context, list_contexts,
};
pub use derived::{
    TagValues, count_components, list_components, list_session_hashes, list_tag_values,
};
pub use description::parse_description;
pub use iso8601::{iso8601_instant, normalize_iso8601};
pub use metrics::{
    MetricParent, add_metric, add_metrics, count_metrics, count_metrics_for_parents, list_metrics,
    metrics_by_resource, metrics_for_parents,
};
pub use model::{
    Context, ContextFilter, MAX_HASH_LEN, MAX_METRICS_PER_BATCH, Metric, MetricFilter, MetricOrder,
    MetricOrderField, NewContext, NewMetric, NewSession, Page, Session, SessionFilter,
    SessionOrder, SessionOrderField, TagCondition, WRITES,
};
pub use sessions::{
    count_sessions, count_sessions_with_scm, create_session, list_sessions, sessions_by_ids,
};
