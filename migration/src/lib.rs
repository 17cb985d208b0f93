//! testgraph's schema migrations. Append-only: a released migration is never edited; a change to the
//! schema is a new file. Each migration owns its own `Iden` enums so that later entity changes cannot
//! silently rewrite history.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20261124_000001_monitor;
mod m20261124_000002_api_tokens;
mod m20261124_000003_evergreen;
mod m20261124_000004_metric_hashes;
mod m20261206_000005_kernelci;
mod m20261206_000006_stacktach;
mod m20261206_000007_xpresso;
mod m20261206_000008_stacktach_trait_index;
mod m20261206_000009_stacktach_stream_name_index;
mod m20261206_000010_stacktach_sqlite_trait_strings;
mod m20261206_000011_stacktach_claimed_at;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_monitor::Migration),
            Box::new(m20261124_000002_api_tokens::Migration),
            Box::new(m20261124_000003_evergreen::Migration),
            Box::new(m20261124_000004_metric_hashes::Migration),
            Box::new(m20261206_000005_kernelci::Migration),
            Box::new(m20261206_000006_stacktach::Migration),
            Box::new(m20261206_000007_xpresso::Migration),
            Box::new(m20261206_000008_stacktach_trait_index::Migration),
            Box::new(m20261206_000009_stacktach_stream_name_index::Migration),
            Box::new(m20261206_000010_stacktach_sqlite_trait_strings::Migration),
            Box::new(m20261206_000011_stacktach_claimed_at::Migration),
        ]
    }
}
