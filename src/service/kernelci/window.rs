//! KernelCI's creation-time window (`created_on`, `date_range`, `time_range`) as instants, for
//! both edges: the legacy query string parses its text into these arguments, GraphQL's job
//! filter passes its typed fields.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// The fewest minutes a `time_range` covers.
pub const MIN_TIME_RANGE_MINUTES: i64 = 10;
/// The most minutes a `time_range` covers (a day).
pub const MAX_TIME_RANGE_MINUTES: i64 = 1440;

/// A creation-time window: `created_on >= from` and `created_on < before`, either bound optional.
pub type Window = (Option<NaiveDateTime>, Option<NaiveDateTime>);

/// A `date_range` that reaches back before year 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeforeYearOne {
    pub days: i64,
    pub end_day: NaiveDate,
}

impl std::fmt::Display for BeforeYearOne {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} days before {} is before year 1",
            self.days, self.end_day
        )
    }
}

/// The start of day `d`, and the second before its end (the backend's `23:59:59`, which leaves
/// out the day's last second).
pub fn day_bounds(d: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let start = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    (start, start + Duration::seconds(86_399))
}

/// The window of `created_on` (`day`), `date_range` (`days`, not negative) and `time_range`
/// (`minutes`), each overriding the one before, as KernelCI applied them:
/// - `day`: that day, `[00:00:00, 23:59:59)`;
/// - `days`: from `days` days before `day` (today when there is none) to that day's `23:59:59`;
/// - `minutes`: the last `minutes` before `now`, clamped to 10..=1440.
pub fn created_window(
    day: Option<NaiveDate>,
    days: Option<i64>,
    minutes: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Window, BeforeYearOne> {
    let mut window: Window = (None, None);
    if let Some(d) = day {
        let (start, end) = day_bounds(d);
        window = (Some(start), Some(end));
    }
    if let Some(days) = days {
        let end_day = day.unwrap_or_else(|| now.date_naive());
        let start_day = end_day
            .checked_sub_signed(Duration::try_days(days).unwrap_or(Duration::MAX))
            .filter(|d| *d >= NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default())
            .ok_or(BeforeYearOne { days, end_day })?;
        window = (Some(day_bounds(start_day).0), Some(day_bounds(end_day).1));
    }
    if let Some(minutes) = minutes {
        let minutes = minutes.clamp(MIN_TIME_RANGE_MINUTES, MAX_TIME_RANGE_MINUTES);
        let now = now.naive_utc();
        window = (Some(now - Duration::minutes(minutes)), Some(now));
    }
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-06T10:30:00Z".parse().unwrap()
    }

    fn at(s: &str) -> Option<NaiveDateTime> {
        Some(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn a_day_is_its_midnight_to_its_last_second() {
        let w = created_window(day("2015-03-01"), None, None, now()).unwrap();
        assert_eq!(w, (at("2015-03-01 00:00:00"), at("2015-03-01 23:59:59")));
    }

    #[test]
    fn days_count_back_from_the_day_or_today() {
        let w = created_window(None, Some(0), None, now()).unwrap();
        assert_eq!(w, (at("2026-12-06 00:00:00"), at("2026-12-06 23:59:59")));
        let w = created_window(day("2015-03-01"), Some(2), None, now()).unwrap();
        assert_eq!(w, (at("2015-02-27 00:00:00"), at("2015-03-01 23:59:59")));
        let err = created_window(None, Some(800_000), None, now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "800000 days before 2026-12-06 is before year 1"
        );
        assert!(created_window(None, Some(i64::MAX), None, now()).is_err());
    }

    #[test]
    fn minutes_are_clamped_and_override_the_days() {
        let w = created_window(day("2015-03-01"), Some(3), Some(5), now()).unwrap();
        assert_eq!(w, (at("2026-12-06 10:20:00"), at("2026-12-06 10:30:00")));
        let w = created_window(None, None, Some(100_000), now()).unwrap();
        assert_eq!(w.0, at("2026-12-05 10:30:00"));
    }
}
