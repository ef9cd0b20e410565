//! Remote module load: the Wasm filter's code fetched by Envoy from the runner's module server on
//! 127.0.0.1 (`code.remote` with `sha256` and a retry policy). Fresh Envoys time the load; the failure
//! cases are watched for a fixed time: client replies, `/ready`, the log lines, the remote stats.

use super::*;
use crate::bench::failure::client::{self, Outcome};
use crate::bench::failure::evidence;
use crate::envoy::bootstrap::lifecycle::{Delivery, RemoteCode};
use serde_json::{json, Map};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Instant;

const BODY: &str = "lifecycle remote";

fn sha256_hex(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// One case to watch: what the module server serves, against which digest, from when.
struct Case<'a> {
    id: &'static str,
    description: &'static str,
    bytes: &'a [u8],
    sha256: String,
    /// Start the server this long after Envoy (None: before it).
    late: Option<Duration>,
    /// Stop at the first plugin reply instead of watching the whole time.
    until_reply: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn probe(rt: &tokio::runtime::Runtime, port: u16, t0: Instant) -> ProbeReply {
    let at_ms = ms(t0.elapsed());
    let addr = ([127, 0, 0, 1], port).into();
    match rt.block_on(client::request(addr, 0, Duration::from_millis(500))) {
        Outcome::Response { status, body, .. } => ProbeReply {
            at_ms,
            status: Some(status),
            body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            error: None,
        },
        Outcome::ConnectionError(e) => ProbeReply {
            at_ms,
            status: None,
            body: String::new(),
            error: Some(e),
        },
        Outcome::Hang => ProbeReply {
            at_ms,
            status: None,
            body: String::new(),
            error: Some("timeout (500 ms)".into()),
        },
    }
}

fn outcome_key(p: &ProbeReply) -> String {
    match (p.status, &p.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(e)) if e.starts_with("timeout") => "timeout".into(),
        _ => "connection error".into(),
    }
}

/// Envoy's log lines about the fetch and the module (the last 8).
fn log_lines(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let keys = [
        "][warning][",
        "][error][",
        "][critical][",
        "remote",
        "sha256",
        "fetch",
    ];
    let lines: Vec<String> = text
        .lines()
        .filter(|l| keys.iter().any(|k| l.contains(k)))
        // The start-up list of compiled-in extensions names "remote" and "wasm" too.
        .filter(|l| !l.contains("server.cc:467]"))
        .map(|l| l.chars().take(400).collect())
        .collect();
    lines[lines.len().saturating_sub(8)..].to_vec()
}

/// Writes the bootstrap of one remote case (ports: admin, listener, module server); returns its path.
fn write_config(
    ctx: &Context,
    plan: &LifecyclePlan,
    imp: &Implementation,
    c: &Case,
    dir: &Path,
    stem: &str,
    [admin, listen, mport]: [u16; 3],
) -> anyhow::Result<PathBuf> {
    let code = RemoteCode {
        uri: format!("http://127.0.0.1:{mport}/{}.wasm", imp.name),
        cluster: "modules".into(),
        sha256: c.sha256.clone(),
        num_retries: plan.remote_num_retries,
    };
    let filter = imp.filter(&json!({ "content": BODY }), Map::new())?;
    let t = &ctx.templates;
    let l = t.listener(
        stem,
        listen,
        &Delivery::Remote(filter, code),
        &dir.join(format!("{stem}.access.log")),
    )?;
    let cfg = t.bootstrap(
        admin,
        vec![l],
        &[("upstream", ctx.upstream.port()), ("modules", mport)],
        None,
    )?;
    let config = dir.join(format!("{stem}.json"));
    crate::sys::write_atomic(&config, serde_json::to_string_pretty(&cfg)?.as_bytes())?;
    Ok(config)
}

fn watch(
    ctx: &Context,
    plan: &LifecyclePlan,
    imp: &Implementation,
    c: &Case,
    rep: usize,
) -> anyhow::Result<RemoteCase> {
    let dir = ctx.files().join(format!("{}-remote", imp.name));
    std::fs::create_dir_all(&dir)?;
    let stem = if rep == 0 {
        c.id.to_string()
    } else {
        format!("{}-{rep}", c.id)
    };
    let ports = crate::sys::free_ports(3)?;
    let (admin, listen, mport) = (ports[0], ports[1], ports[2]);
    let serve = || crate::upstream::Upstream::serve_bytes(mport, "application/wasm", c.bytes);
    let mut server = c.late.is_none().then(serve).transpose()?;
    let config = write_config(ctx, plan, imp, c, &dir, &stem, [admin, listen, mport])?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut envoy = ctx.spawn(&config, admin, &[])?;
    let t0 = Instant::now();
    let (mut probes, mut first, mut ready_after) = (Vec::new(), None, None);
    let limit = if c.until_reply {
        Duration::from_secs(30)
    } else {
        c.late.unwrap_or_default() + plan.remote_observe
    };
    while t0.elapsed() < limit {
        crate::sys::check_interrupted()?;
        if let (Some(late), None) = (c.late, &server) {
            if t0.elapsed() >= late {
                server = Some(serve()?);
            }
        }
        if ready_after.is_none()
            && matches!(
                crate::envoy::process::http_get(admin, "/ready", Duration::from_millis(300)),
                Ok((200, _))
            )
        {
            ready_after = Some(ms(t0.elapsed()));
        }
        let p = probe(&rt, listen, t0);
        if first.is_none() && p.status == Some(200) && p.body == BODY {
            first = Some(p.at_ms);
        }
        probes.push(p);
        if (c.until_reply && first.is_some()) || !envoy.is_running() {
            break;
        }
        std::thread::sleep(Duration::from_millis(if c.until_reply { 10 } else { 100 }));
    }
    let alive = envoy.is_running();
    let ready = evidence::ready(&envoy);
    let stats: BTreeMap<String, u64> = envoy
        .admin("/stats?filter=^wasm")
        .map(|x| evidence::parse_stats(&x.1).into_iter().collect())
        .unwrap_or_default();
    envoy.stop();
    drop(server);
    let mut outcomes = BTreeMap::new();
    for p in &probes {
        *outcomes.entry(outcome_key(p)).or_insert(0) += 1;
    }
    let keep: Vec<ProbeReply> = if probes.len() > 10 {
        probes[..5]
            .iter()
            .chain(&probes[probes.len() - 5..])
            .cloned()
            .collect()
    } else {
        probes
    };
    let log = config.with_extension("log");
    Ok(RemoteCase {
        id: c.id.into(),
        description: c.description.into(),
        first_plugin_reply_ms: first,
        ready_after_ms: ready_after,
        ready,
        envoy_alive: alive,
        outcomes,
        probes: keep,
        log_lines: log_lines(&log),
        stats,
        config: ctx.rel(&config),
        log: ctx.rel(&log),
    })
}

pub(super) fn remote_load(
    ctx: &Context,
    plan: &LifecyclePlan,
    imp: &Implementation,
    progress: &crate::bench::progress::Progress,
) -> anyhow::Result<RemoteLoad> {
    let ImplKind::Wasm { module, .. } = &imp.kind else {
        anyhow::bail!("remote load needs a Wasm module");
    };
    let bytes = std::fs::read(module)?;
    let sha = sha256_hex(&bytes);
    let half = &bytes[..bytes.len() / 2];
    let ok = Case {
        id: "ok",
        description: "the module served whole, with its sha256: time from Envoy's spawn to the first plugin reply",
        bytes: &bytes,
        sha256: sha.clone(),
        late: None,
        until_reply: true,
    };
    let mut cases = Vec::new();
    let mut load_ms = Vec::new();
    let reps = plan.remote_repetitions.max(1);
    let done = |n: usize| progress.within(n as f64 / (reps + 3) as f64);
    for rep in 0..reps {
        let c = watch(ctx, plan, imp, &ok, rep)?;
        done(rep + 1);
        load_ms.push(c.first_plugin_reply_ms);
        if rep == 0 {
            cases.push(c);
        }
    }
    let failing = [
        Case {
            id: "wrong-sha256",
            description: "the module served whole against the sha256 of other bytes",
            bytes: &bytes,
            sha256: sha256_hex(b"not this module"),
            late: None,
            until_reply: false,
        },
        Case {
            id: "server-late",
            description:
                "the module server is down when Envoy starts and comes up later (retry policy)",
            bytes: &bytes,
            sha256: sha.clone(),
            late: Some(plan.remote_late),
            until_reply: false,
        },
        Case {
            id: "truncated",
            description: "the first half of the module served, with that half's sha256",
            bytes: half,
            sha256: sha256_hex(half),
            late: None,
            until_reply: false,
        },
    ];
    for (i, c) in failing.iter().enumerate() {
        cases.push(watch(ctx, plan, imp, c, 0)?);
        done(reps + i + 1);
    }
    let mut got: Vec<f64> = load_ms.iter().flatten().copied().collect();
    got.sort_by(f64::total_cmp);
    Ok(RemoteLoad {
        module_bytes: bytes.len() as u64,
        sha256: sha,
        load_ms_median: (!got.is_empty()).then(|| crate::stats::median(&got)),
        load_ms_min: got.first().copied(),
        load_ms_max: got.last().copied(),
        load_ms,
        cases,
    })
}
