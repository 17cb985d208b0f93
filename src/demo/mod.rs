//! `testgraph demo`: a small, realistic and deterministic dataset for every domain, so that a
//! newcomer's first query returns something. Each domain's part is written through the same
//! service functions its ingestion uses (`demo/<domain>.rs`); `run` lists the parts.
//!
//! A store that already holds data is refused unless the caller forces it; forced, a domain
//! whose demo records are already there is left alone, so running it twice adds nothing.

mod evergreen;
mod kernelci;
mod monitor;
mod report;
mod stacktach;
mod xpresso;

pub use report::{Progress, Written};

use sea_orm::DatabaseConnection;

use crate::error::{AppError, AppResult};

/// Fills the store with every domain's demo data. Refuses a store holding any data unless
/// `force`; forced, skips the domains whose demo data is already present.
pub async fn run(
    db: &DatabaseConnection,
    force: bool,
    progress: Progress<'_>,
) -> AppResult<Vec<Written>> {
    if !force {
        let mut held = Vec::new();
        if monitor::holds_data(db).await? {
            held.push(monitor::DOMAIN);
        }
        if evergreen::holds_data(db).await? {
            held.push(evergreen::DOMAIN);
        }
        if kernelci::holds_data(db).await? {
            held.push(kernelci::DOMAIN);
        }
        if stacktach::holds_data(db).await? {
            held.push(stacktach::DOMAIN);
        }
        if xpresso::holds_data(db).await? {
            held.push(xpresso::DOMAIN);
        }
        if let Some((last, rest)) = held.split_last() {
            let domains = if rest.is_empty() {
                (*last).to_owned()
            } else {
                format!("{} and {last}", rest.join(", "))
            };
            return Err(AppError::Conflict(format!(
                "the store already holds {domains} data; `testgraph demo --force` adds the demo data beside it"
            )));
        }
    }
    Ok(vec![
        monitor::fill(db, progress).await?,
        evergreen::fill(db, progress).await?,
        kernelci::fill(db, progress).await?,
        stacktach::fill(db, progress).await?,
        xpresso::fill(db, progress).await?,
    ])
}
