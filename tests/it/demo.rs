//! `testgraph demo`: every domain gets its dataset through the services, the first queries a
//! newcomer runs return it, and a store that holds data is refused unless forced (and forced,
//! nothing is written twice).

use serde_json::json;
use testgraph::demo;
use testgraph::error::AppError;

use crate::common::TestApp;
use crate::http::get;

async fn fill(app: &TestApp, force: bool) -> Result<Vec<demo::Written>, AppError> {
    demo::run(&app.state.db, force, &mut |_, _, _| {}).await
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
        ]
    );

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
}

#[tokio::test]
async fn a_store_with_data_is_refused_unless_forced_and_nothing_is_written_twice() {
    let app = TestApp::new().await;
    let r = app
        .graphql_as(
            "mutation { createMonitorContext(input: {h: \"mine\", cpuCount: 1, cpuFrequency: 1, cpuType: \"t\", ramTotal: 1, machineNode: \"n\", machineType: \"t\", machineArch: \"a\", systemInfo: \"s\", pythonInfo: \"p\"}) { h } }",
            json!({}),
            Some(&app.token(&[testgraph::service::tokens::Scope::Write]).await),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    match fill(&app, false).await {
        Err(AppError::Conflict(msg)) => assert!(msg.contains("pytest-monitor"), "{msg}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
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
}
