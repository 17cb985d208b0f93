//! The pages a newcomer opens in a browser, served entirely by testgraph: GraphiQL at
//! `/graphiql` and a reference of the legacy REST APIs at `/docs` (Redoc rendering
//! `openapi.json`). The third-party bundles (GraphiQL, React, Redoc) are pinned npm packages that
//! `build.rs` fetched and checked; they are embedded here with a gzip copy each, served under
//! `/assets/<name>-<version>...` names that never change content, so browsers may keep them for a
//! year. Every URL in the pages is relative, so they also work behind a reverse proxy that
//! mounts testgraph under a path prefix.

use std::sync::LazyLock;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Request, Response, handler};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    gzip: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!(env!("OUT_DIR"), "/web/", $name)),
            gzip: include_bytes!(concat!(env!("OUT_DIR"), "/web/", $name, ".gz")),
        }
    };
}

static ASSETS: [Asset; 5] = [
    asset!("react-18.3.1.min.js", "text/javascript; charset=utf-8"),
    asset!("react-dom-18.3.1.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql-4.1.2.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql-4.1.2.min.css", "text/css; charset=utf-8"),
    asset!(
        "redoc-2.5.0.standalone.js",
        "text/javascript; charset=utf-8"
    ),
];

/// A strong validator for `body`.
fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

fn not_modified(req: &Request, tag: &str) -> bool {
    req.header(header::IF_NONE_MATCH)
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// `body` answered with its validator, compressed when the client takes gzip (and `gzip` is
/// given), or 304 when the client holds it already.
fn answer(
    req: &Request,
    content_type: &'static str,
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
    tag: &str,
    cache: &'static str,
) -> Response {
    let builder = Response::builder()
        .header(header::ETAG, tag)
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "Accept-Encoding");
    if not_modified(req, tag) {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    let builder = builder.content_type(content_type);
    match gzip {
        Some(gz) if crate::gzip::accepted(req) => {
            builder.header(header::CONTENT_ENCODING, "gzip").body(gz)
        }
        _ => builder.body(body),
    }
}

/// `/assets/:name`: an embedded bundle; its name carries its version, so it is immutable.
#[handler]
pub fn asset(req: &Request, poem::web::Path(name): poem::web::Path<String>) -> Response {
    static TAGS: LazyLock<Vec<String>> =
        LazyLock::new(|| ASSETS.iter().map(|a| etag(a.body)).collect());
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => {
            let a = &ASSETS[i];
            answer(
                req,
                a.content_type,
                a.body,
                Some(a.gzip),
                &TAGS[i],
                "public, max-age=31536000, immutable",
            )
        }
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}

/// A page: revalidated on every load (it names the bundles, which may change with a release).
fn page(req: &Request, html: &'static str) -> Response {
    let tag = etag(html.as_bytes());
    let mut resp = answer(
        req,
        "text/html; charset=utf-8",
        html.as_bytes(),
        None,
        &tag,
        "no-cache",
    );
    // The pages load only their own scripts and talk only to this server.
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'",
        ),
    );
    resp
}

/// The operations GraphiQL opens with, one tab per domain; each returns data after
/// `testgraph demo`.
const EXAMPLES: &str = r##"[
  {"query": "# pytest-monitor: the latest sessions and their slowest tests\n{\n  monitorSessions(first: 5, orderBy: {field: RUN_DATE, direction: DESC}) {\n    totalCount\n    nodes {\n      h\n      runDate\n      scmRef\n      tags { name value }\n      metrics(first: 3, orderBy: {field: TOTAL_TIME, direction: DESC}) {\n        nodes { item totalTime memUsage }\n      }\n    }\n  }\n}\n"},
  {"query": "# Evergreen: recent versions, their builds and tasks\n{\n  evergreenVersions(first: 3) {\n    nodes {\n      revision\n      status\n      builds(first: 5) {\n        nodes {\n          variant\n          status\n          tasks(first: 5) { nodes { displayName status } }\n        }\n      }\n    }\n  }\n}\n"},
  {"query": "# KernelCI: the newest jobs, their builds and build-log summary\n{\n  kernelciJobs(first: 5, filter: {dateRangeDays: 30}) {\n    totalCount\n    nodes {\n      job\n      kernel\n      status\n      createdOn\n      builds(first: 10) { totalCount nodes { arch defconfig status errors warnings } }\n      logSummary { errors { count line } }\n    }\n  }\n  kernelciJobDistinct(field: JOB)\n}\n", "headers": "{\n  \"Authorization\": \"Bearer <token from: testgraph token create --name me --scope read,write>\"\n}\n"},
  {"query": "# StackTach: the streams the trigger definitions opened, and their events\n{\n  stacktachStreams(first: 5) {\n    totalCount\n    nodes {\n      id\n      name\n      state\n      firstEvent\n      lastEvent\n      distinguishingTraits { name value }\n      events(first: 5) { eventType generated traits { name value } }\n    }\n  }\n  stacktachTriggers { name expiration firePipeline }\n}\n"},
  {"query": "# XPRESSO: the group's latest requests, their items and run results\n# (a token of the group: testgraph token create --name me --scope read)\n{\n  xpressoRequests(first: 5) {\n    totalCount\n    nodes {\n      requestId\n      name\n      state\n      verdict\n      branch\n      submitter\n      consolidatedSummary { totalTasks pass fail successRate }\n      items(first: 5) {\n        nodes {\n          itemId\n          state\n          selectedTestbed { name }\n          run { state summary { pass fail } scripts(first: 5) { nodes { name sections(first: 10) { nodes { sectionName result } } } } }\n        }\n      }\n    }\n  }\n}\n", "headers": "{\n  \"Authorization\": \"Bearer <token from: testgraph token create --name me --scope read>\"\n}\n"}
]"##;

static GRAPHIQL_HTML: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>testgraph GraphiQL</title>
<link rel="stylesheet" href="assets/graphiql-4.1.2.min.css">
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="assets/react-18.3.1.min.js"></script>
<script src="assets/react-dom-18.3.1.min.js"></script>
<script src="assets/graphiql-4.1.2.min.js"></script>
<script>
  // Relative to this page, so that a path prefix added by a proxy is kept.
  var url = new URL("graphql", window.location.href).toString();
  var fetcher = GraphiQL.createFetcher({{ url: url }});
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {{
      fetcher: fetcher,
      defaultTabs: {EXAMPLES},
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    }})
  );
</script>
</body>
</html>
"#
    )
});

/// `/graphiql`: the GraphQL playground, offline.
#[handler]
pub fn graphiql(req: &Request) -> Response {
    page(req, GRAPHIQL_HTML.as_str())
}

const DOCS_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>testgraph: the legacy REST APIs</title>
<style>body { margin: 0; }</style>
</head>
<body>
<div id="redoc">Loading the REST reference…</div>
<script src="assets/redoc-2.5.0.standalone.js"></script>
<script>
  Redoc.init(new URL("openapi.json", window.location.href).toString(),
             { hideDownloadButton: false, expandResponses: "200,201" },
             document.getElementById("redoc"));
</script>
</body>
</html>
"#;

/// `/docs`: the legacy REST APIs' reference, rendered from `openapi.json`, offline.
#[handler]
pub fn docs(req: &Request) -> Response {
    page(req, DOCS_HTML)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_are_json_with_one_tab_per_domain() {
        let tabs: serde_json::Value = serde_json::from_str(EXAMPLES).expect("JSON");
        let queries: Vec<&str> = tabs
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["query"].as_str().unwrap())
            .collect();
        assert!(queries[0].contains("monitorSessions"));
        assert!(queries[1].contains("evergreenVersions"));
        assert!(queries[2].contains("kernelciJobs"));
        assert!(queries[3].contains("stacktachStreams"));
        assert!(queries[4].contains("xpressoRequests"));
    }

    #[test]
    fn every_asset_is_embedded_with_its_gzip_copy() {
        for a in &ASSETS {
            assert!(a.body.len() > 1000, "{}", a.name);
            assert!(
                !a.gzip.is_empty() && a.gzip.len() < a.body.len(),
                "{}",
                a.name
            );
        }
    }
}
