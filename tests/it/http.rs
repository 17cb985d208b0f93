//! What every REST test file uses: requests sent in process and their responses read whole
//! (`Reply`), the documented examples of each API (`fixture`), and the one shape checker
//! (`assert_shape`), which compares an answer with a documented example.

use chrono::DateTime;
use poem::http::StatusCode;
use serde_json::Value;

use crate::common::TestApp;

/// A response read whole: status, content type and raw body.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The body as JSON, `Null` when empty; a body that is not JSON fails the test.
    pub fn json(&self) -> Value {
        if self.raw.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.raw)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// Asserts a status, showing the body when it differs.
    pub fn expect(&self, status: StatusCode, what: &str) -> &Self {
        assert_eq!(self.status, status, "{what}: body {}", self.text());
        self
    }
}

/// Reads a test client's response whole.
pub async fn reply(resp: poem::test::TestResponse) -> Reply {
    let status = resp.0.status();
    let content_type = resp.0.content_type().map(str::to_owned);
    let raw = resp.0.into_body().into_vec().await.expect("read body");
    Reply {
        status,
        content_type,
        raw,
    }
}

pub async fn get(app: &TestApp, path: &str) -> Reply {
    reply(app.client.get(path).send().await).await
}

/// A POST of a JSON value.
pub async fn post(app: &TestApp, path: &str, body: &Value) -> Reply {
    reply(app.client.post(path).body_json(body).send().await).await
}

/// A POST of a body as given, declared JSON, with optional extra headers.
pub async fn post_raw(app: &TestApp, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = app
        .client
        .post(path)
        .content_type("application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    reply(req.send().await).await
}

pub async fn patch(app: &TestApp, path: &str, body: &str) -> Reply {
    reply(app.client.patch(path).body(body.to_owned()).send().await).await
}

/// `tests/fixtures/<api>/<name>` as JSON.
pub fn fixture(api: &str, name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{api}/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What `assert_shape` checks beyond keys, their order and the nesting.
#[derive(Clone, Copy, Default)]
pub struct Rules<'a> {
    /// Members whose objects are maps (their keys are data), with how many map levels they have:
    /// each entry is compared with the doc's first entry, and the keys must be sorted (as Go
    /// sorts map keys).
    pub maps: &'a [(&'a str, usize)],
    /// Scalars have the doc's JSON type, integers and floats told apart (Go's typed struct
    /// fields); off where the doc writes a float column's `0` as an integer (Python).
    pub types: bool,
    /// A documented RFC 3339 time is answered by an RFC 3339 time in UTC (`Z`).
    pub utc_times: bool,
}

/// Asserts that `ours` has the documented shape of `doc`: objects with the same keys in the same
/// order, arrays whose every item is shaped like the doc's first, and what `rules` adds. `at`
/// names the place in failure messages.
pub fn assert_shape(ours: &Value, doc: &Value, rules: Rules<'_>, at: &str) {
    if let Err(e) = shape(ours, doc, rules, at, 0) {
        panic!("{e}");
    }
}

/// The first place where `ours` is not shaped like `doc`, described.
fn shape(
    ours: &Value,
    doc: &Value,
    rules: Rules<'_>,
    at: &str,
    map_depth: usize,
) -> Result<(), String> {
    if map_depth > 0 {
        let (Value::Object(o), Value::Object(d)) = (ours, doc) else {
            return Err(format!("{at}: expected a map, got {ours}"));
        };
        let keys: Vec<&String> = o.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        if keys != sorted {
            return Err(format!("{at}: map keys must be sorted: {keys:?}"));
        }
        if let Some(first) = d.values().next() {
            if o.is_empty() {
                return Err(format!("{at}: the doc shows entries, we have none"));
            }
            for (k, v) in o {
                shape(v, first, rules, &format!("{at}.{k}"), map_depth - 1)?;
            }
        }
        return Ok(());
    }
    match (ours, doc) {
        (Value::Object(o), Value::Object(d)) => {
            let ok: Vec<&str> = o.keys().map(String::as_str).collect();
            let dk: Vec<&str> = d.keys().map(String::as_str).collect();
            if ok != dk {
                return Err(format!(
                    "{at}: keys and their order: {ok:?}, the doc {dk:?}"
                ));
            }
            for (k, dv) in d {
                let depth = rules
                    .maps
                    .iter()
                    .find(|(name, _)| name == k)
                    .map(|(_, n)| *n)
                    .unwrap_or(0);
                shape(&o[k], dv, rules, &format!("{at}.{k}"), depth)?;
            }
            Ok(())
        }
        (Value::Array(o), Value::Array(d)) => {
            if let Some(first) = d.first() {
                if o.is_empty() {
                    return Err(format!("{at}: the doc shows items, we have none"));
                }
                for (i, v) in o.iter().enumerate() {
                    shape(v, first, rules, &format!("{at}[{i}]"), 0)?;
                }
            }
            Ok(())
        }
        // Keys only: containers must still match containers.
        _ if !rules.types => {
            if ours.is_object() || ours.is_array() || doc.is_object() || doc.is_array() {
                return Err(format!("{at}: {ours} is not shaped like the doc's {doc}"));
            }
            Ok(())
        }
        (Value::String(o), Value::String(d)) => {
            let utc = DateTime::parse_from_rfc3339(o).is_ok() && o.ends_with('Z');
            if rules.utc_times && DateTime::parse_from_rfc3339(d).is_ok() && !utc {
                return Err(format!("{at}: {o:?} is not an RFC 3339 UTC time"));
            }
            Ok(())
        }
        (Value::Number(o), Value::Number(d)) => {
            let int = |n: &serde_json::Number| n.is_i64() || n.is_u64();
            if int(o) != int(d) {
                return Err(format!("{at}: {o} and the doc's {d} differ in kind"));
            }
            Ok(())
        }
        (Value::Bool(_), Value::Bool(_)) | (Value::Null, Value::Null) => Ok(()),
        _ => Err(format!("{at}: {ours} is not shaped like the doc's {doc}")),
    }
}

#[test]
fn the_shape_checker_sees_keys_order_and_types() {
    use serde_json::json;
    let doc = json!({"a": 1, "b": [{"t": "2015-01-01T00:00:00-04:00"}]});
    let strict = Rules {
        types: true,
        utc_times: true,
        ..Rules::default()
    };
    let check = |ours: Value, rules: Rules<'_>| shape(&ours, &doc, rules, "x", 0);
    let ok = json!({"a": 2, "b": [{"t": "2015-01-01T04:00:00Z"}]});
    assert_eq!(check(ok, strict), Ok(()));
    assert!(
        check(json!({"b": [], "a": 1}), Rules::default()).is_err(),
        "order"
    );
    let float = json!({"a": 1.5, "b": [{"t": "x"}]});
    assert!(check(float.clone(), strict).is_err(), "float for integer");
    assert_eq!(check(float, Rules::default()), Ok(()), "keys only");
    let offset = json!({"a": 1, "b": [{"t": "2015-01-01T00:00:00-04:00"}]});
    assert!(check(offset, strict).is_err(), "offset time");
    assert!(
        check(json!({"a": 1, "b": []}), Rules::default()).is_err(),
        "no items"
    );
    assert!(
        check(json!({"a": [], "b": [{"t": 1}]}), Rules::default()).is_err(),
        "container"
    );
}
