//! The README and the docs pages hold together (no Envoy needed): every relative link resolves, every
//! `#anchor` matches a heading of the page it points into (GitHub's slugs), every `results/...` path
//! the text names exists, the README stays short, and each generated region lives in exactly one
//! file, where `bench-runner readme` finds it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The README's length limit (issue 32): what it measures, the two commands, the headline, the
/// commands in one line each and links; the rest lives in docs/.
const README_MAX_LINES: usize = 250;

/// Paths under `results/` the text names as what a run writes, not as committed files.
const WRITTEN_BY_A_RUN: &[&str] = &["results/latest"];

/// Paths a saved measurement names that were never committed: its generated region quotes them as
/// they are. Each entry says where it comes from; the test fails once the path exists (then drop it).
const KNOWN_MISSING: &[(&str, &str)] = &[(
    "results/20261201T183326Z-default",
    "a run compared by results/measurements/gate-family-wise-20261202/gate.md (the `gate` region); its folder was never committed",
)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// README.md and docs/*.md, sorted.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut v = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    v.extend(docs);
    v
}

/// The lines outside fenced code blocks, with their numbers (1-based).
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fence = false;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if !fence {
            out.push((i + 1, l));
        }
    }
    out
}

/// The inline code spans of a line, and the line without them.
fn code_spans(line: &str) -> (Vec<&str>, String) {
    let mut spans = Vec::new();
    let mut rest = String::new();
    let mut parts = line.split('`');
    if let Some(first) = parts.next() {
        rest.push_str(first);
    }
    let mut inside = true;
    for p in parts {
        if inside {
            spans.push(p);
        } else {
            rest.push_str(p);
        }
        inside = !inside;
    }
    (spans, rest)
}

/// GitHub's heading anchor: lower case, every character but letters, digits, `-`, `_` and spaces
/// dropped, spaces as `-`; a repeated slug gets `-1`, `-2`, ...
fn slugs(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, l) in prose(text) {
        let t = l.trim_start_matches('#');
        if t.len() == l.len() || !t.starts_with(' ') {
            continue;
        }
        let base: String = t
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(base.clone()).or_insert(0);
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// The Markdown link targets of a line (code spans left out).
fn links(line: &str) -> Vec<String> {
    let (_, rest) = code_spans(line);
    let mut out = Vec::new();
    let mut s = rest.as_str();
    while let Some(i) = s.find("](") {
        s = &s[i + 2..];
        let end = s.find(')').unwrap_or(s.len());
        out.push(s[..end].to_string());
        s = &s[end..];
    }
    out
}

/// Every problem with the links and named paths of `page`.
fn problems(root: &Path, page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    let name = page.strip_prefix(root).unwrap().display().to_string();
    let mut out = Vec::new();
    for (n, line) in prose(&text) {
        for target in links(line) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.to_path_buf()
            } else {
                dir.join(path)
            };
            if !file.exists() {
                out.push(format!(
                    "{name}:{n}: link `{target}`: {} does not exist",
                    file.display()
                ));
                continue;
            }
            if let Some(a) = anchor {
                let is_md = file.extension().is_some_and(|x| x == "md");
                let ok = is_md && slugs(&std::fs::read_to_string(&file).unwrap()).contains(a);
                if !ok {
                    out.push(format!(
                        "{name}:{n}: link `{target}`: no heading of {} has the anchor `#{a}`",
                        file.display()
                    ));
                }
            }
        }
        let (spans, _) = code_spans(line);
        for span in spans {
            let Some(start) = span.find("results/") else {
                continue;
            };
            // A path the text names: `results/...` up to the first space, as written from the
            // repository's root; placeholders (`<timestamp>`, `*`) are patterns, not files.
            let p = span[start..].split_whitespace().next().unwrap_or("");
            let p = p.trim_end_matches([',', ';', ')', ':']);
            let named_at_root = start == 0 || span[..start].ends_with([' ', '(', '=']);
            if !named_at_root
                || p.contains(['<', '*', '{', '$'])
                || WRITTEN_BY_A_RUN.contains(&p.trim_end_matches('/'))
            {
                continue;
            }
            // The layout page names the runner's modules from `bench-runner/src` (`results/curves/`).
            let module = root.join("bench-runner/src").join(p);
            let known = KNOWN_MISSING
                .iter()
                .any(|(k, _)| *k == p.trim_end_matches('/'));
            if !root.join(p).exists() && !module.exists() && !known {
                out.push(format!(
                    "{name}:{n}: `{span}` names {p}, which does not exist"
                ));
            }
        }
    }
    out
}

#[test]
fn every_link_anchor_and_named_results_path_resolves() {
    let root = root();
    let all: Vec<String> = pages(&root)
        .iter()
        .flat_map(|p| problems(&root, p))
        .collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn the_known_missing_paths_are_still_missing() {
    for (p, why) in KNOWN_MISSING {
        assert!(
            !root().join(p).exists(),
            "{p} exists now ({why}): drop it from KNOWN_MISSING"
        );
    }
}

#[test]
fn the_readme_stays_short() {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let n = text.lines().count();
    assert!(
        n <= README_MAX_LINES,
        "README.md has {n} lines, more than {README_MAX_LINES}: move sections into docs/ and link them"
    );
}

#[test]
fn each_generated_region_lives_in_exactly_one_file() {
    let root = root();
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(&root).unwrap().display().to_string();
        for (i, _) in text.match_indices("<!-- generated:") {
            let rest = &text[i + "<!-- generated:".len()..];
            let region = rest.split(':').next().unwrap_or("");
            if rest[region.len()..].starts_with(":begin -->") {
                let end = format!("<!-- generated:{region}:end -->");
                assert!(
                    rest.contains(&end),
                    "{name}: region `{region}` begins but has no `{end}` after it"
                );
                holders
                    .entry(region.to_string())
                    .or_default()
                    .push(name.clone());
            }
        }
    }
    for (region, files) in &holders {
        assert_eq!(
            files.len(),
            1,
            "region `{region}` is in {files:?}; `bench-runner readme` needs it in exactly one file"
        );
    }
    for required in ["headline", "results", "implementations", "fresh"] {
        assert!(
            holders.contains_key(required),
            "no file holds region `{required}`"
        );
    }
    assert_eq!(
        holders["headline"],
        ["README.md"],
        "the headline belongs on the README"
    );
}

#[test]
fn the_slugs_are_githubs() {
    let s = slugs("# `ab`: the base and the new\n## Reproducibility: does it land?\n```\n# not a heading\n```\n## X\n## X\n");
    for a in [
        "ab-the-base-and-the-new",
        "reproducibility-does-it-land",
        "x",
        "x-1",
    ] {
        assert!(s.contains(a), "{a} in {s:?}");
    }
    assert!(!s.contains("not-a-heading"), "{s:?}");
    assert_eq!(
        links("see [a](x.md#b) and `[c](d)` ![e](f.svg)"),
        ["x.md#b", "f.svg"]
    );
}
