//! The load generator against small servers on 127.0.0.1: counts, schedules, checks, redirects.
use super::*;
use std::io::{Read, Write};

/// A small HTTP/1.1 server on 127.0.0.1: every request head (up to the blank line) gets `reply`
/// after `delay`. A thread per connection; everything ends when the clients disconnect.
pub(super) fn server(reply: &'static [u8], delay: Duration) -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    let n = match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..i + 4);
                        std::thread::sleep(delay);
                        if s.write_all(reply).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn plan(addr: SocketAddr, pace: Pace, requests: u64) -> LoadPlan {
    LoadPlan {
        addr,
        host: "localhost".into(),
        path: "/".into(),
        connections: 2,
        pace,
        warmup: Duration::ZERO,
        duration: None,
        requests: Some(requests),
        max_duration: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        expect_status: 200,
        expect_body: Some(b"hello".to_vec()),
        cpu: None,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        cpu_probe_extra_pid: None,
        body_bytes: 0,
        exchange: None,
        http2: false,
    }
}

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

#[test]
fn open_loop_sends_exactly_the_scheduled_count() {
    let addr = server(HELLO, Duration::ZERO);
    // by request count
    let p = plan(addr, Pace::Open { rate: 2000.0 }, 300);
    let o = run(&p, None).unwrap();
    let s = o.summarize(p.pace);
    assert_eq!((s.ok, s.errors), (300, 0));
    let sc = s.schedule.expect("open loop reports its schedule");
    assert_eq!(sc.sends, 300);
    assert_eq!(o.lag.len(), 300, "one lag sample per measured send");
    // by duration: rate x duration sends, however fast the server is; warm-up sends excluded
    let mut p = plan(addr, Pace::Open { rate: 500.0 }, 0);
    p.requests = None;
    p.duration = Some(Duration::from_millis(400));
    p.warmup = Duration::from_millis(100);
    let s = run(&p, None).unwrap().summarize(p.pace);
    assert_eq!(s.requests, 200);
    assert_eq!(s.schedule.unwrap().sends, 200);
}

#[test]
fn a_target_that_cannot_keep_up_is_reported_not_hidden() {
    // One connection to a server that needs 20 ms per request can do 50/s, not 400/s.
    let addr = server(HELLO, Duration::from_millis(20));
    let mut p = plan(addr, Pace::Open { rate: 400.0 }, 30);
    p.connections = 1;
    let s = run(&p, None).unwrap().summarize(p.pace);
    assert_eq!(
        s.ok, 30,
        "every scheduled request is still sent and answered"
    );
    let sc = s.schedule.clone().unwrap();
    assert!(sc.fell_behind, "{sc:?}");
    assert!(sc.late_sends > 0, "{sc:?}");
    assert!(sc.achieved_rps < sc.intended_rps, "{sc:?}");
    assert!(format_summary(&s).contains("could not keep up"));
    // latency counts from the intended send time, so it includes the queueing
    assert!(s.latency_us.max > sc.lag_max_us, "{s:?}");
}

#[test]
fn closed_loop_runs_the_requested_count_and_checks_every_response() {
    let addr = server(HELLO, Duration::ZERO);
    let o = run(&plan(addr, Pace::Closed, 500), None).unwrap();
    assert_eq!((o.ok, o.errors.total(), o.latency.len()), (500, 0, 500));

    let wrong = server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhellx",
        Duration::ZERO,
    );
    let o = run(&plan(wrong, Pace::Closed, 20), None).unwrap();
    assert_eq!((o.ok, o.errors.body), (0, 20));
    assert!(
        o.latency.is_empty(),
        "a wrong body is never a latency sample"
    );

    // cut short: the server closes mid-body every time; each attempt is an I/O error
    let cut = server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nhel",
        Duration::ZERO,
    );
    let mut p = plan(cut, Pace::Closed, 10);
    p.timeout = Duration::from_millis(300);
    let o = run(&p, None).unwrap();
    assert_eq!(o.ok, 0);
    assert_eq!(o.errors.total(), 10, "{:?}", o.errors);
    assert!(o.errors.io + o.errors.timeout == 10, "{:?}", o.errors);
}

#[test]
fn a_redirect_is_a_status_error_and_never_followed() {
    // The other host counts the connections it gets: none.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = other.local_addr().unwrap();
    let visits = Arc::new(AtomicU64::new(0));
    let v = visits.clone();
    std::thread::spawn(move || {
        for _ in other.incoming() {
            v.fetch_add(1, Ordering::Relaxed);
        }
    });
    let reply =
        format!("HTTP/1.1 302 Found\r\nlocation: http://{to}/\r\ncontent-length: 0\r\n\r\n");
    let addr = server(
        Box::leak(reply.into_bytes().into_boxed_slice()),
        Duration::ZERO,
    );
    let o = run(&plan(addr, Pace::Closed, 20), None).unwrap();
    assert_eq!((o.ok, o.errors.status), (0, 20));
    assert_eq!(o.wrong_statuses, vec![302]);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        visits.load(Ordering::Relaxed),
        0,
        "the redirect was not followed"
    );
}

#[test]
fn a_silent_server_gives_timeouts() {
    let addr = server(HELLO, Duration::from_secs(3));
    let mut p = plan(addr, Pace::Closed, 2);
    p.connections = 1;
    p.timeout = Duration::from_millis(100);
    let o = run(&p, None).unwrap();
    assert_eq!((o.ok, o.errors.timeout), (0, 2), "{:?}", o.errors);
}

#[test]
fn progress_reaches_the_measured_count() {
    let addr = server(HELLO, Duration::ZERO);
    let progress = Arc::new(AtomicU64::new(0));
    let o = run(&plan(addr, Pace::Closed, 100), Some(progress.clone())).unwrap();
    assert_eq!(o.ok, 100);
    assert_eq!(progress.load(Ordering::Relaxed), 100);
}
