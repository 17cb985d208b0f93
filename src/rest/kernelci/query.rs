//! KernelCI's query string (fact sheet §4.2, `handlers/common/query.py`): exact-match filter
//! keys with repeated values meaning "any of", the literal `null`, `created_on`, `date_range`
//! and `time_range`, `gte`/`lt` ranges, repeated `sort` with one `sort_order` for every key,
//! `skip` and `limit`, and the `field`/`nfield` projection; into the service's `Criteria` and
//! `Sort`.
//!
//! Unknown parameters are ignored, as the backend ignored them. Where the backend answered 500
//! (a non-numeric `limit`, a date overflow, an exact filter and a range on one field) this
//! answers a 400 that says why.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::error::{AppError, AppResult};
use crate::service::Direction;
use crate::service::kernelci::{
    Clause, Criteria, Field, Kind, Sort, Value, created_window, field, is_oid,
};

/// A list request, parsed.
#[derive(Debug, Default, PartialEq)]
pub struct ListQuery {
    pub criteria: Criteria,
    pub sort: Sort,
    pub skip: u64,
    /// Zero: all (up to the server's cap).
    pub limit: u64,
    pub projection: Projection,
}

/// Which keys of each document are sent (MongoDB's projection from `field` and `nfield`).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Projection {
    #[default]
    All,
    /// Only these keys (and `_id` when `with_id`).
    Only { keys: Vec<String>, with_id: bool },
    /// Every key but these.
    Without(Vec<String>),
}

impl Projection {
    /// Whether `key` is sent.
    pub fn keeps(&self, key: &str) -> bool {
        match self {
            Projection::All => true,
            Projection::Only { keys, with_id } => {
                (key == "_id" && *with_id) || keys.iter().any(|k| k == key)
            }
            Projection::Without(keys) => !keys.iter().any(|k| k == key),
        }
    }
}

/// The decoded `(key, value)` pairs of a query string, in order.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn values<'a>(pairs: &'a [(String, String)], key: &str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The last value of `key`, as the backend's `get_query_arguments(key)[-1]` took it.
fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    values(pairs, key).last()
}

fn count(pairs: &[(String, String)], key: &str) -> AppResult<u64> {
    match last(pairs, key) {
        None => Ok(0),
        Some(v) => v.trim().parse::<u64>().map_err(|_| {
            AppError::bad_request(format!(
                "Invalid value for '{key}': '{v}' is not a non-negative integer"
            ))
        }),
    }
}

/// `YYYY-MM-DD` or `YYYYMMDD`.
fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
}

/// A time for a range on `created_on`: a date (its midnight) or an ISO 8601 date-time.
fn instant(s: &str) -> Option<NaiveDateTime> {
    if let Some(d) = date(s) {
        return d.and_hms_opt(0, 0, 0);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
}

/// One filter value of `f`; `None` when it cannot match (an invalid id is dropped, as the
/// backend dropped it).
fn value(f: &Field, raw: &str) -> Option<Value> {
    if raw == "null" {
        return Some(Value::Null);
    }
    match f.kind {
        Kind::Oid => is_oid(raw).then(|| Value::Text(raw.to_ascii_lowercase())),
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Time => instant(raw).map(Value::Time),
        Kind::Int => raw.parse().ok().map(Value::Int),
        Kind::Text => Some(Value::Text(raw.to_owned())),
    }
}

/// The creation-time window of `created_on`, `date_range` and `time_range`, in that order,
/// each overriding the one before (fact sheet §4.2): the text read here, the arithmetic in
/// `service::kernelci::created_window`, which GraphQL's job filter shares.
fn window(
    pairs: &[(String, String)],
    now: DateTime<Utc>,
) -> AppResult<(Option<NaiveDateTime>, Option<NaiveDateTime>)> {
    // The last value that parses wins; the others are ignored.
    let day = values(pairs, "created_on").filter_map(date).last();
    let days = last(pairs, "date_range").map(|raw| {
        let days = raw.trim().parse::<i64>().map(i64::abs).unwrap_or(5);
        // Python's timedelta refuses more than 999,999,999 days; the backend then used 5.
        if days > 999_999_999 { 5 } else { days }
    });
    let minutes =
        last(pairs, "time_range").map(|raw| raw.trim().parse::<i64>().map(i64::abs).unwrap_or(60));
    created_window(day, days, minutes, now)
        .map_err(|e| AppError::bad_request(format!("Invalid value for 'date_range': {e}")))
}

/// The criteria of a request over the collection with `fields`.
pub fn criteria(
    pairs: &[(String, String)],
    fields: &'static [Field],
    now: DateTime<Utc>,
) -> AppResult<Criteria> {
    let mut clauses = Vec::new();
    let mut exact: Vec<&'static str> = Vec::new();
    for f in fields.iter().filter(|f| f.filter && f.kind != Kind::Time) {
        let given: Vec<&str> = values(pairs, f.wire).filter(|v| !v.is_empty()).collect();
        if given.is_empty() {
            continue;
        }
        let vals: Vec<Value> = given.iter().filter_map(|v| value(f, v)).collect();
        // Ids that are not ids are dropped from the filter; other values that cannot be what
        // the field holds (`private=maybe`) match nothing.
        if vals.is_empty() && f.kind == Kind::Oid {
            continue;
        }
        exact.push(f.wire);
        clauses.push(Clause::AnyOf(f, vals));
    }
    // `gte=field,value` and `lt=field,value`, merged per field.
    let mut ranges: Vec<(&'static Field, Option<Value>, Option<Value>)> = Vec::new();
    for bound in ["gte", "lt"] {
        for raw in values(pairs, bound) {
            let Some((name, v)) = raw.split_once(',') else {
                continue;
            };
            let Some(f) = field(fields, name.trim()).filter(|f| f.filter) else {
                continue;
            };
            if exact.contains(&f.wire) {
                return Err(AppError::bad_request(format!(
                    "'{}' has both an exact filter and a '{bound}' range: use one or the other",
                    f.wire
                )));
            }
            let Some(v) = value(f, v.trim()) else {
                return Err(AppError::bad_request(format!(
                    "Invalid value for '{bound}' on '{}': '{}'",
                    f.wire,
                    v.trim()
                )));
            };
            let at = match ranges.iter().position(|r| r.0.wire == f.wire) {
                Some(i) => i,
                None => {
                    ranges.push((f, None, None));
                    ranges.len() - 1
                }
            };
            if bound == "gte" {
                ranges[at].1 = Some(v);
            } else {
                ranges[at].2 = Some(v);
            }
        }
    }
    clauses.extend(
        ranges
            .into_iter()
            .map(|(field, gte, lt)| Clause::Range { field, gte, lt }),
    );
    let has_created = fields.iter().any(|f| f.wire == "created_on" && f.filter);
    let (created_from, created_before) = if has_created {
        window(pairs, now)?
    } else {
        (None, None)
    };
    Ok(Criteria {
        clauses,
        created_from,
        created_before,
    })
}

/// `sort` (repeated, each a field of the collection) and `sort_order` (its last value: 1 is
/// ascending, anything else descending, as the backend applied it to every key).
pub fn sort(pairs: &[(String, String)], fields: &'static [Field]) -> AppResult<Sort> {
    let mut keys = Vec::new();
    for name in values(pairs, "sort").filter(|v| !v.is_empty()) {
        let f = field(fields, name)
            .ok_or_else(|| AppError::bad_request(format!("Invalid sort field '{name}'")))?;
        keys.push(f);
    }
    let direction = match last(pairs, "sort_order") {
        None => Direction::Desc,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(1) => Direction::Asc,
            Ok(_) => Direction::Desc,
            Err(_) => {
                return Err(AppError::bad_request(format!(
                    "Invalid value for 'sort_order': '{raw}' is not 1 or -1"
                )));
            }
        },
    };
    Ok(Sort {
        fields: keys,
        direction,
    })
}

/// `field` and `nfield`: only `field` includes those keys and `_id`; `nfield` excludes; both
/// at once only where the exclusion is `_id` (MongoDB refused any other mix).
pub fn projection(pairs: &[(String, String)]) -> AppResult<Projection> {
    let keep: Vec<String> = values(pairs, "field")
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let drop: Vec<String> = values(pairs, "nfield")
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    match (keep.is_empty(), drop.is_empty()) {
        (true, true) => Ok(Projection::All),
        (true, false) => Ok(Projection::Without(drop)),
        (false, true) => Ok(Projection::Only {
            keys: keep,
            with_id: true,
        }),
        (false, false) => {
            if drop.iter().any(|k| k != "_id") {
                return Err(AppError::bad_request(
                    "Invalid projection: 'field' and 'nfield' together can only exclude '_id'",
                ));
            }
            Ok(Projection::Only {
                keys: keep,
                with_id: false,
            })
        }
    }
}

/// A list request over the collection with `fields`.
pub fn list(
    pairs: &[(String, String)],
    fields: &'static [Field],
    now: DateTime<Utc>,
) -> AppResult<ListQuery> {
    Ok(ListQuery {
        skip: count(pairs, "skip")?,
        limit: count(pairs, "limit")?,
        criteria: criteria(pairs, fields, now)?,
        sort: sort(pairs, fields)?,
        projection: projection(pairs)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::kernelci::{JOB_FIELDS, SUMMARY_FIELDS};

    fn now() -> DateTime<Utc> {
        "2026-12-06T10:30:00Z".parse().unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn parse(q: &str) -> AppResult<ListQuery> {
        list(&pairs(q), JOB_FIELDS, now())
    }

    #[test]
    fn date_range_zero_is_today_and_one_adds_yesterday() {
        let c = parse("date_range=0").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-06 00:00:00")));
        assert_eq!(c.created_before, Some(at("2026-12-06 23:59:59")));
        let c = parse("date_range=1").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-05 00:00:00")));
    }

    #[test]
    fn date_range_counts_back_from_created_on_and_falls_back_to_five() {
        let c = parse("created_on=20150301&date_range=2").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2015-02-27 00:00:00")));
        assert_eq!(c.created_before, Some(at("2015-03-01 23:59:59")));
        let c = parse("date_range=x").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-01 00:00:00")));
        let c = parse("date_range=-3").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-03 00:00:00")));
        let c = parse("date_range=1000000000").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-01 00:00:00")));
        assert!(parse("date_range=800000").is_err());
    }

    #[test]
    fn created_on_takes_the_last_date_that_parses() {
        let c = parse("created_on=2015-03-01&created_on=nope")
            .unwrap()
            .criteria;
        assert_eq!(c.created_from, Some(at("2015-03-01 00:00:00")));
        assert_eq!(c.created_before, Some(at("2015-03-01 23:59:59")));
    }

    #[test]
    fn time_range_is_clamped_and_overrides_the_dates() {
        let c = parse("date_range=3&time_range=5").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-06 10:20:00")));
        assert_eq!(c.created_before, Some(at("2026-12-06 10:30:00")));
        let c = parse("time_range=100000").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-05 10:30:00")));
        let c = parse("time_range=abc").unwrap().criteria;
        assert_eq!(c.created_from, Some(at("2026-12-06 09:30:00")));
    }

    #[test]
    fn repeated_values_are_any_of_and_invalid_ids_are_dropped() {
        let c = parse("job=next&job=mainline&_id=xyz&kernel=&status=null")
            .unwrap()
            .criteria;
        assert_eq!(c.clauses.len(), 2);
        match &c.clauses[0] {
            Clause::AnyOf(f, v) => {
                assert_eq!(f.wire, "job");
                assert_eq!(
                    v,
                    &[Value::Text("next".into()), Value::Text("mainline".into())]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.clauses[1],
            Clause::AnyOf(field(JOB_FIELDS, "status").unwrap(), vec![Value::Null])
        );
    }

    #[test]
    fn ranges_merge_and_refuse_an_exact_filter_on_the_same_field() {
        let c = parse("gte=kernel,v4&lt=kernel,v5&gte=nope,1")
            .unwrap()
            .criteria;
        assert_eq!(
            c.clauses,
            vec![Clause::Range {
                field: field(JOB_FIELDS, "kernel").unwrap(),
                gte: Some(Value::Text("v4".into())),
                lt: Some(Value::Text("v5".into())),
            }]
        );
        assert!(parse("kernel=v4&gte=kernel,v4").is_err());
    }

    #[test]
    fn sort_order_applies_to_every_key() {
        let q = parse("sort=job&sort=created_on&sort_order=1").unwrap();
        assert_eq!(q.sort.direction, Direction::Asc);
        assert_eq!(q.sort.fields.len(), 2);
        assert_eq!(
            parse("sort=job&sort_order=7").unwrap().sort.direction,
            Direction::Desc
        );
        assert_eq!(parse("sort=job").unwrap().sort.direction, Direction::Desc);
        assert!(parse("sort_order=up").is_err());
        assert!(parse("sort=nope").is_err());
    }

    #[test]
    fn skip_and_limit_take_the_last_value_and_refuse_non_numbers() {
        let q = parse("limit=5&limit=7&skip=2").unwrap();
        assert_eq!((q.limit, q.skip), (7, 2));
        assert!(parse("limit=x").is_err());
        assert!(parse("skip=-1").is_err());
        assert!(parse("limit=").is_err());
    }

    #[test]
    fn field_keeps_the_id_unless_nfield_drops_it() {
        let p = parse("field=status&field=kernel").unwrap().projection;
        assert!(p.keeps("_id") && p.keeps("status") && !p.keeps("job"));
        let p = parse("field=status&nfield=_id").unwrap().projection;
        assert!(!p.keeps("_id") && p.keeps("status"));
        let p = parse("nfield=status").unwrap().projection;
        assert!(p.keeps("_id") && !p.keeps("status"));
        assert!(parse("field=status&nfield=job").is_err());
    }

    #[test]
    fn log_lists_filter_by_job_id() {
        let q = list(
            &pairs("job_id=0123456789abcdef01234567&job_id=0123456789ABCDEF01234568&private=true"),
            SUMMARY_FIELDS,
            now(),
        )
        .unwrap();
        assert_eq!(q.criteria.clauses.len(), 1);
    }
}
