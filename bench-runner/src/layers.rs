//! Keeps the crate layered: every top-level module may import only modules of its own layer or of
//! the layers below it, and no two top-level modules may import each other, directly or round a circle;
//! nor may two sub-modules of one top-level module (`bench::measure`, `bench::micro`).
//!
//! The layers, top to bottom (see [`LAYERS`]):
//! 0. `lib` (dispatch) and `main`;
//! 1. `commands` (one file per subcommand: its flags and the glue);
//! 2. engines: `bench` (run matrix, failure, micro, peers, conformance), `compare`, `report`,
//!    `export`, `readme`, `package` (OCI images, registry push, WasmPlugin manifests);
//! 3. `results` (the schema types);
//! 4. infrastructure: `load`, `envoy`, `plugins`, `upstream`, `baseline`, `paths`, `stats`, `callgrind`, `sys`,
//!    `error`.
//!
//! Imports are read from the source text: `crate::x` paths anywhere outside comments, and `super::`
//! chains that climb out of a top-level module. This file is not scanned (its tests hold fake trees).

/// Each top-level module and its layer; 0 is the top.
pub const LAYERS: &[(&str, usize)] = &[
    ("lib", 0),
    ("main", 0),
    ("commands", 1),
    ("bench", 2),
    ("compare", 2),
    ("report", 2),
    ("export", 2),
    ("readme", 2),
    ("package", 2),
    ("results", 3),
    ("load", 4),
    ("envoy", 4),
    ("plugins", 4),
    ("upstream", 4),
    ("baseline", 4),
    ("paths", 4),
    ("stats", 4),
    ("callgrind", 4),
    ("sys", 4),
    ("error", 4),
];

/// One import of one top-level module by another, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub from: String,
    pub to: String,
    /// `src/results/mod.rs:12`
    pub at: String,
}

/// The module path of a file under `src/` (`bench/failure/mod.rs` -> [bench, failure]); `lib.rs` and
/// `main.rs` are the crate roots (`lib`, `main`).
fn module_path(file: &str) -> Vec<String> {
    let file = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: Vec<String> = file.split('/').map(String::from).collect();
    if parts.len() > 1 && parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The items of a `{a, b::c, d::{e, f}}` group (`group` starts after its `{`), up to its `}`.
fn group_items(group: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(&group[start..i]);
                return out;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&group[start..]);
    out
}

/// The paths after a `crate::` (or a `super::` chain), each cut to its first `n` segments: one path,
/// or several for `{a, b::c}` groups (`self` and globs are left out).
fn prefixes(rest: &str, n: usize) -> Vec<Vec<String>> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        return group_items(group)
            .into_iter()
            .flat_map(|item| prefixes(item, n))
            .collect();
    }
    let id = ident_at(rest);
    if id.is_empty() || id == "self" {
        return vec![];
    }
    let tail = &rest[id.len()..];
    let deeper = match tail.strip_prefix("::") {
        Some(t) if n > 1 => prefixes(t, n - 1),
        _ => vec![],
    };
    if deeper.is_empty() {
        return vec![vec![id]];
    }
    deeper
        .into_iter()
        .map(|mut p| {
            p.insert(0, id.clone());
            p
        })
        .collect()
}

/// Every path of the crate named in one file (`file` relative to `src/`), cut to its first two
/// segments from the crate root, with its line: `crate::x::y` paths anywhere outside comments, and
/// `super::` chains resolved from the file's module (and the inline modules open at that line).
fn targets(file: &str, text: &str) -> Vec<(Vec<String>, usize)> {
    let path = module_path(file);
    let root = matches!(path[0].as_str(), "lib" | "main");
    let mut out = vec![];
    let mut open_mods: Vec<usize> = vec![];
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = match code.find("//") {
            Some(i) if !code[..i].contains('"') => &code[..i],
            _ => code,
        };
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().last();
            let after = &rest[i + "crate::".len()..];
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
                out.extend(prefixes(after, 2).into_iter().map(|p| (p, n + 1)));
            }
            rest = after;
        }
        // `super::` chains count from the file's module plus the inline modules (`mod x {`) open at
        // this line; the code is rustfmt-formatted, so an inline module ends at `}` at its indent.
        let indent = line.len() - line.trim_start().len();
        if code.starts_with("mod ") || code.starts_with("pub mod ") {
            if code.trim_end().ends_with('{') {
                open_mods.push(indent);
            }
        } else if line.trim_end() == "}" && open_mods.last() == Some(&indent) {
            open_mods.pop();
        }
        // The module the chain starts in: `path`, then one unnamed segment per open inline module.
        let mut module = path.clone();
        module.extend(open_mods.iter().map(|_| String::new()));
        let mut rest = code;
        while let Some(i) = rest.find("super::") {
            let before = rest[..i].chars().last();
            let mut tail = &rest[i..];
            let mut ups = 0;
            while let Some(t) = tail.strip_prefix("super::") {
                ups += 1;
                tail = t;
            }
            if !root
                && ups <= module.len()
                && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            {
                let base = &module[..module.len() - ups];
                if base.len() >= 2 {
                    out.push((base[..2].to_vec(), n + 1));
                } else {
                    for p in prefixes(tail, 2 - base.len()) {
                        out.push(([base, &p[..]].concat(), n + 1));
                    }
                }
            }
            rest = tail;
        }
    }
    out
}

/// Every import of another top-level module in one file (`file` relative to `src/`).
pub fn imports(file: &str, text: &str) -> Vec<Import> {
    let from = module_path(file)[0].clone();
    targets(file, text)
        .into_iter()
        .filter(|(t, _)| !t[0].is_empty() && t[0] != from)
        .map(|(t, line)| Import {
            from: from.clone(),
            to: t[0].clone(),
            at: format!("src/{file}:{line}"),
        })
        .collect()
}

/// Every import of a sibling sub-module in one file: from the file's sub-module of its top-level
/// module (`bench/measure/phases.rs` is in `bench::measure`) to another sub-module of the same one
/// that `submodules` lists (`bench::micro`). The top-level module's own file is no sub-module.
pub fn sub_imports(file: &str, text: &str, submodules: &[(String, String)]) -> Vec<Import> {
    let path = module_path(file);
    if path.len() < 2 {
        return vec![];
    }
    let (top, sub) = (&path[0], &path[1]);
    targets(file, text)
        .into_iter()
        .filter(|(t, _)| t.len() >= 2 && &t[0] == top && &t[1] != sub)
        .filter(|(t, _)| submodules.iter().any(|(a, b)| *a == t[0] && *b == t[1]))
        .map(|(t, line)| Import {
            from: format!("{top}::{sub}"),
            to: format!("{}::{}", t[0], t[1]),
            at: format!("src/{file}:{line}"),
        })
        .collect()
}

/// Problems with the imports of `files` (path relative to `src/`, text): an import of a higher layer,
/// a module missing from `layers`, or a circle of imports between top-level modules.
pub fn check(files: &[(String, String)], layers: &[(&str, usize)]) -> Vec<String> {
    let layer = |m: &str| layers.iter().find(|(n, _)| *n == m).map(|(_, l)| *l);
    let mut problems = vec![];
    let mut edges: Vec<Import> = vec![];
    for (file, text) in files {
        let from = module_path(file)[0].clone();
        if layer(&from).is_none() {
            problems.push(format!(
                "module `{from}` (src/{file}) has no layer; add it to the table"
            ));
        }
        edges.extend(imports(file, text));
    }
    for e in &edges {
        match (layer(&e.from), layer(&e.to)) {
            (Some(a), Some(b)) if b < a => problems.push(format!(
                "{} -> {} ({}): layer {a} imports layer {b} above it",
                e.from, e.to, e.at
            )),
            (Some(_), None) => problems.push(format!(
                "{} -> {} ({}): `{}` has no layer",
                e.from, e.to, e.at, e.to
            )),
            _ => {}
        }
    }
    let show = |circle: Vec<Import>| {
        let path: Vec<String> = circle
            .iter()
            .map(|e| format!("{} -> {} ({})", e.from, e.to, e.at))
            .collect();
        path.join(", ")
    };
    if let Some(circle) = find_cycle(&edges) {
        problems.push(format!("import cycle: {}", show(circle)));
    }
    // Within each top-level module, its sub-modules must not import each other round a circle either.
    let mut submodules: Vec<(String, String)> = files
        .iter()
        .map(|(f, _)| module_path(f))
        .filter(|p| p.len() >= 2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    submodules.sort();
    submodules.dedup();
    let sub_edges: Vec<Import> = files
        .iter()
        .flat_map(|(f, t)| sub_imports(f, t, &submodules))
        .collect();
    if let Some(circle) = find_cycle(&sub_edges) {
        let top = circle[0]
            .from
            .split("::")
            .next()
            .unwrap_or_default()
            .to_string();
        problems.push(format!("import cycle within `{top}`: {}", show(circle)));
    }
    problems
}

/// One circle of imports between top-level modules, as its edges, if there is one.
fn find_cycle(edges: &[Import]) -> Option<Vec<Import>> {
    let mut nodes: Vec<&str> = edges
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .collect();
    nodes.sort();
    nodes.dedup();
    // 0 unvisited, 1 on the stack, 2 done
    let mut state = vec![0u8; nodes.len()];
    let idx = |m: &str| nodes.binary_search(&m).unwrap();
    fn visit(
        n: usize,
        nodes: &[&str],
        edges: &[Import],
        state: &mut [u8],
        stack: &mut Vec<Import>,
        idx: &dyn Fn(&str) -> usize,
    ) -> Option<Vec<Import>> {
        state[n] = 1;
        for e in edges.iter().filter(|e| e.from == nodes[n]) {
            let t = idx(&e.to);
            stack.push(e.clone());
            if state[t] == 1 {
                let start = stack.iter().position(|s| s.from == e.to).unwrap_or(0);
                return Some(stack[start..].to_vec());
            }
            if state[t] == 0 {
                if let Some(c) = visit(t, nodes, edges, state, stack, idx) {
                    return Some(c);
                }
            }
            stack.pop();
        }
        state[n] = 2;
        None
    }
    for n in 0..nodes.len() {
        if state[n] == 0 {
            let mut stack = vec![];
            if let Some(c) = visit(n, &nodes, edges, &mut state, &mut stack, &idx) {
                return Some(c);
            }
        }
    }
    None
}

/// Every `.rs` file under `dir` but this one, as (path relative to `dir`, text).
#[cfg(test)]
fn read_tree(dir: &std::path::Path) -> Vec<(String, String)> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel != "layers.rs" {
                    out.push((rel, std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Vec<(String, String)> {
        files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    const FAKE_LAYERS: &[(&str, usize)] = &[
        ("lib", 0),
        ("commands", 1),
        ("bench", 2),
        ("report", 2),
        ("results", 3),
        ("sys", 4),
    ];

    fn fake() -> Vec<(String, String)> {
        tree(&[
            ("lib.rs", "pub mod commands;\nuse commands::Cli;\n"),
            (
                "commands/mod.rs",
                "use crate::bench::measure::RunOptions;\n",
            ),
            ("bench/mod.rs", "pub mod measure;\n"),
            (
                "bench/measure.rs",
                "use crate::results::Run;\nuse crate::{report, sys::now};\n",
            ),
            ("report/mod.rs", "use crate::results::Run;\n"),
            (
                "results/run.rs",
                "use crate::sys;\n// crate::bench is only mentioned\n",
            ),
            (
                "sys.rs",
                "#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            ),
        ])
    }

    #[test]
    fn the_crate_only_imports_downward_and_has_no_import_cycle() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let files = read_tree(&src);
        assert!(files.len() > 40, "read only {} files", files.len());
        let problems = check(&files, LAYERS);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_clean_fake_tree_passes() {
        assert_eq!(check(&fake(), FAKE_LAYERS), Vec::<String>::new());
    }

    #[test]
    fn an_upward_import_is_named_with_its_place() {
        let mut t = fake();
        t.push((
            "results/micro.rs".into(),
            "use serde::Serialize;\n\npub x: crate::bench::micro::Section,\n".into(),
        ));
        let p = check(&t, FAKE_LAYERS);
        assert_eq!(p.len(), 2, "{p:?}"); // the upward edge, and the circle it closes
        assert!(
            p[0].starts_with("results -> bench (src/results/micro.rs:3)"),
            "{p:?}"
        );
        assert!(p[1].starts_with("import cycle: "), "{p:?}");
    }

    #[test]
    fn a_cycle_within_one_layer_is_found() {
        let mut t = fake();
        t.push((
            "report/failure.rs".into(),
            "use crate::bench::failure::Class;\n".into(),
        ));
        let p = check(&t, FAKE_LAYERS);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("import cycle: "), "{p:?}");
        assert!(
            p[0].contains("bench -> report (src/bench/measure.rs:2)"),
            "{p:?}"
        );
        assert!(
            p[0].contains("report -> bench (src/report/failure.rs:1)"),
            "{p:?}"
        );
    }

    #[test]
    fn super_paths_that_leave_a_top_level_module_count() {
        let i = imports("results/run.rs", "use super::super::bench::Thing;\n");
        assert_eq!(i.len(), 1);
        assert_eq!(
            (i[0].to.as_str(), i[0].at.as_str()),
            ("bench", "src/results/run.rs:1")
        );
        // Inside the module, or inside an inline test module, `super` stays put.
        assert!(imports("results/run.rs", "use super::profile::Profile;\n").is_empty());
        assert!(imports("sys.rs", "mod tests {\n    use super::*;\n}\n").is_empty());
        let in_a_test = "mod tests {\n    fn t() {\n        super::Rng::new(7);\n    }\n}\n";
        assert!(imports("stats.rs", in_a_test).is_empty());
        // ... until the inline module is closed.
        let after = "mod tests {\n}\nfn f() {\n    super::bench::x();\n}\n";
        assert_eq!(imports("sys.rs", after)[0].at, "src/sys.rs:4");
        // A top-level file's own `super` is the crate root.
        let i = imports("sys.rs", "use super::bench::x;\n");
        assert_eq!(i[0].to, "bench");
    }

    #[test]
    fn a_cycle_between_sub_modules_is_named_with_its_edges() {
        let mut t = fake();
        t.push((
            "bench/micro.rs".into(),
            "use crate::bench::measure::Profile;\n".into(),
        ));
        t.push((
            "bench/measure/phases.rs".into(),
            "use super::*;\nfn f() {\n    super::super::micro::run();\n}\n".into(),
        ));
        let p = check(&t, FAKE_LAYERS);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("import cycle within `bench`: "), "{p:?}");
        assert!(
            p[0].contains("bench::measure -> bench::micro (src/bench/measure/phases.rs:3)"),
            "{p:?}"
        );
        assert!(
            p[0].contains("bench::micro -> bench::measure (src/bench/micro.rs:1)"),
            "{p:?}"
        );
        // One direction alone is no cycle; a parent's own file and items of it are no sub-modules.
        t.pop();
        t.push((
            "bench/mod.rs".into(),
            "pub use micro::run;\nuse crate::bench::measure::X;\n".into(),
        ));
        t.push((
            "bench/measure/phases.rs".into(),
            "use crate::bench::{MOCK, micro::{self, A}};\n".into(),
        ));
        let p = check(&t, FAKE_LAYERS);
        assert!(p.len() == 1 && p[0].contains("within `bench`"), "{p:?}");
        t.pop();
        assert_eq!(check(&t, FAKE_LAYERS), Vec::<String>::new());
    }

    #[test]
    fn sub_module_imports_are_resolved_from_crate_and_super_paths() {
        let subs = vec![
            ("bench".to_string(), "measure".to_string()),
            ("bench".to_string(), "micro".to_string()),
        ];
        let text =
            "use super::micro::A;\nuse crate::{bench::micro, sys};\nuse super::measure::B;\n";
        let i = sub_imports("bench/measure.rs", text, &subs);
        let got: Vec<(&str, &str)> = i.iter().map(|e| (e.to.as_str(), e.at.as_str())).collect();
        assert_eq!(
            got,
            [
                ("bench::micro", "src/bench/measure.rs:1"),
                ("bench::micro", "src/bench/measure.rs:2")
            ]
        );
        assert!(i.iter().all(|e| e.from == "bench::measure"));
        assert!(sub_imports("bench/mod.rs", text, &subs).is_empty());
    }

    #[test]
    fn a_module_missing_from_the_table_is_reported() {
        let mut t = fake();
        t.push(("newthing.rs".into(), String::new()));
        let p = check(&t, FAKE_LAYERS);
        assert!(p.iter().any(|p| p.contains("`newthing`")), "{p:?}");
    }
}
