//! wasmi bindings: a pure interpreter (no JIT), for comparison with the compiling engines. Only the
//! engine's own types and calls are here; the rest is `common.rs`, shared with wasmtime.

use super::common::{self, instantiate_error, Fallback, Guest, GuestEnv, Sig, Wasm};
use super::{defined_imports, CallError};
use crate::abi::Abort;
use crate::state::HostState;
use crate::Error;
use wasmi::{
    Caller, Config, Engine, Extern, Func, Linker, Memory, Module, Store, TypedFunc, Val, ValType,
};

impl wasmi::errors::HostError for Abort {}

/// The [`Wasm`] of wasmi.
#[derive(Clone)]
pub struct Wasmi;

pub type Data = common::Data<Wasmi>;
pub type Instance = common::Instance<Wasmi>;

impl Wasm for Wasmi {
    type Store = Store<Data>;
    type Func = Func;
    type Memory = Memory;
    type Typed<P: Sig, R: Sig> = TypedFunc<P, R>;
    type Error = wasmi::Error;

    fn data(store: &Store<Data>) -> &Data {
        store.data()
    }

    fn data_mut(store: &mut Store<Data>) -> &mut Data {
        store.data_mut()
    }

    fn typed<P: Sig, R: Sig>(store: &Store<Data>, f: Func) -> Option<TypedFunc<P, R>> {
        f.typed(store).ok()
    }

    fn call<P: Sig, R: Sig>(
        store: &mut Store<Data>,
        f: &TypedFunc<P, R>,
        args: P,
    ) -> Result<R, wasmi::Error> {
        f.call(store, args)
    }

    fn arity(store: &Store<Data>, f: Func) -> (usize, usize) {
        let ty = f.ty(store);
        (ty.params().len(), ty.results().len())
    }

    fn call_dyn(
        store: &mut Store<Data>,
        f: Func,
        arg: impl Fn(usize) -> i32,
    ) -> Result<Result<Option<i32>, wasmi::Error>, String> {
        let ty = f.ty(&*store);
        let i32s = |t: &[ValType]| t.iter().all(|p| *p == ValType::I32);
        if !i32s(ty.params()) || ty.results().len() > 1 || !i32s(ty.results()) {
            return Err(format!("{ty:?}"));
        }
        let params: Vec<Val> = (0..ty.params().len()).map(|i| Val::I32(arg(i))).collect();
        let mut results = vec![Val::I32(0); ty.results().len()];
        Ok(f.call(store, &params, &mut results)
            .map(|()| results.first().and_then(Val::i32)))
    }

    fn call_error(e: wasmi::Error) -> CallError {
        if let Some(a) = e.downcast_ref::<Abort>() {
            return a.into();
        }
        if let Some(code) = e.i32_exit_status() {
            return CallError::Exit(code);
        }
        match e.as_trap_code() {
            Some(t) => CallError::Trap(t.to_string()),
            None => CallError::Trap(e.to_string()),
        }
    }
}

impl Guest for Caller<'_, Data> {
    type Wasm = Wasmi;

    fn data_mut(&mut self) -> &mut Data {
        Caller::data_mut(self)
    }

    fn memory_export(&mut self) -> Option<Memory> {
        self.get_export("memory").and_then(Extern::into_memory)
    }

    fn func_export(&mut self, name: &str) -> Option<Func> {
        self.get_export(name).and_then(Extern::into_func)
    }

    fn typed_alloc(&self, f: Func) -> Option<TypedFunc<i32, i32>> {
        f.typed(self).ok()
    }

    fn memory_and_host(&mut self, m: Memory) -> (&mut [u8], &mut HostState) {
        let (mem, data) = m.data_and_store_mut(self);
        (mem, &mut data.host)
    }

    fn call_alloc(&mut self, f: &TypedFunc<i32, i32>, size: i32) -> Result<i32, wasmi::Error> {
        f.call(self, size)
    }
}

pub fn engine() -> Engine {
    Engine::new(&Config::default())
}

/// Registers one host function of [`super::for_each_host_fn`]'s list (this line, once a function).
macro_rules! wrap {
    ($l:ident, $m:expr, $n:literal, $f:path, ($($a:ident: $t:ty),*)) => {
        let index = super::host_fn_index($m, $n);
        $l.func_wrap($m, $n, move |mut c: Caller<'_, Data>, $($a: $t),*| {
            let outer = c.data_mut().host.calls.enter(index);
            let r = $f(&mut GuestEnv(&mut c), $($a),*);
            c.data_mut().host.calls.leave(outer);
            r.map_err(wasmi::Error::host)
        })
        .map_err(|e| e.to_string())?;
    };
}

fn base_linker(engine: &Engine) -> Result<Linker<Data>, String> {
    let mut l: Linker<Data> = Linker::new(engine);
    super::for_each_host_fn!(wrap, l);
    Ok(l)
}

pub struct Compiled {
    engine: Engine,
    module: Module,
    linker: Linker<Data>,
}

pub fn compile(engine: &Engine, wasm: &[u8]) -> Result<Compiled, Error> {
    let module = Module::new(engine, wasm).map_err(|e| Error::Compile(e.to_string()))?;
    let mut linker = base_linker(engine).map_err(Error::Engine)?;
    let defined = defined_imports();
    for imp in module.imports() {
        let Some((ty, fallback)) =
            Fallback::for_import(&defined, imp.module(), imp.name(), imp.ty().func(), |t| {
                t.results() == [ValType::I32]
            })?
        else {
            continue;
        };
        linker
            .func_new(
                imp.module(),
                imp.name(),
                ty.clone(),
                move |_, _, results| {
                    results[0] = Val::I32(fallback.answer().map_err(wasmi::Error::host)?);
                    Ok(())
                },
            )
            .map_err(|e| Error::Instantiate(e.to_string()))?;
    }
    Ok(Compiled {
        engine: engine.clone(),
        module,
        linker,
    })
}

pub fn instantiate(c: &Compiled, properties: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Instance, Error> {
    let mut data = Data::default();
    data.host.properties = properties;
    let mut store = Store::new(&c.engine, data);
    let inst = c
        .linker
        .instantiate_and_start(&mut store, &c.module)
        .map_err(|e| instantiate_error(Wasmi::call_error(e)))?;
    let memory = inst.get_memory(&store, "memory");
    Ok(Instance::new(store, memory, |s, name| {
        inst.get_func(&*s, name)
    }))
}
