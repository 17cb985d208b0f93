//! The `testgraph` binary: parse the command line, set up logging, hand over to the library.

use anyhow::Context as _;
use clap::Parser;
use testgraph::cli::{Cli, Command, LogFormat, MigrateAction, TokenAction};
use testgraph::service::tokens::{self, Scope};
use tracing_subscriber::EnvFilter;

/// jemalloc rather than glibc's malloc: glibc locks an arena whenever a thread's small cache
/// misses, and rows decoded on one worker are often freed on the other; malloc, free and that
/// lock were a fifth of a REST list's server profile. Lists and lookups got 5-25 % faster; idle memory grew
/// by about 1.5 MB and the nested tree's peak by about 10 MB, inside their targets (mimalloc,
/// tried before, had doubled the peak).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn init_tracing(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("TESTGRAPH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    match format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match cli.command {
        Command::Serve(args) => {
            let config = args
                .into_config(cli.database_url)
                .map_err(anyhow::Error::msg)
                .context("invalid configuration")?;
            let bind = config.bind;
            let state = testgraph::app::prepare(config).await?;
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            testgraph::app::serve(state, listener, shutdown_signal()).await?;
        }
        Command::Migrate { action } => {
            let db = testgraph::db::connect(&cli.database_url, 1)
                .await
                .context("cannot open the database")?;
            match action {
                MigrateAction::Up => {
                    testgraph::db::migrate_up(&db).await?;
                    println!("migrations applied");
                }
                MigrateAction::Down { steps } => {
                    testgraph::db::migrate_down(&db, steps).await?;
                    println!("rolled back {steps} migration(s)");
                }
                MigrateAction::Status => {
                    for (name, applied) in testgraph::db::migration_status(&db).await? {
                        println!("{} {name}", if applied { "applied" } else { "pending" });
                    }
                }
            }
        }
        Command::ExportSchema { output } => {
            let sdl = testgraph::graphql::sdl();
            if output.as_os_str() == "-" {
                print!("{sdl}");
            } else {
                std::fs::write(&output, sdl)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                println!("wrote {}", output.display());
            }
        }
        Command::Demo { force } => {
            let db = testgraph::db::connect(&cli.database_url, 1)
                .await
                .context("cannot open the database")?;
            testgraph::db::migrate_up(&db).await?;
            // A line that redraws itself on a terminal; nothing until the summary otherwise.
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let mut progress = |domain: &str, done: u64, steps: u64| {
                if terminal {
                    print!("\r{domain}: {done}/{steps} ");
                    let _ = std::io::Write::flush(&mut std::io::stdout());
                    if done == steps {
                        println!();
                    }
                }
            };
            let written = testgraph::demo::run(&db, force, &mut progress)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            for w in written {
                if w.rows.is_empty() {
                    println!("{}: the demo data is already there", w.domain);
                } else {
                    let rows: Vec<String> = w
                        .rows
                        .iter()
                        .map(|(kind, n)| format!("{kind} {n}"))
                        .collect();
                    println!("{}: {}", w.domain, rows.join(", "));
                }
            }
        }
        Command::Token { action } => {
            let db = testgraph::db::connect(&cli.database_url, 1)
                .await
                .context("cannot open the database")?;
            testgraph::db::migrate_up(&db).await?;
            match action {
                TokenAction::Create {
                    name,
                    scopes,
                    group,
                    user,
                } => {
                    let scopes = scopes
                        .iter()
                        .map(|s| {
                            Scope::parse(s).ok_or_else(|| {
                                anyhow::anyhow!(
                                    "unknown scope '{s}': use read, write, delete, run_request, stop_request or admin"
                                )
                            })
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    let (token, secret) = tokens::create_for(&db, &name, &scopes, &group, &user)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!(
                        "token {} created (id {}); keep this secret, it is not shown again:",
                        token.name, token.id
                    );
                    println!("{secret}");
                }
                TokenAction::List => {
                    for t in tokens::list(&db)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                    {
                        let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}\t{}\t{}\tgroup={}\tuser={}\t{}",
                            t.id,
                            t.name,
                            scopes.join(","),
                            t.group,
                            t.user,
                            state
                        );
                    }
                }
                TokenAction::Revoke { id } => {
                    tokens::revoke(&db, id)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("token {id} revoked");
                }
            }
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
