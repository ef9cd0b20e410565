//! One Envoy process under callgrind: start, check and warm every listener, then the windows.

use super::{Counting, Group, EXCLUDED_STATS};
use crate::bench::variants::Variant;
use crate::envoy::callgrind::{self, Control, ThreadCount};
use crate::envoy::session::{allocate_ports, Launch, Wrapped};
use crate::error::usage;
use crate::load::http1::{Connection, Verdict};
use crate::results::instructions::{InstrProcess, InstrWindow};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The ext_proc filter's configuration type.
const EXT_PROC_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor";

/// How long one request may take under valgrind before the listener is given up on.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The bootstrap fields of a counting Envoy: the `*_rq_time` histograms rejected (module docs).
fn bootstrap_extra() -> serde_json::Value {
    let patterns: Vec<serde_json::Value> = EXCLUDED_STATS
        .iter()
        .map(|s| serde_json::json!({ "suffix": s }))
        .collect();
    serde_json::json!({
        "stats_config": { "stats_matcher": { "exclusion_list": { "patterns": patterns } } }
    })
}

/// A keep-alive client that sends one request after another and checks every answer.
struct Client {
    rt: tokio::runtime::Runtime,
}

impl Client {
    fn new() -> anyhow::Result<Client> {
        Ok(Client {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        })
    }

    fn connect(&self, port: u16) -> anyhow::Result<Connection> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        self.rt
            .block_on(async {
                tokio::time::timeout(REQUEST_TIMEOUT, Connection::connect(addr)).await
            })
            .map_err(|_| anyhow::anyhow!("connecting to 127.0.0.1:{port} timed out"))?
            .map_err(|e| anyhow::anyhow!("cannot connect to 127.0.0.1:{port}: {e}"))
    }

    /// `n` requests on `conn`, `v`'s requests in turn (the suite's `GET /`, or what a plugin of
    /// your own is sent), each answer checked against `v`'s expectation.
    fn send(&self, conn: &mut Connection, v: &Variant, port: u16, n: u64) -> anyhow::Result<()> {
        let exchange = v.exchange();
        let wires: Vec<Vec<u8>> = exchange.requests.iter().map(|r| r.wire(false)).collect();
        for i in 0..n {
            if i % 50 == 0 {
                crate::sys::check_interrupted()?;
            }
            let wire = &wires[i as usize % wires.len()];
            let r = self.rt.block_on(async {
                tokio::time::timeout(REQUEST_TIMEOUT, conn.exchange(wire, &exchange.expect)).await
            });
            match r {
                Ok(Ok(Verdict::Ok)) => {}
                other => {
                    return Err(usage(format!(
                        "variant {} (127.0.0.1:{port}) under callgrind: request {} of {n} got {other:?} instead of {}; run `bench-runner conformance --only {}` to see why",
                        v.info.id,
                        i + 1,
                        exchange.expect.describe(),
                        v.info.implementation()
                    )))
                }
            }
        }
        Ok(())
    }
}

/// The worker (the thread with the most instructions) and the sum of the others.
fn split(counts: &[ThreadCount]) -> (u32, u64, u64) {
    let worker = counts
        .iter()
        .max_by_key(|c| c.instructions)
        .cloned()
        .unwrap_or(ThreadCount {
            thread: 0,
            instructions: 0,
        });
    let all: u64 = counts.iter().map(|c| c.instructions).sum();
    (
        worker.thread,
        worker.instructions,
        all - worker.instructions,
    )
}

/// Removes callgrind's files of one process (`<stem>.cg...`).
fn remove_dumps(dir: &std::path::Path, stem: &str) {
    let prefix = format!("{stem}.cg");
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Counts one group in one Envoy process (replicate `replicate`): the baseline, the A/A listener
/// and the group's variants.
pub fn count_process(c: &Counting, g: &Group, replicate: usize) -> anyhow::Result<InstrProcess> {
    let started = Instant::now();
    let mut variants = vec![Variant::baseline(), Variant::baseline_aa()];
    variants.extend(g.variants.iter().cloned());
    let stem = format!("instr-{}-{}", g.name, replicate + 1);
    let ports = allocate_ports(variants.len() + 1, None)?;
    let listeners = variants
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| v.listener(*p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let envoy_out = c.out.join(format!("{stem}.cg"));
    let processor_out = c.out.join(format!("{stem}.cg-extproc"));
    let wrapped = Wrapped {
        envoy: callgrind::wrapper(&envoy_out, &c.out.join(format!("{stem}.valgrind.log"))),
        processor: callgrind::wrapper(
            &processor_out,
            &c.out.join(format!("{stem}-extproc.valgrind.log")),
        ),
        bootstrap: bootstrap_extra(),
        // Under valgrind a processor's answer takes longer than ext_proc's default 200 ms message
        // timeout (every request got 504): the counting Envoy waits up to 30 s.
        typed_configs: vec![(
            EXT_PROC_TYPE.into(),
            serde_json::json!({ "message_timeout": "30s" }),
        )],
    };
    let launch = Launch {
        project: c.project,
        envoy: c.envoy,
        dir: c.out,
        stem: &stem,
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let outcome = (|| {
        let mut envoy = launch.spawn_wrapped(&listeners, &wrapped)?;
        launch.wait_ready(&mut envoy).map_err(|e| {
            usage(format!(
                "Envoy under callgrind ({} listeners of {}) did not start: {e:#} (valgrind's own log: {})",
                variants.len(),
                g.name,
                c.out.join(format!("{stem}.valgrind.log")).display()
            ))
        })?;
        let ready_s = started.elapsed().as_secs_f64();
        let client = Client::new()?;
        for (v, port) in variants.iter().zip(&ports[1..]) {
            let mut conn = client.connect(*port)?;
            client.send(&mut conn, v, *port, c.protocol.warmup.max(1))?;
        }
        let envoy_ctl = Control {
            pid: envoy.pid,
            out_file: envoy_out.clone(),
        };
        let processor_ctl = envoy.processor.as_ref().map(|p| Control {
            pid: p.pid,
            out_file: processor_out.clone(),
        });
        envoy_ctl.instrumentation_on()?;
        if let Some(p) = &processor_ctl {
            p.instrumentation_on()?;
        }
        let mut rng = crate::stats::Rng::new(crate::stats::seed_for(c.seed, &stem, 29));
        let mut windows = Vec::new();
        for window in 0..c.protocol.windows {
            let mut order: Vec<usize> = (0..variants.len()).collect();
            rng.shuffle(&mut order);
            for (pos, &i) in order.iter().enumerate() {
                let (v, port) = (&variants[i], ports[i + 1]);
                let mut conn = client.connect(port)?;
                // accepting the connection happens before the zero
                client.send(&mut conn, v, port, 1)?;
                let t = Instant::now();
                envoy_ctl.zero()?;
                if let Some(p) = &processor_ctl {
                    p.zero()?;
                }
                client.send(&mut conn, v, port, c.protocol.requests)?;
                let hint = format!("w{window}-{}", i);
                let counts = envoy_ctl.dump(&hint)?;
                let processor = match (&processor_ctl, &v.kind) {
                    (Some(p), crate::bench::variants::Kind::ExtProc { .. }) => {
                        Some(p.dump(&hint)?.iter().map(|t| t.instructions).sum())
                    }
                    (Some(p), _) => {
                        p.dump(&hint)?;
                        None
                    }
                    _ => None,
                };
                let wall_s = t.elapsed().as_secs_f64();
                drop(conn);
                if !envoy.is_running() {
                    anyhow::bail!(
                        "Envoy under callgrind ({}) exited while counting; see {}",
                        g.name,
                        launch.log_path().display()
                    );
                }
                let (worker_thread, worker, other_threads) = split(&counts);
                windows.push(InstrWindow {
                    window,
                    order: pos,
                    variant: v.info.id.clone(),
                    requests: c.protocol.requests,
                    worker_thread,
                    worker,
                    other_threads,
                    processor,
                    wall_s,
                });
            }
        }
        envoy.stop();
        Ok(InstrProcess {
            group: g.name.clone(),
            replicate,
            variants: variants.iter().map(|v| v.info.id.clone()).collect(),
            ready_s,
            wall_s: started.elapsed().as_secs_f64(),
            windows,
        })
    })();
    remove_dumps(c.out, &stem);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_is_the_busiest_thread_and_the_rest_is_kept_apart() {
        let t = |thread, instructions| ThreadCount {
            thread,
            instructions,
        };
        assert_eq!(
            split(&[t(1, 35_000), t(2, 5_000), t(7, 74_000_000)]),
            (7, 74_000_000, 40_000)
        );
        let extra = bootstrap_extra();
        assert_eq!(
            extra.pointer("/stats_config/stats_matcher/exclusion_list/patterns/0/suffix"),
            Some(&serde_json::json!("_rq_time"))
        );
    }
}
