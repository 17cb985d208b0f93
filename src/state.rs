//! `AppState`: what every edge (REST handlers, GraphQL resolvers) reaches, the database pool, the
//! configuration and the process-wide caches. It depends on no edge, so every edge can import it.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::service::counts::CountCache;
use crate::service::stacktach::{Pipelines, TriggerDefinition};

/// What every handler can reach: the database pool and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// Reused totals of the legacy paged lists.
    pub counts: Arc<CountCache>,
    /// How many answers were written in one pass (`graphql::onepass`)
    /// rather than by the resolvers: for tests and diagnostics.
    pub one_pass_answers: Arc<AtomicU64>,
    /// StackTach's trigger definitions, read at start.
    pub triggers: Arc<Vec<TriggerDefinition>>,
    /// StackTach's pipelines, read at start.
    pub pipelines: Arc<Pipelines>,
}

impl AppState {
    /// The state over an open, migrated database, with StackTach's definitions read.
    pub fn new(
        db: DatabaseConnection,
        config: Config,
        triggers: Vec<TriggerDefinition>,
        pipelines: Pipelines,
    ) -> Self {
        AppState {
            db,
            counts: Arc::new(CountCache::new(config.monitor_count_cache)),
            config: Arc::new(config),
            one_pass_answers: Arc::default(),
            triggers: Arc::new(triggers),
            pipelines: Arc::new(pipelines),
        }
    }
}
