//! StackTach's query string (fact sheet §5.2, quincy's `v1_api.py`): `limit`, the ISO 8601
//! dates, `name:value` trait lists, `state`, hex `mark`s, `trigger_name` (and klugman's `name`)
//! and `details`; into the service's `StreamFilter` and `EventFilter`.
//!
//! Unknown parameters are ignored and an empty value is an absent one, as Falcon 0.x dropped
//! blank values; a repeated parameter takes its last value. Where quincy answered a bare 500 (an
//! unparseable date, an unknown state, a non-hex mark, a trait without `:`) this answers a 400
//! that names the parameter.

use chrono::NaiveDateTime;

use crate::error::{AppError, AppResult};
use crate::service::stacktach::{
    DEFAULT_LIMIT, EventFilter, MAX_LIMIT, Mark, StreamFilter, StreamState, parse_iso,
};

/// The decoded `(key, value)` pairs of a query string, in order (`+` is a space, as Falcon
/// decoded it: an ascending mark must be sent as `%2B`).
pub fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The last non-blank value of `key`.
fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .filter(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.as_str())
        .next_back()
}

/// `limit`: 200 when absent or not an integer (quincy's fallback), `0` an empty page, a negative
/// one (SQLite's "no limit" in the original) every row up to `MAX_LIMIT`, as is anything larger.
pub fn limit(pairs: &[(String, String)]) -> u64 {
    match last(pairs, "limit").map(|v| v.trim().parse::<i64>()) {
        Some(Ok(n)) if n < 0 => MAX_LIMIT,
        Some(Ok(n)) => (n as u64).min(MAX_LIMIT),
        _ => DEFAULT_LIMIT,
    }
}

/// A date parameter, read as dateutil read the documented forms (`2015-02-28T13:30`, a date
/// alone, seconds and fraction optional; an offset or `Z` is converted to UTC).
fn date(pairs: &[(String, String)], key: &str) -> AppResult<Option<NaiveDateTime>> {
    let Some(raw) = last(pairs, key) else {
        return Ok(None);
    };
    parse_iso(raw).map(Some).ok_or_else(|| {
        AppError::bad_request(format!(
            "'{key}' is not an ISO 8601 date or time (such as 2015-02-28T13:30): '{raw}'"
        ))
    })
}

/// A trait list, `name:value;name:value` as documented or `name:value,name:value` as klugman
/// joins it. Each pair is split on its FIRST `:`, so a value may contain `:` (quincy kept only
/// the text before a second `:`); names and values are trimmed. After a `,`, text without a `:`
/// belongs to the value before it (`display_name:a,b` is one pair), so values may contain `,`
/// too. Empty pieces (a trailing `;`) are skipped; a piece without `:` is a 400.
pub fn traits(key: &str, raw: &str) -> AppResult<Vec<(String, String)>> {
    let wrong = |piece: &str, why: &str| {
        AppError::bad_request(format!(
            "'{key}' takes name:value pairs separated by ';' (or ','): {why} in '{piece}'"
        ))
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for group in raw.split(';') {
        let mut in_group = 0;
        for piece in group.split(',') {
            match piece.split_once(':') {
                Some((name, value)) => {
                    let name = name.trim();
                    if name.is_empty() {
                        return Err(wrong(piece, "a trait name is missing"));
                    }
                    out.push((name.to_owned(), value.trim().to_owned()));
                    in_group += 1;
                }
                None if in_group > 0 => {
                    // A `,` inside a value: glue it back.
                    if let Some((_, value)) = out.last_mut() {
                        value.push(',');
                        value.push_str(piece.trim_end());
                    }
                }
                None if piece.trim().is_empty() => {}
                None => return Err(wrong(piece, "no ':' between name and value")),
            }
        }
    }
    Ok(out)
}

fn trait_list(pairs: &[(String, String)], key: &str) -> AppResult<Vec<(String, String)>> {
    last(pairs, key).map_or(Ok(Vec::new()), |raw| traits(key, raw))
}

/// `mark`: hex, `+` first for ascending (ids above it, oldest first), `-` or nothing for
/// descending (ids below it, newest first, the default); a sign alone only sets the order.
pub fn mark(pairs: &[(String, String)]) -> AppResult<Mark> {
    let Some(raw) = last(pairs, "mark") else {
        return Ok(Mark::default());
    };
    let raw = raw.trim();
    let (ascending, hex) = match raw.as_bytes().first() {
        Some(b'+') => (true, &raw[1..]),
        Some(b'-') => (false, &raw[1..]),
        _ => (false, raw),
    };
    let hex = hex.trim();
    if hex.is_empty() {
        return Ok(Mark {
            from: None,
            ascending,
        });
    }
    let from = (hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| i64::from_str_radix(hex, 16).ok())
        .flatten()
        .ok_or_else(|| {
            AppError::bad_request(format!(
                "'mark' is a hexadecimal id, '+' first for ascending order: '{raw}'"
            ))
        })?;
    Ok(Mark {
        from: Some(from),
        ascending,
    })
}

/// `state`: one of the eight names, in any case.
fn state(pairs: &[(String, String)]) -> AppResult<Option<StreamState>> {
    let Some(raw) = last(pairs, "state") else {
        return Ok(None);
    };
    StreamState::parse(raw).map(Some).ok_or_else(|| {
        let names: Vec<&str> = StreamState::ALL.iter().map(|s| s.name()).collect();
        AppError::bad_request(format!(
            "'state' is one of {}: '{}'",
            names.join(", "),
            raw.trim()
        ))
    })
}

/// The filters of `GET /v1/streams` and its count: `older_than`, `younger_than`, `state`,
/// `trigger_name` (or klugman's `name`; `trigger_name` wins), `distinguishing_traits`, `mark`.
pub fn stream_filter(pairs: &[(String, String)]) -> AppResult<StreamFilter> {
    Ok(StreamFilter {
        older_than: date(pairs, "older_than")?,
        younger_than: date(pairs, "younger_than")?,
        state: state(pairs)?,
        name: last(pairs, "trigger_name")
            .or_else(|| last(pairs, "name"))
            .map(str::to_owned),
        dist_traits: trait_list(pairs, "distinguishing_traits")?,
        mark: mark(pairs)?,
    })
}

/// The filters of `GET /v1/events` and its count: `from_datetime` (strict), `to_datetime`
/// (inclusive), `event_name`, `traits`, `mark`.
pub fn event_filter(pairs: &[(String, String)]) -> AppResult<EventFilter> {
    Ok(EventFilter {
        from: date(pairs, "from_datetime")?,
        to: date(pairs, "to_datetime")?,
        event_type: last(pairs, "event_name").map(str::to_owned),
        traits: trait_list(pairs, "traits")?,
        mark: mark(pairs)?,
    })
}

/// A boolean parameter: `true`, `1`, `yes`, `on` or `false`, `0`, `no`, `off`, in any case;
/// absent or empty is false; anything else a 400.
fn flag(key: &str, raw: Option<&str>) -> AppResult<bool> {
    let Some(raw) = raw else {
        return Ok(false);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(AppError::bad_request(format!(
            "'{key}' is true or false (1/0, yes/no, on/off): '{raw}'"
        ))),
    }
}

/// Whether one stream's events are asked for: `details` (documented) or `detail` (the doc's
/// example), either true.
pub fn details(pairs: &[(String, String)]) -> AppResult<bool> {
    let details = flag("details", last(pairs, "details"))?;
    let detail = flag("detail", last(pairs, "detail"))?;
    Ok(details || detail)
}

/// What a `/v1/streams/<id>` segment names: the count (`count` in any case, as quincy lower-cased
/// the id and compared it) or a stream id.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamRef {
    Count,
    Id(i64),
}

/// The stream segment, as Python's `int()` read it (surrounding blanks, a sign, leading zeros).
pub fn stream_ref(raw: &str) -> AppResult<StreamRef> {
    let lower = raw.trim().to_lowercase();
    if lower == "count" {
        return Ok(StreamRef::Count);
    }
    lower
        .parse::<i64>()
        .map(StreamRef::Id)
        .map_err(|_| AppError::bad_request(format!("a stream id is an integer: '{raw}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        pairs(s)
    }

    fn pair(n: &str, v: &str) -> (String, String) {
        (n.to_owned(), v.to_owned())
    }

    #[test]
    fn limit_falls_back_to_200_as_quincy() {
        assert_eq!(limit(&q("")), 200);
        assert_eq!(limit(&q("limit=")), 200);
        assert_eq!(limit(&q("limit=abc")), 200);
        assert_eq!(limit(&q("limit=2.5")), 200);
        assert_eq!(limit(&q("limit=5")), 5);
        assert_eq!(limit(&q("limit=0")), 0);
        assert_eq!(limit(&q("limit=-1")), MAX_LIMIT);
        assert_eq!(limit(&q("limit=99999999")), MAX_LIMIT);
        assert_eq!(limit(&q("limit=3&limit=7")), 7, "the last value wins");
    }

    #[test]
    fn traits_split_on_the_first_colon_with_either_separator() {
        assert_eq!(
            traits("traits", "a:b;c:d").unwrap(),
            vec![pair("a", "b"), pair("c", "d")]
        );
        assert_eq!(
            traits("traits", "a:b,c:d").unwrap(),
            vec![pair("a", "b"), pair("c", "d")]
        );
        assert_eq!(
            traits("traits", "host:compute-01:8774").unwrap(),
            vec![pair("host", "compute-01:8774")]
        );
        assert_eq!(
            traits("traits", "colon_value:12:30:45;x:y").unwrap(),
            vec![pair("colon_value", "12:30:45"), pair("x", "y")]
        );
        assert_eq!(
            traits("traits", " tenant_id : 408577 ").unwrap(),
            vec![pair("tenant_id", "408577")]
        );
        assert_eq!(
            traits("traits", "empty_string:").unwrap(),
            vec![pair("empty_string", "")]
        );
        assert_eq!(
            traits("traits", "display_name:a, b,c:d;e:f").unwrap(),
            vec![pair("display_name", "a, b"), pair("c", "d"), pair("e", "f")]
        );
        assert_eq!(
            traits("traits", "host:compute-02;").unwrap(),
            vec![pair("host", "compute-02")]
        );
        assert!(traits("traits", "host").is_err());
        assert!(traits("traits", "a:b;host").is_err());
        assert!(traits("traits", ":value").is_err());
    }

    #[test]
    fn marks_are_hex_with_a_direction() {
        let m = |s: &str| mark(&q(s));
        assert_eq!(m("").unwrap(), Mark::default());
        assert_eq!(
            m("mark=27a").unwrap(),
            Mark {
                from: Some(0x27a),
                ascending: false
            }
        );
        assert_eq!(
            m("mark=-27a").unwrap(),
            Mark {
                from: Some(0x27a),
                ascending: false
            }
        );
        assert_eq!(
            m("mark=%2B1F").unwrap(),
            Mark {
                from: Some(0x1f),
                ascending: true
            }
        );
        assert_eq!(
            m("mark=+1f").unwrap(),
            Mark {
                from: Some(0x1f),
                ascending: false
            },
            "a raw + is a space"
        );
        assert_eq!(
            m("mark=%2B").unwrap(),
            Mark {
                from: None,
                ascending: true
            }
        );
        assert_eq!(m("mark=-").unwrap(), Mark::default());
        assert!(m("mark=zz").is_err());
        assert!(m("mark=%2Bg").is_err());
        assert!(m("mark=ffffffffffffffffffff").is_err(), "overflow");
    }

    #[test]
    fn stream_filters_read_every_parameter() {
        let f = stream_filter(&q(
            "older_than=2015-03-01T00:00&younger_than=2015-02-28&state=Expire_Error&name=host_trigger&distinguishing_traits=host:compute-01:8774&mark=%2Ba",
        ))
        .unwrap();
        assert_eq!(f.older_than, parse_iso("2015-03-01T00:00:00"));
        assert_eq!(f.younger_than, parse_iso("2015-02-28T00:00:00"));
        assert_eq!(f.state, Some(StreamState::ExpireError));
        assert_eq!(f.name.as_deref(), Some("host_trigger"));
        assert_eq!(f.dist_traits, vec![pair("host", "compute-01:8774")]);
        assert_eq!(
            f.mark,
            Mark {
                from: Some(10),
                ascending: true
            }
        );
        let f = stream_filter(&q("trigger_name=a&name=b&state=&older_than=")).unwrap();
        assert_eq!(f.name.as_deref(), Some("a"), "trigger_name wins over name");
        assert_eq!(
            (f.state, f.older_than),
            (None, None),
            "blank values are absent"
        );
        assert!(stream_filter(&q("state=bogus")).is_err());
        assert!(stream_filter(&q("older_than=notadate")).is_err());
        assert!(stream_filter(&q("distinguishing_traits=host")).is_err());
    }

    #[test]
    fn event_filters_read_every_parameter() {
        let f = event_filter(&q(
            "from_datetime=2015-03-04T22:25&to_datetime=2015-03-04T22:45&event_name=compute.instance.update&traits=a:b;c:d",
        ))
        .unwrap();
        assert_eq!(f.from, parse_iso("2015-03-04T22:25:00"));
        assert_eq!(f.to, parse_iso("2015-03-04T22:45:00"));
        assert_eq!(f.event_type.as_deref(), Some("compute.instance.update"));
        assert_eq!(f.traits, vec![pair("a", "b"), pair("c", "d")]);
        assert!(event_filter(&q("from_datetime=nope")).is_err());
        assert!(event_filter(&q("traits=state")).is_err());
        assert!(event_filter(&q("mark=g")).is_err());
    }

    #[test]
    fn details_and_detail_are_booleans() {
        let d = |s: &str| details(&q(s));
        assert!(!d("").unwrap());
        assert!(!d("details=").unwrap());
        for yes in ["true", "True", "1", "yes", "ON"] {
            assert!(d(&format!("details={yes}")).unwrap(), "{yes}");
            assert!(d(&format!("detail={yes}")).unwrap(), "{yes}");
        }
        for no in ["false", "False", "0", "no", "off"] {
            assert!(!d(&format!("details={no}")).unwrap(), "{no}");
            assert!(!d(&format!("detail={no}")).unwrap(), "{no}");
        }
        assert!(d("details=false&detail=true").unwrap());
        assert!(d("details=maybe").is_err());
    }

    #[test]
    fn stream_segments_are_ids_or_the_count() {
        assert_eq!(stream_ref("count").unwrap(), StreamRef::Count);
        assert_eq!(stream_ref("COUNT").unwrap(), StreamRef::Count);
        assert_eq!(stream_ref("12").unwrap(), StreamRef::Id(12));
        assert_eq!(stream_ref("01").unwrap(), StreamRef::Id(1));
        assert_eq!(stream_ref("-1").unwrap(), StreamRef::Id(-1));
        assert!(stream_ref("abc").is_err());
        assert!(stream_ref("1.0").is_err());
        assert!(stream_ref("0x1").is_err());
    }
}
