//! Executing the scenarios: one Envoy per group of scenarios, the crash groups (a plugin that traps
//! every Nth request) and the runaway groups (a plugin that spins), with the admin probes and the
//! spin calibration behind them.

use super::*;

pub(super) fn launch(
    ctx: &Context,
    stem: &str,
    upstream_port: u16,
    listeners: &mut [FailureListener],
) -> anyhow::Result<Launched> {
    let dir = ctx.dir.join("failure");
    std::fs::create_dir_all(&dir).map_err(|e| {
        usage(format!(
            "cannot create {} ({e}); check --out",
            dir.display()
        ))
    })?;
    let mut launch = Launch {
        project: ctx.project,
        envoy: ctx.envoy,
        dir: &dir,
        stem,
        admin_port: 0,
        cpu: None,
        log_level: "info",
    };
    let config = launch.config_path();
    let templates = FailureTemplates::load(&ctx.project.envoy_dir())?;
    // The admin port is drawn on every attempt, the listeners' again after a port clash.
    let envoy = retry_port_clash(&format!("failure: {stem}"), |redraw| {
        if redraw {
            let ports = allocate_ports(listeners.len(), None)?;
            for (l, p) in listeners.iter_mut().zip(ports) {
                l.spec.port = p;
            }
        }
        launch.admin_port = allocate_ports(1, None)?[0];
        let cfg = templates.bootstrap(launch.admin_port, upstream_port, listeners)?;
        crate::sys::write_atomic(&config, serde_json::to_string_pretty(&cfg)?.as_bytes())?;
        launch.start_config(&config, &["--file-flush-interval-msec", FLUSH_MS])
    })?;
    Ok(Launched {
        envoy,
        config,
        log: launch.log_path(),
    })
}

/// What a group's Envoy shows once its timelines are done, read before it is stopped.
struct After {
    alive: bool,
    ready: Ready,
    stats: Vec<(String, u64)>,
    stop: StopReport,
}

/// Lets the last access log lines be flushed (every FLUSH_MS), reads Envoy's liveness, `/ready` and
/// stats, then stops it (SIGKILL after `grace`).
fn finish(l: &mut Launched, grace: Duration) -> After {
    std::thread::sleep(Duration::from_millis(350));
    let alive = l.envoy.is_running();
    let ready = evidence::ready(&l.envoy);
    let stats_text = l.envoy.admin("/stats").map(|x| x.1).unwrap_or_default();
    let stop = evidence::stop_envoy(&mut l.envoy, grace);
    After {
        alive,
        ready,
        stats: evidence::parse_stats(&stats_text),
        stop,
    }
}

impl After {
    /// The group record of one Envoy: its listeners `ids`, files, state after and time since `t0`.
    fn group(
        &self,
        ctx: &Context,
        stem: String,
        imp: &Implementation,
        ids: &[String],
        l: &Launched,
        t0: Instant,
    ) -> Group {
        Group {
            id: stem,
            implementation: imp.name.clone(),
            listeners: ids.to_vec(),
            config: rel(ctx, &l.config),
            log: rel(ctx, &l.log),
            envoy_alive_after: self.alive,
            ready_after: self.ready.clone(),
            wasm_stats: evidence::envoy_wasm_stats(&self.stats, ids),
            stop: self.stop.clone(),
            wall_s: t0.elapsed().as_secs_f64(),
        }
    }
}

/// Runs the crash scenarios of one implementation in one Envoy.
pub(super) fn crash_group(
    ctx: &Context,
    plan: &FailurePlan,
    imp: &Implementation,
    upstream: &Upstream,
    group_index: usize,
) -> anyhow::Result<(Group, Vec<Scenario>)> {
    let t0 = Instant::now();
    let stem = format!("{}-crash", imp.name);
    let mut defs: Vec<(String, u32, Policy)> = Vec::new();
    for &n in &plan.crash_every {
        for p in imp.policies(plan) {
            defs.push((format!("{}-crash{n}-{}", imp.name, p.id()), n, p));
        }
    }
    let ports = allocate_ports(defs.len(), None)?;
    let dir = ctx.dir.join("failure");
    let mut listeners: Vec<FailureListener> = Vec::new();
    for ((id, n, p), port) in defs.iter().zip(&ports) {
        listeners.push(FailureListener {
            spec: ListenerSpec {
                upstream: None,
                name: id.clone(),
                port: *port,
                filter: imp.filter(&scenario_config(*n, 0), p.plugin_extra(plan.short_backoff))?,
            },
            access_log: dir.join(format!("{id}.access.log")),
        });
    }
    let mut l = launch(ctx, &stem, upstream.port(), &mut listeners)?;
    let timelines: Vec<Timeline> = listeners
        .iter()
        .zip(&defs)
        .map(|(fl, (_, n, _))| Timeline {
            addr: ([127, 0, 0, 1], fl.spec.port).into(),
            rate_per_s: plan.rate_per_s,
            count: plan.requests(),
            timeout: plan.timeout,
            delay: Duration::ZERO,
            own: match &imp.kind {
                ImplKind::Own { requests, .. } => Some(own::OwnTimeline {
                    requests: requests.clone(),
                    crash_every: *n,
                }),
                _ => None,
            },
        })
        .collect();
    let samples = client::run_together(&timelines)?;
    let after = finish(&mut l, plan.stop_grace);
    let ids: Vec<String> = defs.iter().map(|d| d.0.clone()).collect();
    let group = after.group(ctx, stem, imp, &ids, &l, t0);
    let (alive, ready, all_stats) = (after.alive, after.ready, after.stats);
    let mut scenarios = Vec::new();
    for (((id, n, p), fl), s) in defs.iter().zip(&listeners).zip(&samples) {
        let log = evidence::read_access_log(&fl.access_log);
        let timeline = records(s, &log);
        let sum = summarize(&timeline);
        scenarios.push(Scenario {
            id: id.clone(),
            implementation: imp.name.clone(),
            language: imp.language.clone(),
            crash_every: *n,
            policy: *p,
            policy_label: p.label(plan.short_backoff),
            plugin_extra: Value::Object(p.plugin_extra(plan.short_backoff)),
            requests: timeline.len(),
            counts: sum.counts,
            details: sum.details,
            statuses: sum.statuses,
            first_crash: sum.first_crash,
            plugin_back_after_ms: sum.plugin_back_after_ms,
            first_failed: sum.first_failed,
            served_again_after_ms: sum.served_again_after_ms,
            max_latency_ms: sum.max_latency_ms,
            envoy_alive: alive,
            ready: ready.clone(),
            stats: evidence::scenario_stats(&all_stats, id),
            group: group_index,
            access_log: rel(ctx, &fl.access_log),
            timeline,
        });
    }
    Ok((group, scenarios))
}

/// Probes the admin `/ready` every 250 ms for `span` (bounded: each probe has a 500 ms timeout).
pub(super) fn probe_admin(port: u16, span: Duration) -> Vec<AdminProbe> {
    let t0 = Instant::now();
    let mut out = Vec::new();
    while t0.elapsed() < span {
        let t = Instant::now();
        let status = crate::envoy::process::http_get(port, "/ready", Duration::from_millis(500))
            .ok()
            .map(|x| x.0);
        out.push(AdminProbe {
            at_ms: ms(t - t0),
            status,
            latency_ms: ms(t.elapsed()),
        });
        std::thread::sleep(Duration::from_millis(250));
    }
    out
}

/// Latency of two sequential plugin replies from the calibration listener (each bounded by 10 s).
pub(super) fn calibrate_spin(port: u16) -> Vec<Option<f64>> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return vec![];
    };
    let addr = ([127, 0, 0, 1], port).into();
    (0..2)
        .map(
            |i| match rt.block_on(client::request(addr, i, Duration::from_secs(10))) {
                o @ Outcome::Response { .. }
                    if client::classify(&o, None, PLUGIN_BODY, UPSTREAM_BODY) == Class::Plugin =>
                {
                    match o {
                        Outcome::Response { latency, .. } => Some(ms(latency)),
                        _ => None,
                    }
                }
                _ => None,
            },
        )
        .collect()
}

/// A runaway plugin (`spin` very high) with a plugin-free neighbour listener in the same Envoy.
pub(super) fn runaway_group(
    ctx: &Context,
    plan: &FailurePlan,
    imp: &Implementation,
    upstream: &Upstream,
    group_index: usize,
) -> anyhow::Result<(Group, Runaway)> {
    let t0 = Instant::now();
    let stem = format!("{}-runaway", imp.name);
    let id = stem.clone();
    let neighbour = format!("{}-runaway-neighbour", imp.name);
    let calibrate = format!("{}-runaway-calibrate", imp.name);
    let ports = allocate_ports(3, None)?;
    let dir = ctx.dir.join("failure");
    let mut listeners = runaway_listeners(plan, imp, &dir, [&id, &neighbour, &calibrate], &ports)?;
    let mut l = launch(ctx, &stem, upstream.port(), &mut listeners)?;
    let ports: Vec<u16> = listeners.iter().map(|fl| fl.spec.port).collect();
    let calibration_ms = calibrate_spin(ports[2]);
    let estimated_ms_per_request = calibration_ms
        .iter()
        .flatten()
        .copied()
        .reduce(f64::min)
        .map(|m| m * plan.spin as f64 / CALIBRATION_SPIN as f64);
    let timelines = runaway_timelines(plan, &ports);
    let admin_port = l.envoy.admin_port;
    let span = plan.runaway_window + plan.timeout;
    let prober = std::thread::spawn(move || probe_admin(admin_port, span));
    let samples = client::run_together(&timelines)?;
    let admin_probes = prober.join().unwrap_or_default();
    let after = finish(&mut l, plan.stop_grace);
    let spin_log = evidence::read_access_log(&listeners[0].access_log);
    let timeline = records(&samples[0], &spin_log);
    let neighbour_timeline = records(
        &samples[1],
        &evidence::read_access_log(&listeners[1].access_log),
    );
    let counts = ClassCounts::of(timeline.iter().map(|r| r.class));
    let neighbour_counts = ClassCounts::of(neighbour_timeline.iter().map(|r| r.class));
    let mut spin_durations_ms: Vec<(usize, f64)> = spin_log
        .iter()
        .filter(|(_, e)| e.code == Some(200))
        .filter_map(|(k, e)| e.duration_ms.map(|d| (*k, d)))
        .collect();
    spin_durations_ms.sort_by_key(|x| x.0);
    let ids = vec![id.clone(), neighbour.clone(), calibrate];
    let group = after.group(ctx, stem, imp, &ids, &l, t0);
    let (alive, stop) = (after.alive, after.stop);
    let runaway = Runaway {
        id,
        implementation: imp.name.clone(),
        language: imp.language.clone(),
        spin: plan.spin,
        policy: match imp.kind {
            ImplKind::Lua { .. } | ImplKind::Own { runtime: None, .. } => Policy::None,
            ImplKind::Wasm { .. } | ImplKind::Own { .. } => Policy::Unset,
        },
        worker_stalled: counts.plugin == 0 && counts.hang > 0,
        neighbours_stalled: neighbour_counts.hang > 0,
        ready_during_stall: admin_probes.iter().any(|p| p.status == Some(200)),
        counts,
        neighbour_counts,
        spin_durations_ms: spin_durations_ms.into_iter().map(|x| x.1).collect(),
        calibration_spin: CALIBRATION_SPIN,
        calibration_ms,
        estimated_ms_per_request,
        admin_probes,
        envoy_alive_after: alive,
        stop,
        group: group_index,
        timeline,
        neighbour_timeline,
    };
    Ok((group, runaway))
}

/// The runaway group's listeners: the spinning plugin, a no-plugin neighbour on the same worker, and
/// the calibration listener (a short, known spin).
fn runaway_listeners(
    plan: &FailurePlan,
    imp: &Implementation,
    dir: &Path,
    [id, neighbour, calibrate]: [&String; 3],
    ports: &[u16],
) -> anyhow::Result<Vec<FailureListener>> {
    Ok(vec![
        FailureListener {
            spec: ListenerSpec {
                upstream: None,
                name: id.clone(),
                port: ports[0],
                filter: imp.filter(&scenario_config(0, plan.spin), Map::new())?,
            },
            access_log: dir.join(format!("{id}.access.log")),
        },
        FailureListener {
            spec: ListenerSpec {
                upstream: None,
                name: neighbour.clone(),
                port: ports[1],
                filter: Filter::None,
            },
            access_log: dir.join(format!("{neighbour}.access.log")),
        },
        FailureListener {
            spec: ListenerSpec {
                upstream: None,
                name: calibrate.clone(),
                port: ports[2],
                filter: imp.filter(&scenario_config(0, CALIBRATION_SPIN), Map::new())?,
            },
            access_log: dir.join(format!("{calibrate}.access.log")),
        },
    ])
}

/// The runaway group's two timelines: requests to the spinning plugin, and to its neighbour starting
/// once the first spinning request has reached the worker.
fn runaway_timelines(plan: &FailurePlan, ports: &[u16]) -> [Timeline; 2] {
    let count = |rate: f64| (rate * plan.runaway_window.as_secs_f64()).round().max(1.0) as usize;
    [
        Timeline {
            addr: ([127, 0, 0, 1], ports[0]).into(),
            rate_per_s: plan.runaway_rate_per_s,
            count: count(plan.runaway_rate_per_s),
            timeout: plan.timeout,
            delay: Duration::ZERO,
            own: None,
        },
        Timeline {
            addr: ([127, 0, 0, 1], ports[1]).into(),
            rate_per_s: plan.neighbour_rate_per_s,
            count: count(plan.neighbour_rate_per_s),
            timeout: plan.timeout,
            // Start once the first spinning request has reached the worker.
            delay: Duration::from_millis(200),
            own: None,
        },
    ]
}
