//! `lifecycle`: how a plugin gets into a running Envoy and is replaced there, measured per
//! implementation against a real Envoy and the runner's own servers on 127.0.0.1.
//!
//! - **Remote load** (Wasm): `vm_config.code.remote` pointing at the runner's module server (with
//!   `sha256` and a retry policy). Several fresh Envoys give the time from spawn to the first plugin
//!   reply; then three failure cases (a wrong sha256, the server down at start and up later, a
//!   truncated module) are watched: what clients get, `/ready`, Envoy's log lines, the remote stats.
//! - **Swaps under load**: an open loop of requests at a fixed rate (one fresh connection each) plus a
//!   few keep-alive clients, while the plugin is replaced N times: its configuration through ECDS
//!   (`ecds-config`), its module through ECDS (`ecds-module`, two builds differing only in a custom
//!   section), and the whole listener through LDS (`lds`). Both discovery sources are files in a
//!   watched folder, replaced atomically by rename. Per swap: failed requests, time until every
//!   response carries the new body, latency inside the swap window, Envoy's counters and its RSS.
//!
//! Lua runs the swaps too (its script through ECDS and LDS; no module, no remote code). Plugins of
//! your own run the swaps with their own requests and stated answer ([`own`]).

mod analyse;
mod own;
mod remote;
mod swap;
mod traffic;

use crate::bench::estimate::envoy_start_s;
use crate::bench::failure::{ImplKind, Implementation};
use crate::bench::progress::{Progress, Step};
use crate::envoy::bootstrap::lifecycle::LifecycleTemplates;
use crate::envoy::process::StartOptions;
use crate::envoy::{locate, Envoy, EnvoyBin};
use crate::error::{usage, Error};
use crate::paths::Project;
use crate::plugins::{self, Built};
pub use crate::results::lifecycle::*;
use crate::results::Skipped;
use crate::upstream::{Upstream, UPSTREAM_BODY};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every setting of a lifecycle run.
#[derive(Debug, Clone)]
pub struct LifecyclePlan {
    pub swaps: usize,
    pub rate_per_s: f64,
    pub interval: Duration,
    pub window: Duration,
    pub timeout: Duration,
    pub keepalive_clients: usize,
    pub keepalive_period: Duration,
    pub drain_time_s: u32,
    pub remote_repetitions: usize,
    pub remote_observe: Duration,
    pub remote_late: Duration,
    pub remote_num_retries: u32,
    /// Swap runs to do (ecds-config, ecds-module, lds); remote load on or off.
    pub modes: Vec<String>,
    pub remote: bool,
}

/// The swap modes, in order.
pub const MODES: [&str; 3] = ["ecds-config", "ecds-module", "lds"];
/// Most swaps per run accepted.
pub const MAX_SWAPS: usize = 10_000;

impl Default for LifecyclePlan {
    fn default() -> Self {
        LifecyclePlan {
            swaps: 100,
            rate_per_s: 100.0,
            interval: Duration::from_millis(1000),
            window: Duration::from_millis(250),
            timeout: Duration::from_secs(2),
            keepalive_clients: 4,
            keepalive_period: Duration::from_millis(50),
            drain_time_s: 2,
            remote_repetitions: 3,
            remote_observe: Duration::from_secs(6),
            remote_late: Duration::from_secs(2),
            remote_num_retries: 10,
            modes: MODES.map(String::from).to_vec(),
            remote: true,
        }
    }
}

impl LifecyclePlan {
    pub fn validate(&self) -> Result<(), String> {
        if self.swaps == 0 || self.swaps > MAX_SWAPS {
            return Err(format!("--swaps must be from 1 to {MAX_SWAPS}"));
        }
        if !(self.rate_per_s.is_finite() && self.rate_per_s >= 1.0 && self.rate_per_s <= 2000.0) {
            return Err("--rate must be from 1 to 2000 requests/s".into());
        }
        if self.interval < Duration::from_millis(100) || self.interval > Duration::from_secs(60) {
            return Err("--interval must be from 100ms to 60s".into());
        }
        if self.window.is_zero() || self.window > self.interval {
            return Err("--window must be more than 0 and at most --interval".into());
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(30) {
            return Err("--timeout must be between 0 and 30 s".into());
        }
        let requests = self.rate_per_s * self.interval.as_secs_f64() * self.swaps as f64;
        if requests > 2_000_000.0 {
            return Err(
                "--rate x --interval x --swaps gives more than 2000000 requests per swap run; lower one of them"
                    .into(),
            );
        }
        Ok(())
    }

    fn settings(&self) -> LifecycleSettings {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        LifecycleSettings {
            swaps: self.swaps,
            rate_per_s: self.rate_per_s,
            swap_interval_ms: ms(self.interval),
            swap_window_ms: ms(self.window),
            timeout_ms: ms(self.timeout),
            keepalive_clients: self.keepalive_clients,
            keepalive_period_ms: ms(self.keepalive_period),
            drain_time_s: self.drain_time_s as f64,
            drain_strategy: "gradual".into(),
            remote_repetitions: self.remote_repetitions,
            remote_observe_ms: ms(self.remote_observe),
            remote_late_ms: ms(self.remote_late),
            remote_num_retries: self.remote_num_retries,
        }
    }
}

/// Where the run happens: files go to `<dir>/lifecycle/`.
pub struct Context<'a> {
    pub project: &'a Project,
    pub envoy: &'a EnvoyBin,
    pub dir: &'a Path,
    pub templates: LifecycleTemplates,
    pub upstream: &'a Upstream,
    /// The upstream plugins of your own were probed against (answering `passthrough`, as in `run`).
    pub own_upstream: Option<&'a Upstream>,
}

impl Context<'_> {
    /// The upstream an implementation's routes forward to.
    fn upstream_for(&self, imp: &Implementation) -> &Upstream {
        match (&imp.kind, self.own_upstream) {
            (ImplKind::Own { .. }, Some(u)) => u,
            _ => self.upstream,
        }
    }

    fn files(&self) -> PathBuf {
        self.dir.join("lifecycle")
    }

    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(self.dir).unwrap_or(p).display().to_string()
    }

    /// Starts Envoy on `config` without waiting (log next to it), with extra arguments.
    fn spawn(&self, config: &Path, admin_port: u16, extra: &[&str]) -> anyhow::Result<Envoy> {
        let log = config.with_extension("log");
        Envoy::spawn_with_args(&self.options(config, &log, admin_port), extra)
    }

    fn options<'b>(&'b self, config: &'b Path, log: &'b Path, admin: u16) -> StartOptions<'b> {
        StartOptions {
            binary: &self.envoy.path,
            config,
            log,
            admin_port: admin,
            cpu: None,
            ready_timeout: Duration::from_secs(60),
            log_level: "info",
            concurrency: 1,
        }
    }
}

/// What `lifecycle` does (the flags are parsed in `commands::lifecycle`).
#[derive(Debug, Clone)]
pub struct LifecycleOptions {
    pub plan: LifecyclePlan,
    pub only: Option<Vec<String>>,
    pub out: Option<PathBuf>,
    pub envoy: Option<PathBuf>,
    /// Plugins of your own (`--plugin`, ...), their stated requests and answer.
    pub own: Option<crate::bench::own::OwnPlan>,
}

/// The steps of a lifecycle run, each with its estimated time: per implementation its remote load
/// (Wasm: the repetitions to the first reply, then three cases watched for `remote_observe`, one
/// after `remote_late`) and each swap run that applies (the start, a second of warm-up, the swaps
/// at `interval`, the stop).
pub fn steps(plan: &LifecyclePlan, imps: &[Implementation]) -> Vec<Step> {
    let mut out = Vec::new();
    for imp in imps {
        let wasm = imp.runs_wasm();
        let start = envoy_start_s(imp.wasm_bytes());
        if matches!(imp.kind, ImplKind::Wasm { .. }) && plan.remote {
            let observe = plan.remote_observe.as_secs_f64();
            out.push(Step::new(
                remote_step(imp),
                plan.remote_repetitions.max(1) as f64 * (start + 0.5)
                    + 3.0 * (observe + 0.5)
                    + plan.remote_late.as_secs_f64(),
            ));
        }
        for mode in plan.modes.iter().filter(|m| wasm || *m != "ecds-module") {
            out.push(Step::new(
                swap_step(imp, mode),
                start + 2.0 + plan.swaps as f64 * plan.interval.as_secs_f64(),
            ));
        }
    }
    out
}

fn remote_step(imp: &Implementation) -> String {
    format!("{} remote module load", imp.name)
}

fn swap_step(imp: &Implementation, mode: &str) -> String {
    format!("{} {mode}", imp.name)
}

/// One implementation: remote load (Wasm), then each swap mode that applies.
fn run_one(
    ctx: &Context,
    plan: &LifecyclePlan,
    imp: &Implementation,
    skipped: &mut Vec<Skipped>,
    progress: &Progress,
) -> anyhow::Result<ImplLifecycle> {
    let wasm = imp.runs_wasm();
    let mut out = ImplLifecycle {
        implementation: imp.name.clone(),
        language: imp.language.clone(),
        kind: if wasm { "wasm" } else { "lua" }.into(),
        remote: None,
        swaps: vec![],
    };
    if imp.is_own() && wasm && plan.remote {
        skipped.push(own::remote_skipped(imp));
    } else if wasm && plan.remote {
        progress.step(&remote_step(imp));
        match remote::remote_load(ctx, plan, imp, progress) {
            Ok(r) => out.remote = Some(r),
            Err(e) if crate::error::is_interrupted(&e) => return Err(e),
            Err(e) => skipped.push(Skipped {
                variant: format!("{}-remote", imp.name),
                reason: format!("{e:#}"),
            }),
        }
    }
    for mode in &plan.modes {
        if mode == "ecds-module" && !wasm {
            continue;
        }
        crate::sys::check_interrupted()?;
        progress.step(&swap_step(imp, mode));
        match swap::swap_run(ctx, plan, imp, mode, progress) {
            Ok(r) => out.swaps.push(r),
            Err(e) if crate::error::is_interrupted(&e) => return Err(e),
            Err(e) => {
                eprintln!("lifecycle: {} {mode} not run: {e:#}", imp.name);
                skipped.push(Skipped {
                    variant: format!("{}-{mode}", imp.name),
                    reason: format!("{e:#}"),
                })
            }
        }
    }
    Ok(out)
}

/// Runs every implementation; on Ctrl-C the section so far is returned with status "interrupted".
pub fn run_all(
    ctx: &Context,
    plan: &LifecyclePlan,
    imps: &[Implementation],
    runtime: &str,
) -> anyhow::Result<LifecycleSection> {
    let mut section = LifecycleSection {
        started_at: crate::sys::now_rfc3339(),
        finished_at: None,
        status: "running".into(),
        envoy_version: ctx.envoy.version.clone(),
        envoy_path: ctx.envoy.path.display().to_string(),
        runtime: runtime.into(),
        settings: plan.settings(),
        implementations: vec![],
        skipped: vec![],
        notes: notes(plan),
        own: None,
    };
    let modes: Vec<&str> = plan.modes.iter().map(String::as_str).collect();
    let progress = Progress::announce(
        "lifecycle",
        &format!(
            "{} implementation(s) x ({}{}), {} swaps each, one every {}",
            imps.len(),
            if plan.remote { "remote load, " } else { "" },
            modes.join(", "),
            plan.swaps,
            crate::results::human_s(plan.interval.as_secs_f64())
        ),
        steps(plan, imps),
    );
    let mut outcome = Ok(());
    for imp in imps {
        match run_one(ctx, plan, imp, &mut section.skipped, &progress) {
            Ok(r) => section.implementations.push(r),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    progress.finish();
    section.finished_at = Some(crate::sys::now_rfc3339());
    section.status = crate::error::status_of(&outcome).into();
    match outcome {
        Err(e) if !crate::error::is_interrupted(&e) => Err(e),
        _ => Ok(section),
    }
}

fn notes(plan: &LifecyclePlan) -> Vec<String> {
    vec![
        "Envoy runs with --concurrency 1 on a machine that may be busy: failure counts and switch times are the findings; latencies are indicative.".into(),
        format!("Swap runs start Envoy with --drain-time-s {} (the default drain strategy, gradual): after an LDS update, connections on the old listener's filter chain are drained for that long (HTTP/1.1 responses carry `connection: close`) and then closed.", plan.drain_time_s),
        "ecds-module alternates two files of the same plugin: the built module and a copy with one custom section appended (same code, different bytes and sha256, so Envoy creates a new VM). Each module carries its own `content`, so the body says which module answered.".into(),
        "Remote load: a Wasm filter with code.remote makes the listener warm until the fetch finishes (success, or failure after the retries): the listener does not accept connections meanwhile and `/ready` is not 200. `nack_on_code_cache_miss` only applies to code delivered by ECDS/LDS updates (it NACKs an update whose remote code is not cached yet), so it is not set here.".into(),
        "truncated serves the first half of the module with that half's sha256, so the fetch succeeds and the module fails to load; wrong-sha256 serves the whole module against a digest of other bytes.".into(),
    ]
}

/// `bench-runner lifecycle`: checks the flags' targets, runs, writes lifecycle.json, report.md and the charts.
pub fn command(project: &Project, a: &LifecycleOptions) -> anyhow::Result<u8> {
    a.plan.validate().map_err(usage)?;
    let only = a.only.clone();
    plugins::check_only(project, only.as_deref(), true)?;
    let out = a.out.clone().unwrap_or_else(|| {
        project.results_dir().join(format!(
            "{}-lifecycle",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    crate::sys::check_out_dir("--out", &out, &["lifecycle.json"])?;
    std::fs::create_dir_all(out.join("lifecycle")).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let envoy = locate::locate(a.envoy.as_deref(), project, true)?;
    eprintln!("envoy {} ({})", envoy.version, envoy.path.display());
    let (built, missing) = plugins::prepare_all(project, only.as_deref(), false)?;
    let own_wasm = a.own.as_ref().is_some_and(|p| {
        p.specs
            .iter()
            .any(|s| matches!(s.kind, crate::plugins::own::OwnKind::Wasm { .. }))
    });
    let runtime = if built.iter().any(Built::is_wasm) || own_wasm {
        crate::bench::failure::pick_runtime(project, &envoy, &out.join("lifecycle"))?
    } else {
        "-".to_string()
    };
    let mut imps = crate::bench::failure::implementations(&built, &runtime, only.as_deref());
    // Plugins of your own: ready and probed as in `run`, then swapped like the suite's.
    let own_run = match &a.own {
        Some(plan) => Some(crate::bench::own::prepare(
            project,
            &envoy,
            plan,
            &[runtime.as_str()],
            &out,
        )?),
        None => None,
    };
    let mut own_skipped = vec![];
    if let Some(run) = &own_run {
        let (more, skipped) = own::implementations(run, &runtime);
        imps.extend(more);
        own_skipped = skipped;
    }
    let mut missing: Vec<Skipped> = missing
        .into_iter()
        .map(|m| Skipped::unavailable(&m))
        .collect();
    missing.extend(crate::bench::failure::left_out(
        &built,
        only.as_deref(),
        "lifecycle",
    ));
    missing.extend(own_skipped);
    let run = measure_and_write(
        project,
        &envoy,
        &a.plan,
        &imps,
        (&runtime, own_run.as_ref()),
        missing,
        &out,
    )?;
    print!("{}", crate::report::lifecycle::table(&run.lifecycle));
    if run.lifecycle.status == "interrupted" {
        return Err(Error::Interrupted.into());
    }
    Ok(0)
}

/// The full profile's lifecycle phase: every implementation of the run with the default plan (100
/// swaps of each kind), lifecycle.json, its report and charts in the run folder's `lifecycle/`.
pub fn for_run(
    project: &Project,
    envoy: &crate::envoy::EnvoyBin,
    built: &[Built],
    runtime: &str,
    only: Option<&[String]>,
    out: &Path,
) -> anyhow::Result<LifecycleRun> {
    let dir = out.join("lifecycle");
    std::fs::create_dir_all(dir.join("lifecycle"))
        .map_err(|e| anyhow::anyhow!("cannot create {} ({e})", dir.display()))?;
    let imps = crate::bench::failure::implementations(built, runtime, only);
    let plan = LifecyclePlan::default();
    let left_out = crate::bench::failure::left_out(built, only, "lifecycle");
    measure_and_write(
        project,
        envoy,
        &plan,
        &imps,
        (runtime, None),
        left_out,
        &dir,
    )
}

/// Starts the upstream, runs every implementation, writes lifecycle.json (atomically), report.md
/// and the charts into `out`.
fn measure_and_write(
    project: &Project,
    envoy: &crate::envoy::EnvoyBin,
    plan: &LifecyclePlan,
    imps: &[Implementation],
    (runtime, own): (&str, Option<&crate::bench::own::OwnRun>),
    missing: Vec<Skipped>,
    out: &Path,
) -> anyhow::Result<LifecycleRun> {
    let upstream = Upstream::start(UPSTREAM_BODY).map_err(|e| {
        usage(format!(
            "cannot start the upstream server on 127.0.0.1 ({e})"
        ))
    })?;
    let ctx = Context {
        project,
        envoy,
        dir: out,
        templates: LifecycleTemplates::load(&project.envoy_dir())?,
        upstream: &upstream,
        own_upstream: own.map(|o| &o.upstream),
    };
    let mut section = run_all(&ctx, plan, imps, runtime)?;
    section.skipped.extend(missing);
    if let Some(o) = own {
        section.own = Some(o.section());
        section.notes.push(own::NOTE.into());
    }
    let run = LifecycleRun {
        suite_version: env!("CARGO_PKG_VERSION").into(),
        host: crate::results::host_info(None, None),
        runner: crate::results::RunnerBuild::current(),
        lifecycle: section,
    };
    let json = out.join("lifecycle.json");
    crate::sys::write_atomic(&json, serde_json::to_string_pretty(&run)?.as_bytes())?;
    crate::report::lifecycle::write_report(&run, out)?;
    eprintln!(
        "wrote {} and {}",
        json.display(),
        out.join("report.md").display()
    );
    Ok(run)
}
