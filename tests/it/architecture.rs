//! The shape of `src/`, checked from its text: no import circles between modules
//! (docs/architecture.md). A module "imports" another when its file names it in a `use` or a
//! path (`crate::a::b`, `super::x`, a child declared with `mod`); declaring a child with `mod`
//! alone is not an import. A circle, even through other modules, fails with the path around it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `crate::a::b`; `src/lib.rs` is `crate`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    let mut m = vec!["crate".to_owned()];
    m.extend(parts);
    m
}

/// The text without comments and string literals (so that a doc line naming a module, or a
/// message quoting a path, is not an import), and without `#[cfg(test)]` modules, whose imports
/// of the module under test are not part of the module graph.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '{' (lifetimes have no closing quote two bytes on).
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e as f}, self}`) into its paths.
fn expand_use(tree: &str) -> Vec<Vec<String>> {
    fn split_top(s: &str) -> Vec<&str> {
        let (mut depth, mut start, mut out) = (0, 0, Vec::new());
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&s[start..]);
        out
    }
    // Drop renames (`x as y`), then whitespace.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut kept = String::new();
    let mut k = 0;
    while k < words.len() {
        if words[k] == "as" && k + 1 < words.len() {
            // The alias may carry the separator that follows it (`y,` or `y}`).
            kept.extend(words[k + 1].chars().filter(|c| matches!(c, ',' | '}')));
            k += 2;
        } else {
            kept.push_str(words[k]);
            k += 1;
        }
    }
    let tree = kept;
    let mut out = Vec::new();
    for part in split_top(&tree) {
        if part.is_empty() {
            continue;
        }
        if let Some(open) = part.find('{') {
            let prefix: Vec<String> = part[..open]
                .trim_end_matches("::")
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let inner = &part[open + 1..part.len() - 1];
            for sub in expand_use(inner) {
                let mut p = prefix.clone();
                p.extend(sub.into_iter().filter(|s| s != "self"));
                out.push(p);
            }
        } else {
            out.push(part.split("::").map(str::to_owned).collect());
        }
    }
    out
}

/// Paths named in `code`: every use tree, and every inline `crate::`/`super::`/`self::` path or
/// path through a child module.
fn named_paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    // `use` statements (also `pub use`, `pub(crate) use`).
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after = &rest[i + 4..];
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_')
            && let Some(end) = after.find(';')
        {
            out.extend(expand_use(&after[..end]));
        }
        rest = after;
    }
    // Inline paths.
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            let mut j = i;
            let mut segs = Vec::new();
            loop {
                let s = j;
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                segs.push(chars[s..j].iter().collect::<String>());
                if j + 2 < chars.len() && chars[j] == ':' && chars[j + 1] == ':' {
                    j += 2;
                    if !is_ident(chars[j]) {
                        break;
                    }
                } else {
                    break;
                }
            }
            let first = segs[0].as_str();
            if segs.len() > 1
                && (matches!(first, "crate" | "super" | "self") || children.contains(first))
            {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The module a path points into: the longest prefix that is a module of the crate.
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut abs: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => vec!["crate".into()],
        Some("super") => from[..from.len().saturating_sub(1)].to_vec(),
        Some("self") => from.to_vec(),
        _ => {
            let mut m = from.to_vec();
            m.push(path[0].clone());
            if !modules.contains(&m) {
                return None;
            }
            m.pop();
            m
        }
    };
    let mut segs = path;
    if matches!(
        path.first().map(String::as_str),
        Some("crate" | "super" | "self")
    ) {
        segs = &path[1..];
        // `super::super::x`
        while segs.first().map(String::as_str) == Some("super") {
            abs.pop();
            segs = &segs[1..];
        }
    }
    let mut best = modules.contains(&abs).then(|| abs.clone());
    for s in segs {
        abs.push(s.clone());
        if modules.contains(&abs) {
            best = Some(abs.clone());
        } else {
            break;
        }
    }
    best
}

/// The import graph of `src/`: each module to the modules its file names.
fn import_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let files: Vec<(Vec<String>, String)> = files
        .iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|f| {
            (
                module_of(&src, f),
                std::fs::read_to_string(f).expect("read"),
            )
        })
        .collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (m, text) in &files {
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|c| c.len() == m.len() + 1 && c.starts_with(m))
            .map(|c| c[m.len()].clone())
            .collect();
        let code = code_of(text);
        let edges: BTreeSet<Vec<String>> = named_paths(&code, &children)
            .iter()
            .filter_map(|p| resolve(m, p, &modules))
            .filter(|t| t != m)
            .collect();
        graph.insert(m.clone(), edges);
    }
    graph
}

/// A circle in `graph`, as the modules around it, if there is one.
fn find_circle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        marks: &mut BTreeMap<Vec<String>, Mark>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        marks.insert(n.clone(), Mark::Open);
        stack.push(n.clone());
        for t in graph.get(n).into_iter().flatten() {
            match marks.get(t).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let at = stack.iter().position(|s| s == t).unwrap_or(0);
                    let mut circle: Vec<String> =
                        stack[at..].iter().map(|m| m.join("::")).collect();
                    circle.push(t.join("::"));
                    return Some(circle);
                }
                Mark::New => {
                    if let Some(c) = visit(t, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(n.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in graph.keys() {
        if marks.get(n).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(c) = visit(n, graph, &mut marks, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// Every group of modules that reach each other (the circles to break), for the failure message.
fn tangles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    let reach = |from: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for t in graph.get(&n).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    todo.push(t.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<_, _> = graph.keys().map(|n| (n.clone(), reach(n))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (n, r) in &reaches {
        if r.contains(n) {
            let group: Vec<String> = r
                .iter()
                .filter(|t| reaches[*t].contains(n))
                .map(|t| t.join("::"))
                .collect();
            groups.insert(group);
        }
    }
    groups.into_iter().collect()
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let graph = import_graph();
    assert!(graph.len() > 20, "only {} modules found", graph.len());
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "import circle: {}\nall modules in circles: {:#?}",
            circle.join(" -> "),
            tangles(&graph)
        );
    }
}

#[test]
fn the_checker_sees_paths_and_circles() {
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
    let modules: BTreeSet<Vec<String>> = ["crate", "crate::a", "crate::a::b", "crate::c"]
        .iter()
        .map(|s| m(s))
        .collect();
    let children: BTreeSet<String> = ["b".to_owned()].into();
    let code = code_of(
        "use super::{c::{X, Y as Z}, a};\n// crate::c::no\nfn f() { b::g(); \"crate::c\"; }",
    );
    let mut got: Vec<Vec<String>> = named_paths(&code, &children)
        .iter()
        .filter_map(|p| resolve(&m("crate::a"), p, &modules))
        .collect();
    got.sort();
    got.dedup();
    assert_eq!(got, vec![m("crate::a"), m("crate::a::b"), m("crate::c")]);

    let mut graph = BTreeMap::new();
    graph.insert(m("crate::a"), [m("crate::c")].into());
    graph.insert(m("crate::c"), [m("crate::a::b")].into());
    graph.insert(m("crate::a::b"), BTreeSet::new());
    assert_eq!(find_circle(&graph), None);
    graph.insert(m("crate::a::b"), [m("crate::a")].into());
    assert_eq!(
        find_circle(&graph),
        Some(vec![
            "crate::a".into(),
            "crate::c".into(),
            "crate::a::b".into(),
            "crate::a".into()
        ])
    );
}
