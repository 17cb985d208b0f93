//! The OpenAPI 3 document of every REST route (the legacy families and bulk ingestion), built
//! from the route tables so that a route cannot exist without being documented.

use serde_json::{Map, Value, json};

use super::api::{RestApi, Takes};

fn query_schema(takes: &Takes) -> Value {
    match takes {
        Takes::PageNumber => json!({"type": "integer", "default": 1,
            "description": "page number, from 1; a negative number counts from the last page"}),
        Takes::OneOf(words) => json!({"type": "string", "enum": words}),
        Takes::Text => json!({"type": "string"}),
    }
}

/// `/sessions/:h` (poem) as `/sessions/{h}` (OpenAPI), with its path parameter names.
fn openapi_path(path: &str) -> (String, Vec<String>) {
    let mut params = Vec::new();
    let segs: Vec<String> = path
        .split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(name) => {
                params.push(name.to_owned());
                format!("{{{name}}}")
            }
            None => s.to_owned(),
        })
        .collect();
    (segs.join("/"), params)
}

/// Builds the document from each API's route table and schemas.
pub fn document(apis: &[RestApi]) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for api in apis {
        let prefix = api.prefix;
        if let Value::Object(s) = (api.schemas)() {
            schemas.extend(s);
        }
        for r in api.docs() {
            let (path, path_params) = openapi_path(r.path);
            // An API's root route (`/`) is its prefix itself.
            let full = match path.as_str() {
                "/" => prefix.to_owned(),
                _ => format!("{prefix}{path}"),
            };
            let mut params: Vec<Value> = path_params
                .iter()
                .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            params.extend(r.query.iter().map(|q| json!({"name": q.name, "in": "query", "required": false, "schema": query_schema(&q.takes)})));
            let mut responses = Map::new();
            match r.response {
                Some(schema) => {
                    responses.insert(
                        r.success_status().to_string(),
                        json!({"description": "Success", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
                    );
                }
                None => {
                    responses.insert("200".into(), json!({"description": "Success"}));
                }
            }
            responses.insert(
                "default".into(),
                json!({"description": "Error in the API's own dialect"}),
            );
            let mut op = json!({
                "summary": r.summary,
                "tags": [r.tag],
                "operationId": format!("{} {}", r.method.as_str().to_lowercase(), full),
                "parameters": params,
                "responses": responses,
            });
            if let Some(body) = r.body {
                op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}});
            }
            let entry = paths.entry(full).or_insert_with(|| json!({}));
            if let Some(note) = api.paths_note {
                entry["description"] = json!(note);
            }
            entry[r.method.as_str().to_lowercase()] = op;
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "testgraph REST APIs: the legacy families and bulk ingestion", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}
