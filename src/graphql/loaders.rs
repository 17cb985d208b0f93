//! Dataloaders: every relation field asks the request's `DataLoader` with a newtype key, and each
//! loader answers all keys of one level with one service call (one SQL statement).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use crate::error::AppError;
use crate::service::monitor::{
    self as svc, Context, Metric, MetricFilter, MetricOrder, MetricParent, Session,
};

/// The request's monitor loader, shared by the operations of a batch.
pub type MonitorLoaders = Arc<async_graphql::dataloader::DataLoader<MonitorLoader>>;

/// Loads the monitor domain's relations. One instance per request, wrapped in a `DataLoader`.
pub struct MonitorLoader {
    pub db: DatabaseConnection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContextId(pub i64);

/// The contexts a session's metrics ran on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContextsOfSession(pub i64);

/// One page of a parent's metrics. Keys that share `page` are answered by one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MetricsOf {
    pub parent: MetricParent,
    pub id: i64,
    pub page: ChildPage,
}

/// The arguments of a nested metrics connection. `limit` already includes the one extra row that
/// tells whether a next page exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChildPage {
    pub limit: u64,
    /// The encoded cursor, kept as text so the key is hashable.
    pub after: Option<String>,
    pub order: MetricOrder,
    pub filter: MetricFilter,
}

type Shared = Arc<AppError>;

impl Loader<SessionId> for MonitorLoader {
    type Value = Session;
    type Error = Shared;

    async fn load(&self, keys: &[SessionId]) -> Result<HashMap<SessionId, Session>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = svc::sessions_by_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, s)| (SessionId(id), s))
            .collect())
    }
}

impl Loader<ContextId> for MonitorLoader {
    type Value = Context;
    type Error = Shared;

    async fn load(&self, keys: &[ContextId]) -> Result<HashMap<ContextId, Context>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = svc::contexts_by_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, c)| (ContextId(id), c))
            .collect())
    }
}

impl Loader<ContextsOfSession> for MonitorLoader {
    type Value = Vec<Context>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ContextsOfSession],
    ) -> Result<HashMap<ContextsOfSession, Vec<Context>>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = svc::contexts_for_sessions(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<MetricsOf> for MonitorLoader {
    type Value = Vec<Metric>;
    type Error = Shared;

    async fn load(&self, keys: &[MetricsOf]) -> Result<HashMap<MetricsOf, Vec<Metric>>, Shared> {
        // Group by (parent kind, page arguments): a query where every parent asks the same page,
        // the usual case, is a single statement.
        let mut groups: HashMap<(MetricParent, &ChildPage), Vec<i64>> = HashMap::new();
        for k in keys {
            groups.entry((k.parent, &k.page)).or_default().push(k.id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((parent, page), ids) in groups {
            let after = match &page.after {
                Some(s) => Some(super::connection::decode(s).map_err(Arc::new)?),
                None => None,
            };
            let mut rows = svc::metrics_for_parents(
                &self.db,
                parent,
                &ids,
                &page.filter,
                page.order,
                after.as_ref(),
                page.limit,
            )
            .await
            .map_err(Arc::new)?;
            for id in ids {
                let key = MetricsOf {
                    parent,
                    id,
                    page: page.clone(),
                };
                out.insert(key, rows.remove(&id).unwrap_or_default());
            }
        }
        Ok(out)
    }
}
