//! The command line: `serve`, `migrate`, `export-schema`, `demo` and `token`. Every flag of `serve` is also
//! an environment variable `TESTGRAPH_...`; the parsed flags become a `Config` value.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{AuthPolicy, Config, DEFAULT_DATABASE_URL, Introspection, Limits, Surface};

#[derive(Debug, Parser)]
#[command(
    name = "testgraph",
    version,
    about = "Test and CI results over GraphQL and the legacy REST APIs"
)]
pub struct Cli {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true, env = "TESTGRAPH_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Log format.
    #[arg(long, global = true, env = "TESTGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (applies pending migrations first unless --no-migrate).
    Serve(Box<ServeArgs>),
    /// Apply, roll back or list migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Write the GraphQL schema (SDL) to a file, or to stdout with "-".
    ExportSchema {
        #[arg(long, short, default_value = "schema.graphql")]
        output: PathBuf,
    },
    /// Fill the store with a small demo dataset for every domain (refused on a store that holds
    /// data, unless --force).
    Demo {
        /// Add the demo data beside data already there (a domain whose demo data is present is
        /// left alone).
        #[arg(long)]
        force: bool,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the most recent migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; its secret is printed once and only a hash is kept.
    Create {
        #[arg(long)]
        name: String,
        /// Scopes: read, write, delete, run_request, stop_request, admin (repeat the flag or
        /// separate with commas); KernelCI's get and post are read and write; XPRESSO's
        /// permissions are run_request and stop_request.
        #[arg(long = "scope", value_delimiter = ',', default_value = "read")]
        scopes: Vec<String>,
        /// Group the token acts for (used by the group-aware legacy APIs).
        #[arg(long, default_value = "default")]
        group: String,
        /// User the token acts for (XPRESSO's submitter); the token's name when not given.
        #[arg(long, default_value = "")]
        user: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TESTGRAPH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Refuse to start when migrations are pending instead of applying them.
    #[arg(long, env = "TESTGRAPH_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Database connection pool size [default: 10 for PostgreSQL, 4 for SQLite].
    #[arg(long, env = "TESTGRAPH_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
    /// Largest request body in bytes (chunked bodies included).
    #[arg(long, env = "TESTGRAPH_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Deepest GraphQL selection accepted.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_DEPTH", default_value_t = Limits::default().graphql_max_depth)]
    pub graphql_max_depth: usize,
    /// Highest GraphQL query complexity accepted (lists count `first` times their children).
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_COMPLEXITY", default_value_t = Limits::default().graphql_max_complexity)]
    pub graphql_max_complexity: usize,
    /// Most aliases in one GraphQL document.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_ALIASES", default_value_t = Limits::default().graphql_max_aliases)]
    pub graphql_max_aliases: usize,
    /// Most operations in one batched GraphQL request.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_BATCH", default_value_t = Limits::default().graphql_max_batch)]
    pub graphql_max_batch: usize,
    /// Most fields at the root of one GraphQL operation.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_ROOT_FIELDS", default_value_t = Limits::default().graphql_max_root_fields)]
    pub graphql_max_root_fields: usize,
    /// Most directives on one GraphQL field or fragment.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_DIRECTIVES", default_value_t = Limits::default().graphql_max_directives)]
    pub graphql_max_directives: usize,
    /// Most lexical tokens in one GraphQL document.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_MAX_TOKENS", default_value_t = Limits::default().graphql_max_tokens)]
    pub graphql_max_tokens: usize,
    /// Who may introspect the GraphQL schema: on (everyone), authenticated (live tokens), off.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_INTROSPECTION", value_enum, default_value_t = Introspection::On)]
    pub graphql_introspection: Introspection,
    /// Leave "did you mean" field suggestions out of GraphQL errors for callers without a token.
    #[arg(long, env = "TESTGRAPH_GRAPHQL_NO_SUGGESTIONS")]
    pub graphql_no_suggestions: bool,
    /// GraphQL connection page size when `first` is omitted.
    #[arg(long, env = "TESTGRAPH_PAGE_DEFAULT", default_value_t = Limits::default().page_default)]
    pub page_default: u64,
    /// Largest `first` a GraphQL connection accepts.
    #[arg(long, env = "TESTGRAPH_PAGE_MAX", default_value_t = Limits::default().page_max)]
    pub page_max: u64,
    /// Whole-request time limit in seconds.
    #[arg(long, env = "TESTGRAPH_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Seconds a client may take to send a request's line and headers.
    #[arg(long, env = "TESTGRAPH_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Longest a single database statement may run, in seconds (PostgreSQL).
    #[arg(long, env = "TESTGRAPH_STATEMENT_TIMEOUT_SECS", default_value_t = 30)]
    pub statement_timeout_secs: u64,
    /// Seconds shutdown waits for in-flight requests to finish.
    #[arg(long, env = "TESTGRAPH_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Requests a minute one token may send (0: no limit).
    #[arg(long, env = "TESTGRAPH_RATE_LIMIT_PER_TOKEN", default_value_t = 0)]
    pub rate_limit_per_token: u32,
    /// Requests a minute one client address may send (0: no limit).
    #[arg(long, env = "TESTGRAPH_RATE_LIMIT_PER_ADDRESS", default_value_t = 0)]
    pub rate_limit_per_address: u32,
    /// Extra time (ms) a GraphQL dataloader waits for more keys after a level has asked for its
    /// own (each level is one statement without it).
    #[arg(long, env = "TESTGRAPH_DATALOADER_DELAY_MS", default_value_t = 0)]
    pub dataloader_delay_ms: u64,
    /// pytest-monitor REST page size (the original's MONITOR_SERVER_PAGINATION_COUNT).
    #[arg(long, env = "TESTGRAPH_MONITOR_PAGE_SIZE", default_value_t = 500)]
    pub monitor_page_size: u64,
    /// How long (ms) a pytest-monitor list total (`total_page`) may be reused before it is
    /// counted again; a write through this server always drops it. 0 counts every page.
    #[arg(long, env = "TESTGRAPH_COUNT_CACHE_MS", default_value_t = 1000)]
    pub count_cache_ms: u64,
    /// Let GraphQL mutations run without a write token.
    #[arg(long, env = "TESTGRAPH_OPEN_MUTATIONS")]
    pub open_mutations: bool,
    /// Surfaces on which every request needs a token (comma-separated: graphql, monitor, evergreen,
    /// stacktach; KernelCI and XPRESSO always need one).
    #[arg(
        long,
        env = "TESTGRAPH_REQUIRE_TOKEN",
        value_enum,
        value_delimiter = ','
    )]
    pub require_token: Vec<Surface>,
    /// Browser origins (such as https://dash.example.com) allowed to call testgraph across
    /// origins, comma-separated, or * for any; none by default.
    #[arg(
        long = "cors-origin",
        env = "TESTGRAPH_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// StackTach trigger definitions, winchester's YAML format (see examples/stacktach/).
    #[arg(long, env = "TESTGRAPH_STACKTACH_TRIGGERS")]
    pub stacktach_triggers: Option<PathBuf>,
    /// StackTach pipelines, winchester's pipelines.yaml format (see examples/stacktach/).
    #[arg(long, env = "TESTGRAPH_STACKTACH_PIPELINES")]
    pub stacktach_pipelines: Option<PathBuf>,
    /// Do not run the StackTach pipeline worker in this process.
    #[arg(long, env = "TESTGRAPH_NO_STACKTACH_WORKER")]
    pub no_stacktach_worker: bool,
    /// How often (ms) the StackTach worker looks for streams to fire or expire.
    #[arg(
        long,
        env = "TESTGRAPH_STACKTACH_WORKER_INTERVAL_MS",
        default_value_t = 1000
    )]
    pub stacktach_worker_interval_ms: u64,
    /// Seconds a stream may stay claimed (`firing`/`expiring`) before it counts as abandoned by a
    /// worker that stopped, and is handed back to be fired or expired again.
    #[arg(
        long,
        env = "TESTGRAPH_STACKTACH_CLAIM_LEASE_SECS",
        default_value_t = 600
    )]
    pub stacktach_claim_lease_secs: u64,
    /// XPRESSO's public base URL, from which its request and service URLs are built (such as
    /// https://testgraph.example.com/); http://<bind address>/ when not given.
    #[arg(long, env = "TESTGRAPH_XPRESSO_PUBLIC_URL")]
    pub xpresso_public_url: Option<String>,
}

impl ServeArgs {
    pub fn into_config(self, database_url: String) -> Result<Config, String> {
        let db_max_connections = self
            .db_max_connections
            .unwrap_or_else(|| crate::config::default_pool_size(&database_url));
        let config = Config {
            bind: self.bind,
            database_url,
            db_max_connections,
            migrate_on_start: !self.no_migrate,
            limits: Limits {
                max_body_bytes: self.max_body_bytes,
                graphql_max_depth: self.graphql_max_depth,
                graphql_max_complexity: self.graphql_max_complexity,
                graphql_max_aliases: self.graphql_max_aliases,
                graphql_max_batch: self.graphql_max_batch,
                graphql_max_root_fields: self.graphql_max_root_fields,
                graphql_max_directives: self.graphql_max_directives,
                graphql_max_tokens: self.graphql_max_tokens,
                page_default: self.page_default,
                page_max: self.page_max,
                request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
                header_timeout: std::time::Duration::from_secs(self.header_timeout_secs),
                statement_timeout: std::time::Duration::from_secs(self.statement_timeout_secs),
                shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace_secs),
                dataloader_delay: std::time::Duration::from_millis(self.dataloader_delay_ms),
                ..Limits::default()
            },
            auth: AuthPolicy {
                open_mutations: self.open_mutations,
                require_token: self.require_token,
            },
            monitor_page_size: self.monitor_page_size,
            monitor_count_cache: std::time::Duration::from_millis(self.count_cache_ms),
            cors_origins: crate::cors::CorsOrigins::parse(&self.cors_origins)?,
            stacktach: crate::config::StacktachConfig {
                triggers_file: self.stacktach_triggers,
                pipelines_file: self.stacktach_pipelines,
                worker: !self.no_stacktach_worker,
                worker_interval: std::time::Duration::from_millis(
                    self.stacktach_worker_interval_ms,
                ),
                claim_lease: std::time::Duration::from_secs(self.stacktach_claim_lease_secs.max(1)),
                ..crate::config::StacktachConfig::default()
            },
            xpresso: crate::config::XpressoConfig {
                public_url: self
                    .xpresso_public_url
                    .as_deref()
                    .map(crate::config::public_base_url)
                    .transpose()?,
            },
            exposure: crate::config::Exposure {
                introspection: self.graphql_introspection,
                suggestions: !self.graphql_no_suggestions,
            },
            rate_limits: crate::config::RateLimits {
                per_token: self.rate_limit_per_token,
                per_address: self.rate_limit_per_address,
            },
        };
        config.validate()?;
        Ok(config)
    }
}
