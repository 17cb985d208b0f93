//! GraphQL over the Evergreen domain, with data created only through the mutations: Evergreen's
//! id formats and counters, the task lifecycle and the build and version status it drives,
//! activation, auth and errors, nested pages and cursors, the task history, and statement counts.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;

pub(crate) async fn open_app() -> TestApp {
    TestApp::with_config(|c| c.auth.open_mutations = true).await
}

/// Runs an operation that must succeed and returns its data.
pub(crate) async fn ok(app: &TestApp, q: &str, vars: Value) -> Value {
    let r = app.graphql(q, vars).await;
    assert!(r.get("errors").is_none(), "{q}\n{r}");
    r["data"].clone()
}

/// Runs an operation that must fail and returns its first error's code.
async fn code(app: &TestApp, q: &str, vars: Value) -> String {
    let r = app.graphql(q, vars).await;
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {r}"))
        .to_owned()
}

pub(crate) fn edges(v: &Value) -> &Vec<Value> {
    v["edges"].as_array().expect("edges")
}

pub(crate) fn nodes(v: &Value) -> Vec<&Value> {
    edges(v).iter().map(|e| &e["node"]).collect()
}

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
}

fn at(s: &str) -> DateTime<Utc> {
    ts(&json!(s))
}

const UPSERT: &str = "mutation($p: EvergreenProjectInput!) { upsertEvergreenProject(input: $p) {
    identifier displayName batchTime repoKind enabled tasks { name dependsOn }
    variants { name displayName tasks lastBuildNumber } } }";

const CREATE: &str = "mutation($v: EvergreenVersionInput!) { createEvergreenVersion(input: $v) {
    id order status activated createTime revision requester project { identifier }
    builds(first: 10) { totalCount edges { node { id variant displayName buildNumber status activated
      tasks(first: 10) { edges { node { id displayName variant status activated dependsOn } } } } } } } }";

const DISPATCH: &str = "mutation($id: String!, $at: DateTime) { dispatchEvergreenTask(id: $id, hostId: \"host-1\", distro: \"rhel70\", at: $at) { status hostId distro dispatchTime scheduledTime } }";
const START: &str = "mutation($id: String!, $at: DateTime) { startEvergreenTask(id: $id, at: $at) { status startTime lastHeartbeat build { status startTime } version { status startTime } } }";
const HEARTBEAT: &str = "mutation($id: String!, $at: DateTime) { heartbeatEvergreenTask(id: $id, at: $at) { lastHeartbeat } }";
const FINISH: &str = "mutation($id: String!, $s: String!, $at: DateTime) { finishEvergreenTask(id: $id, status: $s, detailsType: \"test\", detailsDesc: \"running tests\", at: $at) { status finishTime timeTakenNs timeTakenSeconds detailsType detailsDesc timedOut build { status finishTime timeTakenNs } version { status finishTime } } }";

/// "mongodb-mongo-master": linux-64 runs compile, test (after compile) and lint; osx-108 runs
/// compile and test.
pub(crate) async fn mongo_project(app: &TestApp, batch_time: i64) -> Value {
    ok(
        app,
        UPSERT,
        json!({"p": {
            "identifier": "mongodb-mongo-master",
            "displayName": "MongoDB master",
            "ownerName": "mongodb", "repoName": "mongo", "branchName": "master",
            "batchTime": batch_time,
            "tasks": [{"name": "compile"}, {"name": "test", "dependsOn": ["compile"]}, {"name": "lint"}],
            "variants": [
                {"name": "linux-64", "displayName": "Linux 64-bit", "tasks": ["compile", "test", "lint"]},
                {"name": "osx-108", "tasks": ["compile", "test"]}
            ]
        }}),
    )
    .await
}

pub(crate) async fn create_version(
    app: &TestApp,
    project: &str,
    revision: &str,
    created: &str,
) -> Value {
    ok(
        app,
        CREATE,
        json!({"v": {"project": project, "revision": revision, "author": "Jane Doe",
                     "authorEmail": "jane@example.com", "message": "SERVER-1 fix", "createTime": created}}),
    )
    .await["createEvergreenVersion"]
        .clone()
}

/// Task ids of a created version by (variant, task).
pub(crate) fn task_id(version: &Value, variant: &str, task: &str) -> String {
    nodes(&version["builds"])
        .into_iter()
        .filter(|b| b["variant"] == json!(variant))
        .flat_map(|b| nodes(&b["tasks"]))
        .find(|t| t["displayName"] == json!(task))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("no task {variant}/{task} in {version}"))
        .to_owned()
}

#[tokio::test]
async fn projects_and_versions_get_evergreen_ids_orders_and_build_numbers() {
    let app = open_app().await;
    let p = mongo_project(&app, 0).await;
    assert_eq!(
        p["upsertEvergreenProject"],
        json!({
            "identifier": "mongodb-mongo-master", "displayName": "MongoDB master", "batchTime": 0,
            "repoKind": "github", "enabled": true,
            "tasks": [{"name": "compile", "dependsOn": []}, {"name": "test", "dependsOn": ["compile"]}, {"name": "lint", "dependsOn": []}],
            "variants": [
                {"name": "linux-64", "displayName": "Linux 64-bit", "tasks": ["compile", "test", "lint"], "lastBuildNumber": 0},
                {"name": "osx-108", "displayName": "osx-108", "tasks": ["compile", "test"], "lastBuildNumber": 0}
            ]
        })
    );

    let rev1 = "d477da53e119b207de45880ae4e9c4fd4d2f4a45";
    let v1 = create_version(
        &app,
        "mongodb-mongo-master",
        rev1,
        "2014-07-22T17:02:09.162Z",
    )
    .await;
    assert_eq!(v1["id"], json!(format!("mongodb_mongo_master_{rev1}")));
    assert_eq!(v1["order"], json!(1));
    assert_eq!(v1["status"], json!("created"));
    assert_eq!(
        v1["activated"],
        json!(true),
        "batch time 0 activates at once"
    );
    assert_eq!(v1["requester"], json!("gitter_request"));
    assert_eq!(v1["project"]["identifier"], json!("mongodb-mongo-master"));
    assert_eq!(ts(&v1["createTime"]), at("2014-07-22T17:02:09.162Z"));
    assert_eq!(v1["builds"]["totalCount"], json!(2));
    let builds = nodes(&v1["builds"]);
    let linux = format!("mongodb_mongo_master_linux_64_{rev1}_14_07_22_17_02_09");
    let osx = format!("mongodb_mongo_master_osx_108_{rev1}_14_07_22_17_02_09");
    assert_eq!(builds[0]["id"], json!(linux));
    assert_eq!(builds[0]["displayName"], json!("Linux 64-bit"));
    assert_eq!(builds[0]["buildNumber"], json!("1"));
    assert_eq!(builds[0]["status"], json!("created"));
    assert_eq!(builds[1]["id"], json!(osx));
    let tasks: Vec<(String, String, Value)> = nodes(&builds[0]["tasks"])
        .into_iter()
        .map(|t| {
            assert_eq!(t["status"], json!("undispatched"));
            assert_eq!(t["activated"], json!(true));
            (
                t["id"].as_str().unwrap_or("").to_owned(),
                t["displayName"].as_str().unwrap_or("").to_owned(),
                t["dependsOn"].clone(),
            )
        })
        .collect();
    assert_eq!(
        tasks,
        vec![
            (
                format!("{linux}_compile_linux_64"),
                "compile".into(),
                json!([])
            ),
            (
                format!("{linux}_test_linux_64"),
                "test".into(),
                json!([format!("{linux}_compile_linux_64")])
            ),
            (format!("{linux}_lint_linux_64"), "lint".into(), json!([])),
        ]
    );

    // A variant added later starts its own build counter; the others keep counting.
    ok(
        &app,
        UPSERT,
        json!({"p": {
            "identifier": "mongodb-mongo-master",
            "tasks": [{"name": "compile"}, {"name": "test", "dependsOn": ["compile"]}, {"name": "lint"}],
            "variants": [
                {"name": "linux-64", "displayName": "Linux 64-bit", "tasks": ["compile", "test", "lint"]},
                {"name": "osx-108", "tasks": ["compile", "test"]},
                {"name": "windows", "tasks": ["compile"]}
            ]
        }}),
    )
    .await;
    let v2 = create_version(
        &app,
        "mongodb-mongo-master",
        "rev-2",
        "2014-07-23T08:00:00Z",
    )
    .await;
    let v3 = create_version(
        &app,
        "mongodb-mongo-master",
        "rev-3",
        "2014-07-24T08:00:00Z",
    )
    .await;
    assert_eq!(v2["id"], json!("mongodb_mongo_master_rev_2"));
    assert_eq!(
        (v2["order"].clone(), v3["order"].clone()),
        (json!(2), json!(3))
    );
    let numbers = |v: &Value| -> Vec<(String, String)> {
        nodes(&v["builds"])
            .into_iter()
            .map(|b| {
                (
                    b["variant"].as_str().unwrap_or("").to_owned(),
                    b["buildNumber"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        numbers(&v3),
        vec![
            ("linux-64".to_owned(), "3".to_owned()),
            ("osx-108".into(), "3".into()),
            ("windows".into(), "2".into())
        ]
    );
    assert_eq!(
        nodes(&v2["builds"])[2]["id"],
        json!("mongodb_mongo_master_windows_rev_2_14_07_23_08_00_00")
    );

    // Lookups by Evergreen id, relations upwards, and dependencies as tasks.
    let d = ok(
        &app,
        "query($v: String!, $b: String!, $t: String!) {
           evergreenVersion(id: $v) { revision author authorEmail message startTime finishTime }
           evergreenBuild(id: $b) { variant version { id } project { identifier } }
           evergreenTask(id: $t) { displayName variant build { id } version { order } project { identifier }
                                   dependsOnTasks { id displayName } createTime startTime timeTakenNs }
           missing: evergreenVersion(id: \"nope\") { id }
           evergreenProject(identifier: \"mongodb-mongo-master\") { lastOrder variants { name lastBuildNumber } }
           evergreenProjects { totalCount edges { node { identifier } } } }",
        json!({"v": v1["id"], "b": linux, "t": format!("{linux}_test_linux_64")}),
    )
    .await;
    assert_eq!(
        d["evergreenVersion"],
        json!({"revision": rev1, "author": "Jane Doe", "authorEmail": "jane@example.com",
               "message": "SERVER-1 fix", "startTime": null, "finishTime": null})
    );
    assert_eq!(
        d["evergreenBuild"],
        json!({"variant": "linux-64", "version": {"id": v1["id"]}, "project": {"identifier": "mongodb-mongo-master"}})
    );
    let t = &d["evergreenTask"];
    assert_eq!(t["build"]["id"], json!(linux));
    assert_eq!(t["version"]["order"], json!(1));
    assert_eq!(
        t["dependsOnTasks"],
        json!([{"id": format!("{linux}_compile_linux_64"), "displayName": "compile"}])
    );
    assert_eq!(t["startTime"], Value::Null);
    assert_eq!(t["timeTakenNs"], json!(0));
    assert_eq!(d["missing"], Value::Null);
    assert_eq!(
        d["evergreenProject"],
        json!({"lastOrder": 3, "variants": [
            {"name": "linux-64", "lastBuildNumber": 3}, {"name": "osx-108", "lastBuildNumber": 3},
            {"name": "windows", "lastBuildNumber": 2}]})
    );
    assert_eq!(d["evergreenProjects"]["totalCount"], json!(1));
}

#[tokio::test]
async fn the_task_lifecycle_drives_build_and_version_status() {
    let app = open_app().await;
    mongo_project(&app, 0).await;
    let v = create_version(
        &app,
        "mongodb-mongo-master",
        "aaa111",
        "2024-03-01T10:00:00Z",
    )
    .await;
    let compile = task_id(&v, "linux-64", "compile");
    let test = task_id(&v, "linux-64", "test");
    let lint = task_id(&v, "linux-64", "lint");
    let osx_compile = task_id(&v, "osx-108", "compile");
    let osx_test = task_id(&v, "osx-108", "test");

    let d = ok(
        &app,
        DISPATCH,
        json!({"id": compile, "at": "2024-03-01T10:01:00Z"}),
    )
    .await;
    let t = &d["dispatchEvergreenTask"];
    assert_eq!(
        (&t["status"], &t["hostId"], &t["distro"]),
        (&json!("dispatched"), &json!("host-1"), &json!("rhel70"))
    );
    assert_eq!(ts(&t["dispatchTime"]), at("2024-03-01T10:01:00Z"));

    let d = ok(
        &app,
        START,
        json!({"id": compile, "at": "2024-03-01T10:02:00Z"}),
    )
    .await;
    let t = &d["startEvergreenTask"];
    assert_eq!(t["status"], json!("started"));
    assert_eq!(t["build"]["status"], json!("started"));
    assert_eq!(t["version"]["status"], json!("started"));
    assert_eq!(ts(&t["build"]["startTime"]), at("2024-03-01T10:02:00Z"));
    assert_eq!(ts(&t["version"]["startTime"]), at("2024-03-01T10:02:00Z"));

    let d = ok(
        &app,
        HEARTBEAT,
        json!({"id": compile, "at": "2024-03-01T10:02:30.250Z"}),
    )
    .await;
    assert_eq!(
        ts(&d["heartbeatEvergreenTask"]["lastHeartbeat"]),
        at("2024-03-01T10:02:30.250Z")
    );

    // 90.5 s after the start.
    let d = ok(
        &app,
        FINISH,
        json!({"id": compile, "s": "success", "at": "2024-03-01T10:03:30.500Z"}),
    )
    .await;
    let t = &d["finishEvergreenTask"];
    assert_eq!(t["status"], json!("success"));
    assert_eq!(t["timeTakenNs"], json!(90_500_000_000_i64));
    assert_eq!(t["timeTakenSeconds"], json!(90.5));
    assert_eq!(
        (&t["detailsType"], &t["detailsDesc"], &t["timedOut"]),
        (&json!("test"), &json!("running tests"), &json!(false))
    );
    assert_eq!(
        t["build"],
        json!({"status": "started", "finishTime": null, "timeTakenNs": 0}),
        "other tasks of the build are still to run"
    );

    for (id, start, end) in [
        (&osx_compile, "2024-03-01T10:05:00Z", "2024-03-01T10:06:00Z"),
        (&osx_test, "2024-03-01T10:06:00Z", "2024-03-01T10:07:00Z"),
        (&test, "2024-03-01T10:04:00Z", "2024-03-01T10:08:00Z"),
    ] {
        ok(&app, DISPATCH, json!({"id": id, "at": start})).await;
        ok(&app, START, json!({"id": id, "at": start})).await;
        ok(&app, FINISH, json!({"id": id, "s": "success", "at": end})).await;
    }
    let d = ok(
        &app,
        "query($v: String!) { evergreenVersion(id: $v) { status finishTime builds { edges { node { variant status startTime finishTime timeTakenNs } } } } }",
        json!({"v": v["id"]}),
    )
    .await;
    let ver = &d["evergreenVersion"];
    assert_eq!(ver["status"], json!("started"), "lint is still to run");
    let osx = nodes(&ver["builds"])[1].clone();
    assert_eq!(osx["status"], json!("success"));
    assert_eq!(ts(&osx["finishTime"]), at("2024-03-01T10:07:00Z"));
    assert_eq!(osx["timeTakenNs"], json!(120_000_000_000_i64));

    ok(
        &app,
        DISPATCH,
        json!({"id": lint, "at": "2024-03-01T10:09:00Z"}),
    )
    .await;
    ok(
        &app,
        START,
        json!({"id": lint, "at": "2024-03-01T10:09:00Z"}),
    )
    .await;
    let d = ok(
        &app,
        FINISH,
        json!({"id": lint, "s": "success", "at": "2024-03-01T10:10:00Z"}),
    )
    .await;
    let t = &d["finishEvergreenTask"];
    assert_eq!(t["build"]["status"], json!("success"));
    // The build started with compile at 10:02 and ended with lint at 10:10.
    assert_eq!(t["build"]["timeTakenNs"], json!(480_000_000_000_i64));
    assert_eq!(t["version"]["status"], json!("success"));
    assert_eq!(ts(&t["version"]["finishTime"]), at("2024-03-01T10:10:00Z"));

    // A failed task fails its build at once; the version fails when every build has finished.
    let v = create_version(
        &app,
        "mongodb-mongo-master",
        "bbb222",
        "2024-03-02T10:00:00Z",
    )
    .await;
    let compile = task_id(&v, "linux-64", "compile");
    ok(&app, DISPATCH, json!({"id": compile})).await;
    ok(
        &app,
        START,
        json!({"id": compile, "at": "2024-03-02T10:01:00Z"}),
    )
    .await;
    let d = ok(
        &app,
        "mutation($id: String!) { finishEvergreenTask(id: $id, status: \"failed\", detailsType: \"test\", detailsDesc: \"compile\", timedOut: true, at: \"2024-03-02T10:02:00Z\") { status timedOut build { status finishTime } version { status finishTime } } }",
        json!({"id": compile}),
    )
    .await;
    assert_eq!(
        d["finishEvergreenTask"],
        json!({"status": "failed", "timedOut": true, "build": {"status": "failed", "finishTime": null},
               "version": {"status": "started", "finishTime": null}})
    );
    let rest = [
        task_id(&v, "linux-64", "test"),
        task_id(&v, "linux-64", "lint"),
        task_id(&v, "osx-108", "compile"),
        task_id(&v, "osx-108", "test"),
    ];
    for id in &rest {
        ok(&app, DISPATCH, json!({"id": id})).await;
        ok(&app, START, json!({"id": id, "at": "2024-03-02T10:03:00Z"})).await;
        ok(
            &app,
            FINISH,
            json!({"id": id, "s": "success", "at": "2024-03-02T10:04:00Z"}),
        )
        .await;
    }
    let d = ok(
        &app,
        "query($v: String!) { evergreenVersion(id: $v) { status finishTime builds { edges { node { status } } } } }",
        json!({"v": v["id"]}),
    )
    .await;
    let ver = &d["evergreenVersion"];
    assert_eq!(ver["status"], json!("failed"));
    assert_eq!(ts(&ver["finishTime"]), at("2024-03-02T10:04:00Z"));
    let statuses: Vec<&Value> = nodes(&ver["builds"])
        .into_iter()
        .map(|b| &b["status"])
        .collect();
    assert_eq!(statuses, vec![&json!("failed"), &json!("success")]);
}

#[tokio::test]
async fn activation_cascades_to_builds_and_undispatched_tasks() {
    let app = open_app().await;
    // A batch time leaves new versions inactive.
    mongo_project(&app, 60).await;
    let v = create_version(
        &app,
        "mongodb-mongo-master",
        "ccc333",
        "2024-04-01T00:00:00Z",
    )
    .await;
    assert_eq!(v["activated"], json!(false));
    for b in nodes(&v["builds"]) {
        assert_eq!(b["activated"], json!(false));
        for t in nodes(&b["tasks"]) {
            assert_eq!(t["activated"], json!(false));
        }
    }
    let compile = task_id(&v, "linux-64", "compile");
    assert_eq!(
        code(&app, DISPATCH, json!({"id": compile})).await,
        "CONFLICT",
        "an inactive task is not dispatched"
    );
    assert_eq!(
        code(&app, START, json!({"id": compile})).await,
        "CONFLICT",
        "an inactive task does not start"
    );

    const SET: &str = "mutation($id: String!, $a: Boolean!) { setEvergreenVersionActivated(id: $id, activated: $a) { id activated
        builds { edges { node { activated activatedTime tasks { edges { node { id activated status } } } } } } } }";
    let d = ok(&app, SET, json!({"id": v["id"], "a": true})).await;
    let ver = &d["setEvergreenVersionActivated"];
    assert_eq!(ver["activated"], json!(true));
    for b in nodes(&ver["builds"]) {
        assert_eq!(b["activated"], json!(true));
        assert!(b["activatedTime"].is_string(), "{b}");
        for t in nodes(&b["tasks"]) {
            assert_eq!(t["activated"], json!(true));
        }
    }

    ok(&app, DISPATCH, json!({"id": compile})).await;
    let d = ok(&app, SET, json!({"id": v["id"], "a": false})).await;
    let ver = &d["setEvergreenVersionActivated"];
    assert_eq!(ver["activated"], json!(false));
    for b in nodes(&ver["builds"]) {
        assert_eq!(b["activated"], json!(false));
        for t in nodes(&b["tasks"]) {
            let dispatched = t["id"] == json!(compile);
            assert_eq!(
                t["activated"],
                json!(dispatched),
                "only the dispatched task keeps its activation: {t}"
            );
        }
    }

    assert_eq!(
        code(&app, SET, json!({"id": "no_such_version", "a": true})).await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn mutations_need_a_write_token_by_default() {
    let app = TestApp::new().await;
    let q = "mutation { upsertEvergreenProject(input: {identifier: \"p\"}) { identifier } }";
    assert_eq!(code(&app, q, json!({})).await, "UNAUTHENTICATED");
    let read = app.token(&[Scope::Read]).await;
    let r = app.graphql_as(q, json!({}), Some(&read)).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"],
        json!("FORBIDDEN"),
        "{r}"
    );
    let write = app.token(&[Scope::Write]).await;
    let r = app.graphql_as(q, json!({}), Some(&write)).await;
    assert_eq!(
        r["data"]["upsertEvergreenProject"],
        json!({"identifier": "p"}),
        "{r}"
    );
    for q in [
        "mutation { createEvergreenVersion(input: {project: \"p\", revision: \"r\"}) { id } }",
        "mutation { setEvergreenVersionActivated(id: \"p_r\", activated: true) { id } }",
        "mutation { dispatchEvergreenTask(id: \"t\", hostId: \"h\") { id } }",
        "mutation { startEvergreenTask(id: \"t\") { id } }",
        "mutation { heartbeatEvergreenTask(id: \"t\") { id } }",
        "mutation { finishEvergreenTask(id: \"t\", status: \"success\") { id } }",
        "mutation { addEvergreenTestResults(taskId: \"t\", results: []) { inserted } }",
        "mutation { addEvergreenArtifacts(taskId: \"t\", files: []) { inserted } }",
    ] {
        assert_eq!(code(&app, q, json!({})).await, "UNAUTHENTICATED", "{q}");
    }
    // Reading needs no token by default.
    let d = ok(
        &app,
        "{ evergreenProjects { totalCount } evergreenVersions { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(d["evergreenProjects"]["totalCount"], json!(1));
    assert_eq!(d["evergreenVersions"]["totalCount"], json!(0));
}

#[tokio::test]
async fn errors_carry_stable_codes() {
    let app = open_app().await;
    mongo_project(&app, 0).await;
    let create = |p: &str, r: &str| json!({"v": {"project": p, "revision": r}});
    assert_eq!(
        code(&app, CREATE, create("no-such-project", "r1")).await,
        "NOT_FOUND"
    );
    let v = ok(&app, CREATE, create("mongodb-mongo-master", "r1")).await;
    let v = &v["createEvergreenVersion"];
    assert_eq!(
        code(&app, CREATE, create("mongodb-mongo-master", "r1")).await,
        "CONFLICT",
        "a revision has one version"
    );
    let compile = task_id(v, "linux-64", "compile");
    assert_eq!(
        code(&app, FINISH, json!({"id": compile, "s": "success"})).await,
        "CONFLICT",
        "an undispatched task cannot finish"
    );
    assert_eq!(
        code(&app, START, json!({"id": "no_such_task"})).await,
        "NOT_FOUND"
    );
    ok(&app, DISPATCH, json!({"id": compile})).await;
    assert_eq!(
        code(&app, DISPATCH, json!({"id": compile})).await,
        "CONFLICT",
        "dispatched twice"
    );
    ok(&app, START, json!({"id": compile})).await;
    assert_eq!(
        code(&app, FINISH, json!({"id": compile, "s": "done"})).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code(
            &app,
            "mutation($id: String!) { addEvergreenTestResults(taskId: $id, results: [{testFile: \"a.js\", status: \"bogus\", start: 1, end: 2}]) { inserted } }",
            json!({"id": compile}),
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code(
            &app,
            UPSERT,
            json!({"p": {"identifier": "bad", "tasks": [{"name": "a", "dependsOn": ["missing"]}]}}),
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code(
            &app,
            "{ evergreenTaskHistory(project: \"nope\", taskName: \"compile\") { exhaustedBefore } }",
            json!({}),
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &app,
            "{ evergreenVersions(first: 101) { totalCount } }",
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code(
            &app,
            "{ evergreenVersions(after: \"garbage!\") { totalCount } }",
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn nested_pages_filters_and_cursors() {
    let app = open_app().await;
    mongo_project(&app, 0).await;
    let mut versions = Vec::new();
    for i in 0..5 {
        versions.push(
            create_version(
                &app,
                "mongodb-mongo-master",
                &format!("rev{i}"),
                &format!("2024-05-0{}T00:00:00Z", i + 1),
            )
            .await,
        );
    }
    let compile = task_id(&versions[4], "linux-64", "compile");
    let results: Vec<Value> = (0..7)
        .map(|i| json!({"testFile": format!("jstests/t{i}.js"), "status": if i % 3 == 0 { "fail" } else { "pass" },
                        "url": format!("http://logs/{i}"), "logId": format!("log{i}"), "lineNum": i, "exitCode": i32::from(i % 3 == 0),
                        "start": 1_700_000_000.25 + f64::from(i), "end": 1_700_000_001.75 + f64::from(i)}))
        .collect();
    let d = ok(
        &app,
        "mutation($id: String!, $r: [EvergreenTestResultInput!]!) { addEvergreenTestResults(taskId: $id, results: $r) { inserted } }",
        json!({"id": compile, "r": results}),
    )
    .await;
    assert_eq!(d["addEvergreenTestResults"]["inserted"], json!(7));
    let d = ok(
        &app,
        "mutation($id: String!) { addEvergreenArtifacts(taskId: $id, files: [{name: \"binaries\", url: \"http://s3/bin.tgz\"}, {name: \"logs\", url: \"http://s3/logs.tgz\"}]) { inserted } }",
        json!({"id": compile}),
    )
    .await;
    assert_eq!(d["addEvergreenArtifacts"]["inserted"], json!(2));

    // Test results: a filtered page, its total, and a cursor walk.
    let q = "query($id: String!, $after: String) { evergreenTask(id: $id) {
        failed: testResults(first: 10, filter: {status: \"fail\"}) { totalCount edges { node { testFile status exitCode } } }
        testResults(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          edges { node { testFile url logId lineNum start end startTime timeTakenNs timeTakenSeconds execution } } }
        artifacts(first: 1) { totalCount pageInfo { hasNextPage } edges { node { name url } } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = ok(&app, q, json!({"id": compile, "after": after})).await;
        let t = &d["evergreenTask"];
        assert_eq!(
            t["failed"],
            json!({"totalCount": 3, "edges": [
                {"node": {"testFile": "jstests/t0.js", "status": "fail", "exitCode": 1}},
                {"node": {"testFile": "jstests/t3.js", "status": "fail", "exitCode": 1}},
                {"node": {"testFile": "jstests/t6.js", "status": "fail", "exitCode": 1}}]})
        );
        assert_eq!(
            t["artifacts"],
            json!({"totalCount": 2, "pageInfo": {"hasNextPage": true}, "edges": [{"node": {"name": "binaries", "url": "http://s3/bin.tgz"}}]})
        );
        let page = &t["testResults"];
        assert_eq!(page["totalCount"], json!(7));
        for n in nodes(page) {
            seen.push(n["testFile"].as_str().unwrap_or("").to_owned());
        }
        if seen.len() == 1 {
            let first = &nodes(page)[0];
            assert_eq!(first["timeTakenNs"], json!(1_500_000_000_i64));
            assert_eq!(first["timeTakenSeconds"], json!(1.5));
            assert_eq!(first["start"], json!(1_700_000_000.25));
            assert_eq!(ts(&first["startTime"]), at("2023-11-14T22:13:20.250Z"));
            assert_eq!(first["execution"], json!(0));
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let want: Vec<String> = (0..7).map(|i| format!("jstests/t{i}.js")).collect();
    assert_eq!(seen, want);

    // Build tasks: first page, then after its cursor; builds filtered by status.
    let linux = nodes(&versions[4]["builds"])[0]["id"].clone();
    let d = ok(
        &app,
        "query($b: String!) { evergreenBuild(id: $b) { tasks(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { displayName } } } } }",
        json!({"b": linux}),
    )
    .await;
    let page = &d["evergreenBuild"]["tasks"];
    assert_eq!(page["totalCount"], json!(3));
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    let names: Vec<&Value> = nodes(page).into_iter().map(|n| &n["displayName"]).collect();
    assert_eq!(names, vec![&json!("compile"), &json!("test")]);
    let d = ok(
        &app,
        "query($b: String!, $a: String) { evergreenBuild(id: $b) { tasks(first: 2, after: $a) { pageInfo { hasNextPage hasPreviousPage } edges { node { displayName } } } } }",
        json!({"b": linux, "a": page["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(
        d["evergreenBuild"]["tasks"],
        json!({"pageInfo": {"hasNextPage": false, "hasPreviousPage": true}, "edges": [{"node": {"displayName": "lint"}}]})
    );

    ok(&app, DISPATCH, json!({"id": compile})).await;
    ok(&app, START, json!({"id": compile})).await;
    let d = ok(
        &app,
        "query($v: String!) { evergreenVersion(id: $v) { started: builds(filter: {status: \"started\"}) { totalCount edges { node { variant } } }
            builds { edges { node { variant tasks(filter: {status: \"undispatched\"}) { totalCount } } } } } }",
        json!({"v": versions[4]["id"]}),
    )
    .await;
    let v = &d["evergreenVersion"];
    assert_eq!(
        v["started"],
        json!({"totalCount": 1, "edges": [{"node": {"variant": "linux-64"}}]})
    );
    let undispatched: Vec<&Value> = nodes(&v["builds"])
        .into_iter()
        .map(|b| &b["tasks"]["totalCount"])
        .collect();
    assert_eq!(undispatched, vec![&json!(2), &json!(2)]);

    // Top-level versions: filters, both directions, a cursor walk.
    let d = ok(
        &app,
        "{ desc: evergreenVersions(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { order } } }
           asc: evergreenVersions(first: 2, orderBy: {direction: ASC}) { edges { node { order } } }
           byRev: evergreenVersions(filter: {project: \"mongodb-mongo-master\", revision: \"rev2\"}) { edges { node { id } } }
           started: evergreenVersions(filter: {status: \"started\"}) { edges { node { revision } } }
           window: evergreenVersions(filter: {createdFrom: \"2024-05-02T00:00:00Z\", createdTo: \"2024-05-04T00:00:00Z\"}) { totalCount }
           other: evergreenVersions(filter: {project: \"other\"}) { totalCount } }",
        json!({}),
    )
    .await;
    let orders = |c: &Value| -> Vec<i64> {
        nodes(c)
            .into_iter()
            .filter_map(|n| n["order"].as_i64())
            .collect()
    };
    assert_eq!(orders(&d["desc"]), vec![5, 4]);
    assert_eq!(d["desc"]["totalCount"], json!(5));
    assert_eq!(orders(&d["asc"]), vec![1, 2]);
    assert_eq!(
        d["byRev"],
        json!({"edges": [{"node": {"id": "mongodb_mongo_master_rev2"}}]})
    );
    assert_eq!(
        d["started"],
        json!({"edges": [{"node": {"revision": "rev4"}}]})
    );
    assert_eq!(d["window"]["totalCount"], json!(2));
    assert_eq!(d["other"]["totalCount"], json!(0));
    let d = ok(
        &app,
        "query($a: String) { evergreenVersions(first: 2, after: $a) { edges { node { order } } } }",
        json!({"a": d["desc"]["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(orders(&d["evergreenVersions"]), vec![3, 2]);

    // Top-level tasks.
    let d = ok(
        &app,
        "{ a: evergreenTasks(filter: {project: \"mongodb-mongo-master\", variant: \"osx-108\", name: \"test\"}) { totalCount }
           b: evergreenTasks(filter: {revision: \"rev4\", status: \"started\"}) { edges { node { id } } }
           c: evergreenTasks(first: 4) { totalCount pageInfo { hasNextPage } edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["a"]["totalCount"], json!(5));
    assert_eq!(d["b"], json!({"edges": [{"node": {"id": compile}}]}));
    assert_eq!(d["c"]["totalCount"], json!(25));
    assert_eq!(edges(&d["c"]).len(), 4);
    assert_eq!(d["c"]["pageInfo"]["hasNextPage"], json!(true));
}

#[tokio::test]
async fn task_history_groups_runs_by_revision() {
    let app = open_app().await;
    mongo_project(&app, 0).await;
    let mut failed_ids = Vec::new();
    for i in 0..12 {
        let v = create_version(
            &app,
            "mongodb-mongo-master",
            &format!("rev{i:02}"),
            &format!("2024-06-{:02}T00:00:00Z", i + 1),
        )
        .await;
        let id = task_id(&v, "linux-64", "test");
        ok(&app, DISPATCH, json!({"id": id})).await;
        ok(&app, START, json!({"id": id})).await;
        let status = if i % 4 == 3 { "failed" } else { "success" };
        ok(
            &app,
            "mutation($id: String!) { addEvergreenTestResults(taskId: $id, results: [
                {testFile: \"a.js\", status: \"pass\", start: 1, end: 2},
                {testFile: \"b.js\", status: \"fail\", start: 2, end: 3}]) { inserted } }",
            json!({"id": id}),
        )
        .await;
        ok(&app, FINISH, json!({"id": id, "s": status})).await;
        if status == "failed" {
            failed_ids.push(id);
        }
    }
    let q = "query($t: String!) { evergreenTaskHistory(project: \"mongodb-mongo-master\", taskName: $t) {
        versions { revision order } tasks { revision order tasks { variant status timeTakenNs } }
        failedTests { task { id status } tests { testFile status } } exhaustedBefore exhaustedAfter } }";
    let d = ok(&app, q, json!({"t": "test"})).await;
    let h = &d["evergreenTaskHistory"];
    let revisions: Vec<&str> = h["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["revision"].as_str())
        .collect();
    let want: Vec<String> = (2..12).rev().map(|i| format!("rev{i:02}")).collect();
    assert_eq!(revisions, want);
    assert_eq!(h["exhaustedBefore"], json!(false));
    assert_eq!(h["exhaustedAfter"], json!(true));
    let groups = h["tasks"].as_array().expect("tasks");
    assert_eq!(groups.len(), 10);
    assert_eq!(groups[0]["revision"], json!("rev11"));
    assert_eq!(groups[0]["order"], json!(12));
    assert_eq!(
        groups[0]["tasks"][0]["status"],
        json!("failed"),
        "rev11 is the 12th version: failed"
    );
    let variants: Vec<&Value> = groups[1]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| &t["variant"])
        .collect();
    assert_eq!(variants, vec![&json!("linux-64"), &json!("osx-108")]);
    assert_eq!(groups[1]["tasks"][1]["status"], json!("undispatched"));
    let failed = h["failedTests"].as_array().expect("failedTests");
    // Failed runs among the 10 listed versions: rev03, rev07 and rev11.
    let mut ids: Vec<&str> = failed
        .iter()
        .filter_map(|f| f["task"]["id"].as_str())
        .collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = failed_ids.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(ids, want);
    for f in failed {
        assert_eq!(f["tests"], json!([{"testFile": "b.js", "status": "fail"}]));
    }

    // A task no variant runs: no runs, versions still listed.
    let d = ok(&app, q, json!({"t": "nope"})).await;
    assert_eq!(d["evergreenTaskHistory"]["tasks"], json!([]));
    assert_eq!(
        d["evergreenTaskHistory"]["versions"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        10
    );
}

const NESTED: &str = "query($n: Int!) { evergreenVersions(first: $n) { edges { node { builds(first: 10) { edges { node {
    tasks(first: 10) { edges { node { testResults(first: 5) { edges { node { testFile } } } } } } } } } } } } }";

#[tokio::test]
async fn nested_query_costs_one_statement_per_level() {
    let app = TestApp::with_config(|c| {
        c.auth.open_mutations = true;
        c.limits.dataloader_delay = std::time::Duration::ZERO;
        // Four nested connections are 13 levels of fields; the default allows 12.
        c.limits.graphql_max_depth = 16;
    })
    .await;
    let tasks: Vec<Value> = (0..4)
        .map(|i| json!({"name": format!("t{i}"), "dependsOn": if i == 1 { vec!["t0"] } else { vec![] }}))
        .collect();
    let variants: Vec<Value> = (0..3)
        .map(|i| json!({"name": format!("v{i}"), "tasks": ["t0", "t1", "t2", "t3"]}))
        .collect();
    ok(
        &app,
        UPSERT,
        json!({"p": {"identifier": "big", "tasks": tasks, "variants": variants}}),
    )
    .await;
    let mut with_results = 0;
    for i in 0..20 {
        let v = create_version(
            &app,
            "big",
            &format!("{i:040x}"),
            &format!("2024-07-{:02}T00:00:00Z", i + 1),
        )
        .await;
        if i % 3 == 0 {
            let id = task_id(&v, "v1", "t2");
            ok(
                &app,
                "mutation($id: String!) { addEvergreenTestResults(taskId: $id, results: [
                    {testFile: \"x.py\", status: \"pass\", start: 1, end: 2},
                    {testFile: \"y.py\", status: \"fail\", start: 2, end: 3}]) { inserted } }",
                json!({"id": id}),
            )
            .await;
            with_results += 1;
        }
    }

    app.reset_statements();
    let big = ok(&app, NESTED, json!({"n": 20})).await;
    let big_count = app.statements();
    let big_log = app.statement_log();
    let versions = nodes(&big["evergreenVersions"]);
    assert_eq!(versions.len(), 20);
    let mut results = 0;
    for v in &versions {
        let builds = nodes(&v["builds"]);
        assert_eq!(builds.len(), 3);
        for b in builds {
            let tasks = nodes(&b["tasks"]);
            assert_eq!(tasks.len(), 4);
            results += tasks
                .iter()
                .map(|t| edges(&t["testResults"]).len())
                .sum::<usize>();
        }
    }
    assert_eq!(results, 2 * with_results);
    assert_eq!(
        big_count, 4,
        "versions, builds, tasks, test results: one statement each: {big_log:#?}"
    );

    app.reset_statements();
    let small = ok(&app, NESTED, json!({"n": 2})).await;
    let small_count = app.statements();
    assert_eq!(nodes(&small["evergreenVersions"]).len(), 2);
    assert_eq!(
        small_count,
        big_count,
        "statement count must not grow with rows: {:#?}",
        app.statement_log()
    );

    // Relations upwards and sideways batch as well: tasks, then builds, versions, projects and
    // dependencies, one statement each; a nested total alone is one grouped count per level and
    // reads no page.
    app.reset_statements();
    let d = ok(
        &app,
        "{ evergreenTasks(first: 100) { edges { node { build { id } version { order } project { identifier } dependsOnTasks { id }
             testResults { totalCount } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(edges(&d["evergreenTasks"]).len(), 100);
    assert_eq!(
        app.statements(),
        6,
        "tasks, builds, versions, projects, dependencies, result counts: {:#?}",
        app.statement_log()
    );
}

/// A task keeps the results of its earlier executions; its lists show the current one's only,
/// in a nested page (one statement for every task of the level) as in its total.
#[tokio::test]
async fn test_results_of_earlier_executions_stay_hidden() {
    use sea_orm::ConnectionTrait;
    let app = open_app().await;
    mongo_project(&app, 0).await;
    let v = create_version(&app, "mongodb-mongo-master", "rev0", "2024-05-01T00:00:00Z").await;
    let compile = task_id(&v, "linux-64", "compile");
    let add = "mutation($id: String!, $r: [EvergreenTestResultInput!]!) { addEvergreenTestResults(taskId: $id, results: $r) { inserted } }";
    let first: Vec<Value> = (0..3)
        .map(|i| json!({"testFile": format!("old{i}.js"), "status": "fail", "start": 1, "end": 2}))
        .collect();
    ok(&app, add, json!({"id": compile, "r": first})).await;
    // A restart: Evergreen bumps the execution and the next run's results attach to it.
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE evg_tasks SET execution = 1 WHERE task_id = '{compile}'"
        ))
        .await
        .expect("restart");
    let second: Vec<Value> = (0..2)
        .map(|i| json!({"testFile": format!("new{i}.js"), "status": "pass", "start": 3, "end": 4}))
        .collect();
    ok(&app, add, json!({"id": compile, "r": second})).await;

    let q = "query($v: String!) { evergreenVersion(id: $v) { builds(first: 10) { edges { node { variant
        tasks(first: 10) { edges { node { id testResults(first: 10) { totalCount edges { node { testFile execution } } } } } } } } } } }";
    let d = ok(&app, q, json!({"v": v["id"]})).await;
    let mut found = false;
    for b in nodes(&d["evergreenVersion"]["builds"]) {
        for t in nodes(&b["tasks"]) {
            if t["id"] == json!(compile) {
                found = true;
                assert_eq!(
                    t["testResults"],
                    json!({"totalCount": 2, "edges": [
                        {"node": {"testFile": "new0.js", "execution": 1}},
                        {"node": {"testFile": "new1.js", "execution": 1}}]})
                );
            } else {
                assert_eq!(t["testResults"], json!({"totalCount": 0, "edges": []}));
            }
        }
    }
    assert!(found, "{d}");
}

/// `evergreenVersions` trees made of plain fields are written in one pass
/// (`graphql::onepass`); everything else goes through the resolvers. The two must give
/// the same bytes: every field of every level, totals, cursors, page info, aliases, filters and
/// variables, fragments, on the same data. A response key given twice (which GraphQL merges)
/// sends a query to the resolvers, which makes the reference answer.
#[tokio::test]
async fn one_pass_trees_answer_exactly_as_the_resolvers() {
    use std::sync::atomic::Ordering;
    let app = TestApp::with_config(|c| {
        c.auth.open_mutations = true;
        c.limits.graphql_max_depth = 16;
        c.limits.graphql_max_complexity = 1_000_000;
    })
    .await;
    mongo_project(&app, 0).await;
    let mut versions = Vec::new();
    for i in 0..3 {
        let day = format!("2024-06-0{}T00:00:00Z", i + 1);
        versions.push(create_version(&app, "mongodb-mongo-master", &format!("rev{i}"), &day).await);
    }
    for (i, v) in versions.iter().enumerate() {
        let compile = task_id(v, "linux-64", "compile");
        let results: Vec<Value> = (0..3 + i)
            .map(|j| json!({"testFile": format!("jstests/\"quoted\"/t{j}.js"), "status": if j % 2 == 0 { "pass" } else { "fail" },
                            "url": format!("http://logs/{i}/{j}"), "logId": format!("log{j}"), "lineNum": j, "exitCode": j % 2,
                            "start": 1_700_000_000.125 + j as f64, "end": 1_700_000_002.5 + j as f64}))
            .collect();
        ok(
            &app,
            "mutation($id: String!, $r: [EvergreenTestResultInput!]!) { addEvergreenTestResults(taskId: $id, results: $r) { inserted } }",
            json!({"id": compile, "r": results}),
        )
        .await;
        if i == 2 {
            ok(
                &app,
                DISPATCH,
                json!({"id": compile, "at": "2024-06-03T01:00:00.5Z"}),
            )
            .await;
            ok(
                &app,
                START,
                json!({"id": compile, "at": "2024-06-03T01:02:00Z"}),
            )
            .await;
        }
    }

    // Every scalar field the schema gives each object, which the writer must cover.
    let mut fields = std::collections::HashMap::new();
    for ty in [
        "EvergreenVersion",
        "EvergreenBuild",
        "EvergreenTask",
        "EvergreenTestResult",
    ] {
        let names = app.one_pass_scalar_fields(ty).await;
        fields.insert(ty, names.join(" "));
    }

    let full = format!(
        "query($a: String, $f: Int, $s: String) {{ evergreenVersions(first: 3) {{ __typename totalCount
           pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
           edges {{ __typename cursor node {{ __typename {v}
             builds(first: $f) {{ __typename totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {b}
               tasks(first: 2, after: $a) {{ totalCount pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }}
                 nodes {{ __typename {t}
                   testResults(first: 4) {{ totalCount edges {{ __typename cursor node {{ __typename {r} }} }} }}
                   picked: testResults(filter: {{status: $s}}) {{ totalCount nodes {{ testFile status }} }}
                   none: testResults(first: 0) {{ pageInfo {{ hasNextPage startCursor }} edges {{ cursor }} }} }} }} }} }} }} }} }} }} }}",
        v = fields["EvergreenVersion"],
        b = fields["EvergreenBuild"],
        t = fields["EvergreenTask"],
        r = fields["EvergreenTestResult"],
    );
    let answers = || app.state.one_pass_answers.load(Ordering::SeqCst);
    let compare = |q: String, vars: Value, one_pass: u64| {
        let app = &app;
        async move { app.one_pass_matches_resolvers(&q, vars, one_pass).await }
    };

    let d = compare(full.clone(), json!({"f": 10, "s": "fail"}), 1).await;
    let v = &d["data"]["evergreenVersions"];
    assert_eq!(v["totalCount"], json!(3));
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["__typename", "totalCount", "pageInfo", "edges"]);
    let task = &nodes(v)[0]["builds"]["edges"][0]["node"]["tasks"]["nodes"][0];
    let keys: Vec<&String> = task.as_object().expect("object").keys().collect();
    assert_eq!(keys[..3], ["__typename", "id", "displayName"]);
    assert_eq!(keys[keys.len() - 3..], ["testResults", "picked", "none"]);
    let task_page = &nodes(v)[0]["builds"]["edges"][0]["node"]["tasks"];
    assert_eq!(task_page["pageInfo"]["hasNextPage"], json!(true));
    // Later pages of the tasks, from a cursor passed as a variable.
    let after = task_page["pageInfo"]["endCursor"].clone();
    let d = compare(full.clone(), json!({"a": after, "f": 1, "s": "pass"}), 1).await;
    assert_eq!(
        d["data"]["evergreenVersions"]["edges"][0]["node"]["builds"]["edges"][0]["node"]["tasks"]["pageInfo"]
            ["hasPreviousPage"],
        json!(true)
    );

    // Each field alone: the pages below the versions then read only that field's columns.
    for (level, ty) in [
        (1, "EvergreenBuild"),
        (2, "EvergreenTask"),
        (3, "EvergreenTestResult"),
    ] {
        for field in fields[ty].split(' ') {
            let mut sel = field.to_owned();
            for (l, conn) in [(3, "testResults"), (2, "tasks"), (1, "builds")] {
                if l == level {
                    sel = format!("{conn}(first: 3) {{ edges {{ cursor node {{ {sel} }} }} }}");
                } else if l < level {
                    sel = format!("{conn}(first: 3) {{ nodes {{ {sel} }} }}");
                }
            }
            let q = format!(
                "{{ evergreenVersions(first: 3) {{ __typename edges {{ node {{ {sel} }} }} }} }}"
            );
            compare(q, json!({}), 1).await;
        }
    }

    // One version, build or task by id, and what hangs below it; an unknown id is null.
    let version = &versions[2];
    let build = nodes(&version["builds"])[0]["id"].clone();
    let task = task_id(version, "linux-64", "compile");
    let by_id = format!(
        "query($v: String!) {{ evergreenVersion(id: $v) {{ __typename {v}
           builds(first: 2) {{ totalCount nodes {{ {b} tasks {{ edges {{ cursor node {{ {t}
             testResults(first: 2) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {r} }} }} }} }} }} }} }} }} }}",
        v = fields["EvergreenVersion"],
        b = fields["EvergreenBuild"],
        t = fields["EvergreenTask"],
        r = fields["EvergreenTestResult"],
    );
    let d = compare(by_id, json!({"v": version["id"]}), 1).await;
    assert_eq!(
        d["data"]["evergreenVersion"]["builds"]["totalCount"],
        json!(2)
    );
    compare(
        "query($b: String!) { evergreenBuild(id: $b) { __typename id tasks(first: 1) { nodes { id testResults { totalCount } } } } }".to_owned(),
        json!({"b": build}),
        1,
    )
    .await;
    let d = compare(
        format!(
            "query($t: String!) {{ evergreenTask(id: $t) {{ __typename {} testResults {{ totalCount }} }} }}",
            fields["EvergreenTask"]
        ),
        json!({"t": task}),
        1,
    )
    .await;
    assert_eq!(d["data"]["evergreenTask"]["id"], json!(task));
    // Scalars only: the resolvers are cheaper for one small object.
    compare(
        "query($t: String!) { evergreenTask(id: $t) { __typename id status } }".to_owned(),
        json!({"t": task}),
        0,
    )
    .await;
    let d = compare(
        "{ evergreenTask(id: \"nope\") { __typename id } }".to_owned(),
        json!({}),
        0,
    )
    .await;
    assert_eq!(d["data"]["evergreenTask"], Value::Null);

    // Tasks across builds, with their cursors (by id) and a page after one.
    let tasks_q = format!(
        "query($a: String) {{ evergreenTasks(first: 4, after: $a) {{ __typename totalCount
           pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }}
           edges {{ cursor node {{ {t} testResults(first: 2) {{ totalCount nodes {{ testFile }} }} }} }} }} }}",
        t = fields["EvergreenTask"],
    );
    let d = compare(tasks_q.clone(), json!({}), 1).await;
    let end = d["data"]["evergreenTasks"]["pageInfo"]["endCursor"].clone();
    compare(tasks_q, json!({"a": end}), 1).await;

    // Fragments, named and inline, are spread into the plan.
    compare(
        "query { evergreenVersions(first: 3) { __typename ... on EvergreenVersionConnection { edges { node { ...V } } } } }
         fragment V on EvergreenVersion { id builds(first: 2) { nodes { ... { tasks { nodes { testResults { nodes { ...R } } } } } } } }
         fragment R on EvergreenTestResult { testFile status }"
            .to_owned(),
        json!({}),
        1,
    )
    .await;

    // Fields that leave the tree, totals alone, and a bad argument take the resolvers.
    let d = compare(
        "{ evergreenVersions(first: 3) { __typename edges { node { project { identifier } } } } }"
            .to_owned(),
        json!({}),
        0,
    )
    .await;
    assert_eq!(
        d["data"]["evergreenVersions"]["edges"][0]["node"]["project"]["identifier"],
        json!("mongodb-mongo-master")
    );
    compare(
        "{ evergreenVersions(first: 3) { __typename edges { node { builds { totalCount } } } } }"
            .to_owned(),
        json!({}),
        1,
    )
    .await;
    let bad = "{ evergreenVersions(first: 3) { __typename edges { node { builds(first: -1) { totalCount } } } } }";
    let before = answers();
    assert_eq!(code(&app, bad, json!({})).await, "BAD_USER_INPUT");
    assert_eq!(answers(), before);

    // One statement per level and one grouped count per level with a total, as the resolvers.
    app.reset_statements();
    ok(&app, &full, json!({"f": 10, "s": "fail"})).await;
    let fast_statements = app.statements();
    app.reset_statements();
    let reference = full.replacen("{ __typename", "{ __typename __typename", 1);
    ok(&app, &reference, json!({"f": 10, "s": "fail"})).await;
    assert_eq!(
        fast_statements,
        app.statements(),
        "{:#?}",
        app.statement_log()
    );
}
