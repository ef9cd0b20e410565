//! Computing a comparison: per variant and metric, the change with its interval and verdict, and the
//! notes on conditions that differ between the two runs.

use super::*;

pub(super) fn variant_ids(r: &Results) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for v in &r.variants {
        if !ids.contains(&v.id) {
            ids.push(v.id.clone());
        }
    }
    for x in &r.rounds {
        if !ids.contains(&x.variant) {
            ids.push(x.variant.clone());
        }
    }
    for v in r.instructions.iter().flat_map(|s| &s.variants) {
        if !ids.contains(&v.id) {
            ids.push(v.id.clone());
        }
    }
    ids
}

/// The instruction counts of `id` in a run: (added per request, or per request for the baseline;
/// the listener's instructions per request; processes).
fn instructions_of(r: &Results, id: &str) -> Option<(f64, f64, usize)> {
    let v = r.instructions.as_ref()?.variant(id)?;
    let total = v.per_request.estimate;
    let figure = match &v.added {
        Some(a) => a.estimate,
        None => total,
    };
    (figure.is_finite() && total.is_finite()).then_some((figure, total, v.processes))
}

/// The instruction figure of one variant, compared exactly: the change of its added instructions
/// per request (the baseline: of its instructions per request) as % of BASE's instructions per
/// request of the listener, against a relative threshold. Counts do not move with the machine's
/// noise, so there is no interval: any change above the threshold is a verdict.
pub(super) fn compare_instructions(
    base: &Results,
    new: &Results,
    id: &str,
    opts: &Options,
) -> Option<MetricChange> {
    let (b, b_total, b_n) = instructions_of(base, id)?;
    let (n, _, n_n) = instructions_of(new, id)?;
    let pct = 100.0 * (n - b) / b_total;
    let change = Estimate {
        estimate: pct,
        ci95_low: pct,
        ci95_high: pct,
    };
    let setting = opts.thresholds.instructions;
    let threshold = match setting {
        Threshold::Pct(p) | Threshold::Us(p) => p,
    };
    Some(MetricChange {
        metric: Metric::Instructions,
        quantity: Metric::Instructions.quantity(id == BASELINE),
        base: b,
        new: n,
        change,
        change_unit: "pct",
        threshold,
        threshold_setting: setting,
        rounds_base: b_n,
        rounds_new: n_n,
        significant: pct != 0.0,
        p_worse: f64::NAN,
        p_better: f64::NAN,
        verdict: stats::verdict(&change, threshold, Direction::LowerIsBetter),
    })
}

/// Whether the two runs' baseline CPU per request differs by more than their noise: then CPU overheads
/// are compared relative to each run's own baseline CPU. Returns the reason when it does.
pub(super) fn baselines_differ(base: &Results, new: &Results) -> Option<String> {
    let (b, n) = (units_of(base, BASELINE), units_of(new, BASELINE));
    let e = crate::stats::welch_interval(&b.abs_cpu, &n.abs_cpu);
    (e.has_interval() && !e.contains(0.0)).then(|| {
        format!(
            "the baseline's Envoy CPU differs between the runs ({:.2} -> {:.2} µs/request, {:+.2} [{:+.2}, {:+.2}]): the machine or Envoy itself changed, so CPU overheads are compared relative to each run's baseline CPU (%), the threshold converted with BASE's",
            crate::stats::mean(&b.abs_cpu),
            crate::stats::mean(&n.abs_cpu),
            e.estimate,
            e.ci95_low,
            e.ci95_high
        )
    })
}

/// The per-process figures one variant's comparison reads: the variant's in both runs, and BASE's
/// baseline CPU per request (what a µs threshold becomes a share of when CPU is compared relative).
pub(super) struct Sides {
    base: results::Units,
    new: results::Units,
    base_baseline_cpu: f64,
}

impl Sides {
    pub(super) fn of(base: &Results, new: &Results, id: &str) -> Sides {
        Sides {
            base: units_of(base, id),
            new: units_of(new, id),
            base_baseline_cpu: crate::stats::mean(&units_of(base, BASELINE).abs_cpu),
        }
    }
}

pub(super) fn compare_metric(
    sides: &Sides,
    id: &str,
    metric: Metric,
    opts: &Options,
    relative_cpu: bool,
) -> MetricChange {
    let reference = id == BASELINE;
    let (bu, nu) = (&sides.base, &sides.new);
    let relative = relative_cpu && metric == Metric::Cpu && !reference;
    let b = metric.per_unit(bu, reference, relative);
    let n = metric.per_unit(nu, reference, relative);
    let mut change = crate::stats::welch_interval(&b, &n);
    if metric == Metric::Rps && reference {
        // the baseline's throughput change in %, like the variants' figure
        let m = crate::stats::mean(&b);
        change = Estimate {
            estimate: 100.0 * change.estimate / m,
            ci95_low: 100.0 * change.ci95_low / m,
            ci95_high: 100.0 * change.ci95_high / m,
        };
    }
    let setting = opts.thresholds.get(metric);
    let base_abs = crate::stats::mean(&metric.absolute(bu));
    let mut threshold = match (metric, setting) {
        (Metric::Rps, Threshold::Pct(p)) => p,
        (Metric::Rps, Threshold::Us(x)) => x, // rejected by Thresholds::from_flags; kept total
        (_, Threshold::Us(x)) => x,
        (_, Threshold::Pct(p)) => p / 100.0 * base_abs.abs(),
    };
    if relative {
        // a threshold in µs becomes a share of BASE's baseline CPU
        threshold = 100.0 * threshold / sides.base_baseline_cpu;
    }
    let verdict = stats::verdict(&change, threshold, metric.direction());
    let (p_up, p_down) = stats::one_sided_p(&b, &n).unwrap_or((f64::NAN, f64::NAN));
    let (p_worse, p_better) = match metric.direction() {
        Direction::LowerIsBetter => (p_up, p_down),
        Direction::HigherIsBetter => (p_down, p_up),
    };
    MetricChange {
        metric,
        quantity: if relative {
            "overhead_cpu_pct_of_baseline"
        } else {
            metric.quantity(reference)
        },
        base: crate::stats::mean(&b),
        new: crate::stats::mean(&n),
        change,
        change_unit: if metric == Metric::Rps || relative {
            "pct"
        } else {
            "us"
        },
        threshold,
        threshold_setting: setting,
        rounds_base: b.iter().filter(|x| x.is_finite()).count(),
        rounds_new: n.iter().filter(|x| x.is_finite()).count(),
        significant: stats::significant(&change),
        p_worse,
        p_better,
        verdict,
    }
}

/// Notes on conditions that differ between the runs (the comparison still runs; the reader judges).
pub(super) fn condition_notes(base: &Results, new: &Results) -> Vec<String> {
    let mut notes = Vec::new();
    let (bp, np) = (&base.profile, &new.profile);
    if bp.latency != np.latency
        || bp.cpu.connections != np.cpu.connections
        || bp.protocol != np.protocol
        || bp.pin != np.pin
    {
        notes.push(format!(
            "the load differs: BASE profile `{}` (latency {:?} req/s x {} connections, saturation {} connections, pin {}) vs NEW `{}` ({:?} req/s x {}, {} connections, pin {}); latencies are not comparable",
            bp.name, bp.latency.rate, bp.latency.connections, bp.cpu.connections, bp.pin,
            np.name, np.latency.rate, np.latency.connections, np.cpu.connections, np.pin
        ));
    } else if bp.latency.window_s != np.latency.window_s
        || bp.rounds != np.rounds
        || bp.name != np.name
    {
        notes.push(format!(
            "profiles differ: BASE `{}` ({} rounds) vs NEW `{}` ({} rounds)",
            bp.name, bp.rounds, np.name, np.rounds
        ));
    }
    let requests = |r: &Results| r.own.as_ref().map(|o| o.requests.clone());
    if requests(base) != requests(new) {
        let what = |r: &Results| match &r.own {
            None => "`GET /`, answered by Envoy's own routes".to_string(),
            Some(o) => format!(
                "{} stated request(s) ({}) through the runner's upstream",
                o.requests.len(),
                o.request_file.as_deref().unwrap_or("no --request")
            ),
        };
        notes.push(format!(
            "the requests differ: BASE sent {} vs NEW {}; each overhead is against a baseline of its own run's requests, so the runs' overheads are not comparable",
            what(base),
            what(new)
        ));
    }
    if bp.spin != np.spin {
        notes.push(format!(
            "the plugins' `spin` differs: BASE {} vs NEW {} (an injected per-request slowdown, for calibrating this comparison)",
            bp.spin, np.spin
        ));
    }
    if base.envoy.version != new.envoy.version {
        notes.push(format!(
            "Envoy differs: BASE {} vs NEW {}",
            base.envoy.version, new.envoy.version
        ));
    }
    if base.host.cpu_model != new.host.cpu_model || base.host.cores != new.host.cores {
        notes.push(format!(
            "host differs: BASE {} ({} cores) vs NEW {} ({} cores); absolute figures (baseline row) are not comparable",
            base.host.cpu_model, base.host.cores, new.host.cpu_model, new.host.cores
        ));
    }
    if base.runner.debug_assertions != new.runner.debug_assertions
        || base.runner.opt_level != new.runner.opt_level
    {
        notes.push(format!(
            "the runner was built differently: BASE opt-level {} debug-assertions {} vs NEW opt-level {} debug-assertions {}",
            base.runner.opt_level, base.runner.debug_assertions, new.runner.opt_level, new.runner.debug_assertions
        ));
    }
    for (side, r) in [("BASE", base), ("NEW", new)] {
        if r.status != "complete" {
            notes.push(format!(
                "{side} run status is `{}`: only its finished rounds are compared",
                r.status
            ));
        }
    }
    notes
}

/// Compares two runs. Errors (exit 2) when a run has no rounds or the runs share no variant besides
/// the baseline.
pub fn compare(
    base: &Results,
    new: &Results,
    base_label: &str,
    new_label: &str,
    opts: &Options,
) -> anyhow::Result<Comparison> {
    let counted = |r: &Results| {
        r.instructions
            .as_ref()
            .is_some_and(|s| !s.variants.is_empty())
    };
    for (label, r) in [(base_label, base), (new_label, new)] {
        if r.rounds.is_empty() && !counted(r) {
            return Err(usage(format!(
                "{label}: no finished rounds and no instruction counts to compare (status `{}`); re-run it",
                r.status
            )));
        }
    }
    let timed = !base.rounds.is_empty() && !new.rounds.is_empty();
    let base_ids = variant_ids(base);
    let new_ids = variant_ids(new);
    let common: Vec<String> = new_ids
        .iter()
        .filter(|id| base_ids.contains(id))
        .cloned()
        .collect();
    if !common.iter().any(|id| id != BASELINE) {
        return Err(usage(format!(
            "no variant in common besides the baseline: {base_label} has [{}], {new_label} has [{}]; compare runs of the same plugins (--only)",
            base_ids.join(", "),
            new_ids.join(", ")
        )));
    }
    let mut notes = condition_notes(base, new);
    if !timed {
        notes.push(
            "one of the runs has no timed rounds: only instruction counts are compared".into(),
        );
    } else if counted(base) != counted(new) {
        notes.push(
            "one of the runs has no instruction counts: only timed figures are compared".into(),
        );
    }
    let relative_cpu = if timed {
        baselines_differ(base, new)
    } else {
        None
    };
    if let Some(why) = &relative_cpu {
        notes.push(why.clone());
    }
    let mut variants = Vec::new();
    // plugin variants first, the (ungated) baseline last
    for id in common
        .iter()
        .filter(|id| *id != BASELINE)
        .chain(common.iter().filter(|id| *id == BASELINE))
    {
        variants.push(compare_variant(
            base,
            new,
            id,
            opts,
            relative_cpu.is_some() && timed,
            &mut notes,
        ));
    }
    let few = variants
        .iter()
        .flat_map(|v| &v.metrics)
        .map(|m| m.rounds_base.min(m.rounds_new))
        .min()
        .unwrap_or(0);
    if few < crate::stats::MIN_UNITS {
        notes.push(format!(
            "only {few} Envoy process(es) on a side: no interval, so nothing can be significant; use at least {} (--processes, and at least as many --rounds)",
            crate::stats::MIN_UNITS
        ));
    }
    if opts.family_wise {
        notes.push(family_wise(&mut variants));
    }
    let gated = || variants.iter().filter(|v| v.gated).flat_map(|v| &v.metrics);
    let regressions = gated().filter(|m| m.verdict == Verdict::Regressed).count();
    let improvements = gated().filter(|m| m.verdict == Verdict::Improved).count();
    Ok(Comparison {
        base: RunRef::of(base, base_label),
        new: RunRef::of(new, new_label),
        mode: opts.mode.clone(),
        thresholds: opts.thresholds,
        family_wise: opts.family_wise,
        seed: opts.seed,
        only_in_base: base_ids
            .iter()
            .filter(|id| !new_ids.contains(id))
            .cloned()
            .collect(),
        only_in_new: new_ids
            .iter()
            .filter(|id| !base_ids.contains(id))
            .cloned()
            .collect(),
        variants,
        notes,
        regressions,
        improvements,
        exit_code: u8::from(regressions > 0),
    })
}

/// `--family-wise`: the first gate of every gated figure becomes Holm's step-down test at 5%
/// family-wise, regressions and improvements each over all gated figures (the second gate, the
/// noise threshold, stays); the variants' verdicts follow. Returns the note saying so.
pub(super) fn family_wise(variants: &mut [VariantComparison]) -> String {
    const ALPHA: f64 = 0.05;
    // instruction counts keep their exact verdict: they are not a test over noise
    let gated: Vec<&mut MetricChange> = variants
        .iter_mut()
        .filter(|v| v.gated)
        .flat_map(|v| v.metrics.iter_mut())
        .filter(|m| m.metric != Metric::Instructions)
        .collect();
    let worse = stats::holm(&gated.iter().map(|m| m.p_worse).collect::<Vec<_>>(), ALPHA);
    let better = stats::holm(&gated.iter().map(|m| m.p_better).collect::<Vec<_>>(), ALPHA);
    let family = gated.iter().filter(|m| m.p_worse.is_finite()).count();
    for ((m, w), b) in gated.into_iter().zip(worse).zip(better) {
        let beyond = m.change.estimate.abs() > m.threshold.abs();
        let up = m.change.estimate > 0.0;
        let worse_way = up == (m.metric.direction() == Direction::LowerIsBetter);
        m.verdict = match (w && beyond && worse_way, b && beyond && !worse_way) {
            (true, _) => Verdict::Regressed,
            (_, true) => Verdict::Improved,
            _ => Verdict::Unchanged,
        };
    }
    for v in variants.iter_mut().filter(|v| v.gated) {
        v.verdict = variant_verdict(&v.metrics);
    }
    format!(
        "family-wise: a change counts only when Holm's step-down test over all {family} gated figures rejects \"no change\" at 5% family-wise (one-sided Welch t per figure) and it exceeds the noise threshold"
    )
}

fn variant_verdict(metrics: &[MetricChange]) -> Verdict {
    if metrics.iter().any(|m| m.verdict == Verdict::Regressed) {
        Verdict::Regressed
    } else if metrics.iter().any(|m| m.verdict == Verdict::Improved) {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

/// One variant: each metric's change, the variant's verdict, and whether its Wasm module changed
/// (noted in `notes`).
fn compare_variant(
    base: &Results,
    new: &Results,
    id: &String,
    opts: &Options,
    relative_cpu: bool,
    notes: &mut Vec<String>,
) -> VariantComparison {
    let sides = Sides::of(base, new, id);
    let timed = !sides.base.processes.is_empty() && !sides.new.processes.is_empty();
    let mut metrics: Vec<MetricChange> = if timed {
        Metric::ALL
            .iter()
            .map(|m| compare_metric(&sides, id, *m, opts, relative_cpu))
            .collect()
    } else {
        vec![]
    };
    metrics.extend(compare_instructions(base, new, id, opts));
    let verdict = variant_verdict(&metrics);
    let sha = |r: &Results| {
        r.variants
            .iter()
            .find(|v| &v.id == id)
            .and_then(|v| v.wasm_sha256.clone())
    };
    let module_changed = match (sha(base), sha(new)) {
        (Some(a), Some(b)) => Some(a != b),
        _ => None,
    };
    if module_changed == Some(true) {
        notes.push(format!(
            "{id}: the Wasm module changed between the runs (sha256 differs)"
        ));
    }
    VariantComparison {
        id: id.clone(),
        gated: id != BASELINE,
        verdict,
        module_changed,
        metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(metric: Metric, estimate: f64, p_worse: f64, threshold: f64) -> MetricChange {
        MetricChange {
            metric,
            quantity: metric.quantity(false),
            base: 0.0,
            new: estimate,
            change: Estimate {
                estimate,
                ci95_low: estimate - 1.0,
                ci95_high: estimate + 1.0,
            },
            change_unit: "us",
            threshold,
            threshold_setting: Threshold::Us(threshold),
            rounds_base: 6,
            rounds_new: 6,
            significant: true,
            p_worse,
            p_better: 1.0 - p_worse,
            verdict: Verdict::Regressed,
        }
    }

    fn variant(id: &str, metrics: Vec<MetricChange>) -> VariantComparison {
        VariantComparison {
            id: id.into(),
            gated: id != BASELINE,
            verdict: Verdict::Regressed,
            module_changed: None,
            metrics,
        }
    }

    #[test]
    fn runs_that_sent_other_requests_say_so() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let plain =
            Results::read(&root.join("bench-runner/tests/fixtures/results-quick.json")).unwrap();
        let own =
            Results::read(&root.join("results/measurements/own-plugin-quick-20261206")).unwrap();
        let differ = |a: &Results, b: &Results| {
            condition_notes(a, b)
                .iter()
                .any(|n| n.starts_with("the requests differ"))
        };
        assert!(differ(&plain, &own));
        assert!(condition_notes(&plain, &own)
            .iter()
            .any(|n| n.contains("2 stated request(s) (examples/auth-rust/requests.toml)")));
        assert!(!differ(&own, &own) && !differ(&plain, &plain));
    }

    #[test]
    fn family_wise_keeps_only_what_survives_holm_and_the_threshold() {
        // 20 gated figures: one clear regression (p 1e-5, +8 > 2), one whose p (0.01) is significant
        // alone but not among 20 (Holm's second step needs <= 0.05/19), one clear but under the
        // threshold, and a throughput drop (worse way for rps) that is clear.
        let mut figs = vec![
            figure(Metric::P50, 8.0, 1e-5, 2.0),
            figure(Metric::Cpu, 5.0, 0.01, 2.0),
            figure(Metric::P99, 1.0, 1e-6, 25.0),
            figure(Metric::Rps, -30.0, 1e-7, 5.0),
        ];
        figs.extend((0..16).map(|_| figure(Metric::P50, 0.5, 0.4, 2.0)));
        let rest: Vec<MetricChange> = figs.split_off(4);
        let mut vs = vec![
            variant("a", figs),
            variant("b", rest),
            // the ungated baseline row keeps its own verdict and is not in the family
            variant(BASELINE, vec![figure(Metric::P50, 50.0, 1e-9, 2.0)]),
        ];
        let note = family_wise(&mut vs);
        assert!(note.contains("all 20 gated figures"), "{note}");
        let verdicts: Vec<Verdict> = vs[0].metrics.iter().map(|m| m.verdict).collect();
        assert_eq!(
            verdicts,
            vec![
                Verdict::Regressed,
                Verdict::Unchanged,
                Verdict::Unchanged,
                Verdict::Regressed
            ]
        );
        assert_eq!(vs[0].verdict, Verdict::Regressed);
        assert_eq!(vs[1].verdict, Verdict::Unchanged);
        assert_eq!(vs[2].metrics[0].verdict, Verdict::Regressed);
    }
}
