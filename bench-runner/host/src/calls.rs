//! What a plugin asks of its host, per request: every host call counted by name, with the bytes the
//! host copied in from the plugin's memory (keys, values, bodies, log lines, property paths) and the
//! bytes it copied out into memory the plugin allocated for the answer (header values, properties,
//! buffers). Pointer-sized results the host writes (a size, a status) are not counted as copies.
//!
//! The tally is always on: an increment per call, cheap next to the call itself. The request-header
//! operations with their keys ([`HeaderOp`]) are kept only when tracing is switched on
//! ([`crate::Vm::set_tracing`]), for the conformance checks that look at *which* headers were touched.

/// A host function as a plugin imports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostFn {
    pub module: &'static str,
    pub name: &'static str,
}

impl HostFn {
    /// `proxy_log` for proxy-wasm's `env` functions, `wasi:fd_write` for WASI ones (both preview-1
    /// module names read `wasi`).
    pub fn label(&self) -> String {
        if self.module == "env" {
            self.name.to_string()
        } else {
            format!("wasi:{}", self.name)
        }
    }
}

/// One host function's calls and copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCount {
    pub calls: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl std::ops::AddAssign for CallCount {
    fn add_assign(&mut self, o: CallCount) {
        self.calls += o.calls;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
    }
}

/// The running tally of a VM, indexed like [`crate::engines::defined_imports`].
#[derive(Debug, Clone, Default)]
pub struct Tally {
    counts: Vec<CallCount>,
    /// The host function in progress (copies are charged to it).
    current: usize,
}

impl Tally {
    /// A call of host function `index` begins; returns the one it interrupts (a host function that
    /// calls the plugin's allocator may see the plugin call the host again), to give back to
    /// [`Tally::leave`].
    pub fn enter(&mut self, index: usize) -> usize {
        if self.counts.len() <= index {
            self.counts.resize(index + 1, CallCount::default());
        }
        self.counts[index].calls += 1;
        std::mem::replace(&mut self.current, index)
    }

    pub fn leave(&mut self, previous: usize) {
        self.current = previous;
    }

    /// `n` bytes read from the plugin's memory for the call in progress.
    pub fn copied_in(&mut self, n: usize) {
        if let Some(c) = self.counts.get_mut(self.current) {
            c.bytes_in += n as u64;
        }
    }

    /// `n` bytes written into memory the plugin allocated for the call in progress.
    pub fn copied_out(&mut self, n: usize) {
        if let Some(c) = self.counts.get_mut(self.current) {
            c.bytes_out += n as u64;
        }
    }

    pub fn reset(&mut self) {
        self.counts
            .iter_mut()
            .for_each(|c| *c = CallCount::default());
    }

    /// The calls since the last reset, the host functions never called left out.
    pub fn snapshot(&self) -> HostCalls {
        let fns = crate::engines::host_fns();
        HostCalls(
            self.counts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.calls > 0)
                .map(|(i, c)| (fns[i], *c))
                .collect(),
        )
    }
}

/// The host calls of one request, each host function once (WASI's two module names merged), in the
/// order of the host's import list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostCalls(pub Vec<(HostFn, CallCount)>);

impl HostCalls {
    /// The tally of the function labelled `label` ([`HostFn::label`]: `proxy_log`, `wasi:fd_write`),
    /// zero when it was not called.
    pub fn get(&self, label: &str) -> CallCount {
        let mut sum = CallCount::default();
        for (f, c) in &self.0 {
            if f.label() == label {
                sum += *c;
            }
        }
        sum
    }

    /// Every called function by label with its tally, sorted by label.
    pub fn by_label(&self) -> Vec<(String, CallCount)> {
        let mut out: std::collections::BTreeMap<String, CallCount> = Default::default();
        for (f, c) in &self.0 {
            *out.entry(f.label()).or_default() += *c;
        }
        out.into_iter().collect()
    }

    pub fn total(&self) -> CallCount {
        let mut sum = CallCount::default();
        for (_, c) in &self.0 {
            sum += *c;
        }
        sum
    }
}

/// One operation on the request header map, as the plugin asked for it (kept while tracing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    Add { key: Vec<u8>, value: Vec<u8> },
    Replace { key: Vec<u8>, value: Vec<u8> },
    Get { key: Vec<u8> },
    Remove { key: Vec<u8> },
}

impl HeaderOp {
    pub fn key(&self) -> &[u8] {
        match self {
            HeaderOp::Add { key, .. }
            | HeaderOp::Replace { key, .. }
            | HeaderOp::Get { key }
            | HeaderOp::Remove { key } => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_charged_to_the_call_in_progress_and_nested_calls_give_it_back() {
        let mut t = Tally::default();
        let fns = crate::engines::host_fns();
        let log = fns.iter().position(|f| f.name == "proxy_log").unwrap();
        let get = fns
            .iter()
            .position(|f| f.name == "proxy_get_header_map_value")
            .unwrap();
        let outer = t.enter(get);
        t.copied_in(5);
        let inner = t.enter(log); // the plugin's allocator logged, say
        t.copied_in(3);
        t.leave(inner);
        t.copied_out(7);
        t.leave(outer);
        let s = t.snapshot();
        assert_eq!(
            s.get("proxy_get_header_map_value"),
            CallCount {
                calls: 1,
                bytes_in: 5,
                bytes_out: 7
            }
        );
        assert_eq!(
            s.get("proxy_log"),
            CallCount {
                calls: 1,
                bytes_in: 3,
                bytes_out: 0
            }
        );
        assert_eq!(s.get("proxy_send_local_response"), CallCount::default());
        assert_eq!(s.total().calls, 2);
        t.reset();
        assert!(t.snapshot().0.is_empty());
    }

    #[test]
    fn wasi_functions_are_labelled_once_for_both_module_names() {
        let fns = crate::engines::host_fns();
        let a = fns
            .iter()
            .position(|f| f.module == "wasi_snapshot_preview1" && f.name == "fd_write")
            .unwrap();
        let b = fns
            .iter()
            .position(|f| f.module == "wasi_unstable" && f.name == "fd_write")
            .unwrap();
        let mut t = Tally::default();
        t.enter(a);
        t.enter(b);
        let s = t.snapshot();
        assert_eq!(s.get("wasi:fd_write").calls, 2);
        assert_eq!(
            s.by_label(),
            vec![("wasi:fd_write".to_string(), s.get("wasi:fd_write"))]
        );
    }
}
