//! Concurrent writers: what a CI fleet does to the server. Versions of one project created at
//! once get distinct consecutive orders; sibling tasks finishing at once still finish their build;
//! parallel pytest workers posting metrics are all stored. On SQLite and PostgreSQL alike.

use std::sync::Arc;

use chrono::NaiveDate;
use testgraph::service::evergreen::{
    self as evg, NewVersion, ProjectInput, TaskDef, TaskEnd, VariantDef,
};
use testgraph::service::monitor::{self as mon, NewMetric, NewSession};

use crate::common::TestApp;

fn project(tasks: &[(&str, &[&str])]) -> ProjectInput {
    ProjectInput {
        identifier: "conc".into(),
        display_name: "Concurrency".into(),
        owner_name: "o".into(),
        repo_name: "r".into(),
        branch_name: "main".into(),
        repo_kind: "github".into(),
        batch_time: 0,
        remote: false,
        remote_path: String::new(),
        enabled: true,
        private: false,
        tasks: tasks
            .iter()
            .map(|(n, deps)| TaskDef {
                name: (*n).into(),
                depends_on: deps.iter().map(|d| (*d).into()).collect(),
            })
            .collect(),
        variants: vec![VariantDef {
            name: "linux".into(),
            display_name: "Linux".into(),
            tasks: tasks.iter().map(|(n, _)| (*n).into()).collect(),
        }],
    }
}

fn version(rev: String) -> NewVersion {
    NewVersion {
        project: "conc".into(),
        revision: rev,
        author: "a".into(),
        author_email: "a@example.com".into(),
        message: "m".into(),
        create_time: NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)),
        activated: None,
        requester: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_versions_get_distinct_consecutive_orders() {
    let app = Arc::new(TestApp::new().await);
    evg::upsert_project(&app.state.db, project(&[("compile", &[])]))
        .await
        .expect("project");
    let mut handles = Vec::new();
    for i in 0..8 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            evg::create_version(&app.state.db, version(format!("rev{i}"))).await
        }));
    }
    let mut orders = Vec::new();
    for h in handles {
        orders.push(h.await.expect("join").expect("create_version").order_num);
    }
    orders.sort_unstable();
    assert_eq!(orders, (1..=8).collect::<Vec<i64>>());
    let builds = evg::builds_for_versions(&app.state.db, &{
        let vs = evg::recent_versions(&app.state.db, 1, 10)
            .await
            .expect("versions");
        vs.iter().map(|v| v.id).collect::<Vec<_>>()
    })
    .await
    .expect("builds");
    let mut numbers: Vec<String> = builds
        .values()
        .flatten()
        .map(|b| b.build_number.clone())
        .collect();
    numbers.sort_by_key(|n| n.parse::<i64>().unwrap_or(0));
    assert_eq!(numbers, (1..=8).map(|n| n.to_string()).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sibling_tasks_finishing_together_finish_their_build() {
    let app = Arc::new(TestApp::new().await);
    let names: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
    let defs: Vec<(&str, &[&str])> = names.iter().map(|n| (n.as_str(), &[][..])).collect();
    evg::upsert_project(&app.state.db, project(&defs))
        .await
        .expect("project");
    let v = evg::create_version(&app.state.db, version("abc".into()))
        .await
        .expect("version");
    let tasks = evg::tasks_for_version(&app.state.db, v.id)
        .await
        .expect("tasks");
    for t in &tasks {
        evg::dispatch_task(&app.state.db, &t.task_id, "h", "d", None)
            .await
            .expect("dispatch");
        evg::start_task(&app.state.db, &t.task_id, None)
            .await
            .expect("start");
    }
    let mut handles = Vec::new();
    for t in tasks {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let end = TaskEnd {
                status: "success".into(),
                kind: String::new(),
                desc: String::new(),
                timed_out: false,
            };
            evg::finish_task(&app.state.db, &t.task_id, end, None).await
        }));
    }
    for h in handles {
        h.await.expect("join").expect("finish");
    }
    let v = evg::version_by_id(&app.state.db, &v.version_id)
        .await
        .expect("read")
        .expect("version");
    assert_eq!(v.status, "success");
    assert!(v.finish_time.is_some());
    let builds = evg::builds_for_versions(&app.state.db, &[v.id])
        .await
        .expect("builds");
    let b = &builds[&v.id][0];
    assert_eq!(b.status, "success");
    assert!(b.finish_time.is_some());
}

#[tokio::test]
async fn a_failed_dependency_finishes_the_build_as_failed() {
    let app = TestApp::new().await;
    evg::upsert_project(
        &app.state.db,
        project(&[("compile", &[]), ("test", &["compile"]), ("lint", &[])]),
    )
    .await
    .expect("project");
    let v = evg::create_version(&app.state.db, version("abc".into()))
        .await
        .expect("version");
    let tasks = evg::tasks_for_version(&app.state.db, v.id)
        .await
        .expect("tasks");
    let by_name = |n: &str| {
        tasks
            .iter()
            .find(|t| t.display_name == n)
            .map(|t| t.task_id.clone())
            .unwrap_or_default()
    };
    let end = |status: &str| TaskEnd {
        status: status.into(),
        kind: "test".into(),
        desc: String::new(),
        timed_out: false,
    };
    for name in ["compile", "lint"] {
        evg::dispatch_task(&app.state.db, &by_name(name), "h", "d", None)
            .await
            .expect("dispatch");
        evg::start_task(&app.state.db, &by_name(name), None)
            .await
            .expect("start");
    }
    evg::finish_task(&app.state.db, &by_name("compile"), end("failed"), None)
        .await
        .expect("finish");
    let b = &evg::builds_for_versions(&app.state.db, &[v.id])
        .await
        .expect("builds")[&v.id][0];
    assert_eq!(b.status, "failed", "a failed task fails its build at once");
    assert!(b.finish_time.is_none(), "lint still runs");
    evg::finish_task(&app.state.db, &by_name("lint"), end("success"), None)
        .await
        .expect("finish");
    let b = &evg::builds_for_versions(&app.state.db, &[v.id])
        .await
        .expect("builds")[&v.id][0];
    assert!(
        b.finish_time.is_some(),
        "'test' can never run once compile failed, so the build is done"
    );
    let v = evg::version_by_id(&app.state.db, &v.version_id)
        .await
        .expect("read")
        .expect("version");
    assert_eq!(v.status, "failed");
}

/// Context `ctx` and session `s`, which the metrics of these tests belong to.
async fn context_and_session(app: &TestApp) {
    mon::create_context(&app.state.db, crate::graphql_monitor::context("ctx"))
        .await
        .expect("context");
    let session = NewSession {
        h: "s".into(),
        run_date: "2024-01-01T00:00:00".into(),
        scm_ref: None,
        tags: vec![],
    };
    mon::create_session(&app.state.db, session)
        .await
        .expect("session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_pytest_workers_post_metrics_without_errors() {
    let app = Arc::new(TestApp::new().await);
    context_and_session(&app).await;
    let mut handles = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..10 {
                let m = NewMetric {
                    session_h: "s".into(),
                    context_h: "ctx".into(),
                    item_start_time: "2024-01-01T00:00:00".into(),
                    item_path: "p".into(),
                    item: format!("w{w}_{i}"),
                    item_variant: String::new(),
                    item_fs_loc: "f.py".into(),
                    kind: "function".into(),
                    component: None,
                    total_time: 1.0,
                    user_time: 1.0,
                    kernel_time: 0.0,
                    cpu_usage: 0.5,
                    mem_usage: 1.0,
                };
                mon::add_metrics(&app.state.db, vec![m]).await?;
            }
            Ok::<(), testgraph::error::AppError>(())
        }));
    }
    for h in handles {
        h.await.expect("join").expect("every POST succeeds");
    }
    assert_eq!(
        mon::count_metrics(&app.state.db, &Default::default())
            .await
            .expect("count"),
        80
    );
}

/// Concurrent batch writers on SQLite take turns in the server, so each finds the write-ahead log
/// checkpointed and starts it over. Queued in SQLite's busy handler instead, a writer was always
/// waiting when the previous one committed, the log was never reset, and a sustained import grew
/// it by gigabytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sqlite_batches_keep_the_write_ahead_log_bounded() {
    let app = Arc::new(TestApp::new().await);
    if app.db.is_postgres() {
        return;
    }
    let wal = format!(
        "{}-wal",
        app.db
            .url
            .trim_start_matches("sqlite://")
            .trim_end_matches("?mode=rwc")
    );
    context_and_session(&app).await;
    const WRITERS: usize = 4;
    const BATCHES: usize = 24;
    const ROWS: usize = 2_000;
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let app = app.clone();
        let wal = wal.clone();
        handles.push(tokio::spawn(async move {
            let mut largest = 0;
            for b in 0..BATCHES {
                let batch = (0..ROWS)
                    .map(|i| {
                        crate::graphql_monitor::metric("s", "ctx", &format!("w{w}_b{b}_{i}"), 1.0)
                    })
                    .collect();
                mon::add_metrics(&app.state.db, batch).await?;
                largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
            }
            Ok::<u64, testgraph::error::AppError>(largest)
        }));
    }
    let mut largest = 0;
    for h in handles {
        largest = largest.max(h.await.expect("join").expect("every batch is stored"));
    }
    let stored = mon::count_metrics(&app.state.db, &Default::default())
        .await
        .expect("count");
    assert_eq!(stored, (WRITERS * BATCHES * ROWS) as u64);
    // The batches write about 40 MB of log in all; SQLite checkpoints at 4 MB, so a log that is
    // started over stays within a few batches of that.
    // The batches write about 70 MB of log in all (2,000 metrics are about 0.7 MB). SQLite
    // checkpoints once the log passes 4 MB, so a log that is started over after each checkpoint
    // peaks near 4.8 MB; left to grow it reached 9.5-15 MB in this test.
    assert!(
        largest < 7 << 20,
        "the write-ahead log grew to {largest} bytes"
    );
}
