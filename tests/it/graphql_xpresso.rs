//! GraphQL over XPRESSO's requests, through public surfaces only: the catalog made with its
//! mutations, requests submitted by profile and by bundle, their items driven by a runner that
//! holds only the postback token (moved, given results, finished, failed), a request stopped,
//! everything read back (and once over REST); illegal moves and racing runners; the postback
//! token's reach; the token and group matrix of every field; paging, filters and orders; and the
//! constant statement count of the nested query.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use testgraph::service::tokens::Scope;
use testgraph::service::xpresso::{MAX_REQUEST_SECTIONS, MAX_SECTIONS};

use crate::common::TestApp;

const GROUP_A: &str = "lab-a";
const GROUP_B: &str = "lab-b";

/// Runs an operation as `token` (or without one) and returns the whole answer.
async fn run(app: &TestApp, token: Option<&str>, q: &str, vars: Value) -> Value {
    app.graphql_as(q, vars, token).await
}

/// Runs an operation that must succeed and returns its data.
async fn ok_as(app: &TestApp, token: Option<&str>, q: &str, vars: Value) -> Value {
    let r = run(app, token, q, vars.clone()).await;
    assert!(r.get("errors").is_none(), "{q}\n{vars}\n{r}");
    r["data"].clone()
}

async fn ok(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    ok_as(app, Some(token), q, vars).await
}

/// Runs an operation that must fail and returns its first error's code and message.
async fn fails(app: &TestApp, token: Option<&str>, q: &str, vars: Value) -> (String, String) {
    let r = run(app, token, q, vars).await;
    let e = &r["errors"][0];
    let code = e["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {q}\n{r}"))
        .to_owned();
    (code, e["message"].as_str().unwrap_or("").to_owned())
}

async fn code(app: &TestApp, token: Option<&str>, q: &str, vars: Value) -> String {
    fails(app, token, q, vars).await.0
}

fn nodes(conn: &Value) -> Vec<Value> {
    conn["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {conn}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn ids(conn: &Value) -> Vec<String> {
    nodes(conn)
        .iter()
        .map(|n| n["requestId"].as_str().expect("requestId").to_owned())
        .collect()
}

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Operations.

const CREATE_TESTBED: &str =
    "mutation($i: XpressoTestbedInput!) { createXpressoTestbed(input: $i) { uuid } }";
const CREATE_TOPOLOGY: &str =
    "mutation($i: XpressoTopologyInput!) { createXpressoTopology(input: $i) { uuid } }";
const CREATE_PROFILE: &str =
    "mutation($i: XpressoProfileInput!) { createXpressoProfile(input: $i) { uuid } }";
const CREATE_BUNDLE: &str =
    "mutation($i: XpressoBundleInput!) { createXpressoBundle(input: $i) { uuid } }";

const SUBMIT: &str = "mutation($i: XpressoRequestInput!) { submitXpressoRequest(input: $i) {
    requestId state submitter username branch tags postbackToken dateCreated
    items { totalCount edges { node { itemId state } } } } }";

const STOP: &str = "mutation($r: String!, $why: String!) {
    stopXpressoRequest(requestId: $r, reason: $why) {
      requestId state verdict dateCompleted stopRequested { reason user time }
      items { edges { node { itemId state completionTime stopRequested { reason user time } } } }
    } }";

const MOVE: &str = "mutation($t: String!, $i: String!, $to: XpressoState!, $tb: String) {
    moveXpressoItem(postbackToken: $t, itemId: $i, to: $to, selectedTestbed: $tb) {
      itemId state startTime selectedTestbed { name uuid } request { requestId state } } }";

const FINISH: &str = "mutation($t: String!, $i: String!, $s: XpressoFinalState!, $e: String) {
    finishXpressoItem(postbackToken: $t, itemId: $i, state: $s, errorDetail: $e) {
      itemId state completionTime errorDetail
      request { requestId state verdict dateCompleted } } }";

const ATTACH: &str = "mutation($t: String!, $i: String!, $p: XpressoPhase!,
    $r: XpressoPhaseResultInput!) {
    attachXpressoResults(postbackToken: $t, itemId: $i, phase: $p, input: $r) {
      phase uid state startTime completionTime
      summary { totalTasks pass fail successRate successRateRule } resultsMeta
      scripts { totalCount edges { node { taskId sections { totalCount } } } } } }";

const REQUEST_FIELDS: &str = "requestId uuid name source submitter username description tags
    branch state verdict interestList compareBaseline isBaseline clean maxRequestRuntimeSeconds
    meta profileUuid bundleUuid stopRequested { reason user time } dateCreated dateCompleted
    consolidatedSummary { applicableTasks totalTasks unknown abort fail pass block passx skip
      error successRate successRateRule }
    requestUrl serviceUrl instanceUrl postbackToken";

const ITEM_FIELDS: &str = "itemId position state priority profile { name uuid }
    job { name path uuid } engine { name type uuid } harnessInstances harnessConfig options env
    submittedTestbeds { name uuid } selectedTestbed { name uuid } topology maxRuntimeSeconds
    maxCleanRuntimeSeconds startTime completionTime stopRequested { reason user time }
    errorDetail";

const RESULT_FIELDS: &str = "phase uid state startTime completionTime
    summary { applicableTasks totalTasks pass fail skip successRate } resultsMeta
    scripts(first: 3) { totalCount edges { node { taskId name path position
      summary { totalTasks pass fail }
      sections(first: 5) { totalCount edges { node { uuid sectionId parentId sequenceNumber
        sectionName sectionType result sourceFile sourceLine runTime startTime stopTime logFile
        logStart logStartLine logSize logSizeLine description position } } }
      failed: sections(first: 3, result: [\"failed\"]) { totalCount edges { node { sectionId } } } } } }";

fn request_q() -> String {
    format!(
        "query($r: String!) {{ xpressoRequest(requestId: $r) {{ {REQUEST_FIELDS}
           items(first: 3) {{ totalCount edges {{ cursor node {{ {ITEM_FIELDS}
             run {{ {RESULT_FIELDS} }} clean {{ {RESULT_FIELDS} }} }} }} }} }} }}"
    )
}

fn item_q() -> String {
    format!(
        "query($i: String!) {{ xpressoItem(itemId: $i) {{ {ITEM_FIELDS}
           run {{ uid }} request {{ requestId state }} }} }}"
    )
}

const LIST: &str = "query($n: Int, $after: String, $f: XpressoRequestFilter,
    $o: XpressoRequestOrder) {
    xpressoRequests(first: $n, after: $after, filter: $f, orderBy: $o) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { requestId state submitter tags branch dateCreated dateCompleted } }
    } }";

// ---------------------------------------------------------------------------------------------
// The world: a catalog in group A, members with each permission, an outsider in group B.

struct World {
    app: TestApp,
    /// Group A's admin.
    admin: String,
    /// Group A's members with `run_request`: carol and frank.
    carol: String,
    frank: String,
    /// Group A's member with `stop_request`.
    stopper: String,
    /// Group A's member with `read`.
    reader: String,
    /// Group B's member with every permission.
    outsider: String,
    /// Group A's testbeds pod1 and pod2 (UUIDs).
    pod1: String,
    pod2: String,
    /// Group A's topologies.
    topologies: Vec<String>,
    /// A profile on pod1 and pod2; a profile on the first topology; a bundle of both (the
    /// first on pod2 only).
    profile: String,
    topo_profile: String,
    bundle: String,
}

/// A harness instance in the form of the seed's `harness_instances` entries.
fn harness() -> Value {
    json!({
        "oper_state": "ONLINE", "config_state": "ENABLED", "bldg": "ALL", "site": "SJC",
        "deleted": false, "name": "genie_env", "path": "/path/to/genie",
        "harness": {"name": "pyATS", "run": "easypy", "clean": "kleenex"}, "config": "",
        "uuid": "189f30a8-c475-4303-b638-77cc93f4073b", "support_liveview": true
    })
}

async fn created(app: &TestApp, token: &str, q: &str, field: &str, input: Value) -> String {
    s(&ok(app, token, q, json!({ "i": input })).await[field]["uuid"])
}

async fn world() -> World {
    world_in(TestApp::new().await).await
}

async fn world_in(app: TestApp) -> World {
    let admin = app.member_token(GROUP_A, "alice", &[Scope::Admin]).await;
    let carol = app
        .member_token(GROUP_A, "carol", &[Scope::RunRequest])
        .await;
    let frank = app
        .member_token(GROUP_A, "frank", &[Scope::RunRequest])
        .await;
    let stopper = app
        .member_token(GROUP_A, "dave", &[Scope::StopRequest])
        .await;
    let reader = app.member_token(GROUP_A, "erin", &[Scope::Read]).await;
    let outsider = app
        .member_token(
            GROUP_B,
            "bob",
            &[Scope::RunRequest, Scope::StopRequest, Scope::Admin],
        )
        .await;
    let tb =
        |name: &str| json!({"name": name, "definition": format!("testbed:\n  name: {name}\n")});
    let pod1 = created(
        &app,
        &admin,
        CREATE_TESTBED,
        "createXpressoTestbed",
        tb("pod1"),
    )
    .await;
    let pod2 = created(
        &app,
        &admin,
        CREATE_TESTBED,
        "createXpressoTestbed",
        tb("pod2"),
    )
    .await;
    let mut topologies = Vec::new();
    for n in 1..=3 {
        topologies.push(
            created(
                &app,
                &admin,
                CREATE_TOPOLOGY,
                "createXpressoTopology",
                json!({"name": format!("virl-{n}"), "definition": "{\"nodes\": []}"}),
            )
            .await,
        );
    }
    let profile = created(
        &app,
        &admin,
        CREATE_PROFILE,
        "createXpressoProfile",
        json!({
            "name": "sanity",
            "job": {"name": "Job_VIRL", "path": "/path/to/job_virl.py",
                    "uuid": "5a5b1d0e-2a43-4b0e-8f6f-3f0d4a1c9e11"},
            "harness": harness(),
            "engine": {"name": "jenkins", "type": "jenkins",
                       "uuid": "7c1e9d2a-3b4f-4c5d-8e6f-9a0b1c2d3e4f"},
            "testbeds": [pod1, pod2],
            "options": {"--loglevel": "DEBUG"},
            "env": {"A": "1"},
            "interestList": ["user@company.com"],
            "maxRuntimeSeconds": 3600,
            "maxCleanRuntimeSeconds": 600,
            "maxRequestRuntimeSeconds": 7200,
            "priority": 6
        }),
    )
    .await;
    let topo_profile = created(
        &app,
        &admin,
        CREATE_PROFILE,
        "createXpressoProfile",
        json!({
            "name": "on-virl",
            "job": {"name": "Job_Topo", "path": "/path/to/job_topo.py"},
            "harness": harness(),
            "engine": {"name": "jenkins", "type": "jenkins"},
            "topology": topologies[0],
            "interestList": ["ops@company.com"],
            "maxRequestRuntimeSeconds": 9000
        }),
    )
    .await;
    let bundle = created(
        &app,
        &admin,
        CREATE_BUNDLE,
        "createXpressoBundle",
        json!({"name": "nightly-bundle", "entries": [
            {"profile": profile, "testbeds": [pod2]},
            {"profile": topo_profile}
        ]}),
    )
    .await;
    World {
        app,
        admin,
        carol,
        frank,
        stopper,
        reader,
        outsider,
        pod1,
        pod2,
        topologies,
        profile,
        topo_profile,
        bundle,
    }
}

/// A request submitted as `token`; its data.
async fn submit(w: &World, token: &str, input: Value) -> Value {
    ok(&w.app, token, SUBMIT, json!({ "i": input })).await["submitXpressoRequest"].clone()
}

fn item_ids(req: &Value) -> Vec<String> {
    nodes(&req["items"])
        .iter()
        .map(|n| s(&n["itemId"]))
        .collect()
}

/// A runner's mutation (no API token) that must succeed.
async fn runner(app: &TestApp, q: &str, vars: Value) -> Value {
    ok_as(app, None, q, vars).await
}

async fn move_to(app: &TestApp, token: &str, item: &str, to: &str) -> Value {
    runner(app, MOVE, json!({"t": token, "i": item, "to": to})).await["moveXpressoItem"].clone()
}

async fn finish(
    app: &TestApp,
    token: &str,
    item: &str,
    state: &str,
    detail: Option<&str>,
) -> Value {
    runner(
        app,
        FINISH,
        json!({"t": token, "i": item, "s": state, "e": detail}),
    )
    .await["finishXpressoItem"]
        .clone()
}

fn section(id: &str, n: i64, result: &str) -> Value {
    json!({
        "sectionId": id, "parentId": "virl", "sequenceNumber": n, "sectionName": id,
        "sectionType": "Testcase", "result": result, "sourceFile": "/path/to/virl.py",
        "sourceLine": 10 + n, "runTime": "1.5", "startTime": "2019-08-27T08:21:44Z",
        "stopTime": "2019-08-27T08:21:46Z", "logFile": "TaskLog.virl", "logStart": n * 100,
        "logStartLine": n * 3, "logSize": 100, "logSizeLine": 3, "description": "a testcase"
    })
}

/// A phase's results: two scripts, the first with a testscript section and two testcases (the
/// second failed when `fail`), the second with one passed testcase.
fn results(fail: bool) -> Value {
    let (pass, failed) = if fail { (2, 1) } else { (3, 0) };
    let second = if fail { "failed" } else { "passed" };
    json!({
        "state": "FINISHED",
        "startTime": "2019-08-27T08:21:40.123456Z",
        "completionTime": "2019-08-27T08:30:00Z",
        "summary": {"applicableTasks": 3, "totalTasks": 3, "pass": pass, "fail": failed},
        "resultsMeta": {"status": "completed", "result_format": "trade", "exec_host": "h1"},
        "scripts": [
            {"taskId": "Task-1", "name": "virl", "path": "/path/to/virl.py",
             "summary": {"totalTasks": 2, "pass": 2 - failed, "fail": failed},
             "sections": [
                {"uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "sectionId": "virl",
                 "sectionType": "testscript", "result": "passed", "sequenceNumber": 0},
                section("tc_one", 1, "passed"),
                section("tc_two", 2, second)
             ]},
            {"taskId": "Task-2", "name": "ping", "path": "/path/to/ping.py",
             "summary": {"totalTasks": 1, "pass": 1},
             "sections": [section("tc_ping", 1, "passed")]}
        ]
    })
}

async fn attach(app: &TestApp, token: &str, item: &str, phase: &str, r: Value) -> Value {
    runner(
        app,
        ATTACH,
        json!({"t": token, "i": item, "p": phase, "r": r}),
    )
    .await["attachXpressoResults"]
        .clone()
}

async fn read_request(w: &World, token: &str, id: &str) -> Value {
    ok(&w.app, token, &request_q(), json!({ "r": id })).await["xpressoRequest"].clone()
}

// ---------------------------------------------------------------------------------------------
// The lifecycle.

#[tokio::test]
async fn requests_live_their_whole_life_through_graphql() {
    let w = world().await;
    let app = &w.app;

    // A profile request with every override.
    let a = submit(
        &w,
        &w.carol,
        json!({
            "profile": w.profile,
            "submittedFor": "some_cec",
            "compareBaseline": true,
            "isBaseline": true,
            "description": "This is a test run",
            "clean": true,
            "maxRequestRuntimeSeconds": 86400,
            "tags": ["xpresso", "test"],
            "branch": "master",
            "parameters": {
                "env_vars": {"B": "2"},
                "job_args": {"--turbo": true, "--run-again": "some value"},
                "harness_args": {"--loglevel": "INFO"}
            }
        }),
    )
    .await;
    let a_id = s(&a["requestId"]);
    assert!(
        a_id.starts_with("REQ") && a_id.len() == 10,
        "{a_id}: REQ and seven digits"
    );
    assert_eq!(a["state"], "PREPARING");
    assert_eq!(
        (&a["submitter"], &a["username"], &a["branch"]),
        (&json!("carol"), &json!("some_cec"), &json!("master"))
    );
    assert_eq!(a["tags"], json!(["xpresso", "test"]));
    assert_eq!(item_ids(&a), vec![format!("{a_id}-1")]);
    let a_token = s(&a["postbackToken"]);

    // A bundle request: one item per entry.
    let b = submit(&w, &w.frank, json!({"bundle": w.bundle})).await;
    let b_id = s(&b["requestId"]);
    assert_eq!(b["items"]["totalCount"], 2);
    assert_eq!(b["branch"], "N/A");
    assert_eq!(b["username"], "frank");
    let b_token = s(&b["postbackToken"]);
    assert_ne!(a_token, b_token);

    // A third request, to be stopped while it runs.
    let c = submit(&w, &w.carol, json!({"profile": w.topo_profile})).await;
    let c_id = s(&c["requestId"]);
    let c_token = s(&c["postbackToken"]);

    // What a member reads right after submission.
    let got = read_request(&w, &w.reader, &a_id).await;
    assert_eq!(got["requestId"], json!(a_id));
    assert_eq!(got["name"], "Job_VIRL");
    assert_eq!(got["source"], "API");
    assert_eq!(got["description"], "This is a test run");
    assert_eq!(got["state"], "PREPARING");
    assert_eq!(got["verdict"], Value::Null);
    assert_eq!(got["interestList"], json!(["user@company.com"]));
    assert_eq!(
        (
            &got["compareBaseline"],
            &got["isBaseline"],
            &got["clean"],
            &got["maxRequestRuntimeSeconds"]
        ),
        (&json!(true), &json!(true), &json!(true), &json!(86400))
    );
    assert_eq!(got["meta"], json!({}));
    assert_eq!(got["profileUuid"], json!(w.profile));
    assert_eq!(got["bundleUuid"], Value::Null);
    assert_eq!(got["stopRequested"], Value::Null);
    assert_eq!(got["dateCompleted"], Value::Null);
    assert!(ts(&got["dateCreated"]) <= Utc::now());
    assert_eq!(got["consolidatedSummary"]["totalTasks"], 0);
    assert_eq!(got["consolidatedSummary"]["successRate"], 0.0);
    assert_eq!(
        got["consolidatedSummary"]["successRateRule"],
        "('passed' + 'passx' + 'skip')/total_tasks * 100.0"
    );
    let base = s(&got["instanceUrl"]);
    assert!(base.ends_with('/'), "{base}");
    assert_eq!(
        got["requestUrl"],
        json!(format!("{base}services/request-detail/{a_id}"))
    );
    assert_eq!(
        got["serviceUrl"],
        json!(format!(
            "{base}services/request-detail/{a_id}?share_key={}",
            s(&got["uuid"])
        ))
    );
    assert_eq!(
        got["postbackToken"],
        json!(a_token),
        "the group sees the token"
    );
    let item = &nodes(&got["items"])[0];
    assert_eq!(item["itemId"], json!(format!("{a_id}-1")));
    assert_eq!(
        (&item["position"], &item["state"], &item["priority"]),
        (&json!(1), &json!("PREPARING"), &json!(6))
    );
    assert_eq!(
        item["profile"],
        json!({"name": "sanity", "uuid": w.profile})
    );
    assert_eq!(
        item["job"],
        json!({"name": "Job_VIRL", "path": "/path/to/job_virl.py",
               "uuid": "5a5b1d0e-2a43-4b0e-8f6f-3f0d4a1c9e11"})
    );
    assert_eq!(
        item["engine"],
        json!({"name": "jenkins", "type": "jenkins", "uuid": "7c1e9d2a-3b4f-4c5d-8e6f-9a0b1c2d3e4f"})
    );
    assert_eq!(item["harnessInstances"], json!([harness()]));
    assert_eq!(item["harnessConfig"], json!([{"easypy": ""}]));
    assert_eq!(
        item["options"],
        json!({"--loglevel": "INFO", "--turbo": true, "--run-again": "some value"})
    );
    assert_eq!(item["env"], json!({"A": "1", "B": "2"}));
    assert_eq!(
        item["submittedTestbeds"],
        json!([{"name": "pod1", "uuid": w.pod1}, {"name": "pod2", "uuid": w.pod2}])
    );
    assert_eq!(item["selectedTestbed"], Value::Null);
    assert_eq!(item["topology"], json!({}));
    assert_eq!(
        (&item["maxRuntimeSeconds"], &item["maxCleanRuntimeSeconds"]),
        (&json!(3600), &json!(600))
    );
    assert_eq!(
        (
            &item["startTime"],
            &item["completionTime"],
            &item["run"],
            &item["clean"]
        ),
        (&Value::Null, &Value::Null, &Value::Null, &Value::Null)
    );

    // The runner drives A's item to FINISHED with run and clean results.
    let a1 = format!("{a_id}-1");
    let moved = move_to(app, &a_token, &a1, "QUEUED").await;
    assert_eq!(moved["state"], "QUEUED");
    assert_eq!(moved["request"]["state"], "QUEUED");
    let moved = runner(
        app,
        MOVE,
        json!({"t": format!("Jwt {a_token}"), "i": a1, "to": "RUNNING", "tb": "pod2"}),
    )
    .await["moveXpressoItem"]
        .clone();
    assert_eq!(moved["state"], "RUNNING");
    assert_eq!(
        moved["selectedTestbed"],
        json!({"name": "pod2", "uuid": w.pod2})
    );
    assert!(moved["startTime"].is_string());
    assert_eq!(
        moved["request"],
        json!({"requestId": a_id, "state": "RUNNING"})
    );
    let attached = attach(app, &a_token, &a1, "RUN", results(false)).await;
    assert_eq!(attached["phase"], "RUN");
    assert_eq!(attached["uid"], json!(format!("{a1}-run")));
    assert_eq!(attached["summary"]["successRate"], 100.0);
    assert_eq!(attached["scripts"]["totalCount"], 2);
    assert_eq!(attached["resultsMeta"]["related_id"], json!(a1));
    assert_eq!(
        attached["resultsMeta"]["result_id"],
        json!(format!("{a1}-run"))
    );
    assert_eq!(attached["resultsMeta"]["exec_host"], "h1");
    // Uploading again replaces the phase's results.
    let again = attach(app, &a_token, &a1, "RUN", results(false)).await;
    assert_eq!(again["scripts"]["totalCount"], 2);
    move_to(app, &a_token, &a1, "FINALIZING").await;
    let mut clean = results(false);
    clean["scripts"] = json!([]);
    clean["summary"] = json!({});
    attach(app, &a_token, &a1, "CLEAN", clean).await;
    let done = finish(app, &a_token, &a1, "FINISHED", None).await;
    assert_eq!(done["state"], "FINISHED");
    assert!(done["completionTime"].is_string());
    assert_eq!(done["request"]["state"], "FINISHED");
    assert_eq!(done["request"]["verdict"], "PASSED");
    assert!(done["request"]["dateCompleted"].is_string());

    // B's items: the first finishes with a failed testcase, the second fails.
    let (b1, b2) = (format!("{b_id}-1"), format!("{b_id}-2"));
    for to in ["QUEUED", "RUNNING"] {
        move_to(app, &b_token, &b1, to).await;
    }
    attach(app, &b_token, &b1, "RUN", results(true)).await;
    move_to(app, &b_token, &b1, "FINALIZING").await;
    let b1_done = finish(app, &b_token, &b1, "FINISHED", None).await;
    assert_eq!(
        b1_done["request"]["state"], "RUNNING",
        "one item ended, the other has not started"
    );
    move_to(app, &b_token, &b2, "QUEUED").await;
    let failed = finish(app, &b_token, &b2, "FAILED", Some("no testbed answered")).await;
    assert_eq!(failed["state"], "FAILED");
    assert_eq!(failed["errorDetail"], "no testbed answered");
    assert_eq!(failed["request"]["state"], "FAILED");
    assert_eq!(failed["request"]["verdict"], "FAILED");

    // C is stopped while it runs; its runner can do nothing more.
    let c1 = format!("{c_id}-1");
    for to in ["QUEUED", "RUNNING"] {
        move_to(app, &c_token, &c1, to).await;
    }
    let stopped = ok(
        app,
        &w.stopper,
        STOP,
        json!({"r": c_id, "why": "testbed needed elsewhere"}),
    )
    .await["stopXpressoRequest"]
        .clone();
    assert_eq!(stopped["state"], "STOPPED");
    assert_eq!(stopped["verdict"], Value::Null);
    assert!(stopped["dateCompleted"].is_string());
    assert_eq!(
        stopped["stopRequested"]["reason"],
        "testbed needed elsewhere"
    );
    assert_eq!(stopped["stopRequested"]["user"], "dave");
    assert!(ts(&stopped["stopRequested"]["time"]) <= Utc::now());
    let c_item = &nodes(&stopped["items"])[0];
    assert_eq!(c_item["state"], "STOPPED");
    assert_eq!(c_item["stopRequested"]["user"], "dave");
    assert!(c_item["completionTime"].is_string());
    let (c, m) = fails(
        app,
        Some(&w.stopper),
        STOP,
        json!({"r": c_id, "why": "again"}),
    )
    .await;
    assert_eq!(
        c, "BAD_USER_INPUT",
        "an ended request cannot be stopped: {m}"
    );
    assert_eq!(
        code(
            app,
            None,
            MOVE,
            json!({"t": c_token, "i": c1, "to": "FINALIZING"})
        )
        .await,
        "BAD_USER_INPUT",
        "a stopped item moves no more"
    );
    assert_eq!(
        code(
            app,
            None,
            ATTACH,
            json!({"t": c_token, "i": c1, "p": "RUN", "r": results(false)})
        )
        .await,
        "BAD_USER_INPUT",
        "a stopped item takes no results"
    );

    // Everything read back.
    let a_back = read_request(&w, &w.reader, &a_id).await;
    assert_eq!(
        (&a_back["state"], &a_back["verdict"]),
        (&json!("FINISHED"), &json!("PASSED"))
    );
    let summary = &a_back["consolidatedSummary"];
    assert_eq!(
        (
            &summary["totalTasks"],
            &summary["pass"],
            &summary["fail"],
            &summary["successRate"]
        ),
        (&json!(3), &json!(3), &json!(0), &json!(100.0)),
        "the run results only (the clean phase's are left out)"
    );
    let item = &nodes(&a_back["items"])[0];
    assert_eq!(item["state"], "FINISHED");
    assert_eq!(item["selectedTestbed"]["name"], "pod2");
    let run = &item["run"];
    assert_eq!(
        (&run["phase"], &run["uid"], &run["state"]),
        (
            &json!("RUN"),
            &json!(format!("{a1}-run")),
            &json!("FINISHED")
        )
    );
    assert_eq!(run["startTime"], "2019-08-27T08:21:40.123456+00:00");
    assert_eq!(
        ts(&run["completionTime"]),
        ts(&json!("2019-08-27T08:30:00Z"))
    );
    assert_eq!(run["summary"]["applicableTasks"], 3);
    let scripts = nodes(&run["scripts"]);
    assert_eq!(run["scripts"]["totalCount"], 2);
    assert_eq!(
        scripts
            .iter()
            .map(|x| (s(&x["taskId"]), x["position"].as_i64().unwrap_or(-1)))
            .collect::<Vec<_>>(),
        vec![("Task-1".to_owned(), 0), ("Task-2".to_owned(), 1)]
    );
    assert_eq!(scripts[0]["path"], "/path/to/virl.py");
    assert_eq!(scripts[0]["summary"]["totalTasks"], 2);
    assert_eq!(scripts[0]["sections"]["totalCount"], 3);
    let secs = nodes(&scripts[0]["sections"]);
    assert_eq!(secs[0]["uuid"], "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    assert_eq!(secs[0]["sectionType"], "testscript");
    assert_eq!(secs[0]["parentId"], Value::Null);
    assert_eq!(
        secs[2],
        json!({
            "uuid": secs[2]["uuid"], "sectionId": "tc_two", "parentId": "virl",
            "sequenceNumber": 2, "sectionName": "tc_two", "sectionType": "Testcase",
            "result": "passed", "sourceFile": "/path/to/virl.py", "sourceLine": 12,
            "runTime": "1.5", "startTime": "2019-08-27T08:21:44+00:00",
            "stopTime": "2019-08-27T08:21:46+00:00", "logFile": "TaskLog.virl", "logStart": 200,
            "logStartLine": 6, "logSize": 100, "logSizeLine": 3, "description": "a testcase",
            "position": 2
        })
    );
    assert_eq!(
        s(&secs[2]["uuid"]).len(),
        36,
        "a UUID is made when none is given"
    );
    assert_eq!(scripts[0]["failed"]["totalCount"], 0);
    let clean = &item["clean"];
    assert_eq!(clean["uid"], json!(format!("{a1}-clean")));
    assert_eq!(clean["scripts"]["totalCount"], 0);

    let b_back = read_request(&w, &w.carol, &b_id).await;
    assert_eq!(b_back["name"], "nightly-bundle");
    assert_eq!(b_back["bundleUuid"], json!(w.bundle));
    assert_eq!(b_back["profileUuid"], Value::Null);
    assert_eq!(
        b_back["interestList"],
        json!(["user@company.com", "ops@company.com"])
    );
    assert_eq!(
        b_back["maxRequestRuntimeSeconds"], 9000,
        "the longest of its profiles'"
    );
    assert_eq!(
        (&b_back["state"], &b_back["verdict"]),
        (&json!("FAILED"), &json!("FAILED"))
    );
    assert_eq!(b_back["consolidatedSummary"]["successRate"], 66.67);
    let b_items = nodes(&b_back["items"]);
    assert_eq!(
        b_items[0]["submittedTestbeds"],
        json!([{"name": "pod2", "uuid": w.pod2}])
    );
    assert_eq!(
        b_items[0]["selectedTestbed"],
        json!({"name": "pod2", "uuid": w.pod2}),
        "the first submitted testbed when the runner names none"
    );
    assert_eq!(b_items[1]["profile"]["name"], "on-virl");
    assert_eq!(b_items[1]["submittedTestbeds"], json!([]));
    assert_eq!(
        b_items[1]["topology"],
        json!({"name": "virl-1", "uuid": w.topologies[0]})
    );
    assert_eq!(b_items[1]["state"], "FAILED");
    assert_eq!(b_items[1]["run"], Value::Null);
    let failed_secs = &nodes(&b_items[0]["run"]["scripts"])[0]["failed"];
    assert_eq!(failed_secs["totalCount"], 1);
    assert_eq!(nodes(failed_secs)[0]["sectionId"], "tc_two");

    let c_back = read_request(&w, &w.reader, &c_id).await;
    assert_eq!(c_back["state"], "STOPPED");
    assert_eq!(c_back["stopRequested"]["user"], "dave");
    assert_eq!(nodes(&c_back["items"])[0]["state"], "STOPPED");

    // One item, and its way back to its request.
    let one = ok(app, &w.reader, &item_q(), json!({ "i": b1 })).await["xpressoItem"].clone();
    assert_eq!(one["itemId"], json!(b1));
    assert_eq!(one["run"]["uid"], json!(format!("{b1}-run")));
    assert_eq!(
        one["request"],
        json!({"requestId": b_id, "state": "FAILED"})
    );

    // The same request over XPRESSO's REST API.
    let rest = crate::http::reply(
        app.client
            .get(format!("/api/v1/requests/{a_id}"))
            .header("authorization", format!("Jwt {}", w.reader))
            .send()
            .await,
    )
    .await;
    assert_eq!(rest.status, 200, "{}", rest.text());
    let rest = rest.json();
    assert_eq!(rest["request_id"], json!(a_id));
    assert_eq!(rest["state"], "FINISHED");
    assert_eq!(rest["verdict"], "PASSED");
    assert_eq!(rest["uuid"], a_back["uuid"]);
    assert_eq!(rest["service_url"], a_back["serviceUrl"]);
    assert_eq!(rest["consolidated_summary"]["total_tasks"], 3);
    let rest_item = &rest["items"][0];
    assert_eq!(rest_item["item_id"], json!(a1));
    assert_eq!(rest_item["state"], "FINISHED");
    assert_eq!(
        rest_item["results"]["run"]["uid"],
        json!(format!("{a1}-run"))
    );
    assert_eq!(
        rest_item["results"]["run"]["scripts"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn submissions_are_checked() {
    let w = world().await;
    let app = &w.app;
    let refused = |input: Value| {
        let carol = w.carol.clone();
        async move { fails(app, Some(&carol), SUBMIT, json!({ "i": input })).await }
    };
    for (input, words) in [
        (json!({}), "profile or a bundle"),
        (
            json!({"profile": w.profile, "bundle": w.bundle}),
            "not both",
        ),
        (
            json!({"profile": "0b3f5c1e-7d2a-4e8b-9c6f-1a2b3c4d5e6f"}),
            "Provided profile is not defined.",
        ),
        (
            json!({"bundle": "0b3f5c1e-7d2a-4e8b-9c6f-1a2b3c4d5e6f"}),
            "Provided bundle is not defined.",
        ),
        (
            json!({"profile": w.profile, "testbeds": [w.pod1], "topologies": [w.topologies[0]]}),
            "not both",
        ),
        (
            json!({"bundle": w.bundle, "testbeds": [w.pod1]}),
            "cannot be overridden",
        ),
        (json!({"profile": w.profile, "testbeds": []}), "empty"),
        (
            json!({"profile": w.profile, "maxRequestRuntimeSeconds": 604_801}),
            "max_request_runtime_seconds",
        ),
        (
            json!({"profile": w.profile, "parameters": [1]}),
            "parameters",
        ),
        (
            json!({"profile": w.profile, "parameters": {"env_vars": {"A": 1}}}),
            "parameters",
        ),
        (
            json!({"profile": w.profile, "parameters": {"unknown": {}}}),
            "parameters",
        ),
        (json!({"profile": w.profile, "tags": [""]}), "tag"),
    ] {
        let (c, m) = refused(input.clone()).await;
        assert_eq!(c, "BAD_USER_INPUT", "{input}: {m}");
        assert!(m.contains(words), "{input}: {m}");
    }

    // Testbeds and topologies of the submission replace the profile's: one item per topology.
    let r = submit(
        &w,
        &w.carol,
        json!({"profile": w.profile, "topologies": w.topologies}),
    )
    .await;
    assert_eq!(r["items"]["totalCount"], 3);
    let r = submit(
        &w,
        &w.carol,
        json!({"profile": w.profile, "testbeds": [w.pod2]}),
    )
    .await;
    let item = ok(
        app,
        &w.carol,
        "query($i: String!) { xpressoItem(itemId: $i) { submittedTestbeds { name } } }",
        json!({ "i": item_ids(&r)[0] }),
    )
    .await;
    assert_eq!(
        item["xpressoItem"]["submittedTestbeds"],
        json!([{"name": "pod2"}])
    );
}

// ---------------------------------------------------------------------------------------------
// Runners.

#[tokio::test]
async fn illegal_moves_are_refused_with_their_codes() {
    let w = world().await;
    let app = &w.app;
    let r = submit(&w, &w.carol, json!({"profile": w.profile})).await;
    let t = s(&r["postbackToken"]);
    let i = item_ids(&r)[0].clone();
    let mv = |to: &str| json!({"t": t, "i": i, "to": to});

    let (c, m) = fails(app, None, MOVE, mv("RUNNING")).await;
    assert_eq!(c, "BAD_USER_INPUT", "PREPARING cannot skip QUEUED: {m}");
    assert!(m.contains("PREPARING") && m.contains("RUNNING"), "{m}");
    for terminal in ["FINISHED", "FAILED", "STOPPED"] {
        let (c, m) = fails(app, None, MOVE, mv(terminal)).await;
        assert_eq!(c, "BAD_USER_INPUT", "{terminal}: {m}");
        assert!(m.contains("finishXpressoItem"), "{m}");
    }
    let (c, _) = fails(app, None, FINISH, json!({"t": t, "i": i, "s": "FINISHED"})).await;
    assert_eq!(c, "BAD_USER_INPUT", "FINISHED only from FINALIZING");
    assert_eq!(
        code(
            app,
            None,
            ATTACH,
            json!({"t": t, "i": i, "p": "RUN", "r": results(false)})
        )
        .await,
        "BAD_USER_INPUT",
        "results only while RUNNING or FINALIZING"
    );
    move_to(app, &t, &i, "QUEUED").await;
    let (c, m) = fails(app, None, MOVE, mv("QUEUED")).await;
    assert_eq!(c, "CONFLICT", "the same move twice: {m}");
    assert_eq!(
        code(app, None, MOVE, mv("PREPARING")).await,
        "BAD_USER_INPUT",
        "no way back"
    );
    let (c, m) = fails(
        app,
        None,
        MOVE,
        json!({"t": t, "i": i, "to": "RUNNING", "tb": "pod9"}),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT", "{m}");
    assert!(m.contains("pod9"), "{m}");
    assert_eq!(
        code(
            app,
            None,
            MOVE,
            json!({"t": t, "i": i, "to": "QUEUED", "tb": "pod1"})
        )
        .await,
        "BAD_USER_INPUT",
        "a testbed is chosen only when the item starts running"
    );
    move_to(app, &t, &i, "RUNNING").await;
    let (c, m) = fails(
        app,
        None,
        FINISH,
        json!({"t": t, "i": i, "s": "FINISHED", "e": "no"}),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT", "{m}");
    assert!(m.contains("errorDetail"), "{m}");
    let mut bad = results(false);
    bad["summary"]["fail"] = json!(-1);
    assert_eq!(
        code(
            app,
            None,
            ATTACH,
            json!({"t": t, "i": i, "p": "RUN", "r": bad})
        )
        .await,
        "BAD_USER_INPUT"
    );
    let mut bad = results(false);
    bad["resultsMeta"] = json!("text");
    assert_eq!(
        code(
            app,
            None,
            ATTACH,
            json!({"t": t, "i": i, "p": "RUN", "r": bad})
        )
        .await,
        "BAD_USER_INPUT"
    );
    let mut bad = results(false);
    bad["scripts"][0]["sections"][0]["uuid"] = json!("not-a-uuid");
    assert_eq!(
        code(
            app,
            None,
            ATTACH,
            json!({"t": t, "i": i, "p": "RUN", "r": bad})
        )
        .await,
        "BAD_USER_INPUT"
    );
    // Item ids: malformed, or of a position the request does not have.
    let (c, _) = fails(
        app,
        None,
        MOVE,
        json!({"t": t, "i": "REQ1", "to": "FINALIZING"}),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT");
    let number = i.trim_end_matches("-1");
    let (c, _) = fails(
        app,
        None,
        MOVE,
        json!({"t": t, "i": format!("{number}-7"), "to": "FINALIZING"}),
    )
    .await;
    assert_eq!(c, "NOT_FOUND");
    // FAILED from RUNNING; then nothing more.
    finish(app, &t, &i, "FAILED", Some("lost the console")).await;
    for to in ["QUEUED", "RUNNING", "FINALIZING"] {
        assert_eq!(
            code(app, None, MOVE, mv(to)).await,
            "BAD_USER_INPUT",
            "{to}"
        );
    }
    assert_eq!(
        code(app, None, FINISH, json!({"t": t, "i": i, "s": "FAILED"})).await,
        "CONFLICT",
        "already FAILED"
    );
}

#[tokio::test]
async fn postback_tokens_reach_only_their_request() {
    let w = world().await;
    let app = &w.app;
    let one = submit(&w, &w.carol, json!({"profile": w.profile})).await;
    let two = submit(&w, &w.frank, json!({"profile": w.profile})).await;
    let item = item_ids(&one)[0].clone();
    let mv = |t: &str| json!({"t": t, "i": item, "to": "QUEUED"});
    let attach_as = |t: &str| json!({"t": t, "i": item, "p": "RUN", "r": results(false)});
    let finish_as = |t: &str| json!({"t": t, "i": item, "s": "FAILED"});

    let long = "x".repeat(200);
    for bad in ["xpr_nothing", "", "Jwt ", long.as_str()] {
        for (q, vars) in [
            (MOVE, mv(bad)),
            (ATTACH, attach_as(bad)),
            (FINISH, finish_as(bad)),
        ] {
            assert_eq!(
                code(app, None, q, vars).await,
                "UNAUTHENTICATED",
                "{bad:?} is no request's token"
            );
        }
    }
    let other = s(&two["postbackToken"]);
    for (q, vars) in [
        (MOVE, mv(&other)),
        (ATTACH, attach_as(&other)),
        (FINISH, finish_as(&other)),
    ] {
        assert_eq!(
            code(app, None, q, vars).await,
            "FORBIDDEN",
            "another request's token"
        );
    }
    // An API token is neither needed nor enough.
    assert_eq!(
        code(app, Some(&w.admin), MOVE, mv("xpr_nothing")).await,
        "UNAUTHENTICATED"
    );
    let mine = s(&one["postbackToken"]);
    let moved = ok_as(app, Some(&w.outsider), MOVE, mv(&mine)).await;
    assert_eq!(moved["moveXpressoItem"]["state"], "QUEUED");
    // Nothing moved for the refused calls.
    let two_item = ok(app, &w.reader, &item_q(), json!({ "i": item_ids(&two)[0] })).await;
    assert_eq!(two_item["xpressoItem"]["state"], "PREPARING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_racing_runners_exactly_one_moves_the_item() {
    let w = world().await;
    let mut items = Vec::new();
    for _ in 0..4 {
        let r = submit(&w, &w.carol, json!({"profile": w.profile})).await;
        let t = s(&r["postbackToken"]);
        let i = item_ids(&r)[0].clone();
        move_to(&w.app, &t, &i, "QUEUED").await;
        items.push((t, i));
    }
    let app = Arc::new(w.app);
    for (t, i) in items {
        let mut racers = Vec::new();
        for _ in 0..2 {
            let app = app.clone();
            let vars = json!({"t": t, "i": i, "to": "RUNNING"});
            racers.push(tokio::spawn(
                async move { run(&app, None, MOVE, vars).await },
            ));
        }
        let mut won = 0;
        let mut lost = Vec::new();
        for r in racers {
            let answer = r.await.expect("join");
            if answer.get("errors").is_none() {
                assert_eq!(answer["data"]["moveXpressoItem"]["state"], "RUNNING");
                won += 1;
            } else {
                lost.push(s(&answer["errors"][0]["extensions"]["code"]));
            }
        }
        assert_eq!(won, 1, "exactly one runner wins {i}: lost {lost:?}");
        assert_eq!(lost, vec!["CONFLICT".to_owned()], "{i}");
    }
}

/// A phase's results of `n` sections in one script, each section with only what the input
/// requires (so that the largest upload stays well under the body limit).
fn sections_upload(n: usize) -> Value {
    let sections: Vec<Value> = (0..n)
        .map(|k| json!({ "sectionId": format!("s{k}") }))
        .collect();
    json!({"scripts": [{"taskId": "Task-1", "name": "bulk", "sections": sections}]})
}

#[tokio::test]
async fn a_request_holds_at_most_its_bound_of_sections() {
    let (per_upload, bound) = (MAX_SECTIONS, MAX_REQUEST_SECTIONS as usize);
    assert_eq!(
        bound % per_upload,
        0,
        "the bound is a number of full uploads"
    );
    let full = bound / per_upload;
    let w = world().await;
    let app = &w.app;
    // One item per topology, each with a run and a clean phase: room for the full uploads and
    // one more, each to a phase of its own (an upload replaces its phase's results).
    let r = submit(
        &w,
        &w.carol,
        json!({"profile": w.profile, "topologies": w.topologies}),
    )
    .await;
    let (id, t) = (s(&r["requestId"]), s(&r["postbackToken"]));
    let items = item_ids(&r);
    for i in &items {
        for to in ["QUEUED", "RUNNING"] {
            move_to(app, &t, i, to).await;
        }
    }
    let phases: Vec<(String, &str)> = items
        .iter()
        .flat_map(|i| [(i.clone(), "RUN"), (i.clone(), "CLEAN")])
        .collect();
    assert!(phases.len() > full, "{} phases", phases.len());

    // The request fills up to exactly its bound, each upload as large as one may be.
    for (i, phase) in &phases[..full] {
        let got = attach(app, &t, i, phase, sections_upload(per_upload)).await;
        assert_eq!(
            got["scripts"]["edges"][0]["node"]["sections"]["totalCount"], per_upload,
            "{i} {phase}"
        );
    }
    // One section more is refused, in the API's words.
    let (next, phase) = &phases[full];
    let (c, m) = fails(
        app,
        None,
        ATTACH,
        json!({"t": t, "i": next, "p": phase, "r": sections_upload(1)}),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT", "{m}");
    assert_eq!(
        m,
        format!(
            "scripts.sections: request {id} would hold more than {bound} sections \
             ({bound} in its other results)"
        )
    );

    // Nothing of the refused upload is stored; everything before it is.
    let counts = "{ scripts { totalCount edges { node { sections { totalCount } } } } }";
    let q = format!(
        "query($r: String!) {{ xpressoRequest(requestId: $r) {{ items(first: 10) {{ edges {{
           node {{ itemId run {counts} clean {counts} }} }} }} }} }}"
    );
    let got = ok(app, &w.reader, &q, json!({ "r": id })).await;
    let stored: Vec<(String, &str, Option<u64>)> = nodes(&got["xpressoRequest"]["items"])
        .iter()
        .flat_map(|n| {
            [("RUN", &n["run"]), ("CLEAN", &n["clean"])].map(|(phase, result)| {
                let sections = (!result.is_null()).then(|| {
                    nodes(&result["scripts"])
                        .iter()
                        .map(|sc| sc["sections"]["totalCount"].as_u64().expect("a count"))
                        .sum()
                });
                (s(&n["itemId"]), phase, sections)
            })
        })
        .collect();
    let expected: Vec<(String, &str, Option<u64>)> = phases
        .iter()
        .enumerate()
        .map(|(k, (i, phase))| (i.clone(), *phase, (k < full).then_some(per_upload as u64)))
        .collect();
    assert_eq!(stored, expected);
    let total: u64 = stored.iter().filter_map(|(_, _, n)| *n).sum();
    assert_eq!(total, MAX_REQUEST_SECTIONS);
}

// ---------------------------------------------------------------------------------------------
// Tokens and groups.

#[tokio::test]
async fn every_field_needs_its_permission_and_stays_in_its_group() {
    let w = world().await;
    let app = &w.app;
    let r = submit(&w, &w.carol, json!({"profile": w.profile})).await;
    let id = s(&r["requestId"]);
    let item = item_ids(&r)[0].clone();
    let list = "{ xpressoRequests { totalCount edges { node { requestId } } } }";
    let one = "query($r: String!) { xpressoRequest(requestId: $r) { requestId } }";
    let item_one = "query($i: String!) { xpressoItem(itemId: $i) { itemId } }";

    // Reads: no token, UNAUTHENTICATED; any XPRESSO permission of the group reads.
    for (q, vars) in [
        (list, json!({})),
        (one, json!({ "r": id })),
        (item_one, json!({ "i": item })),
    ] {
        assert_eq!(
            code(app, None, q, vars.clone()).await,
            "UNAUTHENTICATED",
            "{q}"
        );
        for t in [&w.reader, &w.carol, &w.stopper, &w.admin] {
            ok(app, t, q, vars.clone()).await;
        }
    }
    let listed = ok(app, &w.reader, list, json!({})).await;
    assert_eq!(listed["xpressoRequests"]["totalCount"], 1);
    // Another group sees nothing: an empty list, null for the request and the item.
    let theirs = ok(app, &w.outsider, list, json!({})).await;
    assert_eq!(theirs["xpressoRequests"]["totalCount"], 0);
    assert_eq!(theirs["xpressoRequests"]["edges"], json!([]));
    assert_eq!(
        ok(app, &w.outsider, one, json!({ "r": id })).await["xpressoRequest"],
        Value::Null
    );
    assert_eq!(
        ok(app, &w.outsider, item_one, json!({ "i": item })).await["xpressoItem"],
        Value::Null
    );
    // Unknown and malformed ids: null.
    for bad in ["REQ9999999", "REQ1", "nonsense"] {
        assert_eq!(
            ok(app, &w.reader, one, json!({ "r": bad })).await["xpressoRequest"],
            Value::Null,
            "{bad}"
        );
    }
    for bad in [format!("{id}-2"), format!("{id}-0"), "REQ9999999-1".into()] {
        assert_eq!(
            ok(app, &w.reader, item_one, json!({ "i": bad })).await["xpressoItem"],
            Value::Null,
            "{bad}"
        );
    }
    // A generic token of another group (`write`, group `default`) reads its own group: nothing.
    let generic = app.token(&[Scope::Write]).await;
    assert_eq!(
        ok(app, &generic, list, json!({})).await["xpressoRequests"]["totalCount"],
        0
    );

    // Submitting needs `run_request` (or `admin`).
    let sub = json!({"i": {"profile": w.profile}});
    assert_eq!(
        code(app, None, SUBMIT, sub.clone()).await,
        "UNAUTHENTICATED"
    );
    for t in [&w.reader, &w.stopper, &generic] {
        assert_eq!(code(app, Some(t), SUBMIT, sub.clone()).await, "FORBIDDEN");
    }
    ok(app, &w.admin, SUBMIT, sub.clone()).await;
    // Another group's profile is not defined in the caller's group.
    let (c, m) = fails(app, Some(&w.outsider), SUBMIT, sub.clone()).await;
    assert_eq!(
        (c.as_str(), m.as_str()),
        ("BAD_USER_INPUT", "Provided profile is not defined.")
    );
    let (c, m) = fails(
        app,
        Some(&w.outsider),
        SUBMIT,
        json!({"i": {"bundle": w.bundle}}),
    )
    .await;
    assert_eq!(
        (c.as_str(), m.as_str()),
        ("BAD_USER_INPUT", "Provided bundle is not defined.")
    );

    // Stopping needs `stop_request` (or `admin`), in the request's group.
    let stop = json!({"r": id, "why": "no"});
    assert_eq!(code(app, None, STOP, stop.clone()).await, "UNAUTHENTICATED");
    for t in [&w.reader, &w.carol, &generic] {
        assert_eq!(code(app, Some(t), STOP, stop.clone()).await, "FORBIDDEN");
    }
    assert_eq!(
        code(app, Some(&w.outsider), STOP, stop.clone()).await,
        "NOT_FOUND",
        "another group's request is not found"
    );
    for bad in ["REQ9999999", "nonsense"] {
        assert_eq!(
            code(app, Some(&w.stopper), STOP, json!({"r": bad, "why": ""})).await,
            "NOT_FOUND",
            "{bad}"
        );
    }
    let after = ok(app, &w.reader, one, json!({ "r": id })).await;
    assert_eq!(after["xpressoRequest"]["requestId"], json!(id));
    let state = ok(
        app,
        &w.reader,
        "query($r: String!) { xpressoRequest(requestId: $r) { state } }",
        json!({ "r": id }),
    )
    .await;
    assert_eq!(
        state["xpressoRequest"]["state"], "PREPARING",
        "no refused stop changed it"
    );
    ok(app, &w.admin, STOP, stop).await;
}

// ---------------------------------------------------------------------------------------------
// Lists.

/// Pages through a list, `n` a page; the request ids of each page.
async fn pages(w: &World, n: i64, filter: Value, order: Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = ok(
            &w.app,
            &w.reader,
            LIST,
            json!({"n": n, "after": after, "f": filter, "o": order}),
        )
        .await;
        let conn = &d["xpressoRequests"];
        assert_eq!(
            conn["pageInfo"]["hasPreviousPage"],
            json!(!after.is_null()),
            "{conn}"
        );
        out.push(ids(conn));
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = conn["pageInfo"]["endCursor"].clone();
        assert!(out.len() < 20, "paging does not end");
    }
}

async fn listed(w: &World, filter: Value, order: Value) -> (Vec<String>, i64) {
    let d = ok(
        &w.app,
        &w.reader,
        LIST,
        json!({"n": 100, "f": filter, "o": order}),
    )
    .await;
    let conn = &d["xpressoRequests"];
    (ids(conn), conn["totalCount"].as_i64().expect("totalCount"))
}

#[tokio::test]
async fn requests_are_paged_filtered_and_ordered() {
    let w = world().await;
    let app = &w.app;
    let input =
        |tags: Value, branch: Value| json!({"profile": w.profile, "tags": tags, "branch": branch});
    let mut reqs = Vec::new();
    for (token, tags, branch) in [
        (&w.carol, json!(["nightly", "smoke"]), json!("main")),
        (&w.frank, json!(["smoke"]), json!("dev")),
        (&w.carol, json!([]), Value::Null),
        (&w.frank, json!(["nightly"]), json!("main")),
        (&w.carol, json!(["weekly"]), json!("dev")),
    ] {
        reqs.push(submit(&w, token, input(tags, branch)).await);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    reqs.push(submit(&w, &w.carol, json!({"bundle": w.bundle, "branch": "main"})).await);
    let id: Vec<String> = reqs.iter().map(|r| s(&r["requestId"])).collect();
    let token: Vec<String> = reqs.iter().map(|r| s(&r["postbackToken"])).collect();
    let item = |k: usize, n: usize| format!("{}-{n}", id[k]);
    let pick = |ks: &[usize]| ks.iter().map(|k| id[*k].clone()).collect::<Vec<_>>();

    // r0 FINISHED, r1 FAILED, r2 RUNNING, r3 STOPPED, r4 PREPARING, r5 QUEUED.
    for to in ["QUEUED", "RUNNING", "FINALIZING"] {
        move_to(app, &token[0], &item(0, 1), to).await;
    }
    finish(app, &token[0], &item(0, 1), "FINISHED", None).await;
    finish(app, &token[1], &item(1, 1), "FAILED", Some("no")).await;
    for to in ["QUEUED", "RUNNING"] {
        move_to(app, &token[2], &item(2, 1), to).await;
    }
    ok(app, &w.stopper, STOP, json!({"r": id[3], "why": "enough"})).await;
    for n in [1, 2] {
        move_to(app, &token[5], &item(5, n), "QUEUED").await;
    }

    // Orders.
    let order = |field: &str, dir: &str| json!({"field": field, "direction": dir});
    assert_eq!(
        listed(&w, Value::Null, Value::Null).await,
        (pick(&[5, 4, 3, 2, 1, 0]), 6),
        "newest first"
    );
    assert_eq!(
        listed(&w, Value::Null, json!({"field": "NUMBER"})).await.0,
        pick(&[5, 4, 3, 2, 1, 0]),
        "descending unless told otherwise"
    );
    assert_eq!(
        listed(&w, Value::Null, order("NUMBER", "ASC")).await.0,
        pick(&[0, 1, 2, 3, 4, 5])
    );
    assert_eq!(
        listed(&w, Value::Null, order("DATE_CREATED", "ASC"))
            .await
            .0,
        pick(&[0, 1, 2, 3, 4, 5])
    );
    assert_eq!(
        listed(&w, Value::Null, order("DATE_CREATED", "DESC"))
            .await
            .0,
        pick(&[5, 4, 3, 2, 1, 0])
    );
    assert_eq!(
        listed(&w, Value::Null, order("STATE", "ASC")).await.0,
        pick(&[1, 0, 4, 5, 2, 3]),
        "FAILED FINISHED PREPARING QUEUED RUNNING STOPPED"
    );
    assert_eq!(
        listed(&w, Value::Null, order("DATE_COMPLETED", "ASC")).await,
        (pick(&[0, 1, 3]), 3),
        "only the requests that ended"
    );
    assert_eq!(
        listed(&w, Value::Null, order("DATE_COMPLETED", "DESC")).await,
        (pick(&[3, 1, 0]), 3)
    );
    assert_eq!(
        listed(
            &w,
            json!({"states": ["FINISHED", "RUNNING"]}),
            order("DATE_COMPLETED", "ASC")
        )
        .await,
        (pick(&[0]), 1)
    );
    assert_eq!(
        listed(
            &w,
            json!({"states": ["RUNNING"]}),
            order("DATE_COMPLETED", "ASC")
        )
        .await,
        (vec![], 0)
    );

    // Pages, in several orders.
    assert_eq!(
        pages(&w, 2, Value::Null, order("NUMBER", "ASC")).await,
        vec![pick(&[0, 1]), pick(&[2, 3]), pick(&[4, 5])]
    );
    assert_eq!(
        pages(&w, 4, Value::Null, Value::Null).await,
        vec![pick(&[5, 4, 3, 2]), pick(&[1, 0])]
    );
    assert_eq!(
        pages(&w, 4, Value::Null, order("STATE", "ASC")).await,
        vec![pick(&[1, 0, 4, 5]), pick(&[2, 3])]
    );
    assert_eq!(
        pages(&w, 1, Value::Null, order("STATE", "DESC")).await,
        [3, 2, 5, 4, 0, 1]
            .iter()
            .map(|k| pick(&[*k]))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        pages(&w, 2, Value::Null, order("DATE_COMPLETED", "DESC")).await,
        vec![pick(&[3, 1]), pick(&[0])]
    );
    assert_eq!(
        pages(&w, 2, Value::Null, order("DATE_CREATED", "DESC")).await,
        vec![pick(&[5, 4]), pick(&[3, 2]), pick(&[1, 0])]
    );
    assert_eq!(
        pages(&w, 2, json!({"submitters": ["carol"]}), Value::Null).await,
        vec![pick(&[5, 4]), pick(&[2, 0])]
    );

    // Filters.
    let f = |filter: Value| listed(&w, filter, Value::Null);
    assert_eq!(
        f(json!({"states": ["FINISHED", "FAILED"]})).await,
        (pick(&[1, 0]), 2)
    );
    assert_eq!(f(json!({"states": ["QUEUED"]})).await, (pick(&[5]), 1));
    assert_eq!(
        f(json!({"submitters": ["frank"]})).await,
        (pick(&[3, 1]), 2)
    );
    assert_eq!(f(json!({"submitters": ["frank", "carol"]})).await.1, 6);
    assert_eq!(f(json!({"submitters": ["nobody"]})).await, (vec![], 0));
    assert_eq!(f(json!({"tag": "nightly"})).await, (pick(&[3, 0]), 2));
    assert_eq!(f(json!({"tag": "smoke"})).await, (pick(&[1, 0]), 2));
    assert_eq!(
        f(json!({"tag": "nigh"})).await,
        (vec![], 0),
        "tags match whole"
    );
    assert_eq!(f(json!({"branches": ["dev"]})).await, (pick(&[4, 1]), 2));
    assert_eq!(f(json!({"branches": ["N/A"]})).await, (pick(&[2]), 1));
    assert_eq!(
        f(json!({"branches": ["main", "N/A"]})).await,
        (pick(&[5, 3, 2, 0]), 4)
    );
    let created: Vec<Value> = reqs.iter().map(|r| r["dateCreated"].clone()).collect();
    assert_eq!(
        f(json!({"createdAfter": created[2]})).await,
        (pick(&[5, 4, 3, 2]), 4),
        "from the instant, included"
    );
    assert_eq!(
        f(json!({"createdBefore": created[2]})).await,
        (pick(&[1, 0]), 2),
        "up to the instant, excluded"
    );
    assert_eq!(
        f(json!({"createdAfter": created[1], "createdBefore": created[4]})).await,
        (pick(&[3, 2, 1]), 3)
    );
    assert_eq!(
        f(json!({"submitters": ["carol"], "branches": ["main"], "tag": "smoke"})).await,
        (pick(&[0]), 1)
    );
    assert_eq!(
        f(json!({"states": ["FINISHED", "STOPPED", "QUEUED"], "submitters": ["frank"]})).await,
        (pick(&[3]), 1)
    );

    // totalCount alone reads no page; a cursor of another order, a page too large or negative,
    // a cursor that is no cursor: BAD_USER_INPUT.
    app.reset_statements();
    let d = ok(
        app,
        &w.reader,
        "{ xpressoRequests(filter: {tag: \"smoke\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(d["xpressoRequests"]["totalCount"], 2);
    assert_eq!(
        app.statements(),
        2,
        "the token and the count: {:#?}",
        app.statement_log()
    );
    let by_state = ok(
        app,
        &w.reader,
        LIST,
        json!({"n": 1, "o": order("STATE", "ASC")}),
    )
    .await;
    let state_cursor = by_state["xpressoRequests"]["pageInfo"]["endCursor"].clone();
    for (vars, what) in [
        (
            json!({"n": 1, "after": state_cursor}),
            "a STATE cursor in a NUMBER list",
        ),
        (
            json!({"n": 1, "after": state_cursor, "o": order("DATE_CREATED", "ASC")}),
            "a STATE cursor in a DATE_CREATED list",
        ),
        (json!({"n": 1, "after": "bm9wZQ"}), "no cursor"),
        (json!({"n": -1}), "negative"),
        (json!({"n": 101}), "over the page maximum"),
    ] {
        assert_eq!(
            code(app, Some(&w.reader), LIST, vars).await,
            "BAD_USER_INPUT",
            "{what}"
        );
    }

    // A request's items: paged, filtered by state, counted.
    let items_q = "query($r: String!, $n: Int, $after: String, $st: [XpressoState!]) {
        xpressoRequest(requestId: $r) { items(first: $n, after: $after, states: $st) {
          totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
          edges { node { itemId state } } } } }";
    let reader = w.reader.as_str();
    let items = |vars: Value| async move {
        ok(app, reader, items_q, vars).await["xpressoRequest"]["items"].clone()
    };
    let first = items(json!({"r": id[5], "n": 1})).await;
    assert_eq!(first["totalCount"], 2);
    assert_eq!(nodes(&first)[0]["itemId"], json!(item(5, 1)));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = items(json!({"r": id[5], "n": 1, "after": first["pageInfo"]["endCursor"]})).await;
    assert_eq!(nodes(&second)[0]["itemId"], json!(item(5, 2)));
    assert_eq!(
        (
            &second["pageInfo"]["hasNextPage"],
            &second["pageInfo"]["hasPreviousPage"]
        ),
        (&json!(false), &json!(true))
    );
    let queued = items(json!({"r": id[5], "st": ["QUEUED"]})).await;
    assert_eq!(queued["totalCount"], 2);
    let running = items(json!({"r": id[5], "st": ["RUNNING", "FAILED"]})).await;
    assert_eq!(
        (&running["totalCount"], nodes(&running).len()),
        (&json!(0), 0)
    );
    assert_eq!(
        code(
            app,
            Some(&w.reader),
            items_q,
            json!({"r": id[5], "after": "bm9wZQ"})
        )
        .await,
        "BAD_USER_INPUT"
    );

    // Another group lists nothing of this.
    let d = ok(app, &w.outsider, LIST, json!({"n": 100})).await;
    assert_eq!(d["xpressoRequests"]["totalCount"], 0);
}

// ---------------------------------------------------------------------------------------------
// Statements.

const NESTED: &str = "query($n: Int) { xpressoRequests(first: $n) { totalCount edges { node {
    requestId state consolidatedSummary { totalTasks successRate }
    items(first: 5) { totalCount edges { node { itemId state request { requestId }
      clean { uid }
      run { uid summary { pass } scripts(first: 5) { totalCount edges { node { taskId
        sections(first: 10) { totalCount edges { node { sectionId result } } }
        failed: sections(first: 10, result: [\"failed\"]) { totalCount edges { node { sectionId } } }
      } } } } } } } } } } }";

/// `n` bundle requests whose two items ran and have run results.
async fn ran(w: &World, n: usize) {
    for _ in 0..n {
        let r = submit(w, &w.carol, json!({"bundle": w.bundle})).await;
        let t = s(&r["postbackToken"]);
        for i in item_ids(&r) {
            for to in ["QUEUED", "RUNNING"] {
                move_to(&w.app, &t, &i, to).await;
            }
            attach(&w.app, &t, &i, "RUN", results(true)).await;
        }
    }
}

#[tokio::test]
async fn nested_query_costs_a_constant_number_of_statements() {
    let w = world().await;
    let app = &w.app;
    ran(&w, 1).await;

    app.reset_statements();
    let small = ok(app, &w.reader, NESTED, json!({"n": 20})).await;
    let small_count = app.statements();
    let small_log = app.statement_log();
    assert_eq!(nodes(&small["xpressoRequests"]).len(), 1);

    ran(&w, 6).await;
    app.reset_statements();
    let big = ok(app, &w.reader, NESTED, json!({"n": 20})).await;
    let big_count = app.statements();
    let requests = nodes(&big["xpressoRequests"]);
    assert_eq!(requests.len(), 7);
    for r in &requests {
        assert_eq!(r["consolidatedSummary"]["totalTasks"], 6, "{r}");
        let items = nodes(&r["items"]);
        assert_eq!((items.len(), &r["items"]["totalCount"]), (2, &json!(2)));
        for i in &items {
            assert_eq!(i["request"]["requestId"], r["requestId"]);
            assert_eq!(i["clean"], Value::Null);
            let scripts = nodes(&i["run"]["scripts"]);
            assert_eq!(scripts.len(), 2);
            assert_eq!(nodes(&scripts[0]["sections"]).len(), 3);
            assert_eq!(scripts[0]["failed"]["totalCount"], 1);
            assert_eq!(nodes(&scripts[1]["failed"]).len(), 0);
        }
    }
    assert_eq!(
        big_count,
        small_count,
        "statement count must not grow with rows: {:#?}",
        app.statement_log()
    );
    // The token; the requests and their count; their summaries; their items and counts; the
    // items' requests; their results; the scripts and their counts; the sections and their
    // counts, once without and once with the `result` filter.
    assert_eq!(small_count, 14, "{small_log:#?}");
}
