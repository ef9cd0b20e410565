//! The project's conformance cases (plugins/conformance/cases.json, SPEC section 2) through the
//! in-process host (`plugin-host`), for every plugin (built first through the runner's cached build,
//! as `run` does) on every engine that can compile it. Envoy is not needed: the three routes of the conformance listener are modelled
//! here (prefix /foo -> default/foo, /bar -> default/bar, else default/other, each answering 200
//! "passthrough" when the plugin lets the request continue).
//!
//! Each case runs on a fresh VM, and then all of them again in one VM with a root context per case
//! (as Envoy shares a VM between listeners with the same `vm_id`).
//!
//! A plugin that cannot be built fails the tests with the reason and the fix, unless it is named in
//! `BENCH_TEST_SKIP` (see `common.rs`); the tests fail when no module at all was checked.

use bench_runner::bench::calls::observed_work;
use bench_runner::bench::conformance::CaseRequest;
use bench_runner::plugins::config::{self, Work};
use plugin_host::{Action, Engine, EngineKind, Error, Request};
use serde_json::Value;
mod common;
use common::{built_all, root};
use std::path::PathBuf;

/// The conformance listener's routes (SPEC section 2).
fn route_of(path: &str) -> &'static str {
    if path.starts_with("/foo") {
        "default/foo"
    } else if path.starts_with("/bar") {
        "default/bar"
    } else {
        "default/other"
    }
}

/// (implementation, module path) of every Wasm plugin, built if needed. Lua has no module here.
fn plugins() -> Vec<(String, PathBuf)> {
    built_all(None)
        .into_iter()
        .map(|b| (b.name, b.module))
        .collect()
}

struct Case {
    name: String,
    config: String,
    rejected: bool,
    requests: Vec<CaseReq>,
}

/// (path, authority, status, body, request body pieces as Envoy delivers them, the work the case
/// states for the request or None)
type CaseReq = (String, String, u64, String, Vec<Vec<u8>>, Option<Work>);

impl Case {
    /// The work a request must cause: what the case states, else the contract's own reading.
    fn work(&self, path: &str, authority: &str, stated: Option<Work>) -> Work {
        stated.unwrap_or_else(|| {
            config::parse_str(&self.config)
                .map(|c| c.work(route_of(path), authority))
                .unwrap_or_default()
        })
    }
}

fn cases() -> Vec<Case> {
    let path = root().join("plugins/conformance/cases.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    v.as_array()
        .expect("cases.json is an array")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            config: match c.get("config_raw") {
                Some(raw) => raw.as_str().unwrap().to_string(),
                None => c["config"].to_string(),
            },
            rejected: c.get("rejected").and_then(Value::as_bool).unwrap_or(false),
            requests: c
                .get("requests")
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .map(|r| {
                            let r: CaseRequest =
                                serde_json::from_value(r.clone()).expect("a request of cases.json");
                            let pieces = r.body_pieces();
                            (r.path, r.authority, r.status as u64, r.body, pieces, r.work)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Runs one case on a fresh VM; Err describes the first disagreement.
fn run_case(module: &plugin_host::Module, case: &Case) -> Result<(), String> {
    let mut vm = module.instantiate().map_err(|e| e.to_string())?;
    if !vm.start(b"").map_err(|e| e.to_string())? {
        return Err("proxy_on_vm_start returned false".into());
    }
    vm.set_tracing(true);
    let accepted = vm
        .configure(case.config.as_bytes())
        .map_err(|e| e.to_string())?;
    let invalid_lines = vm
        .logs()
        .iter()
        .filter(|l| l.message.contains("mock-response: invalid configuration"))
        .count();
    if case.rejected {
        if accepted {
            return Err("the configuration was accepted".into());
        }
        if invalid_lines != 1 {
            return Err(format!(
                "rejected, but logged {invalid_lines} `mock-response: invalid configuration` lines (want 1): {:?}",
                vm.logs()
            ));
        }
        return Ok(());
    }
    if !accepted {
        return Err(format!(
            "a valid configuration was rejected: {:?}",
            vm.logs().last()
        ));
    }
    let root = vm.request_root();
    check_requests(&mut vm, root, case)
}

/// Sends a case's requests to the plugin of root context `root`; Err describes the first mismatch.
fn check_requests(vm: &mut plugin_host::Vm, root: i32, case: &Case) -> Result<(), String> {
    for (path, authority, status, body, pieces, stated) in &case.requests {
        let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let mut req = Request::get(authority, path, Some(route_of(path)));
        if !pieces.is_empty() {
            req.method = "POST";
            req.body = &pieces;
        }
        let before = vm_headers_for(&req);
        let out = vm
            .request_in(root, &req)
            .map_err(|e| format!("{path} (Host {authority}): {e}"))?;
        let (got_status, got_body) = match (&out.local_reply, out.action) {
            (Some(r), _) => (r.status as u64, r.body.clone()),
            (None, Action::Continue) => (200, b"passthrough".to_vec()),
            (None, Action::Pause(n)) => {
                return Err(format!(
                    "{path} (Host {authority}): paused ({n}) without a local reply; Envoy would wait forever"
                ))
            }
        };
        if (got_status, got_body.as_slice()) != (*status, body.as_bytes()) {
            let shown: String = String::from_utf8_lossy(&got_body)
                .chars()
                .take(60)
                .collect();
            let want: String = body.chars().take(60).collect();
            return Err(format!(
                "{path} (Host {authority}): expected {status} {want:?}, got {got_status} {shown:?}"
            ));
        }
        let want = case.work(path, authority, *stated);
        match observed_work(&out) {
            Ok(seen) if seen == want => {}
            Ok(seen) => {
                return Err(format!(
                    "{path} (Host {authority}): the host saw {seen}; the contract asks for {want} (host calls: {})",
                    calls_line(&out)
                ))
            }
            Err(e) => return Err(format!("{path} (Host {authority}): {e}")),
        }
        if out.local_reply.is_none() && vm.request_headers().pairs != before {
            return Err(format!(
                "{path}: the plugin continued but left the request headers changed: {:?}",
                vm.request_headers()
                    .pairs
                    .iter()
                    .map(|(k, v)| format!(
                        "{}={}",
                        String::from_utf8_lossy(k),
                        String::from_utf8_lossy(v)
                    ))
                    .collect::<Vec<_>>()
            ));
        }
    }
    Ok(())
}

/// `add_header_map_value ×20, ...`: a request's host calls, for a message.
fn calls_line(out: &plugin_host::Outcome) -> String {
    out.calls
        .by_label()
        .iter()
        .map(|(name, c)| format!("{name} ×{}", c.calls))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when a case's configuration makes the plugin trap (its VM cannot be shared).
fn crashes(case: &Case) -> bool {
    serde_json::from_str::<Value>(&case.config)
        .ok()
        .and_then(|v| v.get("crash_every").and_then(Value::as_u64))
        .unwrap_or(0)
        > 0
}

/// Every case in ONE VM, as Envoy runs listeners that share a `vm_id`: each case's configuration
/// gets its own root context, all are configured first, then each case's requests go to its root.
/// This catches a plugin that keeps one configuration per VM instead of per root context.
fn run_shared(module: &plugin_host::Module, cases: &[Case]) -> Vec<(String, String)> {
    let mut failures = Vec::new();
    let mut vm = match module.instantiate() {
        Ok(vm) => vm,
        Err(e) => return vec![("(shared VM)".into(), e.to_string())],
    };
    vm.set_tracing(true);
    let mut roots = Vec::new();
    for case in cases.iter().filter(|c| !crashes(c)) {
        vm.clear_logs();
        match vm.add_root(case.config.as_bytes()) {
            Ok(Some(_)) if case.rejected => {
                failures.push((case.name.clone(), "the configuration was accepted".into()))
            }
            Ok(Some(root)) => roots.push((root, case)),
            Ok(None) if case.rejected => {
                let lines = vm
                    .logs()
                    .iter()
                    .filter(|l| l.message.contains("mock-response: invalid configuration"))
                    .count();
                if lines != 1 {
                    failures.push((
                        case.name.clone(),
                        format!(
                            "rejected, but logged {lines} invalid-configuration lines (want 1)"
                        ),
                    ));
                }
            }
            Ok(None) => failures.push((
                case.name.clone(),
                format!("a valid configuration was rejected: {:?}", vm.logs().last()),
            )),
            Err(e) => {
                failures.push((case.name.clone(), e.to_string()));
                return failures;
            }
        }
    }
    for (root, case) in roots {
        if let Err(why) = check_requests(&mut vm, root, case) {
            failures.push((case.name.clone(), why));
        }
    }
    failures
}

/// The headers the host builds for a request (to check the plugin removed what it added).
fn vm_headers_for(req: &Request<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    [
        (":authority", req.authority),
        (":path", req.path),
        (":method", req.method),
        (":scheme", "http"),
        ("user-agent", "plugin-host"),
        ("x-forwarded-proto", "http"),
        ("x-request-id", "00000000-0000-4000-8000-000000000000"),
    ]
    .iter()
    .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect()
}

/// crash_every = 2: the first request answers, the second traps (an error value), then the VM is
/// failed, as Envoy's fail-closed policy has it.
fn crash_check(module: &plugin_host::Module) -> Result<(), String> {
    let mut vm = module.instantiate().map_err(|e| e.to_string())?;
    vm.start(b"").map_err(|e| e.to_string())?;
    if !vm
        .configure(br#"{"content":"x","crash_every":2}"#)
        .map_err(|e| e.to_string())?
    {
        return Err("crash_every config rejected".into());
    }
    let req = Request::get("h", "/", Some("default/other"));
    let first = vm
        .request(&req)
        .map_err(|e| format!("first request: {e}"))?;
    if first.local_reply.map(|r| r.body) != Some(b"x".to_vec()) {
        return Err("first request did not answer x".into());
    }
    match vm.request(&req) {
        Err(Error::Trap { .. }) | Err(Error::Exit { .. }) => {}
        other => return Err(format!("second request should trap, got {other:?}")),
    }
    match vm.request(&req) {
        Err(Error::Failed(_)) => Ok(()),
        other => Err(format!("a failed VM should refuse work, got {other:?}")),
    }
}

fn conformance(kind: EngineKind) {
    let plugins = plugins();
    assert!(
        !plugins.is_empty(),
        "no plugin module to check: every implementation was left out"
    );
    let cases = cases();
    let engine = Engine::new(kind).unwrap_or_else(|e| panic!("{kind}: {e}"));
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for (name, path) in &plugins {
        let wasm = std::fs::read(path).unwrap();
        let module = match engine.compile(&wasm) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name} on {kind}: cannot compile: {e}"));
                continue;
            }
        };
        let mut passed = 0;
        for case in &cases {
            match run_case(&module, case) {
                Ok(()) => passed += 1,
                Err(why) => failures.push(format!("{name} on {kind} / {}: {why}", case.name)),
            }
        }
        if let Err(why) = crash_check(&module) {
            failures.push(format!("{name} on {kind} / crash_every 2 traps: {why}"));
        }
        for (case, why) in run_shared(&module, &cases) {
            failures.push(format!(
                "{name} on {kind} / {case} (one VM shared by every case): {why}"
            ));
        }
        ran.push(format!("{name} {passed}/{}", cases.len()));
    }
    eprintln!(
        "conformance through the host on {kind} (a fresh VM per case, then one VM shared by all cases): {}",
        ran.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} disagreement(s) with the conformance cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn conformance_wasmtime_cranelift() {
    conformance(EngineKind::Cranelift);
}

#[test]
fn conformance_wasmtime_winch() {
    conformance(EngineKind::Winch);
}

#[test]
fn conformance_wasmi() {
    conformance(EngineKind::Wasmi);
}

#[test]
fn routes_match_the_conformance_listener() {
    assert_eq!(route_of("/foo"), "default/foo");
    assert_eq!(route_of("/foo/deeper"), "default/foo");
    assert_eq!(route_of("/bar"), "default/bar");
    assert_eq!(route_of("/other-path"), "default/other");
    assert_eq!(route_of("/"), "default/other");
}

#[test]
fn the_work_cases_state_is_the_contracts_own_reading() {
    let mut stated = 0;
    for case in cases() {
        for (path, authority, _, _, _, work) in &case.requests {
            let Some(work) = work else { continue };
            stated += 1;
            let derived = case.work(path, authority, None);
            assert_eq!(
                *work, derived,
                "{} {path}: cases.json states {work}, the contract's reading derives {derived}",
                case.name
            );
        }
    }
    assert!(stated >= 10, "only {stated} requests state their work");
}

/// A proxy-wasm module in WebAssembly text that accepts any configuration and, on request headers,
/// runs `body` then continues: a plugin that does not do the contract's work.
fn fake_plugin(body: &str) -> plugin_host::Module {
    let wat = format!(
        r#"(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "per-request line")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) {body} (i32.const 0)))"#
    );
    let wasm = wat::parse_str(&wat).expect("the fake is valid WebAssembly text");
    Engine::new(EngineKind::Wasmi)
        .unwrap()
        .compile(&wasm)
        .expect("the fake compiles")
}

#[test]
fn an_unfair_fake_fails_host_conformance_naming_the_calls() {
    let headers = cases()
        .into_iter()
        .find(|c| c.name == "headers mode does its work and lets the request through")
        .expect("the headers case");
    // Skips the header work: the reply is the same (the route answers), the calls are not.
    let skipper = fake_plugin("");
    let why = run_case(&skipper, &headers).unwrap_err();
    assert!(
        why.contains("the host saw 0 x-bench adds, 0 gets, 0 removes")
            && why.contains("the contract asks for 20 x-bench adds, 20 gets, 20 removes"),
        "{why}"
    );
    // Logs on every request (at info level, as a plugin's own line would be).
    let quiet = Case {
        name: "headers mode on no header".into(),
        config: r#"{"mode":"headers","header_count":0}"#.into(),
        rejected: false,
        requests: vec![(
            "/".into(),
            "h".into(),
            200,
            "passthrough".into(),
            vec![],
            None,
        )],
    };
    let logger = fake_plugin("(drop (call $log (i32.const 2) (i32.const 16) (i32.const 16)))");
    let why = run_case(&logger, &quiet).unwrap_err();
    assert!(
        why.contains("1 log lines") && why.contains("proxy_log ×1"),
        "{why}"
    );
    assert_eq!(
        run_case(&skipper, &quiet),
        Ok(()),
        "no work asked, none done"
    );
}
