//! `testgraph demo`: every domain gets its dataset through the services, the first queries a
//! newcomer runs return it, and a store that holds data is refused unless forced (and forced,
//! nothing is written twice).

use serde_json::json;
use testgraph::demo;
use testgraph::error::AppError;
use testgraph::service::kernelci::{self as kci, Clause, Criteria, JOB_FIELDS, Sort, Value};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::http::{Reply, get, reply};

async fn fill(app: &TestApp, force: bool) -> Result<Vec<demo::Written>, AppError> {
    demo::run(&app.state.db, force, &mut |_, _, _| {}).await
}

/// KernelCI's jobs, builds and log summaries, counted through the service.
async fn kernelci_counts(app: &TestApp) -> (u64, u64, u64) {
    let db = &app.state.db;
    let all = Criteria::default();
    let jobs = kci::list_jobs(db, &all, &Sort::default(), 0, 0)
        .await
        .expect("jobs");
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let builds = kci::count_builds_for_jobs(db, &ids)
        .await
        .expect("builds")
        .values()
        .sum();
    let jobs_n = kci::count_jobs(db, &all).await.expect("count jobs");
    assert_eq!(jobs_n, jobs.len() as u64);
    let summaries = kci::count_summaries(db, &all).await.expect("summaries");
    (jobs_n, builds, summaries)
}

/// A KernelCI `GET` with a read token, sent as KernelCI's clients did (`Authorization: <token>`).
async fn kernelci_get(app: &TestApp, token: &str, path: &str) -> Reply {
    reply(
        app.client
            .get(path)
            .header("authorization", token)
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn demo_data_answers_the_first_queries() {
    let app = TestApp::new().await;
    let written = fill(&app, false).await.expect("demo");
    let rows: Vec<(&str, Vec<(&str, u64)>)> =
        written.iter().map(|w| (w.domain, w.rows.clone())).collect();
    assert_eq!(
        rows,
        vec![
            (
                "pytest-monitor",
                vec![("contexts", 2), ("sessions", 6), ("metrics", 60)]
            ),
            (
                "Evergreen",
                vec![
                    ("projects", 1),
                    ("versions", 3),
                    ("tasks", 15),
                    ("test results", 30),
                    ("files", 6)
                ]
            ),
            (
                "KernelCI",
                vec![("jobs", 10), ("builds", 89), ("log summaries", 6)]
            ),
            (
                "StackTach",
                vec![
                    ("events", 81),
                    ("streams", 63),
                    ("streams fired or expired", 63)
                ]
            ),
            (
                "XPRESSO",
                vec![
                    ("testbeds", 3),
                    ("topologies", 1),
                    ("profiles", 3),
                    ("bundles", 1),
                    ("requests", 6),
                    ("items", 7)
                ]
            ),
        ]
    );
    // XPRESSO's requests, newest first: every state a CI engineer meets, verdicts from results.
    use testgraph::service::xpresso::{self as xpr, RequestFilter, RequestOrder};
    let requests = xpr::list_requests(
        &app.state.db,
        "default",
        &RequestFilter::default(),
        RequestOrder::Number,
        testgraph::service::Direction::Desc,
        &testgraph::service::Slice::Offset {
            offset: 0,
            limit: 10,
        },
    )
    .await
    .expect("requests");
    let seen: Vec<(&str, Option<&str>)> = requests
        .iter()
        .map(|r| (r.state.as_str(), r.verdict.as_deref()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("QUEUED", None),
            ("RUNNING", None),
            ("STOPPED", None),
            ("FAILED", Some("FAILED")),
            ("FINISHED", Some("FAILED")),
            ("FINISHED", Some("PASSED")),
        ]
    );
    // GraphiQL's XPRESSO tab, with a token of the demo's group.
    let token = app
        .member_token("default", "me", &[testgraph::service::tokens::Scope::Read])
        .await;
    let d = app
        .graphql_as(
            "{ xpressoRequests(first: 5) { totalCount nodes { requestId state verdict
                 consolidatedSummary { totalTasks pass fail successRate }
                 items(first: 5) { nodes { itemId state selectedTestbed { name }
                   run { state summary { pass fail } scripts(first: 5) { nodes { name
                     sections(first: 10) { nodes { sectionName result } } } } } } } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(d.get("errors").is_none(), "{d}");
    assert_eq!(d["data"]["xpressoRequests"]["totalCount"], 6);
    // The feature branch's request: 5 tasks, 2 failed.
    let failing = &d["data"]["xpressoRequests"]["nodes"][4];
    assert_eq!(failing["verdict"], "FAILED");
    assert_eq!(failing["consolidatedSummary"]["successRate"], 60.0);
    assert_eq!(
        failing["items"]["nodes"][0]["run"]["scripts"]["nodes"][0]["sections"]["nodes"][3]["result"],
        "failed"
    );
    // Every stream of the week was fired or expired by its end, with the example pipelines.
    use testgraph::service::stacktach::{self as stt, StreamFilter, StreamState};
    let completed = StreamFilter {
        state: Some(StreamState::Completed),
        ..StreamFilter::default()
    };
    let done = stt::count_streams(&app.state.db, &completed)
        .await
        .expect("count");
    assert_eq!(done, 63);
    assert_eq!(
        testgraph::worker::pass_all(&app.state)
            .await
            .expect("worker"),
        0
    );
    assert_eq!(kernelci_counts(&app).await, (10, 89, 6));
    let db = &app.state.db;
    let status = |s: &str| Criteria {
        clauses: vec![Clause::AnyOf(
            kci::field(JOB_FIELDS, "status").expect("status field"),
            vec![Value::Text(s.into())],
        )],
        ..Default::default()
    };
    for (s, n) in [("PASS", 4), ("FAIL", 4), ("BUILD", 2)] {
        assert_eq!(kci::count_jobs(db, &status(s)).await.expect(s), n, "{s}");
    }

    let d = app
        .graphql(
            "{ monitorSessions(filter: {tags: [{name: \"pipeline_branch\", value: \"main\"}]}) { totalCount }
               monitorMetrics(first: 1, orderBy: {field: TOTAL_TIME, direction: DESC}) { nodes { item } }
               evergreenVersions(first: 3) { totalCount nodes { revision status } } }",
            json!({}),
        )
        .await;
    assert!(d.get("errors").is_none(), "{d}");
    assert_eq!(d["data"]["monitorSessions"]["totalCount"], 4);
    // The module item's time covers its tests'.
    assert_eq!(d["data"]["monitorMetrics"]["nodes"][0]["item"], "tests");
    // Newest first: still running, passed, failed.
    assert_eq!(
        d["data"]["evergreenVersions"]["nodes"],
        json!([
            {"revision": "d477da53e119b207de45880434ccef1e47084652", "status": "started"},
            {"revision": "7ffac7f351b80f84589349e44693a94d5cc5e14c", "status": "success"},
            {"revision": "3585388b1591dfca47ac26a5b9a564ec8f138a5e", "status": "failed"}
        ])
    );

    let sessions = get(&app, "/api/v1/sessions/").await.json();
    assert_eq!(sessions["sessions"].as_array().map(Vec::len), Some(6));
    let versions = get(&app, "/rest/v1/projects/demo-app/versions")
        .await
        .json();
    assert_eq!(versions["versions"].as_array().map(Vec::len), Some(3));

    // The README's KernelCI call (natural order: oldest first), a date window counted back from
    // a day of the demo week, and the log summaries of one tree.
    let token = app.token(&[Scope::Read]).await;
    let jobs = kernelci_get(&app, &token, "/job?job=mainline&field=kernel&field=status")
        .await
        .json();
    assert_eq!(jobs["count"], 3, "{jobs}");
    let kernels: Vec<(&str, &str)> = jobs["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|j| {
            (
                j["kernel"].as_str().unwrap_or_default(),
                j["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kernels,
        vec![
            ("v6.19-rc4", "FAIL"),
            ("v6.19-rc4-12-ge7811ec15834", "PASS"),
            ("v6.19-rc4-58-gcfbf687b216b", "BUILD")
        ]
    );
    let window = kernelci_get(
        &app,
        &token,
        "/job?created_on=2026-01-07&date_range=1&field=kernel",
    )
    .await
    .json();
    // January 6 and 7 (up to the day's last second but one).
    assert_eq!(window["count"], 5, "{window}");
    let logs = kernelci_get(&app, &token, "/job/logs?job=next")
        .await
        .json();
    assert_eq!(logs["count"], 2, "{logs}");
}

#[tokio::test]
async fn a_store_with_data_is_refused_unless_forced_and_nothing_is_written_twice() {
    let app = TestApp::new().await;
    let r = app
        .graphql_as(
            "mutation { createMonitorContext(input: {h: \"mine\", cpuCount: 1, cpuFrequency: 1, cpuType: \"t\", ramTotal: 1, machineNode: \"n\", machineType: \"t\", machineArch: \"a\", systemInfo: \"s\", pythonInfo: \"p\"}) { h } }",
            json!({}),
            Some(&app.token(&[Scope::Write]).await),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    match fill(&app, false).await {
        Err(AppError::Conflict(msg)) => assert!(msg.contains("pytest-monitor"), "{msg}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A lab's build of its own is KernelCI data too.
    let own = kci::NewBuild {
        job: "lab-tree".into(),
        kernel: "v6.1-1-g0123456789ab".into(),
        git_branch: "main".into(),
        arch: "x86_64".into(),
        defconfig: "x86_64_defconfig".into(),
        status: "PASS".into(),
        ..Default::default()
    };
    kci::report_builds(&app.state.db, &[own])
        .await
        .expect("a build");
    match fill(&app, false).await {
        Err(AppError::Conflict(msg)) => {
            assert!(msg.contains("pytest-monitor and KernelCI"), "{msg}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(kernelci_counts(&app).await, (1, 1, 0));
    let total = "{ monitorContexts { totalCount } evergreenProjects { totalCount } }";
    let d = app.graphql(total, json!({})).await;
    assert_eq!(d["data"]["monitorContexts"]["totalCount"], 1, "{d}");
    assert_eq!(d["data"]["evergreenProjects"]["totalCount"], 0, "{d}");

    let forced = fill(&app, true).await.expect("forced");
    assert!(forced.iter().all(|w| !w.rows.is_empty()), "{forced:?}");
    let again = fill(&app, true).await.expect("forced again");
    assert!(again.iter().all(|w| w.rows.is_empty()), "{again:?}");
    let d = app.graphql(total, json!({})).await;
    assert_eq!(d["data"]["monitorContexts"]["totalCount"], 3, "{d}");
    assert_eq!(d["data"]["evergreenProjects"]["totalCount"], 1, "{d}");
    assert_eq!(kernelci_counts(&app).await, (11, 90, 6));
}

#[tokio::test]
async fn a_store_with_only_kernelci_data_is_refused() {
    let app = TestApp::new().await;
    let own = kci::NewBuild {
        job: "lab-tree".into(),
        kernel: "v6.1-1-g0123456789ab".into(),
        git_branch: "main".into(),
        arch: "arm64".into(),
        defconfig: "defconfig".into(),
        status: "FAIL".into(),
        errors: Some(1),
        ..Default::default()
    };
    kci::report_builds(&app.state.db, &[own])
        .await
        .expect("a build");
    match fill(&app, false).await {
        Err(AppError::Conflict(msg)) => {
            assert!(msg.contains("holds KernelCI data"), "{msg}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(kernelci_counts(&app).await, (1, 1, 0));
}
