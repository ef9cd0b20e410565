//! `load` as one worker of several: the wall-clock start, the announcement for remote targets, and
//! the `--save-histograms` file (see `load::worker` for its form).

use super::LoadArgs;
use crate::load::worker::{self as file, WorkerClock, WorkerMeta};
use crate::load::{clock::Offset, LoadOutcome, LoadPlan, Pace};
use crate::sys;
use std::path::Path;
#[cfg(test)]
use std::time::Duration;
use std::time::{Instant, SystemTime};

/// A wall-clock reading and a monotonic one taken together.
pub type Anchor = (SystemTime, Instant);

/// The monotonic instant of wall-clock time `t` (as of the anchor; a past `t` is an earlier instant
/// where the process is old enough, else now).
pub fn instant_of((wall, mono): Anchor, t: SystemTime) -> Instant {
    match t.duration_since(wall) {
        Ok(ahead) => mono + ahead,
        Err(behind) => mono
            .checked_sub(behind.duration())
            .unwrap_or_else(Instant::now),
    }
}

/// The wall-clock time of instant `i`, as of the anchor.
fn wall_of((wall, mono): Anchor, i: Instant) -> SystemTime {
    match i.checked_duration_since(mono) {
        Some(d) => wall + d,
        None => wall - (mono - i),
    }
}

/// What `load` prints before loading another machine: the target, where it resolved, the pace and
/// the planned request count.
pub fn announce(a: &LoadArgs, plan: &LoadPlan) -> String {
    let (warm, measured) = plan.planned_requests();
    let pace = match (plan.pace, a.rate) {
        (Pace::Open { rate }, Some(_)) => format!("open loop at {rate} req/s (--rate)"),
        (Pace::Open { rate }, None) => format!(
            "open loop at {rate} req/s (the cap for remote targets; give --rate to change it)"
        ),
        (Pace::Closed, _) => "closed loop".into(),
    };
    let count = match measured {
        Some(m) => format!(
            "{} requests planned ({warm} warm-up + {m} measured)",
            warm + m
        ),
        None => "as many requests as answered".into(),
    };
    format!(
        "load: remote target {} ({}), {pace}, {} connection(s): {count}; redirects are never followed (a 3xx is an error)",
        a.url, plan.addr, plan.connections
    )
}

/// What the worker file records besides the outcome.
pub struct Facts<'a> {
    pub a: &'a LoadArgs,
    pub plan: &'a LoadPlan,
    pub anchor: Anchor,
    pub offset: Option<Offset>,
}

fn default_worker_id() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into the buffer we own.
    let host = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "localhost".into()
    };
    format!("{host}-{}", std::process::id())
}

/// The worker's record: `outcome` is what it measured, or why it could not.
pub fn meta(f: &Facts, outcome: Result<&LoadOutcome, String>) -> WorkerMeta {
    let end = (SystemTime::now(), Instant::now());
    let (wall0, mono0) = f.anchor;
    let at = |i: Instant| file::rfc3339(wall_of(f.anchor, i));
    let monotonic = end.1 - mono0;
    let wall = end.0.duration_since(wall0).unwrap_or_default();
    let o = outcome.as_ref().ok();
    let clock = WorkerClock {
        planned_start: f.a.start_at.map(file::rfc3339),
        origin: o.and_then(|o| o.origin).map(at),
        actual_start: o.and_then(|o| o.started.max(o.origin)).map(at),
        start_lag_ms: o
            .and_then(|o| o.origin.zip(o.started))
            .map(|(a, b)| b.saturating_duration_since(a).as_secs_f64() * 1e3),
        measured_start: o.and_then(|o| o.measured).map(|m| at(m.0)),
        measured_end: o.and_then(|o| o.measured).map(|m| at(m.1)),
        wall_start: file::rfc3339(wall0),
        wall_end: file::rfc3339(end.0),
        monotonic_s: monotonic.as_secs_f64(),
        wall_minus_monotonic_ms: (wall.as_secs_f64() - monotonic.as_secs_f64()) * 1e3,
        target_offset: f.offset,
    };
    WorkerMeta {
        format: file::FORMAT,
        worker_id: f.a.worker_id.clone().unwrap_or_else(default_worker_id),
        target: f.a.url.clone(),
        http2: f.plan.http2,
        connections: f.plan.connections,
        rate_rps: match f.plan.pace {
            Pace::Open { rate } => Some(rate),
            Pace::Closed => None,
        },
        warmup_s: f.plan.warmup.as_secs_f64(),
        duration_s: f.plan.duration.map(|d| d.as_secs_f64()),
        planned_requests: f.plan.planned_requests().1,
        clock,
        summary: o.map(|o| o.summarize(f.plan.pace)),
        failure: outcome.err(),
    }
}

/// Writes the worker file (atomically; `-`: to stdout between the marker lines).
pub fn save(path: &Path, f: &Facts, outcome: Result<&LoadOutcome, String>) -> anyhow::Result<()> {
    let hists = outcome
        .as_ref()
        .ok()
        .map(|o| (&o.latency, &o.service, &o.lag));
    let text = file::render(&meta(f, outcome.clone()), hists)?;
    if path.as_os_str() == "-" {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        write!(out, "{}\n{text}{}\n", file::BEGIN, file::END)?;
        out.flush()?;
        return Ok(());
    }
    sys::write_atomic(path, text.as_bytes()).map_err(|e| {
        crate::error::usage(format!(
            "--save-histograms {}: cannot write it: {e}",
            path.display()
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        load: LoadArgs,
    }

    #[test]
    fn a_remote_target_is_announced_with_its_planned_count_and_capped_rate() {
        let a = Cli::parse_from(["x", "http://10.0.0.9/", "--allow-remote", "-d", "10s"]).load;
        let plan = LoadPlan {
            addr: ([10, 0, 0, 9], 80).into(),
            host: "10.0.0.9".into(),
            path: "/".into(),
            connections: 1,
            pace: Pace::Open {
                rate: super::super::REMOTE_DEFAULT_RATE,
            },
            warmup: Duration::from_secs(1),
            duration: Some(Duration::from_secs(10)),
            requests: None,
            max_duration: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
            expect_status: 200,
            expect_body: None,
            cpu: None,
            cpu_probe_pid: None,
            cpu_probe_tid: None,
            cpu_probe_extra_pid: None,
            body_bytes: 0,
            exchange: None,
            http2: false,
        };
        let t = announce(&a, &plan);
        assert!(t.contains("http://10.0.0.9/ (10.0.0.9:80)"), "{t}");
        assert!(
            t.contains("1100 requests planned (100 warm-up + 1000 measured)"),
            "{t}"
        );
        assert!(t.contains("the cap for remote targets"), "{t}");
        assert!(t.contains("never followed"), "{t}");
    }

    #[test]
    fn wall_and_monotonic_times_map_both_ways() {
        let anchor = (SystemTime::now(), Instant::now());
        let later = anchor.0 + Duration::from_secs(5);
        let i = instant_of(anchor, later);
        assert_eq!(i - anchor.1, Duration::from_secs(5));
        assert_eq!(wall_of(anchor, i), later);
    }
}
