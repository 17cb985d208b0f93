//! KernelCI's job resource (seed 003) under `/job` and `/jobs`: every route against the doc's
//! examples (`tests/fixtures/kernelci/`), the query language parameter by parameter with the fact
//! sheet's edge cases (§4.2), `POST`'s checks in the backend's order, the cascading `DELETE`, the
//! token permissions per method, gzip and CORS. Data goes in through the KernelCI service's
//! ingestion (`report_builds`, `record_log_summary`), as labs report builds.

use chrono::{Duration, NaiveDateTime, Utc};
use poem::http::StatusCode;
use serde_json::{Value, json};
use testgraph::service::kernelci::{self as svc, Criteria, LogLine, NewBuild, NewLogSummary};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::http::{Reply, Rules, assert_shape, fixture, reply};

const JSON_TYPE: &str = "application/json; charset=UTF-8";

/// A build of `job`/`kernel` on master, made `ago` before now.
fn build(job: &str, kernel: &str, arch: &str, ago: Duration) -> NewBuild {
    NewBuild {
        job: job.into(),
        kernel: kernel.into(),
        git_branch: "master".into(),
        git_commit: Some(format!("{kernel}-commit")),
        git_url: Some(format!("git://git.kernel.org/{job}.git")),
        git_describe: Some(kernel.into()),
        git_describe_v: Some(kernel.into()),
        kernel_version: Some("6.7.0".into()),
        compiler: Some("gcc".into()),
        compiler_version: Some("12.2.0".into()),
        compiler_version_ext: Some("gcc 12.2.0".into()),
        compiler_version_full: Some("gcc version 12.2.0 (Debian 12.2.0-14)".into()),
        cross_compile: Some("aarch64-linux-gnu-".into()),
        arch: arch.into(),
        defconfig: "defconfig".into(),
        status: "PASS".into(),
        build_time: Some(321.5),
        errors: Some(0),
        warnings: Some(2),
        created_on: Some(Utc::now().naive_utc() - ago),
        ..NewBuild::default()
    }
}

/// An app with a read-write-delete token; returns it with the token.
async fn app() -> (TestApp, String) {
    let app = TestApp::new().await;
    let token = app.token(&[Scope::Admin]).await;
    (app, token)
}

/// Five jobs: next (two kernels), mainline (two), arm-soc; created today, 1 and 3 days ago.
async fn seed(app: &TestApp) {
    let builds = vec![
        build("next", "next-20261206", "arm64", Duration::minutes(5)),
        build("next", "next-20261206", "x86_64", Duration::minutes(5)),
        build("next", "next-20261205", "arm64", Duration::days(1)),
        build("mainline", "v6.7-rc4", "arm64", Duration::days(3)),
        build("mainline", "v6.7-rc5", "riscv", Duration::minutes(30)),
        build("arm-soc", "v6.7-rc4-soc", "arm", Duration::hours(2)),
    ];
    let report = svc::report_builds(&app.state.db, &builds).await.unwrap();
    assert_eq!((report.builds, report.jobs_created), (6, 5));
}

async fn get(app: &TestApp, path: &str, token: &str) -> Reply {
    reply(
        app.client
            .get(path)
            .header("Authorization", token)
            .send()
            .await,
    )
    .await
}

/// A GET answering 200 in the dialect; its JSON.
async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let r = get(app, path, token).await;
    r.expect(StatusCode::OK, path);
    assert_eq!(r.content_type.as_deref(), Some(JSON_TYPE), "{path}");
    r.json()
}

/// The `result` of a list, by one key.
fn column(body: &Value, key: &str) -> Vec<Value> {
    body["result"]
        .as_array()
        .unwrap_or_else(|| panic!("no result: {body}"))
        .iter()
        .map(|d| d[key].clone())
        .collect()
}

fn kernels(body: &Value) -> Vec<String> {
    column(body, "kernel")
        .into_iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn job_oid(app: &TestApp, token: &str, kernel: &str) -> String {
    let body = get_ok(app, &format!("/job?kernel={kernel}"), token).await;
    body["result"][0]["_id"]["$oid"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn assert_reason(r: &Reply, status: StatusCode, reason: &str) {
    r.expect(status, reason);
    assert_eq!(r.json()["code"], json!(status.as_u16()), "{}", r.text());
    assert_eq!(r.json()["reason"], json!(reason), "{}", r.text());
}

#[tokio::test]
async fn the_list_answers_the_documented_envelope() {
    let (app, token) = app().await;
    seed(&app).await;
    let body = get_ok(
        &app,
        "/job?date_range=12&job=next&field=status&field=kernel",
        &token,
    )
    .await;
    assert_shape(
        &body,
        &fixture("kernelci", "job_list.json"),
        Rules {
            types: true,
            ..Rules::default()
        },
        "list",
    );
    assert_eq!(body["count"], json!(2));
    // The whole document, key by key as the schema lists them.
    let all = get_ok(&app, "/job?limit=1", &token).await;
    let one = fixture("kernelci", "job_one.json");
    assert_shape(
        &all["result"],
        &one["result"],
        Rules {
            types: true,
            ..Rules::default()
        },
        "job",
    );
    // `count` is every match, skip and limit aside; both are echoed.
    let page = get_ok(&app, "/job?limit=2&skip=1", &token).await;
    assert_eq!(
        (
            page["count"].clone(),
            page["limit"].clone(),
            page["skip"].clone()
        ),
        (json!(5), json!(2), json!(1))
    );
    assert_eq!(page["result"].as_array().unwrap().len(), 2);
    // No match is still 200 with an empty result.
    let none = get_ok(&app, "/job?job=nope", &token).await;
    assert_eq!(
        none,
        json!({"code": 200, "count": 0, "limit": 0, "skip": 0, "result": []})
    );
}

#[tokio::test]
async fn both_names_and_both_slash_forms_answer() {
    let (app, token) = app().await;
    seed(&app).await;
    let oid = job_oid(&app, &token, "v6.7-rc4").await;
    for path in ["/job", "/job/", "/jobs", "/jobs/"] {
        assert_eq!(
            get_ok(&app, path, &token).await["count"],
            json!(5),
            "{path}"
        );
    }
    for path in [
        format!("/job/{oid}"),
        format!("/jobs/{oid}/"),
        format!("/job/{}", oid.to_uppercase()),
    ] {
        let body = get_ok(&app, &path, &token).await;
        assert_eq!(body["result"][0]["kernel"], json!("v6.7-rc4"), "{path}");
    }
    for path in [
        "/job/distinct/job",
        "/jobs/distinct/job/",
        "/job/logs",
        "/jobs/logs/",
    ] {
        get(&app, path, &token).await.expect(StatusCode::OK, path);
    }
}

#[tokio::test]
async fn one_job_by_id_and_its_errors() {
    let (app, token) = app().await;
    seed(&app).await;
    let oid = job_oid(&app, &token, "next-20261205").await;
    let body = get_ok(&app, &format!("/job/{oid}"), &token).await;
    assert_shape(
        &body,
        &fixture("kernelci", "job_one.json"),
        Rules {
            types: true,
            ..Rules::default()
        },
        "one",
    );
    assert_eq!(
        body["result"][0]["status"],
        json!("BUILD"),
        "a job is BUILD until POST /job"
    );
    assert_eq!(
        body["result"][0]["git_commit"],
        json!("next-20261205-commit"),
        "from the first build"
    );
    // Projection applies to one job too.
    let body = get_ok(&app, &format!("/job/{oid}?field=job"), &token).await;
    assert_eq!(
        body["result"][0],
        json!({"_id": {"$oid": oid}, "job": "next"})
    );
    // Not there, not hex, not the route's shape.
    let missing = "0123456789abcdef01234567";
    assert_reason(
        &get(&app, &format!("/job/{missing}"), &token).await,
        StatusCode::NOT_FOUND,
        &format!("Resource '{missing}' not found"),
    );
    assert_reason(
        &get(&app, "/job/0123456789abcdef0123456z", &token).await,
        StatusCode::BAD_REQUEST,
        "Wrong ID value provided",
    );
    let r = get(&app, "/job/0123", &token).await;
    r.expect(StatusCode::NOT_FOUND, "short id");
    assert_eq!(
        r.json(),
        json!({"code": 404, "message": "Resource not found"})
    );
    let r = get(&app, "/job/a/b/c", &token).await;
    assert_eq!(
        r.json(),
        json!({"code": 404, "message": "Resource not found"})
    );
}

#[tokio::test]
async fn filters_take_repeated_values_null_and_drop_invalid_ids() {
    let (app, token) = app().await;
    seed(&app).await;
    let body = get_ok(
        &app,
        "/job?job=next&job=arm-soc&sort=kernel&sort_order=1",
        &token,
    )
    .await;
    assert_eq!(
        kernels(&body),
        ["next-20261205", "next-20261206", "v6.7-rc4-soc"]
    );
    assert_eq!(
        get_ok(&app, "/job?kernel=v6.7-rc4&git_branch=master", &token).await["count"],
        json!(1)
    );
    assert_eq!(
        get_ok(&app, "/job?kernel=v6.7-rc4&git_branch=stable", &token).await["count"],
        json!(0)
    );
    assert_eq!(
        get_ok(&app, "/job?status=BUILD", &token).await["count"],
        json!(5)
    );
    assert_eq!(
        get_ok(
            &app,
            "/job?git_describe=v6.7-rc5&kernel_version=6.7.0",
            &token
        )
        .await["count"],
        json!(1)
    );
    // Empty values are dropped; unknown parameters are ignored.
    assert_eq!(
        get_ok(&app, "/job?job=&colour=blue", &token).await["count"],
        json!(5)
    );
    // `null` matches a missing value.
    assert_eq!(
        get_ok(&app, "/job?git_commit=null", &token).await["count"],
        json!(0)
    );
    svc::report_builds(
        &app.state.db,
        &[NewBuild {
            git_commit: None,
            ..build("tiny", "t1", "arm", Duration::zero())
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        kernels(&get_ok(&app, "/job?git_commit=null", &token).await),
        ["t1"]
    );
    assert_eq!(
        get_ok(&app, "/job?git_commit=null&git_commit=t1-commit", &token).await["count"],
        json!(1)
    );
    // Ids: any of, either case; an invalid one is dropped from the filter.
    let a = job_oid(&app, &token, "v6.7-rc4").await;
    let b = job_oid(&app, &token, "v6.7-rc5").await;
    let both = get_ok(
        &app,
        &format!("/job?_id={a}&_id={}", b.to_uppercase()),
        &token,
    )
    .await;
    assert_eq!(both["count"], json!(2));
    assert_eq!(
        get_ok(&app, "/job?_id=not-an-id", &token).await["count"],
        json!(6)
    );
    // `private` is a boolean; a value that is not one matches nothing.
    assert_eq!(
        get_ok(&app, "/job?private=false", &token).await["count"],
        json!(6)
    );
    assert_eq!(
        get_ok(&app, "/job?private=true", &token).await["count"],
        json!(0)
    );
    assert_eq!(
        get_ok(&app, "/job?private=maybe", &token).await["count"],
        json!(0)
    );
}

#[tokio::test]
async fn date_range_and_created_on_follow_the_backend() {
    let (app, token) = app().await;
    let now = Utc::now().naive_utc();
    let today = now.date();
    let at = |days: i64, h: u32| (today - Duration::days(days)).and_hms_opt(h, 0, 0).unwrap();
    // Created at noon today (or 00:00:30 when the test runs before noon, to stay in the past),
    // yesterday at noon, three days ago at noon and on that day's last second.
    let today_at = if now.time() > chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap() {
        at(0, 12)
    } else {
        today.and_hms_opt(0, 0, 30).unwrap()
    };
    let made = |kernel: &str, t: NaiveDateTime| NewBuild {
        created_on: Some(t),
        ..build("dated", kernel, "arm", Duration::zero())
    };
    let last_second =
        (today - Duration::days(3)).and_hms_opt(23, 59, 59).unwrap() + Duration::milliseconds(500);
    svc::report_builds(
        &app.state.db,
        &[
            made("today", today_at),
            made("yesterday", at(1, 12)),
            made("three-days", at(3, 12)),
            made("three-days-last-second", last_second),
        ],
    )
    .await
    .unwrap();
    let ks = |body: Value| {
        let mut k = kernels(&body);
        k.sort();
        k
    };
    assert_eq!(
        ks(get_ok(&app, "/job?date_range=0", &token).await),
        ["today"],
        "0 is today"
    );
    assert_eq!(
        ks(get_ok(&app, "/job?date_range=1", &token).await),
        ["today", "yesterday"]
    );
    assert_eq!(
        ks(get_ok(&app, "/job?date_range=-1", &token).await),
        ["today", "yesterday"],
        "abs()"
    );
    let day = (today - Duration::days(3)).format("%Y-%m-%d").to_string();
    let compact = (today - Duration::days(3)).format("%Y%m%d").to_string();
    // The day's last second is left out, as the backend's `< 23:59:59` left it.
    assert_eq!(
        ks(get_ok(&app, &format!("/job?created_on={day}"), &token).await),
        ["three-days"]
    );
    assert_eq!(
        ks(get_ok(&app, &format!("/job?created_on={compact}"), &token).await),
        ["three-days"]
    );
    assert_eq!(
        ks(get_ok(
            &app,
            &format!("/job?created_on=garbage&created_on={day}"),
            &token
        )
        .await),
        ["three-days"]
    );
    // date_range counts back from created_on instead of today, whole days.
    let yesterday = (today - Duration::days(1)).format("%Y-%m-%d").to_string();
    assert_eq!(
        ks(get_ok(
            &app,
            &format!("/job?created_on={yesterday}&date_range=2"),
            &token
        )
        .await),
        ["three-days", "three-days-last-second", "yesterday"]
    );
    // A non-number is 5 days; an overflow is a clear 400 (the backend's 500).
    assert_eq!(
        get_ok(&app, "/job?date_range=x", &token).await["count"],
        json!(4)
    );
    let r = get(&app, "/job?date_range=800000", &token).await;
    r.expect(StatusCode::BAD_REQUEST, "overflow");
    assert!(
        r.json()["reason"].as_str().unwrap().contains("date_range"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn time_range_is_minutes_clamped_to_ten_and_a_day() {
    let (app, token) = app().await;
    seed(&app).await;
    let ks = |body: Value| {
        let mut k = kernels(&body);
        k.sort();
        k
    };
    // Clamped up to 10 minutes: only the jobs of 5 minutes ago.
    assert_eq!(
        ks(get_ok(&app, "/job?time_range=1", &token).await),
        ["next-20261206"]
    );
    assert_eq!(
        ks(get_ok(&app, "/job?time_range=60", &token).await),
        ["next-20261206", "v6.7-rc5"]
    );
    // A non-number is 60; beyond a day is a day; it overrides date_range.
    assert_eq!(
        get_ok(&app, "/job?time_range=x", &token).await["count"],
        json!(2)
    );
    assert_eq!(
        get_ok(&app, "/job?time_range=100000", &token).await["count"],
        json!(3)
    );
    assert_eq!(
        get_ok(&app, "/job?date_range=10&time_range=180", &token).await["count"],
        json!(3)
    );
}

#[tokio::test]
async fn sort_order_applies_to_every_sort_key() {
    let (app, token) = app().await;
    seed(&app).await;
    let asc = get_ok(&app, "/job?sort=job&sort=kernel&sort_order=1", &token).await;
    assert_eq!(
        kernels(&asc),
        [
            "v6.7-rc4-soc",
            "v6.7-rc4",
            "v6.7-rc5",
            "next-20261205",
            "next-20261206"
        ]
    );
    // The default, and anything but 1, is descending, for both keys.
    let desc = get_ok(&app, "/job?sort=job&sort=kernel", &token).await;
    assert_eq!(
        kernels(&desc),
        [
            "next-20261206",
            "next-20261205",
            "v6.7-rc5",
            "v6.7-rc4",
            "v6.7-rc4-soc"
        ]
    );
    assert_eq!(
        get_ok(&app, "/job?sort=job&sort=kernel&sort_order=0", &token).await,
        desc
    );
    // Without sort: insertion order.
    let natural = get_ok(&app, "/job", &token).await;
    assert_eq!(
        kernels(&natural),
        [
            "next-20261206",
            "next-20261205",
            "v6.7-rc4",
            "v6.7-rc5",
            "v6.7-rc4-soc"
        ]
    );
    let by_date = get_ok(&app, "/job?sort=created_on", &token).await;
    assert_eq!(kernels(&by_date)[0], "next-20261206");
    for (q, word) in [
        ("sort=colour", "sort"),
        ("sort=job&sort_order=up", "sort_order"),
    ] {
        let r = get(&app, &format!("/job?{q}"), &token).await;
        r.expect(StatusCode::BAD_REQUEST, q);
        assert!(
            r.json()["reason"].as_str().unwrap().contains(word),
            "{}",
            r.text()
        );
    }
}

#[tokio::test]
async fn skip_and_limit_page_and_refuse_what_is_not_a_count() {
    let (app, token) = app().await;
    seed(&app).await;
    let body = get_ok(&app, "/job?limit=0", &token).await;
    assert_eq!(
        body["result"].as_array().unwrap().len(),
        5,
        "limit=0 is all"
    );
    let body = get_ok(&app, "/job?limit=9&limit=2&skip=4", &token).await;
    assert_eq!(
        (
            body["limit"].clone(),
            body["result"].as_array().unwrap().len()
        ),
        (json!(2), 1),
        "the last value"
    );
    for q in ["limit=x", "limit=-1", "skip=1.5", "limit="] {
        let r = get(&app, &format!("/job?{q}"), &token).await;
        r.expect(StatusCode::BAD_REQUEST, q);
        assert_eq!(r.json()["code"], json!(400));
    }
}

#[tokio::test]
async fn field_keeps_the_id_and_nfield_takes_keys_away() {
    let (app, token) = app().await;
    seed(&app).await;
    let doc = |body: Value| {
        body["result"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        doc(get_ok(&app, "/job?field=status&field=kernel", &token).await),
        ["_id", "kernel", "status"]
    );
    assert_eq!(
        doc(get_ok(&app, "/job?field=status&nfield=_id", &token).await),
        ["status"]
    );
    let without = doc(get_ok(&app, "/job?nfield=git_url&nfield=_id", &token).await);
    assert!(
        !without.contains(&"git_url".to_owned())
            && !without.contains(&"_id".to_owned())
            && without.contains(&"job".to_owned())
    );
    assert_eq!(
        doc(get_ok(&app, "/job?field=nothing", &token).await),
        ["_id"]
    );
    let r = get(&app, "/job?field=status&nfield=job", &token).await;
    r.expect(StatusCode::BAD_REQUEST, "mixed projection");
}

#[tokio::test]
async fn gte_and_lt_make_a_range_on_one_field() {
    let (app, token) = app().await;
    seed(&app).await;
    let ks = |body: Value| {
        let mut k = kernels(&body);
        k.sort();
        k
    };
    assert_eq!(
        ks(get_ok(&app, "/job?gte=kernel,v6.7-rc4&lt=kernel,v6.7-rc5", &token).await),
        ["v6.7-rc4", "v6.7-rc4-soc"]
    );
    assert_eq!(
        ks(get_ok(&app, "/job?gte=kernel,v6.7", &token).await).len(),
        3
    );
    // A field that is not a filter key is ignored; an exact filter and a range on one field
    // is a 400 (the backend's 500).
    assert_eq!(
        get_ok(&app, "/job?lt=colour,x", &token).await["count"],
        json!(5)
    );
    get(&app, "/job?kernel=v6.7-rc4&gte=kernel,v6", &token)
        .await
        .expect(StatusCode::BAD_REQUEST, "both");
    // Times: a range on created_on.
    let since = (Utc::now() - Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(
        get_ok(&app, &format!("/job?gte=created_on,{since}"), &token).await["count"],
        json!(2)
    );
}

#[tokio::test]
async fn distinct_lists_the_values_of_the_allowed_fields() {
    let (app, token) = app().await;
    seed(&app).await;
    let body = get_ok(&app, "/job/distinct/job", &token).await;
    assert_shape(
        &body,
        &fixture("kernelci", "distinct.json"),
        Rules {
            types: true,
            ..Rules::default()
        },
        "distinct",
    );
    assert_eq!(
        body,
        json!({"code": 200, "count": 3, "result": ["arm-soc", "mainline", "next"]})
    );
    // Filters apply; skip, limit and sort do not.
    let body = get_ok(
        &app,
        "/job/distinct/kernel?job=next&limit=1&sort=job",
        &token,
    )
    .await;
    assert_eq!(body["result"], json!(["next-20261205", "next-20261206"]));
    for f in [
        "compiler",
        "compiler_version",
        "compiler_version_ext",
        "git_branch",
        "git_commit",
        "git_describe",
        "git_describe_v",
        "git_url",
        "kernel_version",
    ] {
        get(&app, &format!("/job/distinct/{f}"), &token)
            .await
            .expect(StatusCode::OK, f);
    }
    for f in ["status", "_id", "colour"] {
        assert_reason(
            &get(&app, &format!("/job/distinct/{f}"), &token).await,
            StatusCode::BAD_REQUEST,
            "No field specified or field not valid",
        );
    }
}

#[tokio::test]
async fn logs_by_job_id_and_as_a_list() {
    let (app, token) = app().await;
    seed(&app).await;
    let oid = job_oid(&app, &token, "next-20261206").await;
    let lines = |n: i64, s: &str| {
        vec![LogLine {
            count: n,
            line: s.into(),
        }]
    };
    svc::record_log_summary(
        &app.state.db,
        &NewLogSummary {
            job_id: oid.clone(),
            errors: lines(1, "An error string"),
            warnings: lines(10, "A warning string"),
            mismatches: vec![],
        },
    )
    .await
    .unwrap();
    let body = get_ok(&app, &format!("/job/{oid}/logs"), &token).await;
    // Keys only: a `[count, line]` pair mixes types, which the checker compares item by item.
    assert_shape(
        &body,
        &fixture("kernelci", "logs.json"),
        Rules::default(),
        "logs",
    );
    assert_eq!(body["result"][0]["job_id"], json!({"$oid": oid}));
    assert_eq!(body["result"][0]["errors"], json!([[1, "An error string"]]));
    // A job without a summary, and ids that are not ids.
    let other = job_oid(&app, &token, "v6.7-rc4").await;
    assert_reason(
        &get(&app, &format!("/job/{other}/logs"), &token).await,
        StatusCode::NOT_FOUND,
        &format!("Resource '{other}' not found"),
    );
    assert_reason(
        &get(&app, "/job/zz3456789abcdef012345678/logs", &token).await,
        StatusCode::BAD_REQUEST,
        "Wrong ID value provided",
    );
    // The list, filtered by job_id (any of) and by name.
    let list = get_ok(
        &app,
        &format!("/job/logs?job_id={oid}&job_id={other}"),
        &token,
    )
    .await;
    assert_eq!(
        (list["count"].clone(), list["skip"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(
        get_ok(&app, "/job/logs?job=mainline", &token).await["count"],
        json!(0)
    );
    assert_eq!(
        get_ok(&app, "/job/logs?kernel=next-20261206&date_range=0", &token).await["count"],
        json!(1)
    );
    // Logs are read-only.
    let r = reply(
        app.client
            .post(format!("/job/{oid}/logs"))
            .header("Authorization", &token)
            .send()
            .await,
    )
    .await;
    assert_reason(&r, StatusCode::NOT_IMPLEMENTED, "Method not implemented");
}

async fn post_job(
    app: &TestApp,
    path: &str,
    token: &str,
    ctype: Option<&str>,
    body: &str,
) -> Reply {
    let mut req = app
        .client
        .post(path)
        .header("Authorization", token)
        .body(body.to_owned());
    if let Some(c) = ctype {
        req = req.content_type(c);
    }
    reply(req.send().await).await
}

#[tokio::test]
async fn post_runs_its_checks_in_the_backend_order() {
    let (app, token) = app().await;
    seed(&app).await;
    let read = app.token(&[Scope::Read]).await;
    let ok =
        r#"{"job": "next", "kernel": "next-20261206", "git_branch": "master", "status": "FAIL"}"#;
    let j = Some("application/json");
    // 1. The token: a read token cannot post, whatever the body.
    assert_reason(
        &post_job(&app, "/job", &read, Some("text/plain"), "x").await,
        StatusCode::FORBIDDEN,
        "Operation not permitted: provided token is not authorized",
    );
    // 2. The content type must start with application/json.
    assert_reason(
        &post_job(&app, "/job", &token, Some("text/plain"), ok).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Wrong content type defined: Use application/json as the content type",
    );
    assert_reason(
        &post_job(&app, "/job", &token, None, ok).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Wrong content type defined: Use application/json as the content type",
    );
    // 3. JSON.
    assert_reason(
        &post_job(&app, "/job", &token, j, "{not json").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "No JSON data found in the POST request",
    );
    // 4. An object with the mandatory keys.
    let r = post_job(&app, "/job", &token, j, "[1, 2]").await;
    assert_eq!(
        r.json(),
        json!({"code": 400, "reason": "Provided JSON is not valid", "errors": ["Provided data is not JSON"]})
    );
    let r = post_job(&app, "/job", &token, j, r#"{"job": "next"}"#).await;
    assert_eq!(
        r.json(),
        json!({"code": 400, "reason": "Provided JSON is not valid", "errors": ["One or more mandatory keys are missing: ['kernel', 'git_branch']"]})
    );
    // 5. The status, with the note on keys it does not know.
    let r = post_job(&app, "/job", &token, j, r#"{"job": "next", "kernel": "next-20261206", "git_branch": "master", "status": "GREAT", "colour": 1}"#).await;
    assert_eq!(
        r.json(),
        json!({"code": 400, "reason": "Status value 'GREAT' is not valid, should be one of: ['BUILD', 'FAIL', 'PASS', 'UNKNOWN']", "errors": ["Found non recognizable keys, they will not be considered: colour"]})
    );
    // 6. The job.
    let r = post_job(
        &app,
        "/job",
        &token,
        j,
        r#"{"job": "next", "kernel": "next-1999", "git_branch": "master"}"#,
    )
    .await;
    assert_reason(
        &r,
        StatusCode::NOT_FOUND,
        "Job 'next-next-1999 (branch master)' not found",
    );
    // Success: the status is set; an id in the path is ignored; the default status is PASS.
    assert_reason(
        &post_job(
            &app,
            "/job",
            &token,
            Some("application/json; charset=utf-8"),
            ok,
        )
        .await,
        StatusCode::OK,
        "Job 'next-next-20261206' (branch master) marked as 'FAIL'",
    );
    assert_eq!(
        get_ok(&app, "/job?kernel=next-20261206", &token).await["result"][0]["status"],
        json!("FAIL")
    );
    let r = post_job(
        &app,
        "/jobs/0123456789abcdef01234567",
        &token,
        j,
        r#"{"job": "next", "kernel": "next-20261206", "git_branch": "master", "x": 1}"#,
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"code": 200, "reason": "Job 'next-next-20261206' (branch master) marked as 'PASS'", "errors": ["Found non recognizable keys, they will not be considered: x"]})
    );
    assert_eq!(
        get_ok(&app, "/job?kernel=next-20261206", &token).await["result"][0]["status"],
        json!("PASS")
    );
}

#[tokio::test]
async fn delete_cascades_to_the_builds_and_the_summary() {
    let (app, token) = app().await;
    seed(&app).await;
    let oid = job_oid(&app, &token, "next-20261206").await;
    let job = svc::job_by_oid(&app.state.db, &oid).await.unwrap().unwrap();
    svc::record_log_summary(
        &app.state.db,
        &NewLogSummary {
            job_id: oid.clone(),
            ..NewLogSummary::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        svc::count_builds_for_jobs(&app.state.db, &[job.id])
            .await
            .unwrap()
            .get(&job.id),
        Some(&2)
    );
    let delete = |path: String| {
        let app = &app;
        let token = token.clone();
        async move {
            reply(
                app.client
                    .delete(path)
                    .header("Authorization", token)
                    .send()
                    .await,
            )
            .await
        }
    };
    assert_reason(
        &delete(format!("/job/{oid}")).await,
        StatusCode::OK,
        &format!("Resource '{oid}' deleted"),
    );
    assert!(
        svc::job_by_oid(&app.state.db, &oid)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        svc::count_builds_for_jobs(&app.state.db, &[job.id])
            .await
            .unwrap()
            .is_empty(),
        "builds deleted"
    );
    assert_eq!(
        svc::count_summaries(&app.state.db, &Criteria::default())
            .await
            .unwrap(),
        0,
        "summary deleted"
    );
    assert_eq!(
        svc::count_jobs(&app.state.db, &Criteria::default())
            .await
            .unwrap(),
        4,
        "the others stay"
    );
    assert_reason(
        &delete(format!("/job/{oid}")).await,
        StatusCode::NOT_FOUND,
        "Resource not found",
    );
    assert_reason(
        &delete("/job/0123456789abcdef0123456z".into()).await,
        StatusCode::BAD_REQUEST,
        "Wrong ID specified",
    );
    assert_reason(
        &delete("/job".into()).await,
        StatusCode::BAD_REQUEST,
        "No ID value specified",
    );
}

#[tokio::test]
async fn every_method_needs_a_token_with_its_own_permission() {
    let app = TestApp::new().await;
    seed(&app).await;
    let read = app.token(&[Scope::Read]).await;
    let post = app.token(&[Scope::Write]).await;
    let delete = app.token(&[Scope::Delete]).await;
    let admin = app.token(&[Scope::Admin]).await;
    let body = r#"{"job": "next", "kernel": "next-20261206", "git_branch": "master"}"#;
    // (method, path) → which tokens may: read, post, delete, admin.
    let oid = |k: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move { job_oid(app, &admin, k).await }
    };
    let a = oid("v6.7-rc4").await;
    let routes: Vec<(&str, String, [bool; 4])> = vec![
        ("GET", "/job".into(), [true, true, false, true]),
        ("GET", format!("/job/{a}"), [true, true, false, true]),
        ("GET", "/job/distinct/job".into(), [true, true, false, true]),
        ("GET", "/job/logs".into(), [true, true, false, true]),
        ("POST", "/job".into(), [false, true, false, true]),
        ("DELETE", "/job".into(), [false, false, true, true]),
    ];
    for (method, path, allowed) in &routes {
        let send = |auth: Option<String>| {
            let app = &app;
            let (method, path) = (*method, path.clone());
            async move {
                let mut req = match method {
                    "GET" => app.client.get(path),
                    "POST" => app
                        .client
                        .post(path)
                        .content_type("application/json")
                        .body(body),
                    _ => app.client.delete(path),
                };
                if let Some(a) = auth {
                    req = req.header("Authorization", a);
                }
                reply(req.send().await).await
            }
        };
        let denied = |r: &Reply, who: &str| {
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {path} as {who}: {}",
                r.text()
            );
            assert_eq!(
                r.json(),
                json!({"code": 403, "reason": "Operation not permitted: provided token is not authorized"})
            );
        };
        denied(&send(None).await, "nobody");
        denied(
            &send(Some("tg_not_a_token".into())).await,
            "an unknown token",
        );
        for (i, (who, tok)) in [
            ("read", &read),
            ("post", &post),
            ("delete", &delete),
            ("admin", &admin),
        ]
        .into_iter()
        .enumerate()
        {
            for form in [tok.clone(), format!("Bearer {tok}")] {
                let r = send(Some(form)).await;
                if allowed[i] {
                    assert_ne!(
                        r.status,
                        StatusCode::FORBIDDEN,
                        "{method} {path} as {who}: {}",
                        r.text()
                    );
                } else {
                    denied(&r, who);
                }
            }
        }
    }
}

#[tokio::test]
async fn options_needs_no_token_and_put_is_not_implemented() {
    let (app, token) = app().await;
    let r = reply(app.client.options("/job").send().await).await;
    r.expect(StatusCode::OK, "OPTIONS");
    assert_eq!(r.json(), json!({"code": 200}));
    let r = reply(
        app.client
            .put("/job")
            .header("Authorization", &token)
            .body("{}")
            .send()
            .await,
    )
    .await;
    assert_reason(&r, StatusCode::NOT_IMPLEMENTED, "Method not implemented");
    let r = reply(
        app.client
            .delete("/job/distinct/job")
            .header("Authorization", &token)
            .send()
            .await,
    )
    .await;
    assert_reason(&r, StatusCode::NOT_IMPLEMENTED, "Method not implemented");
    // Methods the base handler does not define never reached it: Tornado's 405.
    for m in ["PATCH", "TRACE"] {
        let method = poem::http::Method::from_bytes(m.as_bytes()).unwrap();
        let r = reply(
            app.client
                .request(method, "/job")
                .header("Authorization", &token)
                .send()
                .await,
        )
        .await;
        assert_reason(&r, StatusCode::METHOD_NOT_ALLOWED, "Operation not allowed");
    }
}

#[tokio::test]
async fn answers_are_gzipped_when_asked_and_carry_the_backend_cors() {
    use std::io::Read;
    let (app, token) = app().await;
    seed(&app).await;
    let resp = app
        .client
        .get("/job")
        .header("Authorization", &token)
        .header("Accept-Encoding", "gzip")
        .header("Origin", "https://dash.example")
        .send()
        .await;
    let headers = resp.0.headers().clone();
    assert_eq!(
        headers.get("content-encoding").map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(
        headers.get("vary").map(|v| v.to_str().unwrap()),
        Some("Accept-Encoding")
    );
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://dash.example")
    );
    assert_eq!(
        headers
            .get("access-control-allow-headers")
            .map(|v| v.to_str().unwrap()),
        Some("authorization")
    );
    let raw = resp.0.into_body().into_vec().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut text)
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["count"], json!(5));
    // Not asked, or too small to gain: sent as it is.
    let plain = get(&app, "/job", &token).await;
    assert_eq!(plain.json()["count"], json!(5));
    let small = reply(
        app.client
            .get("/job?job=nope")
            .header("Authorization", &token)
            .header("Accept-Encoding", "gzip")
            .send()
            .await,
    )
    .await;
    assert_eq!(small.json()["count"], json!(0));
    // Errors carry the CORS headers too.
    let denied = app
        .client
        .get("/job")
        .header("Origin", "https://dash.example")
        .send()
        .await;
    assert_eq!(denied.0.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        denied
            .0
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://dash.example")
    );
}
