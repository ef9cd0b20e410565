//! `bench-runner load`: wrk/oha-style flags, turned into a load plan for `load::run`, with a progress bar.

use super::args::{parse_duration, parse_loopback_url, parse_size};
use crate::error::usage;
use crate::{load, sys};
use clap::Args;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Target URL, http://127.0.0.1:PORT/path (loopback only).
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
    /// Send each request as a POST with a body of this size (bytes, or e.g. 4k, 1m; at most 1m),
    /// byte i = i % 251, built once; 0 (the default) sends GETs.
    #[arg(long, value_name = "SIZE", default_value = "0", value_parser = parse_size)]
    pub body: usize,
}

/// The most connections `load` opens.
const MAX_CONNECTIONS: usize = 10_000;

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
    if let Some(h) = &a.host {
        if h.is_empty() || h.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(usage(format!(
                "--host {h:?}: give a host[:port] without spaces or control characters"
            )));
        }
    }
    Ok(())
}

/// `bench-runner load`.
pub fn command(a: &LoadArgs) -> anyhow::Result<u8> {
    check_flags(a)?;
    let (addr, authority, path) = parse_loopback_url(&a.url)?;
    let duration = if a.duration.is_none() && a.requests.is_none() {
        Some(Duration::from_secs(10))
    } else {
        a.duration
    };
    let warmup = a.warmup;
    let plan = load::LoadPlan {
        addr,
        host: a.host.clone().unwrap_or(authority),
        path,
        connections: a.connections,
        pace: match a.rate {
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
        http2: a.http2,
        body_bytes: a.body,
    };
    plan.validate().map_err(usage)?;
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop_bar = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let bar_thread = {
        use std::io::IsTerminal;
        let total = a.requests;
        let progress = progress.clone();
        let stop = stop_bar.clone();
        let secs = warmup + duration.unwrap_or_default();
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
    };
    let outcome = load::run(&plan, Some(progress));
    stop_bar.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = bar_thread {
        let _ = t.join();
    }
    let outcome = outcome?;
    sys::check_interrupted()?;
    let s = outcome.summarize(plan.pace);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print!("{}", load::format_summary(&s));
        if !outcome.wrong_statuses.is_empty() {
            println!("  unexpected statuses seen: {:?}", outcome.wrong_statuses);
        }
    }
    Ok(if s.errors > 0 { 1 } else { 0 })
}
