//! A short-lived cache of list totals, for the legacy REST lists that report `total_page` on
//! every page.
//!
//! The original pytest-monitor server counts the whole list (`COUNT(*)`) for every page it
//! serves; over 100,000 metrics that count is a parallel sequential scan costing more than the
//! rest of the request together, and over millions it takes longer than a second. Here a total is
//! reused for at most the configured time after it was counted (`--count-cache-ms`, 1 s by
//! default, 0 to count every time), and never across a write made through this process: each
//! domain keeps a process-wide `Generation` of its tables, which its service bumps on every write,
//! and an entry counted before the latest write is counted again.
//!
//! One request at a time counts a given list. While it does, the others are answered with the
//! total it replaces, if no write of this process came since and it expired less than the time
//! limit before the count began, or else wait for the count's result: concurrent pages of a big
//! list would otherwise each start the same slow count and all finish late. Rows written by
//! another process sharing the database therefore show up in totals within twice the time limit
//! plus the duration of one count. The explicit `.../count` routes are always exact.
//! docs/compat.md records the difference.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::AppResult;

/// How many writes this process has made to a domain's tables: a domain's service declares one
/// (`static WRITES: Generation = Generation::new()`) and bumps it on every write, and the totals
/// of its lists are cached against it.
#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    pub const fn new() -> Self {
        Generation(AtomicU64::new(0))
    }

    /// Records that rows changed; cached totals counted before are dropped.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn read(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Entries kept at most; the cache is emptied when full (filters are few in practice, and an
/// empty cache only means one more count).
const MAX_ENTRIES: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Counted {
    total: u64,
    /// When the count finished.
    at: Instant,
    /// The write generation read before the count started.
    generation: u64,
}

#[derive(Debug, Default)]
struct State {
    counted: Option<Counted>,
    /// When the count under way, if any, started.
    counting_since: Option<Instant>,
}

/// One list's total, and the lock its one counting request holds.
#[derive(Debug, Default)]
struct Slot {
    state: Mutex<State>,
    counting: tokio::sync::Mutex<()>,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The total if it was counted after the latest write and within `ttl`.
    fn fresh(&self, generation: u64, ttl: Duration) -> Option<u64> {
        self.state()
            .counted
            .filter(|c| c.generation == generation && c.at.elapsed() < ttl)
            .map(|c| c.total)
    }

    /// While a count is under way: the total it replaces, if that was counted after the latest
    /// write and had expired less than `ttl` before the count started (a list in steady use is
    /// recounted as soon as its total expires; one idle for longer waits for the new count).
    fn replaced(&self, generation: u64, ttl: Duration) -> Option<u64> {
        let state = self.state();
        let started = state.counting_since?;
        state
            .counted
            .filter(|c| {
                c.generation == generation && started.saturating_duration_since(c.at) < ttl * 2
            })
            .map(|c| c.total)
    }
}

#[derive(Debug)]
pub struct CountCache {
    ttl: Duration,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl CountCache {
    pub fn new(ttl: Duration) -> Self {
        CountCache {
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: String) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.len() >= MAX_ENTRIES && !slots.contains_key(&key) {
            slots.clear();
        }
        Arc::clone(slots.entry(key).or_default())
    }

    /// The total for `key` (a list and its filter, over the tables whose writes `writes`
    /// counts): cached if counted less than the time limit ago and after the latest write,
    /// otherwise `count()` and remember it (see the module's documentation for requests that
    /// arrive while another counts).
    pub async fn total<F, Fut>(&self, writes: &Generation, key: String, count: F) -> AppResult<u64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<u64>>,
    {
        if self.ttl.is_zero() {
            return count().await;
        }
        // Read before counting: a write that lands during the count makes this entry stale.
        let generation = writes.read();
        let slot = self.slot(key);
        if let Some(total) = slot.fresh(generation, self.ttl) {
            return Ok(total);
        }
        let _counting = match slot.counting.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(total) = slot.replaced(generation, self.ttl) {
                    return Ok(total);
                }
                let guard = slot.counting.lock().await;
                // The request this one waited for may have counted after the latest write.
                if let Some(total) = slot.fresh(generation, self.ttl) {
                    return Ok(total);
                }
                guard
            }
        };
        slot.state().counting_since = Some(Instant::now());
        let counted = count().await;
        let mut state = slot.state();
        state.counting_since = None;
        let total = counted?;
        state.counted = Some(Counted {
            total,
            at: Instant::now(),
            generation,
        });
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// The tests' write generation, shared: tests that depend on it take turns.
    static WRITES: Generation = Generation::new();
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// Asks for the total; a count this request makes ends when `release` is notified, or at once.
    async fn counted_with(
        cache: &CountCache,
        calls: &AtomicUsize,
        release: Option<&tokio::sync::Notify>,
        n: u64,
    ) -> u64 {
        cache
            .total(&WRITES, "k".into(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                if let Some(release) = release {
                    release.notified().await;
                }
                Ok(n)
            })
            .await
            .expect("count")
    }

    async fn counted(cache: &CountCache, calls: &AtomicUsize, n: u64) -> u64 {
        counted_with(cache, calls, None, n).await
    }

    /// Asks for the total while another request's count is held open, then lets that count end.
    async fn counted_during(
        cache: &CountCache,
        calls: &AtomicUsize,
        release: &tokio::sync::Notify,
        n: u64,
    ) -> u64 {
        // The counting request goes first.
        tokio::task::yield_now().await;
        let asking = counted(cache, calls, n);
        let ending = async {
            tokio::task::yield_now().await;
            release.notify_one();
        };
        tokio::join!(asking, ending).0
    }

    /// Requests that wait on each other fail the test instead of hanging it.
    async fn within_a_minute<T>(f: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(60), f)
            .await
            .expect("requests waiting on each other")
    }

    #[tokio::test]
    async fn reuses_a_total_until_a_write_or_the_time_limit() {
        let _serial = SERIAL.lock().await;
        let cache = CountCache::new(Duration::from_secs(3600));
        let calls = AtomicUsize::new(0);
        assert_eq!(counted(&cache, &calls, 5).await, 5);
        assert_eq!(counted(&cache, &calls, 6).await, 5, "cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        WRITES.bump();
        assert_eq!(counted(&cache, &calls, 6).await, 6, "a write drops it");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let expiring = CountCache::new(Duration::from_millis(1));
        let calls = AtomicUsize::new(0);
        counted(&expiring, &calls, 1).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(counted(&expiring, &calls, 2).await, 2, "expired");
    }

    #[tokio::test]
    async fn while_one_request_recounts_the_others_get_the_total_it_replaces() {
        let _serial = SERIAL.lock().await;
        // Wide margins: the total must have expired by less than the time limit when the
        // recount starts, however late this machine wakes from the sleep.
        let cache = CountCache::new(Duration::from_secs(2));
        let calls = AtomicUsize::new(0);
        assert_eq!(counted(&cache, &calls, 5).await, 5);
        // Expired: the next request recounts.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let release = tokio::sync::Notify::new();
        let recount = counted_with(&cache, &calls, Some(&release), 7);
        let other = counted_during(&cache, &calls, &release, 6);
        let (recounted, other) = within_a_minute(async { tokio::join!(recount, other) }).await;
        assert_eq!((recounted, other), (7, 5));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one recount");
        assert_eq!(
            counted(&cache, &calls, 8).await,
            7,
            "fresh from the recount's end"
        );
    }

    #[tokio::test]
    async fn requests_with_no_usable_total_wait_for_the_one_count() {
        let _serial = SERIAL.lock().await;
        let cache = CountCache::new(Duration::from_secs(3600));
        let calls = AtomicUsize::new(0);
        let release = tokio::sync::Notify::new();
        let first = counted_with(&cache, &calls, Some(&release), 3);
        let second = counted_during(&cache, &calls, &release, 4);
        assert_eq!(
            within_a_minute(async { tokio::join!(first, second) }).await,
            (3, 3)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_total_older_than_the_latest_write_is_never_given_out() {
        let _serial = SERIAL.lock().await;
        let cache = CountCache::new(Duration::from_secs(3600));
        let calls = AtomicUsize::new(0);
        assert_eq!(counted(&cache, &calls, 1).await, 1);
        WRITES.bump();
        let release = tokio::sync::Notify::new();
        let recount = counted_with(&cache, &calls, Some(&release), 2);
        let other = counted_during(&cache, &calls, &release, 9);
        let (recounted, other) = within_a_minute(async { tokio::join!(recount, other) }).await;
        assert_eq!((recounted, other), (2, 2));
    }

    #[tokio::test]
    async fn zero_time_limit_counts_every_time() {
        let _serial = SERIAL.lock().await;
        let cache = CountCache::new(Duration::ZERO);
        let calls = AtomicUsize::new(0);
        counted(&cache, &calls, 1).await;
        counted(&cache, &calls, 1).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
