//! Requests a user states (`run --request FILE`) and the answer that counts as correct (`--expect`,
//! or the file's `[expect]`): read and checked before anything runs, turned into the bytes the load
//! generator sends (cycled through when there are several), and one blocking exchange that shows what
//! a listener answers (the probe before any load, the footprint's first reply).
//!
//! The file is TOML, or JSON when its name ends in `.json`, with the same keys:
//!
//! ```toml
//! method = "GET"                      # default GET
//! path = "/api/items?id=7"            # default "/"
//! host = "api.example.com"            # the Host header; default localhost
//! headers = ["x-api-key: k-alice"]    # in order; Host, Content-Length, Transfer-Encoding and
//!                                     # Connection are the runner's
//! body = "text"                       # or body_file = "payload.json" (next to the request file)
//!
//! # or several requests, cycled through in order (all must get the expected answer):
//! # [[requests]]
//! # path = "/a"
//!
//! [expect]
//! status = 200                        # default 200
//! body = "upstream"                   # the body must contain this
//! header = "x-auth-user: alice"       # a response header (name, or name: exact value)
//! ```

use super::http1::{BodyCheck, Expectation, HeaderCheck};
use crate::error::usage;
use serde::Deserialize;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Most requests in one file.
pub const MAX_REQUESTS: usize = 64;
/// Largest request body in a request file (the runner's upstream reads up to this much).
pub const MAX_BODY: usize = 64 * 1024;
/// Most headers per request.
const MAX_HEADERS: usize = 64;
/// Headers the runner writes itself.
const RESERVED: [&str; 4] = ["host", "content-length", "transfer-encoding", "connection"];

/// One HTTP/1.1 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub host: String,
    /// (name, value), in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Default for Request {
    /// What the suite's own workloads send: `GET /` to `localhost`.
    fn default() -> Request {
        Request {
            method: "GET".into(),
            path: "/".into(),
            host: "localhost".into(),
            headers: vec![],
            body: vec![],
        }
    }
}

impl Request {
    /// The request's bytes; `close` adds `Connection: close`. A body (or a method that carries one)
    /// gets its `Content-Length`.
    pub fn wire(&self, close: bool) -> Vec<u8> {
        let mut s = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bench-runner\r\n",
            self.method, self.path, self.host
        );
        for (n, v) in &self.headers {
            s += &format!("{n}: {v}\r\n");
        }
        if !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") {
            s += &format!("Content-Length: {}\r\n", self.body.len());
        }
        if close {
            s += "Connection: close\r\n";
        }
        s += "\r\n";
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// `GET /path` (with `+ N body bytes`), for messages.
    pub fn line(&self) -> String {
        let mut s = format!("{} {}", self.method, self.path);
        if !self.body.is_empty() {
            s += &format!(" (+{} body bytes)", self.body.len());
        }
        s
    }
}

/// What a run's listeners are sent and what counts as a correct answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Cycled through in order, per load run.
    pub requests: Vec<Request>,
    pub expect: Expectation,
}

impl Exchange {
    /// The suite's own: `GET /` answered 200 with exactly `body`.
    pub fn get_exact(body: &str) -> Exchange {
        Exchange {
            requests: vec![Request::default()],
            expect: Expectation::ok_with(body),
        }
    }

    /// The same requests with another expectation (a baseline beside a user's plugin).
    pub fn expecting(&self, expect: Expectation) -> Exchange {
        Exchange {
            requests: self.requests.clone(),
            expect,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RequestFields {
    method: Option<String>,
    path: Option<String>,
    host: Option<String>,
    #[serde(default)]
    headers: Vec<String>,
    body: Option<String>,
    body_file: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExpectFields {
    status: Option<u16>,
    body: Option<String>,
    header: Option<String>,
}

/// The whole file: one request's keys at the top, or `requests`; serde's `flatten` would not
/// refuse unknown keys, so the request's keys are repeated here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFields {
    method: Option<String>,
    path: Option<String>,
    host: Option<String>,
    #[serde(default)]
    headers: Vec<String>,
    body: Option<String>,
    body_file: Option<String>,
    requests: Option<Vec<RequestFields>>,
    expect: Option<ExpectFields>,
}

/// What the user stated on the command line about the answer (each overrides the file's).
#[derive(Debug, Clone, Default)]
pub struct ExpectFlags {
    pub status: Option<u16>,
    pub body: Option<String>,
    pub header: Option<String>,
}

/// Reads a request file (`flag` names it in errors) with the command line's expectation on top;
/// without a file: `GET /` to localhost. Every problem is a usage error naming the file.
pub fn read_exchange(
    flag: &str,
    file: Option<&Path>,
    flags: &ExpectFlags,
) -> anyhow::Result<Exchange> {
    let (requests, from_file) = match file {
        None => (vec![Request::default()], ExpectFields::default()),
        Some(path) => read_file(flag, path)?,
    };
    let name = file.map_or_else(String::new, |f| format!("{flag} {}", f.display()));
    let expect = expectation(flags, from_file, &name).map_err(usage)?;
    Ok(Exchange { requests, expect })
}

fn read_file(flag: &str, path: &Path) -> anyhow::Result<(Vec<Request>, ExpectFields)> {
    let bad = |what: String| usage(format!("{flag} {}: {what}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(format!(
            "cannot read it ({e}); give a TOML or JSON request file"
        ))
    })?;
    let fields: FileFields = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .map_err(|e| bad(format!("not valid JSON for a request file: {e}")))?
    } else {
        toml::from_str(&text).map_err(|e| {
            // toml's message: where, the line with a caret, then what (e.g. an unknown key).
            let m = e.to_string();
            let lines: Vec<&str> = m.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let what = match (lines.first(), lines.last()) {
                (Some(a), Some(b)) if a != b => format!("{a}: {b}"),
                (Some(a), _) => a.to_string(),
                _ => m.clone(),
            };
            bad(format!("not valid TOML for a request file: {what}"))
        })?
    };
    let one = RequestFields {
        method: fields.method,
        path: fields.path,
        host: fields.host,
        headers: fields.headers,
        body: fields.body,
        body_file: fields.body_file,
    };
    let one_given = one.method.is_some()
        || one.path.is_some()
        || one.host.is_some()
        || !one.headers.is_empty()
        || one.body.is_some()
        || one.body_file.is_some();
    let list = match (fields.requests, one_given) {
        (Some(_), true) => {
            return Err(bad(
                "give one request at the top or a [[requests]] list, not both".into(),
            ))
        }
        (Some(list), false) => list,
        (None, _) => vec![one],
    };
    if list.is_empty() || list.len() > MAX_REQUESTS {
        return Err(bad(format!(
            "{} requests; give from 1 to {MAX_REQUESTS}",
            list.len()
        )));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let requests = list
        .into_iter()
        .enumerate()
        .map(|(i, r)| request(r, dir).map_err(|e| bad(format!("request {}: {e}", i + 1))))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((requests, fields.expect.unwrap_or_default()))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn request(r: RequestFields, dir: &Path) -> Result<Request, String> {
    let method = r.method.unwrap_or_else(|| "GET".into());
    if !is_token(&method) || method.len() > 16 {
        return Err(format!("method `{method}` is not an HTTP method"));
    }
    let path = r.path.unwrap_or_else(|| "/".into());
    if !path.starts_with('/') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!(
            "path `{path}` must start with `/` and hold no spaces or control characters (percent-encode them)"
        ));
    }
    let host = r.host.unwrap_or_else(|| "localhost".into());
    if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'/') {
        return Err(format!("host `{host}` is not a host name"));
    }
    if r.headers.len() > MAX_HEADERS {
        return Err(format!(
            "{} headers; at most {MAX_HEADERS}",
            r.headers.len()
        ));
    }
    let mut headers = Vec::with_capacity(r.headers.len());
    for h in &r.headers {
        let (n, v) = h
            .split_once(':')
            .ok_or_else(|| format!("header `{h}` is not `name: value`"))?;
        let (n, v) = (n.trim(), v.trim());
        if !is_token(n) {
            return Err(format!("header name `{n}` is not a token"));
        }
        if RESERVED.contains(&n.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "header `{n}` is set by the runner (use `host = ...` for the Host; the body's length is counted)"
            ));
        }
        if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(format!("header `{n}` has a line break or NUL in its value"));
        }
        headers.push((n.to_string(), v.to_string()));
    }
    let body = match (r.body, r.body_file) {
        (Some(_), Some(_)) => return Err("give `body` or `body_file`, not both".into()),
        (Some(b), None) => b.into_bytes(),
        (None, Some(f)) => {
            let p = dir.join(&f);
            std::fs::read(&p).map_err(|e| format!("cannot read body_file {} ({e})", p.display()))?
        }
        (None, None) => vec![],
    };
    if body.len() > MAX_BODY {
        return Err(format!("body of {} bytes; at most {MAX_BODY}", body.len()));
    }
    Ok(Request {
        method,
        path,
        host,
        headers,
        body,
    })
}

/// `name` or `name: value`; `from` names where it was given.
fn header_check(from: &str, h: &str) -> Result<HeaderCheck, String> {
    let (n, v) = match h.split_once(':') {
        Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
        None => (h.trim(), None),
    };
    if !is_token(n) {
        return Err(format!("{from} `{h}`: give `name` or `name: value`"));
    }
    Ok(HeaderCheck {
        name: n.to_ascii_lowercase(),
        value: v,
    })
}

/// The expectation from the command line's flags over the file's `[expect]` (`file`: how to name
/// the file's table in messages).
fn expectation(
    flags: &ExpectFlags,
    from_file: ExpectFields,
    file: &str,
) -> Result<Expectation, String> {
    let (status, from) = match (flags.status, from_file.status) {
        (Some(s), _) => (s, "--expect".to_string()),
        (None, Some(s)) => (s, format!("{file}: [expect] status")),
        (None, None) => (200, String::new()),
    };
    if !(100..=599).contains(&status) {
        return Err(format!("{from} {status}: give a status from 100 to 599"));
    }
    let body = match flags.body.clone().or(from_file.body) {
        Some(b) if !b.is_empty() => BodyCheck::Contains(b.into_bytes()),
        _ => BodyCheck::Any,
    };
    let header = match (&flags.header, &from_file.header) {
        (Some(h), _) => Some(header_check("--expect-header", h)?),
        (None, Some(h)) => Some(header_check(&format!("{file}: [expect] header"), h)?),
        (None, None) => None,
    };
    Ok(Expectation {
        status,
        body,
        header,
    })
}

/// A whole response as a probe saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// (name as sent, value).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether this answer is what `expect` says.
    pub fn meets(&self, expect: &Expectation) -> bool {
        let header_ok = expect
            .header
            .as_ref()
            .is_none_or(|h| h.found(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))));
        expect.judge_all(self.status, &self.body, header_ok) == super::http1::Verdict::Ok
    }

    /// The body as text for one line: at most `max` characters, line breaks shown as `\n`.
    pub fn body_excerpt(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut s: String = text
            .chars()
            .take(max)
            .collect::<String>()
            .replace('\r', "\\r")
            .replace('\n', "\\n");
        if text.chars().count() > max {
            s.push('…');
        }
        s
    }

    /// The value of header `name` (first one), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` on a new connection (with `Connection: close`) and reads the whole response
/// (content-length, chunked or up to the close), all within `timeout`.
pub fn fetch(addr: SocketAddr, request: &Request, timeout: Duration) -> std::io::Result<Answer> {
    let deadline = std::time::Instant::now() + timeout;
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(&request.wire(true))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut closed = false;
    loop {
        if let Some(a) = complete(&buf, closed)? {
            return Ok(a);
        }
        if closed {
            return Err(std::io::Error::other("closed before a whole response"));
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no whole response within {timeout:?}"),
            ));
        }
        s.set_read_timeout(Some(left))?;
        match s.read(&mut chunk)? {
            0 => closed = true,
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The response in `buf` once it is whole (`closed`: the peer closed, which ends a body without a
/// length).
fn complete(buf: &[u8], closed: bool) -> std::io::Result<Option<Answer>> {
    let mut slots = [httparse::EMPTY_HEADER; 96];
    let mut resp = httparse::Response::new(&mut slots);
    let head = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(std::io::Error::other(format!("not an HTTP response ({e})"))),
    };
    let status = resp.code.unwrap_or(0);
    let headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let rest = &buf[head..];
    let body = if (100..200).contains(&status) || status == 204 || status == 304 {
        Some(vec![])
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = find("content-length") {
        let n: usize = len
            .parse()
            .map_err(|_| std::io::Error::other("a content-length that is not a number"))?;
        (rest.len() >= n).then(|| rest[..n].to_vec())
    } else {
        closed.then(|| rest.to_vec())
    };
    Ok(body.map(|body| Answer {
        status,
        headers,
        body,
    }))
}

/// A chunked body once its last chunk has arrived.
fn dechunk(mut b: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&b[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("a chunk size that is not hex"))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if b.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn a_file_of_one_request_and_its_expectation() {
        let (_d, p) = write(
            "r.toml",
            "method = \"POST\"\npath = \"/api?x=1\"\nhost = \"api.example.com\"\nheaders = [\"x-api-key: k1\", \"accept: */*\"]\nbody = \"{}\"\n[expect]\nstatus = 200\nbody = \"ok\"\nheader = \"x-user: alice\"\n",
        );
        let e = read_exchange("--request", Some(&p), &ExpectFlags::default()).unwrap();
        assert_eq!(e.requests.len(), 1);
        let wire = String::from_utf8(e.requests[0].wire(false)).unwrap();
        assert_eq!(
            wire,
            "POST /api?x=1 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: bench-runner\r\nx-api-key: k1\r\naccept: */*\r\nContent-Length: 2\r\n\r\n{}"
        );
        assert_eq!(
            e.expect.describe(),
            "200 with a body containing `ok` and the header `x-user: alice`"
        );
        // the command line wins over the file
        let flags = ExpectFlags {
            status: Some(401),
            body: None,
            header: Some("www-authenticate".into()),
        };
        let e = read_exchange("--request", Some(&p), &flags).unwrap();
        assert_eq!(e.expect.status, 401);
        assert_eq!(e.expect.header.as_ref().unwrap().value, None);
    }

    #[test]
    fn several_requests_in_json_and_bad_files_name_themselves() {
        let (_d, p) = write(
            "r.json",
            r#"{"requests": [{"path": "/a"}, {"path": "/b", "headers": ["k: v"]}]}"#,
        );
        let e = read_exchange("--request", Some(&p), &ExpectFlags::default()).unwrap();
        assert_eq!(e.requests.len(), 2);
        assert_eq!(
            e.expect,
            Expectation {
                status: 200,
                body: BodyCheck::Any,
                header: None
            }
        );
        for (text, needle) in [
            ("path = \"nope\"", "must start with `/`"),
            ("headers = [\"host: x\"]", "set by the runner"),
            ("headers = [\"novalue\"]", "not `name: value`"),
            ("methd = \"GET\"", "unknown field"),
            ("path = [", "not valid TOML"),
            ("path = \"/\"\n[[requests]]\npath = \"/b\"", "not both"),
            (
                "[expect]\nstatus = 42",
                "[expect] status 42: give a status from 100 to 599",
            ),
        ] {
            let (_d, p) = write("bad.toml", text);
            let e = read_exchange("--request", Some(&p), &ExpectFlags::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(e.contains("bad.toml"), "{text}: {e}");
        }
        let missing = read_exchange(
            "--request",
            Some(Path::new("/nonexistent/r.toml")),
            &ExpectFlags::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains("--request /nonexistent/r.toml: cannot read it"),
            "{missing}"
        );
    }

    #[test]
    fn answers_are_judged_on_status_body_substring_and_header() {
        let a = Answer {
            status: 200,
            headers: vec![("X-User".into(), "alice".into())],
            body: b"hello upstream".to_vec(),
        };
        let mut e = Expectation {
            status: 200,
            body: BodyCheck::Contains(b"upstream".to_vec()),
            header: Some(HeaderCheck {
                name: "x-user".into(),
                value: Some("alice".into()),
            }),
        };
        assert!(a.meets(&e));
        e.header.as_mut().unwrap().value = Some("bob".into());
        assert!(!a.meets(&e));
        e.header = None;
        e.body = BodyCheck::Contains(b"denied".to_vec());
        assert!(!a.meets(&e));
        e.body = BodyCheck::Any;
        e.status = 401;
        assert!(!a.meets(&e));
    }

    #[test]
    fn responses_are_read_whole_in_every_framing() {
        let whole = |b: &[u8], closed| complete(b, closed).unwrap();
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel", false),
            None
        );
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", false)
                .unwrap()
                .body,
            b"hello"
        );
        let chunked = b"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n3\r\nden\r\n3\r\nied\r\n0\r\n\r\n";
        let a = whole(chunked, false).unwrap();
        assert_eq!((a.status, a.body.as_slice()), (401, &b"denied"[..]));
        assert_eq!(whole(b"HTTP/1.1 200 OK\r\n\r\nto the close", false), None);
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\n\r\nto the close", true)
                .unwrap()
                .body,
            b"to the close"
        );
    }
}
