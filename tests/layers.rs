//! The layers of `src/` (README, Architecture) checked over the source itself: no module
//! imports `startup`, each layer uses only those below it, and no two files import each other
//! in a loop. Reads the `crate::` and `super::` paths of every file; no database needed.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules a layer may use, besides itself.
const ALLOWED: [(&str, &[&str]); 10] = [
    ("domain", &[]),
    ("config", &[]),
    ("db", &["domain", "config"]),
    ("email", &["db", "domain", "config"]),
    ("app", &["email", "db", "domain", "config"]),
    ("http", &["app", "email", "db", "domain", "config"]),
    (
        "console",
        &["http", "app", "email", "db", "domain", "config"],
    ),
    ("demo", &["app", "db", "domain", "config", "startup"]),
    (
        "startup",
        &["console", "http", "app", "email", "db", "domain", "config"],
    ),
    (
        "cli",
        &[
            "startup", "demo", "console", "http", "app", "email", "db", "domain", "config",
        ],
    ),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/app/meetings.rs` → `["app", "meetings"]`; `src/http/console/mod.rs` → `["http", "console"]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix("src").expect("under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

/// The module paths a source file names, outside its tests: `crate::a::b` and `super::x`,
/// with use-groups (`crate::a::{b, c::d}`) expanded.
fn named_paths(source: &str, own: &[String]) -> Vec<Vec<String>> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        found.extend(paths(&code[i + "crate::".len()..], Vec::new()));
    }
    // In `a/b.rs` and in `a/b/mod.rs` alike (module a::b), `super` is `a`.
    let parent: Vec<String> = own[..own.len().saturating_sub(1)].to_vec();
    for (i, _) in code.match_indices("super::") {
        if i > 0 && code.as_bytes()[i - 1] == b':' {
            continue;
        }
        found.extend(paths(&code[i + "super::".len()..], parent.clone()));
    }
    found
}

/// The paths a use-tree starting at `rest` names, each after `prefix`:
/// `a::b::{c, d::e};` → `a::b::c`, `a::b::d::e`.
fn paths(rest: &str, mut prefix: Vec<String>) -> Vec<Vec<String>> {
    let mut rest = rest;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut items = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&group[start..end]);
            return items
                .into_iter()
                .flat_map(|item| paths(item.trim(), prefix.clone()))
                .collect();
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() || name == "self" {
            return vec![prefix];
        }
        prefix.push(name.clone());
        match rest[name.len()..].strip_prefix("::") {
            Some(more) => rest = more,
            None => return vec![prefix],
        }
    }
}

/// The longest module of `modules` that `path` starts with.
fn resolve(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut all = Vec::new();
    files(Path::new("src"), &mut all);
    let modules: BTreeSet<Vec<String>> = all.iter().map(|f| module_of(f)).collect();
    let mut edges = BTreeMap::new();
    for file in &all {
        let own = module_of(file);
        let source = std::fs::read_to_string(file).expect("readable");
        let targets: BTreeSet<Vec<String>> = named_paths(&source, &own)
            .iter()
            .filter_map(|p| resolve(p, &modules))
            .filter(|t| *t != own && !t.is_empty())
            .collect();
        edges.insert(own, targets);
    }
    edges
}

fn top(m: &[String]) -> &str {
    m.first().map_or("", String::as_str)
}

#[test]
fn nothing_but_the_binary_imports_startup() {
    for (module, targets) in graph() {
        let imports_startup = targets.iter().any(|t| top(t) == "startup");
        let allowed = module.is_empty() || matches!(top(&module), "cli" | "demo" | "startup");
        assert!(
            !imports_startup || allowed,
            "{} imports startup",
            module.join("::")
        );
    }
}

#[test]
fn each_layer_uses_only_the_layers_below_it() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.into_iter().collect();
    for (module, targets) in graph() {
        let Some(may) = allowed.get(top(&module)) else {
            continue;
        };
        for t in targets {
            let layer = top(&t);
            assert!(
                layer == top(&module) || may.contains(&layer),
                "{} (layer {}) uses {} (layer {layer})",
                module.join("::"),
                top(&module),
                t.join("::")
            );
        }
    }
}

#[test]
fn no_two_files_import_each_other_in_a_loop() {
    let g = graph();
    // Depth-first search for a back edge; a module's own submodules do not count as a loop
    // with it (a parent declares its children).
    fn visit(
        node: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in g.get(node).into_iter().flatten() {
            let parent_child = next.starts_with(node) || node.starts_with(next);
            if parent_child {
                continue;
            }
            if let Some(cycle) = visit(next, g, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for node in g.keys() {
        let cycle = visit(node, &g, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import loop: {}",
            cycle
                .unwrap_or_default()
                .iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" → ")
        );
    }
}

#[test]
fn the_checker_sees_paths_the_way_rust_does() {
    let strs = |v: Vec<Vec<String>>| -> Vec<String> { v.iter().map(|p| p.join("::")).collect() };
    assert_eq!(
        strs(paths("db::meetings::{self, X}", Vec::new())),
        vec!["db::meetings", "db::meetings::X"]
    );
    assert_eq!(
        strs(paths("email::notices::meeting_changes(tx", Vec::new())),
        vec!["email::notices::meeting_changes"]
    );
    assert_eq!(
        strs(paths(
            "{elections, meetings::{self, Plan}, Result};",
            vec!["app".to_owned()]
        )),
        vec![
            "app::elections",
            "app::meetings",
            "app::meetings::Plan",
            "app::Result"
        ]
    );
    let own = vec!["app".to_owned(), "meetings".to_owned()];
    let found = named_paths(
        "use super::audit::{self, Change};\n#[cfg(test)]\nuse crate::http;",
        &own,
    );
    assert_eq!(
        strs(found),
        vec!["app::audit", "app::audit::Change"],
        "tests are left out"
    );
}
