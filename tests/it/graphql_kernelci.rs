//! GraphQL over the KernelCI domain: builds reported through the mutations (creating their jobs),
//! batches all or nothing, every field of the job filter and its creation-time windows, ordering
//! and cursors, distinct values, build-log summaries, a job's status, deletion, the token rules,
//! and the statement count of nested queries.

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use testgraph::service::kernelci::{self as kci, NewBuild};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::graphql_evergreen::{edges, nodes, ok, open_app};

/// Runs an operation that must fail and returns its first error's code.
async fn code_as(app: &TestApp, q: &str, vars: Value, token: Option<&str>) -> String {
    let r = app.graphql_as(q, vars, token).await;
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {r}"))
        .to_owned()
}

async fn code(app: &TestApp, q: &str, vars: Value) -> String {
    code_as(app, q, vars, None).await
}

const REPORT: &str = "mutation($b: KernelciBuildInput!) { reportKernelciBuild(input: $b) {
    build { id job kernel gitBranch arch defconfig defconfigFull buildEnvironment status buildTime
            errors warnings createdOn parentJob { id } }
    job { id job kernel gitBranch gitCommit gitDescribe gitUrl kernelVersion compiler
          compilerVersion crossCompile private status createdOn version } } }";

const REPORT_MANY: &str = "mutation($b: [KernelciBuildInput!]!) { reportKernelciBuilds(input: $b) {
    builds jobsCreated } }";

const JOBS: &str = "query($f: KernelciJobFilter, $o: KernelciJobOrder, $n: Int, $after: String) {
    kernelciJobs(first: $n, after: $after, filter: $f, orderBy: $o) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id job kernel gitBranch status createdOn } } } }";

/// A build input of `job`-`kernel` on `branch`.
fn build(job: &str, kernel: &str, branch: &str, arch: &str, defconfig: &str) -> Value {
    json!({"job": job, "kernel": kernel, "gitBranch": branch, "arch": arch,
           "defconfig": defconfig, "status": "PASS"})
}

/// A service build made at `created`.
fn new_build(job: &str, kernel: &str, branch: &str, created: NaiveDateTime) -> NewBuild {
    NewBuild {
        job: job.into(),
        kernel: kernel.into(),
        git_branch: branch.into(),
        arch: "x86_64".into(),
        defconfig: "defconfig".into(),
        status: "PASS".into(),
        created_on: Some(created),
        ..NewBuild::default()
    }
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap_or_else(|e| panic!("{s}: {e}"))
}

async fn seed(app: &TestApp, builds: &[NewBuild]) {
    kci::report_builds(&app.state.db, builds)
        .await
        .expect("report builds");
}

/// The `field` of every job `kernelciJobs` answers for `filter` (newest first).
async fn jobs_where(app: &TestApp, filter: Value, field: &str) -> Vec<String> {
    let d = ok(app, JOBS, json!({"f": filter, "n": 100})).await;
    nodes(&d["kernelciJobs"])
        .iter()
        .map(|j| j[field].as_str().unwrap_or("<null>").to_owned())
        .collect()
}

async fn job_oid(app: &TestApp, job: &str, kernel: &str) -> String {
    let d = ok(
        app,
        JOBS,
        json!({"f": {"job": [job], "kernel": [kernel]}, "n": 1}),
    )
    .await;
    nodes(&d["kernelciJobs"])[0]["id"]
        .as_str()
        .expect("a job")
        .to_owned()
}

#[tokio::test]
async fn reporting_builds_creates_the_job_from_its_first_build() {
    let app = open_app().await;
    let mut first = build("next", "next-20261206", "master", "arm64", "defconfig");
    first["gitCommit"] = json!("abc123");
    first["gitUrl"] = json!("https://git.kernel.org/next.git");
    first["kernelVersion"] = json!("6.13.0-rc1");
    first["compiler"] = json!("gcc");
    first["compilerVersion"] = json!("12.2");
    first["crossCompile"] = json!("aarch64-linux-gnu-");
    first["buildEnvironment"] = json!("gcc-12");
    first["buildTime"] = json!(321.5);
    first["errors"] = json!(2);
    first["createdOn"] = json!("2026-12-01T10:00:00.123456Z");
    let d = ok(&app, REPORT, json!({"b": first})).await;
    let r = &d["reportKernelciBuild"];
    let job = &r["job"];
    assert_eq!(
        job,
        &json!({
            "id": job["id"], "job": "next", "kernel": "next-20261206", "gitBranch": "master",
            "gitCommit": "abc123", "gitDescribe": "next-20261206",
            "gitUrl": "https://git.kernel.org/next.git", "kernelVersion": "6.13.0-rc1",
            "compiler": "gcc", "compilerVersion": "12.2", "crossCompile": "aarch64-linux-gnu-",
            "private": false, "status": "BUILD", "createdOn": "2026-12-01T10:00:00.123+00:00",
            "version": "1.1"
        })
    );
    let job_id = job["id"].as_str().expect("id").to_owned();
    assert_eq!(job_id.len(), 24);
    assert_eq!(
        r["build"],
        json!({
            "id": r["build"]["id"], "job": "next", "kernel": "next-20261206", "gitBranch": "master",
            "arch": "arm64", "defconfig": "defconfig", "defconfigFull": "defconfig",
            "buildEnvironment": "gcc-12", "status": "PASS", "buildTime": 321.5, "errors": 2,
            "warnings": 0, "createdOn": "2026-12-01T10:00:00.123+00:00", "parentJob": {"id": job_id}
        })
    );

    // A second build of the same job: the job keeps the fields of its first build.
    let mut second = build("next", "next-20261206", "master", "x86_64", "allnoconfig");
    second["gitCommit"] = json!("ffffff");
    second["compiler"] = json!("clang");
    let d = ok(&app, REPORT, json!({"b": second})).await;
    let job = &d["reportKernelciBuild"]["job"];
    assert_eq!(job["id"], json!(job_id));
    assert_eq!(job["gitCommit"], json!("abc123"));
    assert_eq!(job["compiler"], json!("gcc"));

    // The same configuration again replaces its status and counts.
    let mut again = first.clone();
    again["status"] = json!("FAIL");
    again["errors"] = json!(7);
    ok(&app, REPORT, json!({"b": again})).await;

    let d = ok(
        &app,
        "query($id: String!) { kernelciJob(id: $id) { id builds { totalCount
            edges { node { arch defconfig status errors parentJob { job } } } } } }",
        json!({"id": job_id.to_ascii_uppercase()}),
    )
    .await;
    let builds = &d["kernelciJob"]["builds"];
    assert_eq!(builds["totalCount"], json!(2));
    assert_eq!(
        nodes(builds),
        vec![
            &json!({"arch": "arm64", "defconfig": "defconfig", "status": "FAIL", "errors": 7, "parentJob": {"job": "next"}}),
            &json!({"arch": "x86_64", "defconfig": "allnoconfig", "status": "PASS", "errors": 0, "parentJob": {"job": "next"}}),
        ]
    );
    let d = ok(
        &app,
        "{ kernelciJob(id: \"0123456789abcdef01234567\") { id } a: kernelciJob(id: \"nope\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(d, json!({"kernelciJob": null, "a": null}));
}

#[tokio::test]
async fn a_batch_of_builds_is_stored_whole_or_not_at_all() {
    let app = open_app().await;
    let batch = vec![
        build("mainline", "v6.12", "master", "x86_64", "defconfig"),
        build("mainline", "v6.12", "master", "arm64", "defconfig"),
        build("stable", "v6.6.60", "linux-6.6.y", "x86_64", "defconfig"),
    ];
    let d = ok(&app, REPORT_MANY, json!({"b": batch})).await;
    assert_eq!(
        d["reportKernelciBuilds"],
        json!({"builds": 3, "jobsCreated": 2})
    );

    let mut bad = vec![
        build("next", "next-1", "master", "x86_64", "defconfig"),
        build("mainline", "v6.12", "master", "riscv", "defconfig"),
        build("next", "next-1", "master", "arm64", "defconfig"),
    ];
    bad[2]["arch"] = json!("");
    assert_eq!(
        code(&app, REPORT_MANY, json!({"b": bad})).await,
        "BAD_USER_INPUT"
    );
    let d = ok(
        &app,
        "{ kernelciJobs { totalCount edges { node { job builds { totalCount } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["kernelciJobs"]["totalCount"],
        json!(2),
        "no job of the refused batch"
    );
    let total: u64 = nodes(&d["kernelciJobs"])
        .iter()
        .map(|j| j["builds"]["totalCount"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 3, "no build of the refused batch");

    // A status outside the enum is refused before anything runs.
    let mut wrong = build("next", "next-1", "master", "x86_64", "defconfig");
    wrong["status"] = json!("BOGUS");
    let r = app.graphql(REPORT_MANY, json!({"b": [wrong]})).await;
    assert!(r["errors"].is_array(), "{r}");
}

/// Jobs varied along every filter field, created on 2015-03-01 an hour apart.
async fn varied_jobs(app: &TestApp) {
    let mut builds = Vec::new();
    let rows = [
        (
            "mainline",
            "v4.0-rc1",
            "master",
            Some("c1"),
            Some("v4.0-rc1-d"),
            Some("4.0.0"),
        ),
        (
            "mainline",
            "v4.0-rc2",
            "master",
            Some("c2"),
            None,
            Some("4.0.0"),
        ),
        ("next", "next-20150301", "master", None, None, None),
        (
            "stable",
            "v3.19.1",
            "linux-3.19.y",
            Some("c4"),
            Some("v3.19.1"),
            Some("3.19.1"),
        ),
    ];
    for (i, (job, kernel, branch, commit, describe, version)) in rows.into_iter().enumerate() {
        let mut b = new_build(job, kernel, branch, at(&format!("2015-03-01 1{i}:00:00")));
        b.git_commit = commit.map(Into::into);
        b.git_describe = describe.map(Into::into);
        b.kernel_version = version.map(Into::into);
        builds.push(b);
    }
    seed(app, &builds).await;
    kci::set_job_status(&app.state.db, "mainline", "v4.0-rc1", "master", "PASS")
        .await
        .expect("status");
    kci::set_job_status(&app.state.db, "stable", "v3.19.1", "linux-3.19.y", "FAIL")
        .await
        .expect("status");
}

#[tokio::test]
async fn the_job_filter_has_every_field_of_the_query_language() {
    let app = open_app().await;
    varied_jobs(&app).await;
    let k = |f: Value| {
        let app = &app;
        async move { jobs_where(app, f, "kernel").await }
    };
    assert_eq!(
        k(json!({})).await,
        ["v3.19.1", "next-20150301", "v4.0-rc2", "v4.0-rc1"]
    );
    assert_eq!(
        k(json!({"job": ["mainline", "stable"]})).await,
        ["v3.19.1", "v4.0-rc2", "v4.0-rc1"]
    );
    assert_eq!(
        k(json!({"kernel": ["v4.0-rc2", "nope"]})).await,
        ["v4.0-rc2"]
    );
    assert_eq!(k(json!({"gitBranch": ["linux-3.19.y"]})).await, ["v3.19.1"]);
    assert_eq!(
        k(json!({"gitCommit": ["c2", "c4"]})).await,
        ["v3.19.1", "v4.0-rc2"]
    );
    assert_eq!(
        k(json!({"gitCommit": [null]})).await,
        ["next-20150301"],
        "null matches a job without the field"
    );
    // A job without a describe takes its kernel's.
    assert_eq!(
        k(json!({"gitDescribe": ["v4.0-rc1-d", "next-20150301"]})).await,
        ["next-20150301", "v4.0-rc1"]
    );
    assert_eq!(
        k(json!({"kernelVersion": ["4.0.0", null]})).await,
        ["next-20150301", "v4.0-rc2", "v4.0-rc1"]
    );
    assert_eq!(k(json!({"status": ["PASS"]})).await, ["v4.0-rc1"]);
    assert_eq!(
        k(json!({"status": ["BUILD", "FAIL"]})).await,
        ["v3.19.1", "next-20150301", "v4.0-rc2"]
    );
    assert_eq!(k(json!({"private": true})).await, Vec::<String>::new());
    assert_eq!(k(json!({"private": false})).await.len(), 4);
    // Conditions on several fields must all hold; an empty list matches nothing.
    assert_eq!(
        k(json!({"job": ["mainline"], "status": ["BUILD"]})).await,
        ["v4.0-rc2"]
    );
    assert_eq!(k(json!({"job": []})).await, Vec::<String>::new());

    // Ids: any of, either case; a string that is no id matches nothing.
    let a = job_oid(&app, "mainline", "v4.0-rc1").await;
    let b = job_oid(&app, "next", "next-20150301").await;
    assert_eq!(
        k(json!({"ids": [a.to_ascii_uppercase(), b, "xyz"]})).await,
        ["next-20150301", "v4.0-rc1"]
    );
    assert_eq!(k(json!({"ids": ["xyz"]})).await, Vec::<String>::new());

    let d = ok(
        &app,
        "{ kernelciJobs(filter: {job: [\"mainline\"]}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(d["kernelciJobs"]["totalCount"], json!(2));
}

#[tokio::test]
async fn creation_windows_are_kernelcis_date_and_time_ranges() {
    let app = open_app().await;
    let now = Utc::now().naive_utc();
    let yesterday_noon = (Utc::now().date_naive() - Duration::days(1))
        .and_hms_opt(12, 0, 0)
        .expect("noon");
    seed(
        &app,
        &[
            new_build("w", "before", "b", at("2015-02-26 23:59:59.999")),
            new_build("w", "first-day", "b", at("2015-02-27 00:00:00")),
            new_build("w", "the-day", "b", at("2015-03-01 12:00:00")),
            new_build("w", "last-second", "b", at("2015-03-01 23:59:59.500")),
            new_build("w", "next-day", "b", at("2015-03-02 00:00:00")),
            new_build("w", "yesterday", "b", yesterday_noon),
            new_build("w", "half-hour-ago", "b", now - Duration::minutes(30)),
            new_build("w", "minutes-ago", "b", now - Duration::minutes(5)),
        ],
    )
    .await;
    let k = |f: Value| {
        let app = &app;
        async move {
            let mut found = jobs_where(app, f, "kernel").await;
            found.sort();
            found
        }
    };
    // One day, without its last second (as KernelCI's `23:59:59` bound).
    assert_eq!(k(json!({"createdOn": "2015-03-01"})).await, ["the-day"]);
    assert_eq!(k(json!({"createdOn": "20150301"})).await, ["the-day"]);
    // N days back from that day, from midnight.
    assert_eq!(
        k(json!({"createdOn": "2015-03-01", "dateRangeDays": 2})).await,
        ["first-day", "the-day"]
    );
    // From today without a day: 0 is today, 1 adds yesterday.
    let today = k(json!({"dateRangeDays": 0})).await;
    assert!(!today.contains(&"yesterday".to_owned()), "{today:?}");
    let two_days = k(json!({"dateRangeDays": 1})).await;
    assert!(two_days.contains(&"yesterday".to_owned()), "{two_days:?}");
    assert!(!two_days.iter().any(|k| k == "the-day"));
    // The last minutes, clamped to at least 10, and overriding the dates.
    assert_eq!(k(json!({"timeRangeMinutes": 10})).await, ["minutes-ago"]);
    assert_eq!(k(json!({"timeRangeMinutes": 1})).await, ["minutes-ago"]);
    assert_eq!(
        k(json!({"timeRangeMinutes": 60, "createdOn": "2015-03-01"})).await,
        ["half-hour-ago", "minutes-ago"]
    );
    // An instant window of its own, which must hold as well.
    assert_eq!(
        k(json!({"createdFrom": "2015-02-27T00:00:00Z", "createdBefore": "2015-03-02T00:00:00Z"}))
            .await,
        ["first-day", "last-second", "the-day"]
    );
    assert_eq!(
        k(json!({"createdFrom": "2015-03-01T06:00:00Z", "createdOn": "2015-03-01", "dateRangeDays": 3}))
            .await,
        ["the-day"]
    );
    // Wrong values are the client's error.
    for f in [
        json!({"dateRangeDays": -1}),
        json!({"dateRangeDays": 2_000_000_000}),
    ] {
        assert_eq!(
            code(&app, JOBS, json!({"f": f})).await,
            "BAD_USER_INPUT",
            "{f}"
        );
    }
    let r = app
        .graphql(JOBS, json!({"f": {"createdOn": "March 1st"}}))
        .await;
    assert!(r["errors"].is_array(), "{r}");
}

#[tokio::test]
async fn jobs_are_ordered_and_paged_by_cursor() {
    let app = open_app().await;
    let spec = [
        ("b", "k3", "PASS", "2015-03-01 10:00:00"),
        ("a", "k1", "BUILD", "2015-03-03 10:00:00"),
        ("c", "k2", "PASS", "2015-03-02 10:00:00"),
        ("a", "k4", "FAIL", "2015-03-05 10:00:00"),
        ("b", "k5", "BUILD", "2015-03-04 10:00:00"),
    ];
    for (job, kernel, status, created) in spec {
        seed(&app, &[new_build(job, kernel, "master", at(created))]).await;
        if status != "BUILD" {
            kci::set_job_status(&app.state.db, job, kernel, "master", status)
                .await
                .expect("status");
        }
    }
    let order = |o: Value| {
        let app = &app;
        async move {
            let d = ok(app, JOBS, json!({"o": o, "n": 100})).await;
            nodes(&d["kernelciJobs"])
                .iter()
                .map(|j| j["kernel"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    // Newest first by default.
    assert_eq!(order(Value::Null).await, ["k4", "k5", "k1", "k2", "k3"]);
    assert_eq!(
        order(json!({"direction": "ASC"})).await,
        ["k3", "k2", "k1", "k5", "k4"]
    );
    // Ties broken by insertion order, in the same direction.
    assert_eq!(
        order(json!({"field": "JOB", "direction": "ASC"})).await,
        ["k1", "k4", "k3", "k5", "k2"]
    );
    assert_eq!(
        order(json!({"field": "JOB"})).await,
        ["k2", "k5", "k3", "k4", "k1"]
    );
    assert_eq!(
        order(json!({"field": "STATUS", "direction": "ASC"})).await,
        ["k1", "k5", "k4", "k3", "k2"]
    );
    assert_eq!(
        order(json!({"field": "KERNEL", "direction": "ASC"})).await,
        ["k1", "k2", "k3", "k4", "k5"]
    );
    assert_eq!(
        order(json!({"field": "GIT_BRANCH", "direction": "ASC"})).await,
        ["k3", "k1", "k2", "k4", "k5"]
    );

    // Paging by two through every order gives the whole list, once.
    for o in [
        Value::Null,
        json!({"field": "JOB", "direction": "ASC"}),
        json!({"field": "STATUS"}),
    ] {
        let whole = order(o.clone()).await;
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let d = ok(&app, JOBS, json!({"o": o, "n": 2, "after": after})).await;
            let c = &d["kernelciJobs"];
            assert_eq!(c["totalCount"], json!(5));
            assert_eq!(c["pageInfo"]["hasPreviousPage"], json!(!after.is_null()));
            seen.extend(
                nodes(c)
                    .iter()
                    .map(|j| j["kernel"].as_str().unwrap_or("").to_owned()),
            );
            if c["pageInfo"]["hasNextPage"] == json!(false) {
                break;
            }
            after = c["pageInfo"]["endCursor"].clone();
            assert_eq!(&after, &edges(c).last().expect("an edge")["cursor"]);
        }
        assert_eq!(seen, whole, "{o}");
    }

    assert_eq!(
        code(&app, JOBS, json!({"after": "not-a-cursor"})).await,
        "BAD_USER_INPUT"
    );
    // A cursor of the newest-first list, used with another order.
    let d = ok(&app, JOBS, json!({"o": Value::Null, "n": 1})).await;
    let cursor = d["kernelciJobs"]["pageInfo"]["endCursor"].clone();
    assert_eq!(
        code(&app, JOBS, json!({"o": {"field": "JOB"}, "after": cursor})).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(code(&app, JOBS, json!({"n": 101})).await, "BAD_USER_INPUT");
    // Only the total: the page is not read.
    app.reset_statements();
    let d = ok(&app, "{ kernelciJobs { totalCount } }", json!({})).await;
    assert_eq!(d["kernelciJobs"]["totalCount"], json!(5));
    assert_eq!(app.statements(), 1, "{:#?}", app.statement_log());
}

#[tokio::test]
async fn distinct_values_of_a_job_field() {
    let app = open_app().await;
    varied_jobs(&app).await;
    let distinct = |field: &str, filter: Value| {
        let app = &app;
        let q = format!(
            "query($f: KernelciJobFilter) {{ kernelciJobDistinct(field: {field}, filter: $f) }}"
        );
        async move { ok(app, &q, json!({"f": filter})).await["kernelciJobDistinct"].clone() }
    };
    assert_eq!(
        distinct("JOB", Value::Null).await,
        json!(["mainline", "next", "stable"])
    );
    assert_eq!(
        distinct("GIT_BRANCH", Value::Null).await,
        json!(["linux-3.19.y", "master"])
    );
    // Null first: jobs without the field.
    assert_eq!(
        distinct("GIT_COMMIT", Value::Null).await,
        json!([null, "c1", "c2", "c4"])
    );
    assert_eq!(
        distinct("KERNEL", json!({"job": ["mainline"], "status": ["BUILD"]})).await,
        json!(["v4.0-rc2"])
    );
    assert_eq!(
        distinct("KERNEL_VERSION", json!({"job": ["nope"]})).await,
        json!([])
    );

    // The enum is exactly the fields the service lists distinct values of.
    let d = ok(
        &app,
        "{ __type(name: \"KernelciDistinctField\") { enumValues { name } } }",
        json!({}),
    )
    .await;
    let names: Vec<String> = d["__type"]["enumValues"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v["name"].as_str().unwrap_or("").to_owned())
        .collect();
    let expected: Vec<String> = kci::JOB_FIELDS
        .iter()
        .filter(|f| f.distinct)
        .map(|f| f.wire.to_ascii_uppercase())
        .collect();
    assert_eq!(names, expected);
    for name in names {
        let r = app
            .graphql(
                &format!("{{ kernelciJobDistinct(field: {name}) }}"),
                json!({}),
            )
            .await;
        assert!(r.get("errors").is_none(), "{name}: {r}");
    }
}

const RECORD: &str =
    "mutation($s: KernelciLogSummaryInput!) { recordKernelciLogSummary(input: $s) {
    id jobId job kernel gitBranch createdOn version errors { count line } warnings { count line }
    mismatches { count line } parentJob { kernel } } }";

#[tokio::test]
async fn log_summaries_are_recorded_replaced_and_listed() {
    let app = open_app().await;
    varied_jobs(&app).await;
    let rc1 = job_oid(&app, "mainline", "v4.0-rc1").await;
    let stable = job_oid(&app, "stable", "v3.19.1").await;
    let d = ok(
        &app,
        RECORD,
        json!({"s": {"jobId": rc1.to_ascii_uppercase(),
                     "errors": [{"count": 3, "line": "error: implicit declaration"}],
                     "warnings": [{"count": 1, "line": "warning: unused"}, {"count": 2, "line": "warning: x"}]}}),
    )
    .await;
    let s = &d["recordKernelciLogSummary"];
    assert_eq!(s["jobId"], json!(rc1));
    assert_eq!(
        (&s["job"], &s["kernel"], &s["gitBranch"], &s["version"]),
        (
            &json!("mainline"),
            &json!("v4.0-rc1"),
            &json!("master"),
            &json!("1.1")
        )
    );
    assert_eq!(
        s["errors"],
        json!([{"count": 3, "line": "error: implicit declaration"}])
    );
    assert_eq!(s["warnings"].as_array().map(Vec::len), Some(2));
    assert_eq!(s["mismatches"], json!([]));
    assert_eq!(s["parentJob"], json!({"kernel": "v4.0-rc1"}));

    // Recording again replaces it.
    ok(
        &app,
        RECORD,
        json!({"s": {"jobId": rc1, "mismatches": [{"count": 1, "line": "section mismatch"}]}}),
    )
    .await;
    ok(
        &app,
        RECORD,
        json!({"s": {"jobId": stable, "errors": [{"count": 9, "line": "ld: error"}]}}),
    )
    .await;
    let d = ok(
        &app,
        "query($id: String!) { kernelciJob(id: $id) { logSummary { jobId errors { count } mismatches { line } } } }",
        json!({"id": rc1}),
    )
    .await;
    assert_eq!(
        d["kernelciJob"]["logSummary"],
        json!({"jobId": rc1, "errors": [], "mismatches": [{"line": "section mismatch"}]})
    );
    let d = ok(
        &app,
        "{ kernelciJobs(filter: {job: [\"next\"]}) { edges { node { logSummary { id } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(nodes(&d["kernelciJobs"])[0]["logSummary"], Value::Null);

    let list = |args: &str| {
        let app = &app;
        let q = format!("{{ kernelciLogSummaries{args} {{ kernel }} }}");
        async move {
            ok(app, &q, json!({})).await["kernelciLogSummaries"]
                .as_array()
                .expect("list")
                .iter()
                .map(|s| s["kernel"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await, ["v4.0-rc1", "v3.19.1"]);
    assert_eq!(list("(first: 1)").await, ["v4.0-rc1"]);
    assert_eq!(list("(first: 1, skip: 1)").await, ["v3.19.1"]);
    assert_eq!(list("(first: 0)").await, Vec::<String>::new());
    assert_eq!(
        list(&format!("(filter: {{jobId: [\"{stable}\", \"nope\"]}})")).await,
        ["v3.19.1"]
    );
    assert_eq!(
        list("(filter: {job: [\"mainline\", \"next\"]})").await,
        ["v4.0-rc1"]
    );
    assert_eq!(list("(filter: {kernel: [\"v3.19.1\"]})").await, ["v3.19.1"]);
    assert_eq!(
        list("(filter: {gitBranch: [\"master\"], job: [\"stable\"]})").await,
        Vec::<String>::new()
    );
    assert_eq!(
        code(&app, "{ kernelciLogSummaries(skip: -1) { id } }", json!({})).await,
        "BAD_USER_INPUT"
    );

    assert_eq!(
        code(
            &app,
            RECORD,
            json!({"s": {"jobId": "0123456789abcdef01234567"}})
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &app,
            RECORD,
            json!({"s": {"jobId": rc1, "errors": [{"count": -1, "line": "x"}]}})
        )
        .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn a_jobs_status_is_set_once_its_builds_are_in() {
    let app = open_app().await;
    varied_jobs(&app).await;
    const SET: &str = "mutation($j: String!, $k: String!, $b: String!, $s: KernelciJobStatus!) {
        setKernelciJobStatus(job: $j, kernel: $k, gitBranch: $b, status: $s) { kernel status } }";
    let d = ok(
        &app,
        SET,
        json!({"j": "next", "k": "next-20150301", "b": "master", "s": "UNKNOWN"}),
    )
    .await;
    assert_eq!(
        d["setKernelciJobStatus"],
        json!({"kernel": "next-20150301", "status": "UNKNOWN"})
    );
    assert_eq!(
        jobs_where(&app, json!({"status": ["UNKNOWN"]}), "kernel").await,
        ["next-20150301"]
    );
    assert_eq!(
        code(
            &app,
            SET,
            json!({"j": "next", "k": "next-20150301", "b": "other", "s": "PASS"})
        )
        .await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn deleting_a_job_deletes_its_builds_and_summary() {
    let app = open_app().await;
    let batch = vec![
        build("mainline", "v6.12", "master", "x86_64", "defconfig"),
        build("mainline", "v6.12", "master", "arm64", "defconfig"),
        build("stable", "v6.6.60", "linux-6.6.y", "x86_64", "defconfig"),
    ];
    ok(&app, REPORT_MANY, json!({"b": batch})).await;
    let gone = job_oid(&app, "mainline", "v6.12").await;
    ok(
        &app,
        RECORD,
        json!({"s": {"jobId": gone, "errors": [{"count": 1, "line": "e"}]}}),
    )
    .await;
    let db = &app.state.db;
    assert_eq!(
        entity::kci_build::Entity::find().count(db).await.ok(),
        Some(3)
    );

    const DELETE: &str = "mutation($id: String!) { deleteKernelciJob(id: $id) }";
    let d = ok(&app, DELETE, json!({"id": gone.to_ascii_uppercase()})).await;
    assert_eq!(d["deleteKernelciJob"], json!(true));
    let d = ok(&app, DELETE, json!({"id": gone})).await;
    assert_eq!(d["deleteKernelciJob"], json!(false));
    let d = ok(&app, DELETE, json!({"id": "nope"})).await;
    assert_eq!(d["deleteKernelciJob"], json!(false));

    let d = ok(
        &app,
        "query($id: String!) { kernelciJob(id: $id) { id } kernelciJobs { totalCount }
            kernelciLogSummaries { id } }",
        json!({"id": gone}),
    )
    .await;
    assert_eq!(d["kernelciJob"], Value::Null);
    assert_eq!(d["kernelciJobs"]["totalCount"], json!(1));
    assert_eq!(d["kernelciLogSummaries"], json!([]));
    assert_eq!(
        entity::kci_build::Entity::find().count(db).await.ok(),
        Some(1),
        "the job's builds are gone, the other job's stay"
    );
}

#[tokio::test]
async fn mutations_need_write_tokens_and_deletion_a_delete_token() {
    let app = TestApp::new().await;
    let b = json!({"b": build("mainline", "v6.12", "master", "x86_64", "defconfig")});
    assert_eq!(
        code_as(&app, REPORT, b.clone(), None).await,
        "UNAUTHENTICATED"
    );
    let read = app.token(&[Scope::Read]).await;
    assert_eq!(
        code_as(&app, REPORT, b.clone(), Some(&read)).await,
        "FORBIDDEN"
    );
    let write = app.token(&[Scope::Read, Scope::Write]).await;
    let r = app.graphql_as(REPORT, b.clone(), Some(&write)).await;
    assert!(r.get("errors").is_none(), "{r}");
    let id = r["data"]["reportKernelciBuild"]["job"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Reading needs no token.
    let r = app
        .graphql(
            "query($id: String!) { kernelciJob(id: $id) { kernel } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(r["data"]["kernelciJob"]["kernel"], json!("v6.12"), "{r}");

    for (q, vars) in [
        (REPORT_MANY, json!({"b": []})),
        (
            "mutation { recordKernelciLogSummary(input: {jobId: \"0123456789abcdef01234567\"}) { id } }",
            json!({}),
        ),
        (
            "mutation { setKernelciJobStatus(job: \"j\", kernel: \"k\", gitBranch: \"b\", status: PASS) { id } }",
            json!({}),
        ),
    ] {
        assert_eq!(
            code_as(&app, q, vars.clone(), None).await,
            "UNAUTHENTICATED"
        );
        assert_eq!(code_as(&app, q, vars, Some(&read)).await, "FORBIDDEN");
    }

    const DELETE: &str = "mutation($id: String!) { deleteKernelciJob(id: $id) }";
    let vars = json!({"id": id});
    assert_eq!(
        code_as(&app, DELETE, vars.clone(), None).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code_as(&app, DELETE, vars.clone(), Some(&write)).await,
        "FORBIDDEN",
        "a write token does not delete"
    );
    let delete = app.token(&[Scope::Delete]).await;
    assert_eq!(
        code_as(&app, REPORT, b, Some(&delete)).await,
        "FORBIDDEN",
        "a delete token does not write"
    );
    let r = app.graphql_as(DELETE, vars.clone(), Some(&delete)).await;
    assert_eq!(r["data"]["deleteKernelciJob"], json!(true), "{r}");
    let admin = app.token(&[Scope::Admin]).await;
    let r = app.graphql_as(DELETE, vars, Some(&admin)).await;
    assert_eq!(r["data"]["deleteKernelciJob"], json!(false), "{r}");
}

const NESTED: &str =
    "query($n: Int!) { kernelciJobs(first: $n, orderBy: {field: KERNEL, direction: ASC}) {
    totalCount edges { node { id kernel
      builds(first: 10) { totalCount edges { node { arch status parentJob { kernel } } } }
      logSummary { errors { count line } } } } } }";

#[tokio::test]
async fn nested_query_costs_a_constant_number_of_statements() {
    let app = TestApp::with_config(|c| {
        c.auth.open_mutations = true;
        c.limits.dataloader_delay = std::time::Duration::ZERO;
    })
    .await;
    let day = NaiveDate::from_ymd_opt(2015, 3, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("day");
    let mut builds = Vec::new();
    for i in 0..20 {
        for arch in ["x86_64", "arm64", "riscv"] {
            let mut b = new_build(
                "mainline",
                &format!("v4.{i:02}"),
                "master",
                day + Duration::hours(i),
            );
            b.arch = arch.into();
            builds.push(b);
        }
    }
    seed(&app, &builds).await;
    for i in (0..20).step_by(3) {
        let oid = job_oid(&app, "mainline", &format!("v4.{i:02}")).await;
        ok(
            &app,
            RECORD,
            json!({"s": {"jobId": oid, "errors": [{"count": i, "line": "e"}]}}),
        )
        .await;
    }

    app.reset_statements();
    let big = ok(&app, NESTED, json!({"n": 20})).await;
    let big_count = app.statements();
    let big_log = app.statement_log();
    let jobs = nodes(&big["kernelciJobs"]);
    assert_eq!(jobs.len(), 20);
    assert_eq!(big["kernelciJobs"]["totalCount"], json!(20));
    for j in &jobs {
        assert_eq!(j["builds"]["totalCount"], json!(3));
        let b = nodes(&j["builds"]);
        assert_eq!(b.len(), 3);
        assert!(b.iter().all(|b| b["parentJob"]["kernel"] == j["kernel"]));
    }
    let with_summary = jobs.iter().filter(|j| !j["logSummary"].is_null()).count();
    assert_eq!(with_summary, 7);
    assert_eq!(
        big_count, 6,
        "jobs, their count, builds, build counts, summaries, parent jobs: one statement each: \
         {big_log:#?}"
    );

    app.reset_statements();
    let small = ok(&app, NESTED, json!({"n": 2})).await;
    assert_eq!(nodes(&small["kernelciJobs"]).len(), 2);
    assert_eq!(
        app.statements(),
        big_count,
        "statement count must not grow with rows: {:#?}",
        app.statement_log()
    );
}
