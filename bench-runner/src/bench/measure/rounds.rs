//! One round in one Envoy process: every variant's interleaved latency window against the baseline
//! (the A/A listener's window gives the baseline its own record), then the CPU phase; and the pooling
//! of a process's windows, which the tail percentiles come from.

use super::*;
use std::collections::BTreeMap;

/// The running Envoy and what the rounds need to drive it.
pub(super) struct Rounds<'a> {
    pub(super) profile: &'a Profile,
    /// Who each window pairs a variant with (see [`Pairing`]).
    pub(super) pairing: &'a Pairing,
    /// Envoy's worker thread, when the CPU phase reads that thread alone.
    pub(super) cpu_tid: Option<u32>,
    /// With [`Pairing::Baseline`], index 0 is the baseline, every window's partner.
    pub(super) variants: &'a [Variant],
    /// One listener port per variant (the admin port is not here).
    pub(super) ports: &'a [u16],
    pub(super) envoy: &'a mut Envoy,
    pub(super) log: PathBuf,
    pub(super) process: usize,
    pub(super) load_cpu: Option<usize>,
    pub(super) http2: bool,
    pub(super) bar: &'a ProgressBar,
    /// Per variant index: what a burst costs (the progress bar counts planned milliseconds).
    pub(super) calibrations: &'a [Calibration],
}

/// A process's windows so far, per variant id: (variant side, baseline side, windows).
#[derive(Default)]
pub(super) struct Pools(BTreeMap<String, (LoadOutcome, Option<LoadOutcome>, usize)>);

impl Pools {
    fn add(&mut self, id: &str, mine: &LoadOutcome, base: Option<&LoadOutcome>) {
        match self.0.get_mut(id) {
            Some((m, b, n)) => {
                m.merge(mine);
                if let (Some(b), Some(x)) = (b.as_mut(), base) {
                    b.merge(x);
                }
                *n += 1;
            }
            None => {
                self.0
                    .insert(id.to_string(), (mine.clone(), base.cloned(), 1));
            }
        }
    }

    /// The pooled summaries of process `process`.
    pub(super) fn summaries(&self, process: usize, profile: &Profile) -> Vec<PooledLatency> {
        let pace = pace(profile);
        self.0
            .iter()
            .map(|(id, (m, b, n))| PooledLatency {
                process,
                variant: id.clone(),
                windows: *n,
                latency: m.summarize(pace),
                paired_baseline: b.as_ref().map(|b| b.summarize(pace)),
            })
            .collect()
    }
}

fn pace(p: &Profile) -> Pace {
    match p.latency.rate {
        Some(rate) => Pace::Open { rate },
        None => Pace::Closed,
    }
}

/// One round: every paired variant's window in a shuffled order, then the round's CPU slices.
/// Returns the round's records in visit order (a partner's own record just before its variant's:
/// the baseline's, from the A/A window, or a pair's reference).
pub(super) fn measure_round(
    r: &mut Rounds,
    round: usize,
    pools: &mut Pools,
) -> anyhow::Result<Vec<RoundRecord>> {
    let profile = r.profile;
    let pace = pace(profile);
    let mut order: Vec<usize> = (0..r.variants.len())
        .filter(|&vi| r.pairing.partner(vi).is_some())
        .collect();
    Rng::new(crate::stats::seed_for(profile.seed, "order", round as u64)).shuffle(&mut order);
    let mut windows: Vec<(usize, LoadSummary, Option<LoadSummary>)> = Vec::new();
    let mut stalled_windows: BTreeMap<usize, Vec<StalledWindow>> = BTreeMap::new();
    for &vi in &order {
        crate::sys::check_interrupted()?;
        let v = &r.variants[vi];
        r.bar.set_message(format!(
            "round {}/{} (Envoy {}/{}) · latency · {}",
            round + 1,
            profile.rounds,
            r.process + 1,
            profile.processes,
            v.info.id
        ));
        let partner = r.pairing.partner(vi).unwrap_or(0);
        let (mine, base, stalled) = window_unstalled(r, vi, partner, round)?;
        stalled_windows.insert(vi, stalled);
        let own_record = match r.pairing {
            // The A/A window is also the baseline's own window.
            Pairing::Baseline => v.info.id == results::BASELINE_AA,
            // A pair's window is its reference's own window.
            Pairing::Pairs(_) => true,
        };
        if own_record {
            pools.add(&r.variants[partner].info.id, &base, None);
            windows.push((partner, base.summarize(pace), None));
        }
        pools.add(&v.info.id, &mine, Some(&base));
        windows.push((vi, mine.summarize(pace), Some(base.summarize(pace))));
        r.bar
            .inc(ms(estimate::window_s(profile, &r.calibrations[vi])));
    }
    r.bar.set_message(format!(
        "round {}/{} (Envoy {}/{}) · CPU phase ({} passes over every variant)",
        round + 1,
        profile.rounds,
        r.process + 1,
        profile.processes,
        profile.cpu.slices
    ));
    let mut cpu = cpu_slices(r, round)?;
    r.bar
        .inc(ms(estimate::cpu_phase_s(profile, r.calibrations)));
    let mut records = Vec::with_capacity(windows.len());
    for (pos, (vi, latency, paired_baseline)) in windows.into_iter().enumerate() {
        let stalled = if paired_baseline.is_none() {
            vec![]
        } else {
            stalled_windows.remove(&vi).unwrap_or_default()
        };
        let c = std::mem::replace(
            &mut cpu[vi],
            CpuOfVariant {
                saturation: None,
                slices: vec![],
                fixed: vec![],
                processor_slices: vec![],
                processor_fixed: vec![],
            },
        );
        records.push(RoundRecord {
            process: r.process,
            round,
            order: pos,
            variant: r.variants[vi].info.id.clone(),
            latency,
            paired_baseline,
            saturation: c
                .saturation
                .map(|o| o.summarize(Pace::Closed))
                .ok_or_else(|| anyhow::anyhow!("no saturation slice was measured"))?,
            cpu_us_per_req: crate::stats::median(&c.slices),
            cpu_slices_us_per_req: c.slices,
            fixed_cpu_us_per_req: crate::stats::median(&c.fixed),
            fixed_cpu_slices_us_per_req: c.fixed,
            processor_cpu_us_per_req: (!c.processor_slices.is_empty())
                .then(|| crate::stats::median(&c.processor_slices)),
            processor_fixed_cpu_us_per_req: (!c.processor_fixed.is_empty())
                .then(|| crate::stats::median(&c.processor_fixed)),
            // a partner's own record is the other side of its variant's window: the retries are the
            // variant's
            stalled_windows: stalled,
        });
    }
    Ok(records)
}

/// `vi`'s interleaved window with `partner`, measured again (at most [`results::STALL_RETRIES`] times,
/// each with its own seed) while the partner's side says the machine stalled; returns the window kept and the ones left
/// out. After the last retry the window is kept as it is (and stays counted as fallen behind).
fn window_unstalled(
    r: &mut Rounds,
    vi: usize,
    partner: usize,
    round: usize,
) -> anyhow::Result<(LoadOutcome, LoadOutcome, Vec<StalledWindow>)> {
    let profile = r.profile;
    let pace = pace(profile);
    let id = r.variants[vi].info.id.clone();
    let mut left_out = Vec::new();
    let mut attempt = 0;
    loop {
        let seed = crate::stats::seed_for(profile.seed, &id, round as u64 + 1_000_000 * attempt);
        let (mine, base) = paired_window(r, vi, partner, seed)?;
        check_envoy(r.envoy, &r.log, &format!("variant {id}"))?;
        let b = base.summarize(pace);
        if attempt == results::STALL_RETRIES || !results::stalled(&b) {
            return Ok((mine, base, left_out));
        }
        left_out.push(StalledWindow {
            latency: mine.summarize(pace),
            paired_baseline: b,
        });
        attempt += 1;
    }
}

/// Seconds as whole milliseconds, the progress bar's unit.
pub(super) fn ms(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}
