//! `bench-runner readme`: regenerates the generated regions of README.md and docs/*.md from saved
//! runs; each region is rewritten in the one file that holds it.

use crate::paths::Project;
use crate::readme;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ReadmeArgs {
    /// Run folder or results.json (default: results/latest).
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// README to update (default: the project's README.md); the Markdown pages of the `docs/` folder
    /// beside it are searched for regions too.
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// A `failure` run folder whose matrix goes into the failure section.
    #[arg(long, value_name = "DIR")]
    pub failure_run: Option<PathBuf>,
    /// A folder from `peers --out DIR` whose table goes into the load-generator section.
    #[arg(long, value_name = "DIR")]
    pub peers: Option<PathBuf>,
    /// A folder from `bench-runner/scripts/detector.sh` whose table goes into the regression-detection section.
    #[arg(long, value_name = "DIR")]
    pub detector: Option<PathBuf>,
    /// A folder from `bench-runner/scripts/gate-injection.py` whose table (false alarms and detection,
    /// with and without `compare --family-wise`) goes into the regression-detection section.
    #[arg(long, value_name = "DIR")]
    pub gate: Option<PathBuf>,
    /// A folder from `bench-runner/scripts/gate-pairs.sh` (many identical pairs of runs, compared as
    /// they are and with +5 µs injected, and every run's A/A check) for the run-level gate
    /// benchmark.
    #[arg(long, value_name = "DIR")]
    pub gate_pairs: Option<PathBuf>,
    /// A folder from `bench-runner/scripts/fresh-clone.sh` whose timings go into the "Two commands" section.
    #[arg(long, value_name = "DIR")]
    pub fresh: Option<PathBuf>,
    /// A folder from `reproduce A B --out DIR` whose table goes into the reproducibility section.
    #[arg(long, value_name = "DIR")]
    pub reproducibility: Option<PathBuf>,
    /// A run folder (from `run` or `footprint`) whose memory and start-up tables go into the footprint
    /// region.
    #[arg(long, value_name = "DIR")]
    pub footprint: Option<PathBuf>,
    /// A folder from `curves --out DIR` whose slopes and intercepts go into the "Cost as the
    /// work grows" section.
    #[arg(long, value_name = "DIR")]
    pub curves: Option<PathBuf>,
    /// A folder from `bench-runner/scripts/ab-benchmarks.sh` (identical pairs, the +2 µs detector,
    /// wall times) for the `ab` section.
    #[arg(long, value_name = "DIR")]
    pub ab_benchmarks: Option<PathBuf>,
    /// An `ab --base-envoy A --new-envoy B` folder whose verdict table goes into the `ab`
    /// section.
    #[arg(long, value_name = "DIR")]
    pub ab_envoy: Option<PathBuf>,
    /// A folder from `instructions --out DIR` whose counts go into the "Instructions per
    /// request" section, and into the headline when the run counted none itself.
    #[arg(long, value_name = "DIR")]
    pub instructions: Option<PathBuf>,
    /// A folder from `calls --out DIR` whose host-call tables go into the "The same work in
    /// every language" section.
    #[arg(long, value_name = "DIR")]
    pub calls: Option<PathBuf>,
    /// A folder from `micro --instructions --out DIR` whose instruction breakdown goes into the
    /// "Instructions per request in-process" section.
    #[arg(long, value_name = "DIR")]
    pub instructions_inproc: Option<PathBuf>,
    /// The JSON of `bench-runner/scripts/headers-minus-mock.py --json FILE` (the header work per
    /// implementation before and after a change) for the "what the fair form moved" region.
    #[arg(long, value_name = "FILE")]
    pub header_work: Option<PathBuf>,
}

/// `bench-runner readme`.
pub fn command(project: &Project, a: &ReadmeArgs) -> anyhow::Result<u8> {
    let readme = a
        .readme
        .clone()
        .unwrap_or_else(|| project.root.join("README.md"));
    let run = match &a.run {
        Some(run) => run.clone(),
        None => {
            // results/latest is whatever ran last: an `instructions` or `micro` folder has no
            // rounds, and the README's run-based regions must not be taken from it.
            let latest = project.results_dir().join("latest");
            if let Ok(r) = crate::results::Results::read(&latest) {
                if r.rounds.is_empty() {
                    return Err(crate::error::usage(format!(
                        "--run: results/latest ({}) measured no rounds (an instructions or micro folder?); give the README's run with --run DIR",
                        std::fs::canonicalize(&latest).unwrap_or(latest).display()
                    )));
                }
            }
            latest
        }
    };
    let extra = readme::Extra {
        failure_run: a.failure_run.as_deref(),
        peers: a.peers.as_deref(),
        detector: a.detector.as_deref(),
        gate: a.gate.as_deref(),
        gate_pairs: a.gate_pairs.as_deref(),
        fresh: a.fresh.as_deref(),
        reproducibility: a.reproducibility.as_deref(),
        footprint: a.footprint.as_deref(),
        curves: a.curves.as_deref(),
        ab_benchmarks: a.ab_benchmarks.as_deref(),
        ab_envoy: a.ab_envoy.as_deref(),
        instructions: a.instructions.as_deref(),
        calls: a.calls.as_deref(),
        instructions_inproc: a.instructions_inproc.as_deref(),
        header_work: a.header_work.as_deref(),
    };
    readme::command(project, &run, &readme, &extra)
}
