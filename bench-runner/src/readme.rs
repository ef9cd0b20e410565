//! `readme`: regenerates the README's figures from a saved run (never typed by hand). Each generated
//! region sits between `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->` markers.

use crate::error::usage;
use crate::paths::Project;
use crate::results::Results;
use std::fmt::Write;
use std::path::Path;

/// Replaces the body of region `name` in `text`; errors if the markers are missing.
pub fn replace_region(text: &str, name: &str, body: &str) -> Result<String, String> {
    let begin = format!("<!-- generated:{name}:begin -->");
    let end = format!("<!-- generated:{name}:end -->");
    let b = text
        .find(&begin)
        .ok_or_else(|| format!("marker `{begin}` not found"))?;
    let e = text[b..]
        .find(&end)
        .map(|i| b + i)
        .ok_or_else(|| format!("marker `{end}` not found after `{begin}`"))?;
    Ok(format!(
        "{}{begin}\n{}\n{}",
        &text[..b],
        body.trim_end(),
        &text[e..]
    ))
}

/// The implementations table: language, what it is built with, module size and hash.
pub fn implementations(project: &Project, r: &Results) -> anyhow::Result<String> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| implementation | language | SDK / toolchain | module bytes | sha256 (first 12) |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---|");
    for p in crate::plugins::discover(project)? {
        let v = r
            .variants
            .iter()
            .find(|v| v.id.starts_with(&format!("{}-", p.name)) && v.wasm_bytes.is_some());
        let (bytes, sha) = match v {
            Some(v) => (
                v.wasm_bytes.map_or("-".into(), |b| b.to_string()),
                v.wasm_sha256
                    .as_deref()
                    .map_or("-".to_string(), |h| format!("`{}`", &h[..12.min(h.len())])),
            ),
            None => ("not in this run".to_string(), "-".to_string()),
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} ({}) | {} | {} |",
            p.name, p.manifest.language, p.manifest.description, p.manifest.toolchain, bytes, sha
        );
    }
    let _ = writeln!(
        s,
        "| `lua` | Lua | Envoy's built-in Lua filter (LuaJIT); script generated from the same JSON config | - | - |"
    );
    Ok(s)
}

/// The results region: where and when, the overhead table, skipped variants and the charts.
pub fn results_region(project: &Project, run_dir: &Path, r: &Results) -> String {
    let rel = project.rel(run_dir);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Run `{rel}` ({} profile, {} rounds, status {}), started {}: {} ({} cores, kernel {}), Envoy {} with {} runtime(s) {}, Envoy on CPU {} and the load generator on CPU {}.\n",
        r.profile.name,
        r.profile.rounds,
        r.status,
        r.started_at,
        r.host.cpu_model,
        r.host.cores,
        r.host.kernel,
        r.envoy.version,
        r.envoy.runtimes.len(),
        r.envoy.runtimes.join(", "),
        r.host.envoy_cpu.map_or("-".into(), |c| c.to_string()),
        r.host.load_cpu.map_or("-".into(), |c| c.to_string()),
    );
    s.push_str(&crate::report::summary_table(r));
    let mut charts: Vec<String> = std::fs::read_dir(run_dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".svg"))
                .collect()
        })
        .unwrap_or_default();
    charts.sort();
    // One chart embedded (the overheads with their intervals); the others linked.
    if let Some(main) = charts.iter().find(|c| c.contains("overhead")) {
        let _ = writeln!(
            s,
            "\n![overhead per variant with 95% intervals]({rel}/{main})"
        );
    }
    let others: Vec<String> = charts
        .iter()
        .filter(|c| !c.contains("overhead"))
        .map(|c| format!("[{}]({rel}/{c})", c.trim_end_matches(".svg")))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(s, "\nMore charts: {}.", others.join(" · "));
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\nNotes recorded with the run:\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "\nSkipped in this run:\n");
        for k in &r.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.variant, k.reason);
        }
    }
    let _ = writeln!(s, "\nFull report: [`{rel}/report.md`]({rel}/report.md); raw data: [`{rel}/results.json`]({rel}/results.json).");
    s
}

/// The failure matrix of a standalone `failure` run folder (its failure.json).
pub fn failure_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("failure.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(format!(
            "--failure-run: cannot read {} ({e})",
            path.display()
        ))
    })?;
    let run: crate::results::failure::FailureRun = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "--failure-run: {} is not a failure.json ({e})",
            path.display()
        ))
    })?;
    let rel = project.rel(dir);
    let f = &run.failure;
    Ok(format!(
        "Run `{rel}`, started {}: {} ({} cores), Envoy {}.\n\n{}\nEvery scenario, the runaway plugins and the timeline charts: [`{rel}/report.md`]({rel}/report.md); raw data: [`{rel}/failure.json`]({rel}/failure.json).",
        f.started_at,
        run.host.cpu_model,
        run.host.cores,
        f.envoy_version,
        crate::report::failure::matrix(f)
    ))
}

/// The load generator next to wrk / oha: a folder written by `bench-runner peers --out DIR`.
pub fn peers_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let r = crate::results::peers::load(dir)?;
    let rel = project.rel(dir);
    Ok(format!(
        "Measured with `{}`; raw data: [`{rel}/peers.json`]({rel}/peers.json).\n\n{}",
        display_command(&r.command),
        crate::report::peers::format_table(&r)
    ))
}

/// The regression detector's calibration: a folder written by `bench-runner/scripts/detector.sh`
/// (its detector.md, generated from the saved comparisons).
pub fn detector_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("detector.md");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(format!(
            "--detector: cannot read {} ({e}); write it with bench-runner/scripts/detector.sh",
            path.display()
        ))
    })?;
    let rel = project.rel(dir);
    Ok(format!(
        "{}\n\nEvery comparison: [`{rel}/`]({rel}/).",
        text.trim_end()
    ))
}

/// `bench-runner peers ...` as the user types it (the recorded argv starts with the binary's path).
fn display_command(argv: &str) -> String {
    match argv.split_once(' ') {
        Some((_, rest)) => format!("cargo run -p bench-runner -- {rest}"),
        None => "cargo run -p bench-runner".into(),
    }
}

/// Optional regions, each from its own saved measurement.
#[derive(Debug, Default)]
pub struct Extra<'a> {
    pub failure_run: Option<&'a Path>,
    pub peers: Option<&'a Path>,
    pub detector: Option<&'a Path>,
}

pub fn command(project: &Project, run: &Path, readme: &Path, extra: &Extra) -> anyhow::Result<u8> {
    let r = Results::read(run)?;
    let run_dir = if run.is_dir() {
        run.to_path_buf()
    } else {
        run.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let run_dir = run_dir.canonicalize().unwrap_or(run_dir);
    let text = std::fs::read_to_string(readme)
        .map_err(|e| usage(format!("cannot read {} ({e})", readme.display())))?;
    let mut out = text.clone();
    for (name, body) in [
        ("implementations", implementations(project, &r)?),
        ("results", results_region(project, &run_dir, &r)),
    ] {
        out = replace_region(&out, name, &body)
            .map_err(|e| usage(format!("{}: {e}", readme.display())))?;
    }
    let optional = [
        (
            "failure",
            extra.failure_run.map(|d| failure_region(project, d)),
        ),
        ("peers", extra.peers.map(|d| peers_region(project, d))),
        (
            "detector",
            extra.detector.map(|d| detector_region(project, d)),
        ),
    ];
    for (name, body) in optional {
        if let Some(body) = body {
            out = replace_region(&out, name, &body?)
                .map_err(|e| usage(format!("{}: {e}", readme.display())))?;
        }
    }
    crate::sys::write_atomic(readme, out.as_bytes())?;
    eprintln!("updated {} from {}", readme.display(), run_dir.display());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_replaced_between_markers_only() {
        let t = "a\n<!-- generated:x:begin -->\nold\n<!-- generated:x:end -->\nb\n";
        let o = replace_region(t, "x", "new\n").unwrap();
        assert_eq!(
            o,
            "a\n<!-- generated:x:begin -->\nnew\n<!-- generated:x:end -->\nb\n"
        );
        assert!(replace_region(t, "y", "z").is_err());
    }
}
