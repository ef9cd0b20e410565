//! Command-line interface (SPEC section 3). Flags are turned into plans before any work starts.
//! One file per subcommand: its clap `Args` and the glue from flags to an engine; shared flag groups
//! and value parsers in `args`. Nothing here is reused by the layers below.

pub mod ab;
pub mod args;
pub mod build;
pub mod calls;
pub mod compare;
pub mod conformance;
pub mod curves;
pub mod doctor;
pub mod export;
pub mod failure;
pub mod footprint;
pub mod fuzz;
pub mod instructions;
pub mod k8s;
pub mod lifecycle;
pub mod load;
pub mod manifests;
pub mod merge;
pub mod micro;
pub mod objects;
pub mod own;
pub mod package;
pub mod peers;
pub mod readme;
pub mod report;
pub mod reproduce;
pub mod run;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Parses the command line into a [`Cli`], recording where the plugin flags of `run`, `footprint`,
/// `failure` and `lifecycle` and their options stood (an option configures the plugin flag before it: [`own::OwnArgs::record_positions`]).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = grouped_help(Cli::command()).try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
    if let (Some(c), Some((_, sub))) = (&mut cli.command, matches.subcommand()) {
        let own = match c {
            Command::Run(a) => Some(&mut a.own),
            Command::Footprint(a) => Some(&mut a.own),
            Command::Failure(a) => Some(&mut a.own),
            Command::Lifecycle(a) => Some(&mut a.own),
            _ => None,
        };
        if let Some(own) = own {
            own.record_positions(sub);
        }
    }
    Ok(cli)
}

#[derive(Debug, Parser)]
#[command(
    name = "bench-runner",
    version,
    about = "What a gateway plugin costs per request in a real Envoy, against a no-plugin baseline:\nproxy-wasm plugins in Rust, Go, AssemblyScript and C++, a Lua filter, an ext_proc processor\nand a dynamic module, each with 95% intervals.",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands as `--help` lists them, in groups a newcomer reads top down (as cargo and kubectl
/// group theirs). Every command is in exactly one group (a unit test checks): a new command adds
/// its name here, and its one-line summary is the first line of its doc comment in [`Command`].
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "Measure",
        &[
            "run",
            "instructions",
            "micro",
            "footprint",
            "curves",
            "failure",
            "lifecycle",
            "peers",
            "load",
            "merge",
            "k8s",
        ],
    ),
    (
        "Compare and track",
        &["ab", "compare", "reproduce", "report", "export", "readme"],
    ),
    ("Ship", &["build", "package", "manifests"]),
    (
        "Inspect",
        &["doctor", "conformance", "fuzz", "calls", "objects"],
    ),
];

/// The top-level help: the commands in their [`GROUPS`] instead of clap's one list.
pub fn grouped_help(cmd: clap::Command) -> clap::Command {
    let subs: Vec<(String, String)> = cmd
        .get_subcommands()
        .map(|c| {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            (c.get_name().to_string(), about)
        })
        .collect();
    let width = subs.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut groups = String::new();
    for (title, names) in GROUPS {
        groups.push_str(&format!("{title}:\n"));
        for name in *names {
            let about = subs
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, a)| a.as_str());
            groups.push_str(&format!("  {name:<width$}  {about}\n"));
        }
        groups.push('\n');
    }
    let template = format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\nWith no command: `run` with the default profile; it prints its plan and estimated time before\nmeasuring (`run --profile quick` is the short one). `bench-runner COMMAND --help` tells more.\n\n{groups}Options:\n{{options}}\n"
    );
    cmd.help_template(template)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, measure every implementation in several Envoy processes, print the answer.
    ///
    /// The default command. Builds what changed, starts several Envoy processes (8 in the default
    /// profile), each with a no-plugin baseline, an identical A/A listener and one listener per
    /// implementation and workload; measures latency interleaved with the baseline and Envoy's CPU
    /// per request in both regimes; counts instructions per request under callgrind; then (default
    /// and full profiles) memory and start-up, and (full profile) the in-process micro-benchmarks.
    /// Writes results/<timestamp>-<profile>/ (results.json,
    /// report.md, report.html, charts) and prints, per workload, what each implementation adds.
    Run(run::RunArgs),
    /// Two builds side by side in the same Envoy processes: the change and a verdict.
    ///
    /// The plugins of a git revision (--base REV, built in a worktree) against the working tree's
    /// (or --new REV), or two Envoys (--base-envoy/--new-envoy PATH|VERSION); per implementation
    /// and workload the change with its interval and a verdict; exit 1 on a regression, 2 on bad
    /// input.
    Ab(ab::AbArgs),
    /// Drive load at one URL (wrk/oha-style flags): latency, throughput and errors.
    ///
    /// Loopback targets only unless --allow-remote; --save-histograms writes what `merge` adds up.
    Load(load::LoadArgs),
    /// Add several load workers' --save-histograms files into one measurement.
    ///
    /// Exact histogram sums, the common window, per-worker and merged percentiles; exit 1 names
    /// failed workers.
    Merge(merge::MergeArgs),
    /// A Kubernetes Job of N load workers against your gateway, and how to merge them.
    ///
    /// Generates the Job and the commands that collect and merge the workers' results.
    K8s(k8s::K8sArgs),
    /// Build what changed: Wasm modules, the ext_proc processor, the dynamic module.
    ///
    /// Prints each built file's sha256 and size (the dynamic module is a native shared object).
    Build(build::BuildArgs),
    /// What each Wasm plugin asks of its host per request, in-process, by workload.
    ///
    /// Every proxy-wasm and WASI call with the bytes copied in and out; exit 1 when a plugin's
    /// header operations are not the workload's.
    Calls(calls::CallsArgs),
    /// Every implementation through a real Envoy against the plugin contract's cases.
    ///
    /// Lua, the ext_proc processor and the dynamic module included; a case x implementation matrix;
    /// exit 1 on a failing cell.
    Conformance(conformance::ConformanceArgs),
    /// Differential fuzzing of the plugin contract against the runner's reference.
    ///
    /// Seeded configurations and requests through every implementation in-process (Lua in LuaJIT);
    /// divergences are printed shrunk, as conformance cases. Exit 1 when any implementation
    /// disagrees.
    Fuzz(fuzz::FuzzArgs),
    /// Each toolchain and Envoy, found or missing, with the command that fixes it.
    Doctor(doctor::DoctorArgs),
    /// Instructions per request through Envoy under callgrind, every implementation.
    ///
    /// Every implementation and workload, one Envoy per implementation, the worker thread counted,
    /// added instructions over the no-plugin listener of the same process; writes
    /// results/<ts>-instructions/.
    Instructions(instructions::InstructionsArgs),
    /// Re-render a saved run's report and charts; print its answer (--format for scripts).
    ///
    /// From results.json alone (a run, a failure run, a lifecycle folder, or a curves folder from
    /// its curves.json): report.md, report.html and the charts are written again.
    Report(report::ReportArgs),
    /// Rewrite the generated regions of README.md and docs/*.md from saved runs
    Readme(readme::ReadmeArgs),
    /// Two runs per variant and figure: the change with a 95% interval and a verdict.
    ///
    /// BASE NEW, or --baseline NAME [NEW]; exit 1 on a regression (significant and over the noise
    /// threshold), 2 on bad input.
    Compare(compare::CompareArgs),
    /// Write a saved run as Bencher BMF or github-action-benchmark JSON.
    Export(export::ExportArgs),
    /// Two runs of the same code: does each figure land inside the other's interval?
    ///
    /// The measured test of whether the intervals survive a re-run.
    Reproduce(reproduce::ReproduceArgs),
    /// What clients get when a plugin crashes or runs away, per failure policy.
    ///
    /// Every implementation x crash mode x Wasm failure policy through a real Envoy and upstream,
    /// classified request by request (the ext_proc processor and the dynamic module are listed as
    /// skipped, with the reason).
    Failure(failure::FailureArgs),
    /// Memory and start-up per implementation, each in Envoy processes of its own.
    ///
    /// Envoy's RSS with each plugin at --concurrency 1 and 4 (1, 2, 4 in the full profile) minus
    /// the no-plugin Envoy's (per worker, and after a bounded load), and the time to /ready and to
    /// the first plugin reply beside the module's bytes; writes results/<ts>-footprint/.
    Footprint(footprint::FootprintArgs),
    /// Our load generator beside wrk and oha (where installed) on one Envoy listener.
    ///
    /// Interleaved by round: latency, throughput and each tool's own CPU per request.
    Peers(peers::PeersArgs),
    /// Each plugin's own cost per request in-process (wasmtime, wasmi), no Envoy.
    ///
    /// wasmtime Cranelift, wasmtime Winch and wasmi: per-request cost, configuration parse,
    /// instantiation; or, with --instructions, instructions per request under callgrind and where
    /// they go; writes results/<ts>-micro[-instructions]/.
    Micro(micro::MicroArgs),
    /// The instructions of callgrind profiles (e.g. an Envoy window's), by object file.
    ///
    /// The executable, each library, code in no file (what a JIT compiled), memcpy/memmove/memset
    /// apart.
    Objects(objects::ObjectsArgs),
    /// Internal: one module on one engine under valgrind for `micro --instructions`.
    #[command(hide = true)]
    MicroProbe(micro::ProbeArgs),
    /// Every Wasm plugin as OCI images, no Docker daemon; --push sends them to a registry.
    ///
    /// The article's FROM scratch image and the Wasm artifact, written as OCI image layouts;
    /// --push uploads them and pulls each back to check its digest and module.
    Package(package::PackageArgs),
    /// The Istio and Higress WasmPlugin resources that declare each plugin's image.
    ///
    /// extensions.istio.io and extensions.higress.io, with the failure matrix's lesson beside
    /// failStrategy.
    Manifests(manifests::ManifestsArgs),
    /// How a plugin is loaded and replaced in a running Envoy (remote, ECDS, LDS).
    ///
    /// Remote module load (sha256, server down, truncated module) and N swaps under load of its
    /// config and module via ECDS and of its listener via LDS; failed requests, time to switch,
    /// Envoy RSS. Writes lifecycle.json.
    Lifecycle(lifecycle::LifecycleArgs),
    /// How each implementation's cost grows with the headers and the body size.
    ///
    /// Overhead (CPU per request at a fixed rate and at saturation, p50) at each header count and
    /// body size, measured like `run`, and a line per implementation (µs per header, µs per KiB,
    /// fixed cost) with intervals and a fit check; writes results/<ts>-curves/.
    Curves(curves::CurvesArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_command_is_in_exactly_one_help_group() {
        let cmd = Cli::command();
        let names: Vec<&str> = cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name())
            .collect();
        for name in &names {
            let n = GROUPS.iter().filter(|(_, g)| g.contains(name)).count();
            assert_eq!(n, 1, "`{name}` is in {n} groups of commands::GROUPS");
        }
        for (title, group) in GROUPS {
            for name in *group {
                assert!(names.contains(name), "{title}: `{name}` is no command");
            }
        }
    }

    #[test]
    fn the_help_lists_the_groups_with_one_line_per_command() {
        let help = grouped_help(Cli::command()).render_help().to_string();
        let mut at = 0;
        for (title, group) in GROUPS {
            let i = help[at..]
                .find(&format!("{title}:\n"))
                .unwrap_or_else(|| panic!("no `{title}:` after byte {at}:\n{help}"));
            at += i;
            for name in *group {
                let line = help[at..]
                    .lines()
                    .find(|l| l.trim_start().starts_with(&format!("{name} ")))
                    .unwrap_or_else(|| panic!("no line for {name}:\n{help}"));
                assert!(line.trim().len() > name.len() + 10, "{line}");
            }
        }
        assert!(
            help.contains("ext_proc") && help.contains("dynamic module"),
            "{help}"
        );
        assert!(
            help.contains("Options:") && help.contains("--help"),
            "{help}"
        );
        // every summary fits a 100-column terminal
        for line in help.lines() {
            assert!(
                line.chars().count() <= 100,
                "{} columns: {line}",
                line.chars().count()
            );
        }
    }
}
