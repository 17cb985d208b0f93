//! Pipelines, as winchester's `pipeline_config` (`pipelines.yaml`) names them: each pipeline is
//! a list of handlers run in order over a stream's events when the stream fires or expires.
//!
//! winchester loaded handlers as Python classes (`pipeline_handlers:` in `winchester.yaml`).
//! testgraph has the one winchester shipped enabled, `logger` (winchester's `LoggingHandler`:
//! one log line naming the stream's events), and refuses a configuration naming another at
//! start, as winchester's `check_handler_config` refused an unknown one. A stream whose trigger
//! is unknown, or whose trigger names a pipeline that is not configured, ends in `error` (or
//! `expire_error`), as in winchester's `fire_stream`/`expire_stream`.

use std::collections::BTreeMap;

use super::model::{Event, Stream};

/// The handlers testgraph runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handler {
    /// winchester's `LoggingHandler`: logs the stream's events (type and message id).
    Logger,
}

/// The configured pipelines, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pipelines {
    pub pipelines: BTreeMap<String, Vec<Handler>>,
}

/// Reads a `pipelines.yaml`: a mapping of pipeline name to a list of handlers, each a name or
/// `{name: ..., params: {...}}`.
pub fn load_pipelines(text: &str) -> Result<Pipelines, String> {
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not YAML: {e}"))?;
    let map = match doc {
        serde_yaml_ng::Value::Null => return Ok(Pipelines::default()),
        serde_yaml_ng::Value::Mapping(m) => m,
        _ => return Err("a pipeline configuration is a mapping of names to handler lists".into()),
    };
    let mut pipelines = BTreeMap::new();
    for (name, handlers) in map {
        let name = name
            .as_str()
            .ok_or("pipeline names are strings")?
            .to_owned();
        let list = handlers
            .as_sequence()
            .ok_or_else(|| format!("pipeline '{name}': a list of handlers"))?;
        let mut out = Vec::new();
        for h in list {
            let handler = h
                .as_str()
                .or_else(|| h.get("name").and_then(|n| n.as_str()))
                .ok_or_else(|| format!("pipeline '{name}': handler name not in config: {h:?}"))?;
            match handler {
                "logger" => out.push(Handler::Logger),
                other => {
                    return Err(format!(
                        "pipeline '{name}': unknown handler '{other}' (testgraph runs: logger)"
                    ));
                }
            }
        }
        pipelines.insert(name, out);
    }
    Ok(Pipelines { pipelines })
}

impl Pipelines {
    /// Runs the pipeline `name` (if any) over `stream`'s `events`. An error says why the stream
    /// failed: the pipeline is not configured, or a handler failed.
    pub fn run(&self, name: Option<&str>, stream: &Stream, events: &[Event]) -> Result<(), String> {
        let Some(name) = name else {
            return Ok(());
        };
        let handlers = self
            .pipelines
            .get(name)
            .ok_or_else(|| format!("unknown pipeline '{name}'"))?;
        for h in handlers {
            match h {
                Handler::Logger => {
                    let names: Vec<String> = events
                        .iter()
                        .map(|e| format!("{}: {}", e.event_type, e.message_id))
                        .collect();
                    tracing::info!(
                        pipeline = name,
                        stream = stream.id,
                        trigger = %stream.name,
                        "Received {} events: {}",
                        events.len(),
                        names.join(", ")
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_winchester_pipelines_and_refuses_unknown_handlers() {
        let p = load_pipelines(
            "test_pipeline:\n    - logger\nother:\n    - name: logger\n      params: {}\n",
        )
        .unwrap();
        assert_eq!(p.pipelines.len(), 2);
        assert_eq!(p.pipelines["other"], vec![Handler::Logger]);
        let err = load_pipelines("x:\n  - usage\n").unwrap_err();
        assert!(err.contains("unknown handler 'usage'"), "{err}");
        assert!(load_pipelines("- logger").is_err());
        assert_eq!(load_pipelines("").unwrap(), Pipelines::default());
    }

    #[test]
    fn the_example_configures_every_pipeline_of_the_example_triggers() {
        let p = load_pipelines(include_str!("../../../examples/stacktach/pipelines.yaml")).unwrap();
        let triggers = super::super::definitions::load(include_str!(
            "../../../examples/stacktach/triggers.yaml"
        ))
        .unwrap();
        for t in &triggers {
            for name in [&t.fire_pipeline, &t.expire_pipeline].into_iter().flatten() {
                assert!(p.pipelines.contains_key(name), "{name}");
            }
        }
    }
}
