//! Command-line interface (SPEC section 3). Flags are turned into plans before any work starts.
//! One file per subcommand: its clap `Args` and the glue from flags to an engine; shared flag groups
//! and value parsers in `args`. Nothing here is reused by the layers below.

pub mod args;
pub mod build;
pub mod compare;
pub mod conformance;
pub mod curves;
pub mod doctor;
pub mod export;
pub mod failure;
pub mod footprint;
pub mod fuzz;
pub mod k8s;
pub mod lifecycle;
pub mod load;
pub mod manifests;
pub mod merge;
pub mod micro;
pub mod objects;
pub mod package;
pub mod peers;
pub mod readme;
pub mod report;
pub mod reproduce;
pub mod run;

use clap::{Parser, Subcommand};

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
    Run(run::RunArgs),
    /// Drive load at one URL (wrk/oha-style flags) and print latency, throughput and errors.
    Load(load::LoadArgs),
    /// Add several load workers' --save-histograms files into one measurement (exact histogram sums,
    /// the common window, per-worker and merged percentiles); exit 1 names failed workers.
    Merge(merge::MergeArgs),
    /// Generate a Kubernetes Indexed Job of N load workers against your gateway, with the commands
    /// that collect and merge their results.
    K8s(k8s::K8sArgs),
    /// Build every plugin whose sources changed; print each module's sha256 and size.
    Build(build::BuildArgs),
    /// Run every implementation, Lua included, through a real Envoy against the conformance cases.
    Conformance(conformance::ConformanceArgs),
    /// Differential fuzzing of the plugin contract: seeded configurations and requests through every
    /// implementation in-process (Lua in LuaJIT) against the runner's reference; divergences are
    /// printed shrunk, as conformance cases. Exit 1 when any implementation disagrees.
    Fuzz(fuzz::FuzzArgs),
    /// List the toolchains and Envoy, found or missing, with the command that fixes what is missing.
    Doctor(doctor::DoctorArgs),
    /// Re-render report.md from a saved results.json (or run folder).
    Report(report::ReportArgs),
    /// Regenerate the README's figures (implementations, results) from a saved run.
    Readme(readme::ReadmeArgs),
    /// Compare two runs (BASE NEW, or --baseline NAME [NEW]): per variant, the change of each overhead
    /// with a 95% interval and a verdict; exit 1 on a regression, 2 on bad input.
    Compare(compare::CompareArgs),
    /// Write a saved run (results.json or run folder) as Bencher BMF or github-action-benchmark JSON.
    Export(export::ExportArgs),
    /// Two independent runs of the same code (A B): per figure, does B's estimate lie inside A's 95%
    /// interval, and A's inside B's? The measured test of whether the intervals survive a re-run.
    Reproduce(reproduce::ReproduceArgs),
    /// What clients see when a plugin crashes or runs away: every implementation x crash mode x Wasm
    /// failure policy through a real Envoy and upstream, classified request by request.
    Failure(failure::FailureArgs),
    /// Memory and start-up per implementation: Envoy's RSS with each plugin at --concurrency 1, 2, 4
    /// minus the no-plugin Envoy's (per worker, and after a bounded load), and the time to /ready
    /// and to the first plugin reply beside the module's bytes; writes results/<ts>-footprint/.
    Footprint(footprint::FootprintArgs),
    /// Our load generator next to wrk and oha (where installed) against one no-plugin Envoy listener,
    /// interleaved: latency, throughput and each tool's own CPU per request.
    Peers(peers::PeersArgs),
    /// Measure every plugin in-process (no Envoy) on wasmtime Cranelift, wasmtime Winch and wasmi:
    /// per-request cost, configuration parse, instantiation; or, with --instructions, instructions
    /// per request under callgrind and where they go; writes results/<ts>-micro[-instructions]/.
    Micro(micro::MicroArgs),
    /// The instructions of callgrind profiles by object file (the executable, each library, code in
    /// no file: what a JIT compiled), memcpy/memmove/memset apart: e.g. an Envoy window's profile.
    Objects(objects::ObjectsArgs),
    /// Internal: one module on one engine under valgrind for `micro --instructions`.
    #[command(hide = true)]
    MicroProbe(micro::ProbeArgs),
    /// Every Wasm plugin as OCI images without a Docker daemon (the article's FROM scratch image and
    /// the Wasm artifact), written as OCI image layouts; --push sends them to a registry and pulls
    /// each back to check its digest and module.
    Package(package::PackageArgs),
    /// The WasmPlugin resources (Istio extensions.istio.io and Higress extensions.higress.io) that
    /// declare each plugin's image, with the failure matrix's lesson beside failStrategy.
    Manifests(manifests::ManifestsArgs),
    /// How a plugin gets into a running Envoy and is replaced there: remote module load (sha256,
    /// server down, truncated module) and N swaps under load of its config and module via ECDS and of
    /// its listener via LDS; failed requests, time to switch, Envoy RSS. Writes lifecycle.json.
    Lifecycle(lifecycle::LifecycleArgs),
    /// How each implementation's cost grows with the work: overhead (CPU per request at a fixed rate
    /// and at saturation, p50) at each header count and request body size, measured like `run`, and a
    /// line per implementation (µs per header, µs per KiB, fixed cost) with intervals and a fit check;
    /// writes results/<ts>-curves/.
    Curves(curves::CurvesArgs),
}
