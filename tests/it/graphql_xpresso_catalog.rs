//! GraphQL over XPRESSO's catalog: testbeds, topologies, profiles and bundles created, read,
//! replaced and deleted through the endpoint; every validation rule with its `extensions.code`;
//! the token matrix (no token, `read`, `run_request`, `admin`) and the group wall (another
//! group's entries are NOT_FOUND and absent from lists); paging over more than a page.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;

/// Runs an operation as `token` and returns the whole answer.
async fn run(app: &TestApp, token: Option<&str>, q: &str, vars: Value) -> Value {
    app.graphql_as(q, vars, token).await
}

/// Runs an operation that must succeed and returns its data.
async fn ok(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    let r = run(app, Some(token), q, vars).await;
    assert!(r.get("errors").is_none(), "{q}\n{r}");
    r["data"].clone()
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

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
}

fn nodes(conn: &Value) -> Vec<Value> {
    conn["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {conn}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn names(conn: &Value) -> Vec<String> {
    nodes(conn)
        .iter()
        .map(|n| n["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

const GROUP_A: &str = "lab-a";
const GROUP_B: &str = "lab-b";

/// An application with an admin token of each group.
async fn app_with_admins() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let a = app.member_token(GROUP_A, "alice", &[Scope::Admin]).await;
    let b = app.member_token(GROUP_B, "bob", &[Scope::Admin]).await;
    (app, a, b)
}

const CREATE_TESTBED: &str = "mutation($i: XpressoTestbedInput!) {
    createXpressoTestbed(input: $i) { uuid name definition createdAt updatedAt } }";
const UPDATE_TESTBED: &str = "mutation($u: String!, $i: XpressoTestbedInput!) {
    updateXpressoTestbed(uuid: $u, input: $i) { uuid name definition createdAt updatedAt } }";
const DELETE_TESTBED: &str = "mutation($u: String!) { deleteXpressoTestbed(uuid: $u) { uuid } }";
const TESTBED: &str = "query($u: String!) {
    xpressoTestbed(uuid: $u) { uuid name definition createdAt updatedAt } }";
const TESTBEDS: &str =
    "query($n: Int, $after: String) { xpressoTestbeds(first: $n, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { uuid name } } } }";

const CREATE_TOPOLOGY: &str = "mutation($i: XpressoTopologyInput!) {
    createXpressoTopology(input: $i) { uuid name definition createdAt updatedAt } }";
const UPDATE_TOPOLOGY: &str = "mutation($u: String!, $i: XpressoTopologyInput!) {
    updateXpressoTopology(uuid: $u, input: $i) { uuid name definition createdAt updatedAt } }";
const DELETE_TOPOLOGY: &str = "mutation($u: String!) { deleteXpressoTopology(uuid: $u) { uuid } }";
const TOPOLOGY: &str = "query($u: String!) { xpressoTopology(uuid: $u) { uuid name definition } }";
const TOPOLOGIES: &str =
    "query($n: Int) { xpressoTopologies(first: $n) { totalCount edges { node { uuid name } } } }";

const PROFILE_FIELDS: &str = "uuid name job { name path uuid } harness engine { name type uuid }
    testbedUuids testbeds { uuid name } topologyUuid topology { uuid name } options env
    interestList maxRuntimeSeconds maxCleanRuntimeSeconds maxRequestRuntimeSeconds priority
    createdAt updatedAt";

fn create_profile_q() -> String {
    format!(
        "mutation($i: XpressoProfileInput!) {{ createXpressoProfile(input: $i) {{ {PROFILE_FIELDS} }} }}"
    )
}

fn update_profile_q() -> String {
    format!(
        "mutation($u: String!, $i: XpressoProfileInput!) {{
           updateXpressoProfile(uuid: $u, input: $i) {{ {PROFILE_FIELDS} }} }}"
    )
}

fn profile_q() -> String {
    format!("query($u: String!) {{ xpressoProfile(uuid: $u) {{ {PROFILE_FIELDS} }} }}")
}

const DELETE_PROFILE: &str = "mutation($u: String!) { deleteXpressoProfile(uuid: $u) { uuid } }";
const PROFILES: &str =
    "query($n: Int) { xpressoProfiles(first: $n) { totalCount edges { node { uuid name } } } }";

const BUNDLE_FIELDS: &str = "uuid name createdAt updatedAt entries { profileUuid
    profile { uuid name } testbedUuids testbeds { uuid name } topologyUuid topology { uuid name }
    parameters }";

fn create_bundle_q() -> String {
    format!(
        "mutation($i: XpressoBundleInput!) {{ createXpressoBundle(input: $i) {{ {BUNDLE_FIELDS} }} }}"
    )
}

fn update_bundle_q() -> String {
    format!(
        "mutation($u: String!, $i: XpressoBundleInput!) {{
           updateXpressoBundle(uuid: $u, input: $i) {{ {BUNDLE_FIELDS} }} }}"
    )
}

fn bundle_q() -> String {
    format!("query($u: String!) {{ xpressoBundle(uuid: $u) {{ {BUNDLE_FIELDS} }} }}")
}

const DELETE_BUNDLE: &str = "mutation($u: String!) { deleteXpressoBundle(uuid: $u) { uuid } }";
const BUNDLES: &str =
    "query($n: Int) { xpressoBundles(first: $n) { totalCount edges { node { uuid name } } } }";

/// A harness instance in the form of the seed's `harness_instances` entries.
fn harness() -> Value {
    json!({
        "oper_state": "ONLINE", "config_state": "ENABLED", "bldg": "ALL", "site": "SJC",
        "deleted": false, "name": "genie_env", "path": "/path/to/genie",
        "harness": {"name": "pyATS", "run": "easypy", "clean": "kleenex"}, "config": "",
        "uuid": "189f30a8-c475-4303-b638-77cc93f4073b", "support_liveview": true
    })
}

/// The smallest profile input: a name, a job, a harness and an engine.
fn profile_input(name: &str) -> Value {
    json!({
        "name": name,
        "job": {"name": "Job_VIRL", "path": "/path/to/job_virl.py"},
        "harness": harness(),
        "engine": {"name": "jenkins", "type": "jenkins"}
    })
}

async fn testbed(app: &TestApp, token: &str, name: &str) -> String {
    let d = ok(
        app,
        token,
        CREATE_TESTBED,
        json!({"i": {"name": name, "definition": format!("testbed:\n  name: {name}\n")}}),
    )
    .await;
    d["createXpressoTestbed"]["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned()
}

async fn topology(app: &TestApp, token: &str, name: &str) -> String {
    let d = ok(
        app,
        token,
        CREATE_TOPOLOGY,
        json!({"i": {"name": name, "definition": "{\"nodes\": []}"}}),
    )
    .await;
    d["createXpressoTopology"]["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned()
}

async fn profile(app: &TestApp, token: &str, input: Value) -> Value {
    ok(app, token, &create_profile_q(), json!({ "i": input })).await["createXpressoProfile"].clone()
}

fn uuid_of(v: &Value) -> String {
    v["uuid"].as_str().expect("uuid").to_owned()
}

/// A UUID no entry has.
const UNKNOWN: &str = "0b3f5c1e-7d2a-4e8b-9c6f-1a2b3c4d5e6f";

#[tokio::test]
async fn testbeds_and_topologies_are_created_read_replaced_and_deleted() {
    let (app, admin, _) = app_with_admins().await;

    let d = ok(
        &app,
        &admin,
        CREATE_TESTBED,
        json!({"i": {"name": "  pod12  ", "definition": "testbed:\n  name: pod12\n"}}),
    )
    .await;
    let created = d["createXpressoTestbed"].clone();
    let uuid = uuid_of(&created);
    assert!(
        uuid.len() == 36 && uuid == uuid.to_ascii_lowercase(),
        "{uuid}"
    );
    assert_eq!(created["name"], "pod12", "names are trimmed");
    assert_eq!(created["definition"], "testbed:\n  name: pod12\n");
    assert_eq!(created["createdAt"], created["updatedAt"]);

    // Read by its UUID in either case, and in the list.
    for u in [uuid.clone(), uuid.to_ascii_uppercase()] {
        let d = ok(&app, &admin, TESTBED, json!({ "u": u })).await;
        assert_eq!(d["xpressoTestbed"], created);
    }
    let d = ok(&app, &admin, TESTBEDS, json!({})).await;
    assert_eq!(d["xpressoTestbeds"]["totalCount"], 1);
    assert_eq!(names(&d["xpressoTestbeds"]), ["pod12"]);

    // Replaced: every field, `updatedAt` moves on, `createdAt` stays.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let d = ok(
        &app,
        &admin,
        UPDATE_TESTBED,
        json!({"u": uuid.to_ascii_uppercase(),
               "i": {"name": "pod12-shared", "definition": "testbed: {}"}}),
    )
    .await;
    let updated = &d["updateXpressoTestbed"];
    assert_eq!(updated["uuid"], uuid.as_str());
    assert_eq!(updated["name"], "pod12-shared");
    assert_eq!(updated["definition"], "testbed: {}");
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert!(ts(&updated["updatedAt"]) > ts(&created["updatedAt"]));
    // Keeping its own name is no conflict.
    ok(
        &app,
        &admin,
        UPDATE_TESTBED,
        json!({"u": uuid, "i": {"name": "pod12-shared", "definition": "testbed: {x: 1}"}}),
    )
    .await;

    // Deleted: the payload names it, then it is gone.
    let d = ok(
        &app,
        &admin,
        DELETE_TESTBED,
        json!({"u": uuid.to_ascii_uppercase()}),
    )
    .await;
    assert_eq!(d["deleteXpressoTestbed"]["uuid"], uuid.as_str());
    let d = ok(&app, &admin, TESTBED, json!({ "u": uuid })).await;
    assert_eq!(d["xpressoTestbed"], Value::Null);
    let d = ok(&app, &admin, TESTBEDS, json!({})).await;
    assert_eq!(d["xpressoTestbeds"]["totalCount"], 0);
    assert_eq!(
        code(&app, Some(&admin), DELETE_TESTBED, json!({ "u": uuid })).await,
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &app,
            Some(&admin),
            UPDATE_TESTBED,
            json!({"u": uuid, "i": {"name": "x", "definition": ""}})
        )
        .await,
        "NOT_FOUND"
    );

    // Topologies likewise.
    let d = ok(
        &app,
        &admin,
        CREATE_TOPOLOGY,
        json!({"i": {"name": "virl-3", "definition": "nodes: [r1, r2]"}}),
    )
    .await;
    let topo = d["createXpressoTopology"].clone();
    let tu = uuid_of(&topo);
    let d = ok(&app, &admin, TOPOLOGY, json!({ "u": tu })).await;
    assert_eq!(
        d["xpressoTopology"],
        json!({"uuid": tu, "name": "virl-3", "definition": "nodes: [r1, r2]"})
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let d = ok(
        &app,
        &admin,
        UPDATE_TOPOLOGY,
        json!({"u": tu, "i": {"name": "virl-4", "definition": "nodes: [r1]"}}),
    )
    .await;
    let t = &d["updateXpressoTopology"];
    assert_eq!(
        (t["name"].as_str(), t["definition"].as_str()),
        (Some("virl-4"), Some("nodes: [r1]"))
    );
    assert!(ts(&t["updatedAt"]) > ts(&topo["updatedAt"]));
    let d = ok(&app, &admin, TOPOLOGIES, json!({})).await;
    assert_eq!(d["xpressoTopologies"]["totalCount"], 1);
    assert_eq!(names(&d["xpressoTopologies"]), ["virl-4"]);
    let d = ok(&app, &admin, DELETE_TOPOLOGY, json!({ "u": tu })).await;
    assert_eq!(d["deleteXpressoTopology"]["uuid"], tu.as_str());
    let d = ok(&app, &admin, TOPOLOGY, json!({ "u": tu })).await;
    assert_eq!(d["xpressoTopology"], Value::Null);
    assert_eq!(
        code(&app, Some(&admin), DELETE_TOPOLOGY, json!({ "u": tu })).await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn profiles_are_created_read_replaced_and_deleted() {
    let (app, admin, _) = app_with_admins().await;
    let pod12 = testbed(&app, &admin, "pod12").await;
    let pod13 = testbed(&app, &admin, "pod13").await;
    let virl = topology(&app, &admin, "virl").await;

    // Everything given (a testbed UUID in upper case, which is stored in lower case).
    let mut input = profile_input("DEFAULT");
    input["job"]["uuid"] = json!("DDC7FE54-EE75-4A8D-A543-23FF36C9B8EA");
    input["engine"]["uuid"] = json!("75e32472-e6d9-425f-be88-49be550c2ef1");
    input["testbeds"] = json!([pod13.to_ascii_uppercase(), pod12]);
    input["options"] = json!({"-trigger_groups": "And('pyats', Not('physical'))"});
    input["env"] = json!({"PYTHONPATH": "/path/to/genie_group/pypi/"});
    input["interestList"] = json!(["user@company.com"]);
    input["maxRuntimeSeconds"] = json!(3600);
    input["maxCleanRuntimeSeconds"] = json!(600);
    input["maxRequestRuntimeSeconds"] = json!(86400);
    input["priority"] = json!(7);
    let p = profile(&app, &admin, input).await;
    let pu = uuid_of(&p);
    assert_eq!(p["name"], "DEFAULT");
    assert_eq!(
        p["job"],
        json!({"name": "Job_VIRL", "path": "/path/to/job_virl.py",
               "uuid": "ddc7fe54-ee75-4a8d-a543-23ff36c9b8ea"})
    );
    assert_eq!(p["harness"], harness());
    assert_eq!(
        p["engine"],
        json!({"name": "jenkins", "type": "jenkins", "uuid": "75e32472-e6d9-425f-be88-49be550c2ef1"})
    );
    assert_eq!(p["testbedUuids"], json!([pod13, pod12]));
    assert_eq!(
        p["testbeds"],
        json!([{"uuid": pod13, "name": "pod13"}, {"uuid": pod12, "name": "pod12"}]),
        "in the order given"
    );
    assert_eq!(p["topologyUuid"], Value::Null);
    assert_eq!(p["topology"], Value::Null);
    assert_eq!(
        p["options"],
        json!({"-trigger_groups": "And('pyats', Not('physical'))"})
    );
    assert_eq!(
        p["env"],
        json!({"PYTHONPATH": "/path/to/genie_group/pypi/"})
    );
    assert_eq!(p["interestList"], json!(["user@company.com"]));
    assert_eq!(
        (
            &p["maxRuntimeSeconds"],
            &p["maxCleanRuntimeSeconds"],
            &p["maxRequestRuntimeSeconds"],
            &p["priority"]
        ),
        (&json!(3600), &json!(600), &json!(86400), &json!(7))
    );
    let d = ok(&app, &admin, &profile_q(), json!({ "u": pu })).await;
    assert_eq!(d["xpressoProfile"], p);

    // The least given: the defaults, and the job's and engine's UUIDs made.
    let q = profile(&app, &admin, profile_input("minimal")).await;
    assert_eq!(q["priority"], 4);
    assert_eq!(q["maxRuntimeSeconds"], 43200);
    assert_eq!(q["maxCleanRuntimeSeconds"], 0);
    assert_eq!(q["maxRequestRuntimeSeconds"], 43200);
    assert_eq!(q["testbeds"], json!([]));
    assert_eq!(q["options"], json!({}));
    assert_eq!(q["env"], json!({}));
    assert_eq!(q["interestList"], json!([]));
    let job_uuid = q["job"]["uuid"].as_str().expect("job uuid").to_owned();
    let engine_uuid = q["engine"]["uuid"]
        .as_str()
        .expect("engine uuid")
        .to_owned();
    assert_eq!(job_uuid.len(), 36);
    assert_eq!(engine_uuid.len(), 36);
    assert_ne!(job_uuid, engine_uuid);

    // Replaced: fields left out take their defaults again; the UUIDs not given are kept.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut input = profile_input("minimal-virl");
    input["topology"] = json!(virl.to_ascii_uppercase());
    input["job"]["path"] = json!("/path/to/other.py");
    let d = ok(
        &app,
        &admin,
        &update_profile_q(),
        json!({"u": uuid_of(&q), "i": input}),
    )
    .await;
    let r = &d["updateXpressoProfile"];
    assert_eq!(r["name"], "minimal-virl");
    assert_eq!(r["job"]["path"], "/path/to/other.py");
    assert_eq!(r["job"]["uuid"], job_uuid.as_str());
    assert_eq!(r["engine"]["uuid"], engine_uuid.as_str());
    assert_eq!(r["topologyUuid"], virl.as_str());
    assert_eq!(r["topology"], json!({"uuid": virl, "name": "virl"}));
    assert_eq!(r["createdAt"], q["createdAt"]);
    assert!(ts(&r["updatedAt"]) > ts(&q["updatedAt"]));
    let mut input = profile_input("DEFAULT");
    input["priority"] = json!(0);
    let d = ok(
        &app,
        &admin,
        &update_profile_q(),
        json!({"u": pu, "i": input}),
    )
    .await;
    let r = &d["updateXpressoProfile"];
    assert_eq!(r["priority"], 0);
    assert_eq!(r["testbeds"], json!([]), "testbeds left out are none");
    assert_eq!(r["maxRuntimeSeconds"], 43200);
    assert_eq!(r["job"]["uuid"], "ddc7fe54-ee75-4a8d-a543-23ff36c9b8ea");

    // A testbed or topology deleted under a profile: its UUID stays, the object is gone.
    let mut input = profile_input("on-pods");
    input["testbeds"] = json!([pod12, pod13]);
    let on_pods = uuid_of(&profile(&app, &admin, input).await);
    ok(&app, &admin, DELETE_TESTBED, json!({ "u": pod12 })).await;
    ok(&app, &admin, DELETE_TOPOLOGY, json!({ "u": virl })).await;
    let d = ok(&app, &admin, &profile_q(), json!({ "u": on_pods })).await;
    assert_eq!(d["xpressoProfile"]["testbedUuids"], json!([pod12, pod13]));
    assert_eq!(
        d["xpressoProfile"]["testbeds"],
        json!([{"uuid": pod13, "name": "pod13"}])
    );
    let d = ok(&app, &admin, &profile_q(), json!({ "u": uuid_of(&q) })).await;
    assert_eq!(d["xpressoProfile"]["topologyUuid"], virl.as_str());
    assert_eq!(d["xpressoProfile"]["topology"], Value::Null);

    let d = ok(&app, &admin, PROFILES, json!({})).await;
    assert_eq!(d["xpressoProfiles"]["totalCount"], 3);
    assert_eq!(
        names(&d["xpressoProfiles"]),
        ["DEFAULT", "minimal-virl", "on-pods"]
    );
    let d = ok(&app, &admin, DELETE_PROFILE, json!({ "u": pu })).await;
    assert_eq!(d["deleteXpressoProfile"]["uuid"], pu.as_str());
    let d = ok(&app, &admin, &profile_q(), json!({ "u": pu })).await;
    assert_eq!(d["xpressoProfile"], Value::Null);
    assert_eq!(
        code(&app, Some(&admin), DELETE_PROFILE, json!({ "u": pu })).await,
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &app,
            Some(&admin),
            &update_profile_q(),
            json!({"u": pu, "i": profile_input("DEFAULT")})
        )
        .await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn bundles_are_created_read_replaced_and_deleted() {
    let (app, admin, _) = app_with_admins().await;
    let pod12 = testbed(&app, &admin, "pod12").await;
    let virl = topology(&app, &admin, "virl").await;
    let p1 = uuid_of(&profile(&app, &admin, profile_input("sanity")).await);
    let p2 = uuid_of(&profile(&app, &admin, profile_input("regression")).await);

    let input = json!({"name": "nightly", "entries": [
        {"profile": p1.to_ascii_uppercase(), "testbeds": [pod12],
         "parameters": {"env_vars": {"ATS_SECURE_HOSTS": "a b"},
                        "job_args": {"--turbo": true, "--run-again": "some value"},
                        "harness_args": {"--loglevel": "INFO"}}},
        {"profile": p2, "topology": virl}
    ]});
    let d = ok(&app, &admin, &create_bundle_q(), json!({ "i": input })).await;
    let b = d["createXpressoBundle"].clone();
    let bu = uuid_of(&b);
    assert_eq!(b["name"], "nightly");
    assert_eq!(
        b["entries"],
        json!([
            {"profileUuid": p1, "profile": {"uuid": p1, "name": "sanity"},
             "testbedUuids": [pod12], "testbeds": [{"uuid": pod12, "name": "pod12"}],
             "topologyUuid": null, "topology": null,
             "parameters": {"env_vars": {"ATS_SECURE_HOSTS": "a b"},
                            "job_args": {"--turbo": true, "--run-again": "some value"},
                            "harness_args": {"--loglevel": "INFO"}}},
            {"profileUuid": p2, "profile": {"uuid": p2, "name": "regression"},
             "testbedUuids": [], "testbeds": [],
             "topologyUuid": virl, "topology": {"uuid": virl, "name": "virl"},
             "parameters": {"env_vars": {}, "job_args": {}, "harness_args": {}}}
        ])
    );
    let d = ok(&app, &admin, &bundle_q(), json!({ "u": bu })).await;
    assert_eq!(d["xpressoBundle"], b);

    // Replaced.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let d = ok(
        &app,
        &admin,
        &update_bundle_q(),
        json!({"u": bu, "i": {"name": "weekly", "entries": [{"profile": p2}]}}),
    )
    .await;
    let r = &d["updateXpressoBundle"];
    assert_eq!(r["name"], "weekly");
    assert_eq!(r["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["entries"][0]["profile"]["name"], "regression");
    assert_eq!(r["createdAt"], b["createdAt"]);
    assert!(ts(&r["updatedAt"]) > ts(&b["updatedAt"]));

    // A profile deleted under a bundle: the entry keeps its UUID, the profile is gone.
    ok(&app, &admin, DELETE_PROFILE, json!({ "u": p2 })).await;
    let d = ok(&app, &admin, &bundle_q(), json!({ "u": bu })).await;
    assert_eq!(d["xpressoBundle"]["entries"][0]["profileUuid"], p2.as_str());
    assert_eq!(d["xpressoBundle"]["entries"][0]["profile"], Value::Null);

    let d = ok(&app, &admin, BUNDLES, json!({})).await;
    assert_eq!(d["xpressoBundles"]["totalCount"], 1);
    assert_eq!(names(&d["xpressoBundles"]), ["weekly"]);
    let d = ok(&app, &admin, DELETE_BUNDLE, json!({ "u": bu })).await;
    assert_eq!(d["deleteXpressoBundle"]["uuid"], bu.as_str());
    let d = ok(&app, &admin, &bundle_q(), json!({ "u": bu })).await;
    assert_eq!(d["xpressoBundle"], Value::Null);
    assert_eq!(
        code(&app, Some(&admin), DELETE_BUNDLE, json!({ "u": bu })).await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn invalid_input_is_refused_with_its_code() {
    let (app, admin, other) = app_with_admins().await;
    let pod12 = testbed(&app, &admin, "pod12").await;
    let virl = topology(&app, &admin, "virl").await;
    let p1 = uuid_of(&profile(&app, &admin, profile_input("sanity")).await);
    let tb = |name: Value, definition: &str| json!({"i": {"name": name, "definition": definition}});

    // Names: empty, blank, too long, a control character.
    for bad in [
        json!(""),
        json!("   "),
        json!("x".repeat(256)),
        json!("pod\n12"),
    ] {
        let (c, m) = fails(&app, Some(&admin), CREATE_TESTBED, tb(bad.clone(), "")).await;
        assert_eq!(c, "BAD_USER_INPUT", "{bad}");
        assert!(m.contains("name"), "{m}");
        assert_eq!(
            code(&app, Some(&admin), CREATE_TOPOLOGY, tb(bad.clone(), "")).await,
            "BAD_USER_INPUT"
        );
        let mut p = profile_input("x");
        p["name"] = bad.clone();
        assert_eq!(
            code(&app, Some(&admin), &create_profile_q(), json!({ "i": p })).await,
            "BAD_USER_INPUT"
        );
        assert_eq!(
            code(
                &app,
                Some(&admin),
                &create_bundle_q(),
                json!({"i": {"name": bad, "entries": [{"profile": p1}]}})
            )
            .await,
            "BAD_USER_INPUT"
        );
    }
    ok(&app, &admin, CREATE_TESTBED, tb(json!("x".repeat(255)), "")).await;
    // Definitions: at most 1 MiB, no NUL.
    let (c, m) = fails(
        &app,
        Some(&admin),
        CREATE_TESTBED,
        tb(json!("big"), &"y".repeat(1024 * 1024 + 1)),
    )
    .await;
    assert_eq!(
        (c.as_str(), m.contains("definition")),
        ("BAD_USER_INPUT", true),
        "{m}"
    );
    assert_eq!(
        code(
            &app,
            Some(&admin),
            CREATE_TESTBED,
            tb(json!("nul"), "a\u{0}b")
        )
        .await,
        "BAD_USER_INPUT"
    );

    // Duplicate names in a group: CONFLICT, on creation and on renaming; another group may.
    let (c, m) = fails(&app, Some(&admin), CREATE_TESTBED, tb(json!("pod12"), "")).await;
    assert_eq!(c, "CONFLICT");
    assert!(m.contains("pod12") && m.contains("already exists"), "{m}");
    assert_eq!(
        code(&app, Some(&admin), CREATE_TESTBED, tb(json!(" pod12 "), "")).await,
        "CONFLICT",
        "names are compared trimmed"
    );
    let pod13 = testbed(&app, &admin, "pod13").await;
    assert_eq!(
        code(
            &app,
            Some(&admin),
            UPDATE_TESTBED,
            json!({"u": pod13, "i": {"name": "pod12", "definition": ""}})
        )
        .await,
        "CONFLICT"
    );
    assert_eq!(
        code(&app, Some(&admin), CREATE_TOPOLOGY, tb(json!("virl"), "")).await,
        "CONFLICT"
    );
    assert_eq!(
        code(
            &app,
            Some(&admin),
            &create_profile_q(),
            json!({"i": profile_input("sanity")})
        )
        .await,
        "CONFLICT"
    );
    let bundle = json!({"name": "nightly", "entries": [{"profile": p1}]});
    ok(&app, &admin, &create_bundle_q(), json!({ "i": bundle })).await;
    assert_eq!(
        code(
            &app,
            Some(&admin),
            &create_bundle_q(),
            json!({ "i": bundle })
        )
        .await,
        "CONFLICT"
    );
    testbed(&app, &other, "pod12").await;
    topology(&app, &other, "virl").await;

    // Profiles.
    let profile_error = |change: Value| {
        let mut p = profile_input("checked");
        for (k, v) in change.as_object().expect("an object") {
            p[k] = v.clone();
        }
        let app = &app;
        let admin = admin.clone();
        async move { fails(app, Some(&admin), &create_profile_q(), json!({ "i": p })).await }
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({"testbeds": [UNKNOWN]}), "is not defined"),
        (json!({"testbeds": ["pod12"]}), "not a UUID"),
        (json!({"topology": UNKNOWN}), "is not defined"),
        (json!({"testbeds": [pod12], "topology": virl}), "not both"),
        (json!({"env": {"PATH": "/bin", "N": 3}}), "must be a string"),
        (json!({"env": ["PATH"]}), "JSON object"),
        (json!({"harness": "genie_env"}), "JSON object"),
        (json!({"options": 1}), "JSON object"),
        (json!({"maxRuntimeSeconds": -1}), "max_runtime_seconds"),
        (json!({"maxRuntimeSeconds": 604_801}), "max_runtime_seconds"),
        (
            json!({"maxCleanRuntimeSeconds": 604_801}),
            "max_clean_runtime_seconds",
        ),
        (
            json!({"maxRequestRuntimeSeconds": -5}),
            "max_request_runtime_seconds",
        ),
        (json!({"priority": 11}), "priority"),
        (json!({"priority": -1}), "priority"),
        (json!({"interestList": [""]}), "interest_list"),
        (json!({"interestList": vec!["a@b.c"; 101]}), "interest_list"),
        (json!({"job": {"name": "j", "path": ""}}), "job.path"),
        (
            json!({"job": {"name": "j", "path": "/p", "uuid": "nope"}}),
            "job.uuid",
        ),
        (
            json!({"engine": {"name": "", "type": "jenkins"}}),
            "engine.name",
        ),
        (
            json!({"engine": {"name": "j", "type": "jenkins", "uuid": "x"}}),
            "engine.uuid",
        ),
    ];
    for (change, says) in cases {
        let (c, m) = profile_error(change.clone()).await;
        assert_eq!(c, "BAD_USER_INPUT", "{change}: {m}");
        assert!(m.contains(says), "{change}: {m}");
    }
    let (_, m) = profile_error(json!({ "testbeds": [pod12, UNKNOWN] })).await;
    assert!(
        m.contains(&format!("testbed {UNKNOWN} is not defined")),
        "{m}"
    );
    // The limits themselves are accepted.
    let mut edge = profile_input("edge");
    edge["maxRuntimeSeconds"] = json!(604_800);
    edge["maxCleanRuntimeSeconds"] = json!(0);
    edge["priority"] = json!(10);
    edge["interestList"] = json!(vec!["a@b.c"; 100]);
    profile(&app, &admin, edge).await;
    // Another group's testbed is not defined for this one.
    let mut theirs = profile_input("theirs");
    theirs["testbeds"] = json!([pod12]);
    let (c, m) = fails(
        &app,
        Some(&other),
        &create_profile_q(),
        json!({ "i": theirs }),
    )
    .await;
    assert_eq!(c, "BAD_USER_INPUT");
    assert!(m.contains("is not defined"), "{m}");
    // An update is checked the same way.
    let mut both = profile_input("sanity");
    both["testbeds"] = json!([pod12]);
    both["topology"] = json!(virl);
    assert_eq!(
        code(
            &app,
            Some(&admin),
            &update_profile_q(),
            json!({"u": p1, "i": both})
        )
        .await,
        "BAD_USER_INPUT"
    );

    // Bundles.
    let bundle_cases: Vec<(Value, &str)> = vec![
        (json!([]), "1 to 100 entries"),
        (json!([{"profile": UNKNOWN}]), "is not defined"),
        (json!([{"profile": "sanity"}]), "not a UUID"),
        (
            json!([{"profile": p1, "testbeds": [UNKNOWN]}]),
            "is not defined",
        ),
        (
            json!([{"profile": p1, "topology": UNKNOWN}]),
            "is not defined",
        ),
        (
            json!([{"profile": p1, "testbeds": [pod12], "topology": virl}]),
            "not both",
        ),
        (
            json!([{"profile": p1, "parameters": {"env_vars": {"A": 1}}}]),
            "env_vars",
        ),
        (
            json!([{"profile": p1, "parameters": {"job_args": {"--n": 3}}}]),
            "job_args",
        ),
        (
            json!([{"profile": p1, "parameters": {"other": {}}}]),
            "parameters",
        ),
        (json!([{"profile": p1, "parameters": [1]}]), "JSON object"),
        (json!(vec![json!({"profile": p1}); 101]), "1 to 100 entries"),
    ];
    for (entries, says) in bundle_cases {
        let (c, m) = fails(
            &app,
            Some(&admin),
            &create_bundle_q(),
            json!({"i": {"name": "checked", "entries": entries}}),
        )
        .await;
        assert_eq!(c, "BAD_USER_INPUT", "{entries}: {m}");
        assert!(m.contains(says), "{entries}: {m}");
    }
    let (_, m) = fails(
        &app,
        Some(&admin),
        &create_bundle_q(),
        json!({"i": {"name": "checked", "entries": [{"profile": p1}, {"profile": UNKNOWN}]}}),
    )
    .await;
    assert!(m.contains("entries[1].profile"), "{m}");
    assert!(
        m.contains(&format!("profile {UNKNOWN} is not defined")),
        "{m}"
    );

    // Nothing of the refused input was stored.
    let d = ok(&app, &admin, PROFILES, json!({})).await;
    assert_eq!(names(&d["xpressoProfiles"]), ["sanity", "edge"]);
    let d = ok(&app, &admin, BUNDLES, json!({})).await;
    assert_eq!(names(&d["xpressoBundles"]), ["nightly"]);
}

#[tokio::test]
async fn tokens_decide_who_reads_and_who_manages() {
    let (app, admin, other) = app_with_admins().await;
    let reader = app.member_token(GROUP_A, "rita", &[Scope::Read]).await;
    let runner = app.member_token(GROUP_A, "ron", &[Scope::RunRequest]).await;
    let writer = app.member_token(GROUP_A, "wes", &[Scope::Write]).await;
    let pod12 = testbed(&app, &admin, "pod12").await;
    let virl = topology(&app, &admin, "virl").await;
    let p1 = uuid_of(&profile(&app, &admin, profile_input("sanity")).await);
    let d = ok(
        &app,
        &admin,
        &create_bundle_q(),
        json!({"i": {"name": "nightly", "entries": [{"profile": p1}]}}),
    )
    .await;
    let b1 = uuid_of(&d["createXpressoBundle"]);

    let reads: Vec<(String, Value, &str)> = vec![
        (TESTBEDS.to_owned(), json!({}), "xpressoTestbeds"),
        (TOPOLOGIES.to_owned(), json!({}), "xpressoTopologies"),
        (PROFILES.to_owned(), json!({}), "xpressoProfiles"),
        (BUNDLES.to_owned(), json!({}), "xpressoBundles"),
        (TESTBED.to_owned(), json!({ "u": pod12 }), "xpressoTestbed"),
        (TOPOLOGY.to_owned(), json!({ "u": virl }), "xpressoTopology"),
        (profile_q(), json!({ "u": p1 }), "xpressoProfile"),
        (bundle_q(), json!({ "u": b1 }), "xpressoBundle"),
    ];
    let new = json!({"name": "new", "definition": ""});
    let renamed = json!({"name": "renamed", "definition": ""});
    // In an order the group's admin can run them in at the end.
    let writes: Vec<(String, Value)> = vec![
        (CREATE_TESTBED.to_owned(), json!({ "i": new })),
        (UPDATE_TESTBED.to_owned(), json!({"u": pod12, "i": renamed})),
        (DELETE_TESTBED.to_owned(), json!({ "u": pod12 })),
        (CREATE_TOPOLOGY.to_owned(), json!({ "i": new })),
        (UPDATE_TOPOLOGY.to_owned(), json!({"u": virl, "i": renamed})),
        (DELETE_TOPOLOGY.to_owned(), json!({ "u": virl })),
        (
            create_bundle_q(),
            json!({"i": {"name": "new", "entries": [{"profile": p1}]}}),
        ),
        (
            update_bundle_q(),
            json!({"u": b1, "i": {"name": "renamed", "entries": [{"profile": p1}]}}),
        ),
        (DELETE_BUNDLE.to_owned(), json!({ "u": b1 })),
        (create_profile_q(), json!({"i": profile_input("new")})),
        (
            update_profile_q(),
            json!({"u": p1, "i": profile_input("renamed")}),
        ),
        (DELETE_PROFILE.to_owned(), json!({ "u": p1 })),
    ];

    // No token: nothing, reads included.
    for (q, vars, _) in &reads {
        assert_eq!(
            code(&app, None, q, vars.clone()).await,
            "UNAUTHENTICATED",
            "{q}"
        );
    }
    for (q, vars) in &writes {
        assert_eq!(
            code(&app, None, q, vars.clone()).await,
            "UNAUTHENTICATED",
            "{q}"
        );
    }
    // `read`, `run_request` and `write` read their group's catalog and change nothing.
    for token in [&reader, &runner, &writer] {
        for (q, vars, field) in &reads {
            let d = ok(&app, token, q, vars.clone()).await;
            let v = &d[*field];
            assert!(v.get("uuid").is_some() || v["totalCount"] == 1, "{q}: {d}");
        }
        for (q, vars) in &writes {
            assert_eq!(
                code(&app, Some(token), q, vars.clone()).await,
                "FORBIDDEN",
                "{q}"
            );
        }
    }

    // Another group's admin sees none of it and can change none of it.
    for (q, vars, field) in &reads {
        let d = ok(&app, &other, q, vars.clone()).await;
        let v = &d[*field];
        assert!(
            v.is_null() || (v["totalCount"] == 0 && v["edges"] == json!([])),
            "{q}: {d}"
        );
    }
    for (q, vars) in writes.iter().filter(|(q, _)| !q.contains("mutation($i")) {
        assert_eq!(
            code(&app, Some(&other), q, vars.clone()).await,
            "NOT_FOUND",
            "{q}"
        );
    }
    // Nor name it in a profile or bundle of its own.
    let mut p = profile_input("theirs");
    p["topology"] = json!(virl);
    assert_eq!(
        code(&app, Some(&other), &create_profile_q(), json!({ "i": p })).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code(
            &app,
            Some(&other),
            &create_bundle_q(),
            json!({"i": {"name": "theirs", "entries": [{"profile": p1}]}})
        )
        .await,
        "BAD_USER_INPUT"
    );
    // What it creates is its own, under the same names.
    let theirs = testbed(&app, &other, "pod12").await;
    assert_ne!(theirs, pod12);
    let d = ok(&app, &other, TESTBEDS, json!({})).await;
    assert_eq!(
        nodes(&d["xpressoTestbeds"]),
        [json!({"uuid": theirs, "name": "pod12"})]
    );

    // Group A's catalog is untouched, and its admin may do all of it.
    for (q, vars, field) in &reads {
        let d = ok(&app, &admin, q, vars.clone()).await;
        assert!(
            d[*field].get("uuid").is_some() || d[*field]["totalCount"] == 1,
            "{q}: {d}"
        );
    }
    for (q, vars) in &writes {
        ok(&app, &admin, q, vars.clone()).await;
    }
}

#[tokio::test]
async fn lists_page_in_creation_order() {
    let (app, admin, other) = app_with_admins().await;
    let mut made = Vec::new();
    for i in 0..25 {
        made.push(testbed(&app, &admin, &format!("pod{i:02}")).await);
        if i % 5 == 0 {
            testbed(&app, &other, &format!("theirs{i:02}")).await;
        }
    }

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let d = ok(&app, &admin, TESTBEDS, json!({"n": 10, "after": after})).await;
        let conn = &d["xpressoTestbeds"];
        assert_eq!(conn["totalCount"], 25);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], after.is_some());
        for n in nodes(conn) {
            seen.push(n["uuid"].as_str().expect("uuid").to_owned());
        }
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        assert!(after.is_some(), "{conn}");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made, "every testbed once, in creation order");

    // The page default, and the bounds of `first`.
    let d = ok(&app, &admin, TESTBEDS, json!({})).await;
    assert_eq!(nodes(&d["xpressoTestbeds"]).len(), 20);
    assert_eq!(d["xpressoTestbeds"]["pageInfo"]["hasNextPage"], true);
    let d = ok(&app, &admin, TESTBEDS, json!({"n": 0})).await;
    assert_eq!(nodes(&d["xpressoTestbeds"]).len(), 0);
    assert_eq!(d["xpressoTestbeds"]["totalCount"], 25);
    for (vars, what) in [
        (json!({"n": -1}), "negative first"),
        (json!({"n": 101}), "first over the maximum"),
        (json!({"after": "not-a-cursor"}), "a bad cursor"),
    ] {
        assert_eq!(
            code(&app, Some(&admin), TESTBEDS, vars).await,
            "BAD_USER_INPUT",
            "{what}"
        );
    }
    let d = ok(&app, &other, TESTBEDS, json!({"n": 100})).await;
    assert_eq!(d["xpressoTestbeds"]["totalCount"], 5);

    // Profiles and bundles page the same way.
    for i in 0..3 {
        profile(&app, &admin, profile_input(&format!("p{i}"))).await;
    }
    let d = ok(&app, &admin, PROFILES, json!({"n": 2})).await;
    assert_eq!(d["xpressoProfiles"]["totalCount"], 3);
    assert_eq!(names(&d["xpressoProfiles"]), ["p0", "p1"]);

    // Only the total asked: the count alone.
    let d = ok(
        &app,
        &admin,
        "{ xpressoTestbeds { totalCount } xpressoProfiles { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(d["xpressoTestbeds"]["totalCount"], 25);
    assert_eq!(d["xpressoProfiles"]["totalCount"], 3);
}

#[tokio::test]
async fn racing_creations_of_one_name_leave_one_entry() {
    let (app, admin, _) = app_with_admins().await;
    let vars = json!({"i": {"name": "pod12", "definition": ""}});
    let answers = futures_util::future::join_all(
        (0..6).map(|_| run(&app, Some(&admin), CREATE_TESTBED, vars.clone())),
    )
    .await;
    let created = answers.iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(created, 1, "{answers:?}");
    for r in answers.iter().filter(|r| r.get("errors").is_some()) {
        assert_eq!(r["errors"][0]["extensions"]["code"], "CONFLICT", "{r}");
        let m = r["errors"][0]["message"].as_str().unwrap_or("");
        assert!(m.contains("'pod12' already exists"), "{m}");
    }
    let d = ok(&app, &admin, TESTBEDS, json!({})).await;
    assert_eq!(d["xpressoTestbeds"]["totalCount"], 1);
}

/// The entries profiles and bundles point at come through the request's loader: a page of
/// profiles and bundles with their testbeds, topologies and profiles costs the same statements
/// for two of each as for six.
#[tokio::test]
async fn catalog_references_cost_a_constant_number_of_statements() {
    use testgraph::service::xpresso::{
        self as xpr, BundleEntry, NewBundle, NewProfile, NewTestbed, NewTopology,
    };
    let q = "{ xpressoProfiles(first: 20) { nodes { name testbeds { name } topology { name } } }
               xpressoBundles(first: 20) { nodes { name entries { profile { name } testbeds { name } topology { name } } } } }";
    let mut counts = Vec::new();
    for n in [2usize, 6] {
        let app = TestApp::new().await;
        let db = &app.state.db;
        let token = app.member_token("lab", "root", &[Scope::Admin]).await;
        let mut tb = Vec::new();
        for i in 0..n {
            let t = xpr::create_testbed(
                db,
                "lab",
                &NewTestbed {
                    name: format!("tb{i}"),
                    definition: "testbed: {}".into(),
                },
            )
            .await
            .expect("testbed");
            tb.push(t.uuid);
        }
        let topo = xpr::create_topology(
            db,
            "lab",
            &NewTopology {
                name: "topo".into(),
                definition: "nodes: []".into(),
            },
        )
        .await
        .expect("topology");
        let mut profiles = Vec::new();
        for (i, own) in tb.iter().enumerate() {
            let p = NewProfile {
                name: format!("p{i}"),
                job: xpr::NewJob {
                    name: format!("job{i}"),
                    path: "/jobs/j.py".into(),
                    uuid: None,
                },
                engine: serde_json::from_value(json!({"name": "jenkins", "type": "jenkins"}))
                    .expect("engine"),
                testbeds: if i % 2 == 0 {
                    vec![own.clone()]
                } else {
                    Vec::new()
                },
                topology: (i % 2 == 1).then(|| topo.uuid.clone()),
                ..NewProfile::default()
            };
            profiles.push(
                xpr::create_profile(db, "lab", &p)
                    .await
                    .expect("profile")
                    .uuid,
            );
        }
        for i in 0..n {
            let entries = vec![
                BundleEntry {
                    profile: profiles[i].clone(),
                    testbeds: vec![tb[(i + 1) % n].clone()],
                    ..BundleEntry::default()
                },
                BundleEntry {
                    profile: profiles[(i + 1) % n].clone(),
                    topology: Some(topo.uuid.clone()),
                    ..BundleEntry::default()
                },
            ];
            xpr::create_bundle(
                db,
                "lab",
                &NewBundle {
                    name: format!("b{i}"),
                    entries,
                },
            )
            .await
            .expect("bundle");
        }
        app.reset_statements();
        let d = ok(&app, &token, q, json!({})).await;
        assert_eq!(
            d["xpressoProfiles"]["nodes"].as_array().map(Vec::len),
            Some(n)
        );
        assert_eq!(
            d["xpressoProfiles"]["nodes"][0]["testbeds"][0]["name"],
            "tb0"
        );
        assert_eq!(d["xpressoProfiles"]["nodes"][1]["topology"]["name"], "topo");
        let entries = &d["xpressoBundles"]["nodes"][0]["entries"];
        assert_eq!(entries[0]["profile"]["name"], "p0");
        assert_eq!(entries[0]["testbeds"][0]["name"], "tb1");
        assert_eq!(entries[1]["profile"]["name"], "p1");
        assert_eq!(entries[1]["topology"]["name"], "topo");
        counts.push((app.statements(), app.statement_log()));
    }
    // The token, the two pages, and a statement per kind per level: profiles' testbeds and
    // topologies, bundle entries' profiles, testbeds and topologies. Whether a kind asked for by
    // two levels (the topologies of profiles and of bundle entries) comes in one statement or
    // two depends on when the levels' resolvers run, so the bound is the plan's, not a count:
    // a statement per profile or bundle would pass it already with two of each.
    for (n, (count, log)) in [2, 6].iter().zip(&counts) {
        assert!(*count <= 8, "{n} of each: {count} statements: {log:#?}");
    }
}
