//! The Evergreen loaders: projects, versions, builds and tasks by id, a project's variants, and
//! per-parent pages and counts of builds, tasks, test results and artifacts, each level one
//! statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::graphql::loaders::{DomainLoader, Loaders, Shared, by_ids, decode_after, load_pages};
use crate::service::evergreen::{
    self as evg, Artifact, Build, ChildFilter, Parent, Project, Task, TestResult, Variant, Version,
};
use crate::service::rows::{ColumnSet, Positional};

/// The Evergreen domain, as the type its loader is made for (`graphql::loaders::attach`).
pub enum Domain {}

/// Loads the Evergreen domain's relations: one per request, wrapped in a `DataLoader`.
pub type EvergreenLoader = DomainLoader<Domain>;

/// The request's Evergreen loader, shared by the operations of a batch.
pub type EvergreenLoaders = Loaders<Domain>;

/// A project by its row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EvgProjectId(pub i64);

/// A version by its row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EvgVersionId(pub i64);

/// A build by its row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EvgBuildId(pub i64);

/// A task by its Evergreen id (what `depends_on` lists).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EvgTaskKey(pub String);

/// The build variants of a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VariantsOfProject(pub i64);

/// The arguments of a nested Evergreen connection. `limit` already includes the one extra row
/// that tells whether a next page exists. Keys that share a page are answered by one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EvgPage {
    pub limit: u64,
    /// The encoded cursor, kept as text so the key is hashable.
    pub after: Option<String>,
    pub filter: ChildFilter,
}

/// One page of a version's builds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BuildsOfVersion {
    pub id: i64,
    pub page: EvgPage,
}

/// One page of a build's tasks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TasksOfBuild {
    pub id: i64,
    pub page: EvgPage,
}

/// One page of a task's test results (its current execution).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResultsOfTask {
    pub id: i64,
    pub page: EvgPage,
}

/// One page of a task's artifacts (the filter is unused).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArtifactsOfTask {
    pub id: i64,
    pub page: EvgPage,
}

/// How many builds, tasks or test results one parent has (a nested `totalCount`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChildCountOf {
    pub parent: Parent,
    pub id: i64,
    pub filter: ChildFilter,
}

/// How many artifacts one task has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArtifactCountOf(pub i64);

impl EvergreenLoader {
    /// One level of per-parent pages (`parent` names the level): one statement for each distinct
    /// page among the keys, reading all the rows' columns.
    async fn child_pages<K, T>(
        &self,
        keys: &[K],
        split: impl Fn(&K) -> (i64, EvgPage),
        parent: Parent,
        parent_of: impl Fn(&T) -> i64,
    ) -> Result<HashMap<K, Vec<T>>, Shared>
    where
        K: Clone + Eq + std::hash::Hash,
        T: Positional,
    {
        load_pages(
            keys,
            split,
            |_, r| parent_of(r),
            |ids, page| async move {
                let after = decode_after(&page.after)?;
                evg::children_page(
                    &self.db,
                    parent,
                    &ids,
                    &page.filter,
                    after.as_ref(),
                    page.limit,
                    ColumnSet::ALL,
                )
                .await
            },
        )
        .await
    }
}

impl Loader<EvgProjectId> for EvergreenLoader {
    type Value = Project;
    type Error = Shared;

    async fn load(&self, keys: &[EvgProjectId]) -> Result<HashMap<EvgProjectId, Project>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            EvgProjectId,
            |ids| async move { evg::projects_by_ids(&self.db, &ids).await },
        )
        .await
    }
}

impl Loader<EvgVersionId> for EvergreenLoader {
    type Value = Version;
    type Error = Shared;

    async fn load(&self, keys: &[EvgVersionId]) -> Result<HashMap<EvgVersionId, Version>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            EvgVersionId,
            |ids| async move { evg::versions_by_ids(&self.db, &ids).await },
        )
        .await
    }
}

impl Loader<EvgBuildId> for EvergreenLoader {
    type Value = Build;
    type Error = Shared;

    async fn load(&self, keys: &[EvgBuildId]) -> Result<HashMap<EvgBuildId, Build>, Shared> {
        by_ids(
            keys,
            |k| k.0,
            EvgBuildId,
            |ids| async move { evg::builds_by_ids(&self.db, &ids).await },
        )
        .await
    }
}

impl Loader<EvgTaskKey> for EvergreenLoader {
    type Value = Task;
    type Error = Shared;

    async fn load(&self, keys: &[EvgTaskKey]) -> Result<HashMap<EvgTaskKey, Task>, Shared> {
        by_ids(
            keys,
            |k| k.0.clone(),
            EvgTaskKey,
            |ids| async move { evg::tasks_by_task_ids(&self.db, &ids).await },
        )
        .await
    }
}

impl Loader<VariantsOfProject> for EvergreenLoader {
    type Value = Vec<Variant>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[VariantsOfProject],
    ) -> Result<HashMap<VariantsOfProject, Vec<Variant>>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = evg::variants_for_projects(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl Loader<BuildsOfVersion> for EvergreenLoader {
    type Value = Vec<Build>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[BuildsOfVersion],
    ) -> Result<HashMap<BuildsOfVersion, Vec<Build>>, Shared> {
        self.child_pages(
            keys,
            |k| (k.id, k.page.clone()),
            Parent::VersionOfBuild,
            |r: &Build| r.version_id,
        )
        .await
    }
}

impl Loader<TasksOfBuild> for EvergreenLoader {
    type Value = Vec<Task>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[TasksOfBuild],
    ) -> Result<HashMap<TasksOfBuild, Vec<Task>>, Shared> {
        self.child_pages(
            keys,
            |k| (k.id, k.page.clone()),
            Parent::BuildOfTask,
            |r: &Task| r.build_id,
        )
        .await
    }
}

impl Loader<ResultsOfTask> for EvergreenLoader {
    type Value = Vec<TestResult>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ResultsOfTask],
    ) -> Result<HashMap<ResultsOfTask, Vec<TestResult>>, Shared> {
        self.child_pages(
            keys,
            |k| (k.id, k.page.clone()),
            Parent::TaskOfResult,
            |r: &TestResult| r.task_id,
        )
        .await
    }
}

impl Loader<ArtifactsOfTask> for EvergreenLoader {
    type Value = Vec<Artifact>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ArtifactsOfTask],
    ) -> Result<HashMap<ArtifactsOfTask, Vec<Artifact>>, Shared> {
        load_pages(
            keys,
            |k| (k.id, k.page.clone()),
            |_, a: &Artifact| a.task_id,
            |ids, page| async move {
                let after = decode_after(&page.after)?;
                evg::artifacts_page(&self.db, &ids, after.as_ref(), page.limit).await
            },
        )
        .await
    }
}

impl Loader<ChildCountOf> for EvergreenLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(&self, keys: &[ChildCountOf]) -> Result<HashMap<ChildCountOf, u64>, Shared> {
        let mut groups: HashMap<(Parent, &ChildFilter), Vec<i64>> = HashMap::new();
        for k in keys {
            groups.entry((k.parent, &k.filter)).or_default().push(k.id);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for ((parent, filter), ids) in groups {
            let counts = evg::count_children(&self.db, parent, &ids, filter)
                .await
                .map_err(Arc::new)?;
            for id in ids {
                let key = ChildCountOf {
                    parent,
                    id,
                    filter: filter.clone(),
                };
                out.insert(key, counts.get(&id).copied().unwrap_or(0));
            }
        }
        Ok(out)
    }
}

impl Loader<ArtifactCountOf> for EvergreenLoader {
    type Value = u64;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[ArtifactCountOf],
    ) -> Result<HashMap<ArtifactCountOf, u64>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts = evg::count_artifacts(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|k| (*k, counts.get(&k.0).copied().unwrap_or(0)))
            .collect())
    }
}
