//! `calls`: what each Wasm plugin asks of its host for one request, seen from inside the host
//! (`plugin-host`): every proxy-wasm and WASI call by name with the bytes copied in and out, per
//! workload, and whether that is the contract's work ([`observed_work`]). The figures are properties
//! of the modules, not of the machine: the same module gives the same calls on any engine and any day.
//!
//! The conformance and fuzz checks use [`observed_work`] on every request; this command tabulates a
//! steady-state request of each workload for the README, so that a reader sees that every language
//! makes the same calls, and where an SDK makes more.

use crate::plugins::config::Work;
use crate::plugins::Built;
pub use crate::results::calls::{CallsFile, CallsRow, Module, NamedCount};
use plugin_host::{CallCount, EngineKind, HeaderOp, Outcome, Request};

const PREFIX: &[u8] = b"x-bench-";

/// The contract's work as the host saw one request (the VM must trace: [`plugin_host::Vm::set_tracing`]):
/// the `x-bench-*` operations, which must be the workload's sequence ([`header_work`]), the local
/// replies and the log lines.
pub fn observed_work(out: &Outcome) -> Result<Work, String> {
    let work = header_work(&out.header_ops)?;
    Ok(Work {
        local_replies: out.calls.get("proxy_send_local_response").calls as u32,
        // What Envoy writes at its default level; debug and trace lines (the AssemblyScript SDK's own)
        // stay among the host calls.
        logs: out.log_levels[2..].iter().sum(),
        ..work
    })
}

/// The header part of the work from the request-header operations in order: the operations on
/// `x-bench-*` must be n adds (`x-bench-<i>` = `v<i>`, i = 0..n-1), then n reads, then n removes, in
/// index order; anything else (a header added twice, a read skipped, a replace) is an error naming
/// what was done.
pub fn header_work(ops: &[HeaderOp]) -> Result<Work, String> {
    let bench: Vec<&HeaderOp> = ops.iter().filter(|o| o.key().starts_with(PREFIX)).collect();
    let n = bench
        .iter()
        .filter(|o| matches!(o, HeaderOp::Add { .. }))
        .count();
    let name = |i: usize| format!("x-bench-{i}").into_bytes();
    let want = (0..n)
        .map(|i| HeaderOp::Add {
            key: name(i),
            value: format!("v{i}").into_bytes(),
        })
        .chain((0..n).map(|i| HeaderOp::Get { key: name(i) }))
        .chain((0..n).map(|i| HeaderOp::Remove { key: name(i) }));
    if bench.len() == 3 * n && bench.iter().zip(want).all(|(a, b)| **a == b) {
        return Ok(Work::headers(n as u32));
    }
    Err(format!(
        "the x-bench-* header operations are not the workload's ({n} adds of x-bench-<i> = v<i>, then {n} reads, then {n} removes, in order): {}",
        describe_ops(&bench)
    ))
}

/// `add x-bench-0=v0, get x-bench-0, ...`, the first few and the count.
fn describe_ops(ops: &[&HeaderOp]) -> String {
    const SHOWN: usize = 6;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut parts: Vec<String> = ops
        .iter()
        .take(SHOWN)
        .map(|o| match o {
            HeaderOp::Add { key, value } => format!("add {}={}", text(key), text(value)),
            HeaderOp::Replace { key, value } => format!("replace {}={}", text(key), text(value)),
            HeaderOp::Get { key } => format!("get {}", text(key)),
            HeaderOp::Remove { key } => format!("remove {}", text(key)),
        })
        .collect();
    if ops.len() > SHOWN {
        parts.push(format!("... ({} operations in all)", ops.len()));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The requests whose calls are tabulated: the run's two workloads on the catch-all route, and a
/// request no rule matches (a plugin that lets it through should do nothing but look).
pub const WORKLOADS: [(&str, &str); 3] = [
    ("mock", r#"{"content":"hello higress"}"#),
    ("headers", r#"{"mode":"headers","header_count":20}"#),
    (
        "no match",
        r#"{"mode":"headers","_rules_":[{"content":"x","_match_route_":["default/foo"]}]}"#,
    ),
];

/// Requests before the one tabulated: a runtime's lazy set-up (Go's, say) happens on the first.
pub const WARM: usize = 2;

/// Every Wasm implementation of `built` through every workload of [`WORKLOADS`] on wasmi (the calls do
/// not depend on the engine, and wasmi loads a module fastest); Err names an implementation whose
/// module does not load or configure, or whose steady state changes from one request to the next.
pub fn measure(built: &[Built]) -> anyhow::Result<Vec<CallsRow>> {
    let engine = plugin_host::Engine::new(EngineKind::Wasmi)?;
    let mut rows = Vec::new();
    for b in built.iter().filter(|b| b.is_wasm()) {
        let wasm = std::fs::read(&b.module)?;
        let module = engine
            .compile(&wasm)
            .map_err(|e| anyhow::anyhow!("{}: {e}", b.name))?;
        for (workload, config) in WORKLOADS {
            let mut vm = module
                .instantiate()
                .map_err(|e| anyhow::anyhow!("{}: {e}", b.name))?;
            if !vm.configure(config.as_bytes())? {
                anyhow::bail!("{}: rejected the {workload} configuration {config}", b.name);
            }
            vm.set_tracing(true);
            let req = Request::get("localhost", "/", Some("default/other"));
            let mut last: Option<Outcome> = None;
            for i in 0..=WARM {
                let out = vm
                    .request(&req)
                    .map_err(|e| anyhow::anyhow!("{} {workload}: {e}", b.name))?;
                if i == WARM && last.as_ref().is_some_and(|l| l.calls != out.calls) {
                    anyhow::bail!(
                        "{} {workload}: the host calls changed between two warm requests",
                        b.name
                    );
                }
                last = Some(out);
            }
            let out = last.expect("at least one request");
            let work = observed_work(&out);
            rows.push(CallsRow {
                implementation: b.name.clone(),
                workload: workload.into(),
                work: work.as_ref().ok().copied(),
                work_error: work.err(),
                calls: out
                    .calls
                    .by_label()
                    .into_iter()
                    .map(|(call, c): (String, CallCount)| NamedCount {
                        call,
                        calls: c.calls,
                        bytes_in: c.bytes_in,
                        bytes_out: c.bytes_out,
                    })
                    .collect(),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(i: usize) -> HeaderOp {
        HeaderOp::Add {
            key: format!("x-bench-{i}").into_bytes(),
            value: format!("v{i}").into_bytes(),
        }
    }
    fn get(i: usize) -> HeaderOp {
        HeaderOp::Get {
            key: format!("x-bench-{i}").into_bytes(),
        }
    }
    fn remove(i: usize) -> HeaderOp {
        HeaderOp::Remove {
            key: format!("x-bench-{i}").into_bytes(),
        }
    }

    #[test]
    fn the_workload_sequence_is_recognised_and_anything_else_is_named() {
        let authority = HeaderOp::Get {
            key: b":authority".to_vec(),
        };
        let ok = vec![
            authority.clone(),
            add(0),
            add(1),
            get(0),
            get(1),
            remove(0),
            remove(1),
        ];
        assert_eq!(header_work(&ok), Ok(Work::headers(2)));
        assert_eq!(header_work(&[authority]), Ok(Work::default()));
        // a read skipped, the same header added twice, the order changed, a replace
        for bad in [
            vec![add(0), add(1), get(0), remove(0), remove(1)],
            vec![add(0), add(0), get(0), get(0), remove(0), remove(0)],
            vec![add(0), get(0), remove(0), add(1), get(1), remove(1)],
            vec![
                add(0),
                HeaderOp::Replace {
                    key: b"x-bench-0".to_vec(),
                    value: b"v0".to_vec(),
                },
                get(0),
                remove(0),
            ],
        ] {
            let e = header_work(&bad).unwrap_err();
            assert!(e.contains("not the workload's"), "{e}");
        }
        let e = header_work(&[add(0), add(1), get(0), get(1), remove(0)]).unwrap_err();
        assert!(
            e.contains("add x-bench-0=v0, add x-bench-1=v1, get x-bench-0"),
            "{e}"
        );
    }
}
