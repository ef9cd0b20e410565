//! The README's "what the fair form moved" region: the header work (`headers` minus `mock`) per
//! implementation before and after a change, from the JSON that
//! `bench-runner/scripts/headers-minus-mock.py --json FILE` writes off saved runs.

use crate::error::usage;
use crate::paths::Project;
use crate::report::instructions::signed_count;
use serde::Deserialize;
use std::fmt::Write;
use std::path::Path;

#[derive(Debug, Deserialize)]
struct HeaderWork {
    sides: Vec<Side>,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Side {
    label: String,
    run: String,
    instructions: Option<String>,
    started_at: String,
}

#[derive(Debug, Deserialize)]
struct Row {
    implementation: String,
    figures: Vec<Option<Figures>>,
}

#[derive(Debug, Deserialize)]
struct Figures {
    p50_us: f64,
    instructions: Option<f64>,
}

/// How the region names one side: its label, run, start and where its instructions came from.
fn describe(side: &Side) -> String {
    format!(
        "**{}** (run `{}`, started {}{})",
        side.label,
        side.run,
        side.started_at,
        side.instructions
            .as_deref()
            .map(|i| format!(", its instructions from `{i}`"))
            .unwrap_or_default()
    )
}

/// The region: instructions per request of the header work, the first side against the last,
/// cheapest change first, and the added p50 of both (the caveat that times do not travel beside it).
pub fn region(project: &Project, file: &Path) -> anyhow::Result<String> {
    let bad = |why: String| {
        usage(format!(
            "--header-work {}: {why}; give the JSON of bench-runner/scripts/headers-minus-mock.py --json FILE",
            file.display()
        ))
    };
    let text = std::fs::read_to_string(file).map_err(|e| bad(e.to_string()))?;
    let w: HeaderWork = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if w.sides.len() < 2 {
        return Err(bad(format!("{} side(s), 2 needed", w.sides.len())));
    }
    let (before, after) = (&w.sides[0], &w.sides[w.sides.len() - 1]);
    let mut rows: Vec<(f64, String)> = Vec::new();
    let mut left_out: Vec<&str> = Vec::new();
    for r in &w.rows {
        let counts = match (r.figures.first(), r.figures.last()) {
            (Some(Some(b)), Some(Some(a))) => b.instructions.zip(a.instructions).map(|c| (b, a, c)),
            _ => None,
        };
        let Some((b, a, (bi, ai))) = counts else {
            left_out.push(&r.implementation);
            continue;
        };
        let change = if bi.abs() > 0.0 {
            100.0 * (ai - bi) / bi
        } else {
            0.0
        };
        rows.push((
            change,
            format!(
                "| {} | {} | {} | {change:+.1}% | {:+.1} | {:+.1} |",
                r.implementation,
                signed_count(bi),
                signed_count(ai),
                b.p50_us,
                a.p50_us
            ),
        ));
    }
    if rows.is_empty() {
        return Err(bad(
            "no implementation has instructions on both sides".into()
        ));
    }
    rows.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut s = format!(
        "The header work (the `headers` variant's added figures minus the `mock` variant's), per implementation: {} against {}. Instructions are the comparison that holds across days; the added p50s come from two days, and times on these VMs move between days ([reproducibility](docs/reproducibility.md)). Made by `bench-runner/scripts/headers-minus-mock.py`: [`{}`]({}).\n\n",
        describe(before),
        describe(after),
        project.rel(file),
        project.rel(file),
    );
    let _ = writeln!(
        s,
        "| implementation | instructions/req before | after | change | added p50 µs before | after |\n|---|---:|---:|---:|---:|---:|"
    );
    for (_, row) in rows {
        let _ = writeln!(s, "{row}");
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            s,
            "\nLeft out (no instruction count on both sides): {}.",
            left_out.join(", ")
        );
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project::discover()
    }

    #[test]
    fn the_table_is_sorted_by_change_and_skips_rows_without_counts() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.json");
        std::fs::write(
            &f,
            r#"{"sides": [{"label": "before", "run": "a", "instructions": null, "started_at": "t0", "processes": 8},
                          {"label": "after", "run": "b", "instructions": "c", "started_at": "t1", "processes": 8}],
                "rows": [{"implementation": "x", "figures": [{"p50_us": 10.0, "cpu_us": 1.0, "instructions": 1000.0}, {"p50_us": 9.0, "cpu_us": 1.0, "instructions": 900.0}]},
                         {"implementation": "y", "figures": [{"p50_us": 10.0, "cpu_us": 1.0, "instructions": 1000.0}, {"p50_us": 5.0, "cpu_us": 1.0, "instructions": 500.0}]},
                         {"implementation": "z", "figures": [null, {"p50_us": 5.0, "cpu_us": 1.0, "instructions": 500.0}]}]}"#,
        )
        .unwrap();
        let s = region(&project(), &f).unwrap();
        let y = s
            .find("| y | +1,000 | +500 | -50.0% | +10.0 | +5.0 |")
            .unwrap();
        let x = s
            .find("| x | +1,000 | +900 | -10.0% | +10.0 | +9.0 |")
            .unwrap();
        assert!(y < x, "{s}");
        assert!(!s.contains("| z |"), "{s}");
        assert!(
            s.contains("Left out (no instruction count on both sides): z."),
            "{s}"
        );
    }

    #[test]
    fn a_file_that_is_not_the_scripts_json_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.json");
        std::fs::write(&f, "{}").unwrap();
        let e = format!("{:#}", region(&project(), &f).unwrap_err());
        assert!(e.contains("--header-work") && e.contains("w.json"), "{e}");
    }
}
