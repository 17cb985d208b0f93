//! Managing the catalog: creating, replacing and deleting testbeds, topologies, profiles and
//! bundles, and listing them, each within its group (the admin's). Another group's entry is as
//! absent as one that does not exist: NOT_FOUND to update or delete, missing from lists.
//!
//! Deleting is allowed while requests or bundles name the entry: a request keeps its own copy of
//! what it ran, and a profile or bundle that names a deleted entry fails when it is submitted.
//! Names are unique within a group (a pre-check for the clear message; the unique index
//! `(group_name, name)` settles races).
//!
//! This file is the table of contents: what the kinds share (bounds, table operations, field
//! checks) is in `shared`, each kind is a module of its own, and everything public is
//! re-exported here.

mod bundles;
mod profiles;
mod shared;
mod testbeds;
mod topologies;

pub use bundles::{
    NewBundle, bundle_entries_of, count_bundles, create_bundle, delete_bundle, list_bundles,
    update_bundle,
};
pub use profiles::{
    DEFAULT_CLEAN_RUNTIME_SECONDS, DEFAULT_PRIORITY, DEFAULT_RUNTIME_SECONDS, MAX_INTEREST_LIST,
    MAX_PRIORITY, MIN_PRIORITY, NewJob, NewProfile, count_profiles, create_profile, delete_profile,
    list_profiles, profile_testbeds_of, update_profile,
};
pub use shared::{MAX_DEFINITION_BYTES, MAX_JSON_BYTES, MAX_LIST_ROWS};
pub use testbeds::{
    NewTestbed, count_testbeds, create_testbed, delete_testbed, list_testbeds, update_testbed,
};
pub use topologies::{
    NewTopology, count_topologies, create_topology, delete_topology, list_topologies,
    update_topology,
};
