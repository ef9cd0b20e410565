//! wasmtime bindings (Cranelift or Winch: only the engine's `Config` differs). Only the engine's own
//! types and calls are here; the rest is `common.rs`, shared with wasmi.

use super::common::{self, instantiate_error, Fallback, Guest, GuestEnv, Sig, Wasm};
use super::{defined_imports, CallError};
use crate::abi::Abort;
use crate::state::HostState;
use crate::Error;
use wasmtime::{
    Caller, Config, Engine, Extern, Func, InstancePre, Linker, Memory, Module, Store, Strategy,
    TypedFunc, Val, ValType,
};

/// The [`Wasm`] of wasmtime.
#[derive(Clone)]
pub struct Wasmtime;

pub type Data = common::Data<Wasmtime>;
pub type Instance = common::Instance<Wasmtime>;

impl Wasm for Wasmtime {
    type Store = Store<Data>;
    type Func = Func;
    type Memory = Memory;
    type Typed<P: Sig, R: Sig> = TypedFunc<P, R>;
    type Error = wasmtime::Error;

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
    ) -> wasmtime::Result<R> {
        f.call(store, args)
    }

    fn arity(store: &Store<Data>, f: Func) -> (usize, usize) {
        let ty = f.ty(store);
        let arity = (ty.params().len(), ty.results().len());
        arity
    }

    fn call_dyn(
        store: &mut Store<Data>,
        f: Func,
        arg: impl Fn(usize) -> i32,
    ) -> Result<wasmtime::Result<Option<i32>>, String> {
        let ty = f.ty(&*store);
        if !ty.params().all(|p| matches!(p, ValType::I32))
            || ty.results().len() > 1
            || !ty.results().all(|p| matches!(p, ValType::I32))
        {
            return Err(format!("{ty:?}"));
        }
        let params: Vec<Val> = (0..ty.params().len()).map(|i| Val::I32(arg(i))).collect();
        let mut results = vec![Val::I32(0); ty.results().len()];
        Ok(f.call(store, &params, &mut results)
            .map(|()| results.first().and_then(Val::i32)))
    }

    /// Maps an engine error to how the call ended.
    fn call_error(e: wasmtime::Error) -> CallError {
        if let Some(a) = e.downcast_ref::<Abort>() {
            return a.into();
        }
        match e.downcast_ref::<wasmtime::Trap>() {
            Some(t) => CallError::Trap(t.to_string()),
            None => CallError::Trap(format!("{e:#}")),
        }
    }
}

impl Guest for Caller<'_, Data> {
    type Wasm = Wasmtime;

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

    fn call_alloc(&mut self, f: &TypedFunc<i32, i32>, size: i32) -> wasmtime::Result<i32> {
        f.call(self, size)
    }
}

pub fn engine(winch: bool) -> Result<Engine, String> {
    let mut c = Config::new();
    c.strategy(if winch {
        Strategy::Winch
    } else {
        Strategy::Cranelift
    });
    if !winch {
        c.cranelift_opt_level(wasmtime::OptLevel::Speed);
    }
    Engine::new(&c).map_err(|e| format!("{e:#}"))
}

/// Registers one host function of [`super::for_each_host_fn`]'s list (this line, once a function).
macro_rules! wrap {
    ($l:ident, $m:expr, $n:literal, $f:path, ($($a:ident: $t:ty),*)) => {
        let index = super::host_fn_index($m, $n);
        $l.func_wrap($m, $n, move |mut c: Caller<'_, Data>, $($a: $t),*| {
            let outer = c.data_mut().host.calls.enter(index);
            let r = $f(&mut GuestEnv(&mut c), $($a),*);
            c.data_mut().host.calls.leave(outer);
            r.map_err(wasmtime::Error::new)
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
    pre: InstancePre<Data>,
}

pub fn compile(engine: &Engine, wasm: &[u8]) -> Result<Compiled, Error> {
    let module = Module::new(engine, wasm).map_err(|e| Error::Compile(format!("{e:#}")))?;
    let mut linker = base_linker(engine).map_err(Error::Engine)?;
    let defined = defined_imports();
    for imp in module.imports() {
        let Some((ty, fallback)) = Fallback::for_import(
            &defined,
            imp.module(),
            imp.name(),
            imp.ty().func().cloned(),
            |t| t.results().len() == 1 && t.results().all(|r| matches!(r, ValType::I32)),
        )?
        else {
            continue;
        };
        linker
            .func_new(imp.module(), imp.name(), ty, move |_, _, results| {
                results[0] = Val::I32(fallback.answer().map_err(wasmtime::Error::new)?);
                Ok(())
            })
            .map_err(|e| Error::Instantiate(format!("{e:#}")))?;
    }
    let pre = linker
        .instantiate_pre(&module)
        .map_err(|e| Error::Instantiate(format!("{e:#}")))?;
    Ok(Compiled {
        engine: engine.clone(),
        pre,
    })
}

/// The compiled module's text section and functions, as addresses of this process.
pub fn code_map(c: &Compiled) -> crate::CodeMap {
    let module = c.pre.module();
    let text = module.text();
    let base = text.as_ptr() as usize;
    let mut functions: Vec<crate::CodeRange> = module
        .functions()
        .map(|f| crate::CodeRange {
            start: base + f.offset,
            len: f.len,
            index: f.index.as_u32(),
            name: f.name,
        })
        .collect();
    functions.sort_by_key(|f| f.start);
    crate::CodeMap {
        text: (base, text.len()),
        functions,
    }
}

pub fn instantiate(c: &Compiled, properties: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Instance, Error> {
    let mut data = Data::default();
    data.host.properties = properties;
    let mut store = Store::new(&c.engine, data);
    let inst = c
        .pre
        .instantiate(&mut store)
        .map_err(|e| instantiate_error(Wasmtime::call_error(e)))?;
    let memory = inst.get_memory(&mut store, "memory");
    Ok(Instance::new(store, memory, |s, name| {
        inst.get_func(s, name)
    }))
}
