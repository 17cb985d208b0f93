//! XPRESSO's domain: the catalog (testbeds, topologies, profiles, bundles), requests submitted
//! from it with their items, the items' lifecycle as runners drive it, and their results.
//!
//! This file is the table of contents: each concern is a module of its own, and everything public
//! is re-exported here.

mod catalog;
mod catalog_edit;
mod lifecycle;
mod model;
mod requests;
mod results;

pub use catalog::{
    bundle, profile, profiles_by_uuids, testbed, testbeds_by_uuids, topologies_by_uuids, topology,
};
pub use catalog_edit::{
    DEFAULT_CLEAN_RUNTIME_SECONDS, DEFAULT_PRIORITY, DEFAULT_RUNTIME_SECONDS, MAX_DEFINITION_BYTES,
    MAX_INTEREST_LIST, MAX_JSON_BYTES, MAX_LIST_ROWS, MAX_PRIORITY, MIN_PRIORITY, NewBundle,
    NewJob, NewProfile, NewTestbed, NewTopology, bundle_entries_of, count_bundles, count_profiles,
    count_testbeds, count_topologies, create_bundle, create_profile, create_testbed,
    create_topology, delete_bundle, delete_profile, delete_testbed, delete_topology, list_bundles,
    list_profiles, list_testbeds, list_topologies, profile_testbeds_of, update_bundle,
    update_profile, update_testbed, update_topology,
};
pub use lifecycle::{ItemMove, attach_results, move_item, request_by_postback};
pub use model::*;
pub use requests::{
    count_requests, items_of_requests, list_requests, request, requests_by_numbers, stop_request,
    submit_request, summaries_of_requests,
};
pub use results::{
    child_cursor, count_items, count_scripts, count_sections, item, items_page, results_of_items,
    scripts_of_results, scripts_page, sections_of_scripts, sections_page,
};
