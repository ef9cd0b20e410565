//! Mock-response plugin (shared/SPEC.md section 1, plugins/README.md) as an Envoy dynamic module: a
//! native shared object Envoy 1.40 loads in-process (`envoy.filters.http.dynamic_modules`). The same
//! contract as the Wasm plugins; the FFI layer (Envoy's C ABI, our own declarations) is `abi.rs`,
//! and everything here is plain Rust behind the [`Host`] trait so it is unit-tested without Envoy.

// The Rust plugin's configuration code, the same file (one parser and matcher for every Rust
// implementation).
#[path = "../../rust/src/config.rs"]
mod config;

#[cfg(not(test))]
mod abi;

use config::{Config, Mode};
use std::sync::atomic::{AtomicU64, Ordering};

/// One filter configuration as Envoy loaded it: the parsed config and the requests its filters have
/// seen (for `crash_every`: a native module has no VM, so it counts per filter configuration, which
/// Envoy shares between its worker threads).
pub struct Loaded {
    pub config: Config,
    requests: AtomicU64,
}

/// What the filter asks of Envoy for one stream (implemented over the ABI in `abi.rs`).
pub trait Host {
    fn request_header(&self, key: &str) -> Option<Vec<u8>>;
    /// Whether the request header `key` is `want`, compared on Envoy's own view (no copy).
    fn request_header_is(&self, key: &str, want: &[u8]) -> bool;
    fn add_request_header(&mut self, key: &str, value: &str) -> bool;
    fn remove_request_header(&mut self, key: &str) -> bool;
    /// The `xds.route_name` attribute.
    fn route_name(&self) -> Option<Vec<u8>>;
    /// The whole request body buffered so far (buffered part plus the chunk just received).
    fn request_body(&self) -> Vec<u8>;
    /// A local reply: status 200, this body, no extra headers.
    fn send_reply(&mut self, body: &[u8]);
}

/// What a request phase tells Envoy to do next.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Next {
    Continue,
    /// Headers: stop iteration (a local reply was sent, or the body comes next).
    Stop,
    /// Body: stop and buffer until the end of the stream.
    Buffer,
}

/// One stream's state: in `body` mode the matched content while the body is being buffered.
pub struct Filter<'c> {
    loaded: &'c Loaded,
    pending: Option<&'c str>,
}

impl<'c> Filter<'c> {
    pub fn new(loaded: &'c Loaded) -> Self {
        Filter {
            loaded,
            pending: None,
        }
    }

    pub fn on_request_headers(&mut self, host: &mut impl Host, end_of_stream: bool) -> Next {
        let c = &self.loaded.config;
        let seen = self.loaded.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if c.crash_every > 0 && seen.is_multiple_of(c.crash_every as u64) {
            // Release builds abort (panic = "abort"): a crash in a native module is Envoy's crash.
            panic!("mock-response: crash_every: request {seen}");
        }
        if c.spin > 0 && config::spin(c.spin) == 0 {
            eprintln!("mock-response: spin result was zero");
        }
        // The route name and the host are read only when a rule needs them.
        let content = c.select_with(
            || String::from_utf8_lossy(&host.route_name().unwrap_or_default()).into_owned(),
            || {
                let authority = host.request_header(":authority").unwrap_or_default();
                String::from_utf8_lossy(&authority).into_owned()
            },
        );
        let Some(content) = content else {
            return Next::Continue;
        };
        match c.mode {
            Mode::Mock => {
                host.send_reply(content.as_bytes());
                Next::Stop
            }
            Mode::Body if end_of_stream => {
                host.send_reply(config::body_reply(content, b"").as_bytes());
                Next::Stop
            }
            Mode::Body => {
                self.pending = Some(content);
                Next::Stop
            }
            Mode::Headers => {
                header_work(host, &c.bench_headers);
                Next::Continue
            }
        }
    }

    pub fn on_request_body(&mut self, host: &mut impl Host, end_of_stream: bool) -> Next {
        let Some(content) = self.pending else {
            return Next::Continue;
        };
        if !end_of_stream {
            return Next::Buffer;
        }
        let body = host.request_body();
        host.send_reply(config::body_reply(content, &body).as_bytes());
        self.pending = None;
        Next::Buffer
    }
}

/// The `headers` workload: add `x-bench-0..n-1`, read each back and check it, remove each; the names
/// and values were built once at configure (`Config::bench_headers`).
fn header_work(host: &mut impl Host, headers: &[(String, String)]) {
    for (name, value) in headers {
        host.add_request_header(name, value);
    }
    for (name, value) in headers {
        assert!(host.request_header_is(name, value.as_bytes()), "{name}");
    }
    for (name, _) in headers {
        host.remove_request_header(name);
    }
}

/// The configuration Envoy passes at config load, or the one line saying why it is refused.
pub fn parse_config(bytes: &[u8]) -> Result<Loaded, String> {
    match Config::parse(bytes) {
        Ok(config) => Ok(Loaded {
            config,
            requests: AtomicU64::new(0),
        }),
        Err(reason) => Err(format!("mock-response: invalid configuration: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Fake {
        headers: BTreeMap<String, Vec<u8>>,
        route: Option<Vec<u8>>,
        body: Vec<u8>,
        replies: Vec<String>,
        max_headers: usize,
    }

    impl Host for Fake {
        fn request_header(&self, key: &str) -> Option<Vec<u8>> {
            self.headers.get(key).cloned()
        }
        fn request_header_is(&self, key: &str, want: &[u8]) -> bool {
            self.headers.get(key).is_some_and(|v| v == want)
        }
        fn add_request_header(&mut self, key: &str, value: &str) -> bool {
            self.headers.insert(key.into(), value.as_bytes().to_vec());
            self.max_headers = self.max_headers.max(self.headers.len());
            true
        }
        fn remove_request_header(&mut self, key: &str) -> bool {
            self.headers.remove(key).is_some()
        }
        fn route_name(&self) -> Option<Vec<u8>> {
            self.route.clone()
        }
        fn request_body(&self) -> Vec<u8> {
            self.body.clone()
        }
        fn send_reply(&mut self, body: &[u8]) {
            self.replies.push(String::from_utf8(body.to_vec()).unwrap());
        }
    }

    fn fake(route: &str, authority: &str) -> Fake {
        let mut f = Fake {
            route: Some(route.as_bytes().to_vec()),
            ..Fake::default()
        };
        f.headers
            .insert(":authority".into(), authority.as_bytes().to_vec());
        f
    }

    fn config(json: &str) -> Loaded {
        parse_config(json.as_bytes()).unwrap()
    }

    #[test]
    fn mock_replies_with_the_matched_content_and_stops() {
        let c = config(
            r#"{"content":"g","_rules_":[{"content":"foo","_match_route_":["default/foo"]},
               {"content":"dom","_match_domain_":["*.example.com"]}]}"#,
        );
        for (route, authority, want) in [
            ("default/foo", "localhost", "foo"),
            ("default/other", "www.example.com:8080", "dom"),
            ("default/other", "other.org", "g"),
        ] {
            let mut h = fake(route, authority);
            assert_eq!(Filter::new(&c).on_request_headers(&mut h, true), Next::Stop);
            assert_eq!(h.replies, [want]);
        }
    }

    #[test]
    fn no_match_and_no_global_continues() {
        let c = config(r#"{"_rules_":[{"content":"x","_match_route_":["default/foo"]}]}"#);
        let mut h = fake("default/bar", "localhost");
        assert_eq!(
            Filter::new(&c).on_request_headers(&mut h, true),
            Next::Continue
        );
        assert!(h.replies.is_empty());
    }

    #[test]
    fn headers_mode_adds_reads_and_removes_then_continues() {
        let c = config(r#"{"mode":"headers","header_count":5}"#);
        let mut h = fake("r", "localhost");
        assert_eq!(
            Filter::new(&c).on_request_headers(&mut h, true),
            Next::Continue
        );
        assert_eq!(h.max_headers, 6);
        assert_eq!(h.headers.len(), 1, "every x-bench header removed");
        assert!(h.replies.is_empty());
    }

    #[test]
    fn body_mode_buffers_then_replies_with_the_checksum() {
        let c = config(r#"{"mode":"body","content":"sum"}"#);
        let mut h = fake("r", "localhost");
        let mut f = Filter::new(&c);
        assert_eq!(f.on_request_headers(&mut h, false), Next::Stop);
        assert_eq!(f.on_request_body(&mut h, false), Next::Buffer);
        assert!(h.replies.is_empty());
        h.body = b"a".to_vec();
        f.on_request_body(&mut h, true);
        assert_eq!(h.replies, ["sum\nfnv1a32=e40c292c len=1"]);
        // A GET: the empty body's reply at once.
        let mut h = fake("r", "localhost");
        assert_eq!(Filter::new(&c).on_request_headers(&mut h, true), Next::Stop);
        assert_eq!(h.replies, [config::body_reply("sum", b"")]);
    }

    #[test]
    #[should_panic(expected = "crash_every: request 3")]
    fn crash_every_counts_per_configuration() {
        let c = config(r#"{"content":"x","crash_every":3}"#);
        let other = config(r#"{"content":"x","crash_every":3}"#);
        for _ in 0..2 {
            Filter::new(&c).on_request_headers(&mut fake("r", "h"), true);
            Filter::new(&other).on_request_headers(&mut fake("r", "h"), true);
        }
        Filter::new(&c).on_request_headers(&mut fake("r", "h"), true);
    }

    #[test]
    fn invalid_config_is_one_line() {
        let e = parse_config(br#"{"_rules_":[]}"#).err().unwrap();
        assert!(e.starts_with("mock-response: invalid configuration: "));
        assert!(!e.contains('\n'));
        assert!(parse_config(b"[1]").is_err());
    }
}
