//! The program callgrind counts (`bench-runner micro-probe PLAN`, hidden): one module on one engine,
//! and for each workload a fresh VM warmed up, then `windows` windows of `requests_per_window`
//! requests, each between a zero of callgrind's counters and a labelled dump (client requests:
//! nothing but those requests is counted). It writes a report (the module's code map, and per
//! workload whether it ran) for the runner that started it under valgrind.

use super::attribute::CodeMap;
use super::loaded;
use crate::callgrind::client;
use plugin_host::{Engine, EngineKind, Request, Vm};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the probe is to do; written by the runner as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbePlan {
    pub module: PathBuf,
    pub engine: String,
    pub workloads: Vec<ProbeWorkload>,
    pub warmup_requests: u64,
    pub requests_per_window: u64,
    pub windows: usize,
    /// Where the probe writes its [`ProbeReport`].
    pub report: PathBuf,
}

/// One workload: the plugin's configuration, the request, what the plugin must answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeWorkload {
    pub name: String,
    pub config: String,
    /// Request body bytes (a POST with the body in one chunk); 0: a GET without body.
    pub body_bytes: usize,
    /// The local reply's body the plugin must send; None: it must let the request continue.
    pub expect_reply: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// valgrind's `RUNNING_ON_VALGRIND`: 0 when the probe ran natively.
    pub on_valgrind: usize,
    /// Where the module's machine code lay (None on wasmi).
    pub code_map: Option<CodeMap>,
    pub workloads: Vec<ProbeOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutcome {
    pub name: String,
    /// Why the workload was not counted (None: every window was dumped).
    pub error: Option<String>,
}

/// The label of a window's dump.
pub fn window_label(workload: &str, k: usize) -> String {
    format!("{workload} window {k}")
}

fn checked(vm: &mut Vm, req: &Request<'_>, w: &ProbeWorkload) -> anyhow::Result<()> {
    let out = vm.request(req)?;
    let reply = out
        .local_reply
        .as_ref()
        .map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()));
    match (&w.expect_reply, reply) {
        (None, None) => Ok(()),
        (Some(want), Some((200, got))) if *want == got => Ok(()),
        (want, got) => anyhow::bail!(
            "workload {}: the plugin answered {got:?} (status, body); expected {}",
            w.name,
            want.as_ref()
                .map_or("no local reply".to_string(), |b| format!(
                    "status 200 with {b:?}"
                ))
        ),
    }
}

/// Counts one workload's windows in a fresh VM.
fn workload(module: &plugin_host::Module, w: &ProbeWorkload, p: &ProbePlan) -> anyhow::Result<()> {
    let mut vm = loaded(module, &w.config)?;
    let body = crate::load::http1::pattern_body(w.body_bytes);
    let chunks: [&[u8]; 1] = [&body];
    let mut req = plugin_host::workload::request();
    if w.body_bytes > 0 {
        req.method = "POST";
        req.body = &chunks;
    }
    checked(&mut vm, &req, w)?;
    for _ in 0..p.warmup_requests {
        vm.request(&req)?;
        vm.clear_logs();
    }
    checked(&mut vm, &req, w)?;
    client::start_instrumentation();
    let counted = windows(&mut vm, &req, w, p);
    client::stop_instrumentation();
    counted
}

/// The counted part: nothing else runs between a zero and its dump.
#[inline(never)]
fn windows(vm: &mut Vm, req: &Request<'_>, w: &ProbeWorkload, p: &ProbePlan) -> anyhow::Result<()> {
    for k in 0..p.windows {
        let label = window_label(&w.name, k);
        client::zero_stats();
        for _ in 0..p.requests_per_window {
            std::hint::black_box(vm.request(std::hint::black_box(req))?);
            // The host keeps the plugin's log lines; Envoy writes them out. Dropped after every
            // request (the driver's work), they do not pile up and change the heap's paths.
            vm.clear_logs();
        }
        client::dump_stats_at(&label);
    }
    Ok(())
}

fn write_report(path: &Path, r: &ProbeReport) -> anyhow::Result<()> {
    crate::sys::write_atomic(path, serde_json::to_string(r)?.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write the probe's report {} ({e})", path.display()))
}

/// `bench-runner micro-probe PLAN`: runs the plan and writes its report; a module that does not
/// compile is an error (exit 2), a workload that fails is recorded in the report.
pub fn command(plan: &Path) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(plan).map_err(|e| {
        crate::error::usage(format!(
            "cannot read the probe plan {} ({e})",
            plan.display()
        ))
    })?;
    let p: ProbePlan = serde_json::from_str(&text).map_err(|e| {
        crate::error::usage(format!("{} is not a probe plan ({e})", plan.display()))
    })?;
    let kind = EngineKind::from_id(&p.engine).ok_or_else(|| {
        crate::error::usage(format!("{}: unknown engine {}", plan.display(), p.engine))
    })?;
    let wasm = std::fs::read(&p.module).map_err(|e| {
        crate::error::usage(format!(
            "cannot read the module {} ({e})",
            p.module.display()
        ))
    })?;
    // Compiled here, under valgrind: the JIT targets the CPU valgrind presents (no AVX-512 on a
    // machine that has it), and a module compiled natively would not load.
    let module = Engine::new(kind)?.compile(&wasm)?;
    let mut report = ProbeReport {
        on_valgrind: client::on_valgrind(),
        code_map: module.code_map().map(CodeMap::from),
        workloads: vec![],
    };
    for w in &p.workloads {
        let outcome = workload(&module, w, &p);
        report.workloads.push(ProbeOutcome {
            name: w.name.clone(),
            error: outcome.err().map(|e| format!("{e:#}")),
        });
    }
    write_report(&p.report, &report)?;
    Ok(0)
}
