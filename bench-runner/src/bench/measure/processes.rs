//! The Envoy processes of a run: all started at once before anything is measured, then each measured in
//! turn (smoke check, warm-up, its rounds).

use super::*;

/// What starting the run's Envoy processes needs.
pub(super) struct Starting<'a> {
    pub(super) project: &'a Project,
    pub(super) envoy: &'a EnvoyBin,
    /// The binary of the odd processes, when two Envoys are compared (ABAB).
    pub(super) alternate: Option<&'a EnvoyBin>,
    pub(super) out: &'a Path,
    pub(super) variants: &'a [Variant],
    pub(super) processes: usize,
    pub(super) base_port: Option<u16>,
    pub(super) envoy_cpu: Option<usize>,
}

impl Starting<'_> {
    /// The binary of process `p` (0-based): the alternate one for odd processes.
    pub(super) fn envoy_of(&self, p: usize) -> &EnvoyBin {
        match self.alternate {
            Some(a) if p % 2 == 1 => a,
            _ => self.envoy,
        }
    }

    /// The launch of one process, unpinned (its threads are pinned once all are ready).
    fn launch<'b>(&'b self, stem: &'b str, admin_port: u16, p: usize) -> Launch<'b> {
        Launch {
            project: self.project,
            envoy: self.envoy_of(p),
            dir: self.out,
            stem,
            admin_port,
            cpu: None,
            log_level: "info",
        }
    }
}

/// One Envoy process of the run, started and waiting for its turn.
pub(super) struct Started {
    pub(super) envoy: Envoy,
    /// Its admin port, then one listener port per variant.
    pub(super) ports: Vec<u16>,
    pub(super) log: PathBuf,
}

/// Starts every Envoy process of the run at once, before anything is measured: each compiles its
/// Wasm modules (about 12 s per process here, most of it the Go modules), in parallel and on every
/// CPU since nothing is measured yet; then every thread of each is pinned to Envoy's CPU. They are
/// measured one after the other; an idle one only runs its timers.
pub(super) fn start_all(s: &Starting) -> anyhow::Result<Vec<Started>> {
    let per = s.variants.len() + 1;
    eprintln!(
        "starting {} Envoy processes with {} listeners each (logs {}/envoy-N.log)",
        s.processes,
        per - 1,
        s.out.display()
    );
    // All ports at once, so that no two processes get the same one (Envoy binds listeners with
    // SO_REUSEPORT: two processes on one port would share its connections without an error).
    let all = allocate_ports(per * s.processes, s.base_port)?;
    let stems: Vec<String> = (1..=s.processes).map(|p| format!("envoy-{p}")).collect();
    // Spawned from this thread (an Envoy dies with the thread that spawned it), then waited for.
    let mut spawned = Vec::with_capacity(s.processes);
    for (p, stem) in stems.iter().enumerate() {
        let ports = all[p * per..(p + 1) * per].to_vec();
        let listeners = s
            .variants
            .iter()
            .zip(&ports[1..])
            .map(|(v, port)| v.listener(*port))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let envoy = s.launch(stem, ports[0], p).spawn(&listeners)?;
        spawned.push((p, stem, ports, listeners, envoy));
    }
    let mut started = Vec::with_capacity(s.processes);
    for (p, stem, ports, mut listeners, mut envoy) in spawned {
        let mut l = s.launch(stem, ports[0], p);
        let envoy = match l.wait_ready(&mut envoy) {
            Ok(()) => envoy,
            // a port taken in between: this process again, alone, with the one retry rule
            Err(e) if crate::envoy::session::is_port_clash(&e) => {
                let base = s.base_port.map(|_| ports[0]);
                l.start_retrying(&mut listeners, base)?
            }
            Err(e) => return Err(e),
        };
        started.push(Started {
            ports: std::iter::once(l.admin_port)
                .chain(listeners.iter().map(|x| x.port))
                .collect(),
            log: l.log_path(),
            envoy,
        });
    }

    if let Some(cpu) = s.envoy_cpu {
        for st in &started {
            crate::sys::pin_process(st.envoy.pid, cpu).map_err(|e| {
                anyhow::anyhow!("cannot pin Envoy (pid {}) to CPU {cpu}: {e}", st.envoy.pid)
            })?;
        }
    }
    Ok(started)
}

/// The state of a run across its processes.
pub(super) struct Run<'a> {
    pub(super) profile: &'a Profile,
    pub(super) pairing: &'a Pairing,
    pub(super) variants: &'a [Variant],
    pub(super) infos: Vec<results::VariantInfo>,
    pub(super) json_path: PathBuf,
    pub(super) load_cpu: Option<usize>,
    pub(super) http2: bool,
    pub(super) bar: ProgressBar,
    pub(super) calibrations: Vec<Calibration>,
    /// What follows the rounds, s (for the time left).
    pub(super) after_s: f64,
    pub(super) measuring: std::time::Instant,
    pub(super) done_rounds: usize,
}

/// One Envoy process's share of the run: smoke check, warm-up, (first process) calibration and the
/// time estimate, then its rounds, each written to results.json when done.
pub(super) fn measure_process(
    run: &mut Run,
    results: &mut Results,
    process: usize,
    started: &mut Started,
    announce: impl FnOnce(&Run, &[Calibration]) -> Schedule,
) -> anyhow::Result<()> {
    let profile = run.profile;
    let ports = started.ports[1..].to_vec();
    check_envoy(&mut started.envoy, &started.log, "before measuring")?;
    smoke_check(run.variants, &ports, profile.timeout_s, run.http2)?;
    warm(
        run.variants,
        &ports,
        200,
        profile.timeout_s,
        run.load_cpu,
        run.http2,
    )?;
    if process == 0 {
        run.calibrations = calibrate(
            run.variants,
            &ports,
            &profile.cpu,
            profile.timeout_s,
            run.load_cpu,
            run.http2,
        )?;
        let s = announce(run, &run.calibrations);
        run.bar = progress_bar(ms(s.round_s * profile.rounds as f64));
        run.after_s = s.after_s;
    } else if run.bar.is_hidden() {
        eprintln!(
            "Envoy {}/{}: pid {}",
            process + 1,
            profile.processes,
            started.envoy.pid
        );
    }
    let cpu_tid = match profile.cpu_thread.as_deref() {
        None => None,
        Some(_) => Some(worker_thread(started.envoy.pid)?),
    };
    let mut r = Rounds {
        profile,
        pairing: run.pairing,
        cpu_tid,
        variants: run.variants,
        ports: &ports,
        envoy: &mut started.envoy,
        log: started.log.clone(),
        process,
        load_cpu: run.load_cpu,
        http2: run.http2,
        bar: &run.bar,
        calibrations: &run.calibrations,
    };
    let mut pools = Pools::default();
    for round in rounds_of(profile.rounds, profile.processes, process) {
        let mut records = measure_round(&mut r, round, &mut pools)?;
        results.rounds.append(&mut records);
        results.pooled.retain(|p| p.process != process);
        results.pooled.extend(pools.summaries(process, profile));
        results.variants = results::summarize(&run.infos, &results.rounds, &results.pooled);
        results.write(&run.json_path)?;
        run.done_rounds += 1;
        if run.bar.is_hidden() {
            let elapsed = run.measuring.elapsed().as_secs_f64();
            eprintln!(
                "round {}/{} done ({} so far, ~{} left)",
                run.done_rounds,
                profile.rounds,
                estimate::human(elapsed),
                estimate::human(estimate::remaining_s(
                    profile.rounds,
                    run.done_rounds,
                    elapsed,
                    run.after_s
                ))
            );
        }
    }
    Ok(())
}

/// The thread of Envoy `pid` that serves requests (`--concurrency 1`: one thread named
/// `wrk:worker_0`), whose CPU time alone the CPU phase reads when the profile says so
/// ([`results::CPU_THREAD_WORKER`]): the main thread's timers and the stats flushes move with wall
/// time, not with the requests.
pub(super) fn worker_thread(pid: u32) -> anyhow::Result<u32> {
    match crate::sys::threads_named(pid, "wrk:worker").as_slice() {
        [tid] => Ok(*tid),
        other => Err(anyhow::anyhow!(
            "Envoy (pid {pid}) has {} worker threads (named wrk:worker*), expected 1 at --concurrency 1: cannot read the worker's CPU time",
            other.len()
        )),
    }
}
