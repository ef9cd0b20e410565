//! `bench-runner lifecycle`: its flags, turned into a plan, and the glue to `bench::lifecycle`.

use super::args::{parse_duration, EnvoyArgs};
use crate::bench::lifecycle::{self, LifecycleOptions, LifecyclePlan, MODES};
use crate::error::usage;
use crate::paths::Project;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct LifecycleArgs {
    /// Comma-separated implementations (plugin folder names, `lua`); default: all. With plugins of
    /// your own (below): the suite's implementations to swap beside them (none without `--only`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Run folder to write (default: results/<timestamp>-lifecycle/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Swaps per swap run (ECDS config, ECDS module, LDS).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub swaps: usize,
    /// Open-loop requests per second during the swaps (one fresh connection each).
    #[arg(long, default_value_t = 100.0, value_name = "RPS")]
    pub rate: f64,
    /// Time between two swaps.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Duration,
    /// Requests sent this long after a swap count as inside its window (latency figures).
    #[arg(long, default_value = "250ms", value_name = "DURATION", value_parser = parse_duration)]
    pub window: Duration,
    /// Swap kinds to run: ecds-config, ecds-module, lds.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub modes: Option<Vec<String>>,
    /// Skip the remote module load cases.
    #[arg(long)]
    pub no_remote: bool,
    #[command(flatten)]
    pub own: Box<super::own::OwnArgs>,
}

pub fn plan_from_args(a: &LifecycleArgs) -> anyhow::Result<LifecyclePlan> {
    let modes = match &a.modes {
        None => MODES.map(String::from).to_vec(),
        Some(list) => {
            if let Some(m) = list.iter().find(|m| !MODES.contains(&m.as_str())) {
                return Err(usage(format!(
                    "--modes: unknown swap kind `{m}`; choose from {}",
                    MODES.join(", ")
                )));
            }
            list.clone()
        }
    };
    let plan = LifecyclePlan {
        swaps: a.swaps,
        rate_per_s: a.rate,
        interval: a.interval,
        window: a.window,
        modes,
        remote: !a.no_remote,
        ..LifecyclePlan::default()
    };
    plan.validate().map_err(usage)?;
    Ok(plan)
}

/// `bench-runner lifecycle`: the plan from the flags first (bad flags fail before any work), then the run.
pub fn command(project: &Project, a: &LifecycleArgs) -> anyhow::Result<u8> {
    let plan = plan_from_args(a)?;
    let own = a.own.plan(project)?;
    let only = match (&a.only, &own) {
        (None, Some(_)) => Some(vec![]),
        (o, _) => o.clone(),
    };
    let options = LifecycleOptions {
        plan,
        only,
        out: a.out.clone(),
        envoy: a.envoy.envoy.clone(),
        own,
    };
    lifecycle::command(project, &options)
}
