//! Keeps the crate layered: every top-level module may import only modules of its own layer or of
//! the layers below it, and no two top-level modules may import each other, directly or round a circle.
//!
//! The layers, top to bottom (see [`LAYERS`]):
//! 0. `lib` (dispatch) and `main`;
//! 1. `commands` (one file per subcommand: its flags and the glue);
//! 2. engines: `bench` (run matrix, failure, micro, peers, conformance), `compare`, `report`,
//!    `export`, `readme`;
//! 3. `results` (the schema types);
//! 4. infrastructure: `load`, `envoy`, `plugins`, `upstream`, `baseline`, `paths`, `stats`, `sys`,
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
    ("results", 3),
    ("load", 4),
    ("envoy", 4),
    ("plugins", 4),
    ("upstream", 4),
    ("baseline", 4),
    ("paths", 4),
    ("stats", 4),
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

/// The first segments after a `crate::` (one, or several for `crate::{a, b::c}`).
fn first_segments(rest: &str) -> Vec<String> {
    if let Some(group) = rest.strip_prefix('{') {
        let mut out = vec![];
        let mut depth = 0;
        let mut start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => start = true,
                c if start && !c.is_whitespace() => {
                    start = false;
                    out.push(ident_at(&group[i..]));
                }
                _ => {}
            }
        }
        out.retain(|s| !s.is_empty() && s != "self");
        out
    } else {
        vec![ident_at(rest)]
    }
}

/// Every import of another top-level module in one file (`file` relative to `src/`).
pub fn imports(file: &str, text: &str) -> Vec<Import> {
    let path = module_path(file);
    let from = match path[0].as_str() {
        "lib" | "main" => path[0].clone(),
        m => m.to_string(),
    };
    let mut out = vec![];
    let mut push = |to: String, line: usize| {
        if !to.is_empty() && to != from {
            out.push(Import {
                from: from.clone(),
                to,
                at: format!("src/{file}:{line}"),
            });
        }
    };
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
                for seg in first_segments(after) {
                    push(seg, n + 1);
                }
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
        let inline = open_mods.len();
        let mut rest = code;
        while let Some(i) = rest.find("super::") {
            let before = rest[..i].chars().last();
            let mut tail = &rest[i..];
            let mut ups = 0;
            while let Some(t) = tail.strip_prefix("super::") {
                ups += 1;
                tail = t;
            }
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                // The module the chain starts in is `path` plus `inline` inline modules; it climbs
                // out of the crate root's children when it goes up `path.len() + inline` levels.
                if ups >= path.len() + inline && !matches!(from.as_str(), "lib" | "main") {
                    for seg in first_segments(tail) {
                        push(seg, n + 1);
                    }
                }
            }
            rest = tail;
        }
    }
    out
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
    if let Some(circle) = find_cycle(&edges) {
        let path: Vec<String> = circle
            .iter()
            .map(|e| format!("{} -> {} ({})", e.from, e.to, e.at))
            .collect();
        problems.push(format!("import cycle: {}", path.join(", ")));
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
    fn a_module_missing_from_the_table_is_reported() {
        let mut t = fake();
        t.push(("newthing.rs".into(), String::new()));
        let p = check(&t, FAKE_LAYERS);
        assert!(p.iter().any(|p| p.contains("`newthing`")), "{p:?}");
    }
}
