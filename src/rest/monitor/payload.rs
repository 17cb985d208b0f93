//! Reading a POST body as monitor-server-api's flask-restx models validated it (`validate=True`):
//! the whole payload is checked before anything is stored, and the 400 names every wrong field.
//!
//! flask-restx builds a JSON schema `{"required": [sorted names], "properties": {model order}}`
//! and jsonschema reports in the schema's order: first each missing required field by name, then
//! each present field of the wrong type in the model's field order. `{}` on `POST /metrics/`
//! therefore lists all fourteen fields alphabetically (tests/fixtures/monitor/peer_answers.json,
//! recorded from the real server).

use serde_json::{Map, Value};

use crate::error::{AppError, AppResult, FieldError};

/// A JSON object body being read field by field. Each accessor records what is wrong and returns
/// a placeholder, so that one pass finds every problem; `finish` then refuses the payload if any
/// was found.
pub struct Payload {
    body: Map<String, Value>,
    missing: Vec<&'static str>,
    mistyped: Vec<FieldError>,
}

impl Payload {
    /// Parses the body; anything but a JSON object is refused at once.
    pub fn parse(raw: &[u8]) -> AppResult<Self> {
        match serde_json::from_slice::<Value>(raw) {
            Ok(Value::Object(body)) => Ok(Payload {
                body,
                missing: Vec::new(),
                mistyped: Vec::new(),
            }),
            Ok(_) => Err(AppError::bad_request(
                "Input payload validation failed: the body must be a JSON object",
            )),
            Err(e) => Err(AppError::bad_request(format!(
                "Failed to decode JSON object: {e}"
            ))),
        }
    }

    /// The raw value of a field, if present.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.body.get(field)
    }

    /// Records a missing required field.
    pub fn missing(&mut self, field: &'static str) {
        self.missing.push(field);
    }

    /// Records a present field of the wrong type (`expected` is the JSON schema type name).
    fn mistyped(&mut self, field: &str, value: &Value, expected: &str) {
        self.mistyped.push(FieldError {
            field: field.to_owned(),
            message: format!("{} is not of type '{expected}'", py_repr(value)),
        });
    }

    /// A required string.
    pub fn string(&mut self, field: &'static str) -> String {
        self.string_or(field, Presence::Required, false)
            .unwrap_or_default()
    }

    /// A required field whose value may be `null`.
    pub fn nullable_string(&mut self, field: &'static str) -> Option<String> {
        self.string_or(field, Presence::Required, true)
    }

    /// A string that may be absent or `null`.
    pub fn optional_string(&mut self, field: &'static str) -> Option<String> {
        self.string_or(field, Presence::Optional, true)
    }

    fn string_or(
        &mut self,
        field: &'static str,
        presence: Presence,
        null_ok: bool,
    ) -> Option<String> {
        match self.body.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) if null_ok => None,
            Some(other) => {
                let other = other.clone();
                self.mistyped(field, &other, "string");
                None
            }
            None => {
                if presence == Presence::Required {
                    self.missing(field);
                }
                None
            }
        }
    }

    /// A required number.
    pub fn number(&mut self, field: &'static str) -> f64 {
        match self.body.get(field) {
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) => f,
                None => {
                    let v = Value::Number(n.clone());
                    self.mistyped(field, &v, "number");
                    0.0
                }
            },
            Some(other) => {
                let other = other.clone();
                self.mistyped(field, &other, "number");
                0.0
            }
            None => {
                self.missing(field);
                0.0
            }
        }
    }

    /// A required integer; a float is truncated, as flask-restx's Integer field did.
    pub fn int(&mut self, field: &'static str) -> i64 {
        let value = match self.body.get(field) {
            Some(Value::Number(n)) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                    .map(|f| f.trunc() as i64)
            }),
            Some(_) => None,
            None => {
                self.missing(field);
                return 0;
            }
        };
        match value {
            Some(i) => i,
            None => {
                let other = self.body.get(field).cloned().unwrap_or(Value::Null);
                self.mistyped(field, &other, "integer");
                0
            }
        }
    }

    /// Refuses the payload with every recorded problem: missing fields by name, then mistyped
    /// fields in the order they were read (callers read in the legacy model's order).
    pub fn finish(self) -> AppResult<Map<String, Value>> {
        if self.missing.is_empty() && self.mistyped.is_empty() {
            return Ok(self.body);
        }
        let mut missing = self.missing;
        missing.sort_unstable();
        missing.dedup();
        let mut errors: Vec<FieldError> = missing
            .into_iter()
            .map(|f| FieldError {
                field: f.to_owned(),
                message: format!("'{f}' is a required property"),
            })
            .collect();
        errors.extend(self.mistyped);
        Err(AppError::InvalidFields(errors))
    }
}

#[derive(PartialEq, Eq)]
enum Presence {
    Required,
    Optional,
}

/// Python's repr of a JSON value, as jsonschema quotes it in its messages.
fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str, read: impl FnOnce(&mut Payload)) -> Vec<(String, String)> {
        let mut p = Payload::parse(body.as_bytes()).expect("an object");
        read(&mut p);
        match p.finish() {
            Ok(_) => Vec::new(),
            Err(AppError::InvalidFields(f)) => {
                f.into_iter().map(|e| (e.field, e.message)).collect()
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_fields_come_first_by_name_then_mistyped_in_reading_order() {
        let got = errors(r#"{"b": 1, "z": "x", "n": null}"#, |p| {
            p.string("z");
            p.number("y");
            p.string("b");
            p.number("a");
            p.int("n");
        });
        assert_eq!(
            got,
            vec![
                ("a".into(), "'a' is a required property".into()),
                ("y".into(), "'y' is a required property".into()),
                ("b".into(), "1 is not of type 'string'".into()),
                ("n".into(), "None is not of type 'integer'".into()),
            ]
        );
    }

    #[test]
    fn a_valid_payload_passes_and_floats_truncate_to_integers() {
        let mut p = Payload::parse(br#"{"s": "x", "f": 1.5, "i": 2.9, "o": null}"#).unwrap();
        assert_eq!(p.string("s"), "x");
        assert_eq!(p.number("f"), 1.5);
        assert_eq!(p.int("i"), 2);
        assert_eq!(p.nullable_string("o"), None);
        assert_eq!(p.optional_string("absent"), None);
        assert!(p.finish().is_ok());
    }

    #[test]
    fn a_nullable_field_must_still_be_present() {
        let got = errors(r#"{"c": 3}"#, |p| {
            p.nullable_string("a");
            p.optional_string("b");
            p.optional_string("c");
        });
        assert_eq!(
            got,
            vec![
                ("a".into(), "'a' is a required property".into()),
                ("c".into(), "3 is not of type 'string'".into()),
            ]
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_at_once() {
        assert!(matches!(
            Payload::parse(b"[1]"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(Payload::parse(b"{"), Err(AppError::BadRequest(_))));
    }
}
