//! The KernelCI inputs: the job filter (the legacy query language's power: "any of" lists,
//! `null` matches, the creation-time windows), orders, the distinct fields, the summary filter,
//! and what the mutations take.

use async_graphql::{Enum, InputObject, InputValueError, InputValueResult, Scalar, ScalarType};
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{AppError, AppResult};
use crate::graphql::connection::SortDirection;
use crate::graphql::time::naive;
use crate::service::kernelci::{
    Clause, Criteria, JOB_FIELDS, JobOrder, LogLine, NewBuild, NewLogSummary, SUMMARY_FIELDS,
    Value, created_window, field, is_oid,
};

/// A UTC calendar day, `YYYY-MM-DD` (KernelCI's `created_on` query value; `YYYYMMDD` is read
/// too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelciDate(pub NaiveDate);

#[Scalar(name = "KernelciDate")]
impl ScalarType for KernelciDate {
    fn parse(value: async_graphql::Value) -> InputValueResult<Self> {
        let async_graphql::Value::String(s) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
            .map(KernelciDate)
            .map_err(|_| InputValueError::custom(format!("'{s}' is not a YYYY-MM-DD date")))
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A job's status: `BUILD` while its builds come in, then one of the others.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "KernelciJobStatus")]
pub enum JobStatus {
    Build,
    Fail,
    Pass,
    Unknown,
}

impl JobStatus {
    /// The stored word (`BUILD`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Build => "BUILD",
            JobStatus::Fail => "FAIL",
            JobStatus::Pass => "PASS",
            JobStatus::Unknown => "UNKNOWN",
        }
    }

    pub fn from_stored(s: &str) -> AppResult<Self> {
        [
            JobStatus::Build,
            JobStatus::Fail,
            JobStatus::Pass,
            JobStatus::Unknown,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| AppError::Internal(format!("a job has the unknown status '{s}'")))
    }
}

/// A build's status.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Deserialize)]
#[graphql(name = "KernelciBuildStatus")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildStatus {
    Pass,
    Fail,
    Unknown,
}

impl BuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Pass => "PASS",
            BuildStatus::Fail => "FAIL",
            BuildStatus::Unknown => "UNKNOWN",
        }
    }

    pub fn from_stored(s: &str) -> AppResult<Self> {
        [BuildStatus::Pass, BuildStatus::Fail, BuildStatus::Unknown]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| AppError::Internal(format!("a build has the unknown status '{s}'")))
    }
}

/// Conditions on jobs, all of which must hold; a list means "any of" (an empty list matches
/// nothing), and `null` in a list of a nullable field matches a job without that field, as the
/// legacy `null` value did. The creation-time fields are KernelCI's `created_on`, `date_range`
/// and `time_range` (each overriding the one before), and `createdFrom`/`createdBefore` a window
/// of their own that must hold too.
#[derive(InputObject, Default, Clone)]
#[graphql(name = "KernelciJobFilter")]
pub struct JobFilterInput {
    /// Jobs with one of these 24-hex ids (either case; anything else matches nothing).
    pub ids: Option<Vec<String>>,
    /// Tree names.
    pub job: Option<Vec<String>>,
    /// Kernels (`git describe`).
    pub kernel: Option<Vec<String>>,
    pub git_branch: Option<Vec<String>>,
    pub git_commit: Option<Vec<Option<String>>>,
    pub git_describe: Option<Vec<Option<String>>>,
    pub kernel_version: Option<Vec<Option<String>>>,
    pub status: Option<Vec<JobStatus>>,
    pub private: Option<bool>,
    /// Jobs created on this UTC day (`00:00:00` up to, not including, `23:59:59`, as KernelCI).
    pub created_on: Option<KernelciDate>,
    /// Jobs created from this many days before `createdOn` (today without it) to the end of that
    /// day: KernelCI's `date_range`; 0 is that day alone. Overrides `createdOn`'s window.
    pub date_range_days: Option<i32>,
    /// Jobs created in the last this many minutes (clamped to 10..1440): KernelCI's
    /// `time_range`. Overrides `createdOn` and `dateRangeDays`.
    pub time_range_minutes: Option<i32>,
    /// Jobs created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Jobs created before this instant.
    pub created_before: Option<DateTime<Utc>>,
}

fn texts(values: Vec<String>) -> Vec<Value> {
    values.into_iter().map(Value::Text).collect()
}

fn nullable_texts(values: Vec<Option<String>>) -> Vec<Value> {
    values
        .into_iter()
        .map(|v| v.map_or(Value::Null, Value::Text))
        .collect()
}

fn any_of(clauses: &mut Vec<Clause>, wire: &str, values: Option<Vec<Value>>) -> AppResult<()> {
    if let Some(values) = values {
        let f = field(JOB_FIELDS, wire)
            .ok_or_else(|| AppError::Internal(format!("no job field '{wire}'")))?;
        clauses.push(Clause::AnyOf(f, values));
    }
    Ok(())
}

impl JobFilterInput {
    /// The service's criteria; `now` anchors `dateRangeDays` and `timeRangeMinutes`.
    pub(super) fn criteria(self, now: DateTime<Utc>) -> AppResult<Criteria> {
        let mut clauses = Vec::new();
        let ids = self.ids.map(|ids| {
            ids.into_iter()
                .filter(|i| is_oid(i))
                .map(|i| Value::Text(i.to_ascii_lowercase()))
                .collect()
        });
        any_of(&mut clauses, "_id", ids)?;
        any_of(&mut clauses, "job", self.job.map(texts))?;
        any_of(&mut clauses, "kernel", self.kernel.map(texts))?;
        any_of(&mut clauses, "git_branch", self.git_branch.map(texts))?;
        any_of(
            &mut clauses,
            "git_commit",
            self.git_commit.map(nullable_texts),
        )?;
        any_of(
            &mut clauses,
            "git_describe",
            self.git_describe.map(nullable_texts),
        )?;
        any_of(
            &mut clauses,
            "kernel_version",
            self.kernel_version.map(nullable_texts),
        )?;
        let status = self.status.map(|s| {
            s.into_iter()
                .map(|s| Value::Text(s.as_str().to_owned()))
                .collect()
        });
        any_of(&mut clauses, "status", status)?;
        any_of(
            &mut clauses,
            "private",
            self.private.map(|p| vec![Value::Bool(p)]),
        )?;
        if self.created_from.is_some() || self.created_before.is_some() {
            let f = field(JOB_FIELDS, "created_on")
                .ok_or_else(|| AppError::Internal("no job field 'created_on'".into()))?;
            clauses.push(Clause::Range {
                field: f,
                gte: naive(self.created_from).map(Value::Time),
                lt: naive(self.created_before).map(Value::Time),
            });
        }
        if self.date_range_days.is_some_and(|d| d < 0) {
            return Err(AppError::invalid_field(
                "dateRangeDays",
                "'dateRangeDays' must not be negative",
            ));
        }
        let (created_from, created_before) = created_window(
            self.created_on.map(|d| d.0),
            self.date_range_days.map(i64::from),
            self.time_range_minutes.map(i64::from),
            now,
        )
        .map_err(|e| AppError::invalid_field("dateRangeDays", e.to_string()))?;
        Ok(Criteria {
            clauses,
            created_from,
            created_before,
        })
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "KernelciJobOrderField")]
pub enum JobOrderField {
    /// Creation time.
    #[default]
    CreatedOn,
    Job,
    Kernel,
    Status,
    GitBranch,
}

/// Jobs are ordered by one field, then by insertion order in the same direction. Without
/// `orderBy`: newest first.
#[derive(InputObject, Clone, Copy)]
#[graphql(name = "KernelciJobOrder")]
pub struct JobOrderInput {
    #[graphql(default)]
    pub field: JobOrderField,
    /// Descending (newest first for `CREATED_ON`) unless told otherwise, whatever the field.
    #[graphql(default_with = "SortDirection::Desc")]
    pub direction: SortDirection,
}

impl Default for JobOrderInput {
    fn default() -> Self {
        JobOrderInput {
            field: JobOrderField::CreatedOn,
            direction: SortDirection::Desc,
        }
    }
}

impl From<JobOrderField> for JobOrder {
    fn from(f: JobOrderField) -> Self {
        match f {
            JobOrderField::CreatedOn => JobOrder::CreatedOn,
            JobOrderField::Job => JobOrder::Job,
            JobOrderField::Kernel => JobOrder::Kernel,
            JobOrderField::Status => JobOrder::Status,
            JobOrderField::GitBranch => JobOrder::GitBranch,
        }
    }
}

/// The job fields `kernelciJobDistinct` lists the values of (KernelCI's `distinct/<field>`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "KernelciDistinctField")]
pub enum DistinctField {
    Job,
    Kernel,
    GitBranch,
    GitCommit,
    GitDescribe,
    GitDescribeV,
    GitUrl,
    KernelVersion,
    Compiler,
    CompilerVersion,
    CompilerVersionExt,
}

impl DistinctField {
    /// The field's name in the legacy API (and `service::kernelci::JOB_FIELDS`).
    pub fn wire(self) -> &'static str {
        match self {
            DistinctField::Job => "job",
            DistinctField::Kernel => "kernel",
            DistinctField::GitBranch => "git_branch",
            DistinctField::GitCommit => "git_commit",
            DistinctField::GitDescribe => "git_describe",
            DistinctField::GitDescribeV => "git_describe_v",
            DistinctField::GitUrl => "git_url",
            DistinctField::KernelVersion => "kernel_version",
            DistinctField::Compiler => "compiler",
            DistinctField::CompilerVersion => "compiler_version",
            DistinctField::CompilerVersionExt => "compiler_version_ext",
        }
    }
}

/// Conditions on build-log summaries, all of which must hold; a list means "any of".
#[derive(InputObject, Default)]
#[graphql(name = "KernelciLogSummaryFilter")]
pub struct LogSummaryFilterInput {
    /// The jobs' 24-hex ids (either case; anything else matches nothing).
    pub job_id: Option<Vec<String>>,
    pub job: Option<Vec<String>>,
    pub kernel: Option<Vec<String>>,
    pub git_branch: Option<Vec<String>>,
}

impl LogSummaryFilterInput {
    pub(super) fn criteria(self) -> AppResult<Criteria> {
        let mut clauses = Vec::new();
        let job_ids = self.job_id.map(|ids| {
            ids.into_iter()
                .filter(|i| is_oid(i))
                .map(|i| Value::Text(i.to_ascii_lowercase()))
                .collect()
        });
        for (wire, values) in [
            ("job_id", job_ids),
            ("job", self.job.map(texts)),
            ("kernel", self.kernel.map(texts)),
            ("git_branch", self.git_branch.map(texts)),
        ] {
            if let Some(values) = values {
                let f = field(SUMMARY_FIELDS, wire)
                    .ok_or_else(|| AppError::Internal(format!("no summary field '{wire}'")))?;
                clauses.push(Clause::AnyOf(f, values));
            }
        }
        Ok(Criteria {
            clauses,
            ..Criteria::default()
        })
    }
}

// Also the row of `POST /bulk/v1/kernelci/builds` (`rest::bulk`): serde reads it with the same
// names and defaults, so both doors take the same fields.
/// A build as a lab reports it, with its job's fields (which a new job takes from its first
/// build); also a row of `POST /bulk/v1/kernelci/builds`. A configuration (architecture, full
/// defconfig, build environment) reported again for the same job replaces its status, time and
/// counts.
#[derive(InputObject, serde::Deserialize, Clone)]
#[graphql(name = "KernelciBuildInput")]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "a KernelciBuildInput object"
)]
pub struct BuildInput {
    /// The tree's name.
    pub job: String,
    /// The kernel's `git describe`.
    pub kernel: String,
    pub git_branch: String,
    pub git_commit: Option<String>,
    pub git_url: Option<String>,
    /// The kernel when absent.
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
    /// The toolchain (`gcc-10`); empty when absent.
    pub build_environment: Option<String>,
    pub status: BuildStatus,
    /// Seconds.
    pub build_time: Option<f64>,
    /// 0 when absent.
    pub errors: Option<i32>,
    /// 0 when absent.
    pub warnings: Option<i32>,
    /// When the build (and a job it creates) was made; now when absent (importing a lab's
    /// history sets it). Kept to the millisecond.
    pub created_on: Option<DateTime<Utc>>,
}

impl From<BuildInput> for NewBuild {
    fn from(b: BuildInput) -> Self {
        NewBuild {
            job: b.job,
            kernel: b.kernel,
            git_branch: b.git_branch,
            git_commit: b.git_commit,
            git_url: b.git_url,
            git_describe: b.git_describe,
            git_describe_v: b.git_describe_v,
            kernel_version: b.kernel_version,
            compiler: b.compiler,
            compiler_version: b.compiler_version,
            compiler_version_ext: b.compiler_version_ext,
            compiler_version_full: b.compiler_version_full,
            cross_compile: b.cross_compile,
            arch: b.arch,
            defconfig: b.defconfig,
            defconfig_full: b.defconfig_full,
            build_environment: b.build_environment,
            status: b.status.as_str().to_owned(),
            build_time: b.build_time,
            errors: b.errors,
            warnings: b.warnings,
            created_on: naive(b.created_on),
        }
    }
}

/// One line of a build-log summary and how often it occurs.
#[derive(InputObject)]
#[graphql(name = "KernelciLogLineInput")]
pub struct LogLineInput {
    /// Not negative.
    pub count: i64,
    pub line: String,
}

/// A job's build-log summary (KernelCI's `errors_summary`); recording one replaces the job's
/// previous summary.
#[derive(InputObject)]
#[graphql(name = "KernelciLogSummaryInput")]
pub struct LogSummaryInput {
    /// The job's 24-hex id.
    pub job_id: String,
    /// At most 10,000 lines in each list.
    #[graphql(default)]
    pub errors: Vec<LogLineInput>,
    #[graphql(default)]
    pub warnings: Vec<LogLineInput>,
    #[graphql(default)]
    pub mismatches: Vec<LogLineInput>,
}

fn lines(lines: Vec<LogLineInput>) -> Vec<LogLine> {
    lines
        .into_iter()
        .map(|l| LogLine {
            count: l.count,
            line: l.line,
        })
        .collect()
}

impl From<LogSummaryInput> for NewLogSummary {
    fn from(s: LogSummaryInput) -> Self {
        NewLogSummary {
            job_id: s.job_id,
            errors: lines(s.errors),
            warnings: lines(s.warnings),
            mismatches: lines(s.mismatches),
        }
    }
}
