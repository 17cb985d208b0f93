//! A short-lived cache of list totals, for the legacy REST lists that report `total_page` on
//! every page.
//!
//! The original pytest-monitor server counts the whole list (`COUNT(*)`) for every page it
//! serves; over 100,000 metrics that count is a parallel sequential scan costing more than the
//! rest of the request together. Here a total is reused for at most the configured time
//! (`--count-cache-ms`, 1 s by default, 0 to count every time), and never across a write made
//! through this process: every pytest-monitor write bumps a process-wide generation, and an entry
//! counted before the latest write is counted again. Rows written by another process sharing the
//! database show up in totals within the time limit. The explicit `.../count` routes are always
//! exact. docs/compat.md records the difference.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::AppResult;

/// Writes to the pytest-monitor tables made by this process.
static MONITOR_WRITES: AtomicU64 = AtomicU64::new(0);

/// Records that pytest-monitor rows changed; cached totals counted before are dropped.
pub fn note_monitor_write() {
    MONITOR_WRITES.fetch_add(1, Ordering::SeqCst);
}

/// Entries kept at most; the cache is emptied when full (filters are few in practice, and an
/// empty cache only means one more count).
const MAX_ENTRIES: usize = 1024;

#[derive(Debug)]
struct Entry {
    total: u64,
    at: Instant,
    generation: u64,
}

#[derive(Debug)]
pub struct CountCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl CountCache {
    pub fn new(ttl: Duration) -> Self {
        CountCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The total for `key` (a list and its filter): cached if counted less than the time limit
    /// ago and after the latest write, otherwise `count()` and remember it.
    pub async fn total<F, Fut>(&self, key: String, count: F) -> AppResult<u64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<u64>>,
    {
        if self.ttl.is_zero() {
            return count().await;
        }
        // Read before counting: a write that lands during the count makes this entry stale.
        let generation = MONITOR_WRITES.load(Ordering::SeqCst);
        {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(e) = entries.get(&key)
                && e.generation == generation
                && e.at.elapsed() < self.ttl
            {
                return Ok(e.total);
            }
        }
        let at = Instant::now();
        let total = count().await?;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                total,
                at,
                generation,
            },
        );
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    async fn counted(cache: &CountCache, calls: &AtomicUsize, n: u64) -> u64 {
        cache
            .total("k".into(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(n)
            })
            .await
            .expect("count")
    }

    #[tokio::test]
    async fn reuses_a_total_until_a_write_or_the_time_limit() {
        let cache = CountCache::new(Duration::from_secs(3600));
        let calls = AtomicUsize::new(0);
        assert_eq!(counted(&cache, &calls, 5).await, 5);
        assert_eq!(counted(&cache, &calls, 6).await, 5, "cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        note_monitor_write();
        assert_eq!(counted(&cache, &calls, 6).await, 6, "a write drops it");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let expiring = CountCache::new(Duration::from_millis(1));
        let calls = AtomicUsize::new(0);
        counted(&expiring, &calls, 1).await;
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(counted(&expiring, &calls, 2).await, 2, "expired");
    }

    #[tokio::test]
    async fn zero_time_limit_counts_every_time() {
        let cache = CountCache::new(Duration::ZERO);
        let calls = AtomicUsize::new(0);
        counted(&cache, &calls, 1).await;
        counted(&cache, &calls, 1).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
