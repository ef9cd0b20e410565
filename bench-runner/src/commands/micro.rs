//! `bench-runner micro`: its flags, and the glue to `bench::micro`.

use crate::bench::micro::{self, CountOptions, MicroOptions};
use crate::paths::Project;
use crate::results::profile::ProfileName;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct MicroArgs {
    /// Comma-separated implementations (plugin folder names) to measure.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Comma-separated engines: wasmtime-cranelift, wasmtime-winch, wasmi (default: all).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub engines: Option<Vec<String>>,
    /// Comma-separated benchmarks: request, configure, instantiate (default: all).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub benchmarks: Option<Vec<String>>,
    /// Size preset: batches and batch length (quick 5 x 5 ms, default 15 x 20 ms, full 30 x 50 ms).
    #[arg(long, value_enum, default_value = "default")]
    pub profile: ProfileName,
    /// Override the number of timed batches per figure.
    #[arg(long, value_name = "N")]
    pub batches: Option<usize>,
    /// Override the target length of one batch, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub batch_ms: Option<f64>,
    /// Run folder to write (default: results/<timestamp>-micro/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rebuild plugins even when their sources did not change.
    #[arg(long)]
    pub rebuild: bool,
    /// Count instructions per request under valgrind's callgrind instead of timing, with where they
    /// go (the plugin's code, each host call, the engine, the language runtime): one process per
    /// module and engine, a fixed number of warm requests per window.
    #[arg(long)]
    pub instructions: bool,
    /// With --instructions: comma-separated workloads, mock, headers, body (default: all three).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub workloads: Option<Vec<String>>,
    /// With --instructions: requests per counted window.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// With --instructions: windows per implementation, engine and workload.
    #[arg(long, value_name = "N")]
    pub windows: Option<usize>,
    /// With --instructions: requests each VM answers before counting starts.
    #[arg(long, value_name = "N")]
    pub warmup_requests: Option<u64>,
    /// With --instructions: the plugins' `spin` (extra deterministic work per request).
    #[arg(long, value_name = "K")]
    pub spin: Option<u64>,
    /// With --instructions: bytes of the body workload's request body.
    #[arg(long, value_name = "BYTES")]
    pub body_bytes: Option<usize>,
}

/// The hidden command `micro --instructions` runs under valgrind: one module on one engine.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// The probe plan (JSON) the runner wrote.
    pub plan: PathBuf,
}

/// `micro --instructions` defaults: 3 windows of 200 requests after 100 warm-up requests, a 4 KiB
/// body.
pub const DEFAULT_COUNT: CountOptions = CountOptions {
    workloads: None,
    requests: 200,
    windows: 3,
    warmup_requests: 100,
    spin: 0,
    body_bytes: 4096,
};

impl MicroArgs {
    /// The engine's options from the flags.
    pub fn options(&self) -> MicroOptions {
        MicroOptions {
            only: self.only.clone(),
            engines: self.engines.clone(),
            benchmarks: self.benchmarks.clone(),
            profile: self.profile,
            batches: self.batches,
            batch_ms: self.batch_ms,
            out: self.out.clone(),
            seed: self.seed,
            rebuild: self.rebuild,
            count: self.count_options(),
        }
    }

    fn count_options(&self) -> Option<CountOptions> {
        let d = DEFAULT_COUNT;
        self.instructions.then(|| CountOptions {
            workloads: self.workloads.clone(),
            requests: self.requests.unwrap_or(d.requests),
            windows: self.windows.unwrap_or(d.windows),
            warmup_requests: self.warmup_requests.unwrap_or(d.warmup_requests),
            spin: self.spin.unwrap_or(d.spin),
            body_bytes: self.body_bytes.unwrap_or(d.body_bytes),
        })
    }

    /// A counting flag without --instructions, named.
    fn stray_count_flag(&self) -> Option<&'static str> {
        if self.instructions {
            return None;
        }
        [
            (self.workloads.is_some(), "--workloads"),
            (self.requests.is_some(), "--requests"),
            (self.windows.is_some(), "--windows"),
            (self.warmup_requests.is_some(), "--warmup-requests"),
            (self.spin.is_some(), "--spin"),
            (self.body_bytes.is_some(), "--body-bytes"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// `bench-runner micro`.
pub fn command(project: &Project, a: &MicroArgs) -> anyhow::Result<u8> {
    if let Some(flag) = a.stray_count_flag() {
        return Err(crate::error::usage(format!(
            "{flag} applies to counting: add --instructions"
        )));
    }
    micro::command(project, &a.options())
}

/// `bench-runner micro-probe PLAN` (run by `micro --instructions` under valgrind).
pub fn probe_command(a: &ProbeArgs) -> anyhow::Result<u8> {
    micro::probe::command(&a.plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{Cli, Command};
    use clap::Parser;

    #[test]
    fn flags_are_checked_before_any_work() {
        let parse = |args: &[&str]| {
            let mut argv = vec!["bench-runner", "micro"];
            argv.extend_from_slice(args);
            match Cli::try_parse_from(argv).unwrap().command {
                Some(Command::Micro(a)) => micro::settings_from_args(&a.options()),
                other => panic!("parsed as {other:?}"),
            }
        };
        for (args, flag) in [
            (&["--engines", "v8"][..], "--engines"),
            (&["--benchmarks", "latency"][..], "--benchmarks"),
            (&["--batches", "1"][..], "--batches"),
            (&["--batch-ms", "0"][..], "--batch-ms"),
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(crate::error::exit_code_of(&e), 2);
            assert!(e.to_string().contains(flag), "{e}");
        }
        let s = parse(&["--engines", "wasmi", "--batches", "4", "--profile", "quick"]).unwrap();
        assert_eq!((s.engines, s.batches), (vec!["wasmi".to_string()], 4));
    }
}
