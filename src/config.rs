//! The server's configuration: a plain value built once from flags and environment (see `cli`),
//! checked there, and passed down. Nothing reads the environment after start.

use std::net::SocketAddr;
use std::time::Duration;

use crate::cors::CorsOrigins;

/// The default database: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://testgraph.db?mode=rwc";

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    /// Apply pending migrations on start; when false, refuse to start if any are pending.
    pub migrate_on_start: bool,
    pub limits: Limits,
    pub auth: AuthPolicy,
    /// pytest-monitor's page size (`MONITOR_SERVER_PAGINATION_COUNT` in the original server).
    pub monitor_page_size: u64,
    /// How long a pytest-monitor list total (`total_page`) may be reused; zero counts every page.
    pub monitor_count_cache: Duration,
    /// Browser origins allowed to read answers across origins (none by default).
    pub cors_origins: CorsOrigins,
    pub stacktach: StacktachConfig,
    /// XPRESSO's public URLs.
    pub xpresso: XpressoConfig,
    /// What GraphQL tells callers about its schema.
    pub exposure: Exposure,
    /// Requests per minute per token and per client address (off by default).
    pub rate_limits: RateLimits,
}

/// Who may introspect the GraphQL schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Introspection {
    /// Everyone (the playground needs it).
    #[default]
    On,
    /// Callers with a live token only.
    Authenticated,
    /// No one.
    Off,
}

/// What GraphQL tells callers about its schema: introspection, and the "did you mean" field
/// suggestions of validation errors (which reveal field names even without introspection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exposure {
    pub introspection: Introspection,
    /// Suggestions for callers without a token; a caller with a live token always gets them.
    pub suggestions: bool,
}

impl Default for Exposure {
    fn default() -> Self {
        Exposure {
            introspection: Introspection::On,
            suggestions: true,
        }
    }
}

/// Requests a minute a token, or a client address, may send before it is answered 429 with
/// `Retry-After`; zero turns that limit off (the default for both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub per_token: u32,
    pub per_address: u32,
}

/// Where XPRESSO's answers say the server is.
#[derive(Clone, Debug, Default)]
pub struct XpressoConfig {
    /// The public base URL the request and service URLs are built from (`instance_url`), with a
    /// trailing slash; `None`: `http://<bind address>/`.
    pub public_url: Option<String>,
}

impl Config {
    /// XPRESSO's `instance_url`: the configured public URL, else this server's bind address.
    pub fn xpresso_base_url(&self) -> String {
        match &self.xpresso.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}/", self.bind),
        }
    }
}

/// Checks and normalises a public base URL: http or https, a host, no query or fragment; a
/// trailing slash is added.
pub fn public_base_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("public URL '{url}' must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || url.contains(['?', '#'])
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "public URL '{url}' needs a host and no query, fragment or spaces"
        ));
    }
    Ok(if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    })
}

/// StackTach's trigger definitions and pipeline worker.
#[derive(Clone, Debug)]
pub struct StacktachConfig {
    /// winchester's trigger definitions (YAML); without it events are stored and no stream opens.
    pub triggers_file: Option<std::path::PathBuf>,
    /// winchester's pipeline configuration (YAML); without it a trigger's named pipeline is
    /// unknown, and its streams end in `error`.
    pub pipelines_file: Option<std::path::PathBuf>,
    /// Run the pipeline worker in this process (several processes may share the work).
    pub worker: bool,
    /// How often the worker looks for streams to fire or expire.
    pub worker_interval: Duration,
    /// Most streams one pass claims at a time.
    pub worker_batch: u64,
    /// How long a claimed stream may stay `firing`/`expiring` before it counts as abandoned by
    /// a worker that stopped, and is handed back.
    pub claim_lease: Duration,
}

impl Default for StacktachConfig {
    fn default() -> Self {
        StacktachConfig {
            triggers_file: None,
            pipelines_file: None,
            worker: true,
            worker_interval: Duration::from_secs(1),
            worker_batch: 1_000,
            claim_lease: Duration::from_secs(600),
        }
    }
}

/// Every bound the server enforces. Each has a default, a flag and an environment variable.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body accepted, chunked bodies included.
    pub max_body_bytes: usize,
    pub graphql_max_depth: usize,
    pub graphql_max_complexity: usize,
    pub graphql_max_aliases: usize,
    /// Most operations in one batched GraphQL request.
    pub graphql_max_batch: usize,
    /// Most fields at the root of one operation.
    pub graphql_max_root_fields: usize,
    /// Most directives on one field, fragment spread or inline fragment.
    pub graphql_max_directives: usize,
    /// Most lexical tokens in one GraphQL document (checked before it is parsed).
    pub graphql_max_tokens: usize,
    /// Page size of a GraphQL connection when `first` is not given.
    pub page_default: u64,
    /// Largest `first` a GraphQL connection accepts.
    pub page_max: u64,
    /// Whole-request time limit.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's line and headers.
    pub header_timeout: Duration,
    /// Longest a single database statement may run (PostgreSQL's `statement_timeout`).
    pub statement_timeout: Duration,
    /// How long shutdown waits for in-flight requests to finish.
    pub shutdown_grace: Duration,
    /// How long `/readyz` waits for the database.
    pub ready_timeout: Duration,
    /// Extra time a GraphQL dataloader waits for more keys once a level has asked for its own
    /// (zero: each level is one statement anyway, see `graphql::endpoint`).
    pub dataloader_delay: Duration,
}

/// Page size of a GraphQL connection without `first` in the default configuration.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            graphql_max_depth: 16,
            graphql_max_complexity: 50_000,
            graphql_max_aliases: 30,
            graphql_max_batch: 10,
            graphql_max_root_fields: 20,
            graphql_max_directives: 8,
            graphql_max_tokens: 10_000,
            page_default: DEFAULT_PAGE_SIZE,
            page_max: 100,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            ready_timeout: Duration::from_secs(2),
            dataloader_delay: Duration::ZERO,
        }
    }
}

/// The API surfaces a token requirement can be set on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Surface {
    Graphql,
    Monitor,
    /// Evergreen REST v1 (`/rest/v1`).
    Evergreen,
    /// KernelCI's job resource (`/job`, `/jobs`): a token on every request, as the backend had.
    Kernelci,
    /// StackTach.v3's REST API (`/v1`): open, as quincy had no authentication.
    Stacktach,
    /// XPRESSO's requests API (`/api/v1/requests`): a token on every request, whose group
    /// scopes what it sees.
    Xpresso,
}

/// Who may do what without a token. Each legacy surface defaults to what its real server did.
#[derive(Clone, Debug, Default)]
pub struct AuthPolicy {
    /// Let GraphQL mutations run without a write token (off by default).
    pub open_mutations: bool,
    /// Surfaces on which every request, reads included, needs a token.
    pub require_token: Vec<Surface>,
}

impl AuthPolicy {
    pub fn requires_token(&self, surface: Surface) -> bool {
        matches!(surface, Surface::Kernelci | Surface::Xpresso)
            || self.require_token.contains(&surface)
    }
}

/// Largest pytest-monitor page size accepted from configuration.
pub const MONITOR_PAGE_SIZE_CAP: u64 = 10_000;

/// The pool size when none is configured. SQLite has one writer at a time, and each pooled
/// connection is a thread whose allocator arena keeps what it allocated (about 13 MB each under
/// the nested-tree benchmark) for no gain in throughput past a few connections.
pub fn default_pool_size(database_url: &str) -> u32 {
    if database_url.starts_with("sqlite:") {
        4
    } else {
        10
    }
}

impl Config {
    /// A configuration with every default, for the given database. Tests and embedders start here.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db_max_connections: default_pool_size(&database_url),
            database_url,
            migrate_on_start: true,
            limits: Limits::default(),
            auth: AuthPolicy::default(),
            monitor_page_size: 500,
            monitor_count_cache: Duration::from_secs(1),
            cors_origins: CorsOrigins::default(),
            stacktach: StacktachConfig::default(),
            xpresso: XpressoConfig::default(),
            exposure: Exposure::default(),
            rate_limits: RateLimits::default(),
        }
    }

    /// Checks the values flags cannot check on their own.
    pub fn validate(&self) -> Result<(), String> {
        if self.monitor_page_size == 0 || self.monitor_page_size > MONITOR_PAGE_SIZE_CAP {
            return Err(format!(
                "monitor page size must be between 1 and {MONITOR_PAGE_SIZE_CAP}"
            ));
        }
        let l = &self.limits;
        if l.page_default == 0 || l.page_default > l.page_max {
            return Err("page default must be between 1 and the page maximum".into());
        }
        if l.page_max > 10_000 {
            return Err("page maximum must be at most 10000".into());
        }
        if l.max_body_bytes < 1024 {
            return Err("max body bytes must be at least 1024".into());
        }
        if l.graphql_max_batch == 0 {
            return Err("GraphQL batch limit must be at least 1".into());
        }
        if l.graphql_max_root_fields == 0 || l.graphql_max_tokens == 0 {
            return Err("GraphQL root field and token limits must be at least 1".into());
        }
        if l.header_timeout.is_zero() || l.statement_timeout.is_zero() {
            return Err("header and statement timeouts must be above zero".into());
        }
        if self.stacktach.worker_batch == 0 || self.stacktach.worker_interval.is_zero() {
            return Err("the StackTach worker needs a batch and an interval above zero".into());
        }
        if self.db_max_connections == 0 {
            return Err("database max connections must be at least 1".into());
        }
        Ok(())
    }
}
