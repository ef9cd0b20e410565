//! The load during a swap run: the failure scenarios' open loop (one fresh connection per request at
//! a fixed rate, each bounded by the client timeout) and beside it a few keep-alive clients, whose
//! connections show what a swap does to connections that stay open (drained, closed, reset).

use crate::bench::failure::client::{self, Sample, Timeline};
use crate::bench::failure::own::OwnTimeline;
use crate::load::http1::{build_request, Connection, Verdict};
use crate::results::lifecycle::KeepAlive;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What one keep-alive client saw.
async fn keepalive_client(
    addr: SocketAddr,
    until: tokio::time::Instant,
    period: Duration,
    timeout: Duration,
    bodies: [Vec<u8>; 2],
    own: Option<OwnTimeline>,
) -> KeepAlive {
    // A plugin of your own: its first stated request, its answer judged against the stated one.
    let (request, expect) = match &own {
        Some(o) => (
            o.requests.normal[0].wire(false),
            Some(o.requests.expect.clone()),
        ),
        None => (build_request("localhost", "/"), None),
    };
    let mut k = KeepAlive::default();
    let mut conn: Option<Connection> = None;
    while tokio::time::Instant::now() < until {
        if conn.is_none() {
            match tokio::time::timeout(timeout, Connection::connect(addr)).await {
                Ok(Ok(c)) => {
                    k.connections_opened += 1;
                    conn = Some(c);
                }
                _ => {
                    k.requests += 1;
                    k.failed += 1;
                    tokio::time::sleep(period).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        k.requests += 1;
        let want = expect.as_ref().and_then(|e| e.header.as_ref());
        let answer = tokio::time::timeout(timeout, c.exchange_checked(&request, want)).await;
        let drop_conn = match answer {
            Ok(Ok((status, body, header_ok))) => {
                let ok = match &expect {
                    Some(e) => e.judge_all(status, body, header_ok) == Verdict::Ok,
                    None => status == 200 && bodies.iter().any(|b| b.as_slice() == body),
                };
                if !ok {
                    k.failed += 1;
                }
                if c.closing {
                    k.connections_closed += 1;
                }
                c.closing
            }
            Ok(Err(_)) => {
                // Closed or reset by Envoy before a whole response.
                k.failed += 1;
                k.connections_closed += 1;
                true
            }
            Err(_) => {
                k.failed += 1;
                true
            }
        };
        if drop_conn {
            conn = None;
        }
        tokio::time::sleep(period).await;
    }
    k
}

/// The load of one swap run, from `start` (a std instant shared with the swapping thread).
pub struct Load {
    pub addr: SocketAddr,
    pub rate_per_s: f64,
    pub count: usize,
    pub timeout: Duration,
    pub keepalive_clients: usize,
    pub keepalive_period: Duration,
    /// The two bodies a correct answer can carry.
    pub bodies: [String; 2],
    /// A plugin of your own: its stated requests and answer instead of `GET /` and the bodies.
    pub own: Option<OwnTimeline>,
}

/// Runs the open loop and the keep-alive clients together; returns the open loop's samples (send
/// times relative to `start`) and the keep-alive clients' totals.
pub fn drive(l: &Load, start: Instant) -> std::io::Result<(Vec<Sample>, KeepAlive)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let t = Timeline {
        addr: l.addr,
        rate_per_s: l.rate_per_s,
        count: l.count,
        timeout: l.timeout,
        delay: Duration::ZERO,
        own: l.own.clone(),
    };
    let span = Duration::from_secs_f64(l.count as f64 / l.rate_per_s);
    Ok(rt.block_on(async {
        let t0 = tokio::time::Instant::from_std(start);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..l.keepalive_clients {
            let bodies = l.bodies.clone().map(String::into_bytes);
            set.spawn(keepalive_client(
                l.addr,
                t0 + span,
                l.keepalive_period,
                l.timeout,
                bodies,
                l.own.clone(),
            ));
        }
        let samples = client::run_timeline(t, t0).await;
        let mut k = KeepAlive::default();
        while let Some(Ok(r)) = set.join_next().await {
            k.requests += r.requests;
            k.failed += r.failed;
            k.connections_closed += r.connections_closed;
            k.connections_opened += r.connections_opened;
        }
        (samples, k)
    }))
}
