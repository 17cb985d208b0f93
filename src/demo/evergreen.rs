//! Evergreen's demo data: one project built on two platforms, and three commits in different
//! states: one fully run (a test failed), one passed, one still running.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sea_orm::DatabaseConnection;

use super::report::{Progress, Written};
use crate::error::{AppError, AppResult};
use crate::service::evergreen::{
    self as svc, NewArtifact, NewTestResult, NewVersion, ProjectInput, TaskDef, TaskEnd, VariantDef,
};

pub const DOMAIN: &str = "Evergreen";
const PROJECT: &str = "demo-app";

/// (revision, author, message, day of January 2026, how far it got)
const COMMITS: [(&str, &str, &str, u32, Run); 3] = [
    (
        "3585388b1591dfca47ac26a5b9a564ec8f138a5e",
        "Ada",
        "Parse headers lazily",
        5,
        Run::FailOne,
    ),
    (
        "7ffac7f351b80f84589349e44693a94d5cc5e14c",
        "Grace",
        "Fix the lazy header parser",
        6,
        Run::All,
    ),
    (
        "d477da53e119b207de45880434ccef1e47084652",
        "Linus",
        "Add the bulk loader",
        7,
        Run::CompileOnly,
    ),
];

#[derive(Clone, Copy)]
enum Run {
    /// Every task runs; the unit tests fail on one platform.
    FailOne,
    /// Every task runs and passes.
    All,
    /// Compile finished everywhere; the tests are still queued.
    CompileOnly,
}

fn project() -> ProjectInput {
    let task = |name: &str, deps: &[&str]| TaskDef {
        name: name.into(),
        depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
    };
    let variant = |name: &str, display: &str, tasks: &[&str]| VariantDef {
        name: name.into(),
        display_name: display.into(),
        tasks: tasks.iter().map(|t| (*t).to_owned()).collect(),
    };
    ProjectInput {
        identifier: PROJECT.into(),
        display_name: "Demo application".into(),
        owner_name: "example".into(),
        repo_name: "demo-app".into(),
        branch_name: "main".into(),
        repo_kind: "github".into(),
        batch_time: 0,
        remote: false,
        remote_path: String::new(),
        enabled: true,
        private: false,
        tasks: vec![
            task("compile", &[]),
            task("unit", &["compile"]),
            task("integration", &["compile"]),
        ],
        variants: vec![
            variant(
                "ubuntu2204",
                "Ubuntu 22.04",
                &["compile", "unit", "integration"],
            ),
            variant("windows", "Windows Server 2022", &["compile", "unit"]),
        ],
    }
}

fn at(day: u32, h: u32, m: u32) -> AppResult<NaiveDateTime> {
    NaiveDate::from_ymd_opt(2026, 1, day)
        .and_then(|d| d.and_hms_opt(h, m, 0))
        .ok_or_else(|| AppError::Internal(format!("demo time 2026-01-{day} {h}:{m}")))
}

/// Whether the store holds any Evergreen data.
pub async fn holds_data(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(svc::count_projects(db).await? > 0)
}

/// Writes the dataset through the ingestion and lifecycle functions, unless the project is there.
pub async fn fill(db: &DatabaseConnection, progress: Progress<'_>) -> AppResult<Written> {
    if svc::project_by_identifier(db, PROJECT).await?.is_some() {
        return Ok(Written {
            domain: DOMAIN,
            rows: Vec::new(),
        });
    }
    svc::upsert_project(db, project()).await?;
    let (mut tasks, mut results, mut files) = (0, 0, 0);
    let steps = COMMITS.len() as u64;
    for (n, (revision, author, message, day, run)) in COMMITS.iter().enumerate() {
        let created = at(*day, 8, 0)?;
        let version = svc::create_version(
            db,
            NewVersion {
                project: PROJECT.into(),
                revision: (*revision).into(),
                author: (*author).into(),
                author_email: format!("{}@example.com", author.to_lowercase()),
                message: (*message).into(),
                create_time: Some(created),
                activated: Some(true),
                requester: None,
            },
        )
        .await?;
        for t in svc::tasks_for_version(db, version.id).await? {
            tasks += 1;
            let name = t.display_name.as_str();
            if name != "compile" && matches!(run, Run::CompileOnly) {
                continue;
            }
            // compile at 08:05, the tests after it at 08:20.
            let start = created + Duration::minutes(if name == "compile" { 5 } else { 20 });
            let finish = start + Duration::minutes(if name == "integration" { 12 } else { 6 });
            let failed = matches!(run, Run::FailOne) && name == "unit" && t.variant == "windows";
            svc::dispatch_task(
                db,
                &t.task_id,
                "i-0a1b2c3d",
                &t.variant,
                Some(start - Duration::seconds(30)),
            )
            .await?;
            svc::start_task(db, &t.task_id, Some(start)).await?;
            if name == "compile" {
                let url = format!("https://artifacts.example.com/{}/demo-app.tgz", t.task_id);
                files += svc::add_artifacts(
                    db,
                    &t.task_id,
                    vec![NewArtifact {
                        name: "demo-app.tgz".into(),
                        url,
                    }],
                )
                .await?;
            } else {
                let rows = (0..5)
                    .map(|i| {
                        let begin = (start.and_utc().timestamp() + 30 * i) as f64;
                        let fails = failed && i == 3;
                        NewTestResult {
                            test_file: format!(
                                "tests/{name}/test_{}.py",
                                ["parser", "store", "api", "paging", "bulk"][i as usize]
                            ),
                            status: if fails { "fail" } else { "pass" }.into(),
                            url: String::new(),
                            log_id: String::new(),
                            line_num: 0,
                            exit_code: i32::from(fails),
                            start_s: begin,
                            end_s: begin + 1.5 + i as f64,
                        }
                    })
                    .collect();
                results += svc::add_test_results(db, &t.task_id, rows).await?;
            }
            let end = TaskEnd {
                status: if failed { "failed" } else { "success" }.into(),
                kind: if failed { "test" } else { "" }.into(),
                desc: String::new(),
                timed_out: false,
            };
            svc::finish_task(db, &t.task_id, end, Some(finish)).await?;
        }
        progress(DOMAIN, n as u64 + 1, steps);
    }
    Ok(Written {
        domain: DOMAIN,
        rows: vec![
            ("projects", 1),
            ("versions", COMMITS.len() as u64),
            ("tasks", tasks),
            ("test results", results),
            ("files", files),
        ],
    })
}
