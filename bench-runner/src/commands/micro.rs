//! `bench-runner micro`: its flags, and the glue to `bench::micro`.

use crate::bench::micro::{self, MicroOptions};
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
}

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
        }
    }
}

/// `bench-runner micro`.
pub fn command(project: &Project, a: &MicroArgs) -> anyhow::Result<u8> {
    micro::command(project, &a.options())
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
