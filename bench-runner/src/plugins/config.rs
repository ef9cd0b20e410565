//! The plugin configuration contract (SPEC section 1, plugins/README.md) in Rust: the reference the
//! Lua generator uses, and the same rejections every Wasm plugin must make.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

pub const BENCHMARK_KEYS: [&str; 4] = ["mode", "header_count", "crash_every", "spin"];
const MAX_INT: u64 = 2_147_483_647;
/// Higress's other rule match keys: the contract has no service or route-prefix matching, and a rule
/// holding one is rejected rather than matched without it (Higress would combine them).
pub const UNSUPPORTED_MATCH_KEYS: [&str; 2] = ["_match_service_", "_match_route_prefix_"];
/// Arrays and objects nest at most this deep (the top-level object is level 1); deeper is rejected.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Mock,
    Headers,
    /// Buffer the request body, answer with the content and the body's checksum ([`body_reply`]).
    Body,
}

/// FNV-1a, 32 bits, over the request body: the `body` mode's checksum (plugins/README.md).
pub fn fnv1a32(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The `body` mode's local reply: `content`, a newline, `fnv1a32=<8 lowercase hex> len=<bytes>`.
pub fn body_reply(content: &str, body: &[u8]) -> String {
    format!(
        "{content}\nfnv1a32={:08x} len={}",
        fnv1a32(body),
        body.len()
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Route(Vec<String>),
    Domain(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub matcher: Matcher,
    pub reply: Reply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    pub global: Option<Reply>,
    pub rules: Vec<Rule>,
    pub mode: Mode,
    pub header_count: u32,
    pub crash_every: u32,
    pub spin: u32,
}

fn reply_of(obj: &Map<String, Value>, at: &str) -> Result<Reply, String> {
    match obj.get("content") {
        None => Ok(Reply {
            content: String::new(),
        }),
        Some(Value::String(s)) => Ok(Reply { content: s.clone() }),
        Some(_) => Err(format!("{at}content must be a string")),
    }
}

fn int_key(obj: &Map<String, Value>, key: &str, default: u32) -> Result<u32, String> {
    match obj.get(key) {
        None => Ok(default),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v <= MAX_INT) => {
            Ok(n.as_u64().unwrap_or(0) as u32)
        }
        Some(_) => Err(format!(
            "{key} must be a non-negative integer (at most {MAX_INT})"
        )),
    }
}

/// A match list. Empty strings are dropped, as Higress's rule matcher drops empty route names, so
/// `["", ""]` counts as an empty list; for `_match_domain_` an empty pattern stays (it matches the
/// empty host), as in Higress.
fn string_list(v: &Value, key: &str, i: usize) -> Result<Vec<String>, String> {
    let err = || format!("_rules_[{i}].{key} must be an array of strings");
    let drop_empty = key == "_match_route_";
    v.as_array()
        .ok_or_else(err)?
        .iter()
        .map(|s| s.as_str().ok_or_else(err))
        .filter(|s| !(drop_empty && s.as_ref().is_ok_and(|s| s.is_empty())))
        .map(|s| s.map(str::to_owned))
        .collect()
}

/// One JSON value read strictly (see [`strict_json`]); the field is its nesting level.
struct Strict(usize);

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.0 > MAX_DEPTH {
            return Err(A::Error::custom(format!(
                "arrays and objects nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict(self.0 + 1))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.0 > MAX_DEPTH {
            return Err(A::Error::custom(format!(
                "arrays and objects nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(A::Error::custom(format!("duplicate key {k:?}")));
            }
            let v = map.next_value_seed(Strict(self.0 + 1))?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// The configuration text as JSON, read strictly (plugins/README.md): RFC 8259 (no lone surrogate
/// escapes, no number beyond the range of a double), no object with a member name twice (compared
/// after unescaping), and at most [`MAX_DEPTH`] levels of arrays and objects.
pub fn strict_json(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Strict(1)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(v)
}

/// [`parse`] of the configuration text read by [`strict_json`]: what every plugin does with the bytes
/// of its configuration.
pub fn parse_str(text: &str) -> Result<PluginConfig, String> {
    parse(&strict_json(text)?)
}

/// Parses and validates a configuration; the error is the reason the plugin logs when it rejects it.
pub fn parse(config: &Value) -> Result<PluginConfig, String> {
    let obj = config
        .as_object()
        .ok_or("the configuration must be a JSON object")?;
    let mode = match obj.get("mode") {
        None => Mode::Mock,
        Some(Value::String(s)) if s == "mock" => Mode::Mock,
        Some(Value::String(s)) if s == "headers" => Mode::Headers,
        Some(Value::String(s)) if s == "body" => Mode::Body,
        Some(_) => return Err("mode must be \"mock\", \"headers\" or \"body\"".into()),
    };
    let header_count = int_key(obj, "header_count", 20)?;
    let crash_every = int_key(obj, "crash_every", 0)?;
    let spin = int_key(obj, "spin", 0)?;

    let has_rules_key = obj.contains_key("_rules_");
    let has_plugin_key = obj
        .keys()
        .any(|k| k != "_rules_" && !BENCHMARK_KEYS.contains(&k.as_str()));
    let global = if has_plugin_key || !has_rules_key {
        Some(reply_of(obj, "")?)
    } else {
        None
    };

    let mut rules = Vec::new();
    if let Some(rv) = obj.get("_rules_") {
        let arr = rv.as_array().ok_or("_rules_ must be an array")?;
        for (i, r) in arr.iter().enumerate() {
            let ro = r
                .as_object()
                .ok_or_else(|| format!("_rules_[{i}] must be an object"))?;
            if let Some(k) = UNSUPPORTED_MATCH_KEYS.iter().find(|k| ro.contains_key(**k)) {
                return Err(format!(
                    "_rules_[{i}] has {k}, a Higress match key this plugin does not implement"
                ));
            }
            let routes = match ro.get("_match_route_") {
                Some(v) => string_list(v, "_match_route_", i)?,
                None => vec![],
            };
            let domains = match ro.get("_match_domain_") {
                Some(v) => string_list(v, "_match_domain_", i)?,
                None => vec![],
            };
            let matcher = match (routes.is_empty(), domains.is_empty()) {
                (false, true) => Matcher::Route(routes),
                (true, false) => Matcher::Domain(domains),
                (false, false) => {
                    return Err(format!(
                        "_rules_[{i}] has both _match_route_ and _match_domain_"
                    ))
                }
                (true, true) => {
                    return Err(format!(
                        "_rules_[{i}] needs one non-empty _match_route_ or _match_domain_"
                    ))
                }
            };
            rules.push(Rule {
                matcher,
                reply: reply_of(ro, &format!("_rules_[{i}]."))?,
            });
        }
    }
    if global.is_none() && rules.is_empty() {
        return Err("no global configuration and no rules".into());
    }
    Ok(PluginConfig {
        global,
        rules,
        mode,
        header_count,
        crash_every,
        spin,
    })
}

/// `:authority` without its port, as Higress's stripPortFromHost does.
pub fn strip_port(authority: &str) -> &str {
    match authority.rfind(':') {
        Some(colon) if authority.rfind(']').is_none_or(|b| b < colon) => &authority[..colon],
        _ => authority,
    }
}

pub fn host_matches(host: &str, pattern: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix('*') {
        host.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        host.starts_with(prefix)
    } else {
        host == pattern
    }
}

/// What the contract makes a plugin do for one request besides its reply, as a host sees it
/// (plugins/README.md): the `headers` workload's operations on the `x-bench-<i>` request headers, the
/// local reply, and never a log line. Conformance cases may state it per request (`"work"`); where
/// they do not, [`PluginConfig::work`] derives it, and every implementation is checked against it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Work {
    /// `x-bench-<i>` added (i = 0..n-1, value `v<i>`), then each read back, then each removed: in
    /// that order, each once.
    pub header_adds: u32,
    pub header_gets: u32,
    pub header_removes: u32,
    /// `proxy_send_local_response` (or the Lua filter's `respond`).
    pub local_replies: u32,
    /// Log lines at info level or above (what Envoy writes at its default level) written while
    /// handling the request. Debug and trace lines cost a host call too; they are counted with the
    /// other host calls (`bench-runner calls`), not here: the AssemblyScript SDK writes ten per request.
    pub logs: u32,
}

impl Work {
    /// The `headers` workload on `n` headers.
    pub fn headers(n: u32) -> Work {
        Work {
            header_adds: n,
            header_gets: n,
            header_removes: n,
            ..Work::default()
        }
    }

    /// One local reply and nothing else.
    pub fn reply() -> Work {
        Work {
            local_replies: 1,
            ..Work::default()
        }
    }
}

impl std::fmt::Display for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} x-bench adds, {} gets, {} removes, {} local replies, {} log lines",
            self.header_adds, self.header_gets, self.header_removes, self.local_replies, self.logs
        )
    }
}

impl PluginConfig {
    /// The work the contract asks for on a request (the fuzzer's and the conformance cases'
    /// requests: the route and Host header given). A body-mode request answers once whether or not a
    /// body comes.
    pub fn work(&self, route_name: &str, authority: &str) -> Work {
        match (self.select(route_name, authority), self.mode) {
            (None, _) => Work::default(),
            (Some(_), Mode::Headers) => Work::headers(self.header_count),
            (Some(_), Mode::Mock | Mode::Body) => Work::reply(),
        }
    }

    /// The reply that applies to a request, or None when the plugin lets it through.
    pub fn select(&self, route_name: &str, authority: &str) -> Option<&Reply> {
        let host = strip_port(authority);
        self.rules
            .iter()
            .find(|r| match &r.matcher {
                Matcher::Route(names) => names.iter().any(|n| n == route_name),
                Matcher::Domain(pats) => pats.iter().any(|p| host_matches(host, p)),
            })
            .map(|r| &r.reply)
            .or(self.global.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_demo_rules_select_as_the_article_says() {
        let c = parse(&json!({"content": "hello higress", "_rules_": [
            {"content": "hello foo", "_match_route_": ["default/foo"]},
            {"content": "hello world", "_match_domain_": ["*.example.com", "www.test.com"]}]}))
        .unwrap();
        let body = |r: &str, a: &str| c.select(r, a).map(|x| x.content.as_str());
        assert_eq!(body("default/foo", "localhost"), Some("hello foo"));
        assert_eq!(body("default/bar", "www.example.com"), Some("hello world"));
        assert_eq!(
            body("default/bar", "www.test.com:8080"),
            Some("hello world")
        );
        assert_eq!(body("default/bar", "example.com"), Some("hello higress"));
    }

    #[test]
    fn global_config_rules() {
        assert!(parse(&json!({})).unwrap().global.is_some());
        assert!(parse(&json!({"mode": "headers"})).unwrap().global.is_some());
        let only_rules = parse(&json!({"_rules_": [{"_match_route_": ["r"]}]})).unwrap();
        assert!(only_rules.global.is_none());
        assert_eq!(only_rules.select("other", "h"), None);
        assert!(parse(&json!({"x": 1, "_rules_": []}))
            .unwrap()
            .global
            .is_some());
    }

    #[test]
    fn rejections() {
        for bad in [
            json!([1]),
            json!("x"),
            json!({"_rules_": []}),
            json!({"content": 1}),
            json!({"_rules_": {}}),
            json!({"_rules_": [{"_match_route_": ["a"], "_match_domain_": ["b"]}]}),
            json!({"_rules_": [{"content": "y"}]}),
            json!({"content": "x", "_rules_": [{"_match_route_": []}]}),
            json!({"content": "x", "_rules_": [{"_match_route_": [1]}]}),
            json!({"content": "x", "_rules_": [{"_match_domain_": "a"}]}),
            json!({"content": "x", "_rules_": ["a"]}),
            json!({"mode": "fast"}),
            json!({"crash_every": -1}),
            json!({"crash_every": 1.5}),
            json!({"spin": "3"}),
            json!({"header_count": 3000000000u64}),
        ] {
            assert!(parse(&bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn strict_json_rules() {
        let nested = |n: usize| format!("{{\"x\":{}0{}}}", "[".repeat(n), "]".repeat(n));
        assert!(parse_str(&nested(MAX_DEPTH - 1)).is_ok());
        assert!(parse_str(&nested(MAX_DEPTH)).is_err());
        for bad in [
            r#"{"content":"a","content":"b"}"#,
            r#"{"content":"a","\u0063ontent":"b"}"#,
            r#"{"_rules_":[{"_match_route_":["a"],"x":1,"x":2}]}"#,
            r#"{"content":"\ud800"}"#,
            r#"{"content":"\udc00x"}"#,
            r#"{"x":1e400}"#,
            "{\"content\":\"\u{1}\"}",
            r#"{"_rules_":[{"_match_route_":[""]}]}"#,
            r#"{"_rules_":[{"_match_route_":["a"],"_match_service_":["s"]}]}"#,
            r#"{"_rules_":[{"_match_domain_":["a"],"_match_route_prefix_":[]}]}"#,
        ] {
            assert!(parse_str(bad).is_err(), "accepted {bad}");
        }
        assert!(parse_str(r#"{"x":1e-400,"content":"\ud83d\ude00\/"}"#).is_ok());
        let c = parse_str(r#"{"_rules_":[{"_match_route_":["", "r"]}]}"#).unwrap();
        assert_eq!(c.rules[0].matcher, Matcher::Route(vec!["r".into()]));
        let c = parse_str(r#"{"_rules_":[{"_match_domain_":[""]}]}"#).unwrap();
        assert_eq!(c.select("r", ":80").map(|r| r.content.as_str()), Some(""));
    }

    #[test]
    fn ports_are_stripped_like_higress() {
        assert_eq!(strip_port("www.test.com:8080"), "www.test.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("plain"), "plain");
        assert!(host_matches("anything", "*"));
        assert!(host_matches("api.x", "api.*"));
        assert!(!host_matches("example.com", "*.example.com"));
        assert!(!host_matches("WWW.test.com", "www.test.com"));
    }
}
