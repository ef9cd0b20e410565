//! A lean HTTP/1.1 keep-alive client connection: one pre-built request, responses fully framed
//! (content-length or chunked) and checked against the expected status and body. No allocation per
//! request once the buffers have grown to the response size.

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a finished exchange looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Expected status and body.
    Ok,
    /// A well-formed response with another status.
    WrongStatus(u16),
    /// Expected status, wrong body.
    WrongBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The peer closed or reset the connection, or a socket error occurred.
    Io,
    /// The bytes received were not a valid HTTP/1.1 response.
    Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub status: u16,
    pub body: BodyCheck,
    /// A response header that must be present (names compare case-insensitively), with a value
    /// when it must be exactly that.
    pub header: Option<HeaderCheck>,
}

/// What a response body must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyCheck {
    /// Any body (only its framing is checked).
    Any,
    /// Exactly these bytes (the suite's own implementations: their contract fixes the reply).
    Exact(Vec<u8>),
    /// Bytes that contain these (what a user states about their plugin's answer).
    Contains(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderCheck {
    /// Lower case.
    pub name: String,
    pub value: Option<String>,
}

impl HeaderCheck {
    /// True when one of `headers` is this one.
    pub fn found<'a>(&self, mut headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> bool {
        headers.any(|(n, v)| {
            n.eq_ignore_ascii_case(&self.name)
                && self
                    .value
                    .as_ref()
                    .is_none_or(|want| v.trim_ascii() == want.as_bytes())
        })
    }
}

impl Expectation {
    /// Status 200 with exactly `body` (the suite's own implementations and the tests).
    pub fn ok_with(body: &str) -> Expectation {
        Expectation {
            status: 200,
            body: BodyCheck::Exact(body.as_bytes().to_vec()),
            header: None,
        }
    }

    /// The expectation a response's status and body are checked against (a header check, if any,
    /// counts as passed: see [`Expectation::judge_all`]).
    pub fn judge(&self, status: u16, body: &[u8]) -> Verdict {
        self.judge_all(status, body, true)
    }

    /// As [`Expectation::judge`], with whether the wanted header was there; a missing header
    /// counts as a wrong body (the expected status, the wrong answer).
    pub fn judge_all(&self, status: u16, body: &[u8], header_ok: bool) -> Verdict {
        if status != self.status {
            return Verdict::WrongStatus(status);
        }
        let body_ok = match &self.body {
            BodyCheck::Any => true,
            BodyCheck::Exact(b) => b == body,
            BodyCheck::Contains(b) => memchr::memmem::find(body, b).is_some(),
        };
        if body_ok && header_ok {
            Verdict::Ok
        } else {
            Verdict::WrongBody
        }
    }

    /// "200", "200 with a body containing `x` and header `h: v`", for messages.
    pub fn describe(&self) -> String {
        let mut s = self.status.to_string();
        let mut with = vec![];
        match &self.body {
            BodyCheck::Any => {}
            BodyCheck::Exact(b) => with.push(format!("the body `{}`", String::from_utf8_lossy(b))),
            BodyCheck::Contains(b) => with.push(format!(
                "a body containing `{}`",
                String::from_utf8_lossy(b)
            )),
        }
        if let Some(h) = &self.header {
            with.push(match &h.value {
                Some(v) => format!("the header `{}: {v}`", h.name),
                None => format!("a header `{}`", h.name),
            });
        }
        if !with.is_empty() {
            s += &format!(" with {}", with.join(" and "));
        }
        s
    }
}

pub fn build_request(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-runner\r\n\r\n").into_bytes()
}

/// The bytes of a generated request body: byte i is `i % 251` (a prime, so the pattern does not
/// line up with powers of two).
pub fn pattern_body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A POST carrying `body`: with `Content-Length`, or with `Transfer-Encoding: chunked` in chunks of
/// at most `chunk` bytes when `chunk` is given.
pub fn build_post(host: &str, path: &str, body: &[u8], chunk: Option<usize>) -> Vec<u8> {
    let head = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-runner\r\n");
    let mut out = head.into_bytes();
    match chunk {
        None => {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(body);
        }
        Some(size) => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for piece in body.chunks(size.max(1)) {
                out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                out.extend_from_slice(piece);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
    }
    out
}

pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Decoded body of a chunked response (content-length bodies are checked in place).
    chunked_body: Vec<u8>,
    /// The server asked to close after this response.
    pub closing: bool,
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// A complete response head.
struct Head {
    status: u16,
    /// The wanted header was there (true when none is wanted).
    header_ok: bool,
    /// Length of the head, blank line included.
    len: usize,
    framing: Framing,
    /// The server will close the connection after this response.
    closing: bool,
}

/// Parses a response head from the start of `buf`: Ok(None) while it is incomplete. `want`: a header
/// to look for.
fn parse_head(buf: &[u8], want: Option<&HeaderCheck>) -> Result<Option<Head>, Failure> {
    // Uninitialised header slots: no 1 KiB memset per response.
    let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; 32];
    let mut resp = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut resp,
        buf,
        &mut headers,
    ) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Failure::Protocol),
    };
    let status = resp.code.ok_or(Failure::Protocol)?;
    let mut framing = Framing::UntilClose;
    let mut closing = resp.version == Some(0);
    let mut lengths = 0;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .ok_or(Failure::Protocol)?;
            lengths += 1;
            if lengths > 1 && !matches!(framing, Framing::Length(m) if m == n) {
                return Err(Failure::Protocol); // conflicting lengths
            }
            if !matches!(framing, Framing::Chunked) {
                framing = Framing::Length(n);
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if h.value.eq_ignore_ascii_case(b"chunked") {
                framing = Framing::Chunked;
            } else {
                return Err(Failure::Protocol);
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            closing = h.value.eq_ignore_ascii_case(b"close");
        }
    }
    // 1xx, 204 and 304 have no body whatever the headers say.
    if (100..200).contains(&status) || status == 204 || status == 304 {
        framing = Framing::Length(0);
    }
    let header_ok = want.is_none_or(|w| w.found(resp.headers.iter().map(|h| (h.name, h.value))));
    Ok(Some(Head {
        status,
        header_ok,
        len,
        framing,
        closing,
    }))
}

impl Connection {
    pub async fn connect(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(4096),
            chunked_body: Vec::new(),
            closing: false,
        })
    }

    /// Reads more bytes into `buf`; an orderly close is an I/O failure (the response was not complete).
    async fn fill(&mut self) -> Result<(), Failure> {
        if self.buf.len() == self.buf.capacity() {
            self.buf.reserve(self.buf.capacity().max(4096));
        }
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) | Err(_) => Err(Failure::Io),
            Ok(_) => Ok(()),
        }
    }

    /// Sends `request` and reads one whole response, judged against `expect`.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        expect: &Expectation,
    ) -> Result<Verdict, Failure> {
        let (status, body, header_ok) = self
            .exchange_checked(request, expect.header.as_ref())
            .await?;
        Ok(expect.judge_all(status, body, header_ok))
    }

    /// Sends `request` and returns the status and body of the whole response.
    pub async fn exchange_raw(&mut self, request: &[u8]) -> Result<(u16, &[u8]), Failure> {
        let (status, body, _) = self.exchange_checked(request, None).await?;
        Ok((status, body))
    }

    /// As [`Connection::exchange_raw`], with whether the response carried `want` (true without).
    pub async fn exchange_checked(
        &mut self,
        request: &[u8],
        want: Option<&HeaderCheck>,
    ) -> Result<(u16, &[u8], bool), Failure> {
        self.buf.clear();
        self.stream
            .write_all(request)
            .await
            .map_err(|_| Failure::Io)?;
        // The head is parsed by a plain function so that no header array lives across an await:
        // the exchange future stays small and cheap to create and move.
        let Head {
            status,
            header_ok,
            len: head_len,
            framing,
            closing,
        } = loop {
            self.fill().await?;
            if let Some(head) = parse_head(&self.buf, want)? {
                break head;
            }
        };
        self.closing = closing;
        match framing {
            Framing::Length(n) => {
                while self.buf.len() < head_len + n {
                    self.fill().await?;
                }
                if self.buf.len() > head_len + n {
                    return Err(Failure::Protocol); // bytes nobody asked for
                }
                Ok((status, &self.buf[head_len..head_len + n], header_ok))
            }
            Framing::Chunked => {
                self.read_chunked(head_len).await?;
                Ok((status, &self.chunked_body, header_ok))
            }
            Framing::UntilClose => {
                loop {
                    match self.stream.read_buf(&mut self.buf).await {
                        Ok(0) => break,
                        Ok(_) => continue,
                        Err(_) => return Err(Failure::Io),
                    }
                }
                self.closing = true;
                Ok((status, &self.buf[head_len..], header_ok))
            }
        }
    }

    /// Where the line starting at `pos` ends (its CRLF), reading until it has arrived.
    async fn line_end(&mut self, pos: usize) -> Result<usize, Failure> {
        loop {
            if let Some(i) = find_crlf(&self.buf[pos..]) {
                return Ok(pos + i);
            }
            self.fill().await?;
        }
    }

    async fn read_chunked(&mut self, mut pos: usize) -> Result<(), Failure> {
        self.chunked_body.clear();
        loop {
            // chunk-size line
            let line_end = self.line_end(pos).await?;
            let line =
                std::str::from_utf8(&self.buf[pos..line_end]).map_err(|_| Failure::Protocol)?;
            let size_hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16).map_err(|_| Failure::Protocol)?;
            pos = line_end + 2;
            if size == 0 {
                // optional trailers, then an empty line
                loop {
                    let end = self.line_end(pos).await?;
                    let empty = end == pos;
                    pos = end + 2;
                    if empty {
                        return if pos == self.buf.len() {
                            Ok(())
                        } else {
                            Err(Failure::Protocol)
                        };
                    }
                }
            }
            while self.buf.len() < pos + size + 2 {
                self.fill().await?;
            }
            self.chunked_body
                .extend_from_slice(&self.buf[pos..pos + size]);
            if &self.buf[pos + size..pos + size + 2] != b"\r\n" {
                return Err(Failure::Protocol);
            }
            pos += size + 2;
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn post_bodies_with_length_and_chunked() {
        assert_eq!(pattern_body(253)[250..], [250, 0, 1]);
        assert_eq!(
            build_post("h", "/", b"abc", None),
            b"POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: bench-runner\r\nContent-Length: 3\r\n\r\nabc"
        );
        let chunked = build_post("h", "/", b"abcde", Some(2));
        assert!(chunked.ends_with(
            b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n1\r\ne\r\n0\r\n\r\n"
        ));
    }

    use super::*;
    use tokio::net::TcpListener;

    /// Serves each canned reply once per request line received, on one connection.
    async fn serve(replies: Vec<&'static [u8]>) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for r in replies {
                let _ = s.read(&mut buf).await;
                s.write_all(r).await.unwrap();
            }
        });
        addr
    }

    fn expect(body: &str) -> Expectation {
        Expectation::ok_with(body)
    }

    #[tokio::test]
    async fn content_length_and_chunked_are_framed_and_checked() {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhellx",
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
        ])
        .await;
        let req = build_request("localhost", "/");
        let mut c = Connection::connect(addr).await.unwrap();
        let e = expect("hello");
        assert_eq!(c.exchange(&req, &e).await, Ok(Verdict::Ok));
        assert_eq!(c.exchange(&req, &e).await, Ok(Verdict::Ok));
        assert_eq!(c.exchange(&req, &e).await, Ok(Verdict::WrongBody));
        assert_eq!(c.exchange(&req, &e).await, Ok(Verdict::WrongStatus(503)));
    }

    #[tokio::test]
    async fn truncated_and_garbage_responses_are_failures() {
        let addr = serve(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhel"]).await;
        let mut c = Connection::connect(addr).await.unwrap();
        assert_eq!(
            c.exchange(&build_request("h", "/"), &expect("x")).await,
            Err(Failure::Io)
        );
        let addr = serve(vec![b"SMTP ready\r\n\r\n"]).await;
        let mut c = Connection::connect(addr).await.unwrap();
        assert_eq!(
            c.exchange(&build_request("h", "/"), &expect("x")).await,
            Err(Failure::Protocol)
        );
    }

    /// One exchange against a server that answers `reply` and then closes the connection.
    async fn once(reply: &'static [u8], body: &str) -> (Result<Verdict, Failure>, bool) {
        let addr = serve(vec![reply]).await;
        let mut c = Connection::connect(addr).await.unwrap();
        let r = c.exchange(&build_request("h", "/"), &expect(body)).await;
        (r, c.closing)
    }

    #[tokio::test]
    async fn every_kind_of_broken_framing_is_an_error_never_a_success() {
        let cases: [(&[u8], Failure); 8] = [
            // the peer closes inside a chunk, inside the chunk-size line, before the last chunk
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
                Failure::Io,
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5",
                Failure::Io,
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
                Failure::Io,
            ),
            // the head itself is cut short
            (b"HTTP/1.1 200 OK\r\ncontent-len", Failure::Io),
            // a chunk size that is not hex, and a chunk not followed by CRLF
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                Failure::Protocol,
            ),
            (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
                Failure::Protocol,
            ),
            // bytes beyond the announced length, and two different lengths
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello!",
                Failure::Protocol,
            ),
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
                Failure::Protocol,
            ),
        ];
        for (reply, want) in cases {
            let (got, _) = once(reply, "hello").await;
            assert_eq!(got, Err(want), "{}", String::from_utf8_lossy(reply));
        }
        let (got, _) = once(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nhello",
            "hello",
        )
        .await;
        assert_eq!(got, Err(Failure::Protocol), "an unknown transfer coding");
    }

    #[tokio::test]
    async fn close_delimited_bodies_and_bodiless_statuses_are_read_correctly() {
        // no length: the body runs to the close, and the connection is not reused
        let (got, closing) = once(b"HTTP/1.1 200 OK\r\n\r\nhello", "hello").await;
        assert_eq!((got, closing), (Ok(Verdict::Ok), true));
        // `connection: close` with a length: whole body, then no reuse
        let (got, closing) = once(
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello",
            "hello",
        )
        .await;
        assert_eq!((got, closing), (Ok(Verdict::Ok), true));
        // 204 has no body whatever its headers say; it is a wrong status here, not a hang
        let (got, _) = once(
            b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n",
            "hello",
        )
        .await;
        assert_eq!(got, Ok(Verdict::WrongStatus(204)));
        // a response split across many small writes is reassembled
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
                for b in reply.chunks(4) {
                    s.write_all(b).await.unwrap();
                    s.flush().await.unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                let _ = s.read(&mut buf).await;
            });
            addr
        };
        let mut c = Connection::connect(addr).await.unwrap();
        assert_eq!(
            c.exchange(&build_request("h", "/"), &expect("hello")).await,
            Ok(Verdict::Ok)
        );
        assert!(!c.closing);
    }
}
