//! The browser pages in a real browser: headless Chromium opens `/graphiql` and `/docs` with every
//! host but the server unreachable, and the rendered page (the DOM after the scripts ran, not the
//! HTML sent) must show GraphiQL with its example tabs and the REST reference with the legacy
//! routes.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it), or from
//! `TESTGRAPH_CHROMIUM`. Without it the test prints a SKIPPED line and passes, unless
//! `TESTGRAPH_BROWSER_REQUIRED=1` (CI), where it fails.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{LiveServer, TestApp};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TESTGRAPH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// The DOM of `url` once its scripts have run, as Chromium serialises it.
async fn rendered(browser: PathBuf, url: String) -> String {
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().expect("profile dir");
        let out = Command::new(&browser)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                // Every host but the server is unreachable: nothing may come from a CDN.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=20000",
                "--timeout=60000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&url)
            .output()
            .expect("run chromium");
        assert!(
            out.status.success(),
            "chromium failed on {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .expect("chromium task")
}

#[tokio::test]
async fn graphiql_and_the_rest_reference_render_offline_in_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("TESTGRAPH_BROWSER_REQUIRED").is_ok_and(|v| v.trim() == "1") {
            panic!(
                "TESTGRAPH_BROWSER_REQUIRED=1 but no Chromium: install Debian's chromium or set TESTGRAPH_CHROMIUM"
            );
        }
        println!(
            "SKIPPED browser: no Chromium (set TESTGRAPH_BROWSER_REQUIRED=1 to make this a failure)"
        );
        return;
    };
    let app = TestApp::new().await;
    let server = LiveServer::start(app.state.clone()).await;

    let dom = rendered(browser.clone(), server.url("/graphiql")).await;
    assert!(
        !dom.contains("Loading GraphiQL"),
        "GraphiQL did not start: {}",
        &dom[..dom.len().min(2000)]
    );
    for part in [
        "graphiql-container",
        "graphiql-query-editor",
        "graphiql-execute-button",
    ] {
        assert!(
            dom.contains(part),
            "GraphiQL's {part} is not on the rendered page"
        );
    }
    // One tab per domain's example, the first one open.
    assert_eq!(
        dom.matches("graphiql-tab-button").count(),
        5,
        "an example tab per domain"
    );
    assert!(dom.contains("monitorSessions"), "the first example is open");

    let dom = rendered(browser, server.url("/docs")).await;
    assert!(
        !dom.contains("Loading the REST reference"),
        "Redoc did not start"
    );
    assert!(
        dom.contains("testgraph REST APIs"),
        "the document's title is rendered"
    );
    for route in [
        "One job by its 24-hex id",
        "The 10 most recent commit versions",
    ] {
        assert!(dom.contains(route), "the route '{route}' is rendered");
    }
}
