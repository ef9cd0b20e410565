//! The load generator: one scheduler loop for closed and open (fixed-rate) load over HTTP/1.1
//! keep-alive connections or HTTP/2 (h2c, one stream at a time per connection), one HdrHistogram of
//! each kind shared by the connections of the (single) load thread, every response checked (status,
//! framing, whole body).
//!
//! Open loop: request i is *intended* at `start + i / rate`; its latency counts from that instant, so
//! a stalled server shows up as latency instead of silently lowering the rate (coordinated omission).
//! Sends are timed by a timerfd plus a short spin (see `pacing`), and the lag of every send behind
//! its intended time is recorded; when the target cannot keep up the summary says so.
//!
//! Per request the hot path does two clock reads, one histogram record, no allocation (HTTP/1.1),
//! no timer operation (a per-connection watchdog bounds exchanges) and no atomic operation (progress
//! is published by a separate task every 20 ms).

pub mod clock;
pub mod http1;
pub mod http2;
mod pacing;
pub mod worker;

use hdrhistogram::Histogram;
use http1::{Expectation, Failure, Verdict};
use pacing::{Pacer, Watchdog};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
mod drive;
mod interleave;
pub use drive::{run, run_from};
pub use interleave::{balanced_assignment, run_interleaved};

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
    /// A second process probed the same way (an ext_proc implementation's external processor).
    pub cpu_probe_extra_pid: Option<u32>,
    /// HTTP/2 over cleartext with prior knowledge (h2c) instead of HTTP/1.1.
    pub http2: bool,
}

impl LoadPlan {
    /// Requests the plan will send: (warm-up, measured); measured is None for a closed loop bounded
    /// by time only (as many as the target answers).
    pub fn planned_requests(&self) -> (u64, Option<u64>) {
        match self.pace {
            Pace::Open { .. } => {
                let (w, m) = drive::open_slots(self);
                (w, Some(m))
            }
            Pace::Closed => (0, self.requests),
        }
    }

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
        if self.timeout.is_zero() {
            return Err("--timeout must be longer than 0".into());
        }
        if self.http2 {
            http2::Target::new(&self.host, &self.path).map_err(|e| format!("--http2: {e}"))?;
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
    /// A response that is not valid HTTP/1.1 (or HTTP/2).
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
    pub fn add(&mut self, o: &ErrorCounts) {
        self.connect += o.connect;
        self.io += o.io;
        self.timeout += o.timeout;
        self.protocol += o.protocol;
        self.status += o.status;
        self.body += o.body;
    }
}

/// Everything one load run measured, before summarising.
#[derive(Clone)]
pub struct LoadOutcome {
    /// Latency of every measured good response, ns.
    pub latency: Histogram<u64>,
    /// Open loop: actual send time minus intended send time, ns.
    pub lag: Histogram<u64>,
    /// Service time of every measured good response: from the actual send to the response, ns (the
    /// latency without the time a send waited behind its intended moment in the load generator).
    pub service: Histogram<u64>,
    pub ok: u64,
    pub errors: ErrorCounts,
    /// Status codes of wrong-status responses (first few distinct ones), for messages.
    pub wrong_statuses: Vec<u16>,
    pub late_sends: u64,
    /// Length of the measured window (first measured send to last measured completion).
    pub window: Duration,
    /// The load generator's own CPU time over the measured window (the whole run if there is no
    /// warm-up), ns.
    pub tool_cpu_ns: u64,
    /// CPU time of `cpu_probe_pid` over the measured window, ns.
    pub target_cpu_ns: Option<u64>,
    /// CPU time of `cpu_probe_extra_pid` over the measured window, ns.
    pub extra_cpu_ns: Option<u64>,
    /// Open loop: measured requests actually sent, and the time from the first to the last of
    /// those sends (the achieved send rate is derived from both).
    pub sends: u64,
    pub send_span: Duration,
    /// Interleaved open loop: this arm's share of the schedule's slots (1 alone), so that its intended
    /// rate is the schedule's rate times the share.
    pub share: f64,
    /// The schedule's origin (warm-up start; the intended time of slot 0), when the run has begun.
    pub origin: Option<Instant>,
    /// When the connections were open and the load could begin (after the origin when a start time
    /// was given too late).
    pub started: Option<Instant>,
    /// The measured window: the first measured intended send and the last measured completion.
    pub measured: Option<(Instant, Instant)>,
}

impl LoadOutcome {
    /// An outcome with nothing measured yet.
    pub fn empty() -> LoadOutcome {
        LoadOutcome {
            latency: new_hist(),
            lag: new_hist(),
            service: new_hist(),
            ok: 0,
            errors: ErrorCounts::default(),
            wrong_statuses: vec![],
            late_sends: 0,
            window: Duration::ZERO,
            tool_cpu_ns: 0,
            target_cpu_ns: None,
            extra_cpu_ns: None,
            sends: 0,
            send_span: Duration::ZERO,
            share: 1.0,
            origin: None,
            started: None,
            measured: None,
        }
    }

    /// Adds another outcome of the same kind of load (pooling windows): histograms and counts add,
    /// windows and send spans add up, CPU times add.
    pub fn merge(&mut self, o: &LoadOutcome) {
        // Both histograms have the same bounds (new_hist), so adding cannot fail.
        let _ = self.latency.add(&o.latency);
        let _ = self.lag.add(&o.lag);
        let _ = self.service.add(&o.service);
        self.ok += o.ok;
        self.errors.add(&o.errors);
        for s in &o.wrong_statuses {
            if !self.wrong_statuses.contains(s) && self.wrong_statuses.len() < 8 {
                self.wrong_statuses.push(*s);
            }
        }
        self.late_sends += o.late_sends;
        self.window += o.window;
        self.tool_cpu_ns += o.tool_cpu_ns;
        self.target_cpu_ns = match (self.target_cpu_ns, o.target_cpu_ns) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.extra_cpu_ns = match (self.extra_cpu_ns, o.extra_cpu_ns) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        // send spans add up so that the achieved rate stays sends / time over pooled windows
        self.sends += o.sends;
        self.send_span += o.send_span;
    }
}

/// An empty histogram of ns with the bounds every histogram of the load generator has.
pub fn new_hist() -> Histogram<u64> {
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
    /// Response time: from the intended send (open loop) to the response, so that a send the load
    /// generator made late still counts its wait (no coordinated omission).
    pub latency_us: LatencyUs,
    /// Open loop only: service time, from the actual send to the response (without the time a send
    /// waited behind its intended moment). Saved beside `latency_us` so that the effect of the load
    /// generator's own late sends on a figure can be checked; every estimate uses `latency_us`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_us: Option<LatencyUs>,
    /// (quantile, microseconds) points of the latency distribution.
    pub curve_us: Vec<(f64, f64)>,
    /// Open loop only: intended and achieved rate, sends later than 1 ms, the send-lag distribution.
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
    /// Sends later than 1 ms behind their intended time.
    pub late_sends: u64,
    pub lag_p50_us: f64,
    pub lag_p99_us: f64,
    pub lag_max_us: f64,
    /// Measured requests actually sent.
    #[serde(default)]
    pub sends: u64,
    /// Sends per second actually achieved (first to last measured send).
    #[serde(default)]
    pub achieved_rps: f64,
    #[serde(default)]
    pub lag_p90_us: f64,
    #[serde(default)]
    pub lag_p999_us: f64,
    /// True when the schedule was not kept: more than 1% of sends were late by over 1 ms, or the
    /// achieved rate fell more than 5% short. Latency then includes queueing behind the target.
    #[serde(default)]
    pub fell_behind: bool,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// The summary percentiles of a histogram of ns (NaN when it is empty).
pub fn latency_us(h: &Histogram<u64>) -> LatencyUs {
    let q = |x: f64| {
        if h.is_empty() {
            f64::NAN
        } else {
            us(h.value_at_quantile(x))
        }
    };
    LatencyUs {
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
    }
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
            latency_us: latency_us(h),
            service_us: match pace {
                Pace::Open { .. } => Some(latency_us(&self.service)),
                Pace::Closed => None,
            },
            curve_us: if h.is_empty() {
                vec![]
            } else {
                CURVE_QUANTILES.iter().map(|&x| (x, q(x))).collect()
            },
            schedule: match pace {
                Pace::Open { rate } => Some(self.schedule_summary(rate * self.share)),
                Pace::Closed => None,
            },
            tool_cpu_us_per_req: if requests > 0 {
                self.tool_cpu_ns as f64 / 1000.0 / requests as f64
            } else {
                0.0
            },
        }
    }

    fn schedule_summary(&self, rate: f64) -> ScheduleSummary {
        let lag = |x: f64| us(self.lag.value_at_quantile(x));
        let span = self.send_span.as_secs_f64();
        let achieved_rps = if self.sends >= 2 && span > 0.0 {
            (self.sends - 1) as f64 / span
        } else {
            rate
        };
        ScheduleSummary {
            intended_rps: rate,
            late_sends: self.late_sends,
            lag_p50_us: lag(0.5),
            lag_p99_us: lag(0.99),
            lag_max_us: us(self.lag.max()),
            sends: self.sends,
            achieved_rps,
            lag_p90_us: lag(0.9),
            lag_p999_us: lag(0.999),
            fell_behind: self.late_sends * 100 > self.sends || achieved_rps < 0.95 * rate,
        }
    }
}

/// Shared state of one run's connections (all on one thread).
struct Shared {
    pace: Pace,
    measure_start: Instant,
    hard_end: Instant,
    /// Closed loop with a duration: end of the measured window.
    window_end: Option<Instant>,
    /// Open loop: the schedule's origin, next slot to claim and the number of slots.
    start: Instant,
    next_slot: Cell<u64>,
    /// Interleaved open loop: the slots of the shared schedule this arm sends in (claim k is slot
    /// `slot_map[k]`); None: every slot.
    slot_map: Option<Vec<u64>>,
    total_slots: u64,
    warmup_slots: u64,
    interval_ns: f64,
    /// Closed loop with -n: measured requests still to start.
    tickets: Cell<u64>,
    first_measured: Cell<Option<Instant>>,
    last_measured: Cell<Option<Instant>>,
    /// Open loop: first and last actual measured send.
    first_send: Cell<Option<Instant>>,
    last_send: Cell<Option<Instant>>,
    /// Finished measured requests (published to the progress counter by the watcher).
    done: Cell<u64>,
    stop: Cell<bool>,
    /// One histogram of each kind for all connections (one thread): fewer cache lines touched than
    /// one per connection.
    latency: RefCell<Histogram<u64>>,
    lag: RefCell<Histogram<u64>>,
    service: RefCell<Histogram<u64>>,
}

struct ConnStats {
    ok: u64,
    errors: ErrorCounts,
    wrong_statuses: Vec<u16>,
    late: u64,
    sends: u64,
}

/// What every request asks for, in the form each protocol sends.
struct Target {
    h1: Vec<u8>,
    h2: Option<http2::Target>,
}

/// One client connection of either protocol.
enum Client {
    H1(http1::Connection),
    H2(http2::Connection),
}

impl Client {
    async fn connect(addr: SocketAddr, http2: bool) -> std::io::Result<Client> {
        Ok(if http2 {
            Client::H2(http2::Connection::connect(addr).await?)
        } else {
            Client::H1(http1::Connection::connect(addr).await?)
        })
    }

    async fn exchange(&mut self, t: &Target, expect: &Expectation) -> Result<Verdict, Failure> {
        match self {
            Client::H1(c) => c.exchange(&t.h1, expect).await,
            Client::H2(c) => match &t.h2 {
                Some(t) => c.exchange(t, expect).await,
                None => Err(Failure::Protocol),
            },
        }
    }

    fn reusable(&self) -> bool {
        match self {
            Client::H1(c) => !c.closing,
            Client::H2(c) => !c.closing,
        }
    }
}

/// CPU times read together, ns: this thread's, and the probed processes' if any.
type CpuTimes = (u64, Option<u64>, Option<u64>);

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
            "schedule: intended {:.0} req/s, achieved {:.0} req/s; send lag behind schedule p50 {:.1} µs  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1} µs; {} of {} sends later than 1 ms\n",
            sc.intended_rps,
            sc.achieved_rps,
            sc.lag_p50_us,
            sc.lag_p90_us,
            sc.lag_p99_us,
            sc.lag_p999_us,
            sc.lag_max_us,
            sc.late_sends,
            sc.sends
        );
        if sc.fell_behind {
            out += &format!(
                "WARNING: the target could not keep up with {:.0} req/s: {:.1}% of sends were more than 1 ms late and {:.0} req/s were achieved; latency above counts from the intended send times, so it includes the queueing. Lower --rate or add connections (-c).\n",
                sc.intended_rps,
                if sc.sends > 0 { 100.0 * sc.late_sends as f64 / sc.sends as f64 } else { 0.0 },
                sc.achieved_rps
            );
        }
    }
    out += &format!(
        "load generator CPU: {:.2} µs/request\n",
        s.tool_cpu_us_per_req
    );
    out
}

#[cfg(test)]
mod tests;
