//! Dataloaders: every relation field asks the request's `DataLoader` with a newtype key, and each
//! loader answers all keys of one level with one service call (one SQL statement).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use async_graphql::dataloader::Loader;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use sea_orm::DatabaseConnection;

use crate::error::AppError;
use crate::service::evergreen::{
    self as evg, Artifact, Build, ChildFilter, Parent, Project, Task, TestResult, Variant, Version,
};
use crate::service::monitor::{
    self as svc, Context, Metric, MetricFilter, MetricOrder, MetricParent, Session,
};
use crate::service::rows::{ColumnSet, Positional};

/// The dataloader fetches of one request, run on that request's own task rather than spawned.
///
/// async-graphql resolves sibling fields by polling them, and a field asks its loader for a key
/// on its first poll. `run` starts the queued fetches only when the execution is *quiet*: it
/// returned `Pending` without having woken itself. Lists resolve their items a few per pass and
/// wake themselves to go on, so a self-wake means more fields may still ask for keys; quiet means
/// every field able to ask has asked. So each level is one statement, deterministically,
/// whatever the machine's load. (Spawned onto the runtime, a fetch could start on another worker
/// while a level is still registering keys; a timer window only makes that unlikely, and costs
/// its length at every level.)
#[derive(Clone, Default)]
pub struct FetchQueue(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

/// A waker that notes whether it was called during the poll it was made for.
struct NoteWake {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for NoteWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.inner.wake_by_ref();
    }
}

impl FetchQueue {
    /// The spawner to give `DataLoader::new`: it queues the fetch for `run`.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        let queue = self.0.clone();
        move |fetch| {
            queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(fetch)
        }
    }

    /// Drives `main` and every fetch it queues, on the current task, until `main` completes.
    pub async fn run<F: Future>(self, main: F) -> F::Output {
        let mut main = std::pin::pin!(main);
        let mut running: FuturesUnordered<BoxFuture<'static, ()>> = FuturesUnordered::new();
        std::future::poll_fn(move |cx| {
            let note = Arc::new(NoteWake {
                woken: AtomicBool::new(false),
                inner: cx.waker().clone(),
            });
            let waker = Waker::from(note.clone());
            if let Poll::Ready(out) = main.as_mut().poll(&mut TaskContext::from_waker(&waker)) {
                return Poll::Ready(out);
            }
            if note.woken.load(Ordering::Relaxed) {
                // Not quiet: the runtime polls this task again at once (the real waker was
                // called), and the fetches wait for the fields still to come.
                return Poll::Pending;
            }
            running.extend(
                self.0
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .drain(..),
            );
            // Completed fetches wake the resolvers waiting on them, and through them this task.
            while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
            Poll::Pending
        })
        .await
    }
}

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

// ----------------------------------------------------------------------------------------------
// Evergreen
// ----------------------------------------------------------------------------------------------

/// The request's Evergreen loader, shared by the operations of a batch.
pub type EvergreenLoaders = Arc<async_graphql::dataloader::DataLoader<EvergreenLoader>>;

/// Loads the Evergreen domain's relations. One instance per request, wrapped in a `DataLoader`.
pub struct EvergreenLoader {
    pub db: DatabaseConnection,
}

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

fn decode_after(after: &Option<String>) -> Result<Option<crate::service::KeyCursor>, Shared> {
    after
        .as_deref()
        .map(super::connection::decode)
        .transpose()
        .map_err(Arc::new)
}

/// Groups page keys by their page and answers each group with one call of `fetch`, then hands
/// every key its parent's rows.
async fn load_pages<K, T, F, Fut>(
    keys: &[K],
    split: impl Fn(&K) -> (i64, &EvgPage),
    parent_of: impl Fn(&T) -> i64,
    fetch: F,
) -> Result<HashMap<K, Vec<T>>, Shared>
where
    K: Clone + Eq + std::hash::Hash,
    F: Fn(Vec<i64>, EvgPage, Option<crate::service::KeyCursor>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, AppError>>,
{
    let mut groups: HashMap<&EvgPage, Vec<(i64, &K)>> = HashMap::new();
    for k in keys {
        let (id, page) = split(k);
        groups.entry(page).or_default().push((id, k));
    }
    let mut out = HashMap::with_capacity(keys.len());
    for (page, members) in groups {
        let after = decode_after(&page.after)?;
        let ids: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
        let rows = fetch(ids, page.clone(), after).await.map_err(Arc::new)?;
        let mut by_parent: HashMap<i64, Vec<T>> = HashMap::new();
        for r in rows {
            by_parent.entry(parent_of(&r)).or_default().push(r);
        }
        for (id, k) in members {
            out.insert(k.clone(), by_parent.remove(&id).unwrap_or_default());
        }
    }
    Ok(out)
}

impl EvergreenLoader {
    /// One level of per-parent pages (`parent` names the level): one statement for each distinct
    /// page among the keys, reading all the rows' columns.
    async fn child_pages<K, T>(
        &self,
        keys: &[K],
        split: impl Fn(&K) -> (i64, &EvgPage),
        parent: Parent,
        parent_of: impl Fn(&T) -> i64,
    ) -> Result<HashMap<K, Vec<T>>, Shared>
    where
        K: Clone + Eq + std::hash::Hash,
        T: Positional,
    {
        load_pages(keys, split, parent_of, |ids, page, after| async move {
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
        })
        .await
    }
}

impl Loader<EvgProjectId> for EvergreenLoader {
    type Value = Project;
    type Error = Shared;

    async fn load(&self, keys: &[EvgProjectId]) -> Result<HashMap<EvgProjectId, Project>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = evg::projects_by_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, p)| (EvgProjectId(id), p))
            .collect())
    }
}

impl Loader<EvgVersionId> for EvergreenLoader {
    type Value = Version;
    type Error = Shared;

    async fn load(&self, keys: &[EvgVersionId]) -> Result<HashMap<EvgVersionId, Version>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = evg::versions_by_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, v)| (EvgVersionId(id), v))
            .collect())
    }
}

impl Loader<EvgBuildId> for EvergreenLoader {
    type Value = Build;
    type Error = Shared;

    async fn load(&self, keys: &[EvgBuildId]) -> Result<HashMap<EvgBuildId, Build>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = evg::builds_by_ids(&self.db, &ids).await.map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, b)| (EvgBuildId(id), b))
            .collect())
    }
}

impl Loader<EvgTaskKey> for EvergreenLoader {
    type Value = Task;
    type Error = Shared;

    async fn load(&self, keys: &[EvgTaskKey]) -> Result<HashMap<EvgTaskKey, Task>, Shared> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let found = evg::tasks_by_task_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(id, t)| (EvgTaskKey(id), t))
            .collect())
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
            |k| (k.id, &k.page),
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
            |k| (k.id, &k.page),
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
            |k| (k.id, &k.page),
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
            |k| (k.id, &k.page),
            |a: &Artifact| a.task_id,
            |ids, page, after| async move {
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
