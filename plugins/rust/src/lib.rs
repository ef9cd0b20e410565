//! Mock-response plugin (shared/SPEC.md section 1, plugins/README.md) on the proxy-wasm crate.

mod config;

use config::{Config, Mode};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests seen by this VM (for `crash_every`).
static REQUESTS: AtomicU64 = AtomicU64::new(0);

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info); // also installs the panic hook that logs panics
    proxy_wasm::set_root_context(|_| Box::new(Root(Rc::default())));
}}

struct Root(Rc<Config>);

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let json = self.get_plugin_configuration().unwrap_or_default();
        match Config::parse(&json) {
            Ok(config) => {
                self.0 = Rc::new(config);
                true
            }
            Err(reason) => {
                log::warn!("mock-response: invalid configuration: {reason}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http(self.0.clone(), None)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The config, and in `body` mode the matched content while the body is being buffered.
struct Http(Rc<Config>, Option<String>);

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let c = &self.0;
        let seen = REQUESTS.fetch_add(1, Ordering::Relaxed) + 1;
        if c.crash_every > 0 && seen.is_multiple_of(c.crash_every as u64) {
            panic!("mock-response: crash_every: request {seen}");
        }
        if c.spin > 0 && config::spin(c.spin) == 0 {
            log::info!("mock-response: spin result was zero");
        }
        // Envoy 1.40 answers NotFound for ["route_name"]; the route name is at xds.route_name.
        // Each is read only when a rule needs it.
        let content = c.select_with(
            || {
                let route = self.get_property(vec!["xds", "route_name"]);
                String::from_utf8_lossy(&route.unwrap_or_default()).into_owned()
            },
            || {
                self.get_http_request_header(":authority")
                    .unwrap_or_default()
            },
        );
        let Some(content) = content else {
            return Action::Continue;
        };
        match c.mode {
            Mode::Mock => {
                self.send_http_response(200, vec![], Some(content.as_bytes()));
                return Action::Pause;
            }
            Mode::Body if end_of_stream => {
                let reply = config::body_reply(content, b"");
                self.send_http_response(200, vec![], Some(reply.as_bytes()));
                return Action::Pause;
            }
            Mode::Body => {
                self.1 = Some(content.to_string());
                return Action::Pause;
            }
            Mode::Headers => {}
        }
        // The names and values were built once at configure (Config::bench_headers). Reading a
        // header back allocates: the SDK returns an owned Vec (the `_bytes` form skips its UTF-8 check).
        for (name, value) in &c.bench_headers {
            self.add_http_request_header(name, value);
        }
        for (name, value) in &c.bench_headers {
            let got = self.get_http_request_header_bytes(name);
            assert!(got.as_deref() == Some(value.as_bytes()), "{name}");
        }
        for (name, _) in &c.bench_headers {
            self.remove_http_request_header(name);
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(content) = &self.1 else {
            return Action::Continue;
        };
        if !end_of_stream {
            return Action::Pause; // StopIterationAndBuffer
        }
        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        let reply = config::body_reply(content, &body);
        self.send_http_response(200, vec![], Some(reply.as_bytes()));
        Action::Pause
    }
}
