//! One swap run: an Envoy whose plugin comes through ECDS (or whose listener comes through LDS) from a
//! watched folder, the load of `traffic` against it, and a thread that replaces the discovery file N
//! times (atomically, by rename) and reads Envoy's RSS and counters after each swap.

use super::analyse;
use super::traffic::{self, Load};
use super::*;
use crate::bench::failure::own::OwnTimeline;
use crate::envoy::bootstrap::lifecycle::{ecds_file, lds_file, Delivery, LUA_TYPE, WASM_TYPE};
use crate::envoy::Filter;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// The counters read after every swap (an admin `/stats` filter).
const STATS_FILTER: &str =
    "wasm|extension_config_discovery|listener_manager|downstream_cx_drain_close|lua";
/// Load before the first swap.
const WARMUP: Duration = Duration::from_millis(1000);

/// `module` with a custom section appended: the same code in different bytes (a new sha256).
pub fn with_custom_section(module: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut body = Vec::new();
    leb(name.len(), &mut body);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = module.to_vec();
    out.push(0);
    leb(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn stats(admin: u16) -> BTreeMap<String, u64> {
    let path = format!("/stats?filter={STATS_FILTER}");
    crate::envoy::process::http_get(admin, &path, Duration::from_secs(2))
        .map(|(_, body)| {
            crate::bench::failure::evidence::parse_stats(&body)
                .into_iter()
                .collect()
        })
        .unwrap_or_default()
}

fn increases(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, v)| {
            let b = before.get(k).copied().unwrap_or(0);
            (*v > b).then(|| (k.clone(), v - b))
        })
        .collect()
}

/// The two versions a run alternates between: their bodies and filters.
struct Versions {
    bodies: [String; 2],
    filters: [Filter; 2],
    type_url: &'static str,
}

fn versions(dir: &Path, imp: &Implementation, mode: &str) -> anyhow::Result<Versions> {
    let bodies = if let ImplKind::Own { requests, .. } = &imp.kind {
        // A plugin of your own: its configuration re-sent, its module swapped with a copy of
        // itself; both versions answer as stated.
        let stated = format!("(as stated: {})", requests.expect.describe());
        [stated.clone(), stated]
    } else if mode == "ecds-module" {
        [
            "lifecycle module a".to_string(),
            "lifecycle module b".to_string(),
        ]
    } else {
        ["lifecycle v1".to_string(), "lifecycle v2".to_string()]
    };
    let mut filters = [0, 1].map(|i| imp.filter(&json!({ "content": bodies[i] }), Map::new()));
    if mode == "ecds-module" {
        let module = match &imp.kind {
            ImplKind::Wasm { module, .. } => module.clone(),
            ImplKind::Own {
                plugin,
                runtime: Some(_),
                ..
            } => plugin.spec.file.clone().unwrap_or_default(),
            _ => anyhow::bail!("ecds-module needs a Wasm module"),
        };
        let bytes = std::fs::read(module)?;
        let copies = [
            (dir.join("module-a.wasm"), bytes.clone()),
            (
                dir.join("module-b.wasm"),
                with_custom_section(&bytes, "bench-runner-lifecycle", b"b"),
            ),
        ];
        for (f, (path, b)) in filters.iter_mut().zip(copies) {
            crate::sys::write_atomic(&path, &b)?;
            if let Ok(Filter::Wasm { module, .. }) = f {
                *module = path;
            }
        }
    }
    let [a, b] = filters;
    Ok(Versions {
        bodies,
        filters: [a?, b?],
        type_url: match imp.kind {
            ImplKind::Wasm { .. }
            | ImplKind::Own {
                runtime: Some(_), ..
            } => WASM_TYPE,
            ImplKind::Lua { .. } | ImplKind::Own { .. } => LUA_TYPE,
        },
    })
}

/// Writes the discovery file carrying version `v` (its `version_info` is `k`).
struct Writer<'a> {
    ctx: &'a Context<'a>,
    lds: bool,
    name: String,
    port: u16,
    file: PathBuf,
    access_log: PathBuf,
    versions: &'a Versions,
    upstream_port: u16,
}

impl Writer<'_> {
    fn write(&self, k: usize, v: usize) -> anyhow::Result<()> {
        let t = &self.ctx.templates;
        let f = &self.versions.filters[v];
        let doc = if self.lds {
            let l = t.listener(
                &self.name,
                self.port,
                &Delivery::Static(f.clone()),
                &self.access_log,
            )?;
            lds_file(&k.to_string(), &l)
        } else {
            let entry = t.filter(&self.name, f)?.unwrap_or(Value::Null);
            ecds_file(&k.to_string(), &self.name, &entry)
        };
        crate::sys::write_atomic(&self.file, serde_json::to_string_pretty(&doc)?.as_bytes())?;
        Ok(())
    }

    /// The bootstrap: the listener static with ECDS, or nothing static with LDS.
    fn bootstrap(&self, admin: u16) -> anyhow::Result<Value> {
        let t = &self.ctx.templates;
        let up = [("upstream", self.upstream_port)];
        if self.lds {
            t.bootstrap(admin, vec![], &up, Some(&self.file))
        } else {
            let d = Delivery::Ecds {
                file: self.file.clone(),
                type_url: self.versions.type_url.into(),
            };
            let l = t.listener(&self.name, self.port, &d, &self.access_log)?;
            t.bootstrap(admin, vec![l], &up, None)
        }
    }
}

/// What the swapping thread recorded.
#[derive(Default)]
struct Swapped {
    at: Vec<Duration>,
    rss: Vec<Option<u64>>,
    stats: Vec<BTreeMap<String, u64>>,
    rss_before: Option<u64>,
    stats_before: BTreeMap<String, u64>,
    error: Option<String>,
}

fn swapper(
    w: &Writer,
    plan: &LifecyclePlan,
    start: Instant,
    admin: u16,
    pid: u32,
    progress: &crate::bench::progress::Progress,
) -> Swapped {
    let mut s = Swapped::default();
    let sleep_until = |t: Instant| std::thread::sleep(t.saturating_duration_since(Instant::now()));
    sleep_until(start + WARMUP - Duration::from_millis(200));
    s.rss_before = vm_rss_kib(pid);
    s.stats_before = stats(admin);
    for k in 1..=plan.swaps {
        if crate::sys::interrupted() {
            break;
        }
        sleep_until(start + WARMUP + plan.interval * (k as u32 - 1));
        if let Err(e) = w.write(k + 1, k % 2) {
            s.error = Some(format!("swap {k}: {e:#}"));
            break;
        }
        let at = start.elapsed();
        s.at.push(at);
        sleep_until(start + at + plan.interval.mul_f64(0.75));
        s.rss.push(vm_rss_kib(pid));
        s.stats.push(stats(admin));
        progress.within(k as f64 / plan.swaps as f64);
    }
    s
}

/// Polls the listener until it answers with `body` (bounded); a plugin of your own (`own`): until
/// it answers as stated.
fn wait_for_body(
    addr: std::net::SocketAddr,
    body: &str,
    own: Option<&OwnTimeline>,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        crate::sys::check_interrupted()?;
        if let Some(own) = own {
            if rt.block_on(own.request(addr, 0, Duration::from_secs(1))).1 {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let o = rt.block_on(crate::bench::failure::client::request(
            addr,
            0,
            Duration::from_secs(1),
        ));
        if matches!(&o, crate::bench::failure::client::Outcome::Response { status: 200, body: b, .. } if b == body.as_bytes())
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("the listener on {addr} did not answer `{body}` within 30 s")
}

pub(super) fn swap_run(
    ctx: &Context,
    plan: &LifecyclePlan,
    imp: &Implementation,
    mode: &str,
    progress: &crate::bench::progress::Progress,
) -> anyhow::Result<SwapRun> {
    let stem = format!("{}-{mode}", imp.name);
    let dir = ctx.files().join(&stem);
    let xds = dir.join("xds");
    std::fs::create_dir_all(&xds)?;
    let versions = versions(&dir, imp, mode)?;
    let lds = mode == "lds";
    let ports = crate::sys::free_ports(2)?;
    let w = Writer {
        ctx,
        lds,
        name: stem.clone(),
        port: ports[1],
        file: xds.join(if lds {
            "listeners.json"
        } else {
            "plugin.ecds.json"
        }),
        access_log: dir.join("access.log"),
        versions: &versions,
        upstream_port: ctx.upstream_for(imp).port(),
    };
    w.write(1, 0)?;
    let config = dir.join("envoy.json");
    crate::sys::write_atomic(
        &config,
        serde_json::to_string_pretty(&w.bootstrap(ports[0])?)?.as_bytes(),
    )?;
    let drain = plan.drain_time_s.to_string();
    let mut envoy = ctx.spawn(&config, ports[0], &["--drain-time-s", &drain])?;
    envoy.wait_ready(&ctx.options(&config, &config.with_extension("log"), ports[0]))?;
    let addr = ([127, 0, 0, 1], ports[1]).into();
    let own = match &imp.kind {
        ImplKind::Own { requests, .. } => Some(OwnTimeline {
            requests: requests.clone(),
            crash_every: 0,
        }),
        _ => None,
    };
    wait_for_body(addr, &versions.bodies[0], own.as_ref())?;
    let span = WARMUP + plan.interval * plan.swaps as u32;
    let load = Load {
        addr,
        rate_per_s: plan.rate_per_s,
        count: (plan.rate_per_s * span.as_secs_f64()).round() as usize,
        timeout: plan.timeout,
        keepalive_clients: plan.keepalive_clients,
        keepalive_period: plan.keepalive_period,
        bodies: versions.bodies.clone(),
        own,
    };
    let (pid, admin) = (envoy.pid, envoy.admin_port);
    let start = Instant::now();
    let (driven, swapped) = std::thread::scope(|s| {
        let h = s.spawn(|| swapper(&w, plan, start, admin, pid, progress));
        let d = traffic::drive(&load, start);
        (d, h.join().unwrap_or_default())
    });
    let (samples, keepalive) = driven?;
    let alive = envoy.is_running();
    let stats_after = stats(admin);
    envoy.stop();
    if let Some(e) = &swapped.error {
        anyhow::bail!("{e}");
    }
    crate::sys::check_interrupted()?;
    Ok(summarise(
        ctx,
        plan,
        mode,
        &versions,
        &samples,
        swapped,
        keepalive,
        stats_after,
        alive,
        &config,
    ))
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    ctx: &Context,
    plan: &LifecyclePlan,
    mode: &str,
    v: &Versions,
    samples: &[crate::bench::failure::client::Sample],
    s: Swapped,
    keepalive: KeepAlive,
    stats_after: BTreeMap<String, u64>,
    alive: bool,
    config: &Path,
) -> SwapRun {
    let (figures, failed, inside, outside) =
        analyse::per_swap(samples, &s.at, &v.bodies, plan.window);
    let mut prev = s.stats_before.clone();
    let per_swap: Vec<SwapRecord> = figures
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let st = s.stats.get(i).cloned().unwrap_or_default();
            let delta = increases(&prev, &st);
            prev = st;
            SwapRecord {
                k: i + 1,
                at_ms: s.at[i].as_secs_f64() * 1000.0,
                expected_body: v.bodies[(i + 1) % 2].clone(),
                requests: f.requests,
                new_body: f.new_body,
                old_body: f.old_body,
                failed: f.failed,
                switch_ms: f.switch_ms,
                max_latency_inside_ms: f.max_latency_inside_ms,
                rss_kib: s.rss.get(i).copied().flatten(),
                stats_delta: delta,
            }
        })
        .collect();
    let n = per_swap.len();
    let mut switch: Vec<f64> = per_swap.iter().filter_map(|r| r.switch_ms).collect();
    switch.sort_by(f64::total_cmp);
    let (xs, ys): (Vec<f64>, Vec<f64>) = std::iter::once(s.rss_before)
        .chain(per_swap.iter().map(|r| r.rss_kib))
        .enumerate()
        .filter_map(|(i, r)| r.map(|r| (i as f64, r as f64)))
        .unzip();
    SwapRun {
        mode: mode.into(),
        description: describe(mode).into(),
        swaps_done: n,
        requests: samples.len(),
        failed_per_swap_mean: per_swap.iter().map(|r| r.failed.total as f64).sum::<f64>()
            / n.max(1) as f64,
        swaps_with_failures: per_swap.iter().filter(|r| r.failed.total > 0).count(),
        failed,
        switch_ms_median: (!switch.is_empty()).then(|| crate::stats::median(&switch)),
        switch_ms_max: switch.last().copied(),
        swaps_not_switched: per_swap.iter().filter(|r| r.switch_ms.is_none()).count(),
        latency_inside: inside,
        latency_outside: outside,
        keepalive,
        rss_before_kib: s.rss_before,
        rss_after_kib: per_swap.last().and_then(|r| r.rss_kib),
        rss_slope_kib_per_swap: crate::stats::slope_interval(&xs, &ys),
        stats_before: s.stats_before,
        stats_after,
        envoy_alive_after: alive,
        per_swap,
        config: ctx.rel(config),
        log: ctx.rel(&config.with_extension("log")),
    }
}

fn describe(mode: &str) -> &'static str {
    match mode {
        "ecds-config" => "ECDS from a watched file: the filter's configuration (`content`) alternates v1/v2, same module",
        "ecds-module" => "ECDS from a watched file: the module alternates between two files of the same plugin (bytes differ by a custom section), each with its own `content`",
        _ => "LDS from a watched file: the whole listener replaced, its filter's `content` alternating v1/v2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_section_keeps_the_module_valid_and_changes_its_bytes() {
        let m = b"\0asm\x01\0\0\0".to_vec();
        let b = with_custom_section(&m, "x", b"yz");
        assert_eq!(&b[..8], &m[..]);
        assert_eq!(&b[8..], &[0, 4, 1, b'x', b'y', b'z']);
    }
}
