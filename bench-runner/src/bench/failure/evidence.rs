//! What Envoy itself says about a scenario: its access log (joined to the client's requests by the
//! x-bench-seq header), its admin `/stats`, and how it behaved when asked to stop.

use crate::envoy::Envoy;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

/// One access log line of envoy/failure/listener.yaml's JSON format.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub code: Option<u16>,
    pub details: String,
    pub flags: String,
    pub duration_ms: Option<f64>,
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Access log entries by request sequence number (lines without a number, e.g. other clients', are
/// dropped; a missing file gives an empty map).
pub fn read_access_log(path: &Path) -> HashMap<usize, LogEntry> {
    let text_all = std::fs::read_to_string(path).unwrap_or_default();
    parse_access_log(&text_all)
}

pub fn parse_access_log(log: &str) -> HashMap<usize, LogEntry> {
    let mut out = HashMap::new();
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(seq) = text(&v["seq"]).parse::<usize>().ok() else {
            continue;
        };
        out.insert(
            seq,
            LogEntry {
                code: number(&v["code"]).map(|c| c as u16),
                details: text(&v["details"]),
                flags: text(&v["flags"]),
                duration_ms: number(&v["duration_ms"]),
            },
        );
    }
    out
}

/// `name: value` lines of the admin `/stats` text output that hold an integer.
pub fn parse_stats(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(": ")?;
            Some((name.trim().to_string(), value.trim().parse::<u64>().ok()?))
        })
        .collect()
}

/// A scenario's own stats: the Wasm plugin's (`wasm.<id>.*`, e.g. vm_reload_backoff) and the Lua
/// filter's (`*.<id>.lua.*` errors), keyed without the `<id>` part.
pub fn scenario_stats(all: &[(String, u64)], id: &str) -> BTreeMap<String, u64> {
    let wasm_prefix = format!("wasm.{id}.");
    let lua_infix = format!(".{id}.lua.");
    all.iter()
        .filter_map(|(name, v)| {
            if let Some(rest) = name.strip_prefix(&wasm_prefix) {
                Some((format!("wasm.{rest}"), *v))
            } else {
                name.find(&lua_infix)
                    .map(|i| (format!("lua.{}", &name[i + lua_infix.len()..]), *v))
            }
        })
        .collect()
}

/// Envoy-wide Wasm stats: runtime VM counts (`wasm.envoy.wasm.runtime.<rt>.active/created`,
/// `wasm.wasm_vm_count`), i.e. every `wasm.` stat that belongs to no scenario.
pub fn envoy_wasm_stats(all: &[(String, u64)], ids: &[String]) -> BTreeMap<String, u64> {
    all.iter()
        .filter(|(name, _)| name.starts_with("wasm.") && !name.starts_with("wasm.remote_load"))
        .filter(|(name, _)| {
            !ids.iter()
                .any(|id| name.starts_with(&format!("wasm.{id}.")))
        })
        .map(|(n, v)| (n.clone(), *v))
        .collect()
}

pub use crate::results::failure::{Ready, StopReport};

pub fn ready(envoy: &Envoy) -> Ready {
    match envoy.admin("/ready") {
        Ok((status, body)) => Ready {
            status: Some(status),
            body: dechunk(&body).trim().to_string(),
        },
        Err(e) => Ready {
            status: None,
            body: format!("no answer: {e}"),
        },
    }
}

/// The payload of a chunked body (the admin answers `/ready` chunked); other bodies are returned as they are.
pub fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_string();
        };
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            return body.to_string();
        };
        if n == 0 {
            return out;
        }
        let (Some(chunk), Some(next)) = (after.get(..n), after.get(n..)) else {
            return body.to_string();
        };
        out.push_str(chunk);
        rest = next.strip_prefix("\r\n").unwrap_or(next);
    }
}

/// Stops Envoy, every wait bounded: SIGTERM, up to `grace`, then SIGKILL (reported).
pub fn stop_envoy(envoy: &mut Envoy, grace: Duration) -> StopReport {
    let t0 = Instant::now();
    if !envoy.is_running() {
        envoy.stop();
        return StopReport {
            already_exited: true,
            exited_on_sigterm: false,
            killed: false,
            elapsed_ms: 0.0,
        };
    }
    let pgid = envoy.pid as libc::pid_t;
    // SAFETY: signalling the process group of our own child (Envoy runs in its own group).
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    let deadline = t0 + grace;
    let mut exited = false;
    while Instant::now() < deadline {
        if !envoy.is_running() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if !exited {
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    envoy.stop(); // reaps (returns at once when the process is gone)
    StopReport {
        already_exited: false,
        exited_on_sigterm: exited,
        killed: !exited,
        elapsed_ms: t0.elapsed().as_secs_f64() * 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_lines_are_joined_by_sequence_number() {
        let log = r#"{"code":503,"details":"wasm_fail_stream","flags":"-","seq":"3","duration_ms":0,"upstream_host":null}
{"code":200,"details":"via_upstream","flags":"-","seq":"4","duration_ms":"2"}
{"code":0,"details":"downstream_remote_disconnect","flags":"DC","seq":null}
not json"#;
        let m = parse_access_log(log);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&3].code, Some(503));
        assert_eq!(m[&3].details, "wasm_fail_stream");
        assert_eq!(m[&4].duration_ms, Some(2.0));
    }

    #[test]
    fn chunked_admin_bodies_are_decoded() {
        assert_eq!(dechunk("5\r\nLIVE\n\r\n0\r\n\r\n"), "LIVE\n");
        assert_eq!(dechunk("LIVE\n"), "LIVE\n");
    }

    #[test]
    fn stats_are_split_per_scenario_and_envoy_wide() {
        let text = "wasm.rust-crash1-open.vm_reload_backoff: 4\nwasm.rust-crash1-open-x.vm_reload: 1\n\
                    wasm.envoy.wasm.runtime.v8.active: 18\nwasm.wasm_vm_count: 18\n\
                    http.lua-crash1-none.lua.errors: 7\nwasm.remote_load_cache_hits: 0\ncluster.upstream.x: P0(nan,1)\n";
        let all = parse_stats(text);
        let ids = vec![
            "rust-crash1-open".to_string(),
            "rust-crash1-open-x".to_string(),
            "lua-crash1-none".to_string(),
        ];
        let s = scenario_stats(&all, "rust-crash1-open");
        assert_eq!(s.len(), 1);
        assert_eq!(s["wasm.vm_reload_backoff"], 4);
        assert_eq!(scenario_stats(&all, "lua-crash1-none")["lua.errors"], 7);
        let e = envoy_wasm_stats(&all, &ids);
        assert_eq!(
            e.keys().cloned().collect::<Vec<_>>(),
            vec!["wasm.envoy.wasm.runtime.v8.active", "wasm.wasm_vm_count"]
        );
    }
}
