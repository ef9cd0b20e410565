//! The pure parts of the plugin: configuration parsing and validation, host
//! matching, port stripping and the spin hash (plugins/README.md). No host calls.

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

const BENCH_KEYS: [&str; 4] = ["mode", "header_count", "crash_every", "spin"];
/// Arrays and objects nest at most this deep (the top-level object is level 1).
const MAX_DEPTH: usize = 64;

#[derive(Debug, PartialEq)]
pub enum Match {
    Route(Vec<String>),
    Domain(Vec<String>),
}

#[derive(Debug, PartialEq)]
pub struct Rule {
    pub matcher: Match,
    pub content: String,
}

/// What the plugin does with a request its config applies to (plugins/README.md).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub enum Mode {
    #[default]
    Mock,
    Headers,
    Body,
}

/// `Default` (before `on_configure`): no global config, no rules, so the plugin does nothing.
#[derive(Debug, Default, PartialEq)]
pub struct Config {
    pub mode: Mode,
    pub header_count: u32,
    pub crash_every: u32,
    pub spin: u32,
    /// Content of the global config; `None` when there is no global config.
    pub global: Option<String>,
    pub rules: Vec<Rule>,
    /// The `headers` workload's names and values (`x-bench-<i>`, `v<i>`), built once here, as a real
    /// plugin holds its constant header names: nothing is formatted per request.
    pub bench_headers: Vec<(String, String)>,
}

impl Config {
    pub fn parse(json: &[u8]) -> Result<Config, String> {
        let value = strict_json(json)?;
        let top = value
            .as_object()
            .ok_or("configuration is not a JSON object")?;
        let rules = match top.get("_rules_") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(parse_rule).collect::<Result<_, _>>()?,
            Some(_) => return Err("_rules_ is not an array".into()),
        };
        let has_global = !top.contains_key("_rules_")
            || top
                .keys()
                .any(|k| k != "_rules_" && !BENCH_KEYS.contains(&k.as_str()));
        if !has_global && rules.is_empty() {
            return Err("no global configuration and no rules".into());
        }
        let mode = match top.get("mode") {
            None => Mode::Mock,
            Some(Value::String(m)) if m == "mock" => Mode::Mock,
            Some(Value::String(m)) if m == "headers" => Mode::Headers,
            Some(Value::String(m)) if m == "body" => Mode::Body,
            Some(_) => return Err("mode is not \"mock\", \"headers\" or \"body\"".into()),
        };
        let header_count = int(top, "header_count", 20)?;
        Ok(Config {
            mode,
            header_count,
            crash_every: int(top, "crash_every", 0)?,
            spin: int(top, "spin", 0)?,
            global: if has_global {
                Some(content(top)?)
            } else {
                None
            },
            rules,
            bench_headers: if mode == Mode::Headers {
                (0..header_count)
                    .map(|i| (format!("x-bench-{i}"), format!("v{i}")))
                    .collect()
            } else {
                Vec::new()
            },
        })
    }

    /// The content of the first matching rule, else of the global config (the external processor,
    /// which has the route name and the host in its message already, and the tests).
    #[allow(dead_code)]
    pub fn select(&self, route: &str, host: &str) -> Option<&str> {
        self.select_with(|| route.to_string(), || host.to_string())
    }

    /// [`Config::select`] asking for the route name and the host (`:authority`) only when a rule
    /// needs them, each at most once: a request costs no host call that its rules do not need.
    pub fn select_with(
        &self,
        route: impl FnOnce() -> String,
        host: impl FnOnce() -> String,
    ) -> Option<&str> {
        let (mut route, mut host) = (Some(route), Some(host));
        let (mut route_name, mut host_name): (Option<String>, Option<String>) = (None, None);
        for rule in &self.rules {
            let matched = match &rule.matcher {
                Match::Route(names) => {
                    let r = route_name
                        .get_or_insert_with(|| route.take().map_or_else(String::new, |f| f()));
                    names.iter().any(|n| n == r)
                }
                Match::Domain(patterns) => {
                    let h = host_name.get_or_insert_with(|| {
                        host.take()
                            .map_or_else(String::new, |f| strip_port(&f()).to_string())
                    });
                    patterns.iter().any(|p| host_matches(p, h))
                }
            };
            if matched {
                return Some(rule.content.as_str());
            }
        }
        self.global.as_deref()
    }
}

fn parse_rule(rule: &Value) -> Result<Rule, String> {
    let obj = rule.as_object().ok_or("a rule is not a JSON object")?;
    // Higress's other match keys: not implemented, so a rule holding one is refused.
    for key in ["_match_service_", "_match_route_prefix_"] {
        if obj.contains_key(key) {
            return Err(format!(
                "a rule has {key}, which this plugin does not implement"
            ));
        }
    }
    let route = strings(obj, "_match_route_")?;
    let domain = strings(obj, "_match_domain_")?;
    let matcher = match (route.is_empty(), domain.is_empty()) {
        (false, true) => Match::Route(route),
        (true, false) => Match::Domain(domain),
        (false, false) => return Err("a rule has both _match_route_ and _match_domain_".into()),
        (true, true) => return Err("a rule has neither _match_route_ nor _match_domain_".into()),
    };
    Ok(Rule {
        matcher,
        content: content(obj)?,
    })
}

fn content(obj: &Map<String, Value>) -> Result<String, String> {
    match obj.get("content") {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err("content is not a string".into()),
    }
}

/// A match list: absent and `[]` both give an empty list. Empty route names are dropped (as
/// Higress does), so `_match_route_: [""]` counts as empty; empty host patterns stay.
fn strings(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    let bad = || format!("{key} is not an array of strings");
    let drop_empty = key == "_match_route_";
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or_else(bad))
            .filter(|s| !(drop_empty && s.as_ref().is_ok_and(|s| s.is_empty())))
            .map(|s| s.map(String::from))
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// The configuration as JSON, read strictly: RFC 8259 as serde_json reads it (no lone surrogates, no
/// number beyond a double's range), no member name twice in one object, at most MAX_DEPTH levels.
fn strict_json(json: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(json);
    Strict(1)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// One JSON value read strictly; the field is its nesting level.
struct Strict(usize);

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Strict {
    fn check_depth<E: serde::de::Error>(&self) -> Result<(), E> {
        if self.0 > MAX_DEPTH {
            return Err(E::custom(format!(
                "arrays and objects nested deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
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
        self.check_depth::<A::Error>()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict(self.0 + 1))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.check_depth::<A::Error>()?;
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

/// A benchmark key: plain digits (serde_json gives u64 only for those), at most 2147483647.
fn int(obj: &Map<String, Value>, key: &str, default: u32) -> Result<u32, String> {
    match obj.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= i32::MAX as u64)
            .map(|n| n as u32)
            .ok_or_else(|| format!("{key} is not an integer in 0..=2147483647")),
    }
}

/// Higress `stripPortFromHost`: cut at the last `:` unless a `]` follows it.
pub fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon) if host.rfind(']').is_none_or(|bracket| bracket < colon) => &host[..colon],
        _ => host,
    }
}

/// `*.a.com` = suffix match, `api.*` = prefix match, otherwise exact; case-sensitive.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix('*') {
        host.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        host.starts_with(prefix)
    } else {
        pattern == host
    }
}

/// K rounds of the reference integer hash (wrapping u64).
pub fn spin(rounds: u32) -> u64 {
    let mut x: u64 = 0xcbf29ce484222325;
    for i in 0..rounds as u64 {
        x = (x ^ i).wrapping_mul(0x100000001b3);
        x ^= x >> 32;
    }
    x
}

/// FNV-1a, 32 bits, over the body: the `body` mode's checksum.
pub fn fnv1a32(data: &[u8]) -> u32 {
    data.iter().fold(0x811c9dc5u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(0x01000193)
    })
}

/// The `body` mode's reply: the content, a newline, then the body's checksum and length.
pub fn body_reply(content: &str, body: &[u8]) -> String {
    format!(
        "{content}\nfnv1a32={:08x} len={}",
        fnv1a32(body),
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Config, String> {
        Config::parse(json.as_bytes())
    }

    #[test]
    fn defaults_and_global() {
        let c = parse("{}").unwrap();
        assert_eq!(
            (c.mode, c.header_count, c.crash_every, c.spin),
            (Mode::Mock, 20, 0, 0)
        );
        assert_eq!(c.select("r", "h"), Some(""));
        let c = parse(r#"{"mode":"headers","header_count":3,"crash_every":2,"spin":7}"#).unwrap();
        assert_eq!(
            (c.mode, c.header_count, c.crash_every, c.spin),
            (Mode::Headers, 3, 2, 7)
        );
        assert_eq!(c.global.as_deref(), Some(""));
        assert_eq!(
            parse(r#"{"mode":"mock","content":"hi"}"#)
                .unwrap()
                .select("r", "h"),
            Some("hi")
        );
        // Unknown keys still make a global config exist.
        assert!(parse(r#"{"x":1,"_rules_":[]}"#).unwrap().global.is_some());
        let c = parse(r#"{"mode":"headers","_rules_":[{"_match_route_":["a"]}]}"#).unwrap();
        assert_eq!(c.global, None);
    }

    #[test]
    fn rules() {
        let c = parse(
            r#"{"content":"g","_rules_":[
                {"content":"foo","_match_route_":["default/foo"],"mode":"ignored"},
                {"_match_domain_":["*.example.com","www.test.com","api.*"]},
                {"content":"late","_match_domain_":["*"],"_match_route_":[]}]}"#,
        )
        .unwrap();
        assert_eq!(c.select("default/foo", "www.test.com"), Some("foo"));
        assert_eq!(c.select("x", "www.test.com:8080"), Some(""));
        assert_eq!(c.select("x", "a.example.com"), Some(""));
        assert_eq!(c.select("x", "api.b.org"), Some(""));
        assert_eq!(c.select("x", "example.com"), Some("late"));
        let c = parse(r#"{"_rules_":[{"content":"d","_match_domain_":["[::1]"]}]}"#).unwrap();
        assert_eq!(c.select("x", "[::1]:80"), Some("d"));
        assert_eq!(c.select("x", "[::2]"), None);
    }

    #[test]
    fn rejections() {
        for bad in [
            "",
            "nope",
            "[1]",
            "\"s\"",
            "null",
            r#"{"_rules_":[]}"#,
            r#"{"_rules_":[],"mode":"headers","spin":1}"#,
            r#"{"_rules_":{}}"#,
            r#"{"_rules_":[1]}"#,
            r#"{"_rules_":[{"content":"y"}]}"#,
            r#"{"_rules_":[{"_match_route_":[]}]}"#,
            r#"{"_rules_":[{"_match_route_":["a"],"_match_domain_":["b"]}]}"#,
            r#"{"_rules_":[{"_match_route_":"a"}]}"#,
            r#"{"_rules_":[{"_match_domain_":[1]}]}"#,
            r#"{"_rules_":[{"_match_domain_":["a"],"content":1}]}"#,
            r#"{"content":null}"#,
            r#"{"mode":"fast"}"#,
            r#"{"mode":1}"#,
            r#"{"spin":-1}"#,
            r#"{"spin":-0}"#,
            r#"{"spin":1.5}"#,
            r#"{"spin":1.0}"#,
            r#"{"spin":1e3}"#,
            r#"{"spin":"5"}"#,
            r#"{"header_count":2147483648}"#,
            r#"{"crash_every":true}"#,
            r#"{"content":"a","content":"b"}"#,
            r#"{"content":"a","\u0063ontent":"b"}"#,
            r#"{"content":"\ud800"}"#,
            r#"{"x":1e400}"#,
            r#"{"_rules_":[{"_match_route_":[""]}]}"#,
            r#"{"_rules_":[{"_match_route_":["a"],"_match_service_":["s"]}]}"#,
            r#"{"_rules_":[{"_match_domain_":["a"],"_match_route_prefix_":1}]}"#,
        ] {
            assert!(parse(bad).is_err(), "accepted {bad}");
        }
        assert!(parse(r#"{"spin":2147483647}"#).is_ok());
        let nested = |n: usize| format!("{{\"x\":{}0{}}}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&nested(MAX_DEPTH - 1)).is_ok());
        assert!(parse(&nested(MAX_DEPTH)).is_err());
        assert_eq!(
            parse(r#"{"_rules_":[{"content":"y"}]}"#).unwrap_err(),
            "a rule has neither _match_route_ nor _match_domain_"
        );
    }

    #[test]
    fn ports_and_patterns() {
        for (host, stripped) in [
            ("a.com:8080", "a.com"),
            ("a.com", "a.com"),
            ("[::1]:80", "[::1]"),
            ("[::1]", "[::1]"),
            ("", ""),
        ] {
            assert_eq!(strip_port(host), stripped);
        }
        assert!(host_matches("*", "anything"));
        assert!(host_matches("*", ""));
        assert!(host_matches("*.example.com", "www.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(host_matches("api.*", "api.x.org"));
        assert!(!host_matches("api.*", "www.api.x"));
        assert!(!host_matches("A.com", "a.com"));
    }

    #[test]
    fn body_checksum() {
        assert_eq!(parse(r#"{"mode":"body"}"#).unwrap().mode, Mode::Body);
        assert_eq!(body_reply("c", b""), "c\nfnv1a32=811c9dc5 len=0");
        assert_eq!(body_reply("", b"a"), "\nfnv1a32=e40c292c len=1");
    }

    #[test]
    fn spin_hash() {
        assert_eq!(spin(0), 0xcbf29ce484222325);
        let x = 0xcbf29ce484222325u64.wrapping_mul(0x100000001b3);
        assert_eq!(spin(1), x ^ (x >> 32));
        assert_ne!(spin(100_000), 0);
    }
}
