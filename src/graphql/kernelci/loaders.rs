//! The KernelCI loaders: jobs by id, per-job pages and counts of builds, and each job's
//! build-log summary, each level one statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::graphql::loaders::{DomainLoader, Loaders, Shared, by_ids, decode_after, load_pages};
use crate::service::kernelci::{self as kci, Build, Job, LogSummary};

/// The Kernelci domain, as the type its loader is made for (`graphql::loaders::attach`).
pub enum Domain {}

/// Loads the Kernelci domain's relations: one per request, wrapped in a `DataLoader`.
pub type KernelciLoader = DomainLoader<Domain>;

/// The request's Kernelci loader, shared by the operations of a batch.
pub type KernelciLoaders = Loaders<Domain>;

/// A job by its row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KciJobId(pub i64);

/// The arguments of a nested KernelCI connection. `limit` already includes the one extra row
/// that tells whether a next page exists. Keys that share a page are answered by one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KciPage {
    pub limit: u64,
    /// The encoded cursor, kept as text so the key is hashable.
    pub after: Option<String>,
}

/// One page of a job's builds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BuildsOfJob {
    pub id: i64,
    pub page: KciPage,
}

/// How many builds one job has (a nested `totalCount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuildCountOf(pub i64);

/// The build-log summary of one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SummaryOfJob(pub i64);

impl Loader<KciJobId> for KernelciLoader {
    type Value = Job;
    type Error = Shared;

    async fn load(&self, keys: &[KciJobId]) -> Result<HashMap<KciJobId, Job>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            KciJobId,
            |ids| async move {
                let found = kci::jobs_by_ids(&self.db, &ids).await?;
                Ok(found.into_iter().map(|j| (j.id, j)).collect())
            },
        )
        .await
    }
}

impl Loader<BuildsOfJob> for KernelciLoader {
    type Value = Vec<Build>;
    type Error = Shared;

    async fn load(&self, keys: &[BuildsOfJob]) -> Result<HashMap<BuildsOfJob, Vec<Build>>, Shared> {
        load_pages(
            keys,
            |k| (k.id, k.page.clone()),
            |_, b: &Build| b.job_id,
            |ids, page| async move {
                let after = decode_after(&page.after)?;
                kci::builds_for_jobs(&self.db, &ids, after.as_ref(), page.limit).await
            },
        )
        .await
    }
}

impl Loader<BuildCountOf> for KernelciLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(&self, keys: &[BuildCountOf]) -> Result<HashMap<BuildCountOf, u64>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts = kci::count_builds_for_jobs(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|k| (*k, counts.get(&k.0).copied().unwrap_or(0)))
            .collect())
    }
}

impl Loader<SummaryOfJob> for KernelciLoader {
    type Value = LogSummary;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[SummaryOfJob],
    ) -> Result<HashMap<SummaryOfJob, LogSummary>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            SummaryOfJob,
            |ids| async move {
                let found = kci::summaries_for_jobs(&self.db, &ids).await?;
                Ok(found.into_iter().map(|s| (s.job_id, s)).collect())
            },
        )
        .await
    }
}
