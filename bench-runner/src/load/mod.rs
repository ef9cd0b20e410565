//! The load generator: one scheduler loop for closed and open (fixed-rate) load over HTTP/1.1
//! keep-alive connections, per-connection HdrHistograms merged at the end, every response checked.
//!
//! Open loop: request i is *intended* at `start + i / rate`; its latency counts from that instant, so
//! a stalled server shows up as latency instead of silently lowering the rate (coordinated omission).

pub mod http1;

use hdrhistogram::Histogram;
use http1::{Connection, Expectation, Failure, Verdict};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Highest latency the histograms hold (larger values are clamped): 120 s in ns.
const MAX_NS: u64 = 120_000_000_000;
/// A send later than this after its intended time counts as late (open loop).
pub const LATE_NS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Each connection sends its next request as soon as the previous answer arrived.
    Closed,
    /// Requests are intended at a fixed rate (requests per second) across all connections.
    Open { rate: f64 },
}

#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub addr: SocketAddr,
    pub host: String,
    pub path: String,
    pub connections: usize,
    pub pace: Pace,
    pub warmup: Duration,
    /// Measured window length; None with `requests` set means "until that many were measured".
    pub duration: Option<Duration>,
    /// Number of measured requests (after warm-up).
    pub requests: Option<u64>,
    /// Hard bound on the whole run, warm-up included, whatever else is set.
    pub max_duration: Duration,
    pub timeout: Duration,
    pub expect_status: u16,
    pub expect_body: Option<Vec<u8>>,
    /// CPU to pin the load thread to.
    pub cpu: Option<usize>,
    /// A process (Envoy) whose CPU time is read at the start and the end of the measured window.
    pub cpu_probe_pid: Option<u32>,
}

impl LoadPlan {
    /// Checks the combination of settings; messages name the flag involved.
    pub fn validate(&self) -> Result<(), String> {
        if self.connections == 0 {
            return Err("-c/--connections must be at least 1".into());
        }
        if let Pace::Open { rate } = self.pace {
            if !(rate.is_finite() && rate > 0.0) {
                return Err("--rate must be a positive number of requests per second".into());
            }
        }
        if self.duration.is_none() && self.requests.is_none() {
            return Err("give a duration (-d) or a request count (-n)".into());
        }
        if self.requests == Some(0) {
            return Err("-n/--requests must be at least 1".into());
        }
        if self.duration.is_some_and(|d| d.is_zero()) {
            return Err("-d/--duration must be longer than 0".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ErrorCounts {
    /// Connection refused or failed to open.
    pub connect: u64,
    /// Connection reset or closed before a whole response arrived.
    pub io: u64,
    /// No whole response within the timeout.
    pub timeout: u64,
    /// A response that is not valid HTTP/1.1.
    pub protocol: u64,
    /// A response with another status than expected.
    pub status: u64,
    /// The expected status with a wrong body.
    pub body: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect + self.io + self.timeout + self.protocol + self.status + self.body
    }
    fn add(&mut self, o: &ErrorCounts) {
        self.connect += o.connect;
        self.io += o.io;
        self.timeout += o.timeout;
        self.protocol += o.protocol;
        self.status += o.status;
        self.body += o.body;
    }
}

/// Everything one load run measured, before summarising.
pub struct LoadOutcome {
    /// Latency of every measured good response, ns.
    pub latency: Histogram<u64>,
    /// Open loop: actual send time minus intended send time, ns.
    pub lag: Histogram<u64>,
    pub ok: u64,
    pub errors: ErrorCounts,
    /// Status codes of wrong-status responses (first few distinct ones), for messages.
    pub wrong_statuses: Vec<u16>,
    pub late_sends: u64,
    /// Length of the measured window (first measured send to last measured completion).
    pub window: Duration,
    /// The load generator's own CPU time during the whole run, ns.
    pub tool_cpu_ns: u64,
    /// CPU time of `cpu_probe_pid` over the measured window, ns.
    pub target_cpu_ns: Option<u64>,
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid histogram bounds")
}

/// Quantiles reported for percentile curves.
pub const CURVE_QUANTILES: [f64; 16] = [
    0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99995,
    0.99999, 1.0,
];

/// A load run reduced to what results.json and `load --json` keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadSummary {
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub error_kinds: ErrorCounts,
    pub window_s: f64,
    pub rps: f64,
    pub latency_us: LatencyUs,
    /// (quantile, microseconds) points of the latency distribution.
    pub curve_us: Vec<(f64, f64)>,
    /// Open loop only: intended rate, sends later than 1 ms, and the send-lag distribution.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub schedule: Option<ScheduleSummary>,
    pub tool_cpu_us_per_req: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LatencyUs {
    #[serde(with = "crate::stats::nan_as_null")]
    pub p50: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub p90: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub p99: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub p999: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub max: f64,
    #[serde(with = "crate::stats::nan_as_null")]
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleSummary {
    pub intended_rps: f64,
    pub late_sends: u64,
    pub lag_p50_us: f64,
    pub lag_p99_us: f64,
    pub lag_max_us: f64,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl LoadOutcome {
    pub fn summarize(&self, pace: Pace) -> LoadSummary {
        let h = &self.latency;
        let q = |x: f64| {
            if h.is_empty() {
                f64::NAN
            } else {
                us(h.value_at_quantile(x))
            }
        };
        let secs = self.window.as_secs_f64();
        let requests = self.ok + self.errors.total();
        LoadSummary {
            requests,
            ok: self.ok,
            errors: self.errors.total(),
            error_kinds: self.errors.clone(),
            window_s: secs,
            rps: if secs > 0.0 {
                self.ok as f64 / secs
            } else {
                0.0
            },
            latency_us: LatencyUs {
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p999: q(0.999),
                max: if h.is_empty() { f64::NAN } else { us(h.max()) },
                mean: if h.is_empty() {
                    f64::NAN
                } else {
                    h.mean() / 1000.0
                },
            },
            curve_us: if h.is_empty() {
                vec![]
            } else {
                CURVE_QUANTILES.iter().map(|&x| (x, q(x))).collect()
            },
            schedule: match pace {
                Pace::Open { rate } => Some(ScheduleSummary {
                    intended_rps: rate,
                    late_sends: self.late_sends,
                    lag_p50_us: us(self.lag.value_at_quantile(0.5)),
                    lag_p99_us: us(self.lag.value_at_quantile(0.99)),
                    lag_max_us: us(self.lag.max()),
                }),
                Pace::Closed => None,
            },
            tool_cpu_us_per_req: if requests > 0 {
                self.tool_cpu_ns as f64 / 1000.0 / requests as f64
            } else {
                0.0
            },
        }
    }
}

/// Shared state of one run's connections (all on one thread).
struct Shared {
    start: Instant,
    measure_start: Instant,
    hard_end: Instant,
    /// Closed loop with a duration: end of the measured window.
    window_end: Option<Instant>,
    /// Open loop: next slot to claim and the number of slots.
    next_slot: Cell<u64>,
    total_slots: u64,
    warmup_slots: u64,
    interval_ns: f64,
    /// Closed loop with -n: measured requests still to start.
    tickets: Cell<u64>,
    first_measured: Cell<Option<Instant>>,
    last_measured: Cell<Option<Instant>>,
    stop: Cell<bool>,
    progress: Option<Arc<AtomicU64>>,
}

struct ConnStats {
    latency: Histogram<u64>,
    lag: Histogram<u64>,
    ok: u64,
    errors: ErrorCounts,
    wrong_statuses: Vec<u16>,
    late: u64,
}

/// Runs the plan on its own thread (pinned if asked) and returns what it measured. `progress`, if
/// given, counts finished measured requests for a progress display; measuring never waits on it.
pub fn run(plan: &LoadPlan, progress: Option<Arc<AtomicU64>>) -> anyhow::Result<LoadOutcome> {
    plan.validate().map_err(crate::error::usage)?;
    let plan = plan.clone();
    std::thread::Builder::new()
        .name("load".into())
        .spawn(move || {
            if let Some(cpu) = plan.cpu {
                let _ = crate::sys::pin_to_cpu(0, cpu);
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let local = tokio::task::LocalSet::new();
            Ok(local.block_on(&rt, run_local(plan, progress)))
        })?
        .join()
        .map_err(|_| anyhow::anyhow!("the load generator thread panicked"))?
}

async fn run_local(plan: LoadPlan, progress: Option<Arc<AtomicU64>>) -> LoadOutcome {
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let measure_start = start + plan.warmup;
    let hard_end = start + plan.max_duration;
    let (total_slots, warmup_slots, interval_ns) = match plan.pace {
        Pace::Open { rate } => {
            let warm = (plan.warmup.as_secs_f64() * rate).ceil() as u64;
            let measured = match (plan.requests, plan.duration) {
                (Some(n), _) => n,
                (None, Some(d)) => (d.as_secs_f64() * rate).round().max(1.0) as u64,
                (None, None) => 0,
            };
            (warm + measured, warm, 1e9 / rate)
        }
        Pace::Closed => (0, 0, 0.0),
    };
    let shared = Rc::new(Shared {
        start,
        measure_start,
        hard_end,
        window_end: match (plan.pace, plan.requests) {
            (Pace::Closed, None) => plan.duration.map(|d| measure_start + d),
            _ => None,
        },
        next_slot: Cell::new(0),
        total_slots,
        warmup_slots,
        interval_ns,
        tickets: Cell::new(plan.requests.unwrap_or(u64::MAX)),
        first_measured: Cell::new(None),
        last_measured: Cell::new(None),
        stop: Cell::new(false),
        progress,
    });
    let request = Rc::new(http1::build_request(&plan.host, &plan.path));
    let expect = Rc::new(Expectation {
        status: plan.expect_status,
        body: plan.expect_body.clone(),
    });
    let mut tasks = Vec::new();
    for _ in 0..plan.connections {
        tasks.push(tokio::task::spawn_local(connection_loop(
            plan.clone(),
            shared.clone(),
            request.clone(),
            expect.clone(),
        )));
    }
    // Envoy's CPU time is read when the measured window opens (and again when everything is done).
    let probe_start: Rc<Cell<Option<u64>>> = Rc::new(Cell::new(None));
    let probe = plan.cpu_probe_pid.map(|pid| {
        let cell = probe_start.clone();
        tokio::task::spawn_local(async move {
            tokio::time::sleep_until(measure_start.into()).await;
            cell.set(crate::sys::process_cpu_ns(pid).ok());
        })
    });
    // The interruption flag is polled so that Ctrl-C ends a long load promptly.
    let watcher = {
        let shared = shared.clone();
        tokio::task::spawn_local(async move {
            while !shared.stop.get() {
                if crate::sys::interrupted() || Instant::now() >= shared.hard_end {
                    shared.stop.set(true);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut out = LoadOutcome {
        latency: new_hist(),
        lag: new_hist(),
        ok: 0,
        errors: ErrorCounts::default(),
        wrong_statuses: vec![],
        late_sends: 0,
        window: Duration::ZERO,
        tool_cpu_ns: 0,
        target_cpu_ns: None,
    };
    for t in tasks {
        if let Ok(s) = t.await {
            let _ = out.latency.add(&s.latency);
            let _ = out.lag.add(&s.lag);
            out.ok += s.ok;
            out.errors.add(&s.errors);
            out.late_sends += s.late;
            for st in s.wrong_statuses {
                if !out.wrong_statuses.contains(&st) && out.wrong_statuses.len() < 8 {
                    out.wrong_statuses.push(st);
                }
            }
        }
    }
    shared.stop.set(true);
    let _ = watcher.await;
    if let (Some(pid), Some(task)) = (plan.cpu_probe_pid, probe) {
        task.abort();
        if let (Some(a), Ok(b)) = (probe_start.get(), crate::sys::process_cpu_ns(pid)) {
            out.target_cpu_ns = Some(b.saturating_sub(a));
        }
    }
    out.window = match (shared.first_measured.get(), shared.last_measured.get()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => Duration::ZERO,
    };
    out.tool_cpu_ns = thread_cpu_ns().saturating_sub(cpu0);
    out
}

/// CPU time of the calling thread, ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Waits until `t` to within a few microseconds: the timer wheel for the coarse part (1 ms
/// granularity), then yielding to the other connections until the instant arrives.
async fn sleep_until_precise(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        if t - now > Duration::from_micros(2500) {
            tokio::time::sleep_until((t - Duration::from_micros(2000)).into()).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

impl Shared {
    /// The next request's intended send time and whether it is measured; None when this connection
    /// must stop.
    async fn next(&self, plan: &LoadPlan) -> Option<(Instant, bool)> {
        if self.stop.get() {
            return None;
        }
        match plan.pace {
            Pace::Open { .. } => {
                let slot = self.next_slot.get();
                if slot >= self.total_slots {
                    return None;
                }
                self.next_slot.set(slot + 1);
                let intended =
                    self.start + Duration::from_nanos((slot as f64 * self.interval_ns) as u64);
                sleep_until_precise(intended).await;
                if self.stop.get() {
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

    fn mark_measured(&self, sent: Instant, done: Instant) {
        if self.first_measured.get().is_none_or(|f| sent < f) {
            self.first_measured.set(Some(sent));
        }
        if self.last_measured.get().is_none_or(|l| done > l) {
            self.last_measured.set(Some(done));
        }
        if let Some(p) = &self.progress {
            p.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn connection_loop(
    plan: LoadPlan,
    shared: Rc<Shared>,
    request: Rc<Vec<u8>>,
    expect: Rc<Expectation>,
) -> ConnStats {
    let mut st = ConnStats {
        latency: new_hist(),
        lag: new_hist(),
        ok: 0,
        errors: ErrorCounts::default(),
        wrong_statuses: vec![],
        late: 0,
    };
    let mut conn: Option<Connection> = None;
    while let Some((intended, measured)) = shared.next(&plan).await {
        let sent = Instant::now();
        if matches!(plan.pace, Pace::Open { .. }) && measured {
            let lag = sent.saturating_duration_since(intended).as_nanos() as u64;
            st.lag.saturating_record(lag.max(1));
            if lag > LATE_NS {
                st.late += 1;
            }
        }
        if conn.is_none() {
            match tokio::time::timeout(plan.timeout, Connection::connect(plan.addr)).await {
                Ok(Ok(c)) => conn = Some(c),
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
        let result = tokio::time::timeout(plan.timeout, c.exchange(&request, &expect)).await;
        let done = Instant::now();
        let keep = match &result {
            Ok(Ok(_)) => !c.closing,
            _ => false,
        };
        if measured {
            shared.mark_measured(intended, done);
            match result {
                Ok(Ok(Verdict::Ok)) => {
                    st.ok += 1;
                    st.latency
                        .saturating_record((done - intended).as_nanos().max(1) as u64);
                }
                Ok(Ok(Verdict::WrongStatus(s))) => {
                    st.errors.status += 1;
                    if !st.wrong_statuses.contains(&s) {
                        st.wrong_statuses.push(s);
                    }
                }
                Ok(Ok(Verdict::WrongBody)) => st.errors.body += 1,
                Ok(Err(Failure::Io)) => st.errors.io += 1,
                Ok(Err(Failure::Protocol)) => st.errors.protocol += 1,
                Err(_) => st.errors.timeout += 1,
            }
        }
        if !keep {
            conn = None;
        }
    }
    st
}

/// Human-readable summary for `load`.
pub fn format_summary(s: &LoadSummary) -> String {
    let l = &s.latency_us;
    let e = &s.error_kinds;
    let mut out = format!(
        "requests {} ({} ok, {} errors) in {:.2} s: {:.0} req/s\nlatency µs  p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}  mean {:.1}\n",
        s.requests, s.ok, s.errors, s.window_s, s.rps, l.p50, l.p90, l.p99, l.p999, l.max, l.mean
    );
    if s.errors > 0 {
        out += &format!(
            "errors: connect {}  io {}  timeout {}  protocol {}  status {}  body {}\n",
            e.connect, e.io, e.timeout, e.protocol, e.status, e.body
        );
    }
    if let Some(sc) = &s.schedule {
        out += &format!(
            "schedule: intended {:.0} req/s, send lag p50 {:.1} µs p99 {:.1} µs max {:.1} µs, {} sends later than 1 ms\n",
            sc.intended_rps, sc.lag_p50_us, sc.lag_p99_us, sc.lag_max_us, sc.late_sends
        );
    }
    out += &format!(
        "load generator CPU: {:.2} µs/request\n",
        s.tool_cpu_us_per_req
    );
    out
}
