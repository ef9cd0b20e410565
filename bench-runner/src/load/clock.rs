//! The worker's clock against the target's, so that workers on several machines can be compared:
//! HTTP `Date` headers (1 s resolution) read by a few requests before the load starts.
//!
//! A response's `Date` D says the target's clock read [D, D + 1 s) when it answered, some time
//! between our send and our receipt (t_send, t_recv on our clock); so our clock minus the target's
//! lies in [t_send - D - 1 s, t_recv - D]. Each probe gives such an interval and they are
//! intersected: once the target's second ticks over between two probes the interval shrinks to
//! about the probes' spacing plus the round trip.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime};

/// Our clock minus the target's, ms, as an interval, and the probes that gave it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Offset {
    pub lo_ms: f64,
    pub hi_ms: f64,
    pub probes: u32,
}

impl Offset {
    pub fn width_ms(&self) -> f64 {
        self.hi_ms - self.lo_ms
    }

    /// The least the two clocks' offsets can differ by, ms (0 when the intervals overlap).
    pub fn least_difference_ms(&self, o: &Offset) -> f64 {
        (self.lo_ms - o.hi_ms).max(o.lo_ms - self.hi_ms).max(0.0)
    }
}

/// Spacing of the probes.
const SPACING: Duration = Duration::from_millis(15);
/// Probing stops once the interval is this narrow.
const NARROW_MS: f64 = 40.0;
/// Probing never takes longer than this (a whole tick of the target's second and a margin).
const LONGEST: Duration = Duration::from_millis(1300);

fn secs(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// One probe: the interval of our clock minus the target's, in seconds; None without a `Date`.
fn probe(addr: SocketAddr, request: &[u8], timeout: Duration) -> Option<(f64, f64)> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    let _ = s.set_nodelay(true);
    let sent = SystemTime::now();
    s.write_all(request).ok()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let received = SystemTime::now();
    let text = String::from_utf8_lossy(&head);
    let date = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("date")
            .then(|| value.trim().to_string())
    })?;
    let d = chrono::DateTime::parse_from_rfc2822(&date).ok()?;
    let d = d.timestamp() as f64;
    Some((secs(sent) - d - 1.0, secs(received) - d))
}

/// Probes the target (HTTP/1.1, one connection per probe, `Connection: close`) until the interval
/// is narrow, `until` comes, or about 1.3 s have passed; None when no response carried a `Date`.
pub fn offset(addr: SocketAddr, host: &str, path: &str, until: Instant) -> Option<Offset> {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-runner clock probe\r\nConnection: close\r\n\r\n");
    let end = until.min(Instant::now() + LONGEST);
    let mut best: Option<Offset> = None;
    let mut failures = 0;
    while Instant::now() < end && failures < 3 {
        let timeout = end
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(50));
        match probe(addr, request.as_bytes(), timeout) {
            Some((lo, hi)) => {
                let o = best.get_or_insert(Offset {
                    lo_ms: lo * 1e3,
                    hi_ms: hi * 1e3,
                    probes: 0,
                });
                o.lo_ms = o.lo_ms.max(lo * 1e3);
                o.hi_ms = o.hi_ms.min(hi * 1e3);
                o.probes += 1;
                if o.width_ms() <= NARROW_MS {
                    break;
                }
            }
            None => failures += 1,
        }
        std::thread::sleep(SPACING);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_with_our_clock_is_found_within_the_narrowed_interval() {
        // A server stamping the true time: our offset is 0, and the probes narrow the interval.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let date = chrono::Utc::now().to_rfc2822().replace("+0000", "GMT");
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ndate: {date}\r\ncontent-length: 0\r\n\r\n"
                );
            }
        });
        let o = offset(addr, "x", "/", Instant::now() + Duration::from_secs(3)).unwrap();
        assert!(o.lo_ms <= 0.0 && o.hi_ms >= 0.0, "{o:?}");
        assert!(o.width_ms() <= NARROW_MS, "{o:?}");
        let far = Offset {
            lo_ms: 500.0,
            hi_ms: 600.0,
            probes: 1,
        };
        assert!(o.least_difference_ms(&far) >= 500.0 - o.hi_ms);
        assert_eq!(o.least_difference_ms(&o), 0.0);
    }

    #[test]
    fn a_target_without_a_date_gives_no_offset() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
        });
        let until = Instant::now() + Duration::from_millis(300);
        assert_eq!(offset(addr, "x", "/", until), None);
    }
}
