//! `bench-runner load`: wrk/oha-style flags, turned into a load plan for `load::run`, with a progress
//! bar; as one of several workers (`--start-at`, `--worker-id`, `--save-histograms`) its results go to
//! a file that `merge` adds up exactly (see `worker`).

use super::args::{parse_duration, parse_rfc3339, parse_size, parse_url};
use crate::error::usage;
use crate::{load, sys};
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

mod worker;

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Target URL, http://127.0.0.1:PORT/path (loopback only unless --allow-remote).
    pub url: String,
    /// Connections.
    #[arg(short = 'c', long = "connections", default_value_t = 1)]
    pub connections: usize,
    /// Measured duration (e.g. 10s, 500ms, 2m).
    #[arg(short = 'd', long = "duration", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Number of measured requests (after warm-up).
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Open loop: requests per second across all connections (latency counted from intended send time).
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// Warm-up before measuring.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Host header (default: the URL's host:port).
    #[arg(long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Expected status; other statuses are errors.
    #[arg(long, default_value_t = 200)]
    pub expect_status: u16,
    /// Expected body; a different body is an error, never a latency sample.
    #[arg(long, value_name = "TEXT")]
    pub expect_body: Option<String>,
    /// Pin the load thread to this CPU.
    #[arg(long, value_name = "CPU")]
    pub cpu: Option<usize>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// HTTP/2 over cleartext with prior knowledge (h2c), one stream at a time per connection.
    #[arg(long)]
    pub http2: bool,
    /// Write this worker's histograms (HdrHistogram interval log), counts, errors, schedule and
    /// clock to FILE for `merge` (`-`: to stdout between marker lines, the summary to stderr).
    #[arg(long, value_name = "FILE")]
    pub save_histograms: Option<PathBuf>,
    /// This worker's name in the --save-histograms file (default: hostname-pid).
    #[arg(long, value_name = "ID")]
    pub worker_id: Option<String>,
    /// Begin the schedule (warm-up first) at this wall-clock time, RFC 3339 (e.g.
    /// 2026-12-01T21:00:00Z), so that several workers start together; --rate is per worker.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub start_at: Option<SystemTime>,
    /// Allow a target that is not this machine (your own gateway): without --rate the rate is capped
    /// at 100 req/s; the target and the planned request count are printed before starting.
    #[arg(long)]
    pub allow_remote: bool,
    /// Send each request as a POST with a body of this size (bytes, or e.g. 4k, 1m; at most 1m),
    /// byte i = i % 251, built once; 0 (the default) sends GETs.
    #[arg(long, value_name = "SIZE", default_value = "0", value_parser = parse_size)]
    pub body: usize,
}

/// The most connections `load` opens.
const MAX_CONNECTIONS: usize = 10_000;

/// A remote target without --rate gets an open loop at this rate (requests per second).
pub const REMOTE_DEFAULT_RATE: f64 = 100.0;
/// How far in the past --start-at may be (a worker started a little late still joins the others,
/// sending its first slots late; they count as latency).
pub const START_GRACE: Duration = Duration::from_secs(2);
/// How far ahead --start-at may be.
pub const START_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// The flags the load plan does not check itself (the machine's CPUs, HTTP's statuses and headers).
fn check_flags(a: &LoadArgs) -> anyhow::Result<()> {
    if a.connections > MAX_CONNECTIONS {
        return Err(usage(format!(
            "-c/--connections {}: at most {MAX_CONNECTIONS} (each is a socket of this process)",
            a.connections
        )));
    }
    let cpus = sys::online_cpus();
    if let Some(c) = a.cpu.filter(|&c| c >= cpus) {
        return Err(usage(format!(
            "--cpu {c}: this machine has CPUs 0 to {}",
            cpus - 1
        )));
    }
    if !(100..=599).contains(&a.expect_status) {
        return Err(usage(format!(
            "--expect-status {}: give an HTTP status from 100 to 599",
            a.expect_status
        )));
    }
    if let Some(t) = a.start_at {
        let now = SystemTime::now();
        let start = load::worker::rfc3339(t);
        if t + START_GRACE < now {
            return Err(usage(format!(
                "--start-at {start}: that is {:.1} s ago (at most {} s late is accepted); give a time ahead, e.g. {}",
                now.duration_since(t).unwrap_or_default().as_secs_f64(),
                START_GRACE.as_secs(),
                load::worker::rfc3339(now + Duration::from_secs(60))
            )));
        }
        if t > now + START_HORIZON {
            return Err(usage(format!(
                "--start-at {start}: more than 24 h ahead; give a time within the next day"
            )));
        }
    }
    if let Some(id) = &a.worker_id {
        if id.is_empty() || id.len() > 200 || id.chars().any(|c| c.is_control()) {
            return Err(usage(format!(
                "--worker-id {id:?}: give 1 to 200 characters without control characters"
            )));
        }
    }
    if let Some(f) = a
        .save_histograms
        .as_deref()
        .filter(|f| f.as_os_str() != "-")
    {
        sys::check_out_file("--save-histograms", f)?;
    }
    if let Some(h) = &a.host {
        if h.is_empty() || h.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(usage(format!(
                "--host {h:?}: give a host[:port] without spaces or control characters"
            )));
        }
    }
    Ok(())
}

/// A progress bar on a terminal (not with --json), on its own thread until `stop` is set.
fn progress_bar(
    a: &LoadArgs,
    secs: Duration,
    progress: &std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    use std::io::IsTerminal;
    let total = a.requests;
    let progress = progress.clone();
    let stop = stop.clone();
    (std::io::stderr().is_terminal() && !a.json).then(|| {
        std::thread::spawn(move || {
            let bar = match total {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new(secs.as_millis() as u64),
            };
            let t0 = std::time::Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match total {
                    Some(_) => {
                        bar.set_position(progress.load(std::sync::atomic::Ordering::Relaxed))
                    }
                    None => bar.set_position(t0.elapsed().as_millis() as u64),
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            bar.finish_and_clear();
        })
    })
}

/// The load plan the flags ask for (a remote target without --rate gets the capped open loop).
fn plan_of(a: &LoadArgs, target: &super::args::UrlTarget) -> load::LoadPlan {
    let duration = if a.duration.is_none() && a.requests.is_none() {
        Some(Duration::from_secs(10))
    } else {
        a.duration
    };
    let warmup = a.warmup;
    let rate = match (a.rate, target.loopback) {
        (None, false) => Some(REMOTE_DEFAULT_RATE),
        (r, _) => r,
    };
    load::LoadPlan {
        addr: target.addr,
        host: a.host.clone().unwrap_or(target.authority.clone()),
        path: target.path.clone(),
        connections: a.connections,
        pace: match rate {
            Some(rate) => load::Pace::Open { rate },
            None => load::Pace::Closed,
        },
        warmup,
        duration,
        requests: a.requests,
        max_duration: warmup
            + duration.unwrap_or(std::time::Duration::from_secs(600))
            + std::time::Duration::from_secs(30),
        timeout: a.timeout,
        expect_status: a.expect_status,
        expect_body: a.expect_body.as_ref().map(|b| b.as_bytes().to_vec()),
        cpu: a.cpu,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        cpu_probe_extra_pid: None,
        http2: a.http2,
        body_bytes: a.body,
        exchange: None,
    }
}

/// `bench-runner load`.
pub fn command(a: &LoadArgs) -> anyhow::Result<u8> {
    check_flags(a)?;
    let anchor = (SystemTime::now(), std::time::Instant::now());
    let target = parse_url(&a.url, a.allow_remote)?;
    let plan = plan_of(a, &target);
    let (warmup, duration) = (plan.warmup, plan.duration);
    plan.validate().map_err(usage)?;
    if !target.loopback {
        eprintln!("{}", worker::announce(a, &plan));
    }
    let origin = a.start_at.map(|t| worker::instant_of(anchor, t));
    let saving = a.save_histograms.is_some();
    let probe_first =
        origin.is_some_and(|o| o > std::time::Instant::now() + Duration::from_millis(1500));
    let mut offset = None;
    if saving && probe_first {
        let until = origin.map(|o| o - Duration::from_millis(100));
        offset = load::clock::offset(
            plan.addr,
            &plan.host,
            &plan.path,
            until.unwrap_or_else(std::time::Instant::now),
        );
    }
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop_bar = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bar_thread = progress_bar(
        a,
        warmup + duration.unwrap_or_default(),
        &progress,
        &stop_bar,
    );
    let outcome = load::run_from(&plan, origin, Some(progress));
    stop_bar.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = bar_thread {
        let _ = t.join();
    }
    if saving && !probe_first {
        let until = std::time::Instant::now() + Duration::from_secs(2);
        offset = load::clock::offset(plan.addr, &plan.host, &plan.path, until);
    }
    let saved = |o: Result<&load::LoadOutcome, String>| -> anyhow::Result<()> {
        match &a.save_histograms {
            Some(file) => worker::save(
                file,
                &worker::Facts {
                    a,
                    plan: &plan,
                    anchor,
                    offset,
                },
                o,
            ),
            None => Ok(()),
        }
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            saved(Err(format!("{e:#}")))?;
            return Err(e);
        }
    };
    if let Err(e) = sys::check_interrupted() {
        saved(Err("interrupted (Ctrl-C or SIGTERM)".into()))?;
        return Err(e);
    }
    let s = outcome.summarize(plan.pace);
    let to_stdout = a
        .save_histograms
        .as_deref()
        .is_none_or(|f| f.as_os_str() != "-");
    let summary = if a.json {
        format!("{}\n", serde_json::to_string_pretty(&s)?)
    } else {
        let mut t = load::format_summary(&s);
        if !outcome.wrong_statuses.is_empty() {
            t += &format!("  unexpected statuses seen: {:?}\n", outcome.wrong_statuses);
        }
        t
    };
    if to_stdout {
        print!("{summary}");
    } else {
        eprint!("{summary}");
    }
    saved(Ok(&outcome))?;
    Ok(if s.errors > 0 { 1 } else { 0 })
}
