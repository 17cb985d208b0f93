//! KernelCI's domain: jobs (one kernel of one tree on one branch), the builds labs report for
//! them, and each job's build-log summary. Builds come in as KernelCI's importer took them,
//! creating their job on first sight; lists take the legacy query language's `Criteria` and
//! `Sort` (filters, "any of", ranges, the creation-time window), which GraphQL shares.
//!
//! This file is the table of contents: each concern is a module of its own, and everything public
//! is re-exported here.

mod builds;
mod criteria;
mod jobs;
mod model;
mod summaries;
mod window;

pub use builds::{
    build_cursor, builds_for_jobs, count_builds_for_jobs, report_build, report_builds,
};
pub use jobs::{
    JobOrder, count_jobs, delete_job, distinct_jobs, job_by_oid, jobs_by_ids, list_jobs, page_jobs,
    set_job_status,
};
pub use model::{
    BUILD_STATUSES, Build, BuildsReport, Clause, Criteria, Field, JOB_FIELDS, JOB_STATUSES, Job,
    Kind, LogLine, LogSummary, MAX_BATCH, MAX_NAME, MAX_RESULTS, MAX_SUMMARY_LINES, NewBuild,
    NewLogSummary, SUMMARY_FIELDS, Sort, Value, field, is_oid, log_lines, new_oid, now,
    truncate_ms,
};
pub use summaries::{
    count_summaries, list_summaries, record_log_summary, summaries_for_jobs, summary_for_job,
};
pub use window::{
    BeforeYearOne, MAX_TIME_RANGE_MINUTES, MIN_TIME_RANGE_MINUTES, Window, created_window,
    day_bounds,
};
