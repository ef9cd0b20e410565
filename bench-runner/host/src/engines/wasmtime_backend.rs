//! wasmtime bindings (Cranelift or Winch: only the engine's `Config` differs).

use super::{defined_imports, fallback_status, Backend, CallError, Export, ALLOCATORS};
use crate::abi::{Abort, Env};
use crate::state::HostState;
use crate::Error;
use wasmtime::{
    Caller, Config, Engine, Extern, Func, InstancePre, Linker, Memory, Module, Store, Strategy,
    TypedFunc, Val, ValType,
};

#[derive(Default)]
pub struct Data {
    pub host: HostState,
    memory: Option<Memory>,
    alloc: Option<TypedFunc<i32, i32>>,
}

struct WtEnv<'a, 'b>(&'a mut Caller<'b, Data>);

impl WtEnv<'_, '_> {
    fn memory(&mut self) -> Option<Memory> {
        if self.0.data().memory.is_none() {
            let m = self.0.get_export("memory").and_then(Extern::into_memory);
            self.0.data_mut().memory = m;
        }
        self.0.data().memory
    }
}

impl Env for WtEnv<'_, '_> {
    fn parts(&mut self) -> (&mut [u8], &mut HostState) {
        match self.memory() {
            Some(m) => {
                let (mem, data) = m.data_and_store_mut(&mut *self.0);
                (mem, &mut data.host)
            }
            None => (Default::default(), &mut self.0.data_mut().host),
        }
    }

    fn alloc(&mut self, size: u32) -> Result<u32, Abort> {
        if self.0.data().alloc.is_none() {
            let f = ALLOCATORS
                .iter()
                .find_map(|n| self.0.get_export(n).and_then(Extern::into_func))
                .and_then(|f| f.typed::<i32, i32>(&*self.0).ok());
            self.0.data_mut().alloc = f;
        }
        let f = self.0.data().alloc.clone().ok_or_else(|| {
            Abort::Trap(
                "the plugin exports no proxy_on_memory_allocate or malloc (i32) -> i32".into(),
            )
        })?;
        match f.call(&mut *self.0, size as i32) {
            Ok(p) => Ok(p as u32),
            Err(e) => Err(match call_error(e) {
                CallError::Exit(c) => Abort::Exit(c),
                CallError::Trap(m) | CallError::Signature(m) => Abort::Trap(m),
            }),
        }
    }
}

/// Maps an engine error to how the call ended.
fn call_error(e: wasmtime::Error) -> CallError {
    if let Some(a) = e.downcast_ref::<Abort>() {
        return match a {
            Abort::Exit(c) => CallError::Exit(*c),
            Abort::Trap(m) => CallError::Trap(m.clone()),
        };
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(t) => CallError::Trap(t.to_string()),
        None => CallError::Trap(format!("{e:#}")),
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

macro_rules! wrap {
    ($l:ident, $m:expr, $n:literal, $f:path, ($($a:ident: $t:ty),*)) => {
        $l.func_wrap($m, $n, |mut c: Caller<'_, Data>, $($a: $t),*| -> wasmtime::Result<i32> {
            $f(&mut WtEnv(&mut c), $($a),*).map_err(wasmtime::Error::new)
        })
        .map_err(|e| e.to_string())?;
    };
}

fn base_linker(engine: &Engine) -> Result<Linker<Data>, String> {
    let mut l: Linker<Data> = Linker::new(engine);
    super::for_each_host_fn!(wrap, l);
    for m in ["wasi_snapshot_preview1", "wasi_unstable"] {
        l.func_wrap(
            m,
            "proc_exit",
            |mut c: Caller<'_, Data>, code: i32| -> wasmtime::Result<()> {
                crate::wasi::proc_exit(&mut WtEnv(&mut c), code).map_err(wasmtime::Error::new)
            },
        )
        .map_err(|e| e.to_string())?;
    }
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
        if defined.contains(&(imp.module(), imp.name())) {
            continue;
        }
        let Some(ty) = imp.ty().func().cloned() else {
            return Err(Error::Instantiate(format!(
                "the module imports {}.{}, which is not a function; this host provides functions only",
                imp.module(),
                imp.name()
            )));
        };
        let what = format!("{}.{}", imp.module(), imp.name());
        let status = fallback_status(imp.module())
            .filter(|_| ty.results().len() == 1 && ty.results().all(|r| matches!(r, ValType::I32)));
        linker
            .func_new(
                imp.module(),
                imp.name(),
                ty,
                move |_, _, results| match status {
                    Some(s) => {
                        results[0] = Val::I32(s);
                        Ok(())
                    }
                    None => Err(wasmtime::Error::new(Abort::Trap(format!(
                        "the plugin called {what}, which this host does not implement"
                    )))),
                },
            )
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

/// An export with a typed fast path for the shapes proxy-wasm uses.
#[derive(Clone)]
enum Callable {
    V0(TypedFunc<(), ()>),
    I1V(TypedFunc<i32, ()>),
    I1I(TypedFunc<i32, i32>),
    I2V(TypedFunc<(i32, i32), ()>),
    I2I(TypedFunc<(i32, i32), i32>),
    I3I(TypedFunc<(i32, i32, i32), i32>),
    Dyn(Func),
}

impl Callable {
    fn new(store: &Store<Data>, f: Func) -> Callable {
        if let Ok(t) = f.typed(store) {
            return Callable::V0(t);
        }
        if let Ok(t) = f.typed(store) {
            return Callable::I1V(t);
        }
        if let Ok(t) = f.typed(store) {
            return Callable::I1I(t);
        }
        if let Ok(t) = f.typed(store) {
            return Callable::I2V(t);
        }
        if let Ok(t) = f.typed(store) {
            return Callable::I2I(t);
        }
        if let Ok(t) = f.typed(store) {
            return Callable::I3I(t);
        }
        Callable::Dyn(f)
    }
}

pub struct Instance {
    store: Store<Data>,
    exports: Vec<Option<(Callable, (usize, usize))>>,
}

pub fn instantiate(c: &Compiled, properties: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Instance, Error> {
    let mut data = Data::default();
    data.host.properties = properties;
    let mut store = Store::new(&c.engine, data);
    let inst = c
        .pre
        .instantiate(&mut store)
        .map_err(|e| match call_error(e) {
            CallError::Exit(code) => Error::Exit {
                during: "instantiation (start function)",
                code,
            },
            CallError::Trap(m) | CallError::Signature(m) => Error::Instantiate(m),
        })?;
    store.data_mut().memory = inst.get_memory(&mut store, "memory");
    let exports = Export::ALL
        .iter()
        .map(|e| {
            inst.get_func(&mut store, e.name()).map(|f| {
                let ty = f.ty(&store);
                let arity = (ty.params().len(), ty.results().len());
                (Callable::new(&store, f), arity)
            })
        })
        .collect();
    Ok(Instance { store, exports })
}

impl Backend for Instance {
    fn call(&mut self, f: Export, args: &[i32]) -> Result<Option<i32>, CallError> {
        let Some((c, _)) = self.exports[f as usize].clone() else {
            return Err(CallError::Signature(format!(
                "{} is not exported",
                f.name()
            )));
        };
        let s = &mut self.store;
        let a = |i: usize| args.get(i).copied().unwrap_or(0);
        let r = match c {
            Callable::V0(t) => t.call(s, ()).map(|()| None),
            Callable::I1V(t) => t.call(s, a(0)).map(|()| None),
            Callable::I1I(t) => t.call(s, a(0)).map(Some),
            Callable::I2V(t) => t.call(s, (a(0), a(1))).map(|()| None),
            Callable::I2I(t) => t.call(s, (a(0), a(1))).map(Some),
            Callable::I3I(t) => t.call(s, (a(0), a(1), a(2))).map(Some),
            Callable::Dyn(func) => {
                let ty = func.ty(&*s);
                if !ty.params().all(|p| matches!(p, ValType::I32))
                    || ty.results().len() > 1
                    || !ty.results().all(|p| matches!(p, ValType::I32))
                {
                    return Err(CallError::Signature(format!(
                        "{} has the signature {ty:?}; the host expects i32 parameters and at most one i32 result",
                        f.name()
                    )));
                }
                let params: Vec<Val> = (0..ty.params().len()).map(|i| Val::I32(a(i))).collect();
                let mut results = vec![Val::I32(0); ty.results().len()];
                func.call(&mut *s, &params, &mut results)
                    .map(|()| results.first().and_then(Val::i32))
            }
        };
        r.map_err(call_error)
    }

    fn arity(&self, f: Export) -> Option<(usize, usize)> {
        self.exports[f as usize].as_ref().map(|(_, a)| *a)
    }

    fn host(&mut self) -> &mut HostState {
        &mut self.store.data_mut().host
    }

    fn host_ref(&self) -> &HostState {
        &self.store.data().host
    }
}
