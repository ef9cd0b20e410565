//! `readme`: regenerates the README's and the docs pages' figures from saved runs (never typed by
//! hand). Each generated region sits between `<!-- generated:NAME:begin -->` and
//! `<!-- generated:NAME:end -->` markers, in exactly one of README.md and docs/*.md ([`pages`]).

pub mod ab;
pub mod fresh;
pub mod header_work;
pub mod headline;
pub mod pages;

pub use fresh::fresh_region;

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
    use crate::plugins::{DYNAMIC_MODULE_KIND, EXT_PROC_KIND, LUA_KIND, WASM_KIND};
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| implementation | kind | language | SDK / toolchain | module bytes | sha256 (first 12) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---:|---|");
    let mut all = crate::plugins::discover_all(project)?;
    // Wasm modules first, then the other ways of extending Envoy, each kind in folder order.
    let rank = |k: &str| {
        [WASM_KIND, DYNAMIC_MODULE_KIND, EXT_PROC_KIND, LUA_KIND]
            .iter()
            .position(|x| *x == k)
    };
    all.sort_by_key(|p| (rank(&p.manifest.kind).unwrap_or(usize::MAX), p.name.clone()));
    for p in all {
        let kind = p.manifest.kind.as_str();
        let v = r
            .variants
            .iter()
            .find(|v| v.id.starts_with(&format!("{}-", p.name)) && v.wasm_bytes.is_some());
        let (bytes, sha) = match (kind, v) {
            (LUA_KIND, _) => ("- (a script Envoy runs)".to_string(), "-".to_string()),
            (EXT_PROC_KIND, _) => ("- (a separate process)".to_string(), "-".to_string()),
            (_, Some(v)) => (
                v.wasm_bytes.map_or("-".into(), |b| b.to_string()),
                v.wasm_sha256.as_deref().map_or("-".to_string(), |h| {
                    format!("`{}`", h.chars().take(12).collect::<String>())
                }),
            ),
            (_, None) => ("not in this run".to_string(), "-".to_string()),
        };
        let toolchain = if p.manifest.toolchain.is_empty() {
            p.manifest.description.clone()
        } else {
            format!("{} ({})", p.manifest.description, p.manifest.toolchain)
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            p.name, kind, p.manifest.language, toolchain, bytes, sha
        );
    }
    Ok(s)
}

/// The results region: where and when, the overhead table, skipped variants and the charts.
pub fn results_region(project: &Project, run_dir: &Path, r: &Results) -> String {
    let rel = project.rel(run_dir);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Run `{rel}` ({} profile, {} rounds over {} Envoy processes, status {}), started {}: {} ({} cores, kernel {}), Envoy {} with {} runtime(s) {}, Envoy on CPU {} and the load generator on CPU {}.\n",
        r.profile.name,
        r.profile.rounds,
        r.profile.processes,
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
    if let Some(note) = crate::report::external::note(r) {
        let _ = writeln!(s, "\n{note}");
    }
    if r.health.is_some() {
        let _ = writeln!(s, "\nThe run's health:\n");
        s.push_str(&crate::report::health(r));
    }
    let precision = crate::report::precision::markdown(r);
    if !precision.is_empty() {
        let _ = writeln!(
            s,
            "\nPrecision, and what more of it would cost. {precision}"
        );
    }
    if let Some(i) = &r.instructions {
        let _ = writeln!(
            s,
            "\nInstructions per request through Envoy, counted in the same run. {}\n",
            crate::report::instructions::method(i)
        );
        s.push_str(&crate::report::instructions::table(r, i));
        let _ = writeln!(
            s,
            "\n{} The last column is the same run's CPU overhead at saturation per 1000 added instructions: where implementations differ, their instructions retire at different rates, or their cost lies outside what is counted.",
            crate::results::instructions::LEAVES_OUT
        );
    }
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
    let r = crate::results::peers::load(dir).map_err(|e| usage(format!("--peers: {e}")))?;
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

/// The gate's trade-off between false alarms and detection: a folder written by
/// `bench-runner/scripts/gate-injection.py` (its gate.md, generated from saved runs), given with
/// `flag` (`--gate`, or `--gate-pairs` for the folder `gate-pairs.sh` writes).
pub fn gate_region(project: &Project, dir: &Path, flag: &str) -> anyhow::Result<String> {
    let path = dir.join("gate.md");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(format!(
            "{flag}: cannot read {} ({e}); write it with bench-runner/scripts/gate-injection.py or gate-pairs.sh",
            path.display()
        ))
    })?;
    let rel = project.rel(dir);
    Ok(format!(
        "{}

Every comparison: [`{rel}/gate.json`]({rel}/gate.json).",
        text.trim_end()
    ))
}

/// Reproducibility: a folder written by `reproduce A B --out DIR` (its reproducibility.json): per figure,
/// how many of run B's estimates fell inside run A's intervals and the other way round.
pub fn reproducibility_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("reproducibility.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(format!(
            "--reproducibility: cannot read {} ({e}); write it with `bench-runner reproduce A B --out DIR`",
            path.display()
        ))
    })?;
    let c: crate::compare::reproduce::Coverage = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "--reproducibility: {} is not a reproducibility.json ({e})",
            path.display()
        ))
    })?;
    let rel = project.rel(dir);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Two independent `{}` runs of the same code, one after the other on this machine (A `{}`, started {}; B `{}`, started {}; {} Envoy processes each), checked with `bench-runner reproduce A B`. Raw data: [`{rel}/reproducibility.json`]({rel}/reproducibility.json).\n",
        c.profile, c.a, c.a_started_at, c.b, c.b_started_at, c.processes
    );
    s.push_str(&crate::compare::reproduce::markdown(&c));
    Ok(s)
}

/// Memory and start-up per implementation: the `memory` and `cold_start` sections of a run folder
/// (from `run` or `footprint`).
pub fn footprint_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    if !dir.join("results.json").is_file() {
        return Err(usage(format!(
            "--footprint: {} holds no results.json; give a run folder from `run` or `footprint`",
            dir.display()
        )));
    }
    let r = Results::read(dir).map_err(|e| usage(format!("--footprint: {e:#}")))?;
    if r.memory.is_none() || r.cold_start.is_none() {
        return Err(usage(format!(
            "--footprint: {} has no memory and cold_start sections; measure them with `bench-runner footprint --out DIR`",
            dir.display()
        )));
    }
    let rel = project.rel(dir);
    Ok(format!(
        "Run `{rel}`, started {}: {} ({} cores), Envoy {}. Charts: [`chart-memory`]({rel}/chart-memory.svg), [`chart-startup`]({rel}/chart-startup.svg); raw data: [`{rel}/results.json`]({rel}/results.json).\n\n{}",
        r.started_at,
        r.host.cpu_model,
        r.host.cores,
        r.envoy.version,
        crate::report::footprint::tables(&r)
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
    pub gate: Option<&'a Path>,
    pub gate_pairs: Option<&'a Path>,
    pub fresh: Option<&'a Path>,
    pub reproducibility: Option<&'a Path>,
    pub footprint: Option<&'a Path>,
    pub curves: Option<&'a Path>,
    pub ab_benchmarks: Option<&'a Path>,
    pub ab_envoy: Option<&'a Path>,
    pub instructions: Option<&'a Path>,
    pub calls: Option<&'a Path>,
    pub instructions_inproc: Option<&'a Path>,
    pub header_work: Option<&'a Path>,
}

/// The host calls per request of each Wasm module (`bench-runner calls --out DIR`).
pub fn calls_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let f = crate::results::calls::CallsFile::read(&dir.join("calls.json"))?;
    let mut s = format!(
        "From `{}` (`bench-runner calls`, {}; in-process on {}: the calls are the modules', the same on any engine and machine). Modules:",
        project.rel(&dir.join("calls.json")),
        f.generated_at,
        f.host_engine
    );
    for m in &f.modules {
        s.push_str(&format!(
            " `{}` {} bytes (sha256 `{}`);",
            m.implementation,
            m.bytes,
            &m.sha256[..12.min(m.sha256.len())]
        ));
    }
    s.pop();
    s.push_str(".\n");
    s.push_str(&crate::report::calls::markdown(&f));
    Ok(s)
}

/// Instructions per request in-process: the breakdown of a `micro --instructions` folder, with a
/// link to the Envoy per-object breakdown beside it (`envoy/objects.md`) where there is one.
pub fn instructions_inproc_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let bad = |why: &str| {
        usage(format!(
            "--instructions-inproc: {} {why}; give a folder from `bench-runner micro --instructions --out DIR`",
            dir.display()
        ))
    };
    if !dir.join("results.json").is_file() {
        return Err(bad("holds no results.json"));
    }
    let r = Results::read(dir).map_err(|e| usage(format!("--instructions-inproc: {e:#}")))?;
    let Some(i) = r.micro.as_ref().and_then(|m| m.instructions.as_ref()) else {
        return Err(bad("has no instruction counts (micro.instructions)"));
    };
    let rel = project.rel(dir);
    let mut engines: Vec<&str> = Vec::new();
    for e in &i.entries {
        if !engines.contains(&e.engine.as_str()) {
            engines.push(&e.engine);
        }
    }
    let charts: Vec<String> = engines
        .iter()
        .map(|e| {
            let stem = crate::report::breakdown::chart_stem(e);
            format!("[`{stem}`]({rel}/{stem}.svg)")
        })
        .collect();
    let envoy = if dir.join("envoy/objects.md").is_file() {
        format!(" Through Envoy, by object: [`{rel}/envoy/objects.md`]({rel}/envoy/objects.md).")
    } else {
        String::new()
    };
    Ok(format!(
        "Measurement `{rel}`, started {}: {} ({} cores), {}, {} windows of {} requests after {} warm-up requests per bar. Charts, one per engine: {}; report: [`{rel}/report.md`]({rel}/report.md) (host calls, the guest's most expensive functions); raw data: [`{rel}/results.json`]({rel}/results.json).{envoy}\n{}",
        r.started_at,
        r.host.cpu_model,
        r.host.cores,
        i.settings.valgrind,
        i.settings.windows,
        i.settings.requests_per_window,
        i.settings.warmup_requests,
        charts.join(", "),
        crate::report::breakdown::summary_table(i)
    ))
}

/// Cost as the work grows: the slopes and intercepts of a `curves` folder (its curves.json, points
/// and fits recomputed from the saved rounds).
pub fn curves_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("curves.json");
    if !path.is_file() {
        return Err(usage(format!(
            "--curves: {} holds no curves.json; give a folder from `bench-runner curves --out DIR`",
            dir.display()
        )));
    }
    let mut run = crate::results::curves::CurvesRun::load(&path)
        .map_err(|e| usage(format!("--curves: {e:#}")))?;
    crate::results::curves::derive(&mut run);
    let rel = project.rel(dir);
    Ok(format!(
        "Run `{rel}`, started {} ({}): {} ({} cores), Envoy {}, Wasm on {}, profile `{}` ({} Envoy processes per group). Charts: [`curves-headers`]({rel}/curves-headers.svg), [`curves-body`]({rel}/curves-body.svg); report: [`{rel}/report.md`]({rel}/report.md); raw data: [`{rel}/curves.json`]({rel}/curves.json).\n\n{}",
        run.started_at,
        run.status,
        run.host.cpu_model,
        run.host.cores,
        run.envoy.version,
        run.wasm_runtime,
        run.profile.name,
        run.profile.processes,
        crate::report::growth::readme_table(&run)
    ))
}

/// The instruction counts of a run folder (`instructions --out DIR`, or a run with counts).
pub fn instructions_region(project: &Project, dir: &Path) -> anyhow::Result<String> {
    let r = Results::read(dir)?;
    let Some(i) = &r.instructions else {
        return Err(usage(format!(
            "--instructions {}: the run has no instruction counts; give a folder from `bench-runner instructions --out DIR`",
            dir.display()
        )));
    };
    let rel = project.rel(&dir.canonicalize().unwrap_or(dir.to_path_buf()));
    let mut s = format!(
        "Run `{rel}` (`bench-runner instructions`), started {}: {} ({} cores), Envoy {}. {}\n\n",
        r.started_at,
        r.host.cpu_model,
        r.host.cores,
        r.envoy.version,
        crate::report::instructions::method(i)
    );
    s.push_str(&crate::report::instructions::table(&r, i));
    let _ = writeln!(
        s,
        "\n{}\n\nReport: [`{rel}/report.md`]({rel}/report.md); raw data (every window's counts): [`{rel}/results.json`]({rel}/results.json).",
        crate::results::instructions::LEAVES_OUT
    );
    Ok(s)
}

pub fn command(project: &Project, run: &Path, readme: &Path, extra: &Extra) -> anyhow::Result<u8> {
    let r = Results::read(run)?;
    let run_dir = if run.is_dir() {
        run.to_path_buf()
    } else {
        run.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let run_dir = run_dir.canonicalize().unwrap_or(run_dir);
    let mut pages = pages::Pages::read(readme).map_err(usage)?;
    for (name, body) in [
        ("implementations", implementations(project, &r)?),
        ("results", results_region(project, &run_dir, &r)),
    ] {
        pages.replace(name, &body).map_err(usage)?;
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
        (
            "gate",
            extra.gate.map(|d| gate_region(project, d, "--gate")),
        ),
        (
            "gate-pairs",
            extra
                .gate_pairs
                .map(|d| gate_region(project, d, "--gate-pairs")),
        ),
        ("fresh", extra.fresh.map(|d| fresh_region(project, d))),
        (
            "reproducibility",
            extra
                .reproducibility
                .map(|d| reproducibility_region(project, d)),
        ),
        (
            "footprint",
            extra.footprint.map(|d| footprint_region(project, d)),
        ),
        ("curves", extra.curves.map(|d| curves_region(project, d))),
        (
            "ab-benchmarks",
            extra
                .ab_benchmarks
                .map(|d| ab::benchmarks_region(project, d)),
        ),
        (
            "ab-envoy",
            extra.ab_envoy.map(|d| ab::envoy_region(project, d)),
        ),
        (
            "instructions",
            extra.instructions.map(|d| instructions_region(project, d)),
        ),
        ("calls", extra.calls.map(|d| calls_region(project, d))),
        (
            "instructions-inproc",
            extra
                .instructions_inproc
                .map(|d| instructions_inproc_region(project, d)),
        ),
        (
            "header-work",
            extra.header_work.map(|f| header_work::region(project, f)),
        ),
    ];
    for (name, body) in optional {
        if let Some(body) = body {
            pages.replace(name, &body?).map_err(usage)?;
        }
    }
    // The headline is the run's answer: rewritten wherever a page holds it.
    if pages.has("headline") {
        let body = headline::region(project, &run_dir, &r, extra.instructions)?;
        pages.replace("headline", &body).map_err(usage)?;
    }
    let written = pages.write()?;
    eprintln!(
        "updated {} from {}",
        if written.is_empty() {
            "nothing (every region already up to date)".to_string()
        } else {
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
        run_dir.display()
    );
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
