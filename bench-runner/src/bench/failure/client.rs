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

/// Classifies an outcome given the two bodies a 200 can carry; `as_stated`: a plugin of your own's
/// answer judged against what was stated (as stated: the plugin's reply; a 200 with the upstream's
/// body that is not: the plugin was bypassed).
pub fn classify(
    o: &Outcome,
    as_stated: Option<bool>,
    plugin_body: &str,
    upstream_body: &str,
) -> Class {
    match o {
        Outcome::Response { .. } if as_stated == Some(true) => Class::Plugin,
        Outcome::Response {
            status: 200, body, ..
        } if as_stated.is_some() && body == upstream_body.as_bytes() => Class::Upstream,
        Outcome::Response { status, .. } if as_stated.is_some() && (500..600).contains(status) => {
            Class::Local5xx
        }
        Outcome::Response { .. } if as_stated.is_some() => Class::OtherStatus,
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
#[derive(Debug, Clone)]
pub struct Timeline {
    pub addr: SocketAddr,
    pub rate_per_s: f64,
    pub count: usize,
    pub timeout: Duration,
    /// Delay before the first request.
    pub delay: Duration,
    /// A plugin of your own's requests (its stated ones, and every Nth the one that makes it fail)
    /// instead of the suite's `GET /`.
    pub own: Option<super::own::OwnTimeline>,
}

/// One request of a timeline as sent and received (before the access log is joined).
#[derive(Debug, Clone)]
pub struct Sample {
    pub index: usize,
    /// Send time relative to the timeline's start (the common start of every timeline run together).
    pub at: Duration,
    pub outcome: Outcome,
    /// A plugin of your own's request: whether the answer was the one stated (None: the suite's
    /// requests, classified by body).
    pub as_stated: Option<bool>,
    /// It was the request that makes a plugin of your own fail (`--crash-on`).
    pub crash: bool,
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
        let (addr, timeout, own) = (t.addr, t.timeout, t.own.clone());
        set.spawn(async move {
            match own {
                None => Sample {
                    index: i,
                    at,
                    outcome: request(addr, i, timeout).await,
                    as_stated: None,
                    crash: false,
                },
                Some(own) => {
                    let (outcome, as_stated, crash) = own.request(addr, i, timeout).await;
                    Sample {
                        index: i,
                        at,
                        outcome,
                        as_stated: Some(as_stated),
                        crash,
                    }
                }
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
            let t = t.clone();
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
        let c = |o: &Outcome| classify(o, None, "hello higress", "upstream");
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
        // A plugin of your own: judged by what was stated, not by the mock's body.
        let own = |o: &Outcome, ok| classify(o, Some(ok), "hello higress", "passthrough");
        assert_eq!(own(&resp(200, "passthrough"), true), Class::Plugin);
        assert_eq!(own(&resp(401, "no"), true), Class::Plugin);
        assert_eq!(own(&resp(200, "passthrough"), false), Class::Upstream);
        assert_eq!(own(&resp(200, "hello higress"), false), Class::OtherStatus);
        assert_eq!(own(&resp(503, ""), false), Class::Local5xx);
        assert_eq!(own(&Outcome::Hang, false), Class::Hang);
    }
}
