//! `micro`: the plugins measured in-process on the `plugin-host` proxy-wasm host, without Envoy, on
//! every engine it has (wasmtime Cranelift, wasmtime Winch, wasmi). The same three benchmarks as
//! `cargo bench -p plugin-host`, as a fixed-iteration loop: after a warm-up that also calibrates the
//! number of operations per batch, that number is fixed and `batches` batches are timed, one batch
//! of every figure per round in a seeded shuffled order (so a shared machine's drift spreads over
//! all figures alike); a figure is the median of its batch means with a percentile-bootstrap 95%
//! interval.
//!
//! - `request` (workloads mock, headers): context create, request headers, done, log, delete;
//! - `configure` (configs small, 8k): `proxy_on_configure` on a freshly started VM;
//! - `instantiate`: instantiation plus VM start of a compiled module.

use crate::error::usage;
use crate::paths::Project;
use crate::plugins::{self, Built};
use crate::results::profile::ProfileName;
use crate::results::{self, Skipped};
use crate::stats;
use plugin_host::{workload, Engine, EngineKind, Module, Vm};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::results::micro::*;
mod measure;
pub use measure::measure;
use measure::*;
pub mod attribute;
pub mod count;
pub mod probe;

/// What `micro` does, as plain values (the command line is parsed in `commands`).
#[derive(Debug, Clone)]
pub struct MicroOptions {
    /// Comma-separated implementations (plugin folder names) to measure.
    pub only: Option<Vec<String>>,
    /// Comma-separated engines: wasmtime-cranelift, wasmtime-winch, wasmi (default: all).
    pub engines: Option<Vec<String>>,
    /// Comma-separated benchmarks: request, configure, instantiate (default: all).
    pub benchmarks: Option<Vec<String>>,
    /// Size preset: batches and batch length (quick 5 x 5 ms, default 15 x 20 ms, full 30 x 50 ms).
    pub profile: ProfileName,
    /// Override the number of timed batches per figure.
    pub batches: Option<usize>,
    /// Override the target length of one batch, in milliseconds.
    pub batch_ms: Option<f64>,
    /// Run folder to write (default: results/<timestamp>-micro/).
    pub out: Option<PathBuf>,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Rebuild plugins even when their sources did not change.
    pub rebuild: bool,
    /// Count instructions under callgrind instead of timing (`--instructions`).
    pub count: Option<CountOptions>,
}

/// `micro --instructions`: what to count.
#[derive(Debug, Clone, PartialEq)]
pub struct CountOptions {
    /// mock, headers, body (default: all three).
    pub workloads: Option<Vec<String>>,
    pub requests: u64,
    pub windows: usize,
    pub warmup_requests: u64,
    pub spin: u64,
    pub body_bytes: usize,
}

pub fn settings_from_args(a: &MicroOptions) -> anyhow::Result<MicroSettings> {
    let mut s = MicroSettings::for_profile(a.profile);
    if let Some(e) = &a.engines {
        if let Some(bad) = e.iter().find(|x| EngineKind::from_id(x).is_none()) {
            return Err(usage(format!(
                "--engines: unknown engine `{bad}`; choose from {}",
                EngineKind::ALL.map(|k| k.id()).join(", ")
            )));
        }
        s.engines = e.clone();
    }
    if let Some(b) = &a.benchmarks {
        if let Some(bad) = b.iter().find(|x| !BENCHMARKS.contains(&x.as_str())) {
            return Err(usage(format!(
                "--benchmarks: unknown benchmark `{bad}`; choose from {}",
                BENCHMARKS.join(", ")
            )));
        }
        s.benchmarks = b.clone();
    }
    if let Some(n) = a.batches {
        if n < 2 {
            return Err(usage(
                "--batches must be at least 2 (an interval needs two batches)",
            ));
        }
        s.batches = n;
    }
    if let Some(ms) = a.batch_ms {
        if !(ms.is_finite() && ms > 0.0 && ms <= 10_000.0) {
            return Err(usage(
                "--batch-ms must be a number of milliseconds in (0, 10000]",
            ));
        }
        s.batch_target_ms = ms;
    }
    s.seed = a.seed;
    Ok(s)
}

/// One figure being measured: what one operation is, and the state it needs.
enum Op {
    /// A configured VM answering `workload::request()`.
    Request(Box<Vm>),
    /// `proxy_on_configure` with this configuration on a freshly started VM (start not timed).
    Configure(String),
    /// Instantiation plus VM start.
    Instantiate,
}

struct Task {
    plugin: usize,
    engine: String,
    module: std::rc::Rc<Module>,
    benchmark: &'static str,
    workload: String,
    op: Op,
    ops_per_batch: u64,
    means: Vec<f64>,
}

impl Task {
    /// One operation; returns the time that counts (setup excluded).
    fn once(&mut self) -> anyhow::Result<Duration> {
        match &mut self.op {
            Op::Request(vm) => {
                let req = workload::request();
                let t = Instant::now();
                std::hint::black_box(vm.request(std::hint::black_box(&req))?);
                Ok(t.elapsed())
            }
            Op::Configure(config) => {
                let mut vm = started(&self.module)?;
                let t = Instant::now();
                let ok = vm.configure(config.as_bytes())?;
                let d = t.elapsed();
                if !ok {
                    anyhow::bail!("the plugin rejected the {} configuration", self.workload);
                }
                Ok(d)
            }
            Op::Instantiate => {
                let t = Instant::now();
                let vm = started(&self.module)?;
                let d = t.elapsed();
                drop(vm);
                Ok(d)
            }
        }
    }

    /// Warm-up (at least `warmup_ms`, at least 3 operations) that fixes the batch size.
    fn calibrate(&mut self, s: &MicroSettings) -> anyhow::Result<()> {
        let warmup = Duration::from_secs_f64(s.warmup_ms / 1000.0);
        let start = Instant::now();
        let mut n = 0u64;
        let mut counted = Duration::ZERO;
        while n < 3 || (start.elapsed() < warmup && n < 1_000_000) {
            counted += self.once()?;
            n += 1;
        }
        let per_op = counted.as_secs_f64() / n as f64;
        self.ops_per_batch = ((s.batch_target_ms / 1000.0) / per_op.max(1e-9))
            .round()
            .clamp(1.0, 10_000_000.0) as u64;
        Ok(())
    }

    /// One timed batch: its mean µs per operation is recorded.
    fn batch(&mut self) -> anyhow::Result<()> {
        let mut total = Duration::ZERO;
        for _ in 0..self.ops_per_batch {
            total += self.once()?;
        }
        self.means
            .push(total.as_secs_f64() * 1e6 / self.ops_per_batch as f64);
        Ok(())
    }
}

/// The Wasm modules among a run's implementations: the in-process host loads nothing else.
fn wasm_only(built: &[Built]) -> Vec<Built> {
    built.iter().filter(|b| b.is_wasm()).cloned().collect()
}

/// The plan of the `run` path's in-process part, for the time estimate: every (module, engine) pair is
/// compiled, and each gets one figure per workload (`request`), per configuration size (`configure`)
/// and one `instantiate`.
pub fn plan(
    built: &[Built],
    profile: ProfileName,
    workloads: &[String],
) -> crate::bench::estimate::MicroPlan {
    let built = wasm_only(built);
    let s = MicroSettings::for_profile(profile);
    let per_pair = workloads.len() + s.config_bytes.len() + 1;
    let engines = s.engines.len();
    crate::bench::estimate::MicroPlan {
        figures: built.len() * engines * per_pair,
        batches: s.batches,
        batch_ms: s.batch_target_ms,
        warmup_ms: s.warmup_ms,
        compiled_bytes: built.iter().map(|b| b.bytes).sum::<u64>() * engines as u64,
        count_probes: 0,
        count_jit_bytes: 0,
    }
}

/// The `run` path after Envoy: measure what was built with the run profile's sizes and workloads.
/// A failure does not fail the run: it becomes a note.
pub fn for_run(
    built: &[Built],
    profile: ProfileName,
    workloads: &[String],
    seed: u64,
    notes: &mut Vec<String>,
) -> Option<MicroSection> {
    let built = &wasm_only(built)[..];
    let mut s = MicroSettings::for_profile(profile);
    s.seed = seed;
    s.workloads = workloads.to_vec();
    eprintln!(
        "in-process micro-benchmarks (plugin-host, no Envoy): {} module(s) x {} engine(s), {} batches of ~{} ms",
        built.len(),
        s.engines.len(),
        s.batches,
        s.batch_target_ms
    );
    match measure(built, &s, |_| {}) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("in-process micro-benchmarks failed: {e:#}");
            notes.push(format!(
                "The in-process micro-benchmarks did not complete: {e:#}"
            ));
            None
        }
    }
}

/// Whether `run` may fall back to in-process measurements when Envoy cannot be located: only when
/// the user did not name an Envoy (`--envoy`: `envoy_flag`, or `$ENVOY_BIN`) and did not interrupt.
pub fn may_run_without_envoy(envoy_flag: bool, e: &anyhow::Error) -> bool {
    !envoy_flag && std::env::var_os("ENVOY_BIN").is_none() && !crate::error::is_interrupted(e)
}

/// `run` when no Envoy can be found or installed: the in-process measurements only, in the planned
/// run folder, saying clearly that (and why) the Envoy path was skipped.
pub fn run_without_envoy(
    project: &Project,
    profile_name: ProfileName,
    rebuild: bool,
    profile: &results::Profile,
    out: &std::path::Path,
    started_at: String,
    why: &anyhow::Error,
) -> anyhow::Result<PathBuf> {
    let why = format!("{why:#}");
    eprintln!("Envoy path SKIPPED: no Envoy could be found or installed: {why}");
    eprintln!(
        "  measuring the plugins in-process only (plugin-host on wasmtime Cranelift, wasmtime Winch, wasmi); for the Envoy figures install Envoy (`bench-runner doctor` says how) or pass --envoy PATH"
    );
    plugins::check_only(project, profile.only.as_deref(), true)?;
    let (built, missing) = plugins::build_all(project, profile.only.as_deref(), rebuild)?;
    let mut skipped: Vec<Skipped> = missing.iter().map(Skipped::unavailable).collect();
    skipped.push(Skipped {
        variant: "baseline, lua-*, *-v8-* (every Envoy variant)".into(),
        reason: format!("no Envoy could be found or installed: {why}"),
    });
    let mut notes = vec![format!(
        "The Envoy path was skipped (no Envoy could be found or installed: {why}); only the in-process micro-benchmarks ran."
    )];
    let section = for_run(
        &built,
        profile_name,
        &profile.workloads,
        profile.seed,
        &mut notes,
    )
    .ok_or_else(|| usage("the in-process micro-benchmarks failed too (see above)"))?;
    let results = standalone_results(
        started_at,
        profile.clone(),
        section,
        skipped,
        &format!("not found: {why}"),
        notes,
    )?;
    std::fs::create_dir_all(out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let json_path = out.join("results.json");
    results.write(&json_path)?;
    crate::report::write_all(&results, out)?;
    crate::paths::update_latest(project, out);
    if let Some(m) = &results.micro {
        print!("{}", crate::report::micro::request_table(m, &results));
    }
    eprintln!(
        "wrote {} (in-process figures only: the Envoy path was skipped, see above)",
        json_path.display()
    );
    Ok(out.to_path_buf())
}

/// `bench-runner micro`.
pub fn command(project: &Project, a: &MicroOptions) -> anyhow::Result<u8> {
    if let Some(c) = &a.count {
        return count::command(project, a, c);
    }
    let s = settings_from_args(a)?;
    let started_at = crate::sys::now_rfc3339();
    let out = match &a.out {
        Some(o) => o.clone(),
        None => project.results_dir().join(format!(
            "{}-micro",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )),
    };
    crate::sys::check_out_dir("--out", &out, &["results.json"])?;
    plugins::check_only(project, a.only.as_deref(), false)?;
    let (built, missing) = plugins::build_all(project, a.only.as_deref(), a.rebuild)?;
    let skipped: Vec<Skipped> = missing
        .iter()
        .map(|m| {
            eprintln!("skipping {}: {}", m.name, m.reason);
            Skipped::unavailable(m)
        })
        .collect();
    if built.is_empty() {
        return Err(usage(
            "no plugin could be built (see above); `bench-runner doctor` lists the fixes",
        ));
    }
    let section = measure(&built, &s, |what| eprintln!("micro: {what}"))?;
    let mut profile = crate::results::profile::profile(a.profile);
    profile.only = a.only.clone();
    profile.seed = a.seed;
    let results = standalone_results(
        started_at,
        profile,
        section,
        skipped,
        "not used: `micro` measures in-process",
        vec!["`bench-runner micro` measures the plugins in-process only; `bench-runner run` measures them through Envoy and includes these figures too.".into()],
    )?;
    std::fs::create_dir_all(&out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let json_path = out.join("results.json");
    results.write(&json_path)?;
    crate::report::write_all(&results, &out)?;
    if let Some(m) = &results.micro {
        print!("{}", crate::report::micro::request_table(m, &results));
    }
    eprintln!(
        "wrote {} and {}",
        json_path.display(),
        out.join("report.md").display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers the mock workload (config starting `{"c`) with a local reply and lets the headers
    /// workload (`{"m`) continue; accepts every configuration.
    const GOOD: &str = r#"
(module
  (import "env" "proxy_get_buffer_bytes" (func $getbuf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0x400) "hello higress")
  (global $heap (mut i32) (i32.const 0x1000))
  (global $mock (mut i32) (i32.const 0))
  (func (export "proxy_on_memory_allocate") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (global.set $heap (i32.const 0x1000))
    (drop (call $getbuf (i32.const 7) (i32.const 2) (i32.const 1) (i32.const 0x300) (i32.const 0x304)))
    (global.set $mock (i32.eq (i32.load8_u (i32.load (i32.const 0x300))) (i32.const 0x63)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (global.get $mock)) (then (return (i32.const 0))))
    (drop (call $reply (i32.const 200) (i32.const 0) (i32.const 0) (i32.const 0x400) (i32.const 13)
      (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 1))
)"#;

    /// Refuses to start.
    const BAD: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) unreachable)
)"#;

    fn built(dir: &std::path::Path, name: &str, wat_src: &str) -> Built {
        let bytes = wat::parse_str(wat_src).unwrap();
        let module = dir.join(format!("{name}.wasm"));
        std::fs::write(&module, &bytes).unwrap();
        Built {
            name: name.into(),
            language: name.into(),
            description: String::new(),
            kind: plugins::WASM_KIND.into(),
            module,
            sha256: plugins::sha256_hex(&bytes),
            bytes: bytes.len() as u64,
            rebuilt: false,
            note: None,
            workload_notes: Default::default(),
        }
    }

    #[test]
    fn every_engine_and_benchmark_is_measured_and_what_cannot_run_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mods = [
            built(dir.path(), "good", GOOD),
            built(dir.path(), "bad", BAD),
        ];
        let mut s = MicroSettings::for_profile(ProfileName::Quick);
        s.batches = 3;
        s.batch_target_ms = 0.2;
        s.warmup_ms = 1.0;
        let mut seen = Vec::new();
        let m = measure(&mods, &s, |w| seen.push(w.to_string())).unwrap();
        assert_eq!(m.engines.len(), 3);
        assert_eq!(m.modules.len(), 6);
        // good: 2 request workloads + 2 configurations + instantiation, on each engine
        assert_eq!(m.entries.len(), 15, "{:?}", m.skipped);
        for e in &m.entries {
            assert_eq!(e.implementation, "good");
            assert_eq!(e.batch_us_per_op.len(), 3);
            assert!(e.ops_per_batch >= 1);
            let u = e.us_per_op;
            assert!(
                u.ci95_low <= u.estimate && u.estimate <= u.ci95_high,
                "{e:?}"
            );
        }
        for k in EngineKind::ALL {
            assert!(m.find("good", k.id(), "request", "headers").is_some());
            assert!(m.find("good", k.id(), "configure", "8k").is_some());
            assert!(m.find("good", k.id(), "instantiate", "-").is_some());
        }
        let bad: Vec<&MicroModule> = m
            .modules
            .iter()
            .filter(|x| x.implementation == "bad")
            .collect();
        assert_eq!(bad.len(), 3);
        assert!(bad.iter().all(|x| x
            .error
            .as_deref()
            .is_some_and(|e| e.contains("unreachable"))));
        assert_eq!(m.skipped.len(), 3);
        assert!(m.skipped.iter().all(|k| k.variant.starts_with("bad-")));
        assert!(seen
            .iter()
            .any(|w| w == "good on wasmi: warm-up request mock"));
        // The section round-trips through results.json.
        let r = standalone_results(
            "2026-01-01T00:00:00Z".into(),
            crate::results::profile::profile(ProfileName::Quick),
            m,
            vec![],
            "not used",
            vec![],
        )
        .unwrap();
        let text = serde_json::to_string(&r).unwrap();
        let back: results::Results = serde_json::from_str(&text).unwrap();
        assert_eq!(back.micro.unwrap().entries.len(), 15);
    }
}
