//! Seeds a testgraph database with deterministic benchmark data through the library's own
//! services (the same code paths the GraphQL mutations use), for `bench/run.sh`.
//!
//! Evergreen: one project with `--builds` variants of `--tasks` tasks each, `--versions` versions
//! (so versions × builds builds and versions × builds × tasks tasks), and `--results` test results
//! per task. pytest-monitor: `--contexts` contexts, `--sessions` sessions (tagged with a pipeline
//! branch and build number) and `--metrics` metrics spread evenly over the sessions. KernelCI
//! (only with `--jobs`): `--jobs` jobs over ten trees, each job a kernel of its own with
//! `--builds-per-job` builds (one architecture each, of five), reported through
//! `service::kernelci::report_builds` in batches of whole jobs, created over 100 days; and a
//! `read` token for the `/job` routes, whose secret the summary prints. XPRESSO (only with
//! `--xpr-requests`): a lab in the group `bench` (ten testbeds, three profiles, a bundle of the
//! three) and `--xpr-requests` requests, every fourth a bundle request (three items), the others
//! profile requests (one item), each item driven by its runner to FINISHED with run results of
//! `--xpr-scripts` scripts of `--xpr-sections` sections; and a `read` token of the group, whose
//! secret the summary prints.
//!
//! Every name, hash, time and number is derived from the row's index, so two runs with the same
//! arguments store the same content (row ids of test results may interleave differently across
//! tasks, never within a task). Prints a JSON summary (counts, timings, sample ids) on stdout.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use clap::Parser;
use sha2::{Digest, Sha256};
use testgraph::service::evergreen::{self as evg, NewTestResult, NewVersion, ProjectInput};
use testgraph::service::kernelci::{self as kci, NewBuild};
use testgraph::service::monitor::{self as mon, NewContext, NewMetric, NewSession};
use testgraph::service::tokens::{self, Scope};
use testgraph::service::xpresso as xpr;

#[derive(Parser, Debug)]
#[command(about = "Seed deterministic benchmark data into a testgraph database")]
struct Args {
    /// SQLite or PostgreSQL URL; migrations are applied first.
    #[arg(long, env = "TESTGRAPH_DATABASE_URL")]
    database_url: String,
    /// Evergreen versions (commits) of the one project.
    #[arg(long, default_value_t = 1000)]
    versions: usize,
    /// Builds per version (the project's variants).
    #[arg(long, default_value_t = 10)]
    builds: usize,
    /// Tasks per build.
    #[arg(long, default_value_t = 20)]
    tasks: usize,
    /// Test results per task.
    #[arg(long, default_value_t = 10)]
    results: usize,
    /// pytest-monitor metrics in total.
    #[arg(long, default_value_t = 100_000)]
    metrics: usize,
    /// pytest-monitor sessions the metrics are spread over.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// pytest-monitor execution contexts.
    #[arg(long, default_value_t = 10)]
    contexts: usize,
    /// Concurrent writers for test results and metric batches.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Metrics per `add_metrics` call.
    #[arg(long, default_value_t = 5000)]
    metric_batch: usize,
    /// The project's identifier.
    #[arg(long, default_value = "bench")]
    project: String,
    /// How many sample task ids to print (spread over all tasks).
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// KernelCI jobs (kernels), spread over ten trees; none by default.
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// KernelCI builds per job, one architecture each (at most 5).
    #[arg(long, default_value_t = 4)]
    builds_per_job: usize,
    /// KernelCI builds per `report_builds` call (rounded down to whole jobs).
    #[arg(long, default_value_t = 2000)]
    build_batch: usize,
    /// XPRESSO requests of the group `bench`; none by default.
    #[arg(long, default_value_t = 0)]
    xpr_requests: usize,
    /// Scripts in each XPRESSO item's run results.
    #[arg(long, default_value_t = 3)]
    xpr_scripts: usize,
    /// Sections in each script.
    #[arg(long, default_value_t = 5)]
    xpr_sections: usize,
}

/// The first `len` hex digits of SHA-256 over `seed`: stable, realistic-looking hashes.
fn hash(seed: &str, len: usize) -> String {
    let mut h = hex::encode(Sha256::digest(seed.as_bytes()));
    h.truncate(len);
    h
}

fn base_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn context_h(i: usize) -> String {
    hash(&format!("bench-context-{i}"), 64)
}

fn session_h(i: usize) -> String {
    hash(&format!("bench-session-{i}"), 32)
}

fn new_context(i: usize) -> NewContext {
    NewContext {
        h: context_h(i),
        cpu_count: [4, 8, 16, 32][i % 4],
        cpu_frequency: 2400 + 100 * (i % 8) as i64,
        cpu_type: "x86_64".into(),
        cpu_vendor: "GenuineIntel".into(),
        ram_total: 16384 * (1 + (i % 4) as i64),
        machine_node: format!("ci-runner-{i:03}"),
        machine_type: "x86_64".into(),
        machine_arch: "64bit".into(),
        system_info: "Linux - 6.1.0-18-amd64".into(),
        python_info: "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]".into(),
    }
}

fn new_session(i: usize) -> NewSession {
    let run = base_time() + Duration::minutes(17 * i as i64);
    NewSession {
        h: session_h(i),
        run_date: run.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        scm_ref: Some(hash(&format!("bench-scm-{}", i / 4), 40)),
        tags: vec![
            (
                "pipeline_branch".into(),
                ["main", "develop", "release-1.x"][i % 3].into(),
            ),
            ("pipeline_build_no".into(), (1000 + i / 3).to_string()),
            ("description".into(), format!("nightly run {i}")),
        ],
    }
}

/// Metric `j` of session `s` (global index `n`), on context `s % contexts`.
fn new_metric(s: usize, j: usize, n: usize, contexts: usize) -> NewMetric {
    let module = j % 25;
    let start =
        base_time() + Duration::minutes(17 * s as i64) + Duration::milliseconds(350 * j as i64);
    let total = 0.001 + ((n * 7919) % 5000) as f64 / 1000.0;
    NewMetric {
        session_h: session_h(s),
        context_h: context_h(s % contexts),
        item_start_time: start.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        item_path: format!("tests.pkg_{}.test_mod_{module}", module % 5),
        item: format!("test_case_{j}"),
        item_variant: if j.is_multiple_of(4) {
            format!("test_case_{j}[param{}]", j % 7)
        } else {
            String::new()
        },
        item_fs_loc: format!("tests/pkg_{}/test_mod_{module}.py", module % 5),
        kind: "function".into(),
        component: if j.is_multiple_of(3) {
            None
        } else {
            Some(format!("component_{}", j % 6))
        },
        total_time: total,
        user_time: total * 0.8,
        kernel_time: total * 0.05,
        cpu_usage: 0.85 + (n % 10) as f64 / 100.0,
        mem_usage: ((n * 31) % 2000) as f64 / 10.0 - 20.0,
    }
}

fn test_result(task_index: usize, k: usize, start: f64) -> NewTestResult {
    let code = (task_index * 31 + k * 7) % 97;
    let status = match code {
        0 => "fail",
        1..=3 => "skip",
        _ => "pass",
    };
    let begin = start + (k as f64) * 4.5;
    NewTestResult {
        test_file: format!("jstests/core/suite_{}/test_{k:02}.js", task_index % 20),
        status: status.into(),
        url: format!("https://logs.example.invalid/tests/{task_index}/{k}"),
        log_id: hash(&format!("bench-log-{task_index}-{k}"), 24),
        line_num: (k * 13 + 1) as i32,
        exit_code: if status == "fail" { 1 } else { 0 },
        start_s: begin,
        end_s: begin + 0.25 + (code % 40) as f64 / 10.0,
    }
}

/// KernelCI's trees (a job's `job`); job `i` is on tree `i % TREES.len()`.
const TREES: [&str; 10] = [
    "mainline",
    "next",
    "stable",
    "stable-rc",
    "arm-soc",
    "net-next",
    "tip",
    "media",
    "kernelci",
    "android",
];
/// Architectures with the defconfig and cross-compiler each is built with.
const ARCHES: [(&str, &str, &str); 5] = [
    ("arm64", "defconfig", "aarch64-linux-gnu-"),
    ("x86_64", "x86_64_defconfig", ""),
    ("arm", "multi_v7_defconfig", "arm-linux-gnueabihf-"),
    ("riscv", "defconfig", "riscv64-linux-gnu-"),
    ("mips", "32r2el_defconfig", "mips-linux-gnu-"),
];
/// The span the jobs' creation times cover.
const KCI_SPAN_S: i64 = 100 * 24 * 3600;

/// Build `k` of job `i` (of `jobs`): the job's fields, which a new job takes from its first
/// build, and one configuration. The job's creation time is its index's share of 100 days.
fn kci_build(i: usize, k: usize, jobs: usize) -> NewBuild {
    let tree = TREES[i % TREES.len()];
    let minor = 1 + (i * 10 / jobs.max(1));
    let kernel = format!(
        "v6.{minor}-{}-g{}",
        i / TREES.len(),
        hash(&format!("bench-kci-commit-{i}"), 12)
    );
    let created = base_time() + Duration::seconds(i as i64 * KCI_SPAN_S / jobs.max(1) as i64);
    let (arch, defconfig, cross) = ARCHES[(i + k) % ARCHES.len()];
    let code = (i * 31 + k * 7) % 13;
    let status = match code {
        0 => "FAIL",
        1 => "UNKNOWN",
        _ => "PASS",
    };
    NewBuild {
        job: tree.into(),
        kernel: kernel.clone(),
        git_branch: ["master", "for-next", "linux-6.6.y"][(i / TREES.len()) % 3].into(),
        git_commit: Some(hash(&format!("bench-kci-commit-{i}"), 40)),
        git_url: Some(format!(
            "https://git.kernel.org/pub/scm/linux/kernel/git/{tree}/linux.git"
        )),
        git_describe: Some(kernel),
        git_describe_v: None,
        kernel_version: Some(format!("6.{minor}.0")),
        compiler: Some("gcc".into()),
        compiler_version: Some("12.2.0".into()),
        compiler_version_ext: Some("gcc 12.2.0".into()),
        compiler_version_full: Some("gcc (Debian 12.2.0-14) 12.2.0".into()),
        cross_compile: (!cross.is_empty()).then(|| cross.to_string()),
        arch: arch.into(),
        defconfig: defconfig.into(),
        defconfig_full: None,
        build_environment: Some("gcc-12".into()),
        status: status.into(),
        build_time: Some(60.0 + ((i * 7919 + k * 104_729) % 1800) as f64 / 2.0),
        errors: Some(if status == "FAIL" {
            1 + (i % 3) as i32
        } else {
            0
        }),
        warnings: Some(((i + k) % 5) as i32),
        created_on: Some(created + Duration::seconds(30 * k as i64)),
    }
}

fn project_input(a: &Args) -> ProjectInput {
    let tasks: Vec<String> = (0..a.tasks).map(|t| format!("task_{t:02}")).collect();
    ProjectInput {
        identifier: a.project.clone(),
        display_name: "Benchmark project".into(),
        owner_name: "bench".into(),
        repo_name: "bench".into(),
        branch_name: "main".into(),
        repo_kind: "github".into(),
        batch_time: 0,
        remote: false,
        remote_path: "etc/evergreen.yml".into(),
        enabled: true,
        private: false,
        tasks: tasks
            .iter()
            .enumerate()
            .map(|(i, name)| evg::TaskDef {
                name: name.clone(),
                // Every task after the first waits for the first (a "compile" task), as is common.
                depends_on: if i == 0 {
                    vec![]
                } else {
                    vec![tasks[0].clone()]
                },
            })
            .collect(),
        variants: (0..a.builds)
            .map(|v| evg::VariantDef {
                name: format!("variant-{v:02}"),
                display_name: format!("Variant {v:02}"),
                tasks: tasks.clone(),
            })
            .collect(),
    }
}

/// The XPRESSO group the bench writes to.
const XPR_GROUP: &str = "bench";

fn object(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Run results of `scripts` scripts of `sections` sections, one case in seven failing.
fn xpr_results(n: usize, scripts: usize, sections: usize) -> xpr::NewPhaseResult {
    let at = base_time() + Duration::minutes(n as i64);
    let mut summary = xpr::Summary::default();
    let scripts: Vec<xpr::NewScript> = (0..scripts)
        .map(|k| {
            let fail = (n + k).is_multiple_of(7) as i64;
            let s = xpr::Summary {
                applicable_tasks: sections as i64,
                total_tasks: sections as i64,
                pass: sections as i64 - fail,
                fail,
                ..xpr::Summary::default()
            };
            summary.add(&s);
            xpr::NewScript {
                task_id: format!("Task-{}", k + 1),
                name: format!("suite_{k}.py"),
                path: "/auto/bench/tests".into(),
                summary: s,
                sections: (0..sections)
                    .map(|j| xpr::NewSection {
                        section_id: format!("Task-{}.case_{j}", k + 1),
                        sequence_number: j as i64 + 1,
                        section_name: format!("case_{j}"),
                        section_type: "testcase".into(),
                        result: if fail == 1 && j == 0 {
                            "failed"
                        } else {
                            "passed"
                        }
                        .into(),
                        source_file: format!("/auto/bench/tests/suite_{k}.py"),
                        source_line: 10 + 20 * j as i64,
                        run_time: "2.0".into(),
                        start_time: Some(at + Duration::seconds(2 * j as i64)),
                        stop_time: Some(at + Duration::seconds(2 * j as i64 + 2)),
                        log_file: format!("TaskLog.Task-{}", k + 1),
                        log_start_line: 30 * j as i64,
                        log_size_line: 30,
                        ..xpr::NewSection::default()
                    })
                    .collect(),
            }
        })
        .collect();
    xpr::NewPhaseResult {
        state: Some(if summary.fail > 0 { "FAILED" } else { "PASSED" }.into()),
        start_time: Some(at),
        completion_time: Some(at + Duration::minutes(10)),
        summary,
        scripts,
        results_meta: object(serde_json::json!({"status": "completed", "result_format": "trade"})),
    }
}

/// The XPRESSO lab and requests (see the module's doc); returns the items made.
async fn seed_xpresso(
    db: &sea_orm::DatabaseConnection,
    a: &Args,
    conc: usize,
) -> anyhow::Result<u64> {
    let mut testbeds = Vec::new();
    for i in 0..10 {
        let t = xpr::create_testbed(
            db,
            XPR_GROUP,
            &xpr::NewTestbed {
                name: format!("pod-{i:02}"),
                definition: format!("testbed:\n  name: pod-{i:02}\n"),
            },
        )
        .await?;
        testbeds.push(t.uuid);
    }
    let mut profiles = Vec::new();
    for (i, job) in ["bgp_regression", "ospf_sanity", "l3vpn"]
        .iter()
        .enumerate()
    {
        let p = xpr::create_profile(
            db,
            XPR_GROUP,
            &xpr::NewProfile {
                name: job.replace('_', "-"),
                job: xpr::NewJob {
                    name: (*job).into(),
                    path: format!("/auto/bench/jobs/{job}.py"),
                    uuid: None,
                },
                harness: object(serde_json::json!({"name": "bench_env", "harness": {"name": "pyATS", "run": "easypy", "clean": "kleenex"}})),
                engine: object(serde_json::json!({"name": "jenkins", "type": "jenkins"})),
                testbeds: testbeds[i * 3..i * 3 + 3].to_vec(),
                interest_list: vec!["bench@example.invalid".into()],
                ..xpr::NewProfile::default()
            },
        )
        .await?;
        profiles.push(p.uuid);
    }
    let bundle = xpr::create_bundle(
        db,
        XPR_GROUP,
        &xpr::NewBundle {
            name: "nightly".into(),
            entries: profiles
                .iter()
                .map(|p| xpr::BundleEntry {
                    profile: p.clone(),
                    ..xpr::BundleEntry::default()
                })
                .collect(),
        },
    )
    .await?;
    // Requests are submitted in order (their numbers follow n); each one's items are driven by
    // the writers in turn.
    let mut workers = tokio::task::JoinSet::new();
    let profiles = Arc::new(profiles);
    let bundle = Arc::new(bundle.uuid);
    let (requests, scripts, sections) = (a.xpr_requests, a.xpr_scripts, a.xpr_sections);
    for w in 0..conc {
        let db = db.clone();
        let (profiles, bundle) = (profiles.clone(), bundle.clone());
        workers.spawn(async move {
            let mut items = 0u64;
            let who = xpr::Caller {
                group: XPR_GROUP.into(),
                user: format!("dev{}", w % 5),
            };
            for n in (w..requests).step_by(conc) {
                let submit = if n % 4 == 3 {
                    xpr::NewRequest {
                        bundle: Some((*bundle).clone()),
                        ..xpr::NewRequest::default()
                    }
                } else {
                    xpr::NewRequest {
                        profile: Some(profiles[n % profiles.len()].clone()),
                        ..xpr::NewRequest::default()
                    }
                };
                let submit = xpr::NewRequest {
                    branch: Some(["main", "release/7.9", "feature/x"][n % 3].into()),
                    tags: vec![["nightly", "smoke"][n % 2].into()],
                    ..submit
                };
                let (req, made) = xpr::submit_request(&db, &who, &submit).await?;
                for item in &made {
                    let id = xpr::item_id(req.id, item.position);
                    for to in [xpr::State::Queued, xpr::State::Running] {
                        let mv = xpr::ItemMove {
                            to,
                            selected_testbed: None,
                            error_detail: None,
                        };
                        xpr::move_item(&db, &req.postback_token, &id, &mv).await?;
                    }
                    let results = xpr_results(n, scripts, sections);
                    xpr::attach_results(&db, &req.postback_token, &id, xpr::Phase::Run, &results)
                        .await?;
                    for to in [xpr::State::Finalizing, xpr::State::Finished] {
                        let mv = xpr::ItemMove {
                            to,
                            selected_testbed: None,
                            error_detail: None,
                        };
                        xpr::move_item(&db, &req.postback_token, &id, &mv).await?;
                    }
                    items += 1;
                }
            }
            Ok::<u64, testgraph::error::AppError>(items)
        });
    }
    let mut items = 0u64;
    while let Some(r) = workers.join_next().await {
        items += r??;
    }
    Ok(items)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.builds == 0 || a.tasks == 0 || a.sessions == 0 || a.contexts == 0 {
        bail!("--builds, --tasks, --sessions and --contexts must be at least 1");
    }
    if a.jobs > 0 && !(1..=ARCHES.len()).contains(&a.builds_per_job) {
        bail!("--builds-per-job must be 1 to {}", ARCHES.len());
    }
    let conc = a.concurrency.max(1);
    let db = testgraph::db::connect(&a.database_url, conc as u32 + 2)
        .await
        .context("cannot open the database")?;
    testgraph::db::migrate_up(&db).await.context("migrations")?;

    // ---- Evergreen ---------------------------------------------------------------------------
    let t0 = Instant::now();
    evg::upsert_project(&db, project_input(&a)).await?;
    let mut task_ids: Vec<(String, f64)> = Vec::with_capacity(a.versions * a.builds * a.tasks);
    let mut version_ids = Vec::with_capacity(a.versions);
    for i in 0..a.versions {
        let created = base_time() + Duration::minutes(30 * i as i64);
        let v = evg::create_version(
            &db,
            NewVersion {
                project: a.project.clone(),
                revision: hash(&format!("bench-revision-{i}"), 40),
                author: format!("Developer {}", i % 37),
                author_email: format!("dev{}@example.invalid", i % 37),
                message: format!("SERVER-{}: change number {i}", 10_000 + i),
                create_time: Some(created),
                activated: Some(true),
                requester: None,
            },
        )
        .await
        .with_context(|| format!("version {i}"))?;
        let start = created.and_utc().timestamp() as f64 + 600.0;
        for t in evg::tasks_for_version(&db, v.id).await? {
            task_ids.push((t.task_id, start));
        }
        version_ids.push(v.version_id);
    }
    let versions_s = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let task_ids = Arc::new(task_ids);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..conc {
        let db = db.clone();
        let ids = task_ids.clone();
        let per_task = a.results;
        workers.spawn(async move {
            let mut n = 0u64;
            for idx in (w..ids.len()).step_by(conc) {
                let (id, start) = &ids[idx];
                let rows = (0..per_task).map(|k| test_result(idx, k, *start)).collect();
                n += evg::add_test_results(&db, id, rows).await?;
            }
            Ok::<u64, testgraph::error::AppError>(n)
        });
    }
    let mut results_stored = 0u64;
    while let Some(r) = workers.join_next().await {
        results_stored += r??;
    }
    let results_s = t1.elapsed().as_secs_f64();

    // ---- pytest-monitor ----------------------------------------------------------------------
    let t2 = Instant::now();
    for i in 0..a.contexts {
        mon::create_context(&db, new_context(i)).await?;
    }
    for i in 0..a.sessions {
        mon::create_session(&db, new_session(i)).await?;
    }
    // Metric n belongs to session n / per_session (the last session takes the remainder).
    let per_session = a.metrics.div_ceil(a.sessions).max(1);
    let all: Vec<usize> = (0..a.metrics).collect();
    let batches: Vec<Vec<usize>> = all
        .chunks(a.metric_batch.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    let batches = Arc::new(batches);
    let contexts = a.contexts;
    let sessions = a.sessions;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..conc {
        let db = db.clone();
        let batches = batches.clone();
        workers.spawn(async move {
            let mut n = 0u64;
            for b in (w..batches.len()).step_by(conc) {
                let rows = batches[b]
                    .iter()
                    .map(|&n| {
                        let s = (n / per_session).min(sessions - 1);
                        new_metric(s, n - s * per_session, n, contexts)
                    })
                    .collect();
                n += mon::add_metrics(&db, rows).await?;
            }
            Ok::<u64, testgraph::error::AppError>(n)
        });
    }
    let mut metrics_stored = 0u64;
    while let Some(r) = workers.join_next().await {
        metrics_stored += r??;
    }
    let monitor_s = t2.elapsed().as_secs_f64();

    // ---- KernelCI ----------------------------------------------------------------------------
    // Batches of whole jobs (a job's builds together, as a lab reports them), taken by the
    // writers in turn.
    let t3 = Instant::now();
    let jobs = a.jobs;
    let per_job = a.builds_per_job;
    let jobs_per_batch = (a.build_batch / per_job.max(1)).max(1);
    let kci_batches = jobs.div_ceil(jobs_per_batch);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..conc {
        let db = db.clone();
        workers.spawn(async move {
            let mut report = kci::BuildsReport::default();
            for b in (w..kci_batches).step_by(conc) {
                let first = b * jobs_per_batch;
                let rows: Vec<NewBuild> = (first..(first + jobs_per_batch).min(jobs))
                    .flat_map(|i| (0..per_job).map(move |k| kci_build(i, k, jobs)))
                    .collect();
                let r = kci::report_builds(&db, &rows).await?;
                report.builds += r.builds;
                report.jobs_created += r.jobs_created;
            }
            Ok::<kci::BuildsReport, testgraph::error::AppError>(report)
        });
    }
    let (mut kci_builds, mut kci_jobs) = (0u64, 0u64);
    while let Some(r) = workers.join_next().await {
        let r = r??;
        kci_builds += r.builds;
        kci_jobs += r.jobs_created;
    }
    // A read token for the `/job` routes (KernelCI's get), printed once.
    let kci_token = if jobs > 0 {
        Some(
            tokens::create(&db, "bench", &[Scope::Read], "default")
                .await?
                .1,
        )
    } else {
        None
    };
    let kernelci_s = t3.elapsed().as_secs_f64();

    // ---- XPRESSO -----------------------------------------------------------------------------
    let t4 = Instant::now();
    let (xpr_items, xpr_token) = if a.xpr_requests > 0 {
        let items = seed_xpresso(&db, &a, conc).await?;
        let token = tokens::create_for(&db, "bench", &[Scope::Read], XPR_GROUP, "bench")
            .await?
            .1;
        (items, Some(token))
    } else {
        (0, None)
    };
    let xpresso_s = t4.elapsed().as_secs_f64();

    let step = (task_ids.len() / a.samples.max(1)).max(1);
    let sample_tasks: Vec<&str> = task_ids
        .iter()
        .step_by(step)
        .take(a.samples)
        .map(|(id, _)| id.as_str())
        .collect();
    let summary = serde_json::json!({
        "project": a.project,
        "versions": version_ids.len(),
        "builds": version_ids.len() * a.builds,
        "tasks": task_ids.len(),
        "test_results": results_stored,
        "contexts": a.contexts,
        "sessions": a.sessions,
        "metrics": metrics_stored,
        "seconds": {
            "versions": versions_s,
            "test_results": results_s,
            "monitor": monitor_s,
            "kernelci": kernelci_s,
            "xpresso": xpresso_s,
        },
        "kci_jobs": kci_jobs,
        "kci_builds": kci_builds,
        "kci_trees": TREES[..jobs.min(TREES.len())],
        "kci_token": kci_token,
        "xpr_requests": a.xpr_requests,
        "xpr_items": xpr_items,
        "xpr_token": xpr_token,
        "sample_task_ids": sample_tasks,
        "sample_session_hs": (0..a.sessions.min(a.samples)).map(session_h).collect::<Vec<_>>(),
        "context_hs": (0..a.contexts).map(context_h).collect::<Vec<_>>(),
        "newest_version_id": version_ids.last(),
    });
    println!("{summary}");
    Ok(())
}
