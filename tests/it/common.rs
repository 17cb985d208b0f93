//! Test harness: a fresh migrated database per test (SQLite file, or a new PostgreSQL database
//! under `TEST_DATABASE_URL`, dropped afterwards), the application on poem's in-process client,
//! and a counter of the SQL statements the application runs.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use poem::endpoint::BoxEndpoint;
use poem::test::TestClient;
use poem::{EndpointExt, Response};
use sea_orm::{ConnectionTrait, Database};
use testgraph::config::Config;
use testgraph::state::AppState;

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn unique_suffix() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("tg_test_{}", unique_suffix());
                let conn = Database::connect(admin.as_str())
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .unwrap_or(admin.clone());
                TestDb {
                    url: format!("{base}/{name}"),
                    pg: Some((admin, name)),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDb {
                    url,
                    pg: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime; drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(conn) = Database::connect(admin.as_str()).await {
                    let _ = conn
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// The application on a fresh database, reachable in process.
pub struct TestApp {
    pub state: AppState,
    pub client: TestClient<BoxEndpoint<'static, Response>>,
    statements: Arc<AtomicUsize>,
    log: Arc<std::sync::Mutex<Vec<String>>>,
    pub db: TestDb,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// An application whose configuration `adjust` may change first.
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new().await;
        let mut config = Config::with_database(db.url.clone());
        config.db_max_connections = 4;
        adjust(&mut config);
        let state = testgraph::app::prepare(config)
            .await
            .expect("prepare application");
        let statements = Arc::new(AtomicUsize::new(0));
        let mut conn = state.db.clone();
        let counter = statements.clone();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut l) = sink.lock() {
                l.push(info.statement.sql.clone());
            }
        });
        let state = AppState {
            db: conn,
            config: state.config,
            counts: state.counts,
            one_pass_answers: state.one_pass_answers,
            triggers: state.triggers,
            pipelines: state.pipelines,
        };
        let client = TestClient::new(testgraph::app::build(state.clone()).boxed());
        TestApp {
            state,
            client,
            statements,
            log,
            db,
        }
    }

    /// Statements run since the last reset.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }

    pub fn reset_statements(&self) {
        self.statements.store(0, Ordering::SeqCst);
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    /// The SQL of the statements run since the last reset, for assertion messages.
    pub fn statement_log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// POSTs a GraphQL query and returns the whole JSON response.
    pub async fn graphql(&self, query: &str, variables: serde_json::Value) -> serde_json::Value {
        self.graphql_as(query, variables, None).await
    }

    /// Runs `query` and checks that `one_pass` of its lists were written in one pass
    /// (`graphql::onepass`); then runs it again through the resolvers (the first `{ __typename`
    /// given twice: a repeated response key, which the one-pass planner leaves to them) and checks
    /// that both answers are equal as JSON. Returns the first answer.
    pub async fn one_pass_matches_resolvers(
        &self,
        query: &str,
        variables: serde_json::Value,
        one_pass: u64,
    ) -> serde_json::Value {
        let answers = || self.state.one_pass_answers.load(Ordering::SeqCst);
        let before = answers();
        let fast = self.graphql(query, variables.clone()).await;
        assert_eq!(answers() - before, one_pass, "one-pass answers for {query}");
        let reference_q = query.replacen("{ __typename", "{ __typename __typename", 1);
        assert_ne!(reference_q, query, "the reference must use the resolvers");
        let reference = self.graphql(&reference_q, variables).await;
        assert_eq!(
            answers() - before,
            one_pass,
            "the reference took the resolvers"
        );
        assert!(reference.get("errors").is_none(), "{reference}");
        // Equal as JSON values. The order of keys may differ: async-graphql's resolvers emit the
        // fields of an object as they complete, the one-pass writer as asked.
        assert_eq!(fast, reference, "{query}");
        fast
    }

    /// The scalar fields without arguments that the schema gives the object type `ty`, in
    /// schema order, checked to be exactly those the one-pass writer covers for it
    /// (`graphql::one_pass_scalar_fields`): a field added to an object must be added to the writer.
    pub async fn one_pass_scalar_fields(&self, ty: &str) -> Vec<String> {
        let d = self
            .graphql(
                "query($t: String!) { __type(name: $t) { fields { name args { name }
                   type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
                serde_json::json!({ "t": ty }),
            )
            .await;
        let scalar = |t: &serde_json::Value| -> bool {
            let mut t = t;
            while t["kind"] == "NON_NULL" || t["kind"] == "LIST" {
                t = &t["ofType"];
            }
            t["kind"] == "SCALAR"
        };
        let names: Vec<String> = d["data"]["__type"]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("no fields for {ty}: {d}"))
            .iter()
            .filter(|f| scalar(&f["type"]) && f["args"].as_array().is_some_and(|a| a.is_empty()))
            .map(|f| f["name"].as_str().unwrap_or("").to_owned())
            .collect();
        assert!(!names.is_empty(), "{ty} has scalar fields");
        let covered: Vec<String> = testgraph::graphql::one_pass_scalar_fields(ty)
            .unwrap_or_else(|| panic!("{ty} is not written in one pass"))
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(covered, names, "scalar fields of {ty}");
        names
    }

    pub async fn graphql_as(
        &self,
        query: &str,
        variables: serde_json::Value,
        token: Option<&str>,
    ) -> serde_json::Value {
        let mut req = self
            .client
            .post("/graphql")
            .body_json(&serde_json::json!({"query": query, "variables": variables}));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await;
        resp.0
            .into_body()
            .into_json()
            .await
            .expect("GraphQL answers JSON")
    }

    /// A token with the given scopes, created through the service.
    pub async fn token(&self, scopes: &[testgraph::service::tokens::Scope]) -> String {
        testgraph::service::tokens::create(&self.state.db, "test", scopes, "default")
            .await
            .expect("token")
            .1
    }

    /// A token of `user` in `group` with the given scopes (XPRESSO's group-scoped callers).
    pub async fn member_token(
        &self,
        group: &str,
        user: &str,
        scopes: &[testgraph::service::tokens::Scope],
    ) -> String {
        testgraph::service::tokens::create_for(&self.state.db, user, scopes, group, user)
            .await
            .expect("token")
            .1
    }
}

/// A real server on 127.0.0.1:0, for black-box clients. Dropping the handle stops it.
pub struct LiveServer {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LiveServer {
    pub async fn start(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = testgraph::app::serve(state, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        LiveServer {
            addr,
            stop: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The example StackTach trigger definitions and pipelines (`examples/stacktach/`), as
/// `serve --stacktach-triggers ... --stacktach-pipelines ...` reads them.
pub fn stacktach_examples(c: &mut Config) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacktach");
    c.stacktach.triggers_file = Some(dir.join("triggers.yaml"));
    c.stacktach.pipelines_file = Some(dir.join("pipelines.yaml"));
}
