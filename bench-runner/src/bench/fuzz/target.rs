//! What an implementation did with one input, and the implementations: the reference (the runner's
//! contract code, `plugins::config`) and every Wasm plugin in-process through `plugin-host`.

use super::inputs::Input;
use crate::bench::calls::observed_work;
use crate::plugins::config::{self, Mode};
use plugin_host::{Action, Module, Request, Vm};

/// The reply to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A local reply from the plugin.
    Local { status: u32, body: Vec<u8> },
    /// The plugin let the request continue (the conformance routes answer 200 `passthrough`), after
    /// the `headers` workload on this many `x-bench-*` headers (0: none).
    Passthrough { header_work: u32 },
}

/// What an implementation did with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Rejected,
    Accepted(Vec<Reply>),
    /// Anything a correct plugin never does: a trap, a pause without a reply, a rejection without its
    /// one log line, headers left changed.
    Broken(String),
}

/// One implementation under test.
pub trait Target {
    fn name(&self) -> &str;
    /// One outcome per input, in order. Err only when the implementation cannot run at all here.
    fn run(&mut self, inputs: &[&Input]) -> anyhow::Result<Vec<Outcome>>;
}

/// What the contract says: `plugins::config::parse_str`, then `select` per request.
pub fn expected(input: &Input) -> Outcome {
    let Ok(cfg) = config::parse_str(&input.config_text()) else {
        return Outcome::Rejected;
    };
    Outcome::Accepted(
        input
            .requests
            .iter()
            .map(|r| match (cfg.select(r.route, &r.authority), cfg.mode) {
                (Some(reply), Mode::Mock) => Reply::Local {
                    status: 200,
                    body: reply.content.as_bytes().to_vec(),
                },
                // The fuzzer's requests have no body: the checksum of the empty body.
                (Some(reply), Mode::Body) => Reply::Local {
                    status: 200,
                    body: config::body_reply(&reply.content, b"").into_bytes(),
                },
                _ => Reply::Passthrough {
                    header_work: cfg.work(r.route, &r.authority).header_adds,
                },
            })
            .collect(),
    )
}

/// A plugin's compiled module; configurations are added to a VM as root contexts (as Envoy shares a
/// VM between plugins with one `vm_id`), and the VM is replaced after [`ROOTS_PER_VM`] of them or
/// after it failed.
pub struct WasmTarget {
    name: String,
    module: Module,
    vm: Option<(Vm, usize)>,
}

/// Configurations per VM before a fresh one is instantiated.
pub const ROOTS_PER_VM: usize = 64;

impl WasmTarget {
    pub fn new(name: &str, module: Module) -> WasmTarget {
        WasmTarget {
            name: name.to_string(),
            module,
            vm: None,
        }
    }

    fn vm(&mut self) -> Result<&mut Vm, String> {
        if self.vm.as_ref().is_none_or(|(_, n)| *n >= ROOTS_PER_VM) {
            let mut vm = self.module.instantiate().map_err(|e| e.to_string())?;
            if !vm.start(b"").map_err(|e| e.to_string())? {
                return Err("proxy_on_vm_start returned false".into());
            }
            vm.set_tracing(true);
            self.vm = Some((vm, 0));
        }
        let (vm, n) = self.vm.as_mut().expect("just set");
        *n += 1;
        Ok(vm)
    }

    fn one(&mut self, input: &Input) -> Outcome {
        let out = self.try_one(input);
        if matches!(out, Outcome::Broken(_)) {
            self.vm = None; // a trap fails the VM; start the next input on a fresh one
        }
        out
    }

    fn try_one(&mut self, input: &Input) -> Outcome {
        let vm = match self.vm() {
            Ok(vm) => vm,
            Err(e) => return Outcome::Broken(e),
        };
        vm.clear_logs();
        let root = match vm.add_root(input.config_text().as_bytes()) {
            Ok(Some(root)) => root,
            Ok(None) => {
                let lines = vm
                    .logs()
                    .iter()
                    .filter(|l| l.message.contains("mock-response: invalid configuration"))
                    .count();
                return if lines == 1 {
                    Outcome::Rejected
                } else {
                    Outcome::Broken(format!(
                        "rejected, but logged {lines} `mock-response: invalid configuration` lines (want 1)"
                    ))
                };
            }
            Err(e) => return Outcome::Broken(format!("configure: {e}")),
        };
        let mut replies = vec![];
        for r in &input.requests {
            match request(vm, root, r.route, &r.authority, r.path()) {
                Ok(reply) => replies.push(reply),
                Err(e) => return Outcome::Broken(e),
            }
        }
        Outcome::Accepted(replies)
    }
}

/// One request to the plugin of root context `root`.
fn request(
    vm: &mut Vm,
    root: i32,
    route: &str,
    authority: &str,
    path: &str,
) -> Result<Reply, String> {
    let req = Request::get(authority, path, Some(route));
    let out = vm
        .request_in(root, &req)
        .map_err(|e| format!("{path} (Host {authority:?}): {e}"))?;
    let work = observed_work(&out).map_err(|e| format!("{path} (Host {authority:?}): {e}"))?;
    if work.logs > 0 {
        return Err(format!(
            "{path} (Host {authority:?}): logged {} line(s) for one request",
            work.logs
        ));
    }
    match (out.local_reply, out.action) {
        (Some(_), _) if work.header_adds > 0 => Err(format!(
            "{path} (Host {authority:?}): replied after adding x-bench headers"
        )),
        (Some(r), _) => Ok(Reply::Local {
            status: r.status,
            body: r.body,
        }),
        (None, Action::Continue) => {
            let left = &vm.request_headers().pairs;
            if left.len() != 7 || left.iter().any(|(k, _)| k.starts_with(b"x-bench-")) {
                return Err(format!(
                    "{path} (Host {authority:?}): continued with the request headers changed"
                ));
            }
            Ok(Reply::Passthrough {
                header_work: work.header_adds,
            })
        }
        (None, Action::Pause(n)) => Err(format!(
            "{path} (Host {authority:?}): paused ({n}) without a local reply"
        )),
    }
}

impl Target for WasmTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, inputs: &[&Input]) -> anyhow::Result<Vec<Outcome>> {
        Ok(inputs.iter().map(|i| self.one(i)).collect())
    }
}

/// A target from a function (the tests' deliberately wrong implementations).
pub struct FnTarget<F: FnMut(&Input) -> Outcome> {
    pub name: String,
    pub f: F,
}

impl<F: FnMut(&Input) -> Outcome> Target for FnTarget<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, inputs: &[&Input]) -> anyhow::Result<Vec<Outcome>> {
        Ok(inputs.iter().map(|i| (self.f)(i)).collect())
    }
}

/// One line saying what an outcome was, for the divergence report.
pub fn describe(o: &Outcome, input: &Input) -> String {
    match o {
        Outcome::Rejected => "rejected the configuration".into(),
        Outcome::Broken(why) => format!("broke: {why}"),
        Outcome::Accepted(replies) => {
            let parts: Vec<String> = replies
                .iter()
                .zip(&input.requests)
                .map(|(r, q)| {
                    let what = match r {
                        Reply::Passthrough { header_work: 0 } => "passthrough".to_string(),
                        Reply::Passthrough { header_work: n } => {
                            format!("passthrough after the header work on {n} x-bench headers")
                        }
                        Reply::Local { status, body } => format!(
                            "{status} {:?}",
                            String::from_utf8_lossy(body)
                                .chars()
                                .take(40)
                                .collect::<String>()
                        ),
                    };
                    format!("{} (Host {:?}) -> {what}", q.path(), q.authority)
                })
                .collect();
            format!("accepted; {}", parts.join("; "))
        }
    }
}
