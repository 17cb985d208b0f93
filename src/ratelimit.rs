//! Requests-per-minute budgets per token and per client address (`--rate-limit-per-token`,
//! `--rate-limit-per-address`), checked by the request guard of every API route (GraphQL and the
//! REST families; not `/healthz`, `/readyz` or the browser pages and their assets).
//!
//! Each budget is a GCRA ("generic cell rate algorithm", a token bucket kept as one number per
//! key): a key may send `rate` requests at once and then one every `60 s / rate`; the bucket
//! refills continuously. A refused request costs nothing; it is told, in whole seconds (at least
//! one), when the next one would pass.
//!
//! - The token is the `Authorization` header's secret whatever its scheme (`Bearer x`, `Jwt x`,
//!   KernelCI's bare `x` are the same key), checked before the database knows whether it is
//!   live: a flood of made-up tokens is the address budget's to stop. Requests without a token
//!   have no token budget.
//! - The address is the TCP peer's IP (not its port); an IPv6 address counts by its /64, what one
//!   host usually has. Behind a reverse proxy every request comes from the proxy: no
//!   `X-Forwarded-For` is trusted. A request without a socket address (poem's in-process test
//!   client, a Unix socket) counts in one shared bucket.
//! - Keys are kept as 64-bit keyed hashes (never the secret itself), at most `MAX_KEYS` per
//!   budget: a key whose bucket has refilled is forgotten (it is the same as an unknown key),
//!   and when the table is full of busy keys the ones nearest to a full bucket are forgotten
//!   first, so a flood of new keys cannot grow memory without bound.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use poem::Request;
use poem::web::RemoteAddr;

use crate::config::RateLimits;

/// Most keys one budget tracks (about 2 MB at most).
pub const MAX_KEYS: usize = 65_536;

const MINUTE_NS: u64 = 60_000_000_000;

/// Both budgets of a server.
pub struct RateLimiter {
    per_token: Option<Budget>,
    per_address: Option<Budget>,
    hasher: RandomState,
    started: Instant,
}

/// A key's answer: go on, or retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Wait(Duration),
}

impl Verdict {
    /// The `Retry-After` value: whole seconds, at least one.
    pub fn retry_after_secs(self) -> Option<u64> {
        match self {
            Verdict::Pass => None,
            Verdict::Wait(d) => Some(d.as_nanos().div_ceil(1_000_000_000).max(1) as u64),
        }
    }
}

impl RateLimiter {
    /// The limiter for `limits`, or `None` when both budgets are off.
    pub fn new(limits: RateLimits) -> Option<RateLimiter> {
        if limits.per_token == 0 && limits.per_address == 0 {
            return None;
        }
        Some(RateLimiter {
            per_token: Budget::per_minute(limits.per_token),
            per_address: Budget::per_minute(limits.per_address),
            hasher: RandomState::new(),
            started: Instant::now(),
        })
    }

    /// Counts `req` against its address's budget, then its token's.
    pub fn check(&self, req: &Request) -> Verdict {
        let address = match req.remote_addr() {
            RemoteAddr(poem::Addr::SocketAddr(a)) => Some(a.ip()),
            _ => None,
        };
        let authorization = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        self.check_at(Instant::now(), address, authorization)
    }

    /// Counts a request from `address` (`None`: unknown) with this `Authorization` header value at
    /// `now`. A request the address budget refuses is not counted against the token's.
    pub fn check_at(
        &self,
        now: Instant,
        address: Option<IpAddr>,
        authorization: Option<&[u8]>,
    ) -> Verdict {
        let now = now.saturating_duration_since(self.started).as_nanos() as u64;
        if let Some(budget) = &self.per_address {
            let verdict = budget.take(self.address_key(address), now);
            if verdict != Verdict::Pass {
                return verdict;
            }
        }
        if let (Some(budget), Some(secret)) = (&self.per_token, authorization.and_then(secret)) {
            return budget.take(self.hasher.hash_one((1u8, secret)), now);
        }
        Verdict::Pass
    }

    fn address_key(&self, address: Option<IpAddr>) -> u64 {
        let key: (u8, u128) = match address.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(a)) => (2, a.to_bits().into()),
            // A host usually has a whole /64.
            Some(IpAddr::V6(a)) => (3, a.to_bits() >> 64),
            None => (4, 0),
        };
        self.hasher.hash_one(key)
    }

    /// How many keys the budgets track now, for tests.
    pub fn tracked_keys(&self) -> (usize, usize) {
        let len = |b: &Option<Budget>| b.as_ref().map_or(0, |b| b.len());
        (len(&self.per_token), len(&self.per_address))
    }
}

/// The secret of an `Authorization` value: what follows the scheme, or the whole value when it
/// has none (KernelCI's bare token). `None` when empty.
fn secret(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii_start();
    let secret = match value.iter().position(|b| *b == b' ') {
        Some(i) => value[i + 1..].trim_ascii(),
        None => value.trim_ascii_end(),
    };
    (!secret.is_empty()).then_some(secret)
}

/// One budget: per key, the "theoretical arrival time" of its next request, in nanoseconds since
/// the limiter started. A key may be at most `window` ahead of now: its bucket holds `window /
/// interval` requests.
struct Budget {
    interval: u64,
    window: u64,
    tats: Mutex<HashMap<u64, u64>>,
}

impl Budget {
    fn per_minute(rate: u32) -> Option<Budget> {
        if rate == 0 {
            return None;
        }
        let interval = (MINUTE_NS / u64::from(rate)).max(1);
        Some(Budget {
            interval,
            window: interval * u64::from(rate),
            tats: Mutex::new(HashMap::new()),
        })
    }

    fn len(&self) -> usize {
        self.tats.lock().map_or(0, |t| t.len())
    }

    fn take(&self, key: u64, now: u64) -> Verdict {
        // A poisoned lock only means another request panicked mid-update of one number.
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let tat = tats.get(&key).copied().unwrap_or(now).max(now);
        let next = tat + self.interval;
        if next - now > self.window {
            return Verdict::Wait(Duration::from_nanos(next - self.window - now));
        }
        if tats.len() >= MAX_KEYS && !tats.contains_key(&key) {
            make_room(&mut tats, now);
        }
        tats.insert(key, next);
        Verdict::Pass
    }
}

/// Forgets the keys whose buckets are full again, then, if more than half the table is still
/// busy, the busy keys nearest to a full bucket until half is left: at least `MAX_KEYS / 2` new
/// keys come between two sweeps.
fn make_room(tats: &mut HashMap<u64, u64>, now: u64) {
    tats.retain(|_, tat| *tat > now);
    let keep = MAX_KEYS / 2;
    if tats.len() <= keep {
        return;
    }
    let mut busy: Vec<(u64, u64)> = tats.iter().map(|(key, tat)| (*tat, *key)).collect();
    let cut = busy.len() - keep;
    busy.select_nth_unstable(cut);
    for (_, key) in &busy[..cut] {
        tats.remove(key);
    }
    tracing::warn!(
        kept = tats.len(),
        "rate limiter table full: forgot the least used keys"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_token: u32, per_address: u32) -> RateLimiter {
        RateLimiter::new(RateLimits {
            per_token,
            per_address,
        })
        .expect("on")
    }

    #[test]
    fn off_when_both_budgets_are_zero() {
        assert!(RateLimiter::new(RateLimits::default()).is_none());
    }

    #[test]
    fn a_burst_of_the_rate_then_one_per_interval() {
        let l = limiter(0, 6);
        let t0 = l.started;
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..6 {
            assert_eq!(l.check_at(t0, ip, None), Verdict::Pass);
        }
        let refused = l.check_at(t0, ip, None);
        assert_eq!(refused, Verdict::Wait(Duration::from_secs(10)));
        assert_eq!(refused.retry_after_secs(), Some(10));
        // Another address has its own budget.
        assert_eq!(
            l.check_at(t0, Some(IpAddr::from([10, 0, 0, 2])), None),
            Verdict::Pass
        );
        // One interval later, one more passes; the refusals cost nothing.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(l.check_at(t1, ip, None), Verdict::Pass);
        assert_eq!(
            l.check_at(t1, ip, None).retry_after_secs(),
            Some(10),
            "the next one a whole interval later"
        );
        // A minute of silence refills the bucket.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..6 {
            assert_eq!(l.check_at(t2, ip, None), Verdict::Pass);
        }
    }

    #[test]
    fn a_wait_under_a_second_is_told_as_one() {
        let l = limiter(0, 600);
        let t0 = l.started;
        for _ in 0..600 {
            assert_eq!(l.check_at(t0, None, None), Verdict::Pass);
        }
        assert_eq!(l.check_at(t0, None, None).retry_after_secs(), Some(1));
    }

    #[test]
    fn a_token_is_the_same_key_in_any_scheme() {
        let l = limiter(2, 0);
        let t0 = l.started;
        assert_eq!(l.check_at(t0, None, Some(b"Bearer abc")), Verdict::Pass);
        assert_eq!(l.check_at(t0, None, Some(b"abc")), Verdict::Pass);
        assert_ne!(l.check_at(t0, None, Some(b"Jwt abc")), Verdict::Pass);
        assert_eq!(l.check_at(t0, None, Some(b"Bearer xyz")), Verdict::Pass);
        // Without a token there is no token budget.
        for _ in 0..10 {
            assert_eq!(l.check_at(t0, None, None), Verdict::Pass);
            assert_eq!(l.check_at(t0, None, Some(b"Bearer ")), Verdict::Pass);
        }
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64_and_a_mapped_ipv4_as_itself() {
        let l = limiter(0, 1);
        let t0 = l.started;
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff:1".parse().unwrap();
        assert_eq!(l.check_at(t0, Some(a), None), Verdict::Pass);
        assert_ne!(l.check_at(t0, Some(b), None), Verdict::Pass);
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(l.check_at(t0, Some(v4), None), Verdict::Pass);
        assert_ne!(l.check_at(t0, Some(mapped), None), Verdict::Pass);
    }

    #[test]
    fn a_flood_of_new_keys_stays_within_the_table() {
        let l = limiter(1, 0);
        let t0 = l.started;
        for i in 0..(MAX_KEYS as u64 * 2 + 10) {
            let token = format!("Bearer t{i}");
            assert_eq!(l.check_at(t0, None, Some(token.as_bytes())), Verdict::Pass);
        }
        assert!(l.tracked_keys().0 <= MAX_KEYS, "{:?}", l.tracked_keys());
        // Idle keys are forgotten first: a minute later the table empties before it evicts.
        let t1 = t0 + Duration::from_secs(61);
        let before = l.tracked_keys().0;
        for i in 0..(MAX_KEYS - before + 1) {
            let token = format!("Bearer u{i}");
            assert_eq!(l.check_at(t1, None, Some(token.as_bytes())), Verdict::Pass);
        }
        assert!(l.tracked_keys().0 <= MAX_KEYS / 2 + 1);
    }
}
