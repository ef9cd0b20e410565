//! The phases of one visit and of a round: a load plan per phase, the phase itself with Envoy's CPU
//! time around it, the CPU slices, and the smoke check before any measuring.

use super::*;

pub(super) fn phase_plan(
    phase: &Phase,
    port: u16,
    expect: &str,
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
        expect_body: Some(expect.as_bytes().to_vec()),
        cpu,
        cpu_probe_pid: None,
        http2,
    }
}

/// Runs one phase against one listener; returns its summary and Envoy's CPU µs per request over it.
pub(super) fn measure_phase(envoy: &Envoy, plan: &LoadPlan) -> anyhow::Result<(LoadSummary, f64)> {
    let mut p = plan.clone();
    p.cpu_probe_pid = Some(envoy.pid);
    let outcome = load::run(&p, None)?;
    let summary = outcome.summarize(p.pace);
    let cpu = match outcome.target_cpu_ns {
        Some(ns) if summary.requests > 0 => ns as f64 / 1000.0 / summary.requests as f64,
        _ => f64::NAN,
    };
    Ok((summary, cpu))
}

/// One round's CPU phase: `slices` times every variant in a fresh shuffled order, a closed-loop burst
/// of `requests` requests; returns Envoy's CPU µs per request of every slice, per variant index.
pub(super) fn cpu_slices(c: &mut CpuSlices) -> anyhow::Result<Vec<Vec<f64>>> {
    let mut out = vec![Vec::with_capacity(c.phase.slices); c.variants.len()];
    let mut order: Vec<usize> = (0..c.variants.len()).collect();
    for _ in 0..c.phase.slices {
        c.rng.shuffle(&mut order);
        for &vi in &order {
            crate::sys::check_interrupted()?;
            let v = &c.variants[vi];
            let mut plan = phase_plan(
                &Phase {
                    connections: c.phase.connections,
                    rate: None,
                    warmup_s: c.phase.warmup_ms as f64 / 1000.0,
                    window_s: 0.0,
                },
                c.ports[vi],
                &v.expect_body,
                c.timeout,
                c.cpu,
                c.http2,
            );
            plan.duration = None;
            plan.requests = Some(c.phase.requests);
            let (summary, cpu) = measure_phase(c.envoy, &plan)?;
            let running = c.envoy.is_running();
            if summary.errors > 0 || !running {
                return Err(usage(format!(
                    "variant {}: {} of {} requests failed in a CPU slice{}; see {}",
                    v.info.id,
                    summary.errors,
                    summary.requests + summary.errors,
                    if running { "" } else { " and Envoy exited" },
                    c.log.display()
                )));
            }
            out[vi].push(cpu);
        }
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
        let mut p = phase_plan(
            &Phase {
                connections: 1,
                rate: None,
                warmup_s: 0.0,
                window_s: 1.0,
            },
            *port,
            &v.expect_body,
            timeout,
            None,
            http2,
        );
        p.duration = None;
        p.requests = Some(3);
        let o = load::run(&p, None)?;
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

/// Before measuring: times two closed-loop bursts per variant, shaped like a CPU slice (its
/// connections and warm-up) with 10% and 100% of its requests, so that the time estimate knows what a
/// burst costs here (the fixed part and the part per request) for every variant. About 1.1 CPU slices
/// of each variant; nothing of it is kept as a measurement.
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
            let mut plan = phase_plan(
                &Phase {
                    connections: phase.connections,
                    rate: None,
                    warmup_s: phase.warmup_ms as f64 / 1000.0,
                    window_s: 0.0,
                },
                *port,
                &v.expect_body,
                timeout,
                cpu,
                http2,
            );
            plan.duration = None;
            plan.requests = Some(requests);
            let t = std::time::Instant::now();
            load::run(&plan, None)?;
            Ok((requests, t.elapsed().as_secs_f64()))
        };
        let s = burst(small)?;
        let l = burst(phase.requests)?;
        out.push(Calibration::from_bursts(s, l));
    }
    Ok(out)
}
