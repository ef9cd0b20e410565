//! A header-based API-key check, the kind of plugin a platform team writes (docs/own-plugin.md):
//! a request whose key header holds a known key goes on to the upstream with `x-auth-user` set to
//! the key's user (the key itself removed); any other request is answered 401 by the plugin.
//!
//! Configuration: `{"header": "x-api-key", "keys": {"k-alice": "alice", "k-bob": "bob"}}`.
//!
//! For the failure scenarios only, a request with `x-crash: 1` makes it panic (see `crash.toml`).

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::collections::HashMap;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(Root(Rc::default())));
}}

#[derive(Default)]
struct Config {
    /// The request header that carries the key (lower case).
    header: String,
    /// Key -> user.
    keys: HashMap<String, String>,
}

impl Config {
    fn parse(bytes: &[u8]) -> Result<Config, String> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let header = v["header"]
            .as_str()
            .filter(|h| !h.is_empty())
            .ok_or("`header` must be a header name")?
            .to_ascii_lowercase();
        let keys = v["keys"]
            .as_object()
            .filter(|k| !k.is_empty())
            .ok_or("`keys` must be an object of key -> user")?
            .iter()
            .map(|(k, u)| {
                Ok((
                    k.clone(),
                    u.as_str().ok_or("users must be strings")?.to_string(),
                ))
            })
            .collect::<Result<_, &str>>()?;
        Ok(Config { header, keys })
    }
}

struct Root(Rc<Config>);

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match Config::parse(&bytes) {
            Ok(c) => {
                self.0 = Rc::new(c);
                true
            }
            Err(why) => {
                log::warn!("auth-rust: invalid configuration: {why}");
                false
            }
        }
    }

    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Auth(self.0.clone(), None)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The configuration, and the user of an allowed request.
struct Auth(Rc<Config>, Option<String>);

impl Context for Auth {}

impl HttpContext for Auth {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        // A deliberate fault for `bench-runner failure --crash-on crash.toml` (docs/own-plugin.md):
        // a request with `x-crash: 1` makes the plugin panic, which traps its VM.
        if self.get_http_request_header("x-crash").as_deref() == Some("1") {
            panic!("auth-rust: x-crash: 1, a deliberate fault");
        }
        let key = self.get_http_request_header(&self.0.header);
        match key.and_then(|k| self.0.keys.get(&k).cloned()) {
            Some(user) => {
                self.set_http_request_header(&self.0.header, None);
                self.set_http_request_header("x-auth-user", Some(&user));
                self.1 = Some(user);
                Action::Continue
            }
            None => {
                self.send_http_response(
                    401,
                    vec![
                        ("www-authenticate", "ApiKey"),
                        ("content-type", "text/plain"),
                    ],
                    Some(b"unauthorized\n"),
                );
                Action::Pause
            }
        }
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        if let Some(user) = &self.1 {
            self.set_http_response_header("x-auth-user", Some(user));
        }
        Action::Continue
    }
}
