//! The JSON writers of the one-pass answers: each value exactly as async-graphql would serialise
//! the resolver's result (strings escaped by serde_json, floats through `serde_json::Number`,
//! instants through the `DateTime` scalar).

use async_graphql::{ScalarType, Value};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::graphql::time::utc;

/// `"responseKey":`, written before a field's value.
pub type Key = Vec<u8>;

/// Writes one plain object of an `ObjectList`: `value` gives each field's JSON.
pub fn put_object(
    out: &mut Vec<u8>,
    node: &str,
    fields: &[(Key, &'static str)],
    mut value: impl FnMut(&str, &mut Vec<u8>),
) {
    out.push(b'{');
    for (n, (key, field)) in fields.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        if *field == "__typename" {
            put_str(out, node);
        } else {
            value(field, out);
        }
    }
    out.push(b'}');
}

pub fn put_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

pub fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

pub fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

pub fn put_int(out: &mut Vec<u8>, n: i64) {
    let _ = serde_json::to_writer(&mut *out, &n);
}

/// Floats as async-graphql writes them: through `serde_json::Number`, `null` when not finite.
pub fn put_float(out: &mut Vec<u8>, x: f64) {
    match serde_json::Number::from_f64(x) {
        Some(n) => {
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// An instant as the `DateTime` scalar writes it.
pub fn put_time(out: &mut Vec<u8>, t: Option<DateTime<Utc>>) {
    match t.map(|t| t.to_value()) {
        Some(Value::String(s)) => put_str(out, &s),
        _ => out.extend_from_slice(b"null"),
    }
}

pub fn put_naive(out: &mut Vec<u8>, t: Option<NaiveDateTime>) {
    put_time(out, t.map(utc));
}

/// A resolver's return value written as JSON, as async-graphql writes it: the writer's side of a
/// field that `tree_object!` declares once.
pub trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

impl<T: WriteJson + ?Sized> WriteJson for &T {
    fn write_json(&self, out: &mut Vec<u8>) {
        (**self).write_json(out);
    }
}

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_str(out, self);
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_str(out, self);
    }
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_bool(out, *self);
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_int(out, *self);
    }
}

impl WriteJson for i32 {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_int(out, i64::from(*self));
    }
}

impl WriteJson for f64 {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_float(out, *self);
    }
}

impl WriteJson for DateTime<Utc> {
    fn write_json(&self, out: &mut Vec<u8>) {
        put_time(out, Some(*self));
    }
}

impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            v.write_json(out);
        }
        out.push(b']');
    }
}
