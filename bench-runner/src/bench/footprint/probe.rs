//! One Envoy process of the footprint phase: started with one listener and `--concurrency` C, timed
//! to `/ready` and to the first reply with the expected body, warmed until every worker answered
//! (so every worker's VM exists and ran), read, put under a bounded load, read again, stopped.

use super::Ctx;
use crate::bench::variants::{Kind, Variant};
use crate::envoy::process::{http_get, log_tail};
use crate::envoy::session::{allocate_ports, Launch};
use crate::error::usage;
use crate::load::request::{fetch, Exchange};
use crate::load::{self, LoadPlan, Pace};
use crate::results::footprint::{CompanionReading, FootprintSample, MemoryReading};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a process may take to be ready, and to answer once ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// Warm-up rounds of new connections before giving up on a worker that never got one.
const WARM_BATCHES: usize = 60;

/// A process besides Envoy that does a variant's work (an ext_proc processor), kept alive for the
/// process's lifetime; `owner` stops it when dropped.
pub(super) struct Companion {
    pub(super) name: String,
    pub(super) pid: u32,
    #[allow(dead_code)]
    pub(super) owner: Box<dyn std::any::Any>,
}

/// The hook for implementations whose work runs in a second process: start it here, before Envoy
/// (as the run starts it for its own Envoy processes), and return it; its memory is read beside
/// Envoy's (`companions` in every sample, `companion_rss_kb` in the summaries) and it is stopped
/// with the sample. Wasm, Lua and in-process native modules have none; an ext_proc processor is
/// started with Envoy by [`Launch::spawn_at`] and added after it.
fn companions(v: &Variant) -> anyhow::Result<Vec<Companion>> {
    match &v.kind {
        // A processor of your own started by the runner runs for the whole run, shared by every
        // Envoy: it is not this sample's.
        Kind::Baseline
        | Kind::Lua { .. }
        | Kind::Wasm { .. }
        | Kind::ExtProc { .. }
        | Kind::DynamicModule { .. }
        | Kind::Own { .. } => Ok(vec![]),
    }
}

/// Bytes of what Envoy loads for a variant: the .wasm module, the Lua script template, the dynamic
/// module's shared object (an ext_proc variant: the processor's binary).
pub(super) fn module_bytes(v: &Variant) -> Option<u64> {
    match &v.kind {
        Kind::Baseline => None,
        Kind::Lua { built }
        | Kind::Wasm { built, .. }
        | Kind::ExtProc { built }
        | Kind::DynamicModule { built } => Some(built.bytes),
        Kind::Own { plugin, .. } => plugin.bytes,
    }
}

/// VmRSS (status), Pss and private memory (smaps_rollup) of `pid`, KiB; heap figures from `admin`.
pub fn read_memory(pid: u32, admin: Option<u16>) -> anyhow::Result<MemoryReading> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| anyhow::anyhow!("cannot read /proc/{pid}/status ({e})"))?;
    let field = |text: &str, name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
    };
    let rss_kb = field(&status, "VmRSS")
        .ok_or_else(|| anyhow::anyhow!("/proc/{pid}/status has no VmRSS"))?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok();
    let (pss_kb, private_kb) = match &rollup {
        Some(t) => (
            field(t, "Pss"),
            field(t, "Private_Clean")
                .zip(field(t, "Private_Dirty"))
                .map(|(a, b)| a + b),
        ),
        None => (None, None),
    };
    let mut m = MemoryReading {
        rss_kb,
        pss_kb,
        private_kb,
        ..Default::default()
    };
    if let Some(port) = admin {
        if let Ok((200, body)) = http_get(port, "/memory", Duration::from_secs(2)) {
            // the admin answers in chunks: the JSON object is between the first `{` and the last `}`
            let json = match (body.find('{'), body.rfind('}')) {
                (Some(a), Some(b)) if a < b => &body[a..=b],
                _ => "",
            };
            let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
            let num = |k: &str| v.get(k)?.as_str()?.parse().ok();
            m.heap_allocated_bytes = num("allocated");
            m.heap_size_bytes = num("heap_size");
        }
    }
    Ok(m)
}

/// `name: value` lines of admin `/stats?filter=RE` with integer values.
fn stats(port: u16, filter: &str) -> BTreeMap<String, u64> {
    let Ok((200, body)) = http_get(
        port,
        &format!("/stats?filter={filter}"),
        Duration::from_secs(2),
    ) else {
        return BTreeMap::new();
    };
    body.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(": ")?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// Workers whose listener accepted at least one connection (`listener.<addr>.worker_N.downstream_cx_total`).
fn workers_with_connections(admin: u16) -> u32 {
    stats(admin, "worker_[0-9]+\\.downstream_cx_total")
        .iter()
        .filter(|(k, v)| k.starts_with("listener.") && **v > 0)
        .count() as u32
}

/// One request (the variant's first) on a new connection: true when it is answered as the variant
/// must answer. The response is read up to its length (Envoy holds a `Connection: close` open for
/// the client to close first, its delayed-close timeout), then the connection is dropped.
fn answered(port: u16, x: &Exchange) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    fetch(addr, &x.requests[0], Duration::from_millis(500)).is_ok_and(|a| a.meets(&x.expect))
}

/// Measures `v` at concurrency `c`, repetition `r`.
pub(super) fn sample(ctx: &Ctx, v: &Variant, c: u32, r: usize) -> anyhow::Result<FootprintSample> {
    let ports = allocate_ports(2, None)?;
    let (admin, port) = (ports[0], ports[1]);
    let stem = format!("{}-c{c}", v.info.id);
    let launch = Launch {
        project: ctx.project,
        envoy: ctx.envoy,
        dir: &ctx.dir,
        stem: &stem,
        admin_port: admin,
        cpu: None,
        log_level: "warning",
    };
    let mut companions = companions(v)?;
    let t0 = Instant::now();
    let mut envoy = launch.spawn_at(&[v.listener(port)?], c)?;
    if let Some(p) = &envoy.processor {
        companions.push(Companion {
            name: "ext_proc processor".into(),
            pid: p.pid,
            owner: Box::new(()),
        });
    }
    let log = launch.log_path();
    let exited = |what: &str| {
        usage(format!(
            "footprint: Envoy for {} (--concurrency {c}) exited {what}; last lines of {}:\n{}",
            v.info.id,
            log.display(),
            log_tail(&log, 12)
        ))
    };
    let wait = |until: Duration, what: &str, mut done: Box<dyn FnMut() -> bool + '_>| {
        let deadline = t0 + until;
        loop {
            if done() {
                return Ok(t0.elapsed().as_secs_f64() * 1e3);
            }
            crate::sys::check_interrupted()?;
            if Instant::now() >= deadline {
                return Err(usage(format!(
                    "footprint: Envoy for {} (--concurrency {c}) {what} within {until:?}; see {}",
                    v.info.id,
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let ready_ms = wait(
        READY_TIMEOUT,
        "was not ready",
        Box::new(|| {
            matches!(
                http_get(admin, "/ready", Duration::from_millis(500)),
                Ok((200, _))
            )
        }),
    )
    .map_err(|e| {
        if envoy.is_running() {
            e
        } else {
            exited("at start")
        }
    })?;
    let x = v.exchange();
    let first_reply_ms = wait(
        READY_TIMEOUT + REPLY_TIMEOUT,
        &format!("never answered {}", x.expect.describe()),
        Box::new(|| answered(port, &x)),
    )?;
    let workers_warmed = warm(admin, port, c, &x);
    if workers_warmed < c {
        return Err(usage(format!(
            "footprint: only {workers_warmed} of {c} workers of the Envoy for {} got a connection answered by the plugin in {WARM_BATCHES} batches (or a warm-up request was not answered {}); see {}",
            v.info.id,
            x.expect.describe(),
            log.display()
        )));
    }
    let wasm_stats = stats(admin, "^wasm");
    let idle = read_memory(envoy.pid, Some(admin))?;
    let companion_idle: Vec<MemoryReading> = companions
        .iter()
        .map(|x| read_memory(x.pid, None))
        .collect::<anyhow::Result<_>>()?;
    let outcome = load::run(&load_plan(ctx, port, &x), None)?;
    let after_load = read_memory(envoy.pid, Some(admin))?;
    let companions = companions
        .iter()
        .zip(companion_idle)
        .map(|(x, idle)| {
            Ok(CompanionReading {
                name: x.name.clone(),
                pid: x.pid,
                idle,
                after_load: read_memory(x.pid, None)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !envoy.is_running() {
        return Err(exited("while measured"));
    }
    let pid = envoy.pid;
    envoy.stop();
    Ok(FootprintSample {
        variant: v.info.id.clone(),
        concurrency: c,
        repetition: r,
        pid,
        ready_ms,
        first_reply_ms,
        workers_warmed,
        idle,
        after_load,
        load_ok: outcome.ok,
        load_errors: outcome.errors.total(),
        wasm_stats,
        companions,
    })
}

/// New connections (one request each, answered as `x` says) in batches of 2 per worker until
/// every worker's listener accepted one; returns the workers that did (0 when a request was not
/// answered so).
fn warm(admin: u16, port: u16, c: u32, x: &Exchange) -> u32 {
    let mut got = 0;
    for _ in 0..WARM_BATCHES {
        for _ in 0..(2 * c).max(4) {
            if !answered(port, x) {
                // a worker may have taken that connection without the plugin answering it
                return 0;
            }
        }
        got = workers_with_connections(admin);
        if got >= c {
            break;
        }
    }
    got
}

fn load_plan(ctx: &Ctx, port: u16, x: &Exchange) -> LoadPlan {
    let s = &ctx.settings;
    LoadPlan {
        addr: ([127, 0, 0, 1], port).into(),
        host: "localhost".into(),
        path: "/".into(),
        connections: s.load_connections,
        pace: Pace::Open { rate: s.load_rate },
        warmup: Duration::ZERO,
        duration: None,
        requests: Some(s.load_requests),
        max_duration: Duration::from_secs(60),
        timeout: Duration::from_secs(2),
        expect_status: 200,
        expect_body: None,
        cpu: None,
        cpu_probe_pid: None,
        cpu_probe_tid: None,
        cpu_probe_extra_pid: None,
        body_bytes: 0,
        exchange: Some(std::sync::Arc::new(x.clone())),
        http2: false,
    }
}
