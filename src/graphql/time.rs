//! Times as the schema's `DateTime` scalar carries them: stored times are UTC without an offset,
//! durations are nanoseconds, and Evergreen's agent reports test times as epoch seconds.

use chrono::{DateTime, NaiveDateTime, Utc};

/// A stored time (UTC without an offset) as an instant.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub fn utc_opt(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(utc)
}

/// An instant as a stored time.
pub fn naive(t: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    t.map(|t| t.naive_utc())
}

/// Nanoseconds as seconds.
pub fn seconds(ns: i64) -> f64 {
    ns as f64 / 1e9
}

/// An epoch-seconds float (how Evergreen's agent reports test times) as an instant.
pub fn epoch(s: f64) -> Option<DateTime<Utc>> {
    if !s.is_finite() {
        return None;
    }
    let whole = s.floor();
    let nanos = ((s - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
    DateTime::from_timestamp(whole as i64, nanos)
}
