//! `bench-runner failure`: its flags, turned into a scenario plan, and the glue to `bench::failure`.

use super::args::{parse_duration, EnvoyArgs};
use crate::bench::failure::{self, FailureOptions, FailurePlan, Policy};
use crate::error::usage;
use crate::load::request::{read_exchange, ExpectFlags};
use crate::paths::Project;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct FailureArgs {
    /// Comma-separated implementations (plugin folder names, `lua`); default: all. With plugins of
    /// your own (below): the suite's implementations to run beside them (none without `--only`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Run folder to write (default: results/<timestamp>-failure/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Failure policies for Wasm plugins: unset, closed, open, reload, reload-short, fail-open-true.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub policies: Option<Vec<String>>,
    /// Crash modes: every Nth request traps.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "N,..",
        default_value = "1,10"
    )]
    pub crash_every: Vec<u32>,
    /// Requests per second of each scenario's timeline.
    #[arg(long, default_value_t = 50.0, value_name = "RPS")]
    pub rate: f64,
    /// Length of each timeline (covers the 1 s default reload backoff).
    #[arg(long, default_value = "3s", value_name = "DURATION", value_parser = parse_duration)]
    pub window: Duration,
    /// Client timeout per request; no answer by then is a hang.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The short FAIL_RELOAD backoff (reload_config.backoff base and max interval).
    #[arg(long, default_value = "200ms", value_name = "DURATION", value_parser = parse_duration)]
    pub reload_backoff: Duration,
    /// `spin` of the runaway plugin (rounds of hashing per request).
    #[arg(long, default_value_t = 2_000_000_000, value_name = "K")]
    pub spin: u32,
    /// Skip the runaway-plugin scenarios.
    #[arg(long)]
    pub no_runaway: bool,
    #[command(flatten)]
    pub own: Box<super::own::OwnArgs>,
    /// A request that makes your plugin fail (trap), in --request's format (its [expect] is not
    /// used): sent as every Nth request (--crash-every) between the stated ones, under each policy.
    #[arg(long, value_name = "FILE", help_heading = "Plugins of your own")]
    pub crash_on: Option<PathBuf>,
}

pub fn plan_from_args(a: &FailureArgs) -> anyhow::Result<FailurePlan> {
    let policies = match &a.policies {
        None => Policy::WASM.to_vec(),
        Some(list) => list
            .iter()
            .map(|p| {
                Policy::from_id(p)
                    .filter(|p| *p != Policy::None)
                    .ok_or_else(|| {
                        usage(format!(
                            "--policies: unknown policy `{p}`; choose from {}",
                            Policy::WASM.map(|p| p.id()).join(", ")
                        ))
                    })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let plan = FailurePlan {
        rate_per_s: a.rate,
        window: a.window,
        timeout: a.timeout,
        crash_every: a.crash_every.clone(),
        policies,
        short_backoff: a.reload_backoff,
        runaway: !a.no_runaway,
        spin: a.spin,
        ..FailurePlan::default()
    };
    plan.validate().map_err(usage)?;
    Ok(plan)
}

/// `bench-runner failure`: the plan from the flags first (bad flags fail before any work), then the run.
pub fn command(project: &Project, a: &FailureArgs) -> anyhow::Result<u8> {
    let plan = plan_from_args(a)?;
    let own = a.own.plan(project)?;
    let crash_on = match (&a.crash_on, &own) {
        (None, _) => None,
        (Some(f), None) => {
            return Err(usage(format!(
                "--crash-on {}: names the request that makes a plugin of your own fail; give the plugin too (--plugin, --lua or --plugins-dir)",
                f.display()
            )))
        }
        (Some(f), Some(_)) => {
            let x = read_exchange("--crash-on", Some(f), &ExpectFlags::default())?;
            Some((f.clone(), x.requests))
        }
    };
    let only = match (&a.only, &own) {
        (None, Some(_)) => Some(vec![]),
        (o, _) => o.clone(),
    };
    let options = FailureOptions {
        plan,
        only,
        out: a.out.clone(),
        envoy: a.envoy.envoy.clone(),
        own,
        crash_on,
    };
    failure::command(project, &options)
}
