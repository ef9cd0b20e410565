//! Plugins of your own in a run (`run --plugin ...`, issue 31): made ready (folders built with the
//! suite's cached build, files hashed, processors started), shown the stated requests once each in
//! an Envoy of their own before any load (the probe: what they answered, refused unless it is what
//! was stated), then measured like the suite's implementations: as variants the run engine, the
//! footprint and every other engine take from the list like any other (kind `Own`, no special case
//! by name).
//!
//! In such a run every listener is sent the stated requests and every route forwards to the
//! runner's upstream (answering 200 `passthrough`): the baseline is the same requests through Envoy
//! to the same server without a plugin, so a plugin that lets requests through is measured against a
//! baseline that also reached the upstream, and the difference is the plugin alone. The suite's own
//! implementations beside it (`--only`) keep their contract: the mock answers itself, the headers
//! workload passes on to the upstream.

mod probe;

use crate::bench::variants::{Variant, PASSTHROUGH_BODY};
use crate::envoy::extproc::Processor;
use crate::envoy::EnvoyBin;
use crate::error::usage;
use crate::load::http1::{BodyCheck, Expectation};
use crate::load::request::Exchange;
use crate::paths::Project;
use crate::plugins::own::{ExtProcTarget, OwnKind, OwnPlugin, OwnSpec};
use crate::results::own::{ExpectRecord, OwnRecord, OwnSection, RequestRecord, UpstreamRecord};
use crate::upstream::Upstream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the command line said about plugins of your own, checked.
#[derive(Debug, Clone)]
pub struct OwnPlan {
    pub specs: Vec<OwnSpec>,
    /// The requests and the answer that counts (without `--request`: `GET /`, 200).
    pub exchange: Exchange,
    pub request_file: Option<PathBuf>,
}

/// A run's plugins of your own, ready, and what they need while the run lasts: the upstream and
/// the processors the runner started (stopped when this is dropped).
pub struct OwnRun {
    pub plugins: Vec<Arc<OwnPlugin>>,
    pub exchange: Arc<Exchange>,
    pub upstream: Upstream,
    _processors: Vec<Processor>,
    pub section: OwnSection,
}

/// Makes the plugins ready and probes them: builds the `--plugins-dir` folders, hashes every file,
/// starts the upstream and the processors given as commands, checks that processors given as
/// addresses listen, then shows every plugin each request once (an Envoy of its own per plugin,
/// in `<out>/own/`) and refuses (exit 2, one line) one that Envoy rejects or that answers otherwise
/// than stated. `wasm_runtimes`: the runtimes a Wasm plugin runs on.
pub fn prepare(
    project: &Project,
    envoy: &EnvoyBin,
    plan: &OwnPlan,
    wasm_runtimes: &[&str],
    out: &Path,
) -> anyhow::Result<OwnRun> {
    let dir = out.join("own");
    std::fs::create_dir_all(&dir).map_err(|e| {
        usage(format!(
            "cannot create {} ({e}); check --out",
            dir.display()
        ))
    })?;
    let upstream = Upstream::start(PASSTHROUGH_BODY).map_err(|e| {
        usage(format!(
            "cannot start the upstream server on 127.0.0.1 ({e})"
        ))
    })?;
    let mut processors = vec![];
    let mut plugins = vec![];
    for spec in &plan.specs {
        if let Some(p) = &spec.build {
            match crate::plugins::build_one(project, p, false)? {
                Ok(b) => eprintln!(
                    "plugin {}: {} ({} bytes, sha256 {})",
                    spec.name,
                    b.module.display(),
                    b.bytes,
                    &b.sha256[..12]
                ),
                Err(u) => {
                    return Err(usage(format!(
                        "{}: cannot be built: {}",
                        spec.given, u.reason
                    )))
                }
            }
        }
        let mut plugin = OwnPlugin::ready(spec.clone())?;
        match &spec.kind {
            OwnKind::ExtProc {
                target: ExtProcTarget::Command(argv),
            } => {
                let p = Processor::start_command(argv, &dir, &spec.name)?;
                eprintln!(
                    "plugin {}: started `{}` (pid {}) on 127.0.0.1:{}",
                    spec.name,
                    argv.join(" "),
                    p.pid,
                    p.port
                );
                plugin.port = Some(p.port);
                plugin.pid = Some(p.pid);
                processors.push(p);
            }
            OwnKind::ExtProc {
                target: ExtProcTarget::Addr(a),
            } if std::net::TcpStream::connect_timeout(a, std::time::Duration::from_secs(2))
                .is_err() =>
            {
                return Err(usage(format!(
                    "{}: nothing accepts connections on {a}; start your processor first (or give its command)",
                    spec.given
                )));
            }
            _ => {}
        }
        plugins.push(Arc::new(plugin));
    }
    let exchange = Arc::new(plan.exchange.clone());
    let mut run = OwnRun {
        plugins,
        exchange,
        upstream,
        _processors: processors,
        section: OwnSection {
            plugins: vec![],
            request_file: plan.request_file.as_ref().map(|p| p.display().to_string()),
            requests: plan.exchange.requests.iter().map(request_record).collect(),
            expect: expect_record(&plan.exchange.expect),
            probe: vec![],
            upstream: UpstreamRecord {
                addr: String::new(),
                body: PASSTHROUGH_BODY.into(),
                served_by_listener: Default::default(),
            },
        },
    };
    run.section.upstream.addr = run.upstream.addr().to_string();
    let mut probes = vec![];
    for p in &run.plugins {
        let variants: Vec<Variant> = variants_of(&run, p, wasm_runtimes);
        probes.extend(probe::probe(project, envoy, &run, &variants, &dir)?);
        run.section.plugins.push(record(p, &variants));
    }
    run.section.probe = probes;
    Ok(run)
}

/// A request as results record it.
pub fn request_record(r: &crate::load::request::Request) -> RequestRecord {
    RequestRecord {
        method: r.method.clone(),
        path: r.path.clone(),
        host: r.host.clone(),
        headers: r.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect(),
        body_bytes: r.body.len(),
    }
}

fn expect_record(e: &Expectation) -> ExpectRecord {
    ExpectRecord {
        status: e.status,
        body_contains: match &e.body {
            BodyCheck::Contains(b) | BodyCheck::Exact(b) => {
                Some(String::from_utf8_lossy(b).into_owned())
            }
            BodyCheck::Any => None,
        },
        header: e.header.as_ref().map(|h| match &h.value {
            Some(v) => format!("{}: {v}", h.name),
            None => h.name.clone(),
        }),
        text: e.describe(),
    }
}

fn record(p: &OwnPlugin, variants: &[Variant]) -> OwnRecord {
    let s = &p.spec;
    let (root_id, vm_config, filter_name, ext_proc) = match &s.kind {
        OwnKind::Wasm { root_id, vm_config } => (
            Some(root_id.clone()),
            (!vm_config.is_empty()).then(|| serde_json::Value::Object(vm_config.clone())),
            None,
            None,
        ),
        OwnKind::DynamicModule { filter_name } => (None, None, Some(filter_name.clone()), None),
        OwnKind::ExtProc { target } => (
            None,
            None,
            None,
            Some(match target {
                ExtProcTarget::Addr(a) => a.to_string(),
                ExtProcTarget::Command(argv) => format!(
                    "{} (started by the runner on 127.0.0.1:{})",
                    argv.join(" "),
                    p.port.unwrap_or(0)
                ),
            }),
        ),
        OwnKind::Lua => (None, None, None, None),
    };
    OwnRecord {
        name: s.name.clone(),
        kind: s.kind.name().into(),
        given: s.given.clone(),
        file: s.file.as_ref().map(|f| f.display().to_string()),
        file_name: p.file_name(),
        sha256: p.sha256.clone(),
        bytes: p.bytes,
        configuration: s.configuration.clone(),
        root_id,
        vm_config,
        filter_name,
        ext_proc,
        variants: variants.iter().map(|v| v.info.id.clone()).collect(),
    }
}

/// The variants of one plugin of your own: a Wasm plugin once per runtime, anything else once;
/// each routed to the run's upstream.
fn variants_of(run: &OwnRun, p: &Arc<OwnPlugin>, wasm_runtimes: &[&str]) -> Vec<Variant> {
    let mut out: Vec<Variant> = match p.spec.kind {
        OwnKind::Wasm { .. } => wasm_runtimes
            .iter()
            .map(|rt| Variant::own(p, Some(rt), run.exchange.clone()))
            .collect(),
        _ => vec![Variant::own(p, None, run.exchange.clone())],
    };
    for v in &mut out {
        v.upstream = Some(run.upstream.port());
    }
    out
}

impl OwnRun {
    /// Every variant of the run's plugins of your own.
    pub fn variants(&self, wasm_runtimes: &[&str]) -> Vec<Variant> {
        self.plugins
            .iter()
            .flat_map(|p| variants_of(self, p, wasm_runtimes))
            .collect()
    }

    /// Sends every listener of `variants` (the baseline's, the suite's implementations') the stated
    /// requests through the upstream: each keeps its own expected answer (`expect_body`, 200).
    pub fn attach(&self, variants: &mut [Variant]) {
        for v in variants {
            if v.exchange.is_none() {
                let expect = Expectation::ok_with(&v.expect_body);
                v.exchange = Some(Arc::new(self.exchange.expecting(expect)));
            }
            v.upstream = Some(self.upstream.port());
        }
    }

    /// The section for results.json, with what reached the upstream so far.
    pub fn section(&self) -> OwnSection {
        let mut s = self.section.clone();
        s.upstream.served_by_listener = self.upstream.served_by_listener();
        s
    }
}

/// The phases a plugin of your own is not measured in, each with why, for results.json's `skipped`:
/// the full profile's failure scenarios and lifecycle, which the suite's implementations run from
/// their contract (`crash_every`, a `content` per version), and the in-process micro-benchmarks.
pub fn skipped(run: &OwnRun, profile: &crate::results::Profile) -> Vec<crate::results::Skipped> {
    let mut out = vec![];
    for p in &run.plugins {
        let name = &p.spec.name;
        if profile.name == "full" {
            out.push(crate::results::Skipped {
                variant: format!("{name}-* (failure)"),
                reason: "failure scenarios: the suite makes its own implementations crash on purpose (`crash_every`) and cannot make yours fail where it does not; run `bench-runner failure` with your plugin and --crash-on REQUEST (a request that makes it fail)".into(),
            });
            out.push(crate::results::Skipped {
                variant: format!("{name}-* (lifecycle)"),
                reason: "lifecycle swaps: not run for plugins of your own in `run`; run `bench-runner lifecycle` with your plugin (its configuration re-sent and its module swapped under load, every answer judged against the stated one)".into(),
            });
        }
        if profile.name != "quick" {
            out.push(crate::results::Skipped {
                variant: format!("{name}-* (micro)"),
                reason: "in-process micro-benchmarks: the suite's proxy-wasm host drives its own implementations' contract only; a plugin of yours is measured in Envoy".into(),
            });
        }
    }
    out
}

/// The notes a run with plugins of your own adds to results.json.
pub fn notes(run: &OwnRun) -> Vec<String> {
    vec![format!(
        "Plugins of your own ({}): every listener of this run (the baseline, baseline-aa and each implementation) was sent the stated requests ({} of them, cycled through in order) and its routes forwarded to the runner's upstream on {} (200 `passthrough`), so the baseline reached the same server as a plugin that lets requests through: the added figures are the plugin alone. A plugin that answers itself is compared with that baseline too (its figures include the upstream round trip it saves). The suite's implementations keep their contract (the mock answers itself, the headers workload passes on); yours were held to the stated answer: {}.",
        run.plugins
            .iter()
            .map(|p| format!("{} = {} sha256 {}", p.spec.name, p.file_name(), p.sha256.as_deref().map_or("-", |h| &h[..12.min(h.len())])))
            .collect::<Vec<_>>()
            .join(", "),
        run.exchange.requests.len(),
        run.upstream.addr(),
        run.exchange.expect.describe()
    )]
}
