//! Driving the load: one thread per CPU set, each running its connections on a current-thread runtime;
//! the shared counters, and each connection's loop of requests.

use super::*;

/// Runs the plan on its own thread (pinned if asked) and returns what it measured. `progress`, if
/// given, counts finished measured requests for a progress display (updated every 20 ms);
/// measuring never waits on it.
pub fn run(plan: &LoadPlan, progress: Option<Arc<AtomicU64>>) -> anyhow::Result<LoadOutcome> {
    run_from(plan, None, progress)
}

/// [`run`] with the schedule's origin (warm-up start) at `origin` instead of as soon as the
/// connections are open: several workers given one wall-clock start share one schedule. The
/// connections are opened first; an origin already past starts at once (the start lag is recorded
/// as `started` minus the origin).
pub fn run_from(
    plan: &LoadPlan,
    origin: Option<Instant>,
    progress: Option<Arc<AtomicU64>>,
) -> anyhow::Result<LoadOutcome> {
    plan.validate().map_err(crate::error::usage)?;
    let mut outs = run_arms(
        vec![Arm {
            plan: plan.clone(),
            slots: None,
        }],
        origin,
        progress,
    )?;
    Ok(outs.remove(0))
}

/// One group of connections of a load run: its plan (target, connections, expectation) and, for an
/// interleaved open loop, the slots of the shared schedule it sends in (None: every slot).
pub(super) struct Arm {
    pub(super) plan: LoadPlan,
    pub(super) slots: Option<Vec<u64>>,
}

/// Runs the arms together on one thread (pinned to the first plan's CPU if asked), each over its own
/// connections into its own histograms, all on one clock; returns one outcome per arm.
pub(super) fn run_arms(
    arms: Vec<Arm>,
    origin: Option<Instant>,
    progress: Option<Arc<AtomicU64>>,
) -> anyhow::Result<Vec<LoadOutcome>> {
    std::thread::Builder::new()
        .name("load".into())
        .spawn(move || {
            if let Some(cpu) = arms.first().and_then(|a| a.plan.cpu) {
                let _ = crate::sys::pin_to_cpu(0, cpu);
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let local = tokio::task::LocalSet::new();
            Ok(local.block_on(&rt, run_local(arms, origin, progress)))
        })?
        .join()
        .map_err(|_| anyhow::anyhow!("the load generator thread panicked"))?
}

/// One arm's state while it runs.
struct Running {
    shared: Rc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<ConnStats>>,
    out: LoadOutcome,
}

pub(super) async fn run_local(
    arms: Vec<Arm>,
    origin: Option<Instant>,
    progress: Option<Arc<AtomicU64>>,
) -> Vec<LoadOutcome> {
    let Some(first) = arms.first().map(|a| a.plan.clone()) else {
        return vec![];
    };
    let mut opened = Vec::new();
    for arm in arms {
        let clients = open_connections(&arm.plan).await;
        opened.push((arm, clients));
    }

    if let Some(o) = origin {
        wait_for_origin(o).await;
    }
    let cpu0 = thread_cpu_ns();
    let opened_at = Instant::now();
    let start = origin.map_or(opened_at, |o| o.min(opened_at));
    let measure_start = start + first.warmup;
    // CPU times (ours and the probed process's) are read when the measured window opens, and again
    // when everything is done.
    let at_window: Rc<Cell<Option<CpuTimes>>> = Rc::new(Cell::new(None));
    let (probe_pid, extra_pid) = (first.cpu_probe_pid, first.cpu_probe_extra_pid);
    let probe_tid = first.cpu_probe_tid;
    let read_cpus = move || {
        (
            thread_cpu_ns(),
            probe_pid.and_then(|p| match probe_tid {
                Some(t) => crate::sys::thread_cpu_ns(p, t).ok(),
                None => crate::sys::process_cpu_ns(p).ok(),
            }),
            extra_pid.and_then(|p| crate::sys::process_cpu_ns(p).ok()),
        )
    };
    let window_opener = if first.warmup.is_zero() {
        let (_, probe, extra) = read_cpus();
        at_window.set(Some((cpu0, probe, extra)));
        None
    } else {
        let cell = at_window.clone();
        Some(tokio::task::spawn_local(async move {
            tokio::time::sleep_until(measure_start.into()).await;
            cell.set(Some(read_cpus()));
        }))
    };
    let mut running = Vec::new();
    for (arm, clients) in opened {
        let plan = Rc::new(arm.plan);
        let (h1, expect) = match &plan.exchange {
            Some(x) => (
                x.requests.iter().map(|r| r.wire(false)).collect(),
                x.expect.clone(),
            ),
            None => (
                vec![match plan.body_bytes {
                    0 => http1::build_request(&plan.host, &plan.path),
                    n => http1::build_post(&plan.host, &plan.path, &http1::pattern_body(n), None),
                }],
                Expectation {
                    status: plan.expect_status,
                    body: match &plan.expect_body {
                        Some(b) => http1::BodyCheck::Exact(b.clone()),
                        None => http1::BodyCheck::Any,
                    },
                    header: None,
                },
            ),
        };
        let target = Rc::new(Target {
            h1,
            next: Cell::new(0),
            h2: http2::Target::new(&plan.host, &plan.path).ok(),
        });
        let expect = Rc::new(expect);
        let share = match (&arm.slots, open_slots(&plan)) {
            (Some(s), (w, m)) if w + m > 0 => s.len() as f64 / (w + m) as f64,
            _ => 1.0,
        };
        let shared = Rc::new(shared_state(&plan, start, measure_start, arm.slots));
        let tasks = clients
            .into_iter()
            .map(|client| {
                tokio::task::spawn_local(connection_loop(
                    plan.clone(),
                    shared.clone(),
                    target.clone(),
                    expect.clone(),
                    client,
                ))
            })
            .collect();
        let mut out = LoadOutcome::empty();
        out.share = share;
        running.push(Running { shared, tasks, out });
    }
    let watcher = spawn_watcher(running.iter().map(|r| r.shared.clone()).collect(), progress);
    for r in running.iter_mut() {
        for t in std::mem::take(&mut r.tasks) {
            if let Ok(s) = t.await {
                let out = &mut r.out;
                out.ok += s.ok;
                out.errors.add(&s.errors);
                out.late_sends += s.late;
                out.sends += s.sends;
                for st in s.wrong_statuses {
                    if !out.wrong_statuses.contains(&st) && out.wrong_statuses.len() < 8 {
                        out.wrong_statuses.push(st);
                    }
                }
            }
        }
    }
    let (cpu_end, probe_end, extra_end) = read_cpus();
    for r in &running {
        r.shared.stop.set(true);
    }
    let _ = watcher.await;
    if let Some(w) = window_opener {
        w.abort();
    }
    let (cpu_from, probe_from, extra_from) = at_window.get().unwrap_or((cpu0, None, None));
    let tool_ns = cpu_end.saturating_sub(cpu_from);
    let probe_ns = match (probe_from, probe_end) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let extra_ns = match (extra_from, extra_end) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    // CPU times cover the whole window of every arm: each arm gets its share by requests.
    let all: u64 = running
        .iter()
        .map(|r| r.out.ok + r.out.errors.total())
        .sum();
    let arms = running.len().max(1) as u64;
    let share = |n: u64, total: u64| -> u64 {
        if all == 0 {
            total / arms
        } else {
            (total as u128 * n as u128 / all as u128) as u64
        }
    };
    let mut outs = Vec::with_capacity(running.len());
    for r in running {
        let mut out = r.out;
        let n = out.ok + out.errors.total();
        out.latency = r.shared.latency.replace(new_hist());
        out.lag = r.shared.lag.replace(new_hist());
        out.service = r.shared.service.replace(new_hist());
        out.tool_cpu_ns = share(n, tool_ns);
        out.target_cpu_ns = probe_ns.map(|p| share(n, p));
        out.extra_cpu_ns = extra_ns.map(|p| share(n, p));
        out.window = match (r.shared.first_measured.get(), r.shared.last_measured.get()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => Duration::ZERO,
        };
        out.origin = Some(start);
        out.started = Some(opened_at);
        out.measured = r
            .shared
            .first_measured
            .get()
            .zip(r.shared.last_measured.get());
        out.send_span = match (r.shared.first_send.get(), r.shared.last_send.get()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => Duration::ZERO,
        };
        outs.push(out);
    }
    outs
}

/// Waits for the schedule's origin (possibly hours ahead), ending early on Ctrl-C; the last
/// moments through the pacer, so that the first send is on time.
async fn wait_for_origin(origin: Instant) {
    let stop = Cell::new(false);
    while !crate::sys::interrupted() {
        let left = origin.saturating_duration_since(Instant::now());
        if left <= Duration::from_millis(5) {
            pacing::Pacer::new().wait_until(origin, &stop).await;
            return;
        }
        tokio::time::sleep((left - Duration::from_millis(5)).min(Duration::from_millis(100))).await;
    }
}

/// Opens the plan's connections (each bounded by the timeout) before the clock starts, as wrk does;
/// one that fails is None, retried (and counted) by its loop.
async fn open_connections(plan: &LoadPlan) -> Vec<Option<Client>> {
    let mut opening = Vec::new();
    for _ in 0..plan.connections {
        let (addr, http2, timeout) = (plan.addr, plan.http2, plan.timeout);
        opening.push(tokio::task::spawn_local(async move {
            match tokio::time::timeout(timeout, Client::connect(addr, http2)).await {
                Ok(Ok(c)) => Some(c),
                _ => None,
            }
        }));
    }
    let mut clients = Vec::new();
    for o in opening {
        clients.push(o.await.ok().flatten());
    }
    clients
}

/// The state the connections share: the pacing slots of an open loop, the window and hard end, the
/// counters and histograms.
fn shared_state(
    plan: &LoadPlan,
    start: Instant,
    measure_start: Instant,
    slots: Option<Vec<u64>>,
) -> Shared {
    let (total_slots, warmup_slots, interval_ns) = match plan.pace {
        Pace::Open { rate } => {
            let (warm, measured) = open_slots(plan);
            let total = slots.as_ref().map_or(warm + measured, |s| s.len() as u64);
            (total, warm, 1e9 / rate)
        }
        Pace::Closed => (0, 0, 0.0),
    };
    Shared {
        pace: plan.pace,
        measure_start,
        hard_end: start + plan.max_duration,
        window_end: match (plan.pace, plan.requests) {
            (Pace::Closed, None) => plan.duration.map(|d| measure_start + d),
            _ => None,
        },
        start,
        next_slot: Cell::new(0),
        slot_map: slots,
        total_slots,
        warmup_slots,
        interval_ns,
        tickets: Cell::new(plan.requests.unwrap_or(u64::MAX)),
        first_measured: Cell::new(None),
        last_measured: Cell::new(None),
        first_send: Cell::new(None),
        last_send: Cell::new(None),
        done: Cell::new(0),
        stop: Cell::new(false),
        latency: RefCell::new(new_hist()),
        lag: RefCell::new(new_hist()),
        service: RefCell::new(new_hist()),
    }
}

/// The watcher ends a long load promptly on Ctrl-C or at the hard time bound, and publishes
/// progress; the connections never touch shared atomics.
fn spawn_watcher(
    arms: Vec<Rc<Shared>>,
    progress: Option<Arc<AtomicU64>>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_local(async move {
        let done = || arms.iter().map(|s| s.done.get()).sum::<u64>();
        while !arms.iter().all(|s| s.stop.get()) {
            if crate::sys::interrupted() || arms.iter().any(|s| Instant::now() >= s.hard_end) {
                arms.iter().for_each(|s| s.stop.set(true));
            }
            if let Some(p) = &progress {
                p.store(done(), Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(p) = &progress {
            p.store(done(), Ordering::Relaxed);
        }
    })
}

/// Open loop: the warm-up slots and the measured slots of the plan's schedule.
pub(super) fn open_slots(plan: &LoadPlan) -> (u64, u64) {
    let Pace::Open { rate } = plan.pace else {
        return (0, 0);
    };
    let warm = (plan.warmup.as_secs_f64() * rate).ceil() as u64;
    let measured = match (plan.requests, plan.duration) {
        (Some(n), _) => n,
        (None, Some(d)) => (d.as_secs_f64() * rate).round().max(1.0) as u64,
        (None, None) => 0,
    };
    (warm, measured)
}

/// CPU time of the calling thread, ns.
pub(super) fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Shared {
    /// The next request's intended send time and whether it is measured; None when this connection
    /// must stop. In the closed loop the intended time is now (the send follows at once).
    async fn next(&self, pacer: &mut Pacer) -> Option<(Instant, bool)> {
        if self.stop.get() {
            return None;
        }
        match self.pace {
            Pace::Open { .. } => {
                let claim = self.next_slot.get();
                if claim >= self.total_slots {
                    return None;
                }
                self.next_slot.set(claim + 1);
                let slot = self.slot_map.as_ref().map_or(claim, |m| m[claim as usize]);
                let intended =
                    self.start + Duration::from_nanos((slot as f64 * self.interval_ns) as u64);
                if !pacer.wait_until(intended, &self.stop).await {
                    return None;
                }
                Some((intended, slot >= self.warmup_slots))
            }
            Pace::Closed => {
                let now = Instant::now();
                if self.window_end.is_some_and(|e| now >= e) {
                    return None;
                }
                let measured = now >= self.measure_start;
                if measured {
                    let t = self.tickets.get();
                    if t == 0 {
                        return None;
                    }
                    self.tickets.set(t - 1);
                }
                Some((now, measured))
            }
        }
    }

    fn mark_measured(&self, intended: Instant, done: Instant) {
        if self.first_measured.get().is_none_or(|f| intended < f) {
            self.first_measured.set(Some(intended));
        }
        if self.last_measured.get().is_none_or(|l| done > l) {
            self.last_measured.set(Some(done));
        }
        self.done.set(self.done.get() + 1);
    }

    fn mark_sent(&self, sent: Instant) {
        if self.first_send.get().is_none_or(|f| sent < f) {
            self.first_send.set(Some(sent));
        }
        if self.last_send.get().is_none_or(|l| sent > l) {
            self.last_send.set(Some(sent));
        }
    }
}

pub(super) async fn connection_loop(
    plan: Rc<LoadPlan>,
    shared: Rc<Shared>,
    target: Rc<Target>,
    expect: Rc<Expectation>,
    mut conn: Option<Client>,
) -> ConnStats {
    let mut st = ConnStats {
        ok: 0,
        errors: ErrorCounts::default(),
        wrong_statuses: vec![],
        late: 0,
        sends: 0,
    };
    let open = matches!(plan.pace, Pace::Open { .. });
    let mut pacer = Pacer::new();
    let mut watchdog = Watchdog::new(plan.timeout);
    while let Some((intended, measured)) = shared.next(&mut pacer).await {
        let sent = if open {
            let sent = Instant::now();
            if measured {
                let lag = sent.saturating_duration_since(intended).as_nanos() as u64;
                shared.lag.borrow_mut().saturating_record(lag.max(1));
                if lag > LATE_NS {
                    st.late += 1;
                }
                st.sends += 1;
                shared.mark_sent(sent);
            }
            sent
        } else {
            intended
        };
        if conn.is_none() {
            match watchdog
                .run(sent, Client::connect(plan.addr, plan.http2))
                .await
            {
                Some(Ok(c)) => conn = Some(c),
                _ => {
                    if measured {
                        st.errors.connect += 1;
                        shared.mark_measured(intended, Instant::now());
                    }
                    // A refused connection fails at once: back off a little so a dead target is not
                    // hammered in a tight loop (the count and time bounds still end the run).
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        let result = watchdog.run(sent, c.exchange(&target, &expect)).await;
        let done = Instant::now();
        let keep = matches!(result, Some(Ok(_))) && c.reusable();
        if measured {
            shared.mark_measured(intended, done);
            match result {
                Some(Ok(Verdict::Ok)) => {
                    st.ok += 1;
                    shared
                        .latency
                        .borrow_mut()
                        .saturating_record((done - intended).as_nanos().max(1) as u64);
                    shared
                        .service
                        .borrow_mut()
                        .saturating_record((done - sent).as_nanos().max(1) as u64);
                }
                Some(Ok(Verdict::WrongStatus(s))) => {
                    st.errors.status += 1;
                    if !st.wrong_statuses.contains(&s) {
                        st.wrong_statuses.push(s);
                    }
                }
                Some(Ok(Verdict::WrongBody)) => st.errors.body += 1,
                Some(Err(Failure::Io)) => st.errors.io += 1,
                Some(Err(Failure::Protocol)) => st.errors.protocol += 1,
                None => st.errors.timeout += 1,
            }
        }
        if !keep {
            conn = None;
        }
    }
    st
}
