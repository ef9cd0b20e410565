//! Engine bindings. The host functions are listed once here ([`for_each_host_fn`]) and each engine
//! registers them with a one-line wrapper; what the engines share beyond that (the [`abi::Env`] of a
//! call, the exports' typed fast paths, the instance behind [`Backend`]) is written once in [`common`]
//! over the few engine calls each backend provides. A VM is then driven through [`Backend`].
//!
//! [`abi::Env`]: crate::abi::Env

pub mod common;
pub mod wasmi_backend;
pub mod wasmtime_backend;

use crate::calls::HostFn;
use crate::state::HostState;

/// Calls `$cb!($ctx, "module", "name", path::to::fn, (arg: type, ...))` for every host function (all
/// return an i32 status but `proc_exit`, which never returns). WASI functions are bound under both
/// preview-1 module names.
macro_rules! for_each_host_fn {
    ($cb:ident, $ctx:ident) => {
        $crate::engines::for_each_host_fn!(@env $cb, $ctx);
        $crate::engines::for_each_host_fn!(@wasi $cb, $ctx, "wasi_snapshot_preview1");
        $crate::engines::for_each_host_fn!(@wasi $cb, $ctx, "wasi_unstable");
    };
    (@env $cb:ident, $ctx:ident) => {
        $cb!($ctx, "env", "proxy_log", crate::abi::proxy_log, (l: i32, p: i32, n: i32));
        $cb!($ctx, "env", "proxy_get_log_level", crate::abi::proxy_get_log_level, (r: i32));
        $cb!($ctx, "env", "proxy_set_tick_period_milliseconds", crate::abi::proxy_set_tick_period_milliseconds, (t: i32));
        $cb!($ctx, "env", "proxy_get_current_time_nanoseconds", crate::abi::proxy_get_current_time_nanoseconds, (r: i32));
        $cb!($ctx, "env", "proxy_get_property", crate::abi::proxy_get_property, (p: i32, n: i32, rp: i32, rn: i32));
        $cb!($ctx, "env", "proxy_set_property", crate::abi::proxy_set_property, (p: i32, n: i32, vp: i32, vn: i32));
        $cb!($ctx, "env", "proxy_get_buffer_bytes", crate::abi::proxy_get_buffer_bytes, (k: i32, s: i32, m: i32, rp: i32, rn: i32));
        $cb!($ctx, "env", "proxy_get_buffer_status", crate::abi::proxy_get_buffer_status, (k: i32, lp: i32, fp: i32));
        $cb!($ctx, "env", "proxy_set_buffer_bytes", crate::abi::proxy_set_buffer_bytes, (k: i32, s: i32, n: i32, dp: i32, dn: i32));
        $cb!($ctx, "env", "proxy_get_header_map_value", crate::abi::proxy_get_header_map_value, (k: i32, kp: i32, kn: i32, rp: i32, rn: i32));
        $cb!($ctx, "env", "proxy_add_header_map_value", crate::abi::proxy_add_header_map_value, (k: i32, kp: i32, kn: i32, vp: i32, vn: i32));
        $cb!($ctx, "env", "proxy_replace_header_map_value", crate::abi::proxy_replace_header_map_value, (k: i32, kp: i32, kn: i32, vp: i32, vn: i32));
        $cb!($ctx, "env", "proxy_remove_header_map_value", crate::abi::proxy_remove_header_map_value, (k: i32, kp: i32, kn: i32));
        $cb!($ctx, "env", "proxy_get_header_map_pairs", crate::abi::proxy_get_header_map_pairs, (k: i32, rp: i32, rn: i32));
        $cb!($ctx, "env", "proxy_set_header_map_pairs", crate::abi::proxy_set_header_map_pairs, (k: i32, p: i32, n: i32));
        $cb!($ctx, "env", "proxy_get_header_map_size", crate::abi::proxy_get_header_map_size, (k: i32, r: i32));
        $cb!($ctx, "env", "proxy_send_local_response", crate::abi::proxy_send_local_response,
            (s: i32, dp: i32, dn: i32, bp: i32, bn: i32, hp: i32, hn: i32, g: i32));
        $cb!($ctx, "env", "proxy_continue_stream", crate::abi::proxy_continue_stream, (s: i32));
        $cb!($ctx, "env", "proxy_close_stream", crate::abi::proxy_close_stream, (s: i32));
        $cb!($ctx, "env", "proxy_continue_request", crate::abi::proxy_continue_request, ());
        $cb!($ctx, "env", "proxy_continue_response", crate::abi::proxy_continue_response, ());
        $cb!($ctx, "env", "proxy_done", crate::abi::proxy_done, ());
        $cb!($ctx, "env", "proxy_set_effective_context", crate::abi::proxy_set_effective_context, (c: i32));
        $cb!($ctx, "env", "proxy_get_status", crate::abi::proxy_get_status, (c: i32, mp: i32, mn: i32));
    };
    (@wasi $cb:ident, $ctx:ident, $m:literal) => {
        $cb!($ctx, $m, "args_get", crate::wasi::args_get, (a: i32, b: i32));
        $cb!($ctx, $m, "args_sizes_get", crate::wasi::args_sizes_get, (a: i32, b: i32));
        $cb!($ctx, $m, "environ_get", crate::wasi::environ_get, (a: i32, b: i32));
        $cb!($ctx, $m, "environ_sizes_get", crate::wasi::environ_sizes_get, (a: i32, b: i32));
        $cb!($ctx, $m, "clock_time_get", crate::wasi::clock_time_get, (id: i32, p: i64, r: i32));
        $cb!($ctx, $m, "clock_res_get", crate::wasi::clock_res_get, (id: i32, r: i32));
        $cb!($ctx, $m, "fd_write", crate::wasi::fd_write, (fd: i32, i: i32, n: i32, r: i32));
        $cb!($ctx, $m, "fd_read", crate::wasi::fd_read, (fd: i32, i: i32, n: i32, r: i32));
        $cb!($ctx, $m, "fd_close", crate::wasi::fd_close, (fd: i32));
        $cb!($ctx, $m, "fd_seek", crate::wasi::fd_seek, (fd: i32, o: i64, wh: i32, r: i32));
        $cb!($ctx, $m, "fd_fdstat_get", crate::wasi::fd_fdstat_get, (fd: i32, r: i32));
        $cb!($ctx, $m, "fd_fdstat_set_flags", crate::wasi::fd_fdstat_set_flags, (fd: i32, f: i32));
        $cb!($ctx, $m, "fd_prestat_get", crate::wasi::fd_prestat_get, (fd: i32, r: i32));
        $cb!($ctx, $m, "fd_prestat_dir_name", crate::wasi::fd_prestat_dir_name, (fd: i32, p: i32, n: i32));
        $cb!($ctx, $m, "random_get", crate::wasi::random_get, (p: i32, n: i32));
        $cb!($ctx, $m, "sched_yield", crate::wasi::sched_yield, ());
        $cb!($ctx, $m, "poll_oneoff", crate::wasi::poll_oneoff, (i: i32, o: i32, n: i32, r: i32));
        $cb!($ctx, $m, "proc_exit", crate::wasi::proc_exit, (code: i32));
    };
}
pub(crate) use for_each_host_fn;

/// Every (module, name) the host defines itself.
pub fn defined_imports() -> Vec<(&'static str, &'static str)> {
    host_fns().iter().map(|f| (f.module, f.name)).collect()
}

/// Every host function, in the order of [`for_each_host_fn`] (the index a [`Tally`] counts by).
///
/// [`Tally`]: crate::calls::Tally
pub fn host_fns() -> &'static [HostFn] {
    static FNS: std::sync::OnceLock<Vec<HostFn>> = std::sync::OnceLock::new();
    FNS.get_or_init(|| {
        let mut out = Vec::new();
        macro_rules! name {
            ($v:ident, $m:expr, $n:literal, $f:path, ($($a:ident: $t:ty),*)) => {
                $v.push(HostFn {
                    module: $m,
                    name: $n,
                });
            };
        }
        for_each_host_fn!(name, out);
        out
    })
}

/// The index of `module.name` in [`host_fns`] (looked up once, when a linker is built).
pub fn host_fn_index(module: &str, name: &str) -> usize {
    host_fns()
        .iter()
        .position(|f| f.module == module && f.name == name)
        .expect("every registered host function is in the list")
}

/// What an import the host does not define answers: Unimplemented for proxy-wasm, ENOSYS for WASI;
/// None: the import traps when called.
pub fn fallback_status(module: &str) -> Option<i32> {
    match module {
        "env" => Some(crate::abi::Status::Unimplemented as i32),
        "wasi_snapshot_preview1" | "wasi_unstable" => Some(crate::wasi::ENOSYS),
        _ => None,
    }
}

/// The plugin exports the host calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Initialize,
    Start,
    ContextCreate,
    VmStart,
    Configure,
    RequestHeaders,
    RequestBody,
    Done,
    Log,
    Delete,
}

impl Export {
    pub const ALL: [Export; 10] = [
        Export::Initialize,
        Export::Start,
        Export::ContextCreate,
        Export::VmStart,
        Export::Configure,
        Export::RequestHeaders,
        Export::RequestBody,
        Export::Done,
        Export::Log,
        Export::Delete,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Export::Initialize => "_initialize",
            Export::Start => "_start",
            Export::ContextCreate => "proxy_on_context_create",
            Export::VmStart => "proxy_on_vm_start",
            Export::Configure => "proxy_on_configure",
            Export::RequestHeaders => "proxy_on_request_headers",
            Export::RequestBody => "proxy_on_request_body",
            Export::Done => "proxy_on_done",
            Export::Log => "proxy_on_log",
            Export::Delete => "proxy_on_delete",
        }
    }
}

/// The allocator exports, in the order Envoy's host looks for them.
pub const ALLOCATORS: [&str; 2] = ["proxy_on_memory_allocate", "malloc"];

/// How a guest call ended when it did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    Exit(i32),
    Trap(String),
    /// The export's signature is not (i32...) -> (i32?).
    Signature(String),
}

/// One instantiated plugin in one engine.
pub trait Backend {
    /// Calls an export with i32 arguments; Ok(None) for a function without result.
    fn call(&mut self, f: Export, args: &[i32]) -> Result<Option<i32>, CallError>;
    /// (parameters, results) of an export, None when the plugin does not export it.
    fn arity(&self, f: Export) -> Option<(usize, usize)>;
    fn host(&mut self) -> &mut HostState;
    fn host_ref(&self) -> &HostState;
}
