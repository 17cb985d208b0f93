//! SeaORM entities of testgraph: the shapes of the tables and nothing else. No GraphQL, no HTTP and
//! no legacy wire formats live here; those convert from these models at the edges.

pub mod api_token;
pub mod evg_artifact;
pub mod evg_build;
pub mod evg_project;
pub mod evg_task;
pub mod evg_test_result;
pub mod evg_variant;
pub mod evg_version;
pub mod kci_build;
pub mod kci_job;
pub mod kci_log_summary;
pub mod monitor_context;
pub mod monitor_metric;
pub mod monitor_session;
pub mod monitor_session_tag;
pub mod stt_event;
pub mod stt_stream;
pub mod stt_stream_event;
pub mod xpr_bundle;
pub mod xpr_item;
pub mod xpr_profile;
pub mod xpr_request;
pub mod xpr_result;
pub mod xpr_script;
pub mod xpr_section;
pub mod xpr_testbed;
pub mod xpr_topology;
