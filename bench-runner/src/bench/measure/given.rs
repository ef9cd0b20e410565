//! The run engine on a list of variants made elsewhere (`curves`: one call per group of points that
//! share a request body size; `ab`: two builds of each implementation side by side, or the same
//! listeners in two Envoy binaries): the same processes, smoke check, warm-up, calibration, rounds,
//! paired windows, CPU phase and health as `run`, without the matrix, the extras and the report.

use super::*;

/// What measuring a given list of variants needs.
pub struct Given<'a> {
    pub project: &'a Project,
    pub envoy: &'a EnvoyBin,
    /// Index 0 the baseline, 1 the A/A listener (as `run` lists them), then the points.
    pub variants: &'a [Variant],
    pub runtimes: &'a [String],
    pub skipped: &'a [Skipped],
    pub profile: &'a Profile,
    /// Folder for this call's results.json (rewritten after every round) and Envoy logs.
    pub out: &'a Path,
    pub base_port: Option<u16>,
    /// How windows and CPU slices pair the listeners ([`Pairing::Baseline`] as `run` does).
    pub pairing: Pairing,
    /// A second Envoy binary: the processes alternate between `envoy` (even) and this one (odd),
    /// one after the other in time (ABAB), so that each pair of processes compares the two Envoys.
    pub alternate_envoy: Option<&'a EnvoyBin>,
}

/// Measures `g.variants` like `run` does; returns the results (partial when the outcome is an error:
/// the rounds finished so far) and the outcome. `results.json` in `g.out` is rewritten after every
/// round.
pub fn measure_given(g: &Given) -> (Results, anyhow::Result<()>) {
    let m = Matrix {
        built: vec![],
        variants: g.variants.to_vec(),
        skipped: g.skipped.to_vec(),
        runtimes: g.runtimes.to_vec(),
        wasm_runtimes: vec![],
    };
    let (envoy_cpu, load_cpu) = crate::sys::pinning(g.profile.pin);
    if let Some(c) = load_cpu {
        let _ = crate::sys::pin_to_cpu(0, c);
    }
    let started_at = crate::sys::now_rfc3339();
    let mut results = new_results(started_at, g.envoy, &m, g.profile, envoy_cpu, load_cpu);
    if let Some(b) = g
        .variants
        .iter()
        .find(|v| v.body_bytes != g.variants[0].body_bytes)
    {
        let e = anyhow::anyhow!(
            "variant {} has another body size than its baseline",
            b.info.id
        );
        return (results, Err(e));
    }
    let at_start = at_start();
    let mut stalls = probe_stalls("start", STALL_PROBE);
    let outcome = std::fs::create_dir_all(g.out)
        .map_err(anyhow::Error::from)
        .and_then(|()| measure_all(g, &mut results, envoy_cpu, load_cpu));
    stalls.extend(probe_stalls("end", STALL_PROBE));
    let infos: Vec<_> = g.variants.iter().map(|v| v.info.clone()).collect();
    results.variants = results::summarize(&infos, &results.rounds, &results.pooled);
    results.finished_at = Some(crate::sys::now_rfc3339());
    results.status = crate::error::status_of(&outcome).into();
    results.health = Some(health(&results, &at_start, stalls));
    if !results.rounds.is_empty() {
        let _ = results.write(&g.out.join("results.json"));
    }
    (results, outcome)
}

fn measure_all(
    g: &Given,
    results: &mut Results,
    envoy_cpu: Option<usize>,
    load_cpu: Option<usize>,
) -> anyhow::Result<()> {
    let mut envoys = start_all(&Starting {
        project: g.project,
        envoy: g.envoy,
        alternate: g.alternate_envoy,
        out: g.out,
        variants: g.variants,
        processes: g.profile.processes,
        base_port: g.base_port,
        envoy_cpu,
    })?;
    let mut run = Run {
        profile: g.profile,
        pairing: &g.pairing,
        variants: g.variants,
        infos: g.variants.iter().map(|v| v.info.clone()).collect(),
        json_path: g.out.join("results.json"),
        load_cpu,
        http2: false,
        bar: ProgressBar::hidden(),
        calibrations: Vec::new(),
        after_s: 0.0,
        measuring: std::time::Instant::now(),
        done_rounds: 0,
    };
    for (process, started) in envoys.iter_mut().enumerate() {
        let step = measure_process(&mut run, results, process, started, |r, c| {
            let round_s = r.pairing.round_s(r.profile, c);
            eprintln!(
                "  {} listeners x {} rounds: ~{} ({} per round)",
                r.variants.len(),
                r.profile.rounds,
                estimate::human(round_s * r.profile.rounds as f64),
                estimate::human(round_s)
            );
            Schedule {
                round_s,
                after_s: 0.0,
            }
        });
        started.envoy.stop();
        step?;
    }
    run.bar.finish_and_clear();
    Ok(())
}
