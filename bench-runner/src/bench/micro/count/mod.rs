//! `micro --instructions`: every Wasm module on every engine in a process of its own under
//! valgrind's callgrind (the hidden `micro-probe` command), a fixed number of warm requests per
//! window between client requests, and the profiles read back: instructions per request and where
//! they go ([`super::attribute`]). Counts do not depend on the machine's load.

use super::attribute::{attribute, Attribution, Classifier, CodeMap, PartKey};
use super::probe::{window_label, ProbePlan, ProbeReport, ProbeWorkload};
use crate::callgrind::{self, dump};
use crate::error::usage;
use crate::plugins::Built;
use crate::results::breakdown::{
    GuestFunction, InstructionEntry, InstructionSection, InstructionSettings, Part, GROUPS,
};
use crate::results::Skipped;
use plugin_host::workload;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod front;
pub use front::*;

/// The workloads that can be counted.
pub const COUNT_WORKLOADS: [&str; 3] = ["mock", "headers", "body"];

/// Callers kept per function context: enough for every context seen so far to reach a deciding
/// frame (the deepest, the C allocator under a header-map change under a host call, needs 8).
pub const CONTEXT_DEPTH: usize = 12;

/// One probe (a module on an engine, every workload) may take this long; Go's multi-megabyte modules
/// compile under valgrind in about a minute.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The guest functions listed per entry.
const TOP_GUEST_FUNCTIONS: usize = 10;

/// The settings of a count: `workloads` checked against [`COUNT_WORKLOADS`] by the caller.
pub fn settings(
    workloads: Vec<String>,
    requests_per_window: u64,
    windows: usize,
    warmup_requests: u64,
    spin: u64,
    body_bytes: usize,
    valgrind: &str,
) -> InstructionSettings {
    InstructionSettings {
        workloads,
        warmup_requests,
        requests_per_window,
        windows,
        spin,
        body_bytes,
        valgrind: valgrind.to_string(),
        valgrind_options: valgrind_options(),
        context_depth: CONTEXT_DEPTH,
    }
}

fn valgrind_options() -> Vec<String> {
    vec![
        "--tool=callgrind".into(),
        "--instr-atstart=no".into(),
        format!("--separate-callers={CONTEXT_DEPTH}"),
    ]
}

/// The plugin configuration, request and expected answer of a workload.
pub fn probe_workload(name: &str, spin: u64, body_bytes: usize) -> anyhow::Result<ProbeWorkload> {
    let content = workload::MOCK_CONTENT;
    let (config, body_bytes, expect_reply) = match name {
        "mock" | "headers" => (
            workload::config_for(name).unwrap_or_default(),
            0,
            (name == "mock").then(|| content.to_string()),
        ),
        "body" => {
            let body = crate::load::http1::pattern_body(body_bytes);
            (
                serde_json::json!({ "mode": "body", "content": content }).to_string(),
                body_bytes,
                Some(crate::plugins::config::body_reply(content, &body)),
            )
        }
        other => {
            return Err(usage(format!(
                "--workloads: `{other}` cannot be counted; choose from {}",
                COUNT_WORKLOADS.join(", ")
            )))
        }
    };
    let mut v: serde_json::Value = serde_json::from_str(&config)?;
    if spin > 0 {
        v["spin"] = serde_json::json!(spin);
    }
    Ok(ProbeWorkload {
        name: name.to_string(),
        config: v.to_string(),
        body_bytes,
        expect_reply,
    })
}

/// The scratch folder of a count: this prefix and the runner's pid, in the temporary folder.
const SCRATCH_PREFIX: &str = "bench-runner-callgrind-";

/// Removes the scratch folders of runners that are gone (a SIGKILLed runner leaves its own).
fn remove_stale_scratch() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(SCRATCH_PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A scratch folder for the profiles, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The runner's own executable, which runs as the probe.
pub fn own_exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe()
        .map_err(|e| usage(format!("cannot find the runner's own executable ({e})")))
}

/// Counts every built Wasm module on every engine of `engines`, each in `exe micro-probe` (this
/// runner: [`own_exe`]) under `valgrind`.
pub fn count(
    built: &[Built],
    engines: &[String],
    s: &InstructionSettings,
    valgrind: &Path,
    exe: &Path,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<InstructionSection> {
    remove_stale_scratch();
    let scratch =
        Scratch(std::env::temp_dir().join(format!("{SCRATCH_PREFIX}{}", std::process::id())));
    let workloads = s
        .workloads
        .iter()
        .map(|w| probe_workload(w, s.spin, s.body_bytes))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut section = InstructionSection {
        settings: s.clone(),
        entries: vec![],
        skipped: vec![],
    };
    for b in built.iter().filter(|b| b.is_wasm()) {
        for engine in engines {
            crate::sys::check_interrupted()?;
            let dir = scratch.0.join(format!("{}-{engine}", b.name));
            std::fs::create_dir_all(&dir).map_err(|e| {
                usage(format!(
                    "cannot create {} ({e}); check TMPDIR",
                    dir.display()
                ))
            })?;
            let plan = ProbePlan {
                module: b.module.clone(),
                engine: engine.clone(),
                workloads: workloads.clone(),
                warmup_requests: s.warmup_requests,
                requests_per_window: s.requests_per_window,
                windows: s.windows,
                report: dir.join("report.json"),
            };
            progress(&format!("{} on {engine}: counting under callgrind", b.name));
            let t = Instant::now();
            match probe(exe, valgrind, &plan, &dir) {
                Ok(report) => {
                    progress(&format!(
                        "{} on {engine}: counted in {:.0} s",
                        b.name,
                        t.elapsed().as_secs_f64()
                    ));
                    collect(b, engine, &report, &dir, s, &mut section)?
                }
                Err(e) if crate::error::is_interrupted(&e) => return Err(e),
                Err(e) => section.skipped.push(Skipped {
                    variant: format!("{}-{engine}", b.name),
                    reason: format!("{e:#}"),
                }),
            }
        }
    }
    Ok(section)
}

/// Runs one probe under valgrind and reads its report.
fn probe(exe: &Path, valgrind: &Path, plan: &ProbePlan, dir: &Path) -> anyhow::Result<ProbeReport> {
    let plan_path = dir.join("plan.json");
    crate::sys::write_atomic(&plan_path, serde_json::to_string(plan)?.as_bytes())?;
    let stderr_path = dir.join("probe.stderr");
    let stderr = std::fs::File::create(&stderr_path)?;
    let mut cmd = Command::new(valgrind);
    cmd.args(valgrind_options())
        .arg(format!(
            "--callgrind-out-file={}",
            dir.join("callgrind.out").display()
        ))
        .arg(format!("--log-file={}", dir.join("valgrind.log").display()))
        .arg(exe)
        .arg("micro-probe")
        .arg(&plan_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let mut child = crate::sys::die_with_runner(&mut cmd)
        .spawn()
        .map_err(|e| usage(format!("cannot start {} ({e})", valgrind.display())))?;
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        let why = if crate::sys::interrupted() {
            Some(None)
        } else if start.elapsed() > PROBE_TIMEOUT {
            Some(Some(format!(
                "still running after {} s under valgrind; stopped",
                PROBE_TIMEOUT.as_secs()
            )))
        } else {
            None
        };
        if let Some(why) = why {
            let _ = child.kill();
            let _ = child.wait();
            return match why {
                None => Err(crate::error::Error::Interrupted.into()),
                Some(w) => Err(anyhow::anyhow!(w)),
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let tail = |p: &Path| crate::envoy::process::log_tail(p, 3);
    if !status.success() {
        anyhow::bail!(
            "the probe under valgrind exited with {status}: {}{}",
            tail(&stderr_path),
            tail(&dir.join("valgrind.log"))
        );
    }
    let text = std::fs::read_to_string(&plan.report)
        .map_err(|e| anyhow::anyhow!("the probe wrote no report ({e}): {}", tail(&stderr_path)))?;
    let report: ProbeReport = serde_json::from_str(&text)?;
    if report.on_valgrind == 0 {
        anyhow::bail!("the probe did not run under valgrind (RUNNING_ON_VALGRIND is 0)");
    }
    Ok(report)
}

/// Reads the dumps of one probe and adds an entry per workload that ran (a skip for the others).
fn collect(
    b: &Built,
    engine: &str,
    report: &ProbeReport,
    dir: &Path,
    s: &InstructionSettings,
    section: &mut InstructionSection,
) -> anyhow::Result<()> {
    let mut dumps: BTreeMap<String, dump::Dump> = BTreeMap::new();
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("callgrind.out.") {
            continue;
        }
        let d = dump::read(&e.path())?;
        if let Some(label) = d.client_label() {
            dumps.insert(label.to_string(), d);
        }
    }
    let classifier = Classifier::new(report.code_map.as_ref());
    for w in &report.workloads {
        let variant = format!("{}-{engine}-{}", b.name, w.name);
        if let Some(err) = &w.error {
            section.skipped.push(Skipped {
                variant,
                reason: err.clone(),
            });
            continue;
        }
        let windows: Vec<&dump::Dump> = (0..s.windows)
            .filter_map(|k| dumps.get(&window_label(&w.name, k)))
            .collect();
        if windows.len() != s.windows {
            section.skipped.push(Skipped {
                variant,
                reason: format!(
                    "callgrind wrote {} of {} windows' profiles",
                    windows.len(),
                    s.windows
                ),
            });
            continue;
        }
        let attributions: Vec<Attribution> =
            windows.iter().map(|d| attribute(d, &classifier)).collect();
        section.entries.push(entry(
            b,
            engine,
            &w.name,
            &attributions,
            report.code_map.as_ref(),
            s,
        ));
    }
    Ok(())
}

/// One entry from its windows' attributions.
pub fn entry(
    b: &Built,
    engine: &str,
    workload: &str,
    windows: &[Attribution],
    map: Option<&CodeMap>,
    s: &InstructionSettings,
) -> InstructionEntry {
    let requests = (s.requests_per_window * windows.len() as u64).max(1) as f64;
    let totals: Vec<u64> = windows.iter().map(|a| a.total).collect();
    let mean = totals.iter().sum::<u64>() as f64 / totals.len().max(1) as f64;
    let spread = match (totals.iter().max(), totals.iter().min()) {
        (Some(&hi), Some(&lo)) if mean > 0.0 => (hi - lo) as f64 / mean * 100.0,
        _ => 0.0,
    };
    let mut sums: BTreeMap<PartKey, (u64, u64)> = BTreeMap::new();
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    let mut guest: BTreeMap<usize, u64> = BTreeMap::new();
    for a in windows {
        for (k, (c, copies)) in &a.parts {
            let e = sums.entry(k.clone()).or_insert((0, 0));
            e.0 += c;
            e.1 += copies;
        }
        for (k, n) in &a.host_calls {
            *calls.entry(k.clone()).or_insert(0) += n;
        }
        for (i, c) in &a.guest_functions {
            *guest.entry(*i).or_insert(0) += c;
        }
    }
    let mut parts: Vec<Part> = sums
        .into_iter()
        .map(|(k, (c, copies))| {
            let (id, group, label) = k.describe();
            Part {
                calls_per_request: match &k {
                    PartKey::Host(name) => {
                        Some(calls.get(name).copied().unwrap_or(0) as f64 / requests)
                    }
                    _ => None,
                },
                id,
                group: group.to_string(),
                label,
                per_request: c as f64 / requests,
                copies_per_request: copies as f64 / requests,
            }
        })
        .collect();
    let rank = |g: &str| GROUPS.iter().position(|x| *x == g).unwrap_or(GROUPS.len());
    parts.sort_by(|a, b| {
        rank(&a.group)
            .cmp(&rank(&b.group))
            .then(b.per_request.total_cmp(&a.per_request))
            .then(a.id.cmp(&b.id))
    });
    let mut top: Vec<(usize, u64)> = guest.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let guest_functions = map
        .map(|m| {
            top.iter()
                .take(TOP_GUEST_FUNCTIONS)
                .map(|&(i, c)| GuestFunction {
                    name: m.display(i),
                    part: PartKey::Guest(super::attribute::guest_part(
                        m.functions[i].name.as_deref(),
                    ))
                    .describe()
                    .0,
                    per_request: c as f64 / requests,
                })
                .collect()
        })
        .unwrap_or_default();
    InstructionEntry {
        implementation: b.name.clone(),
        language: b.language.clone(),
        engine: engine.to_string(),
        workload: workload.to_string(),
        wasm_sha256: b.sha256.clone(),
        window_instructions: totals,
        per_request: mean / s.requests_per_window.max(1) as f64,
        window_spread_pct: spread,
        parts,
        guest_functions,
        functions: map.map(|m| m.functions.len()),
        named_functions: map.map(CodeMap::named),
    }
}
