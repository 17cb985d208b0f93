//! The XPRESSO loaders: a request's items, an item's results, a result's scripts, a script's
//! sections (pages and counts), each request's consolidated summary, and requests by number
//! within a group; each level one statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::graphql::loaders::{DomainLoader, Loaders, Shared, decode_after, load_pages};
use crate::service::xpresso::{self as svc, Item, PhaseResult, Request, Script, Section, Summary};

/// The XPRESSO domain, as the type its loader is made for (`graphql::loaders::attach`).
pub enum Domain {}

/// Loads the XPRESSO domain's relations: one per request, wrapped in a `DataLoader`.
pub type XpressoLoader = DomainLoader<Domain>;

/// The request's XPRESSO loader, shared by the operations of a batch.
pub type XpressoLoaders = Loaders<Domain>;

/// The arguments of a nested XPRESSO connection. `limit` already includes the one extra row
/// that tells whether a next page exists. Keys that share a page (and filter) are answered by
/// one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct XprPage {
    pub limit: u64,
    /// The encoded cursor, kept as text so the key is hashable.
    pub after: Option<String>,
}

/// One page of a request's items, optionally only those in some states (stored words, sorted).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemsOfRequest {
    pub id: i64,
    pub page: XprPage,
    pub states: Vec<String>,
}

/// How many items one request has in these states (all when empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemCountOf {
    pub id: i64,
    pub states: Vec<String>,
}

/// The phase results (run and clean) of one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResultsOfItem(pub i64);

/// One page of a phase result's scripts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScriptsOfResult {
    pub id: i64,
    pub page: XprPage,
}

/// How many scripts one phase result has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScriptCountOf(pub i64);

/// One page of a script's sections, optionally only those with some results (sorted).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SectionsOfScript {
    pub id: i64,
    pub page: XprPage,
    pub results: Vec<String>,
}

/// How many sections one script has with these results (all when empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SectionCountOf {
    pub id: i64,
    pub results: Vec<String>,
}

/// A request's consolidated summary (the sum of its items' run results).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SummaryOfRequest(pub i64);

/// A request by number, if it belongs to `group` (an item's `request`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestInGroup {
    pub group: String,
    pub number: i64,
}

/// Groups count keys by their filter `F` and answers each group with one call of `count`.
async fn grouped_counts<K, F, Fut>(
    keys: &[K],
    split: impl Fn(&K) -> (i64, F),
    count: impl Fn(Vec<i64>, F) -> Fut,
) -> Result<HashMap<K, u64>, Shared>
where
    K: Clone + Eq + std::hash::Hash,
    F: Clone + Eq + std::hash::Hash,
    Fut: std::future::Future<Output = Result<HashMap<i64, u64>, crate::error::AppError>>,
{
    let mut groups: HashMap<F, Vec<(i64, &K)>> = HashMap::new();
    for k in keys {
        let (id, f) = split(k);
        groups.entry(f).or_default().push((id, k));
    }
    let mut out = HashMap::with_capacity(keys.len());
    for (f, members) in groups {
        let ids: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
        let counts = count(ids, f).await.map_err(Arc::new)?;
        for (id, k) in members {
            out.insert(k.clone(), counts.get(&id).copied().unwrap_or(0));
        }
    }
    Ok(out)
}

impl Loader<ItemsOfRequest> for XpressoLoader {
    type Value = Vec<Item>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ItemsOfRequest],
    ) -> Result<HashMap<ItemsOfRequest, Vec<Item>>, Shared> {
        load_pages(
            keys,
            |k| (k.id, (k.page.clone(), k.states.clone())),
            |_, i: &Item| i.request_id,
            |ids, (page, states)| async move {
                let after = decode_after(&page.after)?;
                svc::items_page(&self.db, &ids, &states, after.as_ref(), page.limit).await
            },
        )
        .await
    }
}

impl Loader<ItemCountOf> for XpressoLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(&self, keys: &[ItemCountOf]) -> Result<HashMap<ItemCountOf, u64>, Shared> {
        grouped_counts(
            keys,
            |k| (k.id, k.states.clone()),
            |ids, states| async move { svc::count_items(&self.db, &ids, &states).await },
        )
        .await
    }
}

impl Loader<ResultsOfItem> for XpressoLoader {
    type Value = Vec<PhaseResult>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ResultsOfItem],
    ) -> Result<HashMap<ResultsOfItem, Vec<PhaseResult>>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = svc::results_of_items(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        let mut out: HashMap<ResultsOfItem, Vec<PhaseResult>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for r in found {
            out.entry(ResultsOfItem(r.item_id)).or_default().push(r);
        }
        Ok(out)
    }
}

impl Loader<ScriptsOfResult> for XpressoLoader {
    type Value = Vec<Script>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ScriptsOfResult],
    ) -> Result<HashMap<ScriptsOfResult, Vec<Script>>, Shared> {
        load_pages(
            keys,
            |k| (k.id, k.page.clone()),
            |_, s: &Script| s.result_id,
            |ids, page| async move {
                let after = decode_after(&page.after)?;
                svc::scripts_page(&self.db, &ids, after.as_ref(), page.limit).await
            },
        )
        .await
    }
}

impl Loader<ScriptCountOf> for XpressoLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(&self, keys: &[ScriptCountOf]) -> Result<HashMap<ScriptCountOf, u64>, Shared> {
        grouped_counts(
            keys,
            |k| (k.0, ()),
            |ids, ()| async move { svc::count_scripts(&self.db, &ids).await },
        )
        .await
    }
}

impl Loader<SectionsOfScript> for XpressoLoader {
    type Value = Vec<Section>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[SectionsOfScript],
    ) -> Result<HashMap<SectionsOfScript, Vec<Section>>, Shared> {
        load_pages(
            keys,
            |k| (k.id, (k.page.clone(), k.results.clone())),
            |_, s: &Section| s.script_id,
            |ids, (page, results)| async move {
                let after = decode_after(&page.after)?;
                svc::sections_page(&self.db, &ids, &results, after.as_ref(), page.limit).await
            },
        )
        .await
    }
}

impl Loader<SectionCountOf> for XpressoLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(&self, keys: &[SectionCountOf]) -> Result<HashMap<SectionCountOf, u64>, Shared> {
        grouped_counts(
            keys,
            |k| (k.id, k.results.clone()),
            |ids, results| async move { svc::count_sections(&self.db, &ids, &results).await },
        )
        .await
    }
}

impl Loader<SummaryOfRequest> for XpressoLoader {
    type Value = Summary;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[SummaryOfRequest],
    ) -> Result<HashMap<SummaryOfRequest, Summary>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = svc::summaries_of_requests(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        // A request without run results sums to zero.
        Ok(keys
            .iter()
            .map(|k| (*k, found.get(&k.0).copied().unwrap_or_default()))
            .collect())
    }
}

impl Loader<RequestInGroup> for XpressoLoader {
    type Value = Request;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[RequestInGroup],
    ) -> Result<HashMap<RequestInGroup, Request>, Shared> {
        let mut by_group: HashMap<&str, Vec<i64>> = HashMap::new();
        for k in keys {
            by_group.entry(k.group.as_str()).or_default().push(k.number);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (group, numbers) in by_group {
            let found = svc::requests_by_numbers(&self.db, group, &numbers)
                .await
                .map_err(Arc::new)?;
            for r in found {
                out.insert(
                    RequestInGroup {
                        group: group.to_owned(),
                        number: r.id,
                    },
                    r,
                );
            }
        }
        Ok(out)
    }
}

/// A catalog entry named by its UUID (lower case) within a group: what profiles and bundle
/// entries point at. All keys of one kind are read with one statement per group.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CatalogRef {
    pub group: String,
    pub uuid: String,
}

impl CatalogRef {
    pub fn new(group: &str, uuid: &str) -> Self {
        CatalogRef {
            group: group.to_owned(),
            uuid: uuid.to_ascii_lowercase(),
        }
    }
}

/// A testbed by reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TestbedRef(pub CatalogRef);
/// A topology by reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TopologyRef(pub CatalogRef);
/// A profile by reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProfileRef(pub CatalogRef);

/// Reads the entries `keys` name, a statement per group, with `fetch(group, uuids)`.
async fn by_refs<K, T, F, Fut>(
    keys: &[K],
    inner: impl Fn(&K) -> &CatalogRef,
    uuid_of: impl Fn(&T) -> &str,
    fetch: F,
) -> Result<HashMap<K, T>, Shared>
where
    K: Clone + Eq + std::hash::Hash,
    F: Fn(String, Vec<String>) -> Fut,
    Fut: std::future::Future<Output = crate::error::AppResult<Vec<T>>>,
{
    let mut groups: HashMap<&str, Vec<&K>> = HashMap::new();
    for k in keys {
        groups.entry(inner(k).group.as_str()).or_default().push(k);
    }
    let mut out = HashMap::new();
    for (group, ks) in groups {
        let uuids: Vec<String> = ks.iter().map(|k| inner(k).uuid.clone()).collect();
        let rows = fetch(group.to_owned(), uuids).await.map_err(Arc::new)?;
        let mut found: HashMap<String, T> = rows
            .into_iter()
            .map(|r| (uuid_of(&r).to_owned(), r))
            .collect();
        for k in ks {
            if let Some(r) = found.remove(&inner(k).uuid) {
                out.insert(k.clone(), r);
            }
        }
    }
    Ok(out)
}

impl Loader<TestbedRef> for XpressoLoader {
    type Value = svc::Testbed;
    type Error = Shared;

    async fn load(&self, keys: &[TestbedRef]) -> Result<HashMap<TestbedRef, svc::Testbed>, Shared> {
        by_refs(
            keys,
            |k| &k.0,
            |t: &svc::Testbed| &t.uuid,
            |g, u| async move { svc::testbeds_by_uuids(&self.db, &g, &u).await },
        )
        .await
    }
}

impl Loader<TopologyRef> for XpressoLoader {
    type Value = svc::Topology;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[TopologyRef],
    ) -> Result<HashMap<TopologyRef, svc::Topology>, Shared> {
        by_refs(
            keys,
            |k| &k.0,
            |t: &svc::Topology| &t.uuid,
            |g, u| async move { svc::topologies_by_uuids(&self.db, &g, &u).await },
        )
        .await
    }
}

impl Loader<ProfileRef> for XpressoLoader {
    type Value = svc::Profile;
    type Error = Shared;

    async fn load(&self, keys: &[ProfileRef]) -> Result<HashMap<ProfileRef, svc::Profile>, Shared> {
        by_refs(
            keys,
            |k| &k.0,
            |p: &svc::Profile| &p.uuid,
            |g, u| async move { svc::profiles_by_uuids(&self.db, &g, &u).await },
        )
        .await
    }
}
