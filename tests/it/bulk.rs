//! The bulk-ingestion routes under `/bulk/v1`: they store exactly what the GraphQL mutations
//! store, all or nothing, under the mutations' authorisation, with errors in the GraphQL shape.

use serde_json::{Value, json};
use testgraph::service::monitor::{self as mon, NewSession};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::graphql_evergreen::{create_version, mongo_project, nodes, ok, open_app, task_id};
use crate::graphql_monitor::context;
use crate::http;

const TEST_RESULTS: &str = "/bulk/v1/evergreen/test_results";
const METRICS: &str = "/bulk/v1/monitor/metrics";
const KERNELCI_BUILDS: &str = "/bulk/v1/kernelci/builds";

/// POSTs `body` (raw bytes) with an optional bearer token; returns the status and the JSON answer.
async fn post_raw(app: &TestApp, path: &str, body: &str, token: Option<&str>) -> (u16, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    let r = http::post_raw(app, path, body, &headers).await;
    (r.status.as_u16(), r.json())
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    post_raw(app, path, &body.to_string(), None).await
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {answer}"))
}

/// Two tasks of one version, for storing one batch through each door.
async fn two_tasks(app: &TestApp) -> (String, String) {
    mongo_project(app, 0).await;
    let v = create_version(app, "mongodb-mongo-master", "rev0", "2024-05-01T00:00:00Z").await;
    (
        task_id(&v, "linux-64", "compile"),
        task_id(&v, "linux-64", "lint"),
    )
}

/// Every stored field of a task's test results, in list order.
async fn stored_results(app: &TestApp, task: &str) -> Vec<Value> {
    let d = ok(
        app,
        "query($id: String!) { evergreenTask(id: $id) { testResults(first: 100) { totalCount
            edges { node { testFile status url logId lineNum exitCode execution start end
              startTime endTime timeTakenNs } } } } }",
        json!({"id": task}),
    )
    .await;
    nodes(&d["evergreenTask"]["testResults"])
        .into_iter()
        .cloned()
        .collect()
}

fn results_batch() -> Vec<Value> {
    (0..7)
        .map(|i| {
            if i % 2 == 0 {
                // Optional fields left out: their defaults apply, as in the mutation.
                json!({"testFile": format!("jstests/t{i}.js"), "status": "skip",
                       "start": 1_700_000_000 + i, "end": 1_700_000_000.5 + f64::from(i)})
            } else {
                json!({"testFile": format!("jstests/t{i}.js"), "status": "fail",
                       "url": format!("http://logs/{i}"), "logId": format!("log{i}"), "lineNum": i,
                       "exitCode": 1, "start": 1_700_000_000.125 + f64::from(i),
                       "end": 1_700_000_002.75 + f64::from(i)})
            }
        })
        .collect()
}

#[tokio::test]
async fn bulk_test_results_store_what_the_mutation_stores() {
    let app = open_app().await;
    let (bulk_task, gql_task) = two_tasks(&app).await;
    let batch = results_batch();

    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": bulk_task, "results": batch}),
    )
    .await;
    assert_eq!((status, &answer), (201, &json!({"inserted": 7})));
    let d = ok(
        &app,
        "mutation($id: String!, $r: [EvergreenTestResultInput!]!) { addEvergreenTestResults(taskId: $id, results: $r) { inserted } }",
        json!({"id": gql_task, "r": batch}),
    )
    .await;
    assert_eq!(d["addEvergreenTestResults"]["inserted"], json!(7));

    let via_bulk = stored_results(&app, &bulk_task).await;
    assert_eq!(via_bulk.len(), 7);
    assert_eq!(via_bulk, stored_results(&app, &gql_task).await);
    // In the order sent, with the defaults of the fields left out.
    assert_eq!(via_bulk[0]["testFile"], json!("jstests/t0.js"));
    assert_eq!(via_bulk[0]["url"], json!(""));
    assert_eq!(via_bulk[0]["lineNum"], json!(0));
    assert_eq!(via_bulk[6]["testFile"], json!("jstests/t6.js"));
    assert_eq!(via_bulk[5]["end"], json!(1_700_000_007.75));

    // An empty batch stores nothing and says so.
    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": bulk_task, "results": []}),
    )
    .await;
    assert_eq!((status, answer), (201, json!({"inserted": 0})));
}

#[tokio::test]
async fn bulk_test_results_refuse_bad_batches_whole() {
    let app = open_app().await;
    let (task, _) = two_tasks(&app).await;
    let mut batch = results_batch();
    batch[5]["status"] = json!("bogus");

    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": task, "results": batch}),
    )
    .await;
    assert_eq!((status, code(&answer)), (400, "BAD_USER_INPUT"), "{answer}");
    assert!(answer.to_string().contains("bogus"), "{answer}");
    assert!(
        stored_results(&app, &task).await.is_empty(),
        "nothing of a refused batch is stored"
    );

    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": "no-such-task", "results": results_batch()}),
    )
    .await;
    assert_eq!((status, code(&answer)), (404, "NOT_FOUND"), "{answer}");

    // What serde refuses: each answer names the problem and where it is.
    for (body, expect) in [
        ("{\"taskId\": \"t\", \"results\": [", "EOF"),
        ("[]", "expected a JSON object"),
        (
            "{\"taskId\": \"t\", \"results\": [\"jstests/a.js\"]}",
            "expected an EvergreenTestResultInput object",
        ),
        ("{\"results\": []}", "missing field `taskId`"),
        (
            "{\"taskId\": \"t\", \"results\": [{\"testFile\": \"a\", \"status\": \"pass\", \"start\": 1}]}",
            "missing field `end`",
        ),
        (
            "{\"taskId\": \"t\", \"results\": [{\"testFile\": \"a\", \"status\": \"pass\", \"start\": 1, \"end\": 2, \"colour\": \"red\"}]}",
            "unknown field `colour`",
        ),
        (
            "{\"taskId\": \"t\", \"results\": [{\"testFile\": \"a\", \"status\": \"pass\", \"start\": \"soon\", \"end\": 2}]}",
            "invalid type: string \"soon\", expected f64",
        ),
        (
            "{\"taskId\": \"t\", \"results\": [{\"testFile\": \"a\", \"status\": \"pass\", \"lineNum\": 3000000000, \"start\": 1, \"end\": 2}]}",
            "3000000000",
        ),
        (
            "{\"taskId\": \"t\", \"results\": [{\"testFile\": null, \"status\": \"pass\", \"start\": 1, \"end\": 2}]}",
            "invalid type: null",
        ),
    ] {
        let (status, answer) = post_raw(&app, TEST_RESULTS, body, None).await;
        assert_eq!(
            (status, code(&answer)),
            (400, "BAD_USER_INPUT"),
            "{body}: {answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(expect), "{body}: {message}");
    }
    assert!(stored_results(&app, &task).await.is_empty());
}

/// A task holds at most `MAX_RESULTS_PER_TASK` test results and `MAX_FILES_PER_TASK` files (the
/// Evergreen task route lists them all): a batch that would pass the limit is refused whole, with
/// the count and the limit named, and the task's other writes and other tasks go on.
#[tokio::test]
async fn a_task_holds_a_bounded_number_of_results_and_files() {
    use testgraph::service::evergreen::{
        self as evg, MAX_FILES_PER_TASK, MAX_RESULTS_PER_TASK, NewArtifact, NewTestResult,
    };
    let app = open_app().await;
    let (full, other) = two_tasks(&app).await;
    let result = |i: u64| NewTestResult {
        test_file: format!("jstests/t{i}.js"),
        status: "pass".into(),
        url: String::new(),
        log_id: String::new(),
        line_num: 0,
        exit_code: 0,
        start_s: 1.0,
        end_s: 2.0,
    };
    let half = MAX_RESULTS_PER_TASK / 2;
    for part in 0..2 {
        let batch = (part * half..(part + 1) * half).map(result).collect();
        evg::add_test_results(&app.state.db, &full, batch)
            .await
            .expect("up to the limit");
    }

    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": full, "results": [results_batch()[0]]}),
    )
    .await;
    assert_eq!((status, code(&answer)), (400, "BAD_USER_INPUT"), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or("");
    assert_eq!(
        message,
        format!(
            "task '{full}' holds {MAX_RESULTS_PER_TASK} test results; 1 more would pass the limit \
             of {MAX_RESULTS_PER_TASK} a task"
        )
    );
    let d = ok(
        &app,
        "query($id: String!) { evergreenTask(id: $id) { testResults(first: 1) { totalCount } } }",
        json!({"id": full}),
    )
    .await;
    assert_eq!(
        d["evergreenTask"]["testResults"]["totalCount"],
        json!(MAX_RESULTS_PER_TASK)
    );
    // Another task is not affected.
    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": other, "results": results_batch()}),
    )
    .await;
    assert_eq!((status, answer), (201, json!({"inserted": 7})));

    let file = |i: u64| NewArtifact {
        name: format!("f{i}"),
        url: format!("http://files/{i}"),
    };
    let files = (0..MAX_FILES_PER_TASK).map(file).collect();
    evg::add_artifacts(&app.state.db, &full, files)
        .await
        .expect("up to the limit");
    let err = evg::add_artifacts(&app.state.db, &full, vec![file(0), file(1)])
        .await
        .expect_err("past the limit");
    assert!(
        err.to_string().contains(&format!(
            "holds {MAX_FILES_PER_TASK} files; 2 more would pass the limit"
        )),
        "{err}"
    );
}

#[tokio::test]
async fn bulk_routes_answer_in_the_graphql_error_shape() {
    let app = TestApp::with_config(|c| {
        c.auth.open_mutations = true;
        c.limits.max_body_bytes = 2048;
    })
    .await;
    let resp = app.client.get(TEST_RESULTS).send().await.0;
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let answer: Value = resp.into_body().into_json().await.expect("json");
    assert_eq!(code(&answer), "BAD_USER_INPUT", "{answer}");

    let (status, answer) = post(&app, "/bulk/v1/evergreen/artifacts", &json!({})).await;
    assert_eq!((status, code(&answer)), (404, "NOT_FOUND"), "{answer}");

    let big = json!({"taskId": "t", "results": vec![json!({"testFile": "x".repeat(100), "status": "pass", "start": 1, "end": 2}); 50]});
    let (status, answer) = post(&app, TEST_RESULTS, &big).await;
    assert_eq!(
        (status, code(&answer)),
        (413, "PAYLOAD_TOO_LARGE"),
        "{answer}"
    );

    // The trailing-slash form is the same route, as everywhere else.
    let (status, answer) = post(&app, "/bulk/v1/monitor/metrics/", &json!({"input": []})).await;
    assert_eq!((status, answer), (201, json!({"inserted": 0})));
}

#[tokio::test]
async fn bulk_routes_need_what_the_mutations_need() {
    // Mutations closed (the default): anonymous callers and read tokens are refused.
    let app = TestApp::new().await;
    let body = json!({"input": []}).to_string();
    let (status, answer) = post_raw(&app, METRICS, &body, None).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "UNAUTHENTICATED"),
        "{answer}"
    );
    let read = app.token(&[Scope::Read]).await;
    let (status, answer) = post_raw(&app, METRICS, &body, Some(&read)).await;
    assert_eq!((status, code(&answer)), (403, "FORBIDDEN"), "{answer}");
    let (status, answer) = post_raw(&app, METRICS, &body, Some("not-a-token")).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "UNAUTHENTICATED"),
        "{answer}"
    );
    let write = app.token(&[Scope::Read, Scope::Write]).await;
    let (status, answer) = post_raw(&app, METRICS, &body, Some(&write)).await;
    assert_eq!((status, answer), (201, json!({"inserted": 0})));
    // The refusal comes before the body is looked at.
    let (status, answer) = post_raw(&app, TEST_RESULTS, "not json", None).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "UNAUTHENTICATED"),
        "{answer}"
    );
}

/// Every stored field of the metrics, in id order.
async fn stored_metrics(app: &TestApp, session: &str) -> Vec<Value> {
    let d = ok(
        app,
        "query($s: String!) { monitorMetrics(first: 100, filter: {sessionH: $s}) { edges { node {
            sessionH contextH itemStartTime itemPath item itemVariant itemFsLoc kind component
            totalTime userTime kernelTime cpuUsage memUsage } } } }",
        json!({"s": session}),
    )
    .await;
    nodes(&d["monitorMetrics"]).into_iter().cloned().collect()
}

#[tokio::test]
async fn bulk_metrics_store_what_the_mutation_stores() {
    let app = open_app().await;
    mon::create_context(&app.state.db, context("ctx"))
        .await
        .expect("context");
    for h in ["bulk", "gql"] {
        mon::create_session(
            &app.state.db,
            NewSession {
                h: h.into(),
                run_date: "2024-05-01T10:00:00".into(),
                scm_ref: None,
                tags: vec![],
            },
        )
        .await
        .expect("session");
    }
    let batch = |session: &str| -> Vec<Value> {
        (0..5)
            .map(|i| {
                let mut m = json!({"sessionH": session, "contextH": "ctx",
                    "itemStartTime": format!("2024-05-01T10:00:0{i}.250000"), "itemPath": "tests.test_mod",
                    "item": format!("test_{i}"), "itemFsLoc": "tests/test_mod.py", "kind": "function",
                    "totalTime": 1.5 + f64::from(i), "userTime": 0.75, "kernelTime": 0.125,
                    "cpuUsage": 0.5, "memUsage": -2.0});
                if i % 2 == 1 {
                    m["itemVariant"] = json!(format!("test_{i}[x]"));
                    m["component"] = json!("core");
                }
                m
            })
            .collect()
    };

    let (status, answer) = post(&app, METRICS, &json!({"input": batch("bulk")})).await;
    assert_eq!((status, answer), (201, json!({"inserted": 5})));
    let d = ok(
        &app,
        "mutation($m: [MonitorMetricInput!]!) { addMonitorMetrics(input: $m) { inserted } }",
        json!({"m": batch("gql")}),
    )
    .await;
    assert_eq!(d["addMonitorMetrics"]["inserted"], json!(5));

    let via_bulk = stored_metrics(&app, "bulk").await;
    let mut via_gql = stored_metrics(&app, "gql").await;
    for m in &mut via_gql {
        m["sessionH"] = json!("bulk");
    }
    assert_eq!(via_bulk.len(), 5);
    assert_eq!(via_bulk, via_gql);
    assert_eq!(via_bulk[0]["component"], Value::Null);
    assert_eq!(via_bulk[0]["itemVariant"], json!(""));

    // One unknown hash refuses the whole batch.
    let mut bad = batch("bulk");
    bad[3]["contextH"] = json!("no-such-context");
    let (status, answer) = post(&app, METRICS, &json!({"input": bad})).await;
    assert_eq!((status, code(&answer)), (400, "BAD_USER_INPUT"), "{answer}");
    assert!(answer.to_string().contains("no-such-context"), "{answer}");
    assert_eq!(stored_metrics(&app, "bulk").await.len(), 5);
}

#[tokio::test]
async fn openapi_documents_the_bulk_routes() {
    let app = TestApp::new().await;
    let doc: Value = app
        .client
        .get("/openapi.json")
        .send()
        .await
        .0
        .into_body()
        .into_json()
        .await
        .expect("json");
    for path in [TEST_RESULTS, METRICS, KERNELCI_BUILDS] {
        let op = &doc["paths"][path]["post"];
        assert!(op["requestBody"].is_object(), "{path}: {op}");
        assert!(op["responses"]["201"].is_object(), "{path}: {op}");
    }
    assert_eq!(
        doc["components"]["schemas"]["BulkTestResults"]["properties"]["results"]["maxItems"],
        json!(testgraph::service::evergreen::MAX_BATCH)
    );
    assert_eq!(
        doc["components"]["schemas"]["BulkKernelciBuilds"]["properties"]["input"]["maxItems"],
        json!(testgraph::service::kernelci::MAX_BATCH)
    );
}

#[tokio::test]
async fn a_nul_character_in_a_batch_is_the_clients_error() {
    let app = open_app().await;
    let (task, _) = two_tasks(&app).await;
    let mut batch = results_batch();
    batch[4]["testFile"] = json!("jstests/nul\u{0}.js");
    let (status, answer) = post(
        &app,
        TEST_RESULTS,
        &json!({"taskId": task, "results": batch}),
    )
    .await;
    if app.db.is_postgres() {
        assert_eq!((status, code(&answer)), (400, "BAD_USER_INPUT"), "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("NUL character"),
            "{answer}"
        );
        assert!(stored_results(&app, &task).await.is_empty());
    } else {
        assert_eq!((status, answer), (201, json!({"inserted": 7})));
        let stored = stored_results(&app, &task).await;
        assert_eq!(stored[4]["testFile"], json!("jstests/nul\u{0}.js"));
    }
}

/// Every stored field of the builds of the jobs of `tree`, job by job, in report order.
async fn stored_kernelci_builds(app: &TestApp, tree: &str) -> Vec<Value> {
    let d = ok(
        app,
        "query($j: String!) { kernelciJobs(first: 10, filter: {job: [$j]}, orderBy: {field: KERNEL, direction: ASC}) {
            edges { node { kernel gitBranch gitCommit gitDescribe compiler status createdOn
              builds(first: 10) { edges { node { kernel gitBranch arch defconfig defconfigFull
                buildEnvironment status buildTime errors warnings createdOn } } } } } } }",
        json!({"j": tree}),
    )
    .await;
    nodes(&d["kernelciJobs"])
        .into_iter()
        .map(|j| {
            let mut j = j.clone();
            j["builds"] = json!(nodes(&j["builds"]));
            j
        })
        .collect()
}

fn kernelci_batch(tree: &str) -> Vec<Value> {
    const ARCHES: [&str; 3] = ["x86_64", "arm64", "riscv"];
    const STATUSES: [&str; 2] = ["PASS", "FAIL"];
    (0..5)
        .map(|i| {
            let mut b = json!({"job": tree, "kernel": format!("v6.{}", i % 2), "gitBranch": "master",
                "arch": ARCHES[i % 3], "defconfig": "defconfig",
                "status": STATUSES[i % 2], "createdOn": "2026-12-01T10:00:00Z"});
            if i % 2 == 0 {
                b["gitCommit"] = json!("abc");
                b["compiler"] = json!("gcc");
                b["buildTime"] = json!(12.5);
                b["errors"] = json!(i);
                b["defconfigFull"] = json!("defconfig+kselftest");
                b["buildEnvironment"] = json!("gcc-12");
            }
            b
        })
        .collect()
}

#[tokio::test]
async fn bulk_kernelci_builds_store_what_the_mutation_stores() {
    let app = open_app().await;
    let (status, answer) = post(
        &app,
        KERNELCI_BUILDS,
        &json!({"input": kernelci_batch("bulk")}),
    )
    .await;
    assert_eq!(
        (status, answer),
        (201, json!({"builds": 5, "jobsCreated": 2}))
    );
    let d = ok(
        &app,
        "mutation($b: [KernelciBuildInput!]!) { reportKernelciBuilds(input: $b) { builds jobsCreated } }",
        json!({"b": kernelci_batch("gql")}),
    )
    .await;
    assert_eq!(
        d["reportKernelciBuilds"],
        json!({"builds": 5, "jobsCreated": 2})
    );
    let via_bulk = stored_kernelci_builds(&app, "bulk").await;
    assert_eq!(via_bulk.len(), 2);
    assert_eq!(via_bulk, stored_kernelci_builds(&app, "gql").await);
    // The job takes its first build's fields; optional fields left out get their defaults.
    assert_eq!(via_bulk[0]["gitCommit"], json!("abc"));
    assert_eq!(via_bulk[0]["gitDescribe"], json!("v6.0"));
    assert_eq!(via_bulk[0]["status"], json!("BUILD"));
    assert_eq!(via_bulk[1]["compiler"], Value::Null);
    let odd = &via_bulk[1]["builds"][0];
    assert_eq!(
        (
            &odd["defconfigFull"],
            &odd["buildEnvironment"],
            &odd["errors"]
        ),
        (&json!("defconfig"), &json!(""), &json!(0))
    );

    // One invalid build refuses the whole batch.
    let mut bad = kernelci_batch("bulk2");
    bad[3]["kernel"] = json!(" ");
    let (status, answer) = post(&app, KERNELCI_BUILDS, &json!({"input": bad})).await;
    assert_eq!((status, code(&answer)), (400, "BAD_USER_INPUT"), "{answer}");
    assert!(answer.to_string().contains("builds[3].kernel"), "{answer}");
    assert!(stored_kernelci_builds(&app, "bulk2").await.is_empty());

    for (body, expect) in [
        (json!({"input": [{"job": "j"}]}), "missing field `kernel`"),
        (
            json!({"input": [{"job": "j", "kernel": "k", "gitBranch": "b", "arch": "a", "defconfig": "d", "status": "BOGUS"}]}),
            "unknown variant `BOGUS`",
        ),
        (
            json!({"input": [{"job": "j", "kernel": "k", "gitBranch": "b", "arch": "a", "defconfig": "d", "status": "PASS", "git_branch": "b"}]}),
            "unknown field `git_branch`",
        ),
        (
            json!({"input": [{"job": "j", "kernel": "k", "gitBranch": "b", "arch": "a", "defconfig": "d", "status": "PASS", "createdOn": "yesterday"}]}),
            "input contains invalid characters",
        ),
        (json!({"builds": []}), "unknown field `builds`"),
    ] {
        let (status, answer) = post(&app, KERNELCI_BUILDS, &body).await;
        assert_eq!(
            (status, code(&answer)),
            (400, "BAD_USER_INPUT"),
            "{body}: {answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(expect), "{body}: {message}");
    }

    // The mutations' authorisation.
    let closed = TestApp::new().await;
    let body = json!({"input": []}).to_string();
    let (status, answer) = post_raw(&closed, KERNELCI_BUILDS, &body, None).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "UNAUTHENTICATED"),
        "{answer}"
    );
    let read = closed.token(&[Scope::Read]).await;
    let (status, answer) = post_raw(&closed, KERNELCI_BUILDS, &body, Some(&read)).await;
    assert_eq!((status, code(&answer)), (403, "FORBIDDEN"), "{answer}");
    let write = closed.token(&[Scope::Write]).await;
    let (status, answer) = post_raw(&closed, KERNELCI_BUILDS, &body, Some(&write)).await;
    assert_eq!(
        (status, answer),
        (201, json!({"builds": 0, "jobsCreated": 0}))
    );
}
