//! The README's headline (`generated:headline`): the run's answer (per workload, each implementation's
//! added p50 and Envoy CPU per request with their intervals, cheapest first, and the added
//! instructions per request where they were counted) with the overhead chart. The instructions come
//! from the run's own counting phase (`results.json` `instructions`) when it has one, else from the
//! folder given with `--instructions`, and the region says which.

use crate::paths::Project;
use crate::results::Results;
use std::fmt::Write;
use std::path::Path;

/// The headline region of run `r` (in `run_dir`); `instructions` is a folder of counts to use when
/// the run has none of its own.
pub fn region(
    project: &Project,
    run_dir: &Path,
    r: &Results,
    instructions: Option<&Path>,
) -> anyhow::Result<String> {
    let rel = project.rel(run_dir);
    let mut with = r.clone();
    let source = match (&r.instructions, instructions) {
        (Some(_), _) => Some("counted in the same run".to_string()),
        (None, Some(dir)) => {
            let counted = Results::read(dir)?;
            with.instructions = counted.instructions;
            with.instructions.as_ref().map(|_| {
                let d = project.rel(&dir.canonicalize().unwrap_or(dir.to_path_buf()));
                format!(
                    "from `{d}` (`bench-runner instructions`, started {}, in Envoy processes of its own)",
                    counted.started_at
                )
            })
        }
        (None, None) => None,
    };
    let answer = crate::report::answer::answer(&with);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Run `{rel}` ({} profile, {} Envoy processes, status {}), started {}: {} ({} cores), Envoy {}. Added instructions per request: {}.\n",
        r.profile.name,
        r.profile.processes,
        r.status,
        r.started_at,
        r.host.cpu_model,
        r.host.cores,
        r.envoy.version,
        source.as_deref().unwrap_or("not counted for this run")
    );
    s.push_str(&crate::report::answer::markdown(&answer));
    let chart = run_dir.join("chart-overhead.svg");
    if chart.is_file() {
        let _ = writeln!(
            s,
            "![added latency and CPU per implementation, 95% intervals]({rel}/chart-overhead.svg)\n"
        );
    }
    let _ = writeln!(
        s,
        "Full report: [`{rel}/report.md`]({rel}/report.md); raw data: [`{rel}/results.json`]({rel}/results.json)."
    );
    Ok(s)
}
