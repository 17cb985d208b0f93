//! Go's JSON, as Evergreen's handlers wrote it: `json.MarshalIndent(data, "", "  ")` and
//! `time.Time` marshalled as RFC3339Nano. Evergreen REST v1 answers are built as `serde_json`
//! values (`wire`) and written here.

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde_json::{Number, Value};

/// How Go marshals the zero `time.Time`, which the legacy server sends for every unset time.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Go's `json.MarshalIndent(v, "", "  ")`: two-space indentation, `"key": value`, `{}` and `[]`
/// for empty collections, no trailing newline, and Go's string escaping (HTML-safe `<`, `>`, `&`,
/// plus U+2028 and U+2029). Written out directly rather than post-processing serde_json's pretty
/// output, so escaping can only ever touch string contents, and floats print as Go prints them
/// (`25`, not `25.0`).
pub fn render(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

/// A time as Go marshals `time.Time` (RFC3339Nano): UTC with `Z`, the fraction's trailing zeros
/// stripped and the fraction left out when zero. `None` (unset) is Go's zero time.
pub fn time(t: Option<NaiveDateTime>) -> Value {
    Value::String(match t {
        None => ZERO_TIME.to_owned(),
        Some(t) => rfc3339_nano(t),
    })
}

fn rfc3339_nano(t: NaiveDateTime) -> String {
    // chrono encodes a leap second as nanos >= 1e9; Go has no leap seconds, so clamp.
    let nanos = t.nanosecond().min(999_999_999);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_string(out, k);
                out.push_str(": ");
                write_value(out, item, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        out.push_str(&go_float(f));
    } else {
        out.push_str(&n.to_string());
    }
}

/// Go's float64 encoding: shortest round-trip digits, plain decimal unless the magnitude is below
/// 1e-6 or at least 1e21, where it is `e` notation with a signed exponent (`1e+21`, `1e-7`).
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` gives the same shortest mantissa with a bare exponent (`1e21`, `1e-7`).
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if exp.starts_with('-') => format!("{mantissa}e{exp}"),
            Some((mantissa, exp)) => format!("{mantissa}e+{exp:0>2}"),
            None => s,
        }
    } else {
        // Display is shortest round-trip and never uses an exponent: `25`, `0.5`, `1405000000.123`.
        format!("{f}")
    }
}

/// Go's `encoding/json` string escaping with HTML escaping on (the `Marshal` default).
fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Runs of bytes that need no escape (nearly all of them) are copied whole. Every character
    // that does is ASCII, except U+2028 and U+2029, whose UTF-8 starts with 0xE2.
    let bytes = s.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !MAY_ESCAPE[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        // `i` is at a character boundary: the table holds ASCII bytes and 0xE2, a leading byte.
        let c = s[i..].chars().next().unwrap_or('\0');
        let escape = match c {
            '"' => Escape::Short("\\\""),
            '\\' => Escape::Short("\\\\"),
            '\n' => Escape::Short("\\n"),
            '\r' => Escape::Short("\\r"),
            '\t' => Escape::Short("\\t"),
            '\u{8}' => Escape::Short("\\b"),
            '\u{c}' => Escape::Short("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => Escape::Unicode,
            c if u32::from(c) < 0x20 => Escape::Unicode,
            // Another character whose first byte is 0xE2.
            c => {
                i += c.len_utf8();
                continue;
            }
        };
        out.push_str(&s[run_start..i]);
        match escape {
            Escape::Short(e) => out.push_str(e),
            Escape::Unicode => push_u_escape(out, c),
        }
        i += c.len_utf8();
        run_start = i;
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

enum Escape {
    Short(&'static str),
    Unicode,
}

/// The bytes that may start a character Go escapes: control characters, `"`, `\\`, `<`, `>`,
/// `&`, and 0xE2, the first byte of U+2028 and U+2029 (and of other characters, checked whole).
static MAY_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'&' as usize] = true;
    table[0xE2] = true;
    table
};

/// `\uXXXX` with lowercase hex, as Go writes it; only called for chars below U+10000.
fn push_u_escape(out: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = u32::from(c);
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[((n >> shift) & 0xf) as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_milli_opt(h, mi, s, ms))
            .expect("valid test time")
    }

    #[test]
    fn render_matches_go_marshal_indent_byte_for_byte() {
        // Keys in this order (serde_json's `preserve_order`), as Go writes a struct's fields.
        let v = json!({
            "a": "x<y>&z \"q\" \\ \n\t\u{1} \u{2028}\u{2029} é",
            "empty_obj": {},
            "empty_arr": [],
            "nil": null,
            "nested": {"list": [1, -2, true], "f": 25.0, "g": 0.5},
        });
        let expected = "{\n  \"a\": \"x\\u003cy\\u003e\\u0026z \\\"q\\\" \\\\ \\n\\t\\u0001 \\u2028\\u2029 é\",\n  \"empty_obj\": {},\n  \"empty_arr\": [],\n  \"nil\": null,\n  \"nested\": {\n    \"list\": [\n      1,\n      -2,\n      true\n    ],\n    \"f\": 25,\n    \"g\": 0.5\n  }\n}";
        assert_eq!(render(&v), expected);
        assert_eq!(render(&json!({})), "{}");
        assert_eq!(render(&json!([])), "[]");
        assert_eq!(render(&json!("plain")), "\"plain\"");
    }

    /// Escapes at either end, side by side and next to multi-byte characters: the runs between
    /// them are copied whole, so their bounds are what can go wrong.
    #[test]
    fn strings_escape_at_the_edges_of_runs() {
        for (input, expected) in [
            ("", r#""""#),
            ("<", r#""\u003c""#),
            ("<>", r#""\u003c\u003e""#),
            ("é<é", r#""é\u003cé""#),
            ("\u{2028}x\u{2029}", r#""\u2028x\u2029""#),
            ("\"a\"", r#""\"a\"""#),
            ("日本\u{1f}語", r#""日本\u001f語""#),
            ("tab\t", r#""tab\t""#),
            // First byte 0xE2 like U+2028, not escaped.
            ("€—\u{2028}—", r#""€—\u2028—""#),
        ] {
            assert_eq!(render(&json!(input)), expected, "{input:?}");
        }
    }

    #[test]
    fn render_escapes_keys_and_formats_floats_like_go() {
        assert_eq!(render(&json!({"a<b": 1})), "{\n  \"a\\u003cb\": 1\n}");
        assert_eq!(go_float(1405000000.123), "1405000000.123");
        assert_eq!(go_float(0.0), "0");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e-7), "1.5e-7");
        assert_eq!(go_float(-2.5e-10), "-2.5e-10");
        assert_eq!(go_float(123456789.0), "123456789");
    }

    #[test]
    fn times_are_rfc3339_nano_in_utc() {
        assert_eq!(time(None), json!("0001-01-01T00:00:00Z"));
        assert_eq!(
            time(Some(at(2014, 7, 22, 17, 2, 9, 162))),
            json!("2014-07-22T17:02:09.162Z")
        );
        assert_eq!(
            time(Some(at(2014, 7, 22, 17, 2, 9, 0))),
            json!("2014-07-22T17:02:09Z")
        );
        assert_eq!(
            time(Some(at(2014, 7, 22, 17, 2, 9, 100))),
            json!("2014-07-22T17:02:09.1Z")
        );
        assert_eq!(time(Some(at(1, 1, 1, 0, 0, 0, 0))), json!(ZERO_TIME));
    }
}
