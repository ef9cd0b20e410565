//! The probe before any load: one Envoy per plugin of your own (its listeners and the baseline's,
//! routed to the run's upstream), each stated request sent once to each listener. What the plugin
//! answered is printed; a plugin Envoy refuses (its log line quoted) or one that answers otherwise
//! than stated stops the run there, exit 2, in one line with the status and body it gave.

use super::OwnRun;
use crate::bench::variants::Variant;
use crate::envoy::session::{allocate_ports, Launch};
use crate::envoy::EnvoyBin;
use crate::error::usage;
use crate::load::request::{fetch, Answer, Request};
use crate::paths::Project;
use crate::results::own::ProbeRecord;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// How long one probe request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why Envoy refused a configuration, from its log: the first `[error]` or `[critical]` line
/// without its time, thread and source prefix, after the plugin's own last words when it logged any
/// before it (a Wasm plugin's `wasm log` lines: its reason for refusing its configuration).
pub fn refusal(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("][error][") || l.contains("][critical]["))?;
    let said = lines[..at].iter().rev().find_map(|l| {
        l.split_once("] wasm log ")
            .map(|(_, m)| message_of_wasm_log(m))
    });
    let error = message(lines[at]);
    Some(match said {
        Some(s) => format!("{error} (the plugin logged: {s})"),
        None => error,
    })
}

/// `[time][thread][level][logger] [source/file.cc:123] message` -> `message`.
fn message(l: &str) -> String {
    let msg = match l.find("] [") {
        Some(i) => match l[i + 3..].find("] ") {
            Some(j) => &l[i + 3 + j + 2..],
            None => l,
        },
        None => l,
    };
    msg.trim().to_string()
}

/// `VM_ID: message` -> `message`.
fn message_of_wasm_log(m: &str) -> String {
    m.split_once(": ").map_or(m, |(_, x)| x).trim().to_string()
}

/// Probes the listeners of one plugin (`variants`, all of the same plugin). Returns what each
/// request got from each.
pub(super) fn probe(
    project: &Project,
    envoy: &EnvoyBin,
    run: &OwnRun,
    variants: &[Variant],
    dir: &Path,
) -> anyhow::Result<Vec<ProbeRecord>> {
    let Some(first) = variants.first() else {
        return Ok(vec![]);
    };
    let given = match &first.kind {
        crate::bench::variants::Kind::Own { plugin, .. } => plugin.spec.given.clone(),
        _ => first.info.id.clone(),
    };
    let mut baseline = Variant::baseline();
    run.attach(std::slice::from_mut(&mut baseline));
    let mut all = vec![baseline];
    all.extend(variants.iter().cloned());
    let ports = allocate_ports(all.len() + 1, None)?;
    let stem = format!("probe-{}", first.info.id);
    let launch = Launch {
        project,
        envoy,
        dir,
        stem: &stem,
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let listeners = all
        .iter()
        .zip(&ports[1..])
        .map(|(v, p)| v.listener(*p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut e = match launch.start(&listeners) {
        Ok(e) => e,
        Err(err) if crate::error::is_interrupted(&err) => return Err(err),
        Err(err) => {
            let log = std::fs::read_to_string(launch.log_path()).unwrap_or_default();
            return Err(match refusal(&log) {
                Some(line) => usage(format!(
                    "{given}: Envoy refused it: {line} (log {})",
                    launch.log_path().display()
                )),
                None => err,
            });
        }
    };
    let mut out = vec![];
    let outcome = (|| -> anyhow::Result<()> {
        for (v, port) in all.iter().zip(&ports[1..]) {
            let x = v.exchange();
            for (i, req) in x.requests.iter().enumerate() {
                crate::sys::check_interrupted()?;
                let before = run.upstream.served_by_listener();
                let a = send(*port, req).map_err(|e| {
                    usage(format!(
                        "{}: {} got no whole answer from listener {} ({e}); see {}",
                        given,
                        req.line(),
                        v.info.id,
                        launch.log_path().display()
                    ))
                })?;
                let after = run.upstream.served_by_listener();
                let reached = after.get(&v.info.id) > before.get(&v.info.id);
                let ok = a.meets(&x.expect);
                if v.info.id == crate::results::BASELINE {
                    if !ok || !reached {
                        return Err(anyhow::anyhow!(
                            "the baseline listener answered {} with {} without reaching the runner's upstream as it should; see {}",
                            req.line(),
                            a.status,
                            launch.log_path().display()
                        ));
                    }
                    continue;
                }
                eprintln!(
                    "probe: {} {} -> {} \"{}\"{}{}",
                    v.info.id,
                    req.line(),
                    a.status,
                    a.body_excerpt(80),
                    if reached {
                        " (reached the upstream)"
                    } else {
                        " (answered by the plugin)"
                    },
                    if ok { "" } else { "  <- NOT as stated" }
                );
                if !ok {
                    return Err(usage(format!(
                        "{}: {} got status {} and body \"{}\"{} from {} ({}), where you stated {}: not measured (fix the plugin, --request or --expect)",
                        given,
                        req.line(),
                        a.status,
                        a.body_excerpt(120),
                        header_note(&a, &x.expect),
                        v.info.id,
                        if reached { "the request reached the upstream" } else { "the plugin answered itself" },
                        x.expect.describe()
                    )));
                }
                out.push(ProbeRecord {
                    variant: v.info.id.clone(),
                    request: i,
                    status: a.status,
                    body: a.body_excerpt(200),
                    body_bytes: a.body.len(),
                    reached_upstream: reached,
                    as_expected: ok,
                });
            }
        }
        Ok(())
    })();
    e.stop();
    outcome.map(|()| out)
}

/// ", header x: y" when the expectation names a header: what the answer had of it.
fn header_note(a: &Answer, expect: &crate::load::http1::Expectation) -> String {
    match &expect.header {
        Some(h) => match a.header(&h.name) {
            Some(v) => format!(", header `{}: {v}`", h.name),
            None => format!(", no `{}` header", h.name),
        },
        None => String::new(),
    }
}

fn send(port: u16, req: &Request) -> std::io::Result<Answer> {
    fetch(SocketAddr::from(([127, 0, 0, 1], port)), req, TIMEOUT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_is_the_first_error_line_without_its_prefix() {
        let log = "[2026-12-06 11:33:03.225][4359][info][main] [source/server/server.cc:1] starting\n\
                   [2026-12-06 11:33:03.225][4359][error][wasm] [source/extensions/common/wasm/wasm.cc:104] Wasm VM failed Failed to parse corrupted Wasm module\n\
                   [2026-12-06 11:33:03.225][4359][critical][main] [source/server/server.cc:449] error `Unable to create Wasm plugin ` initializing config";
        assert_eq!(
            super::refusal(log).as_deref(),
            Some("Wasm VM failed Failed to parse corrupted Wasm module")
        );
        assert_eq!(super::refusal("all fine\n"), None);
        let said = "[t][1][warning][wasm] [source/extensions/common/wasm/context.cc:1154] wasm log own-auth-v8: auth: invalid configuration: no keys\n\
                    [t][1][error][wasm] [source/extensions/common/wasm/wasm.cc:104] Wasm VM failed Failed to configure base Wasm plugin";
        assert_eq!(
            super::refusal(said).as_deref(),
            Some("Wasm VM failed Failed to configure base Wasm plugin (the plugin logged: auth: invalid configuration: no keys)")
        );
    }
}
