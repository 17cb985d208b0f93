//! The pytest-monitor loaders: a session or context by id, a session's contexts, and pages of a
//! session's or context's metrics, each level one statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::graphql::loaders::{DomainLoader, Loaders, Shared, by_ids, decode_after, load_pages};
use crate::service::monitor::{
    self as svc, Context, Metric, MetricFilter, MetricOrder, MetricParent, Session,
};

/// The Monitor domain, as the type its loader is made for (`graphql::loaders::attach`).
pub enum Domain {}

/// Loads the Monitor domain's relations: one per request, wrapped in a `DataLoader`.
pub type MonitorLoader = DomainLoader<Domain>;

/// The request's Monitor loader, shared by the operations of a batch.
pub type MonitorLoaders = Loaders<Domain>;

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

/// How many metrics one session or context has (a nested `totalCount`). Keys that share a filter
/// are answered by one grouped count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MetricCountOf {
    pub parent: MetricParent,
    pub id: i64,
    pub filter: MetricFilter,
}

impl Loader<SessionId> for MonitorLoader {
    type Value = Session;
    type Error = Shared;

    async fn load(&self, keys: &[SessionId]) -> Result<HashMap<SessionId, Session>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            SessionId,
            |ids| async move { svc::sessions_by_ids(&self.db, &ids).await },
        )
        .await
    }
}

impl Loader<ContextId> for MonitorLoader {
    type Value = Context;
    type Error = Shared;

    async fn load(&self, keys: &[ContextId]) -> Result<HashMap<ContextId, Context>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            ContextId,
            |ids| async move { svc::contexts_by_ids(&self.db, &ids).await },
        )
        .await
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
        load_pages(
            keys,
            |k| (k.id, (k.parent, k.page.clone())),
            |(parent, _), m: &Metric| match parent {
                MetricParent::Session => m.session_id,
                MetricParent::Context => m.context_id,
            },
            |ids, (parent, page)| async move {
                let after = decode_after(&page.after)?;
                svc::metrics_for_parents(
                    &self.db,
                    parent,
                    &ids,
                    &page.filter,
                    page.order,
                    after.as_ref(),
                    page.limit,
                )
                .await
            },
        )
        .await
    }
}

impl Loader<MetricCountOf> for MonitorLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(&self, keys: &[MetricCountOf]) -> Result<HashMap<MetricCountOf, u64>, Shared> {
        let mut groups: HashMap<(MetricParent, &MetricFilter), Vec<i64>> = HashMap::new();
        for k in keys {
            groups.entry((k.parent, &k.filter)).or_default().push(k.id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((parent, filter), ids) in groups {
            let counts = svc::count_metrics_for_parents(&self.db, parent, &ids, filter)
                .await
                .map_err(Arc::new)?;
            for id in ids {
                let n = counts.get(&id).copied().unwrap_or(0);
                let key = MetricCountOf {
                    parent,
                    id,
                    filter: filter.clone(),
                };
                out.insert(key, n);
            }
        }
        Ok(out)
    }
}
