//! The pytest-monitor rows of the one-pass writer (`graphql::onepass`): metrics and sessions,
//! flat lists with no level below.

use crate::graphql::onepass::{Key, ObjectList, TreeRow, put_object, put_str};
use crate::service::monitor::{Metric, Session};

/// A pytest-monitor metric: a flat list, no level below.
impl TreeRow for Metric {
    type Child = Metric;
    type Filter = ();

    fn id(&self) -> i64 {
        self.id
    }
}

/// A pytest-monitor session: a flat list, whose tags are a list of plain objects.
impl TreeRow for Session {
    type Child = Session;
    type Filter = ();
    const OBJECT_LISTS: &'static [ObjectList] = &[ObjectList {
        field: "tags",
        node: "MonitorTag",
        fields: &["name", "value"],
        columns: &["description"],
    }];

    fn id(&self) -> i64 {
        self.id
    }
    fn write_objects(&self, field: &str, fields: &[(Key, &'static str)], out: &mut Vec<u8>) {
        if field != "tags" {
            debug_assert!(false, "Session lists no {field}");
            out.extend_from_slice(b"null");
            return;
        }
        out.push(b'[');
        for (i, (name, value)) in self.tags().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_object(out, "MonitorTag", fields, |f, out| match f {
                "name" => put_str(out, name),
                _ => put_str(out, value),
            });
        }
        out.push(b']');
    }
}
