//! The house rules of DESIGN.md, checked on the source itself: no import cycle between files,
//! nothing below the app layer imports clap or prints, the harness reaches the reference server
//! only through `target`, and no file grows past 500 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files that are the edge: they parse, dispatch and print (`cli/` holds parts of `cli.rs`).
const EDGE: [&str; 4] = ["main.rs", "lib.rs", "cli.rs", "app.rs"];

/// Whether a file (path below `src/`) is on the edge.
fn is_edge(relative: &str) -> bool {
    EDGE.contains(&relative) || relative.starts_with("cli/")
}
/// The harness's checking modules, which must not reach into the reference server.
const HARNESS: [&str; 3] = ["contract", "load", "snapshot"];
const MAX_LINES: usize = 500;

/// One source file: its module path (`contract::runner`), its child modules, its code lines
/// (comments and the trailing `#[cfg(test)]` module left out).
struct SourceFile {
    relative: String,
    module: Vec<String>,
    children: BTreeSet<String>,
    code: Vec<String>,
    lines: usize,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(relative: &str) -> Vec<String> {
    let trimmed = relative.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn read_all() -> Vec<SourceFile> {
    let root = src();
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter(|p| !p.ends_with("architecture.rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let relative = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            let mut code = Vec::new();
            let mut children = BTreeSet::new();
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with("#[cfg(test)]") {
                    break;
                }
                if line.starts_with("//") || line.is_empty() {
                    continue;
                }
                let declared = line.trim_start_matches("pub ").trim_start_matches("pub(crate) ");
                if let Some(name) = declared.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                    children.insert(name.to_string());
                    continue;
                }
                code.push(line.to_string());
            }
            SourceFile { module: module_of(&relative), relative, children, code, lines: text.lines().count() }
        })
        .collect()
}

/// Path-like runs of identifiers joined by `::` (`crate::a::b`, `super::x`, `report::Report`),
/// with `use a::{b, c::d}` groups expanded.
fn paths_in(line: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        if is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            let mut segments = Vec::new();
            let mut j = i;
            loop {
                let start = j;
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                segments.push(chars[start..j].iter().collect::<String>());
                if j + 2 < chars.len() && chars[j] == ':' && chars[j + 1] == ':' && is_ident(chars[j + 2]) {
                    j += 2;
                } else if j + 2 < chars.len() && chars[j] == ':' && chars[j + 1] == ':' && chars[j + 2] == '{' {
                    let close = chars[j..].iter().position(|c| *c == '}').map_or(chars.len(), |p| j + p);
                    let inner: String = chars[j + 3..close].iter().collect();
                    for item in inner.split(',') {
                        let mut path = segments.clone();
                        path.extend(
                            item.trim().split("::").map(|s| s.split_whitespace().next().unwrap_or("").to_string()),
                        );
                        paths.push(path);
                    }
                    j = close;
                    break;
                } else {
                    if chars[j..].starts_with(&[':', ':', '*']) {
                        segments.push("*".into());
                    }
                    break;
                }
            }
            if segments.len() > 1 {
                paths.push(segments);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    paths
}

/// The file a path from `file` leads to, if it names a module of this crate.
fn resolve(file: &SourceFile, path: &[String], modules: &BTreeMap<Vec<String>, String>) -> Option<String> {
    let mut absolute: Vec<String> = match path.first().map(String::as_str)? {
        "crate" => path[1..].to_vec(),
        "super" => {
            let mut base = file.module.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            base
        }
        "self" => file.module.iter().chain(&path[1..]).cloned().collect(),
        first if file.children.contains(first) => file.module.iter().chain(path).cloned().collect(),
        _ => return None,
    };
    while !absolute.is_empty() {
        if let Some(target) = modules.get(&absolute) {
            return Some(target.clone());
        }
        absolute.pop();
    }
    modules.get(&Vec::new()).cloned()
}

/// File → the files it imports from (its own children's declarations do not count).
fn imports() -> (Vec<SourceFile>, BTreeMap<String, BTreeSet<String>>) {
    let files = read_all();
    let modules: BTreeMap<Vec<String>, String> =
        files.iter().filter(|f| f.relative != "main.rs").map(|f| (f.module.clone(), f.relative.clone())).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let mut targets = BTreeSet::new();
        for line in &file.code {
            for path in paths_in(line) {
                if let Some(target) = resolve(file, &path, &modules)
                    && target != file.relative
                {
                    targets.insert(target);
                }
            }
        }
        graph.insert(file.relative.clone(), targets);
    }
    (files, graph)
}

/// A cycle of the graph, if it has one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str())
            && let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_file_imports_from_a_file_that_imports_from_it() {
    let (_, graph) = imports();
    assert!(graph.values().map(BTreeSet::len).sum::<usize>() > 50, "the import graph was not read: {graph:?}");
    assert_eq!(find_cycle(&graph), None, "an import cycle between files of src/");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let edge = |a: &str, b: &[&str]| (a.to_string(), b.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
    let graph: BTreeMap<_, _> = [edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"]), edge("d", &[])].into();
    assert_eq!(find_cycle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let file = SourceFile {
        relative: "contract/mod.rs".into(),
        module: vec!["contract".into()],
        children: ["report".to_string()].into(),
        code: Vec::new(),
        lines: 0,
    };
    let modules: BTreeMap<Vec<String>, String> = [
        (vec![], "lib.rs".to_string()),
        (vec!["contract".to_string()], "contract/mod.rs".to_string()),
        (vec!["contract".to_string(), "report".to_string()], "contract/report.rs".to_string()),
        (vec!["error".to_string()], "error.rs".to_string()),
    ]
    .into();
    let resolved: Vec<Option<String>> =
        paths_in("use crate::error::{Result, UsageError}; let r = report::Report::new(); super::x")
            .iter()
            .map(|p| resolve(&file, p, &modules))
            .collect();
    assert!(resolved.contains(&Some("error.rs".into())), "{resolved:?}");
    assert!(resolved.contains(&Some("contract/report.rs".into())), "{resolved:?}");
    assert!(resolved.contains(&Some("lib.rs".into())), "super:: from contract/mod.rs: {resolved:?}");
}

#[test]
fn nothing_below_the_app_layer_imports_clap_or_prints() {
    let (files, graph) = imports();
    let forbidden = ["clap::", "println!", "eprintln!", "print!", "eprint!", "dbg!", "io::stdout", "io::stderr"];
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !is_edge(&f.relative)) {
        for line in &file.code {
            for word in forbidden.iter().filter(|w| line.contains(*w)) {
                offences.push(format!("{}: {word} in `{line}`", file.relative));
            }
        }
        if graph[&file.relative].iter().any(|t| is_edge(t) && t != "lib.rs") {
            offences.push(format!("{} imports from the app layer", file.relative));
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn the_harness_reaches_the_reference_server_only_through_target() {
    let (_, graph) = imports();
    let offences: Vec<String> = graph
        .iter()
        .filter(|(file, _)| HARNESS.iter().any(|h| file.starts_with(&format!("{h}/"))))
        .flat_map(|(file, targets)| {
            targets.iter().filter(|t| t.starts_with("reference/")).map(move |t| format!("{file} → {t}"))
        })
        .collect();
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> =
        read_all().iter().filter(|f| f.lines > MAX_LINES).map(|f| format!("{}: {}", f.relative, f.lines)).collect();
    assert!(long.is_empty(), "{long:?}");
}
