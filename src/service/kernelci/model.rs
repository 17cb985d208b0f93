//! KernelCI's vocabulary: the row types, the status words, the limits, the fields of each
//! collection (what the legacy query language may filter, sort and take distinct values of),
//! the criteria a list is filtered by, what callers send, and ObjectId-like ids.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{NaiveDateTime, Utc};
use entity::{kci_build as bld, kci_job as job, kci_log_summary as sum};

use crate::error::{AppError, AppResult};

pub type Job = job::Model;
pub type Build = bld::Model;
pub type LogSummary = sum::Model;

/// Most rows one list answers. The legacy `limit=0` ("all") means up to this many.
pub const MAX_RESULTS: u64 = 10_000;
/// Most builds in one report.
pub const MAX_BATCH: usize = 10_000;
/// Most lines in each list of a log summary.
pub const MAX_SUMMARY_LINES: usize = 10_000;
/// Longest name (tree, kernel, branch, architecture, defconfig...) accepted.
pub const MAX_NAME: usize = 400;
/// The schema version the documents report.
pub const SCHEMA_VERSION: &str = "1.1";

/// A job's statuses: a job is `BUILD` while its builds come in; `POST /job` then sets one of
/// the others.
pub const JOB_STATUSES: [&str; 4] = ["BUILD", "FAIL", "PASS", "UNKNOWN"];
/// A build's statuses.
pub const BUILD_STATUSES: [&str; 3] = ["FAIL", "PASS", "UNKNOWN"];

/// What a column holds, which decides how a filter value is read and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A 24-hex id.
    Oid,
    Text,
    Bool,
    Time,
    Int,
}

/// One field of a collection as the legacy API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The key in the documents and the query string (`_id`, `git_branch`).
    pub wire: &'static str,
    /// The column that holds it.
    pub column: &'static str,
    pub kind: Kind,
    /// An exact-match filter key of `GET` (KernelCI's `VALID_KEYS["GET"]`).
    pub filter: bool,
    /// A field `distinct/<field>` answers.
    pub distinct: bool,
}

/// The job columns that may hold null (the others are set from a job's first build).
const NULLABLE: &[&str] = &[
    "git_commit",
    "git_describe",
    "git_describe_v",
    "git_url",
    "kernel_version",
    "compiler",
    "compiler_version",
    "compiler_version_ext",
    "compiler_version_full",
    "cross_compile",
];

impl Field {
    /// Whether the column may hold null, which decides how a sort places nulls.
    pub fn nullable(&self) -> bool {
        NULLABLE.contains(&self.column)
    }
}

const fn f(
    wire: &'static str,
    column: &'static str,
    kind: Kind,
    filter: bool,
    distinct: bool,
) -> Field {
    Field {
        wire,
        column,
        kind,
        filter,
        distinct,
    }
}

/// The job collection's fields, in the order a job document lists them.
pub const JOB_FIELDS: &[Field] = &[
    f("_id", "oid", Kind::Oid, true, false),
    f("job", "job", Kind::Text, true, true),
    f("kernel", "kernel", Kind::Text, true, true),
    f("git_branch", "git_branch", Kind::Text, true, true),
    f("git_commit", "git_commit", Kind::Text, true, true),
    f("git_describe", "git_describe", Kind::Text, true, true),
    f("git_describe_v", "git_describe_v", Kind::Text, false, true),
    f("git_url", "git_url", Kind::Text, false, true),
    f("kernel_version", "kernel_version", Kind::Text, true, true),
    f("compiler", "compiler", Kind::Text, false, true),
    f(
        "compiler_version",
        "compiler_version",
        Kind::Text,
        false,
        true,
    ),
    f(
        "compiler_version_ext",
        "compiler_version_ext",
        Kind::Text,
        false,
        true,
    ),
    f(
        "compiler_version_full",
        "compiler_version_full",
        Kind::Text,
        false,
        false,
    ),
    f("cross_compile", "cross_compile", Kind::Text, false, false),
    f("private", "private", Kind::Bool, true, false),
    f("status", "status", Kind::Text, true, false),
    f("created_on", "created_on", Kind::Time, true, false),
    f("version", "version", Kind::Text, false, false),
];

/// The build-log summary collection's fields (`errors_summary`).
pub const SUMMARY_FIELDS: &[Field] = &[
    f("_id", "oid", Kind::Oid, false, false),
    f("job_id", "job_oid", Kind::Oid, true, false),
    f("job", "job", Kind::Text, true, false),
    f("kernel", "kernel", Kind::Text, true, false),
    f("git_branch", "git_branch", Kind::Text, true, false),
    f("created_on", "created_on", Kind::Time, true, false),
    f("errors", "errors", Kind::Text, false, false),
    f("warnings", "warnings", Kind::Text, false, false),
    f("mismatches", "mismatches", Kind::Text, false, false),
    f("version", "version", Kind::Text, false, false),
];

/// The field of `fields` the legacy API calls `wire`.
pub fn field(fields: &'static [Field], wire: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.wire == wire)
}

/// A value a filter compares with.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Matches a null (KernelCI's literal `null`).
    Null,
    Text(String),
    Bool(bool),
    Time(NaiveDateTime),
    Int(i64),
}

/// One condition on one field.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// Equal to one of the values.
    AnyOf(&'static Field, Vec<Value>),
    /// `gte <= field < lt`, either bound optional.
    Range {
        field: &'static Field,
        gte: Option<Value>,
        lt: Option<Value>,
    },
}

/// What a list is filtered by: every clause, and a creation-time window (KernelCI's
/// `created_on`, `date_range` and `time_range`, already turned into instants).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Criteria {
    pub clauses: Vec<Clause>,
    /// `created_on >= created_from`.
    pub created_from: Option<NaiveDateTime>,
    /// `created_on < created_before`.
    pub created_before: Option<NaiveDateTime>,
}

/// The order of a list: its fields (each in `direction`), then insertion order. No field is
/// insertion order, MongoDB's natural order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sort {
    pub fields: Vec<&'static Field>,
    pub direction: crate::service::Direction,
}

/// A build as a lab reports it, with the job it belongs to.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct NewBuild {
    pub job: String,
    pub kernel: String,
    pub git_branch: String,
    pub git_commit: Option<String>,
    pub git_url: Option<String>,
    pub git_describe: Option<String>,
    pub git_describe_v: Option<String>,
    pub kernel_version: Option<String>,
    pub compiler: Option<String>,
    pub compiler_version: Option<String>,
    pub compiler_version_ext: Option<String>,
    pub compiler_version_full: Option<String>,
    pub cross_compile: Option<String>,
    pub arch: String,
    pub defconfig: String,
    /// The defconfig when absent.
    pub defconfig_full: Option<String>,
    /// Empty when absent.
    pub build_environment: Option<String>,
    pub status: String,
    pub build_time: Option<f64>,
    pub errors: Option<i32>,
    pub warnings: Option<i32>,
    /// When the build (and a job it creates) was made; now when absent. Importing a lab's
    /// history sets it.
    pub created_on: Option<NaiveDateTime>,
}

/// What reporting builds did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildsReport {
    /// Builds stored (new or updated).
    pub builds: u64,
    /// Jobs created for them.
    pub jobs_created: u64,
}

/// One line of a log summary and how often it occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub count: i64,
    pub line: String,
}

/// A job's build-log summary as it is recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewLogSummary {
    /// The job's 24-hex id.
    pub job_id: String,
    pub errors: Vec<LogLine>,
    pub warnings: Vec<LogLine>,
    pub mismatches: Vec<LogLine>,
}

/// The lines of a stored list (`[[count, line], ...]`), for the edges.
pub fn log_lines(stored: &str) -> Vec<LogLine> {
    let pairs: Vec<(i64, String)> = serde_json::from_str(stored).unwrap_or_default();
    pairs
        .into_iter()
        .map(|(count, line)| LogLine { count, line })
        .collect()
}

pub(super) fn stored_lines(field: &str, lines: &[LogLine]) -> AppResult<String> {
    if lines.len() > MAX_SUMMARY_LINES {
        return Err(AppError::invalid_field(
            field,
            format!("at most {MAX_SUMMARY_LINES} lines"),
        ));
    }
    if lines.iter().any(|l| l.count < 0) {
        return Err(AppError::invalid_field(
            field,
            "counts must not be negative",
        ));
    }
    let pairs: Vec<(i64, &str)> = lines.iter().map(|l| (l.count, l.line.as_str())).collect();
    serde_json::to_string(&pairs).map_err(|e| AppError::Internal(e.to_string()))
}

/// Whether `s` is a 24-hex id (either case, as the backend's route accepted).
pub fn is_oid(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new ObjectId-like id, as MongoDB made them: 4 bytes of seconds since the epoch, 5 random
/// bytes chosen once per process, and a 3-byte counter that starts at a random value. Ids made
/// later sort later, and two processes sharing a database do not collide.
pub fn new_oid() -> String {
    static PROCESS: OnceLock<[u8; 9]> = OnceLock::new();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let seed = PROCESS.get_or_init(|| {
        let mut b = [0u8; 9];
        // Without randomness the ids would still be unique per process; the unique index
        // refuses a collision with another.
        let _ = getrandom::fill(&mut b);
        COUNTER.store(u32::from_be_bytes([0, b[5], b[6], b[7]]), Ordering::Relaxed);
        b
    });
    let secs = Utc::now().timestamp().clamp(0, u32::MAX as i64) as u32;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [0u8; 12];
    id[..4].copy_from_slice(&secs.to_be_bytes());
    id[4..9].copy_from_slice(&seed[..5]);
    id[9..].copy_from_slice(&n.to_be_bytes()[1..]);
    hex::encode(id)
}

/// Now, at MongoDB's millisecond precision.
pub fn now() -> NaiveDateTime {
    truncate_ms(Utc::now().naive_utc())
}

pub fn truncate_ms(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

/// Checks a required name: not empty, not longer than `MAX_NAME`.
pub(super) fn check_name(field: &str, value: &str) -> AppResult<()> {
    if value.trim().is_empty() {
        return Err(AppError::invalid_field(field, "must not be empty"));
    }
    check_len(field, value)
}

pub(super) fn check_len(field: &str, value: &str) -> AppResult<()> {
    if value.len() > MAX_NAME {
        return Err(AppError::invalid_field(
            field,
            format!("at most {MAX_NAME} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_24_hex_and_increase() {
        let a = new_oid();
        let b = new_oid();
        assert!(is_oid(&a) && is_oid(&b), "{a} {b}");
        assert_ne!(a, b);
        // The same process: the same five random bytes in the middle.
        assert_eq!(a[8..18], b[8..18]);
    }

    #[test]
    fn ids_are_recognised_in_either_case() {
        assert!(is_oid("01234567890123456789ABCD"));
        assert!(!is_oid("0123456789012345678901XZ"));
        assert!(!is_oid("0123"));
    }

    #[test]
    fn log_lines_round_trip() {
        let lines = vec![LogLine {
            count: 2,
            line: "error: x".into(),
        }];
        let stored = stored_lines("errors", &lines).unwrap();
        assert_eq!(stored, r#"[[2,"error: x"]]"#);
        assert_eq!(log_lines(&stored), lines);
    }
}
