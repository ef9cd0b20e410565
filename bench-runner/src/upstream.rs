//! A real upstream for the failure scenarios: a small HTTP/1.1 server on 127.0.0.1 (a free port) that
//! answers every request with one recognisable body, so a request that bypassed the plugin is visible as
//! the upstream's answer. It is owned: it runs on its own thread with its own Tokio runtime, serves a
//! bounded number of connections with bounded buffers and idle times, and stops (within a bounded wait)
//! when the handle is dropped.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};

/// The body every answer of the default upstream carries.
pub const UPSTREAM_BODY: &str = "upstream";
/// Connections served at once; further ones wait in the accept queue.
const MAX_CONNECTIONS: usize = 512;
/// Largest request head read; a larger head gets 431 and the connection is closed.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body read (a user's stated requests carry up to this much); a larger one is a
/// 400 and the connection is closed.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The request header that names the Envoy listener a request came through (its routes add it when
/// they forward here): answers are counted per listener, so a run can show that the baseline and a
/// plugin that passes requests on both reached this server.
pub const LISTENER_HEADER: &str = "x-bench-listener";
/// A connection with no complete request for this long is closed.
const IDLE: Duration = Duration::from_secs(30);
/// Connection tasks still running at shutdown are abandoned after this.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(300);

/// What the server does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// `200` with the configured body; keep-alive unless the client asks to close.
    Answer,
    /// Accepts and reads, never answers (a hung server; used to test hang classification).
    Silent,
}

pub struct Upstream {
    addr: SocketAddr,
    served: Arc<AtomicU64>,
    by_listener: ByListener,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Upstream {
    /// Starts a server answering every request `200` with `body`.
    pub fn start(body: &str) -> io::Result<Upstream> {
        Upstream::start_with(Behaviour::Answer, body)
    }

    /// Starts a server that accepts connections and never answers.
    pub fn silent() -> io::Result<Upstream> {
        Upstream::start_with(Behaviour::Silent, "")
    }

    pub fn start_with(behaviour: Behaviour, body: &str) -> io::Result<Upstream> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        Upstream::spawn_on(
            std_listener,
            behaviour,
            response_bytes("text/plain", body.as_bytes()),
        )
    }

    /// Starts a server answering every request `200` with `bytes` (`content_type`) on 127.0.0.1:`port`
    /// (0: a free port): the lifecycle runs' module server, started late on a port Envoy already
    /// knows to model a server that is down at start.
    pub fn serve_bytes(port: u16, content_type: &str, bytes: &[u8]) -> io::Result<Upstream> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        Upstream::spawn_on(
            std_listener,
            Behaviour::Answer,
            response_bytes(content_type, bytes),
        )
    }

    fn spawn_on(
        std_listener: std::net::TcpListener,
        behaviour: Behaviour,
        response: Arc<[u8]>,
    ) -> io::Result<Upstream> {
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let served = Arc::new(AtomicU64::new(0));
        let by_listener: ByListener = Arc::default();
        let (tx, rx) = oneshot::channel::<()>();
        let counter = served.clone();
        let per_listener = by_listener.clone();
        let thread = std::thread::Builder::new()
            .name(format!("upstream-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = rx => {}
                        _ = accept_loop(listener, behaviour, response, counter, per_listener) => {}
                    }
                });
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        Ok(Upstream {
            addr,
            served,
            by_listener,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests answered so far (a reply counts once the server starts writing it).
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Acquire)
    }

    /// Requests answered so far per value of [`LISTENER_HEADER`] (requests without it are not in
    /// the map).
    pub fn served_by_listener(&self) -> BTreeMap<String, u64> {
        self.by_listener
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// Stops accepting, abandons open connections after a short grace and joins the thread.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A whole `200` response carrying `body`.
fn response_bytes(content_type: &str, body: &[u8]) -> Arc<[u8]> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r.into()
}

/// Answers per listener name ([`LISTENER_HEADER`]).
type ByListener = Arc<Mutex<BTreeMap<String, u64>>>;

async fn accept_loop(
    listener: TcpListener,
    behaviour: Behaviour,
    response: Arc<[u8]>,
    served: Arc<AtomicU64>,
    by_listener: ByListener,
) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or similar: back off briefly instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let response = response.clone();
        let served = served.clone();
        let by_listener = by_listener.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match behaviour {
                Behaviour::Answer => serve(stream, &response, &served, &by_listener).await,
                Behaviour::Silent => swallow(stream).await,
            }
            drop(permit);
        });
    }
}

/// Answers each complete request on one connection until the client closes, asks to close, or idles.
async fn serve(
    mut stream: TcpStream,
    response: &[u8],
    served: &AtomicU64,
    by_listener: &Mutex<BTreeMap<String, u64>>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let (consumed, close, listener) = loop {
            match parse_request(&buf) {
                Parsed::Complete {
                    consumed,
                    close,
                    listener,
                } => break (consumed, close, listener),
                Parsed::Invalid => {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
                Parsed::Partial if buf.len() >= MAX_HEAD_BYTES + MAX_BODY_BYTES => {
                    let _ = stream
                        .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
                Parsed::Partial => {}
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        buf.drain(..consumed);
        // Counted before the reply is written: a client that has read its reply then always finds it
        // counted (counting after the write raced with a client checking `served()` at once).
        if let Some(name) = listener {
            if let Ok(mut m) = by_listener.lock() {
                *m.entry(name).or_default() += 1;
            }
        }
        served.fetch_add(1, Ordering::Release);
        if stream.write_all(response).await.is_err() {
            return;
        }
        if close {
            return;
        }
    }
}

/// Reads and discards until the client closes or idles; never writes.
async fn swallow(mut stream: TcpStream) {
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => continue,
            _ => return,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Partial,
    Invalid,
    /// Head and body (content-length) are in the buffer.
    Complete {
        consumed: usize,
        close: bool,
        /// The value of [`LISTENER_HEADER`], if the request has one.
        listener: Option<String>,
    },
}

fn parse_request(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(head)) => {
            if head > MAX_HEAD_BYTES {
                return Parsed::Invalid;
            }
            let mut body = 0usize;
            let mut close = req.version == Some(0);
            let mut listener = None;
            for h in req.headers.iter() {
                if h.name.eq_ignore_ascii_case(LISTENER_HEADER) {
                    listener = Some(String::from_utf8_lossy(h.value).into_owned());
                } else if h.name.eq_ignore_ascii_case("content-length") {
                    match std::str::from_utf8(h.value)
                        .ok()
                        .and_then(|v| v.trim().parse::<usize>().ok())
                    {
                        Some(n) if n <= MAX_BODY_BYTES => body = n,
                        _ => return Parsed::Invalid,
                    }
                } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    // Chunked request bodies are not needed by any scenario.
                    return Parsed::Invalid;
                } else if h.name.eq_ignore_ascii_case("connection") {
                    close = h.value.eq_ignore_ascii_case(b"close");
                }
            }
            if buf.len() < head + body {
                Parsed::Partial
            } else {
                Parsed::Complete {
                    consumed: head + body,
                    close,
                    listener,
                }
            }
        }
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: SocketAddr, keep: usize) -> Vec<String> {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut out = Vec::new();
        for i in 0..keep {
            let close = if i + 1 == keep {
                "connection: close\r\n"
            } else {
                ""
            };
            write!(s, "GET /{i} HTTP/1.1\r\nhost: x\r\n{close}\r\n").unwrap();
            let mut buf = vec![0u8; 512];
            let n = s.read(&mut buf).unwrap();
            out.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
        out
    }

    #[test]
    fn answers_with_its_body_on_keep_alive_connections_and_stops_on_drop() {
        let up = Upstream::start(UPSTREAM_BODY).unwrap();
        let addr = up.addr();
        let replies = get(addr, 3);
        assert_eq!(replies.len(), 3);
        for r in &replies {
            assert!(r.starts_with("HTTP/1.1 200"), "{r}");
            assert!(r.ends_with("\r\n\r\nupstream"), "{r}");
        }
        assert_eq!(up.served(), 3);
        assert!(up.served_by_listener().is_empty());
        drop(up);
        assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err());
    }

    #[test]
    fn answers_are_counted_per_listener_header() {
        let up = Upstream::start(UPSTREAM_BODY).unwrap();
        let mut s = std::net::TcpStream::connect(up.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        for name in ["baseline", "auth", "baseline"] {
            write!(s, "POST / HTTP/1.1\r\nhost: x\r\n{LISTENER_HEADER}: {name}\r\ncontent-length: 3\r\n\r\nabc").unwrap();
            let mut buf = vec![0u8; 512];
            let n = s.read(&mut buf).unwrap();
            assert!(buf[..n].ends_with(b"upstream"));
        }
        let m = up.served_by_listener();
        assert_eq!((m["baseline"], m["auth"], m.len()), (2, 1, 2));
    }

    #[test]
    fn a_silent_server_never_answers() {
        let up = Upstream::silent().unwrap();
        let mut s = std::net::TcpStream::connect(up.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 16];
        let err = s.read(&mut buf).unwrap_err();
        assert!(matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ));
    }

    #[test]
    fn requests_are_framed() {
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nhost: x\r\n"),
            Parsed::Partial
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\n\r\n"),
            Parsed::Complete {
                consumed: 18,
                close: false,
                listener: None
            }
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\nab"),
            Parsed::Complete {
                consumed: 59,
                close: true,
                listener: None
            }
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\na"),
            Parsed::Partial
        );
        assert_eq!(parse_request(b"\x00\x01 nonsense\r\n\r\n"), Parsed::Invalid);
    }
}
