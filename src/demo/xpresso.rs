//! XPRESSO's demo data, in the group `default` (where `testgraph token create` puts a token
//! unless told otherwise): a lab of three testbeds and a virtual topology, three profiles of a
//! routing team's pyATS jobs, a nightly bundle of two of them, and six requests in every state a
//! CI engineer meets: one passed, one with failing tests, one whose run failed to start, one
//! stopped, one running and one queued. The runs are driven as a runner drives them, through the
//! same service functions (postback token, item moves, results).

use chrono::{Duration, NaiveDateTime};
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value, json};

use super::report::{Progress, Written};
use crate::error::{AppError, AppResult};
use crate::service::xpresso::{
    self as svc, BundleEntry, Caller, ItemMove, NewBundle, NewJob, NewPhaseResult, NewProfile,
    NewRequest, NewScript, NewSection, NewTestbed, NewTopology, Parameters, Phase, Request,
    RequestFilter, State, Summary,
};

pub const DOMAIN: &str = "XPRESSO";

/// The group the demo writes to, and its members.
const GROUP: &str = "default";
const SUBMITTER: &str = "alice";
const NIGHTLY: &str = "ci-nightly";

/// The first profile's name: its presence means the demo data is there.
const FIRST_PROFILE: &str = "bgp-regression";

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn holds_data(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(svc::count_profiles(db, GROUP).await? > 0
        || svc::count_requests(db, GROUP, &RequestFilter::default()).await? > 0)
}

fn testbed_yaml(name: &str, devices: &[(&str, &str)]) -> String {
    let mut y = format!("testbed:\n  name: {name}\ndevices:\n");
    for (device, os) in devices {
        y.push_str(&format!(
            "  {device}:\n    os: {os}\n    type: router\n    connections:\n      cli:\n        protocol: ssh\n        ip: 10.0.0.1\n"
        ));
    }
    y
}

fn harness() -> Map<String, Value> {
    object(json!({
        "oper_state": "ONLINE",
        "config_state": "ENABLED",
        "bldg": "ALL",
        "site": "SJC",
        "deleted": false,
        "name": "routing_env",
        "path": "/auto/routing/pyats",
        "harness": {"name": "pyATS", "run": "easypy", "clean": "kleenex"},
        "config": "",
        "uuid": "189f30a8-c475-4303-b638-77cc93f4073b",
        "support_liveview": true
    }))
}

fn engine() -> Map<String, Value> {
    object(
        json!({"name": "jenkins", "type": "jenkins", "uuid": "75e32472-e6d9-425f-be88-49be550c2ef1"}),
    )
}

fn profile(name: &str, job: &str, testbeds: Vec<String>, topology: Option<String>) -> NewProfile {
    NewProfile {
        name: name.into(),
        job: NewJob {
            name: job.into(),
            path: format!("/auto/routing/jobs/{job}.py"),
            uuid: None,
        },
        harness: harness(),
        engine: engine(),
        testbeds,
        topology,
        options: object(json!({"-trigger_groups": "And('routing', Not('physical'))"})),
        env: object(json!({"PYTHONPATH": "/auto/routing/pypi/"})),
        interest_list: vec!["routing-team@example.com".into()],
        max_runtime_seconds: Some(7_200),
        max_clean_runtime_seconds: Some(1_800),
        max_request_runtime_seconds: None,
        priority: None,
    }
}

/// A pyATS script's results: its sections pass but for `failing`, which fail.
fn script(
    task: usize,
    name: &str,
    at: NaiveDateTime,
    cases: &[&str],
    failing: &[&str],
) -> NewScript {
    let mut sections = vec![NewSection {
        section_id: format!("Task-{task}"),
        sequence_number: 1,
        section_name: format!("{name}.py"),
        section_type: "testscript".into(),
        result: if failing.is_empty() {
            "passed"
        } else {
            "failed"
        }
        .into(),
        source_file: format!("/auto/routing/tests/{name}.py"),
        run_time: format!("{}.0", 4 * cases.len()),
        start_time: Some(at),
        stop_time: Some(at + Duration::seconds(4 * cases.len() as i64)),
        log_file: format!("TaskLog.Task-{task}"),
        log_size_line: 60,
        log_size: -1,
        ..NewSection::default()
    }];
    for (n, case) in cases.iter().enumerate() {
        let failed = failing.contains(case);
        sections.push(NewSection {
            section_id: format!("Task-{task}.{case}"),
            parent_id: Some(format!("Task-{task}")),
            sequence_number: n as i64 + 2,
            section_name: (*case).into(),
            section_type: "testcase".into(),
            result: if failed { "failed" } else { "passed" }.into(),
            source_file: format!("/auto/routing/tests/{name}.py"),
            source_line: 40 + 25 * n as i64,
            run_time: "4.0".into(),
            start_time: Some(at + Duration::seconds(4 * n as i64)),
            stop_time: Some(at + Duration::seconds(4 * n as i64 + 4)),
            log_file: format!("TaskLog.Task-{task}"),
            log_start: 1_000 * n as i64,
            log_start_line: 30 * n as i64,
            log_size: 1_000,
            log_size_line: 30,
            description: format!("Checks {}", case.replace('_', " ")),
            ..NewSection::default()
        });
    }
    let fail = failing.len() as i64;
    NewScript {
        task_id: format!("Task-{task}"),
        name: format!("{name}.py"),
        path: "/auto/routing/tests".into(),
        summary: Summary {
            applicable_tasks: cases.len() as i64,
            total_tasks: cases.len() as i64,
            pass: cases.len() as i64 - fail,
            fail,
            ..Summary::default()
        },
        sections,
    }
}

/// A run phase's results from its scripts.
fn run_results(
    scripts: Vec<NewScript>,
    at: NaiveDateTime,
    testbed: &str,
    job: &str,
) -> NewPhaseResult {
    let mut summary = Summary::default();
    for s in &scripts {
        summary.add(&s.summary);
    }
    let state = if summary.fail > 0 { "FAILED" } else { "PASSED" };
    NewPhaseResult {
        state: Some(state.into()),
        start_time: Some(at),
        completion_time: Some(at + Duration::minutes(12)),
        summary,
        scripts,
        results_meta: object(json!({
            "created_by": "",
            "testbed": testbed,
            "suite_name": job,
            "status": "completed",
            "component": "routing",
            "submitter": SUBMITTER,
            "ats_tree": "/auto/routing/pyats",
            "result_format": "trade",
            "job": job,
            "exec_host": "pyats-runner-1.example.com",
            "run_time": "720.0",
            "branch": "main",
            "archive_location": format!("/archive/{job}.zip")
        })),
    }
}

struct Runner<'a> {
    db: &'a DatabaseConnection,
    token: String,
    request: String,
}

impl Runner<'_> {
    async fn to(&self, item: usize, to: State, detail: Option<&str>) -> AppResult<()> {
        let mv = ItemMove {
            to,
            selected_testbed: None,
            error_detail: detail.map(str::to_owned),
        };
        svc::move_item(
            self.db,
            &self.token,
            &format!("{}-{item}", self.request),
            &mv,
        )
        .await?;
        Ok(())
    }

    /// PREPARING → QUEUED → RUNNING.
    async fn start(&self, item: usize) -> AppResult<()> {
        self.to(item, State::Queued, None).await?;
        self.to(item, State::Running, None).await
    }

    async fn results(&self, item: usize, r: &NewPhaseResult) -> AppResult<()> {
        svc::attach_results(
            self.db,
            &self.token,
            &format!("{}-{item}", self.request),
            Phase::Run,
            r,
        )
        .await?;
        Ok(())
    }

    /// RUNNING → FINALIZING → FINISHED.
    async fn finish(&self, item: usize) -> AppResult<()> {
        self.to(item, State::Finalizing, None).await?;
        self.to(item, State::Finished, None).await
    }
}

fn runner<'a>(db: &'a DatabaseConnection, r: &Request) -> Runner<'a> {
    Runner {
        db,
        token: r.postback_token.clone(),
        request: svc::request_id(r.id),
    }
}

/// Writes the catalog and the six requests, unless the first profile is already there.
pub async fn fill(db: &DatabaseConnection, progress: Progress<'_>) -> AppResult<Written> {
    let existing = svc::list_profiles(
        db,
        GROUP,
        &crate::service::Slice::Offset {
            offset: 0,
            limit: 1_000,
        },
    )
    .await?;
    if existing.iter().any(|p| p.name == FIRST_PROFILE) {
        return Ok(Written {
            domain: DOMAIN,
            rows: Vec::new(),
        });
    }
    let steps = 8;
    let mut tb = Vec::new();
    for (name, devices) in [
        (
            "sjc-pod12",
            &[("pe1", "iosxr"), ("pe2", "iosxr"), ("ce1", "iosxe")][..],
        ),
        ("sjc-pod13", &[("pe1", "iosxr"), ("pe2", "iosxr")][..]),
        ("rtp-pod4", &[("p1", "nxos"), ("p2", "nxos")][..]),
    ] {
        tb.push(
            svc::create_testbed(
                db,
                GROUP,
                &NewTestbed {
                    name: name.into(),
                    definition: testbed_yaml(name, devices),
                },
            )
            .await?,
        );
    }
    let topo = svc::create_topology(db, GROUP, &NewTopology {
        name: "virl-3pe".into(),
        definition: "nodes:\n  - {name: pe1, image: xrv9k}\n  - {name: pe2, image: xrv9k}\n  - {name: pe3, image: xrv9k}\nlinks:\n  - [pe1, pe2]\n  - [pe2, pe3]\n".into(),
    })
    .await?;
    progress(DOMAIN, 1, steps);
    let bgp = svc::create_profile(
        db,
        GROUP,
        &profile(
            FIRST_PROFILE,
            "bgp_regression",
            vec![tb[0].uuid.clone(), tb[1].uuid.clone()],
            None,
        ),
    )
    .await?;
    let ospf = svc::create_profile(
        db,
        GROUP,
        &profile("ospf-sanity", "ospf_sanity", vec![tb[2].uuid.clone()], None),
    )
    .await?;
    let virl = svc::create_profile(
        db,
        GROUP,
        &profile(
            "l3vpn-virtual",
            "l3vpn_virtual",
            Vec::new(),
            Some(topo.uuid.clone()),
        ),
    )
    .await?;
    let nightly = svc::create_bundle(
        db,
        GROUP,
        &NewBundle {
            name: "routing-nightly".into(),
            entries: vec![
                BundleEntry {
                    profile: bgp.uuid.clone(),
                    ..BundleEntry::default()
                },
                BundleEntry {
                    profile: ospf.uuid.clone(),
                    parameters: Parameters {
                        job_args: object(json!({"--turbo": true})),
                        ..Parameters::default()
                    },
                    ..BundleEntry::default()
                },
            ],
        },
    )
    .await?;
    progress(DOMAIN, 2, steps);

    let alice = Caller {
        group: GROUP.into(),
        user: SUBMITTER.into(),
    };
    let ci = Caller {
        group: GROUP.into(),
        user: NIGHTLY.into(),
    };
    let by_profile = |p: &str, branch: &str, tags: &[&str]| NewRequest {
        profile: Some(p.to_owned()),
        branch: Some(branch.into()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        description: Some("Routing regression".into()),
        ..NewRequest::default()
    };
    let now = crate::service::stacktach::truncate_us(chrono::Utc::now().naive_utc());
    let at = now - Duration::hours(3);

    // 1. The nightly bundle: both items pass.
    let (r, _) = svc::submit_request(
        db,
        &ci,
        &NewRequest {
            bundle: Some(nightly.uuid.clone()),
            branch: Some("main".into()),
            tags: vec!["nightly".into()],
            ..NewRequest::default()
        },
    )
    .await?;
    let run = runner(db, &r);
    run.start(1).await?;
    run.results(
        1,
        &run_results(
            vec![
                script(
                    1,
                    "bgp_neighbors",
                    at,
                    &["establish_sessions", "verify_prefixes", "flap_recovery"],
                    &[],
                ),
                script(2, "bgp_policy", at, &["route_maps", "communities"], &[]),
            ],
            at,
            "sjc-pod12",
            "bgp_regression",
        ),
    )
    .await?;
    run.finish(1).await?;
    run.start(2).await?;
    run.results(
        2,
        &run_results(
            vec![script(
                1,
                "ospf_adjacency",
                at,
                &["hello_timers", "dr_election"],
                &[],
            )],
            at,
            "rtp-pod4",
            "ospf_sanity",
        ),
    )
    .await?;
    run.finish(2).await?;
    progress(DOMAIN, 3, steps);

    // 2. A feature branch with a failing test case.
    let (r, _) = svc::submit_request(
        db,
        &alice,
        &NewRequest {
            testbeds: Some(vec![tb[1].uuid.clone()]),
            parameters: Some(Parameters {
                env_vars: object(json!({"BGP_DEBUG": "1"})),
                ..Parameters::default()
            }),
            ..by_profile(&bgp.uuid, "feature/bgp-graceful-restart", &["bgp", "gr"])
        },
    )
    .await?;
    let run = runner(db, &r);
    run.start(1).await?;
    run.results(
        1,
        &run_results(
            vec![
                script(
                    1,
                    "bgp_neighbors",
                    at,
                    &["establish_sessions", "verify_prefixes", "flap_recovery"],
                    &["flap_recovery"],
                ),
                script(
                    2,
                    "bgp_graceful_restart",
                    at,
                    &["restart_helper", "restart_speaker"],
                    &["restart_speaker"],
                ),
            ],
            at,
            "sjc-pod13",
            "bgp_regression",
        ),
    )
    .await?;
    run.finish(1).await?;
    progress(DOMAIN, 4, steps);

    // 3. The virtual topology did not come up: the item failed before running.
    let (r, _) =
        svc::submit_request(db, &alice, &by_profile(&virl.uuid, "main", &["l3vpn"])).await?;
    let run = runner(db, &r);
    run.to(1, State::Queued, None).await?;
    run.to(
        1,
        State::Failed,
        Some("topology virl-3pe: node pe3 did not boot within 900 s"),
    )
    .await?;
    progress(DOMAIN, 5, steps);

    // 4. Stopped by its submitter while running.
    let (r, _) =
        svc::submit_request(db, &alice, &by_profile(&ospf.uuid, "main", &["ospf"])).await?;
    runner(db, &r).start(1).await?;
    svc::stop_request(
        db,
        &alice,
        r.id,
        "Testbed rtp-pod4 urgently needed for a customer escalation",
    )
    .await?;
    progress(DOMAIN, 6, steps);

    // 5. Running now, and 6. queued behind it.
    let (r, _) =
        svc::submit_request(db, &ci, &by_profile(&bgp.uuid, "main", &["nightly", "bgp"])).await?;
    runner(db, &r).start(1).await?;
    progress(DOMAIN, 7, steps);
    let (r, _) = svc::submit_request(
        db,
        &alice,
        &by_profile(&ospf.uuid, "release/7.9", &["ospf"]),
    )
    .await?;
    runner(db, &r).to(1, State::Queued, None).await?;
    progress(DOMAIN, 8, steps);

    let requests = svc::count_requests(db, GROUP, &RequestFilter::default()).await?;
    if requests != 6 {
        return Err(AppError::Internal(format!(
            "the XPRESSO demo wrote {requests} requests, not 6"
        )));
    }
    Ok(Written {
        domain: DOMAIN,
        rows: vec![
            ("testbeds", 3),
            ("topologies", 1),
            ("profiles", 3),
            ("bundles", 1),
            ("requests", requests),
            ("items", 7),
        ],
    })
}
