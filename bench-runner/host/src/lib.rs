//! A small, deterministic proxy-wasm ABI 0.2.1 host for measuring plugins in-process, without Envoy
//! and its ~85 µs of networking. It runs the same modules as Envoy on three engines: wasmtime with
//! Cranelift (optimising JIT), wasmtime with Winch (baseline JIT) and wasmi (interpreter).
//!
//! The host does what Envoy 1.40 does for the calls the suite's plugins make (configuration buffers,
//! request header maps, `xds.route_name`, local replies, logging) and answers the WASI preview-1
//! calls of Go's and AssemblyScript's runtimes with fixed values (no files, no sockets, a virtual
//! clock, seeded random bytes). A trap or `proc_exit` in the plugin is an [`Error`], never a panic;
//! a bad pointer or length from the plugin gets an error status (`InvalidMemoryAccess`).
//!
//! ```no_run
//! use plugin_host::{EngineKind, Request, Vm};
//! let wasm = std::fs::read("plugin.wasm").unwrap();
//! let mut vm = Vm::load(EngineKind::Cranelift, &wasm, br#"{"content":"hi"}"#).unwrap();
//! let out = vm.request(&Request::get("localhost", "/", Some("default/other"))).unwrap();
//! assert_eq!(out.local_reply.unwrap().body, b"hi");
//! ```

pub mod abi;
pub mod calls;
pub mod engines;
pub mod state;
pub mod wasi;
pub mod workload;

pub use calls::{CallCount, HeaderOp, HostCalls, HostFn};
use engines::{wasmi_backend, wasmtime_backend, Backend, CallError, Export};
use state::Phase;
pub use state::{HeaderMap, LocalReply, LogLine};

/// The engines this host can run a module on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// wasmtime, Cranelift optimising compiler.
    Cranelift,
    /// wasmtime, Winch single-pass baseline compiler.
    Winch,
    /// wasmi, a pure interpreter.
    Wasmi,
}

impl EngineKind {
    pub const ALL: [EngineKind; 3] = [EngineKind::Cranelift, EngineKind::Winch, EngineKind::Wasmi];

    /// Stable id used in results.json and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            EngineKind::Cranelift => "wasmtime-cranelift",
            EngineKind::Winch => "wasmtime-winch",
            EngineKind::Wasmi => "wasmi",
        }
    }

    pub fn from_id(s: &str) -> Option<EngineKind> {
        EngineKind::ALL.into_iter().find(|k| k.id() == s)
    }

    pub fn description(self) -> &'static str {
        match self {
            EngineKind::Cranelift => "wasmtime 48, Cranelift optimising JIT",
            EngineKind::Winch => "wasmtime 48, Winch baseline JIT",
            EngineKind::Wasmi => "wasmi 2, interpreter (functions translated lazily on first call)",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot create the engine: {0}")]
    Engine(String),
    #[error("cannot compile the module: {0}")]
    Compile(String),
    #[error("cannot instantiate the module: {0}")]
    Instantiate(String),
    #[error("the plugin trapped in {during}: {message}")]
    Trap {
        during: &'static str,
        message: String,
    },
    #[error("the plugin exited with status {code} in {during}")]
    Exit { during: &'static str, code: i32 },
    #[error("{0}")]
    Signature(String),
    #[error("the module does not export {0}; is it a proxy-wasm plugin?")]
    MissingExport(&'static str),
    #[error("proxy_on_vm_start returned false{0}")]
    StartFailed(String),
    #[error("the plugin rejected its configuration (proxy_on_configure returned false){0}")]
    Rejected(String),
    #[error("this VM failed earlier ({0}); create a new one")]
    Failed(String),
}

/// A compiling (or interpreting) engine; create one per kind and reuse it for every module.
pub struct Engine {
    kind: EngineKind,
    inner: EngineInner,
}

enum EngineInner {
    Wasmtime(wasmtime::Engine),
    Wasmi(wasmi::Engine),
}

impl Engine {
    pub fn new(kind: EngineKind) -> Result<Engine, Error> {
        let inner = match kind {
            EngineKind::Cranelift => {
                EngineInner::Wasmtime(wasmtime_backend::engine(false).map_err(Error::Engine)?)
            }
            EngineKind::Winch => {
                EngineInner::Wasmtime(wasmtime_backend::engine(true).map_err(Error::Engine)?)
            }
            EngineKind::Wasmi => EngineInner::Wasmi(wasmi_backend::engine()),
        };
        Ok(Engine { kind, inner })
    }

    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// Compiles (validates, for wasmi) a module and links the host functions to its imports.
    pub fn compile(&self, wasm: &[u8]) -> Result<Module, Error> {
        let inner = match &self.inner {
            EngineInner::Wasmtime(e) => ModuleInner::Wasmtime(wasmtime_backend::compile(e, wasm)?),
            EngineInner::Wasmi(e) => ModuleInner::Wasmi(wasmi_backend::compile(e, wasm)?),
        };
        Ok(Module {
            kind: self.kind,
            inner,
        })
    }
}

/// A compiled module, ready to be instantiated any number of times.
pub struct Module {
    kind: EngineKind,
    inner: ModuleInner,
}

enum ModuleInner {
    Wasmtime(wasmtime_backend::Compiled),
    Wasmi(wasmi_backend::Compiled),
}

impl Module {
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// Where this module's machine code lies in this process, for profilers that cannot name
    /// JIT-compiled code (callgrind sees addresses only); None on wasmi, which interprets.
    pub fn code_map(&self) -> Option<CodeMap> {
        match &self.inner {
            ModuleInner::Wasmtime(c) => Some(wasmtime_backend::code_map(c)),
            ModuleInner::Wasmi(_) => None,
        }
    }

    /// A fresh instance (its start function, if any, has run) with the suite's filter identity;
    /// call [`Vm::start`] next.
    pub fn instantiate(&self) -> Result<Vm, Error> {
        self.instantiate_as(&PluginIdentity::default())
    }

    /// A fresh instance serving `id` as the `plugin_name`, `plugin_root_id` and `plugin_vm_id`
    /// properties (set before the start function runs).
    pub fn instantiate_as(&self, id: &PluginIdentity) -> Result<Vm, Error> {
        let props = vec![
            (b"plugin_name".to_vec(), id.name.as_bytes().to_vec()),
            (b"plugin_root_id".to_vec(), id.root_id.as_bytes().to_vec()),
            (b"plugin_vm_id".to_vec(), id.vm_id.as_bytes().to_vec()),
        ];
        let backend: Box<dyn Backend> = match &self.inner {
            ModuleInner::Wasmtime(c) => Box::new(wasmtime_backend::instantiate(c, props)?),
            ModuleInner::Wasmi(c) => Box::new(wasmi_backend::instantiate(c, props)?),
        };
        Ok(Vm {
            backend,
            kind: self.kind,
            root_id: 1,
            next_id: 2,
            started: false,
            failed: None,
        })
    }
}

/// A module's compiled code: its whole text section (the functions and the engine's trampolines
/// between them) and each function of the module, with its name-section name where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMap {
    /// Start address and length in bytes of the text section.
    pub text: (usize, usize),
    /// The module's functions in address order.
    pub functions: Vec<CodeRange>,
}

/// One function's machine code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRange {
    pub start: usize,
    pub len: usize,
    /// Its index in the module's function index space (imports first).
    pub index: u32,
    /// Its name in the module's name section, None when the module has none for it (stripped).
    pub name: Option<String>,
}

/// The Wasm filter's identity as Envoy serves it through properties; the default is the suite's
/// (envoy/filters/wasm.yaml: name, root_id and vm_id `mock-response`). AssemblyScript's SDK picks
/// its root context by `plugin_root_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginIdentity {
    pub name: String,
    pub root_id: String,
    pub vm_id: String,
}

impl Default for PluginIdentity {
    fn default() -> Self {
        PluginIdentity {
            name: "mock-response".into(),
            root_id: "mock-response".into(),
            vm_id: "mock-response".into(),
        }
    }
}

/// One request as Envoy would present it to the filter (an HTTP/1.1 GET without body, unless
/// `body` holds chunks).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The Host header, which Envoy turns into `:authority`.
    pub authority: &'a str,
    /// The matched route's name, served as the property `xds.route_name`; None: no route.
    pub route_name: Option<&'a str>,
    /// The request body as it arrives, one slice per `proxy_on_request_body` call (the last one
    /// with end of stream); empty: no body, the headers end the stream.
    pub body: &'a [&'a [u8]],
}

impl<'a> Request<'a> {
    pub fn get(authority: &'a str, path: &'a str, route_name: Option<&'a str>) -> Request<'a> {
        Request {
            method: "GET",
            path,
            authority,
            route_name,
            body: &[],
        }
    }
}

/// What `proxy_on_request_headers` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    /// StopIteration (1) or another non-zero filter status.
    Pause(i32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub action: Action,
    /// Set when the plugin called `proxy_send_local_response`.
    pub local_reply: Option<LocalReply>,
    /// Every host call the plugin made for this request (from context create to delete), by name,
    /// with the bytes copied in and out.
    pub calls: HostCalls,
    /// The request-header operations in order, while [`Vm::set_tracing`] is on (else empty).
    pub header_ops: Vec<HeaderOp>,
    /// The request's `proxy_log` calls by level (0 trace, 1 debug, 2 info, 3 warn, 4 error, 5
    /// critical).
    pub log_levels: [u32; 6],
}

/// One plugin VM: an instance plus the host state, driven through the proxy-wasm lifecycle.
pub struct Vm {
    backend: Box<dyn Backend>,
    kind: EngineKind,
    root_id: i32,
    next_id: i32,
    started: bool,
    failed: Option<String>,
}

impl Vm {
    /// Compiles, instantiates, starts and configures in one go; a rejected configuration is
    /// [`Error::Rejected`] carrying the plugin's last log line.
    pub fn load(kind: EngineKind, wasm: &[u8], plugin_config: &[u8]) -> Result<Vm, Error> {
        let mut vm = Engine::new(kind)?.compile(wasm)?.instantiate()?;
        if !vm.start(b"")? {
            return Err(Error::StartFailed(vm.last_log_suffix()));
        }
        if !vm.configure(plugin_config)? {
            return Err(Error::Rejected(vm.last_log_suffix()));
        }
        Ok(vm)
    }

    fn last_log_suffix(&self) -> String {
        self.logs()
            .last()
            .map(|l| format!(": {}", l.message))
            .unwrap_or_default()
    }

    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    fn call(
        &mut self,
        f: Export,
        args: &[i32],
        during: &'static str,
    ) -> Result<Option<i32>, Error> {
        if let Some(why) = &self.failed {
            return Err(Error::Failed(why.clone()));
        }
        match self.backend.call(f, args) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.backend.host().phase = Phase::Idle;
                let err = match e {
                    CallError::Exit(code) => Error::Exit { during, code },
                    CallError::Trap(message) => Error::Trap { during, message },
                    CallError::Signature(m) => Error::Signature(m),
                };
                self.failed = Some(err.to_string());
                Err(err)
            }
        }
    }

    fn call_if_exported(
        &mut self,
        f: Export,
        args: &[i32],
        during: &'static str,
    ) -> Result<Option<i32>, Error> {
        if self.backend.arity(f).is_some() {
            self.call(f, args, during)
        } else {
            Ok(None)
        }
    }

    /// Runs the runtime's initialiser (`_initialize`, else `_start`), creates the root context and
    /// calls `proxy_on_vm_start`; returns what that returned.
    pub fn start(&mut self, vm_config: &[u8]) -> Result<bool, Error> {
        if self.backend.arity(Export::ContextCreate).is_none() {
            return Err(Error::MissingExport("proxy_on_context_create"));
        }
        {
            let st = self.backend.host();
            st.vm_config = vm_config.to_vec();
        }
        if self.backend.arity(Export::Initialize).is_some() {
            self.call(Export::Initialize, &[], "_initialize")?;
        } else {
            self.call_if_exported(Export::Start, &[], "_start")?;
        }
        self.backend.host().phase = Phase::Configuring;
        let root = self.root_id;
        self.call(
            Export::ContextCreate,
            &[root, 0],
            "proxy_on_context_create (root)",
        )?;
        let ok = self
            .call_if_exported(
                Export::VmStart,
                &[root, vm_config.len() as i32],
                "proxy_on_vm_start",
            )?
            .is_none_or(|v| v != 0);
        self.backend.host().phase = Phase::Idle;
        self.started = true;
        Ok(ok)
    }

    /// Calls `proxy_on_configure` with `config` as the plugin configuration buffer.
    pub fn configure(&mut self, config: &[u8]) -> Result<bool, Error> {
        if !self.started && !self.start(b"")? {
            return Err(Error::StartFailed(self.last_log_suffix()));
        }
        {
            let st = self.backend.host();
            st.plugin_config = config.to_vec();
            st.phase = Phase::Configuring;
        }
        let root = self.root_id;
        let r = self.call_if_exported(
            Export::Configure,
            &[root, config.len() as i32],
            "proxy_on_configure",
        )?;
        self.backend.host().phase = Phase::Idle;
        Ok(r.is_none_or(|v| v != 0))
    }

    /// Adds another plugin to this VM, as Envoy does for listeners that share a `vm_id`: a new root
    /// context (context create, `proxy_on_vm_start`, `proxy_on_configure` with `config`). Returns
    /// its root context id, or None when the plugin rejected the configuration.
    pub fn add_root(&mut self, config: &[u8]) -> Result<Option<i32>, Error> {
        if !self.started && !self.start(b"")? {
            return Err(Error::StartFailed(self.last_log_suffix()));
        }
        let root = self.next_context_id();
        {
            let st = self.backend.host();
            st.plugin_config = config.to_vec();
            st.phase = Phase::Configuring;
        }
        let vm_config_len = self.backend.host_ref().vm_config.len() as i32;
        self.call(
            Export::ContextCreate,
            &[root, 0],
            "proxy_on_context_create (root)",
        )?;
        let started = self
            .call_if_exported(Export::VmStart, &[root, vm_config_len], "proxy_on_vm_start")?
            .is_none_or(|v| v != 0);
        let configured = started
            && self
                .call_if_exported(
                    Export::Configure,
                    &[root, config.len() as i32],
                    "proxy_on_configure",
                )?
                .is_none_or(|v| v != 0);
        self.backend.host().phase = Phase::Idle;
        Ok(configured.then_some(root))
    }

    fn next_context_id(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(2);
        id
    }

    /// One request through the filter: context create, request headers (end of stream), done, log,
    /// delete. A trap in any of them is an error and fails the VM (as Envoy's fail-closed policy).
    pub fn request(&mut self, req: &Request<'_>) -> Result<Outcome, Error> {
        self.request_in(self.root_id, req)
    }

    /// The root context that [`Vm::configure`] configures and [`Vm::request`] uses.
    pub fn request_root(&self) -> i32 {
        self.root_id
    }

    /// [`Vm::request`] for the plugin of root context `root` (see [`Vm::add_root`]).
    pub fn request_in(&mut self, root: i32, req: &Request<'_>) -> Result<Outcome, Error> {
        let id = self.next_context_id();
        let header_count = {
            let st = self.backend.host();
            let h = &mut st.request_headers.pairs;
            let fixed = [
                (":authority", req.authority),
                (":path", req.path),
                (":method", req.method),
                (":scheme", "http"),
                ("user-agent", "plugin-host"),
                ("x-forwarded-proto", "http"),
                ("x-request-id", "00000000-0000-4000-8000-000000000000"),
            ];
            // Reuse the previous request's buffers: the host's own cost per request stays small
            // next to the plugin's.
            h.truncate(fixed.len());
            for (i, (k, v)) in fixed.iter().enumerate() {
                match h.get_mut(i) {
                    Some((hk, hv)) => {
                        hk.clear();
                        hk.extend_from_slice(k.as_bytes());
                        hv.clear();
                        hv.extend_from_slice(v.as_bytes());
                    }
                    None => h.push((k.as_bytes().to_vec(), v.as_bytes().to_vec())),
                }
            }
            st.response_headers.pairs.clear();
            match (req.route_name, &mut st.route_name) {
                (Some(r), Some(buf)) => {
                    buf.clear();
                    buf.extend_from_slice(r.as_bytes());
                }
                (r, slot) => *slot = r.map(|r| r.as_bytes().to_vec()),
            }
            st.local_reply = None;
            st.calls.reset();
            st.log_levels = [0; 6];
            if let Some(t) = &mut st.trace {
                t.clear();
            }
            st.phase = Phase::Request;
            st.request_headers.pairs.len() as i32
        };
        self.call(
            Export::ContextCreate,
            &[id, root],
            "proxy_on_context_create",
        )?;
        let end_of_stream = i32::from(req.body.is_empty());
        let action = match self.backend.arity(Export::RequestHeaders) {
            Some((2, _)) => self.call(
                Export::RequestHeaders,
                &[id, header_count],
                "proxy_on_request_headers",
            )?,
            Some(_) => self.call(
                Export::RequestHeaders,
                &[id, header_count, end_of_stream],
                "proxy_on_request_headers",
            )?,
            None => Some(0),
        };
        self.request_body(id, req.body)?;
        self.call_if_exported(Export::Done, &[id], "proxy_on_done")?;
        self.call_if_exported(Export::Log, &[id], "proxy_on_log")?;
        self.call_if_exported(Export::Delete, &[id], "proxy_on_delete")?;
        let st = self.backend.host();
        st.phase = Phase::Idle;
        Ok(Outcome {
            action: match action.unwrap_or(0) {
                0 => Action::Continue,
                n => Action::Pause(n),
            },
            local_reply: st.local_reply.take(),
            calls: st.calls.snapshot(),
            header_ops: st.trace.as_mut().map(std::mem::take).unwrap_or_default(),
            log_levels: st.log_levels,
        })
    }

    /// Keeps every request's request-header operations with their keys in [`Outcome::header_ops`]
    /// (off by default: the call counts alone cost nothing worth measuring).
    pub fn set_tracing(&mut self, on: bool) {
        self.backend.host().trace = on.then(Vec::new);
    }

    /// Delivers the body chunks as Envoy does: each call sees what is buffered (the chunks so far
    /// while the plugin answers StopIterationAndBuffer, else the new chunk alone); a local reply
    /// ends the stream, so no further callback follows.
    fn request_body(&mut self, id: i32, chunks: &[&[u8]]) -> Result<(), Error> {
        self.backend.host().request_body.clear();
        if self.backend.arity(Export::RequestBody).is_none() {
            return Ok(());
        }
        for (i, chunk) in chunks.iter().enumerate() {
            let len = {
                let st = self.backend.host();
                if st.local_reply.is_some() {
                    break;
                }
                st.request_body.extend_from_slice(chunk);
                st.request_body.len() as i32
            };
            let end = i32::from(i + 1 == chunks.len());
            let status = self.call(
                Export::RequestBody,
                &[id, len, end],
                "proxy_on_request_body",
            )?;
            if status != Some(1) {
                self.backend.host().request_body.clear();
            }
        }
        Ok(())
    }

    /// The request headers as the plugin left them after the last request.
    pub fn request_headers(&self) -> &HeaderMap {
        &self.backend.host_ref().request_headers
    }

    pub fn logs(&self) -> &[LogLine] {
        &self.backend.host_ref().logs
    }

    pub fn clear_logs(&mut self) {
        self.backend.host().logs.clear();
    }

    pub fn stdout(&self) -> &[u8] {
        &self.backend.host_ref().stdout
    }

    pub fn stderr(&self) -> &[u8] {
        &self.backend.host_ref().stderr
    }

    /// Serves `value` for a NUL-joined property path (e.g. b"plugin_name").
    pub fn set_property(&mut self, path: &[u8], value: &[u8]) {
        let props = &mut self.backend.host().properties;
        props.retain(|(k, _)| k != path);
        props.push((path.to_vec(), value.to_vec()));
    }

    /// Why the VM is unusable, if it trapped or exited.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }
}
