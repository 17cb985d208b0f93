//! The legacy server's date-time rules: which ISO 8601 texts it accepted for `run_date` and
//! `item_start_time`, how Python's `isoformat()` wrote them back, and the UTC instant testgraph
//! orders and filters by.

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Offset};

/// Parses an ISO 8601 date or date-time the way the legacy server accepted `run_date`, and returns
/// it re-emitted as Python's `isoformat()` did (microseconds only when non-zero, the offset kept
/// when one was given) together with the instant used for ordering (UTC when an offset was given).
pub fn normalize_iso8601(input: &str) -> Option<(String, NaiveDateTime)> {
    let (naive, offset) = parse_iso8601(input)?;
    Some((python_isoformat(naive, offset), utc_instant(naive, offset)))
}

/// The instant of `normalize_iso8601` alone, for a metric's `item_start_time`: the client's text
/// is stored as it came, so the re-emitted text would be thrown away.
pub fn iso8601_instant(input: &str) -> Option<NaiveDateTime> {
    parse_iso8601(input).map(|(naive, offset)| utc_instant(naive, offset))
}

/// The local date-time (microseconds kept, as Python does) and the offset, if one was given.
fn parse_iso8601(input: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let s = input.trim();
    if s.len() == 10 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some((d.and_hms_opt(0, 0, 0)?, None));
    }
    if s.len() < 16 || !s.is_char_boundary(10) {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))?;
    let (time, offset) = split_offset(rest)?;
    let naive_text = format!("{date}T{time}");
    let naive = parse_naive(&naive_text, &FORMATS.date_time)
        .or_else(|| parse_naive(&naive_text, &FORMATS.date_minutes))?;
    Some((naive.with_nanosecond_truncated(), offset))
}

fn utc_instant(naive: NaiveDateTime, offset: Option<FixedOffset>) -> NaiveDateTime {
    match offset {
        Some(off) => naive - chrono::Duration::seconds(i64::from(off.local_minus_utc())),
        None => naive,
    }
}

/// The date-time formats of this module, read once: chrono's `parse_from_str` and `format` read
/// their format string again on every call, which was a tenth of the server's time for a batch
/// of 5,000 metrics (a parse and two formats a row).
struct Formats {
    date_time: Vec<Item<'static>>,
    date_minutes: Vec<Item<'static>>,
    seconds: Vec<Item<'static>>,
    micros: Vec<Item<'static>>,
}

static FORMATS: std::sync::LazyLock<Formats> = std::sync::LazyLock::new(|| {
    let items = |fmt: &'static str| {
        StrftimeItems::new(fmt)
            .parse()
            .expect("a valid strftime format")
    };
    Formats {
        date_time: items("%Y-%m-%dT%H:%M:%S%.f"),
        date_minutes: items("%Y-%m-%dT%H:%M"),
        seconds: items("%Y-%m-%dT%H:%M:%S"),
        micros: items("%Y-%m-%dT%H:%M:%S%.6f"),
    }
});

/// `NaiveDateTime::parse_from_str` with the format already read.
fn parse_naive(text: &str, items: &[Item<'static>]) -> Option<NaiveDateTime> {
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, items.iter()).ok()?;
    parsed.to_naive_datetime_with_offset(0).ok()
}

trait TruncateNanos {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateNanos for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1_000;
        self.with_nanosecond(micros * 1_000).unwrap_or(self)
    }
}

fn split_offset(time: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(t) = time.strip_suffix('Z').or_else(|| time.strip_suffix('z')) {
        return Some((t, Some(chrono::Utc.fix())));
    }
    let Some(pos) = time.rfind(['+', '-']) else {
        return Some((time, None));
    };
    let (t, off) = time.split_at(pos);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((t, Some(FixedOffset::east_opt(sign * (h * 3600 + m * 60))?)))
}

fn python_isoformat(t: NaiveDateTime, offset: Option<FixedOffset>) -> String {
    use chrono::Timelike;
    let mut out = t.format_with_items(FORMATS.seconds.iter()).to_string();
    let micros = t.nanosecond() / 1_000;
    if micros != 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    if let Some(off) = offset {
        let secs = off.local_minus_utc();
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.abs();
        out.push_str(&format!(
            "{sign}{:02}:{:02}",
            secs / 3600,
            (secs % 3600) / 60
        ));
    }
    out
}

/// An instant as `YYYY-MM-DDTHH:MM:SS.ffffff`, the text both databases read as a timestamp.
pub(super) fn micros_text(t: NaiveDateTime) -> String {
    t.format_with_items(FORMATS.micros.iter()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formats read once parse and write exactly as chrono's own per-call functions.
    #[test]
    fn date_times_read_and_written_as_chrono_does() {
        let cases = [
            ("2024-06-01T12:00:00", "%Y-%m-%dT%H:%M:%S%.f"),
            ("2024-06-01T12:00:00.5", "%Y-%m-%dT%H:%M:%S%.f"),
            ("2024-06-01T12:00:00.123456789", "%Y-%m-%dT%H:%M:%S%.f"),
            ("2024-02-30T12:00:00", "%Y-%m-%dT%H:%M:%S%.f"),
            ("2024-06-01T12:00:0x", "%Y-%m-%dT%H:%M:%S%.f"),
            ("2024-06-01T12:00", "%Y-%m-%dT%H:%M"),
            ("2024-06-01T25:00", "%Y-%m-%dT%H:%M"),
        ];
        let items = |fmt| match fmt {
            "%Y-%m-%dT%H:%M" => &FORMATS.date_minutes,
            _ => &FORMATS.date_time,
        };
        for (text, fmt) in cases {
            let expected = NaiveDateTime::parse_from_str(text, fmt).ok();
            assert_eq!(parse_naive(text, items(fmt)), expected, "{text}");
            if let Some(t) = expected {
                for (fmt, items) in [
                    ("%Y-%m-%dT%H:%M:%S", &FORMATS.seconds),
                    ("%Y-%m-%dT%H:%M:%S%.6f", &FORMATS.micros),
                ] {
                    assert_eq!(
                        t.format_with_items(items.iter()).to_string(),
                        t.format(fmt).to_string()
                    );
                }
            }
        }
    }

    #[test]
    fn a_metric_start_time_has_the_instant_of_the_normalized_form() {
        for text in [
            "2024-06-01",
            "2024-06-01T12:00",
            "2024-06-01 12:00:00.1234567",
            "2024-06-01T12:00:00+02:00",
            "2024-06-01T23:30:00-0130",
            "2024-06-01T12:00:00Z",
            "not a date",
            "2024-06-01T12:00:00+25:00",
        ] {
            assert_eq!(
                iso8601_instant(text),
                normalize_iso8601(text).map(|(_, t)| t),
                "{text}"
            );
        }
        assert_eq!(
            normalize_iso8601("2024-06-01T23:30:00.5-0130"),
            Some((
                "2024-06-01T23:30:00.500000-01:30".to_owned(),
                NaiveDateTime::parse_from_str("2024-06-02T01:00:00.5", "%Y-%m-%dT%H:%M:%S%.f")
                    .unwrap()
            ))
        );
    }
}
