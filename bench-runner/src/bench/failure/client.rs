//! The failure scenarios' client: a bounded sequence of requests at a fixed rate (open loop: a slow or
//! hung request never delays the next one), one fresh connection per request, each bounded by a client
//! timeout and classified by what came back. A request that times out is a hang, never a latency sample.

use crate::load::http1::Connection;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use crate::results::failure::Class;

/// The raw result of one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response {
        status: u16,
        body: Vec<u8>,
        latency: Duration,
    },
    ConnectionError(String),
    Hang,
}

/// Classifies an outcome given the two bodies a 200 can carry.
pub fn classify(o: &Outcome, plugin_body: &str, upstream_body: &str) -> Class {
    match o {
        Outcome::Response {
            status: 200, body, ..
        } if body == plugin_body.as_bytes() => Class::Plugin,
        Outcome::Response {
            status: 200, body, ..
        } if body == upstream_body.as_bytes() => Class::Upstream,
        Outcome::Response { status, .. } if (500..600).contains(status) => Class::Local5xx,
        Outcome::Response { .. } => Class::OtherStatus,
        Outcome::ConnectionError(_) => Class::ConnectionError,
        Outcome::Hang => Class::Hang,
    }
}

/// The request sent as number `seq` of a timeline; the sequence number lets the access log be joined.
pub fn request_bytes(seq: usize) -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench-runner-failure\r\nx-bench-seq: {seq}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// One request on a fresh connection, everything (connect, send, whole response) within `timeout`.
pub async fn request(addr: SocketAddr, seq: usize, timeout: Duration) -> Outcome {
    let t0 = Instant::now();
    let exchange = async {
        let mut c = Connection::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (status, body) = c
            .exchange_raw(&request_bytes(seq))
            .await
            .map_err(|f| format!("{f:?}: closed or reset before a complete response"))?;
        Ok::<_, String>((status, body.to_vec()))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Outcome::Hang,
        Ok(Err(e)) => Outcome::ConnectionError(e),
        Ok(Ok((status, body))) => Outcome::Response {
            status,
            body,
            latency: t0.elapsed(),
        },
    }
}

/// A fixed-rate sequence of `count` requests.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    pub addr: SocketAddr,
    pub rate_per_s: f64,
    pub count: usize,
    pub timeout: Duration,
    /// Delay before the first request.
    pub delay: Duration,
}

/// One request of a timeline as sent and received (before the access log is joined).
#[derive(Debug, Clone)]
pub struct Sample {
    pub index: usize,
    /// Send time relative to the timeline's start (the common start of every timeline run together).
    pub at: Duration,
    pub outcome: Outcome,
}

/// Runs a timeline: request i is sent at `delay + i / rate` after `start`, each in its own task, so the
/// schedule holds whatever the answers do. Bounded: `count` requests, each within `timeout`.
pub async fn run_timeline(t: Timeline, start: tokio::time::Instant) -> Vec<Sample> {
    let interval = Duration::from_secs_f64(1.0 / t.rate_per_s.max(0.001));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..t.count {
        let when = start + t.delay + interval.mul_f64(i as f64);
        tokio::time::sleep_until(when).await;
        let at = start.elapsed();
        set.spawn(async move {
            Sample {
                index: i,
                at,
                outcome: request(t.addr, i, t.timeout).await,
            }
        });
    }
    let mut out = Vec::with_capacity(t.count);
    while let Some(r) = set.join_next().await {
        if let Ok(s) = r {
            out.push(s);
        }
    }
    out.sort_by_key(|s| s.index);
    out
}

/// Runs several timelines together on one runtime (one common start) and returns them in order.
pub fn run_together(timelines: &[Timeline]) -> std::io::Result<Vec<Vec<Sample>>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for (k, t) in timelines.iter().enumerate() {
            let t = *t;
            set.spawn(async move { (k, run_timeline(t, start).await) });
        }
        let mut out: Vec<Vec<Sample>> = vec![Vec::new(); timelines.len()];
        while let Some(r) = set.join_next().await {
            if let Ok((k, samples)) = r {
                out[k] = samples;
            }
        }
        out
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Outcome {
        Outcome::Response {
            status,
            body: body.as_bytes().to_vec(),
            latency: Duration::from_millis(1),
        }
    }

    #[test]
    fn classes_follow_status_and_body() {
        let c = |o: &Outcome| classify(o, "hello higress", "upstream");
        assert_eq!(c(&resp(200, "hello higress")), Class::Plugin);
        assert_eq!(c(&resp(200, "upstream")), Class::Upstream);
        assert_eq!(c(&resp(503, "")), Class::Local5xx);
        assert_eq!(c(&resp(500, "lua error")), Class::Local5xx);
        assert_eq!(c(&resp(200, "something else")), Class::OtherStatus);
        assert_eq!(c(&resp(404, "")), Class::OtherStatus);
        assert_eq!(
            c(&Outcome::ConnectionError("reset".into())),
            Class::ConnectionError
        );
        assert_eq!(c(&Outcome::Hang), Class::Hang);
    }
}
