//! The load shapes of a round and the steps around them: a load plan per phase, the interleaved
//! latency window, the CPU slices of both regimes, the smoke check and the calibration bursts.

use super::*;

pub(super) fn phase_plan(
    phase: &Phase,
    port: u16,
    v: &Variant,
    timeout: f64,
    cpu: Option<usize>,
    http2: bool,
) -> LoadPlan {
    LoadPlan {
        addr: ([127, 0, 0, 1], port).into(),
        host: "localhost".into(),
        path: "/".into(),
        connections: phase.connections,
        pace: match phase.rate {
            Some(rate) => Pace::Open { rate },
            None => Pace::Closed,
        },
        warmup: Duration::from_secs_f64(phase.warmup_s),
        duration: Some(Duration::from_secs_f64(phase.window_s)),
        requests: None,
        max_duration: Duration::from_secs_f64(phase.warmup_s + phase.window_s + 30.0),
        timeout: Duration::from_secs_f64(timeout),
        expect_status: 200,
        expect_body: Some(v.expect_body.as_bytes().to_vec()),
        cpu,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        http2,
        body_bytes: v.body_bytes,
        exchange: v.exchange.clone(),
        // A processor of your own that the runner started: its CPU counts beside Envoy's.
        cpu_probe_extra_pid: v.own_processor_pid(),
    }
}

/// A burst of `requests` measured requests after `warmup_ms`: closed loop over `connections`, or
/// open loop at `rate`.
pub(super) struct Burst {
    pub(super) connections: usize,
    pub(super) rate: Option<f64>,
    pub(super) requests: u64,
    pub(super) warmup_ms: u64,
}

pub(super) fn burst_plan(
    b: &Burst,
    port: u16,
    v: &Variant,
    timeout: f64,
    cpu: Option<usize>,
    http2: bool,
) -> LoadPlan {
    let mut plan = phase_plan(
        &Phase {
            connections: b.connections,
            rate: b.rate,
            warmup_s: b.warmup_ms as f64 / 1000.0,
            window_s: 0.0,
        },
        port,
        v,
        timeout,
        cpu,
        http2,
    );
    plan.duration = None;
    plan.requests = Some(b.requests);
    plan
}

/// One burst's CPU µs per request: Envoy's, and its external processor's when it has one.
pub(super) struct BurstCpu {
    pub(super) envoy: f64,
    pub(super) processor: Option<f64>,
}

/// Runs one plan with Envoy's CPU probed (its worker thread `tid` alone when given, else every
/// thread; and the external processor `processor`'s, for an ext_proc variant); returns the raw
/// outcome and the CPU µs per request.
pub(super) fn measure_burst(
    envoy: &Envoy,
    tid: Option<u32>,
    processor: Option<u32>,
    plan: &LoadPlan,
) -> anyhow::Result<(LoadOutcome, BurstCpu)> {
    let mut p = plan.clone();
    p.cpu_probe_pid = Some(envoy.pid);
    p.cpu_probe_tid = tid;
    // a plugin of your own's processor is in the plan already
    p.cpu_probe_extra_pid = p.cpu_probe_extra_pid.or(processor);
    let outcome = load::run(&p, None)?;
    let requests = outcome.ok + outcome.errors.total();
    let per_request = |ns: Option<u64>| match ns {
        Some(ns) if requests > 0 => ns as f64 / 1000.0 / requests as f64,
        _ => f64::NAN,
    };
    let cpu = BurstCpu {
        envoy: per_request(outcome.target_cpu_ns),
        processor: p
            .cpu_probe_extra_pid
            .map(|_| per_request(outcome.extra_cpu_ns)),
    };
    Ok((outcome, cpu))
}

/// Fails the run when Envoy has exited, with the end of its log.
pub(super) fn check_envoy(envoy: &mut Envoy, log: &Path, during: &str) -> anyhow::Result<()> {
    if envoy.is_running() {
        return Ok(());
    }
    Err(usage(format!(
        "Envoy exited during the run ({during}); last lines of {}:\n{}",
        log.display(),
        crate::envoy::process::log_tail(log, 12)
    )))
}

/// One interleaved latency window: `vi` and its partner (the baseline, or a pair's reference) on one
/// open-loop schedule at the profile's rate, each over its own connections; returns (variant side,
/// partner side).
pub(super) fn paired_window(
    r: &Rounds,
    vi: usize,
    partner: usize,
    seed: u64,
) -> anyhow::Result<(LoadOutcome, LoadOutcome)> {
    let p = &r.profile.latency;
    let plan = |i: usize| {
        phase_plan(
            p,
            r.ports[i],
            &r.variants[i],
            r.profile.timeout_s,
            r.load_cpu,
            r.http2,
        )
    };
    let mut outs = load::run_interleaved(&[plan(vi), plan(partner)], seed)?.into_iter();
    match (outs.next(), outs.next()) {
        (Some(v), Some(b)) => Ok((v, b)),
        _ => Err(anyhow::anyhow!("an interleaved window returned no outcome")),
    }
}

/// What one round's CPU phase measured for one variant: the saturation slices (and their pooled
/// outcome, for throughput) and the fixed-rate slices, µs per request, one per pass.
pub(super) struct CpuOfVariant {
    pub(super) saturation: Option<LoadOutcome>,
    pub(super) slices: Vec<f64>,
    pub(super) fixed: Vec<f64>,
    /// The external processor's CPU in the same slices (empty without one).
    pub(super) processor_slices: Vec<f64>,
    pub(super) processor_fixed: Vec<f64>,
}

/// The order of the CPU slices of one pass (variant indices; a variant may come more than once):
/// with [`Pairing::Baseline`] every variant once, `last` (the previous pass's order, every variant
/// at first) shuffled again; with [`Pairing::Pairs`] the pairs in a fresh shuffled order, each as
/// reference, candidate, candidate, reference or the mirror, the orientation alternating between
/// pairs and passes.
pub(super) fn pass_order(
    pairing: &Pairing,
    last: &mut [usize],
    pass: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    match pairing {
        Pairing::Baseline => {
            rng.shuffle(last);
            last.to_vec()
        }
        Pairing::Pairs(pairs) => {
            let mut order: Vec<usize> = (0..pairs.len()).collect();
            rng.shuffle(&mut order);
            let flip = rng.next_u64() & 1;
            order
                .iter()
                .enumerate()
                .flat_map(|(k, &j)| {
                    let (a, b) = pairs[j];
                    if (k as u64 + pass as u64 + flip).is_multiple_of(2) {
                        [a, b, b, a]
                    } else {
                        [b, a, a, b]
                    }
                })
                .collect()
        }
    }
}

/// One round's CPU phase: `slices` passes in the order [`pass_order`] gives; per slice a saturation
/// burst then a fixed-rate burst. Per variant index.
pub(super) fn cpu_slices(r: &mut Rounds, round: usize) -> anyhow::Result<Vec<CpuOfVariant>> {
    let phase = r.profile.cpu.clone();
    let mut out: Vec<CpuOfVariant> = (0..r.variants.len())
        .map(|_| CpuOfVariant {
            saturation: None,
            slices: Vec::with_capacity(phase.slices),
            fixed: Vec::with_capacity(phase.slices),
            processor_slices: vec![],
            processor_fixed: vec![],
        })
        .collect();
    let saturation = Burst {
        connections: phase.connections,
        rate: None,
        requests: phase.requests,
        warmup_ms: phase.warmup_ms,
    };
    let fixed = Burst {
        connections: r.profile.latency.connections,
        rate: r.profile.latency.rate,
        requests: phase.fixed_requests,
        warmup_ms: phase.warmup_ms,
    };
    let mut rng = Rng::new(crate::stats::seed_for(
        r.profile.seed,
        "cpu-order",
        round as u64,
    ));
    let mut last: Vec<usize> = (0..r.variants.len()).collect();
    for pass in 0..phase.slices {
        let order = pass_order(r.pairing, &mut last, pass, &mut rng);
        for &vi in &order {
            crate::sys::check_interrupted()?;
            let v = &r.variants[vi];
            for (burst, is_fixed) in [(&saturation, false), (&fixed, true)] {
                let plan = burst_plan(
                    burst,
                    r.ports[vi],
                    v,
                    r.profile.timeout_s,
                    r.load_cpu,
                    r.http2,
                );
                // A processor serves its ext_proc listeners: it counts for those alone (and a
                // processor of your own, already in the plan, for its listener).
                let processor = match &v.kind {
                    crate::bench::variants::Kind::ExtProc { built } => {
                        r.envoy.processor_pid_of(&built.module)
                    }
                    _ => None,
                };
                let (outcome, cpu) = measure_burst(r.envoy, r.cpu_tid, processor, &plan)?;
                let errors = outcome.errors.total();
                if errors > 0 {
                    check_envoy(r.envoy, &r.log, &format!("CPU slice of {}", v.info.id))?;
                    return Err(usage(format!(
                        "variant {}: {errors} of {} requests failed in a CPU slice; see {}",
                        v.info.id,
                        outcome.ok + errors,
                        r.log.display()
                    )));
                }
                let o = &mut out[vi];
                if is_fixed {
                    o.fixed.push(cpu.envoy);
                    o.processor_fixed.extend(cpu.processor);
                } else {
                    o.slices.push(cpu.envoy);
                    o.processor_slices.extend(cpu.processor);
                    match &mut o.saturation {
                        Some(pooled) => pooled.merge(&outcome),
                        None => o.saturation = Some(outcome),
                    }
                }
            }
        }
        check_envoy(r.envoy, &r.log, "CPU phase")?;
    }
    Ok(out)
}

/// A quick correctness check before measuring: each variant must answer its expected body.
pub(super) fn smoke_check(
    variants: &[Variant],
    ports: &[u16],
    timeout: f64,
    http2: bool,
) -> anyhow::Result<()> {
    for (v, port) in variants.iter().zip(ports) {
        let b = Burst {
            connections: 1,
            rate: None,
            requests: 3,
            warmup_ms: 0,
        };
        let o = load::run(&burst_plan(&b, *port, v, timeout, None, http2), None)?;
        // Ctrl-C stops the burst short: that is an interruption, not a variant that fails
        crate::sys::check_interrupted()?;
        if o.ok != 3 {
            return Err(usage(format!(
                "variant {} (127.0.0.1:{port}) does not answer as expected before measuring: {} of 3 requests failed ({:?}, statuses {:?}); run `bench-runner conformance` to see why",
                v.info.id,
                3 - o.ok,
                o.errors,
                o.wrong_statuses
            )));
        }
    }
    Ok(())
}

/// A fresh Envoy's first requests run cold code (JIT tiers, caches): a closed-loop burst of `requests`
/// to every listener before anything is measured in a process.
pub(super) fn warm(
    variants: &[Variant],
    ports: &[u16],
    requests: u64,
    timeout: f64,
    cpu: Option<usize>,
    http2: bool,
) -> anyhow::Result<()> {
    for (v, port) in variants.iter().zip(ports) {
        crate::sys::check_interrupted()?;
        let b = Burst {
            connections: 4,
            rate: None,
            requests,
            warmup_ms: 0,
        };
        load::run(&burst_plan(&b, *port, v, timeout, cpu, http2), None)?;
    }
    Ok(())
}

/// Before measuring: times two closed-loop bursts per variant, shaped like a saturation slice (its
/// connections and warm-up) with 10% and 100% of its requests, so that the time estimate knows what a
/// burst costs here (the fixed part and the part per request) for every variant. Nothing of it is
/// kept as a measurement.
pub(super) fn calibrate(
    variants: &[Variant],
    ports: &[u16],
    phase: &CpuPhase,
    timeout: f64,
    cpu: Option<usize>,
    http2: bool,
) -> anyhow::Result<Vec<Calibration>> {
    let small = (phase.requests / 10).max(1);
    let mut out = Vec::with_capacity(variants.len());
    for (v, port) in variants.iter().zip(ports) {
        let burst = |requests: u64| -> anyhow::Result<(u64, f64)> {
            crate::sys::check_interrupted()?;
            let b = Burst {
                connections: phase.connections,
                rate: None,
                requests,
                warmup_ms: phase.warmup_ms,
            };
            let t = std::time::Instant::now();
            load::run(&burst_plan(&b, *port, v, timeout, cpu, http2), None)?;
            Ok((requests, t.elapsed().as_secs_f64()))
        };
        let s = burst(small)?;
        let l = burst(phase.requests)?;
        out.push(Calibration::from_bursts(s, l));
    }
    Ok(out)
}
