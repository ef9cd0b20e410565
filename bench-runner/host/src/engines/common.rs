//! What both engines share, written once: the state a store carries ([`Data`]), the [`Env`] the host
//! functions of `abi.rs` and `wasi.rs` see inside a call ([`GuestEnv`]), the exports' typed fast paths
//! ([`Callable`]), the instance behind [`Backend`] ([`Instance`]) and the answer to an import the host
//! does not define ([`Fallback`]). An engine implements [`Wasm`] (its handles and the few calls whose
//! types differ) and [`Guest`] (its `Caller`). Everything here is generic over those two traits and
//! monomorphised per engine: no boxing and no dynamic dispatch on the call path.

use super::{fallback_status, Backend, CallError, Export, ALLOCATORS};
use crate::abi::{Abort, Env};
use crate::state::HostState;
use crate::Error;

/// The parameter and result tuples the host calls typed (the exports' shapes and the allocator's):
/// both engines can call a function of these signatures without boxing the arguments.
pub trait Sig:
    wasmi::WasmParams + wasmi::WasmResults + wasmtime::WasmParams + wasmtime::WasmResults
{
}
impl Sig for () {}
impl Sig for i32 {}
impl Sig for (i32, i32) {}
impl Sig for (i32, i32, i32) {}

/// One engine's handles and the calls whose types differ between engines, implemented by a marker type.
pub trait Wasm: Clone + Sized + 'static {
    /// The engine's store, holding a [`Data`].
    type Store;
    type Func: Copy;
    type Memory: Copy;
    /// The engine's typed function handle.
    type Typed<P: Sig, R: Sig>: Clone;
    /// What a call into the guest fails with.
    type Error;

    fn data(store: &Self::Store) -> &Data<Self>;
    fn data_mut(store: &mut Self::Store) -> &mut Data<Self>;
    /// The function as `P -> R`, None when its signature is another.
    fn typed<P: Sig, R: Sig>(store: &Self::Store, f: Self::Func) -> Option<Self::Typed<P, R>>;
    fn call<P: Sig, R: Sig>(
        store: &mut Self::Store,
        f: &Self::Typed<P, R>,
        args: P,
    ) -> Result<R, Self::Error>;
    /// (parameters, results) of a function.
    fn arity(store: &Self::Store, f: Self::Func) -> (usize, usize);
    /// Calls a function of another signature with the i32 arguments `arg(0)`, `arg(1)`, ...; the
    /// outer Err is its signature (Debug) when it is not (i32...) -> (i32?).
    fn call_dyn(
        store: &mut Self::Store,
        f: Self::Func,
        arg: impl Fn(usize) -> i32,
    ) -> Result<Result<Option<i32>, Self::Error>, String>;
    /// How a failed call ended.
    fn call_error(e: Self::Error) -> CallError;
}

/// The engine's `Caller` inside a host function: the store's [`Data`] and the guest's exports.
pub trait Guest {
    type Wasm: Wasm;
    fn data_mut(&mut self) -> &mut Data<Self::Wasm>;
    fn memory_export(&mut self) -> Option<<Self::Wasm as Wasm>::Memory>;
    fn func_export(&mut self, name: &str) -> Option<<Self::Wasm as Wasm>::Func>;
    fn typed_alloc(
        &self,
        f: <Self::Wasm as Wasm>::Func,
    ) -> Option<<Self::Wasm as Wasm>::Typed<i32, i32>>;
    /// The guest's memory and the host state, borrowed together.
    fn memory_and_host(&mut self, m: <Self::Wasm as Wasm>::Memory) -> (&mut [u8], &mut HostState);
    fn call_alloc(
        &mut self,
        f: &<Self::Wasm as Wasm>::Typed<i32, i32>,
        size: i32,
    ) -> Result<i32, <Self::Wasm as Wasm>::Error>;
}

/// What a store carries: the host state, and the guest's memory and allocator once looked up.
pub struct Data<W: Wasm> {
    pub host: HostState,
    memory: Option<W::Memory>,
    alloc: Option<W::Typed<i32, i32>>,
}

impl<W: Wasm> Default for Data<W> {
    fn default() -> Self {
        Data {
            host: HostState::default(),
            memory: None,
            alloc: None,
        }
    }
}

/// The [`Env`] of a host function: the engine's caller.
pub struct GuestEnv<'a, G>(pub &'a mut G);

impl<G: Guest> GuestEnv<'_, G> {
    fn memory(&mut self) -> Option<<G::Wasm as Wasm>::Memory> {
        if self.0.data_mut().memory.is_none() {
            let m = self.0.memory_export();
            self.0.data_mut().memory = m;
        }
        self.0.data_mut().memory
    }
}

impl<G: Guest> Env for GuestEnv<'_, G> {
    fn parts(&mut self) -> (&mut [u8], &mut HostState) {
        match self.memory() {
            Some(m) => self.0.memory_and_host(m),
            None => (Default::default(), &mut self.0.data_mut().host),
        }
    }

    fn alloc(&mut self, size: u32) -> Result<u32, Abort> {
        if self.0.data_mut().alloc.is_none() {
            let f = ALLOCATORS
                .iter()
                .find_map(|n| self.0.func_export(n))
                .and_then(|f| self.0.typed_alloc(f));
            self.0.data_mut().alloc = f;
        }
        let f = self.0.data_mut().alloc.clone().ok_or_else(|| {
            Abort::Trap(
                "the plugin exports no proxy_on_memory_allocate or malloc (i32) -> i32".into(),
            )
        })?;
        match self.0.call_alloc(&f, size as i32) {
            Ok(p) => Ok(p as u32),
            Err(e) => Err(G::Wasm::call_error(e).into()),
        }
    }
}

impl From<CallError> for Abort {
    /// A nested call that failed ends the host function the same way.
    fn from(e: CallError) -> Abort {
        match e {
            CallError::Exit(c) => Abort::Exit(c),
            CallError::Trap(m) | CallError::Signature(m) => Abort::Trap(m),
        }
    }
}

impl From<&Abort> for CallError {
    /// A host function's abort, come back out of the engine.
    fn from(a: &Abort) -> CallError {
        match a {
            Abort::Exit(c) => CallError::Exit(*c),
            Abort::Trap(m) => CallError::Trap(m.clone()),
        }
    }
}

/// The error of an instantiation that failed (in the module's start function, say).
pub fn instantiate_error(e: CallError) -> Error {
    match e {
        CallError::Exit(code) => Error::Exit {
            during: "instantiation (start function)",
            code,
        },
        CallError::Trap(m) | CallError::Signature(m) => Error::Instantiate(m),
    }
}

/// What an import the host does not define does when called.
pub struct Fallback {
    what: String,
    status: Option<i32>,
}

impl Fallback {
    /// For the import `module.name` of type `ty` (None: not a function): None when the host defines
    /// it, an error when it is not a function, else its type and what it answers. `returns_i32`: the
    /// type returns exactly one i32 (only such an import can answer a status).
    pub fn for_import<T>(
        defined: &[(&str, &str)],
        module: &str,
        name: &str,
        ty: Option<T>,
        returns_i32: impl FnOnce(&T) -> bool,
    ) -> Result<Option<(T, Fallback)>, Error> {
        if defined.contains(&(module, name)) {
            return Ok(None);
        }
        let Some(ty) = ty else {
            return Err(Error::Instantiate(format!(
                "the module imports {module}.{name}, which is not a function; this host provides functions only"
            )));
        };
        let status = fallback_status(module).filter(|_| returns_i32(&ty));
        let what = format!("{module}.{name}");
        Ok(Some((ty, Fallback { what, status })))
    }

    /// The status the import returns, or the trap it raises.
    pub fn answer(&self) -> Result<i32, Abort> {
        self.status.ok_or_else(|| {
            Abort::Trap(format!(
                "the plugin called {}, which this host does not implement",
                self.what
            ))
        })
    }
}

/// An export with a typed fast path for the shapes proxy-wasm uses.
#[derive(Clone)]
pub enum Callable<W: Wasm> {
    V0(W::Typed<(), ()>),
    I1V(W::Typed<i32, ()>),
    I1I(W::Typed<i32, i32>),
    I2V(W::Typed<(i32, i32), ()>),
    I2I(W::Typed<(i32, i32), i32>),
    I3I(W::Typed<(i32, i32, i32), i32>),
    Dyn(W::Func),
}

impl<W: Wasm> Callable<W> {
    fn new(store: &W::Store, f: W::Func) -> Callable<W> {
        if let Some(t) = W::typed::<(), ()>(store, f) {
            return Callable::V0(t);
        }
        if let Some(t) = W::typed::<i32, ()>(store, f) {
            return Callable::I1V(t);
        }
        if let Some(t) = W::typed::<i32, i32>(store, f) {
            return Callable::I1I(t);
        }
        if let Some(t) = W::typed::<(i32, i32), ()>(store, f) {
            return Callable::I2V(t);
        }
        if let Some(t) = W::typed::<(i32, i32), i32>(store, f) {
            return Callable::I2I(t);
        }
        if let Some(t) = W::typed::<(i32, i32, i32), i32>(store, f) {
            return Callable::I3I(t);
        }
        Callable::Dyn(f)
    }
}

/// An export's typed call and its (parameters, results); None when the plugin does not export it.
type Exported<W> = Option<(Callable<W>, (usize, usize))>;

/// One instantiated plugin: the store and its exports, in [`Export::ALL`] order.
pub struct Instance<W: Wasm> {
    store: W::Store,
    exports: Vec<Exported<W>>,
}

impl<W: Wasm> Instance<W> {
    /// After instantiation: keeps the guest's memory and looks the exports up with `export`.
    pub fn new(
        mut store: W::Store,
        memory: Option<W::Memory>,
        mut export: impl FnMut(&mut W::Store, &str) -> Option<W::Func>,
    ) -> Instance<W> {
        W::data_mut(&mut store).memory = memory;
        let exports = Export::ALL
            .iter()
            .map(|e| {
                export(&mut store, e.name())
                    .map(|f| (Callable::new(&store, f), W::arity(&store, f)))
            })
            .collect();
        Instance { store, exports }
    }
}

impl<W: Wasm> Backend for Instance<W> {
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
            Callable::V0(t) => W::call::<(), ()>(s, &t, ()).map(|()| None),
            Callable::I1V(t) => W::call::<i32, ()>(s, &t, a(0)).map(|()| None),
            Callable::I1I(t) => W::call::<i32, i32>(s, &t, a(0)).map(Some),
            Callable::I2V(t) => W::call::<(i32, i32), ()>(s, &t, (a(0), a(1))).map(|()| None),
            Callable::I2I(t) => W::call::<(i32, i32), i32>(s, &t, (a(0), a(1))).map(Some),
            Callable::I3I(t) => W::call::<(i32, i32, i32), i32>(s, &t, (a(0), a(1), a(2))).map(Some),
            Callable::Dyn(func) => match W::call_dyn(s, func, a) {
                Ok(r) => r,
                Err(ty) => {
                    return Err(CallError::Signature(format!(
                        "{} has the signature {ty}; the host expects i32 parameters and at most one i32 result",
                        f.name()
                    )))
                }
            },
        };
        r.map_err(W::call_error)
    }

    fn arity(&self, f: Export) -> Option<(usize, usize)> {
        self.exports[f as usize].as_ref().map(|(_, a)| *a)
    }

    fn host(&mut self) -> &mut HostState {
        &mut W::data_mut(&mut self.store).host
    }

    fn host_ref(&self) -> &HostState {
        &W::data(&self.store).host
    }
}
