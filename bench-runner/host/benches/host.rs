//! criterion benchmarks of every built plugin on every engine (`cargo bench -p plugin-host`):
//!
//! - `request/<plugin>/<workload>/<engine>`: one request (context create, request headers with
//!   end of stream, done, log, delete) under the workload's configuration (mock, headers);
//! - `configure/<plugin>/<small|8k>/<engine>`: `proxy_on_configure` with the Higress demo config
//!   and with an ~8 KiB config of many rules, on a freshly started VM each time;
//! - `instantiate/<plugin>/<engine>`: instantiation plus VM start (the runtime's initialiser,
//!   root context, `proxy_on_vm_start`) of an already compiled module;
//! - `request/floor/no-op/<engine>`: the same request through a plugin that does nothing (the
//!   host's and engine's own cost, to subtract).
//!
//! Modules are compiled only for the benchmarks a filter selects
//! (`cargo bench -p plugin-host -- request/rust`). Defaults are short (20 samples, 1 s) because the
//! matrix is large; pass criterion's own flags to change them.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use plugin_host::{workload, Engine, EngineKind, Module, Vm};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A plugin whose every callback returns at once: what remains is the host and engine cost of one
/// request's lifecycle (five calls into the module).
const FLOOR: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))
"#;

/// Compiles each (plugin, engine) once, on first use.
struct Modules {
    plugins: Vec<(String, Vec<u8>)>,
    engines: HashMap<EngineKind, Engine>,
    compiled: RefCell<HashMap<(String, EngineKind), Rc<Module>>>,
}

impl Modules {
    fn get(&self, plugin: &str, kind: EngineKind) -> Option<Rc<Module>> {
        let key = (plugin.to_string(), kind);
        if let Some(m) = self.compiled.borrow().get(&key) {
            return Some(m.clone());
        }
        let wasm = &self.plugins.iter().find(|(n, _)| n == plugin)?.1;
        match self.engines.get(&kind)?.compile(wasm) {
            Ok(m) => {
                let m = Rc::new(m);
                self.compiled.borrow_mut().insert(key, m.clone());
                Some(m)
            }
            Err(e) => {
                eprintln!("{plugin} on {kind}: cannot compile ({e}); skipped");
                None
            }
        }
    }
}

fn started(m: &Module) -> Vm {
    let mut vm = m.instantiate().expect("instantiate");
    assert!(
        vm.start(b"").expect("start"),
        "proxy_on_vm_start returned false"
    );
    vm
}

fn benches(c: &mut Criterion) {
    let (found, _) = common::plugins();
    let modules = Modules {
        plugins: found
            .iter()
            .map(|(n, p)| (n.clone(), std::fs::read(p).expect("module readable")))
            .collect(),
        engines: EngineKind::ALL
            .iter()
            .filter_map(|k| Engine::new(*k).ok().map(|e| (*k, e)))
            .collect(),
        compiled: RefCell::new(HashMap::new()),
    };
    let names: Vec<String> = modules.plugins.iter().map(|(n, _)| n.clone()).collect();

    // The host's own floor: a plugin whose callbacks do nothing, through the same lifecycle.
    let floor = wat::parse_str(FLOOR).expect("floor plugin parses");
    let mut g = c.benchmark_group("request/floor");
    for kind in EngineKind::ALL {
        g.bench_function(BenchmarkId::new("no-op", kind.id()), |b| {
            let mut vm = Vm::load(kind, &floor, b"{}").expect("floor plugin loads");
            let req = workload::request();
            b.iter(|| black_box(vm.request(black_box(&req)).expect("request")));
        });
    }
    g.finish();

    for plugin in &names {
        let mut g = c.benchmark_group(format!("request/{plugin}"));
        for w in workload::WORKLOADS {
            for kind in EngineKind::ALL {
                g.bench_function(BenchmarkId::new(w, kind.id()), |b| {
                    let Some(m) = modules.get(plugin, kind) else {
                        b.iter(|| ());
                        return;
                    };
                    let mut vm = started(&m);
                    let config = workload::config_for(w).expect("known workload");
                    assert!(vm.configure(config.as_bytes()).expect("configure"));
                    let req = workload::request();
                    let first = vm.request(&req).expect("first request");
                    workload::check(w, &first).expect("plugin behaves");
                    b.iter(|| black_box(vm.request(black_box(&req)).expect("request")));
                });
            }
        }
        g.finish();

        let mut g = c.benchmark_group(format!("configure/{plugin}"));
        for (label, config) in [
            ("small", workload::small_config()),
            ("8k", workload::large_config()),
        ] {
            for kind in EngineKind::ALL {
                g.bench_function(BenchmarkId::new(label, kind.id()), |b| {
                    let Some(m) = modules.get(plugin, kind) else {
                        b.iter(|| ());
                        return;
                    };
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut vm = started(&m);
                            let t = Instant::now();
                            let ok = vm.configure(config.as_bytes()).expect("configure");
                            total += t.elapsed();
                            assert!(ok, "{plugin} rejected the {label} configuration");
                        }
                        total
                    });
                });
            }
        }
        g.finish();

        let mut g = c.benchmark_group(format!("instantiate/{plugin}"));
        for kind in EngineKind::ALL {
            g.bench_function(kind.id(), |b| {
                let Some(m) = modules.get(plugin, kind) else {
                    b.iter(|| ());
                    return;
                };
                b.iter(|| black_box(started(&m)));
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = host;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(host);
