//! The pytest-monitor rows of the one-pass writer (`graphql::onepass`): metrics and sessions,
//! flat lists with no level below.

use crate::graphql::onepass::{
    Key, ObjectList, TreeRow, put_float, put_int, put_naive, put_object, put_opt_str, put_str,
};
use crate::service::monitor::{Metric, Session};

/// A pytest-monitor metric: a flat list, no level below.
impl TreeRow for Metric {
    type Child = Metric;
    type Filter = ();
    const NODE: &'static str = "MonitorMetric";
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("id", &["id"]),
        ("sessionH", &["session_h"]),
        ("contextH", &["context_h"]),
        ("itemStartTime", &["item_start_time"]),
        ("itemPath", &["item_path"]),
        ("item", &["item"]),
        ("itemVariant", &["item_variant"]),
        ("itemFsLoc", &["item_fs_loc"]),
        ("kind", &["kind"]),
        ("component", &["component"]),
        ("totalTime", &["total_time"]),
        ("userTime", &["user_time"]),
        ("kernelTime", &["kernel_time"]),
        ("cpuUsage", &["cpu_usage"]),
        ("memUsage", &["mem_usage"]),
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "id" => put_int(out, self.id),
            "sessionH" => put_str(out, &self.session_h),
            "contextH" => put_str(out, &self.context_h),
            "itemStartTime" => put_str(out, &self.item_start_time),
            "itemPath" => put_str(out, &self.item_path),
            "item" => put_str(out, &self.item),
            "itemVariant" => put_str(out, &self.item_variant),
            "itemFsLoc" => put_str(out, &self.item_fs_loc),
            "kind" => put_str(out, &self.kind),
            "component" => put_opt_str(out, self.component.as_deref()),
            "totalTime" => put_float(out, self.total_time),
            "userTime" => put_float(out, self.user_time),
            "kernelTime" => put_float(out, self.kernel_time),
            "cpuUsage" => put_float(out, self.cpu_usage),
            "memUsage" => put_float(out, self.mem_usage),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

/// A pytest-monitor session: a flat list, whose tags are a list of plain objects.
impl TreeRow for Session {
    type Child = Session;
    type Filter = ();
    const NODE: &'static str = "MonitorSession";
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("h", &["h"]),
        ("runDate", &["run_date"]),
        ("runAt", &["run_at"]),
        ("scmRef", &["scm_ref"]),
    ];
    const OBJECT_LISTS: &'static [ObjectList] = &[ObjectList {
        field: "tags",
        node: "MonitorTag",
        fields: &["name", "value"],
        columns: &["description"],
    }];

    fn id(&self) -> i64 {
        self.id
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "h" => put_str(out, &self.h),
            "runDate" => put_str(out, &self.run_date),
            "runAt" => put_naive(out, Some(self.run_at)),
            "scmRef" => put_opt_str(out, self.scm_ref.as_deref()),
            _ => out.extend_from_slice(b"null"),
        }
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
