//! Dataloaders, the generic part: every relation field asks the request's `DataLoader` with a
//! newtype key, and each loader answers all keys of one level with one service call (one SQL
//! statement). Each domain keeps its loader and keys in `graphql/<domain>/loaders.rs`; this module
//! runs their fetches (`FetchQueue`), builds them (`new_loader`) and groups per-parent pages
//! (`load_pages`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use async_graphql::dataloader::DataLoader;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;

use crate::config::Limits;
use crate::error::AppError;
use crate::service::KeyCursor;

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
/// A loader's error: shared, since every key of the failed fetch gets it.
pub type Shared = Arc<AppError>;

/// Keys one loader statement may carry. A level wider than this (only possible with a raised
/// complexity limit) takes more than one statement; SQLite binds at most 32,766 parameters.
const MAX_KEYS_PER_FETCH: usize = 10_000;

/// One domain's loader: the database, and the domain as a type, so that each domain
/// implements `Loader<K>` for its own keys on `DomainLoader<ItsDomain>`.
pub struct DomainLoader<D> {
    pub db: sea_orm::DatabaseConnection,
    domain: std::marker::PhantomData<fn() -> D>,
}

/// A request's loader of domain `D`, shared by the operations of a batch.
pub type Loaders<D> = Arc<DataLoader<DomainLoader<D>>>;

/// Gives the request domain `D`'s loader (`schema_parts!` calls this for every domain).
pub fn attach<D: 'static>(
    batch: async_graphql::BatchRequest,
    db: &sea_orm::DatabaseConnection,
    fetches: &FetchQueue,
    limits: &Limits,
) -> async_graphql::BatchRequest {
    let loader = DomainLoader::<D> {
        db: db.clone(),
        domain: std::marker::PhantomData,
    };
    let loaders: Loaders<D> = new_loader(loader, fetches, limits);
    batch.data(loaders)
}

/// A request's `DataLoader` over `loader`, its fetches run by `fetches`.
pub fn new_loader<L: Send + Sync + 'static>(
    loader: L,
    fetches: &FetchQueue,
    limits: &Limits,
) -> Arc<DataLoader<L>> {
    Arc::new(
        DataLoader::new(loader, fetches.spawner())
            .max_batch_size(MAX_KEYS_PER_FETCH)
            .delay(limits.dataloader_delay),
    )
}

/// Answers keys that each wrap one id (`id` reads it, `key` wraps it back) with one call of
/// `fetch` over all their ids, which returns the rows found by id: the loaders of rows by id.
pub async fn by_ids<K, I, V, Fut>(
    keys: &[K],
    id: impl Fn(&K) -> I,
    key: impl Fn(I) -> K,
    fetch: impl FnOnce(Vec<I>) -> Fut,
) -> Result<HashMap<K, V>, Shared>
where
    K: Eq + std::hash::Hash,
    Fut: std::future::Future<Output = Result<HashMap<I, V>, AppError>>,
{
    let ids = keys.iter().map(id).collect();
    let found = fetch(ids).await.map_err(Arc::new)?;
    Ok(found.into_iter().map(|(i, v)| (key(i), v)).collect())
}

/// An encoded `after` cursor of a nested connection's key, decoded.
pub fn decode_after(after: &Option<String>) -> Result<Option<KeyCursor>, AppError> {
    after.as_deref().map(super::connection::decode).transpose()
}

/// Groups per-parent page keys by their page arguments `P` (`split` gives a key's parent id and
/// page) and answers each group with one call of `fetch`, then hands every key its parent's rows
/// (`parent_of` tells a row's parent). A query where every parent asks the same page, the usual
/// case, is one statement.
pub async fn load_pages<K, P, T, F, Fut>(
    keys: &[K],
    split: impl Fn(&K) -> (i64, P),
    parent_of: impl Fn(&P, &T) -> i64,
    fetch: F,
) -> Result<HashMap<K, Vec<T>>, Shared>
where
    K: Clone + Eq + std::hash::Hash,
    P: Clone + Eq + std::hash::Hash,
    F: Fn(Vec<i64>, P) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, AppError>>,
{
    let mut groups: HashMap<P, Vec<(i64, &K)>> = HashMap::new();
    for k in keys {
        let (id, page) = split(k);
        groups.entry(page).or_default().push((id, k));
    }
    let mut out = HashMap::with_capacity(keys.len());
    for (page, members) in groups {
        let ids: Vec<i64> = members.iter().map(|(id, _)| *id).collect();
        let rows = fetch(ids, page.clone()).await.map_err(Arc::new)?;
        let mut by_parent: HashMap<i64, Vec<T>> = HashMap::new();
        for r in rows {
            by_parent.entry(parent_of(&page, &r)).or_default().push(r);
        }
        for (id, k) in members {
            out.insert(k.clone(), by_parent.remove(&id).unwrap_or_default());
        }
    }
    Ok(out)
}
