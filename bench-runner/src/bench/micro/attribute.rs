//! Where a callgrind profile of plugin-host's requests went: each function context's own
//! instructions are given to one part, decided by the first frame of its context (innermost first)
//! that says whose work it is.
//!
//! - machine code inside a function of the module (its address in the host's [`CodeMap`]): the
//!   guest's own code, split by the function's name-section name ([`guest_part`]);
//! - machine code in the module's text but between its functions: the engine's trampolines;
//! - `plugin_host::abi::X` / `plugin_host::wasi::X` for a host function X: that host call, with
//!   everything it calls (the header map, allocation, copies), except a nested call back into the
//!   guest (the plugin's allocator, through `GuestEnv::alloc`), whose engine frames are the engine's;
//! - wasmi's instruction handlers (`wasmi::engine::executor::handler`): interpreted guest code;
//! - `wasmtime::runtime::vm::libcalls`: the engine's built-ins for guest instructions
//!   (`memory.copy`, `memory.fill`, `memory.grow`);
//! - any other engine frame (wasmtime, wasmi) on the way to the guest, the driver or a host call:
//!   the engine's entry and exit (calling an export, catching traps, dispatching a host call);
//! - `plugin_host::Vm`, `plugin_host::engines::common::Instance`, the probe: the host's request
//!   driver (setting up the request's headers, calling the callbacks).
//!
//! A context with no deciding frame among the callers callgrind kept (`--separate-callers`) is
//! unattributed; with the depth the runner uses that has been nothing.

use crate::callgrind::dump::{frames, Dump};
use crate::callgrind::objects::is_copy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A module's compiled code in the probe's address space (from `plugin_host::Module::code_map`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeMap {
    pub text_start: u64,
    pub text_len: u64,
    /// In address order.
    pub functions: Vec<CodeFn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeFn {
    pub start: u64,
    pub len: u64,
    pub index: u32,
    pub name: Option<String>,
}

impl From<plugin_host::CodeMap> for CodeMap {
    fn from(m: plugin_host::CodeMap) -> CodeMap {
        CodeMap {
            text_start: m.text.0 as u64,
            text_len: m.text.1 as u64,
            functions: m
                .functions
                .into_iter()
                .map(|f| CodeFn {
                    start: f.start as u64,
                    len: f.len as u64,
                    index: f.index,
                    name: f.name,
                })
                .collect(),
        }
    }
}

impl CodeMap {
    /// The function containing `addr`: Some(Some(i)) inside function i, Some(None) in the text
    /// between functions, None outside the module.
    fn locate(&self, addr: u64) -> Option<Option<usize>> {
        if addr < self.text_start || addr >= self.text_start + self.text_len {
            return None;
        }
        let i = self.functions.partition_point(|f| f.start <= addr);
        Some(
            i.checked_sub(1)
                .filter(|&i| addr < self.functions[i].start + self.functions[i].len),
        )
    }

    pub fn named(&self) -> usize {
        self.functions.iter().filter(|f| f.name.is_some()).count()
    }

    /// How a function is shown: its name, else `function[N]`.
    pub fn display(&self, i: usize) -> String {
        let f = &self.functions[i];
        f.name
            .clone()
            .unwrap_or_else(|| format!("function[{}]", f.index))
    }
}

/// The guest's code, split by what its functions' names say (a stripped module's code is unnamed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuestPart {
    /// The plugin, its SDK and libraries.
    Plugin,
    /// The language's standard library.
    Stdlib,
    /// The language runtime: garbage collector, allocator, scheduler.
    Runtime,
    /// A function without a name.
    Unnamed,
}

/// Names of the language runtimes' functions, by the conventions of their compilers: Go (package
/// `runtime` and `internal/runtime/...`, the compiler's type algorithms `type:...`, the wasm port's
/// assembly; Go's linker writes `/`, `(`, `*`, `)` as `_` in the name section), AssemblyScript
/// (`~lib/rt/`), the C and Rust allocators. Matched as prefixes.
const RUNTIME_PREFIXES: &[&str] = &[
    "runtime.",
    "runtime_",
    "runtime/",
    "internal_runtime_",
    "internal/runtime/",
    "type_.",
    "type:.",
    "gcWriteBarrier",
    "wasm_pc_f_loop",
    "wasm_export_",
    "_rt0_",
    "callRet",
    "memeqbody",
    "cmpbody",
    "~lib/rt/",
    "~lib/shared/runtime",
    "~start",
    "dlmalloc",
    "malloc",
    "free",
    "calloc",
    "realloc",
    "aligned_alloc",
    "sbrk",
    "__rust_alloc",
    "__rust_dealloc",
    "__rust_realloc",
    "__rdl_",
    "__rg_",
];

/// Standard libraries: AssemblyScript's `~lib/`, Rust's `core`, `alloc`, `std`, libc's string
/// functions, and Go's (see [`GO_STD_ROOTS`]).
const STDLIB_PREFIXES: &[&str] = &[
    "~lib/", "core::", "alloc::", "std::", "memcpy", "memmove", "memset", "memcmp", "strlen",
];

/// The first elements of Go's standard library package paths (`encoding/json` -> `encoding`): a Go
/// function (`pkg.Name`, its path's `/` written `_`) of one of these is the standard library's.
const GO_STD_ROOTS: &[&str] = &[
    "archive",
    "bufio",
    "bytes",
    "cmp",
    "compress",
    "container",
    "context",
    "crypto",
    "database",
    "debug",
    "embed",
    "encoding",
    "errors",
    "expvar",
    "flag",
    "fmt",
    "go",
    "hash",
    "html",
    "image",
    "index",
    "internal",
    "io",
    "iter",
    "log",
    "maps",
    "math",
    "mime",
    "net",
    "os",
    "path",
    "plugin",
    "reflect",
    "regexp",
    "slices",
    "sort",
    "strconv",
    "strings",
    "structs",
    "sync",
    "syscall",
    "testing",
    "text",
    "time",
    "unicode",
    "unique",
    "unsafe",
    "vendor",
    "weak",
];

/// What part of the guest a function of this name is.
pub fn guest_part(name: Option<&str>) -> GuestPart {
    let Some(name) = name else {
        return GuestPart::Unnamed;
    };
    if RUNTIME_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return GuestPart::Runtime;
    }
    if STDLIB_PREFIXES.iter().any(|p| name.starts_with(p)) || is_go_std(name) {
        return GuestPart::Stdlib;
    }
    GuestPart::Plugin
}

/// `strconv.Itoa`, `unicode_utf8.DecodeRune`, `sync.__Mutex_.Lock`: a Go function (it has a `.`)
/// of a package under one of [`GO_STD_ROOTS`] (not `main`, not `github.com/...`, not a local
/// package of the plugin's own module).
fn is_go_std(name: &str) -> bool {
    if !name.contains('.') {
        return false;
    }
    let root = &name[..name.find(['.', '_', '/']).unwrap_or(name.len())];
    GO_STD_ROOTS.contains(&root)
}

/// Whose work a part is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PartKey {
    Guest(GuestPart),
    /// Guest code run by an interpreter (wasmi), not split.
    Interpreted,
    /// A host function, by its import name.
    Host(String),
    EngineEntry,
    EngineBuiltins,
    Driver,
    Unattributed,
}

impl PartKey {
    /// (id, group, label) as results.json keeps them.
    pub fn describe(&self) -> (String, &'static str, String) {
        match self {
            PartKey::Guest(GuestPart::Plugin) => (
                "guest:plugin".into(),
                "guest",
                "Wasm: plugin, SDK and libraries".into(),
            ),
            PartKey::Guest(GuestPart::Stdlib) => (
                "guest:stdlib".into(),
                "guest",
                "Wasm: standard library".into(),
            ),
            PartKey::Guest(GuestPart::Runtime) => (
                "guest:runtime".into(),
                "guest",
                "Wasm: language runtime (GC, allocator, scheduler)".into(),
            ),
            PartKey::Guest(GuestPart::Unnamed) => (
                "guest:unnamed".into(),
                "guest",
                "Wasm: code of a module without names (not split)".into(),
            ),
            PartKey::Interpreted => (
                "guest:interpreted".into(),
                "guest",
                "Wasm: interpreted (wasmi; not split)".into(),
            ),
            PartKey::Host(name) => (format!("host:{name}"), "host call", name.clone()),
            PartKey::EngineEntry => (
                "engine:entry".into(),
                "engine",
                "engine: entering and leaving Wasm (export calls, host-call dispatch, trampolines)"
                    .into(),
            ),
            PartKey::EngineBuiltins => (
                "engine:builtins".into(),
                "engine",
                "engine: built-ins of Wasm instructions (memory.copy, memory.fill, memory.grow)"
                    .into(),
            ),
            PartKey::Driver => (
                "host:driver".into(),
                "host",
                "host: the request driver (headers set up, callbacks called)".into(),
            ),
            PartKey::Unattributed => (
                "unattributed".into(),
                "unattributed",
                "unattributed (no deciding frame among the callers callgrind kept)".into(),
            ),
        }
    }
}

/// What one frame of a context says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    /// Recursion depth marker (`f'2`), not a caller.
    Recursion,
    Host(String),
    /// Inside the module's function i.
    Guest(usize),
    Trampoline,
    Interpreted,
    Builtin,
    /// `GuestEnv::alloc`: the host calling the guest's allocator.
    Alloc,
    Engine,
    Driver,
    Other,
}

/// Decides parts for one module on one engine.
pub struct Classifier<'a> {
    map: Option<&'a CodeMap>,
    host_functions: Vec<&'static str>,
}

/// The crate a demangled Rust symbol belongs to: `wasmtime::x::y` -> wasmtime; `<A as B>::f` -> A's
/// crate, or B's when A is a bare type parameter (`<F as wasmi::IntoFunc>::into_func`).
fn crate_of(symbol: &str) -> &str {
    let s = symbol.trim_start_matches('<');
    let first = |p: &str| -> usize { p.find([':', '<', '>', ' ']).unwrap_or(p.len()) };
    let head = &s[..first(s)];
    if symbol.starts_with('<') && head.len() <= 2 && head.chars().all(|c| c.is_ascii_uppercase()) {
        if let Some((_, tr)) = s.split_once(" as ") {
            return &tr[..first(tr)];
        }
    }
    head
}

impl<'a> Classifier<'a> {
    pub fn new(map: Option<&'a CodeMap>) -> Classifier<'a> {
        let mut host_functions: Vec<&'static str> = plugin_host::engines::defined_imports()
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        host_functions.sort_unstable();
        host_functions.dedup();
        Classifier {
            map,
            host_functions,
        }
    }

    fn frame(&self, f: &str) -> Frame {
        if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) {
            return Frame::Recursion;
        }
        if let Some(hex) = f.strip_prefix("0x") {
            let Ok(addr) = u64::from_str_radix(hex.split(' ').next().unwrap_or(""), 16) else {
                return Frame::Other;
            };
            return match self.map.and_then(|m| m.locate(addr)) {
                Some(Some(i)) => Frame::Guest(i),
                Some(None) => Frame::Trampoline,
                // JIT code outside the module: the engine's own stubs.
                None => Frame::Engine,
            };
        }
        for m in ["plugin_host::abi::", "plugin_host::wasi::"] {
            if let Some(name) = f.strip_prefix(m) {
                let name = name.split("::").next().unwrap_or("");
                if let Ok(i) = self.host_functions.binary_search(&name) {
                    return Frame::Host(self.host_functions[i].to_string());
                }
            }
        }
        if f.contains("plugin_host::engines::common::GuestEnv") && f.ends_with("::alloc") {
            return Frame::Alloc;
        }
        if f.starts_with("wasmtime::runtime::vm::libcalls::") {
            return Frame::Builtin;
        }
        if f.starts_with("wasmi::engine::executor::handler::") {
            return Frame::Interpreted;
        }
        let s = f.trim_start_matches('<');
        if s.starts_with("plugin_host::Vm::")
            || s.starts_with("plugin_host::engines::common::Instance")
            || s.starts_with("bench_runner::")
        {
            return Frame::Driver;
        }
        let krate = crate_of(f);
        if krate.starts_with("wasmtime") || krate.starts_with("wasmi") {
            return Frame::Engine;
        }
        Frame::Other
    }

    /// The part a function context's own instructions belong to.
    pub fn part(&self, function: &str) -> PartKey {
        let mut engine = false;
        let mut builtin = false;
        for (i, f) in frames(function).enumerate() {
            match self.frame(f) {
                Frame::Recursion | Frame::Other => {}
                // Engine frames met on the way (the guest's memory, looked up by the host
                // function) are the host call's; a nested call of the guest ended at `Alloc`.
                Frame::Host(name) => return PartKey::Host(name),
                g @ (Frame::Guest(_) | Frame::Interpreted) => {
                    if i > 0 && builtin {
                        return PartKey::EngineBuiltins;
                    }
                    if i > 0 && engine {
                        return PartKey::EngineEntry;
                    }
                    return match g {
                        Frame::Guest(fi) => PartKey::Guest(self.guest_part(fi)),
                        _ => PartKey::Interpreted,
                    };
                }
                Frame::Trampoline => {
                    return if builtin {
                        PartKey::EngineBuiltins
                    } else {
                        PartKey::EngineEntry
                    }
                }
                Frame::Builtin => builtin = true,
                Frame::Alloc if engine => return PartKey::EngineEntry,
                Frame::Alloc => {}
                Frame::Engine => engine = true,
                Frame::Driver => {
                    return if engine {
                        PartKey::EngineEntry
                    } else {
                        PartKey::Driver
                    }
                }
            }
        }
        PartKey::Unattributed
    }

    fn guest_part(&self, i: usize) -> GuestPart {
        let name = self
            .map
            .and_then(|m| m.functions.get(i))
            .and_then(|f| f.name.as_deref());
        guest_part(name)
    }

    /// The module function whose own code a context is (its innermost frame), if any.
    fn guest_function(&self, function: &str) -> Option<usize> {
        match self.frame(frames(function).next()?) {
            Frame::Guest(i) => Some(i),
            _ => None,
        }
    }

    /// The host function a call goes to (its innermost frame), if any.
    fn host_callee(&self, function: &str) -> Option<String> {
        match self.frame(frames(function).next()?) {
            Frame::Host(name) => Some(name),
            _ => None,
        }
    }
}

/// One profile's instructions by part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribution {
    pub total: u64,
    /// Part -> (instructions, of which in copy and fill functions).
    pub parts: BTreeMap<PartKey, (u64, u64)>,
    /// Host function -> calls.
    pub host_calls: BTreeMap<String, u64>,
    /// Module function (index into the code map) -> its own instructions.
    pub guest_functions: BTreeMap<usize, u64>,
}

/// Gives every function context of `d` to a part. The parts add up to the profile's own sum
/// ([`Dump::self_sum`]), which is its total.
pub fn attribute(d: &Dump, c: &Classifier) -> Attribution {
    let mut a = Attribution {
        total: d.total,
        ..Default::default()
    };
    for f in &d.functions {
        let e = a.parts.entry(c.part(&f.function)).or_insert((0, 0));
        e.0 += f.cost;
        if is_copy(&f.function) {
            e.1 += f.cost;
        }
        if let Some(i) = c.guest_function(&f.function) {
            *a.guest_functions.entry(i).or_insert(0) += f.cost;
        }
    }
    for call in &d.calls {
        if let Some(name) = c.host_callee(&call.callee) {
            *a.host_calls.entry(name).or_insert(0) += call.count;
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> CodeMap {
        CodeMap {
            text_start: 0x1000,
            text_len: 0x1000,
            functions: vec![
                CodeFn {
                    start: 0x1000,
                    len: 0x100,
                    index: 3,
                    name: Some("main.onRequest".into()),
                },
                CodeFn {
                    start: 0x1100,
                    len: 0x100,
                    index: 4,
                    name: Some("runtime.mallocgc".into()),
                },
                CodeFn {
                    start: 0x1200,
                    len: 0x100,
                    index: 5,
                    name: None,
                },
            ],
        }
    }

    #[test]
    fn guest_parts_follow_the_languages_naming_conventions() {
        for (name, part) in [
            (Some("runtime.mallocgc"), GuestPart::Runtime),
            (Some("internal_runtime_maps.__Map_.deleteSmall"), GuestPart::Runtime),
            (Some("type_.eq.main.config"), GuestPart::Runtime),
            (Some("wasm_pc_f_loop"), GuestPart::Runtime),
            (Some("internal_bytealg.IndexByte"), GuestPart::Stdlib),
            (Some("encoding_json.Marshal"), GuestPart::Stdlib),
            (Some("sync_atomic.__Value_.Load"), GuestPart::Stdlib),
            (Some("mockconfig.Parse"), GuestPart::Plugin),
            (Some("main.__request_.OnHttpRequestHeaders"), GuestPart::Plugin),
            (
                Some("github.com_proxy_wasm_proxy_wasm_go_sdk_proxywasm_types.__DefaultVMContext_.OnVMStart"),
                GuestPart::Plugin,
            ),
            (Some("sort_helper"), GuestPart::Plugin),
            (Some("~lib/rt/itcms/__new"), GuestPart::Runtime),
            (Some("~lib/string/String#concat"), GuestPart::Stdlib),
            (Some("strconv.Itoa"), GuestPart::Stdlib),
            (Some("unicode/utf8.DecodeRune"), GuestPart::Stdlib),
            (Some("sync.(*Mutex).Lock"), GuestPart::Stdlib),
            (Some("core::fmt::write"), GuestPart::Stdlib),
            (Some("main.onHttpRequestHeaders"), GuestPart::Plugin),
            (
                Some("github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/internal.proxyOnRequestHeaders"),
                GuestPart::Plugin,
            ),
            (Some("proxy_on_request_headers"), GuestPart::Plugin),
            (Some("mock_response::Plugin::on_headers"), GuestPart::Plugin),
            (None, GuestPart::Unnamed),
        ] {
            assert_eq!(guest_part(name), part, "{name:?}");
        }
    }

    #[test]
    fn each_context_goes_to_the_part_its_first_deciding_frame_names() {
        let m = map();
        let c = Classifier::new(Some(&m));
        let cases: &[(&str, PartKey)] = &[
            // the guest's own code, by its function's name
            ("0x0000000000001010'0x0000000000001f00'wasmtime::runtime::func::invoke_wasm_and_catch_traps", PartKey::Guest(GuestPart::Plugin)),
            ("0x0000000000001180'0x0000000000001010", PartKey::Guest(GuestPart::Runtime)),
            ("0x0000000000001200", PartKey::Guest(GuestPart::Unnamed)),
            // a trampoline between the functions
            ("0x0000000000001f00'wasmtime::runtime::func::invoke_wasm_and_catch_traps", PartKey::EngineEntry),
            // a host call and what it calls
            ("plugin_host::abi::proxy_get_header_map_value'wasmtime::runtime::func::HostFunc::array_call_trampoline'0x0000000000001f00", PartKey::Host("proxy_get_header_map_value".into())),
            ("_int_malloc'malloc'plugin_host::state::HeaderMap::add'plugin_host::abi::proxy_add_header_map_value'x", PartKey::Host("proxy_add_header_map_value".into())),
            ("plugin_host::wasi::fd_write'<F as wasmi::func::into_func::IntoFunc<T,R>>::into_func::{{closure}}", PartKey::Host("fd_write".into())),
            // the host's memory accessors inside a host call are the host call's
            ("wasmtime::runtime::memory::Memory::data_and_store_mut'plugin_host::abi::proxy_log", PartKey::Host("proxy_log".into())),
            // the nested call of the guest's allocator: its engine frames are the engine's, its code the guest's
            ("wasmtime::runtime::func::invoke_wasm_and_catch_traps'<plugin_host::engines::common::GuestEnv<G> as plugin_host::abi::Env>::alloc'plugin_host::abi::proxy_get_property", PartKey::EngineEntry),
            ("0x0000000000001110'0x0000000000001f80'wasmtime::runtime::func::invoke_wasm_and_catch_traps'<plugin_host::engines::common::GuestEnv<G> as plugin_host::abi::Env>::alloc'plugin_host::abi::proxy_get_property", PartKey::Guest(GuestPart::Runtime)),
            ("<plugin_host::engines::common::GuestEnv<G> as plugin_host::abi::Env>::alloc'plugin_host::abi::proxy_get_property", PartKey::Host("proxy_get_property".into())),
            // the dispatch of a host call, on the way out of the guest
            ("wasmtime::runtime::func::HostFunc::array_call_trampoline'0x0000000000001f00'0x0000000000001010", PartKey::EngineEntry),
            ("plugin_host::engines::wasmtime_backend::base_linker::{{closure}}'wasmtime::runtime::vm::traphandlers::catch_unwind_and_record_trap'0x0000000000001f00", PartKey::EngineEntry),
            // built-ins of guest instructions
            ("__memcpy_avx_unaligned_erms'wasmtime::runtime::vm::libcalls::raw::memory_copy'0x0000000000001f40'0x0000000000001010", PartKey::EngineBuiltins),
            // the engine's entry from the driver
            ("wasmtime::runtime::func::invoke_wasm_and_catch_traps'<plugin_host::engines::common::Instance<W> as plugin_host::engines::Backend>::call'plugin_host::Vm::call", PartKey::EngineEntry),
            // the driver's own work
            ("memcpy'plugin_host::Vm::request_in'plugin_host::Vm::request'bench_runner::bench::micro::probe::window", PartKey::Driver),
            ("bench_runner::bench::micro::probe::window", PartKey::Driver),
            // wasmi: handlers are interpreted guest code, with the memset of a new frame
            ("wasmi::engine::executor::handler::exec::u64_copy_ss'2'wasmi::engine::executor::handler::exec::call_internal", PartKey::Interpreted),
            ("__memset_avx2_unaligned_erms'wasmi::engine::executor::handler::exec::call_internal'wasmi::engine::executor::handler::exec::u64_copy_ss", PartKey::Interpreted),
            ("core::ops::function::FnOnce::call_once'wasmi::engine::executor::handler::args::Args::call_wasm_or_host_func", PartKey::Interpreted),
            ("<F as wasmi::func::into_func::IntoFunc<T,R>>::into_func::{{closure}}'core::ops::function::FnOnce::call_once'wasmi::engine::executor::handler::args::Args::call_wasm_or_host_func", PartKey::EngineEntry),
            // nothing deciding among the callers kept
            ("_int_free'free'alloc::raw_vec::finish_grow", PartKey::Unattributed),
        ];
        for (ctx, want) in cases {
            assert_eq!(&c.part(ctx), want, "{ctx}");
        }
    }

    #[test]
    fn host_functions_are_only_those_the_host_defines() {
        let c = Classifier::new(None);
        assert_eq!(
            c.frame("plugin_host::abi::proxy_log"),
            Frame::Host("proxy_log".into())
        );
        assert_eq!(c.frame("plugin_host::abi::copy_out"), Frame::Other);
        assert_eq!(c.frame("plugin_host::wasi::zero_counts"), Frame::Other);
        // No code map (wasmi): an address is the engine's.
        assert_eq!(c.frame("0x0000000000001010"), Frame::Engine);
        assert_eq!(
            crate_of("<F as wasmi::func::IntoFunc<T>>::into_func"),
            "wasmi"
        );
        assert_eq!(crate_of("<[u8]>::eq_ignore_ascii_case"), "[u8]");
        assert_eq!(
            crate_of("wasmtime_internal_unwinder::x"),
            "wasmtime_internal_unwinder"
        );
    }

    #[test]
    fn parts_add_up_to_the_total_and_host_calls_are_counted() {
        let text = "version: 1\nevents: Ir\n\
            fn=(1) 0x0000000000001010\n0 600\n\
            cfn=(2) plugin_host::abi::proxy_log'0x0000000000001010\ncalls=3 0\n0 250\n\
            fn=(2)\n0 100\n\
            fn=(3) memcpy'plugin_host::abi::proxy_log'0x0000000000001010\n0 150\n\
            fn=(4) plugin_host::Vm::request\n0 50\n\
            fn=(5) 0x0000000000001f00'plugin_host::Vm::request\n0 100\n\
            totals: 1000\n";
        let d = crate::callgrind::dump::parse(text).unwrap();
        let m = map();
        let a = attribute(&d, &Classifier::new(Some(&m)));
        assert_eq!(a.total, 1000);
        assert_eq!(a.parts.values().map(|p| p.0).sum::<u64>(), 1000);
        assert_eq!(a.parts[&PartKey::Guest(GuestPart::Plugin)], (600, 0));
        assert_eq!(a.parts[&PartKey::Host("proxy_log".into())], (250, 150));
        assert_eq!(a.parts[&PartKey::Driver], (50, 0));
        assert_eq!(a.parts[&PartKey::EngineEntry], (100, 0));
        assert_eq!(a.host_calls["proxy_log"], 3);
        assert_eq!(a.guest_functions[&0], 600);
    }
}
