//! End to end with the real client: pytest-monitor 1.6.6 (in a Python virtualenv) runs the small
//! suite in `tests/e2e/pytest_monitor_suite` against a live testgraph, and everything the plugin
//! stored in its own local `.pymon` database must read back identically through the REST API and
//! GraphQL.
//!
//! Python: `TESTGRAPH_E2E_VENV` names a prepared virtualenv (see `.ci/e2e-venv.sh`); otherwise the
//! test prepares `target/e2e-venv` with that script when `python3` is on PATH. Without Python the
//! test prints a SKIPPED line and passes, unless `TESTGRAPH_E2E_REQUIRED=1` (CI), where it fails.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{LiveServer, TestApp};
use crate::external::{Finished, SHORT_TIMEOUT, Venv, manifest_dir, run, venv_python_path};

const PYTEST_TIMEOUT: Duration = Duration::from_secs(180);

/// Floats travel Python repr → JSON → server → JSON; serde_json's default parser may be one ULP
/// off, so a float matches when bit-identical or within this.
const FLOAT_TOLERANCE: f64 = 1e-9;

/// The virtualenv with the real plugin (`.ci/e2e-venv.sh`).
const VENV: Venv = Venv {
    test: "e2e_pytest_monitor",
    script: "e2e-venv.sh",
    env_var: "TESTGRAPH_E2E_VENV",
    dir: "e2e-venv",
};

/// Makes `dir` a git repository with one commit, so the plugin records a real `scm_ref`
/// (`git rev-parse HEAD`). Returns the commit, or None when git is unavailable.
async fn init_git_repo(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        let mut cmd = Command::new("git");
        cmd.args([
            "-c",
            "user.name=testgraph e2e",
            "-c",
            "user.email=e2e@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
        cmd
    };
    for args in [
        &["init", "-q"][..],
        &["commit", "-q", "--allow-empty", "-m", "e2e"][..],
    ] {
        match run(git(args), SHORT_TIMEOUT).await {
            Ok(f) if f.success() => {}
            _ => return None,
        }
    }
    let f = run(git(&["rev-parse", "HEAD"]), SHORT_TIMEOUT)
        .await
        .ok()
        .filter(Finished::success)?;
    Some(f.stdout.trim().to_owned())
}

/// Dumps pytest-monitor's local sqlite database (schema from pytest_monitor/handler.py) as JSON,
/// rows in insertion order. Python's json writes floats with repr, which round-trips exactly.
const DUMP_PYMON: &str = r#"
import json, sqlite3, sys
cnx = sqlite3.connect(sys.argv[1])
cnx.row_factory = sqlite3.Row
tables = ("TEST_SESSIONS", "EXECUTION_CONTEXTS", "TEST_METRICS")
print(json.dumps({t: [dict(r) for r in cnx.execute("SELECT * FROM " + t + " ORDER BY rowid")] for t in tables}))
"#;

/// (local TEST_METRICS column, REST key, GraphQL field) for the text fields of a metric.
const METRIC_TEXT: [(&str, &str, &str); 9] = [
    ("SESSION_H", "session_h", "sessionH"),
    ("ENV_H", "context_h", "contextH"),
    ("ITEM_START_TIME", "item_start_time", "itemStartTime"),
    ("ITEM_PATH", "item_path", "itemPath"),
    ("ITEM", "item", "item"),
    ("ITEM_VARIANT", "item_variant", "itemVariant"),
    ("ITEM_FS_LOC", "item_fs_loc", "itemFsLoc"),
    ("KIND", "kind", "kind"),
    ("COMPONENT", "component", "component"),
];

/// The same for the float fields.
const METRIC_FLOAT: [(&str, &str, &str); 5] = [
    ("TOTAL_TIME", "total_time", "totalTime"),
    ("USER_TIME", "user_time", "userTime"),
    ("KERNEL_TIME", "kernel_time", "kernelTime"),
    ("CPU_USAGE", "cpu_usage", "cpuUsage"),
    ("MEM_USAGE", "mem_usage", "memUsage"),
];

/// Float comparisons made, and how many of them were bit-identical.
#[derive(Default)]
struct FloatStats {
    compared: usize,
    exact: usize,
}

/// Compares the served metrics (in order) with the local rows; returns the differences.
fn compare_metrics(
    surface: &str,
    served: &[Value],
    local: &[Value],
    key: fn(&(&'static str, &'static str, &'static str)) -> &'static str,
    stats: &mut FloatStats,
) -> Vec<String> {
    let mut diffs = Vec::new();
    if served.len() != local.len() {
        diffs.push(format!(
            "{surface}: {} metrics served, {} stored locally",
            served.len(),
            local.len()
        ));
    }
    for (i, (s, l)) in served.iter().zip(local).enumerate() {
        for f in &METRIC_TEXT {
            let (col, k) = (f.0, key(f));
            if s.get(k) != l.get(col) {
                diffs.push(format!(
                    "{surface} metric #{i} ({}): {k} served {:?}, local {col} {:?}",
                    l["ITEM_VARIANT"],
                    s.get(k),
                    l.get(col)
                ));
            }
        }
        for f in &METRIC_FLOAT {
            let (col, k) = (f.0, key(f));
            let (a, b) = (
                s.get(k).and_then(Value::as_f64),
                l.get(col).and_then(Value::as_f64),
            );
            stats.compared += 1;
            match (a, b) {
                (Some(a), Some(b)) if a.to_bits() == b.to_bits() => stats.exact += 1,
                (Some(a), Some(b)) if (a - b).abs() <= FLOAT_TOLERANCE => {}
                _ => diffs.push(format!(
                    "{surface} metric #{i} ({}): {k} served {:?}, local {col} {:?}",
                    l["ITEM_VARIANT"],
                    s.get(k),
                    l.get(col)
                )),
            }
        }
    }
    diffs
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let resp = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url} body: {e}"));
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
    };
    (status, body)
}

/// Every item of a paged legacy list, following `next_url` (relative to the server root).
async fn get_all(client: &reqwest::Client, root: &str, path: &str, items_key: &str) -> Vec<Value> {
    let mut url = format!("{root}{path}");
    let mut items = Vec::new();
    for _ in 0..1000 {
        let (status, body) = get(client, &url).await;
        assert_eq!(status, 200, "GET {url} answered {status}: {body}");
        items.extend(
            body[items_key]
                .as_array()
                .unwrap_or_else(|| panic!("GET {url}: no {items_key} list: {body}"))
                .iter()
                .cloned(),
        );
        match body.get("next_url").and_then(Value::as_str) {
            Some(next) => url = format!("{root}{next}"),
            None => return items,
        }
    }
    panic!("GET {root}{path}: more than 1000 pages");
}

/// The description as the plugin stored it, as (name, value) pairs in its order.
fn local_tags(session: &Value) -> Vec<(String, String)> {
    let raw = session["RUN_DESCRIPTION"]
        .as_str()
        .expect("RUN_DESCRIPTION is text");
    let map: serde_json::Map<String, Value> =
        serde_json::from_str(raw).expect("RUN_DESCRIPTION is a JSON object");
    map.into_iter()
        .map(|(k, v)| {
            (
                k,
                v.as_str()
                    .expect("description values are strings")
                    .to_owned(),
            )
        })
        .collect()
}

fn served_tags(tags: &Value) -> Vec<(String, String)> {
    tags.as_array()
        .unwrap_or_else(|| panic!("tags is not a list: {tags}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn e2e_real_pytest_monitor_plugin_round_trips_through_rest_and_graphql() {
    let Some(python) = VENV.prepare().await.map(|v| venv_python_path(&v)) else {
        return;
    };

    let app = TestApp::new().await;
    let server = LiveServer::start(app.state.clone()).await;
    let remote = server.url("/api/v1");
    let root = server.url("");
    let work = tempfile::tempdir().expect("temp dir");
    let pymon = work.path().join("pymon.db");
    let suite = manifest_dir()
        .join("tests")
        .join("e2e")
        .join("pytest_monitor_suite");
    let commit = init_git_repo(work.path()).await;

    // 1. The real plugin runs the suite against the live server.
    let mut pytest = Command::new(&python);
    pytest
        .args(["-m", "pytest"])
        .arg(&suite)
        .args(["--remote-server", &remote])
        .args([
            "--tag",
            "env=ci",
            "--tag",
            "team=qa",
            "--description",
            "e2e run",
        ])
        .args(["-p", "no:cacheprovider"])
        .arg("--db")
        .arg(&pymon)
        // Module items too (the option is a substring test: "function,module").
        .args(["--restrict-scope-to", "function,module"])
        .current_dir(work.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for var in [
        "PYTEST_ADDOPTS",
        "PYTEST_PLUGINS",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "GIT_DIR",
        "GIT_WORK_TREE",
    ] {
        pytest.env_remove(var);
    }
    let started = Instant::now();
    let outcome = run(pytest, PYTEST_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    println!("pytest ran in {:.1}s", started.elapsed().as_secs_f64());
    assert!(
        outcome.success(),
        "pytest under pytest-monitor failed: {}",
        outcome.describe()
    );
    let output = format!("{}\n{}", outcome.stdout, outcome.stderr);
    assert!(
        !output.to_lowercase().contains("deactivating"),
        "pytest-monitor deactivated its remote mode (the server answered a status it did not expect): {}",
        outcome.describe()
    );
    assert!(
        outcome.stdout.contains("passed"),
        "no test passed: {}",
        outcome.describe()
    );

    // 2. What the plugin stored locally.
    let mut dump = Command::new(&python);
    dump.args(["-c", DUMP_PYMON]).arg(&pymon);
    let dumped = run(dump, SHORT_TIMEOUT)
        .await
        .expect("run python for the local dump");
    assert!(
        dumped.success(),
        "dumping {}: {}",
        pymon.display(),
        dumped.describe()
    );
    let local: Value = serde_json::from_str(&dumped.stdout).expect("local dump is JSON");
    let local_sessions = local["TEST_SESSIONS"].as_array().expect("sessions");
    let local_contexts = local["EXECUTION_CONTEXTS"].as_array().expect("contexts");
    let local_metrics = local["TEST_METRICS"].as_array().expect("metrics");
    assert_eq!(
        local_sessions.len(),
        1,
        "local sessions: {local_sessions:?}"
    );
    assert_eq!(
        local_contexts.len(),
        1,
        "local contexts: {local_contexts:?}"
    );
    let ls = &local_sessions[0];
    let lc = &local_contexts[0];
    let session_h = ls["SESSION_H"].as_str().expect("SESSION_H").to_owned();
    let context_h = lc["ENV_H"].as_str().expect("ENV_H").to_owned();
    let run_date = ls["RUN_DATE"].as_str().expect("RUN_DATE").to_owned();
    let scm = ls["SCM_ID"].as_str().expect("SCM_ID").to_owned();
    if let Some(commit) = &commit {
        assert_eq!(
            &scm, commit,
            "the plugin recorded the temp repository's commit"
        );
    }
    // The suite has 16 monitored functions and 3 modules (one function opts out of monitoring).
    assert_eq!(local_metrics.len(), 19, "local metrics: {local_metrics:#?}");
    assert!(
        local_metrics
            .iter()
            .all(|m| m["ENV_H"] == lc["ENV_H"] && m["SESSION_H"] == ls["SESSION_H"])
    );
    assert!(
        local_metrics
            .iter()
            .any(|m| m["ITEM_VARIANT"] == "test_square[small, int]"),
        "variants rewritten: {local_metrics:#?}"
    );
    assert!(
        local_metrics
            .iter()
            .any(|m| m["KIND"] == "module" && m["ITEM_VARIANT"] == "")
    );
    let tags = local_tags(ls);
    for (k, v) in [("description", "e2e run"), ("env", "ci"), ("team", "qa")] {
        assert!(
            tags.contains(&(k.to_owned(), v.to_owned())),
            "local description lacks {k}={v}: {tags:?}"
        );
    }

    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    let mut floats = FloatStats::default();
    let mut diffs = Vec::new();

    // 3. REST: the session.
    let sessions = get_all(&client, &root, "/api/v1/sessions/", "sessions").await;
    assert_eq!(sessions.len(), 1, "GET /api/v1/sessions/: {sessions:#?}");
    let s = &sessions[0];
    assert_eq!(s["session_h"], json!(session_h), "session_h: {s}");
    assert_eq!(
        s["run_date"],
        json!(run_date),
        "run_date must be byte for byte the plugin's: {s}"
    );
    assert!(
        chrono::NaiveDateTime::parse_from_str(&run_date, "%Y-%m-%dT%H:%M:%S%.f").is_ok(),
        "run_date {run_date:?} is not ISO 8601"
    );
    assert_eq!(s["scm_ref"], json!(scm), "scm_ref: {s}");
    assert_eq!(
        served_tags(&s["tags"]),
        tags,
        "tags, in the plugin's order: {s}"
    );
    let (status, count) = get(&client, &server.url("/api/v1/sessions/count")).await;
    assert_eq!(
        (status, count.clone()),
        (200, json!({"count": 1})),
        "sessions/count: {count}"
    );
    let by_prefix = get_all(
        &client,
        &root,
        &format!("/api/v1/sessions/{}", &session_h[..8]),
        "sessions",
    )
    .await;
    assert_eq!(by_prefix, sessions, "session by prefix");

    // 4. REST: the metrics, every one of them, identical and in the order they were sent.
    let metrics = get_all(
        &client,
        &root,
        &format!("/api/v1/sessions/{session_h}/metrics"),
        "metrics",
    )
    .await;
    diffs.extend(compare_metrics(
        "REST",
        &metrics,
        local_metrics,
        |f| f.1,
        &mut floats,
    ));
    let (status, count) = get(
        &client,
        &server.url(&format!("/api/v1/sessions/{session_h}/metrics/count")),
    )
    .await;
    assert_eq!(
        (status, count.clone()),
        (200, json!({"count": local_metrics.len()})),
        "session metrics count"
    );
    let all = get_all(&client, &root, "/api/v1/metrics/", "metrics").await;
    assert_eq!(all, metrics, "GET /api/v1/metrics/ serves the same metrics");

    // 5. REST: the execution context.
    let (status, body) = get(
        &client,
        &server.url(&format!("/api/v1/contexts/{context_h}")),
    )
    .await;
    assert_eq!(status, 200, "GET /api/v1/contexts/{context_h}: {body}");
    let contexts = body["contexts"]
        .as_array()
        .unwrap_or_else(|| panic!("contexts: {body}"));
    assert_eq!(contexts.len(), 1, "contexts: {body}");
    let c = &contexts[0];
    for (k, col) in [
        ("h", "ENV_H"),
        ("cpu_count", "CPU_COUNT"),
        ("cpu_type", "CPU_TYPE"),
        ("cpu_vendor", "CPU_VENDOR"),
        ("ram_total", "RAM_TOTAL_MB"),
        ("machine_node", "MACHINE_NODE"),
        ("machine_type", "MACHINE_TYPE"),
        ("machine_arch", "MACHINE_ARCH"),
        ("system_info", "SYSTEM_INFO"),
        ("python_info", "PYTHON_INFO"),
    ] {
        if c.get(k) != lc.get(col) {
            diffs.push(format!(
                "REST context: {k} served {:?}, local {col} {:?}",
                c.get(k),
                lc.get(col)
            ));
        }
    }
    // The plugin sends psutil's float frequency; the legacy Integer field truncates it.
    let freq = lc["CPU_FREQUENCY_MHZ"].as_f64().expect("CPU_FREQUENCY_MHZ");
    if c["cpu_frequency"].as_f64() != Some(freq.trunc()) {
        diffs.push(format!(
            "REST context: cpu_frequency served {}, local {freq} (truncated {})",
            c["cpu_frequency"],
            freq.trunc()
        ));
    }
    let (status, count) = get(
        &client,
        &server.url(&format!("/api/v1/contexts/{context_h}/metrics/count")),
    )
    .await;
    assert_eq!(
        (status, count.clone()),
        (200, json!({"count": local_metrics.len()})),
        "context metrics count"
    );

    // 6. GraphQL: the same session, metrics and context.
    let query = r#"query($h: String!) {
        monitorSession(h: $h) {
            h runDate scmRef tags { name value }
            metrics(first: 100) {
                totalCount
                edges { node { sessionH item itemVariant kind totalTime userTime kernelTime cpuUsage memUsage
                               itemStartTime itemPath itemFsLoc component contextH } }
            }
            contexts { h cpuCount cpuFrequency ramTotal machineNode pythonInfo }
        }
    }"#;
    let resp = client
        .post(server.url("/graphql"))
        .json(&json!({"query": query, "variables": {"h": session_h}}))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(resp.status().as_u16(), 200, "POST /graphql status");
    let gql: Value = resp.json().await.expect("GraphQL answers JSON");
    assert!(gql.get("errors").is_none(), "GraphQL errors: {gql:#}");
    let gs = &gql["data"]["monitorSession"];
    assert_eq!(gs["h"], json!(session_h), "GraphQL session: {gs}");
    assert_eq!(gs["runDate"], json!(run_date), "GraphQL runDate: {gs}");
    assert_eq!(gs["scmRef"], json!(scm), "GraphQL scmRef: {gs}");
    assert_eq!(served_tags(&gs["tags"]), tags, "GraphQL tags");
    assert_eq!(
        gs["metrics"]["totalCount"],
        json!(local_metrics.len()),
        "GraphQL totalCount"
    );
    let nodes: Vec<Value> = gs["metrics"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    diffs.extend(compare_metrics(
        "GraphQL",
        &nodes,
        local_metrics,
        |f| f.2,
        &mut floats,
    ));
    let gctx = gs["contexts"].as_array().expect("GraphQL contexts");
    assert_eq!(gctx.len(), 1, "GraphQL contexts: {gs}");
    assert_eq!(gctx[0]["h"], json!(context_h));
    assert_eq!(gctx[0]["cpuCount"], lc["CPU_COUNT"]);
    assert_eq!(gctx[0]["ramTotal"], lc["RAM_TOTAL_MB"]);
    assert_eq!(gctx[0]["machineNode"], lc["MACHINE_NODE"]);
    assert_eq!(gctx[0]["pythonInfo"], lc["PYTHON_INFO"]);
    assert_eq!(
        gctx[0]["cpuFrequency"].as_f64(),
        Some(freq.trunc()),
        "GraphQL cpuFrequency"
    );

    println!(
        "e2e pytest-monitor: session {session_h}, {} metrics, context {context_h}, scm_ref {scm:?}; \
         {} of {} floats bit-identical",
        local_metrics.len(),
        floats.exact,
        floats.compared
    );
    assert!(
        diffs.is_empty(),
        "served data differs from what pytest-monitor stored locally:\n{}",
        diffs.join("\n")
    );
}
