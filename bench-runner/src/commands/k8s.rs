//! `bench-runner k8s`: the Kubernetes Indexed Job of N load workers against your gateway, with the
//! commands that collect and merge their results (see `bench::k8s`).

use super::args::{parse_duration, parse_rfc3339};
use crate::bench::k8s::{self, JobSpec};
use crate::error::usage;
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Args)]
pub struct K8sArgs {
    /// The gateway's URL as the workers reach it, http://HOST[:PORT]/path (a cluster DNS name is fine).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// Workers (pods), each running `bench-runner load`.
    #[arg(long, value_name = "N")]
    pub workers: u32,
    /// Requests per second per worker (open loop); the total is N times this.
    #[arg(long, value_name = "RPS")]
    pub rate: f64,
    /// Measured duration.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Duration,
    /// Warm-up before measuring.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Connections per worker.
    #[arg(short = 'c', long, default_value_t = 16)]
    pub connections: usize,
    /// The worker image (holding `bench-runner` on PATH; see bench-runner/load-worker.Dockerfile).
    #[arg(long, default_value = "bench-runner:latest", value_name = "IMG")]
    pub image: String,
    /// The Job's name.
    #[arg(long, default_value = "bench-load", value_name = "NAME")]
    pub name: String,
    #[arg(long, default_value = "default", value_name = "NS")]
    pub namespace: String,
    /// When the workers start (RFC 3339); default: generation time plus --lead.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub start_at: Option<SystemTime>,
    /// Time from generation to the start, for applying the Job and pulling the image.
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = parse_duration)]
    pub lead: Duration,
    /// HTTP/2 (h2c prior knowledge) instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
    /// Write the YAML here (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A DNS-1123 label of at most 52 characters (a Job's name also names its pods).
fn check_name(flag: &str, v: &str) -> anyhow::Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 52
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "{flag} {v:?}: give a Kubernetes name: lowercase letters, digits and '-', at most 52 characters"
        )))
    }
}

fn check(a: &K8sArgs) -> anyhow::Result<SystemTime> {
    let rest = a.target.strip_prefix("http://").ok_or_else(|| {
        usage(format!(
            "--target {}: give an http:// URL, e.g. http://higress-gateway.higress-system/",
            a.target
        ))
    })?;
    let authority = rest.split('/').next().unwrap_or("");
    let port_ok = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0),
        _ => !authority.is_empty(),
    };
    if !port_ok || authority.chars().any(|c| c.is_whitespace()) {
        return Err(usage(format!(
            "--target {}: give http://HOST[:PORT]/path",
            a.target
        )));
    }
    if !(1..=1000).contains(&a.workers) {
        return Err(usage(format!("--workers {}: give 1 to 1000", a.workers)));
    }
    if !(a.rate.is_finite() && a.rate > 0.0) {
        return Err(usage(
            "--rate must be a positive number of requests per second per worker",
        ));
    }
    if a.duration.is_zero() {
        return Err(usage("--duration must be longer than 0"));
    }
    if a.connections == 0 || a.connections > 10_000 {
        return Err(usage(format!(
            "--connections {}: give 1 to 10000",
            a.connections
        )));
    }
    if a.image.is_empty() || a.image.chars().any(|c| c.is_whitespace()) {
        return Err(usage(format!(
            "--image {:?}: give an image reference",
            a.image
        )));
    }
    check_name("--name", &a.name)?;
    check_name("--namespace", &a.namespace)?;
    let now = SystemTime::now();
    let start = a.start_at.unwrap_or(now + a.lead);
    if start < now + Duration::from_secs(10) || start > now + Duration::from_secs(24 * 3600) {
        return Err(usage(format!(
            "--start-at/--lead: the start {} must be 10 s to 24 h ahead (time to apply the Job and start the pods)",
            crate::load::worker::rfc3339(start)
        )));
    }
    if let Some(out) = &a.out {
        crate::sys::check_out_file("--out", out)?;
    }
    Ok(start)
}

/// `bench-runner k8s`.
pub fn command(project: &Project, a: &K8sArgs) -> anyhow::Result<u8> {
    let start_at = check(a)?;
    let implementations = crate::plugins::discover(project)
        .map(|ps| ps.into_iter().map(|p| p.name).collect())
        .unwrap_or_default();
    let spec = JobSpec {
        name: a.name.clone(),
        namespace: a.namespace.clone(),
        image: a.image.clone(),
        target: a.target.clone(),
        workers: a.workers,
        rate: a.rate,
        duration: a.duration,
        warmup: a.warmup,
        connections: a.connections,
        start_at,
        http2: a.http2,
        implementations,
    };
    let argv: Vec<String> = std::env::args().collect();
    let line = format!(
        "bench-runner {}",
        argv.get(1..).unwrap_or_default().join(" ")
    );
    let text = k8s::render(&spec, SystemTime::now(), &line)?;
    match &a.out {
        Some(out) => {
            crate::sys::write_atomic(out, text.as_bytes())
                .map_err(|e| usage(format!("--out {}: cannot write it: {e}", out.display())))?;
            eprintln!(
                "wrote {} (workers start at {}): kubectl apply -f {}",
                out.display(),
                crate::load::worker::rfc3339(start_at),
                out.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(0)
}
