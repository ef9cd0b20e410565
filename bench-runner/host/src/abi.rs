//! The proxy-wasm ABI 0.2.1 host functions, written once over [`Env`] and bound to each engine in
//! `engines/`. Every pointer and length from the plugin is bounds-checked: a bad one gives the status
//! `InvalidMemoryAccess`, never a panic. Only a nested trap (the plugin's allocator failing) or
//! `proc_exit` abort a call; those come back to the caller of the export as an error.
//!
//! Every host function is `#[inline(never)]` (here and in `wasi.rs`): a profiler then sees each
//! proxy-wasm and WASI call under its own name on every engine (`bench-runner micro --instructions`
//! attributes instructions to them), at the price of one call instruction each.

use crate::calls::HeaderOp;
use crate::state::{deserialize_pairs, HeaderMap, HostState, LocalReply, Phase};

/// proxy-wasm `WasmResult` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Status {
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    SerializationFailure = 3,
    ParseFailure = 4,
    InvalidMemoryAccess = 6,
    Empty = 7,
    InternalFailure = 10,
    Unimplemented = 12,
}

/// Why a host call ends the whole guest call (becomes a trap in the engine).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Abort {
    #[error("the plugin called proc_exit({0})")]
    Exit(i32),
    #[error("{0}")]
    Trap(String),
}

pub type HostResult = Result<i32, Abort>;

/// What a host function sees: the guest's memory with the host state, and the guest's allocator.
pub trait Env {
    /// The guest's linear memory (empty when it exports none) and the host state, borrowed together.
    fn parts(&mut self) -> (&mut [u8], &mut HostState);
    /// Calls the plugin's `proxy_on_memory_allocate` (or `malloc`); 0 means it failed.
    fn alloc(&mut self, size: u32) -> Result<u32, Abort>;
}

pub fn read(mem: &[u8], ptr: u32, len: u32) -> Result<&[u8], Status> {
    let start = ptr as usize;
    let end = start
        .checked_add(len as usize)
        .ok_or(Status::InvalidMemoryAccess)?;
    mem.get(start..end).ok_or(Status::InvalidMemoryAccess)
}

/// [`read`] of a payload (a key, a value, a body, a log line, a property path), counted as bytes
/// copied into the host by the host call in progress.
pub fn read_in<'m>(
    mem: &'m [u8],
    st: &mut HostState,
    ptr: u32,
    len: u32,
) -> Result<&'m [u8], Status> {
    let data = read(mem, ptr, len)?;
    st.calls.copied_in(data.len());
    Ok(data)
}

pub fn write(mem: &mut [u8], ptr: u32, data: &[u8]) -> Result<(), Status> {
    let start = ptr as usize;
    let end = start
        .checked_add(data.len())
        .ok_or(Status::InvalidMemoryAccess)?;
    mem.get_mut(start..end)
        .ok_or(Status::InvalidMemoryAccess)?
        .copy_from_slice(data);
    Ok(())
}

pub fn write_u32(mem: &mut [u8], ptr: u32, v: u32) -> Result<(), Status> {
    write(mem, ptr, &v.to_le_bytes())
}

pub fn write_u64(mem: &mut [u8], ptr: u32, v: u64) -> Result<(), Status> {
    write(mem, ptr, &v.to_le_bytes())
}

/// Runs `f` on memory and state; a `Status` error becomes the returned status code.
fn with<E: Env>(
    env: &mut E,
    f: impl FnOnce(&mut [u8], &mut HostState) -> Result<(), Status>,
) -> HostResult {
    let (mem, st) = env.parts();
    Ok(match f(mem, st) {
        Ok(()) => Status::Ok,
        Err(s) => s,
    } as i32)
}

/// Envoy's `copyToPointerSize`: allocate in the guest (nothing for empty data), copy, then write the
/// pointer and the size.
fn copy_out<E: Env>(env: &mut E, data: &[u8], ptr_ptr: u32, size_ptr: u32) -> HostResult {
    let mut addr = 0;
    if !data.is_empty() {
        addr = env.alloc(data.len() as u32)?;
        if addr == 0 {
            return Ok(Status::InvalidMemoryAccess as i32);
        }
    }
    with(env, |mem, st| {
        if !data.is_empty() {
            write(mem, addr, data)?;
            st.calls.copied_out(data.len());
        }
        write_u32(mem, ptr_ptr, addr)?;
        write_u32(mem, size_ptr, data.len() as u32)
    })
}

macro_rules! try_status {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(s) => return Ok(s as i32),
        }
    };
}

// ---- logging, time, ticks ----

#[inline(never)]
pub fn proxy_log<E: Env>(env: &mut E, level: i32, ptr: i32, len: i32) -> HostResult {
    with(env, |mem, st| {
        let msg = String::from_utf8_lossy(read_in(mem, st, ptr as u32, len as u32)?).into_owned();
        st.log(level, msg);
        Ok(())
    })
}

/// Envoy's default log level is info (2).
#[inline(never)]
pub fn proxy_get_log_level<E: Env>(env: &mut E, ret: i32) -> HostResult {
    with(env, |mem, _| write_u32(mem, ret as u32, 2))
}

#[inline(never)]
pub fn proxy_set_tick_period_milliseconds<E: Env>(env: &mut E, period: i32) -> HostResult {
    env.parts().1.tick_period_ms = period as u32;
    Ok(Status::Ok as i32)
}

#[inline(never)]
pub fn proxy_get_current_time_nanoseconds<E: Env>(env: &mut E, ret: i32) -> HostResult {
    with(env, |mem, st| {
        let now = st.now_ns();
        write_u64(mem, ret as u32, now)
    })
}

// ---- properties ----

/// Looks up a NUL-separated property path exactly as stock Envoy 1.40 does for the paths the plugins
/// use: `xds` NUL `route_name` is the route's name; a top-level `route_name` (a Higress patch) is
/// NotFound; a trailing NUL makes an empty last segment, which is NotFound too.
pub fn lookup_property(st: &HostState, path: &[u8]) -> Option<Vec<u8>> {
    if path == b"xds\0route_name" {
        return st.route_name.clone();
    }
    st.properties
        .iter()
        .find(|(k, _)| k == path)
        .map(|(_, v)| v.clone())
}

#[inline(never)]
pub fn proxy_get_property<E: Env>(
    env: &mut E,
    path_ptr: i32,
    path_len: i32,
    ret_ptr: i32,
    ret_len: i32,
) -> HostResult {
    let value = {
        let (mem, st) = env.parts();
        let path = try_status!(read_in(mem, st, path_ptr as u32, path_len as u32));
        match lookup_property(st, path) {
            Some(v) => v,
            None => return Ok(Status::NotFound as i32),
        }
    };
    copy_out(env, &value, ret_ptr as u32, ret_len as u32)
}

#[inline(never)]
pub fn proxy_set_property<E: Env>(
    env: &mut E,
    path_ptr: i32,
    path_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> HostResult {
    with(env, |mem, st| {
        let path = read_in(mem, st, path_ptr as u32, path_len as u32)?.to_vec();
        let value = read_in(mem, st, val_ptr as u32, val_len as u32)?.to_vec();
        match st.properties.iter_mut().find(|(k, _)| *k == path) {
            Some(slot) => slot.1 = value,
            None => st.properties.push((path, value)),
        }
        Ok(())
    })
}

// ---- buffers ----

pub const BUFFER_REQUEST_BODY: i32 = 0;
pub const BUFFER_VM_CONFIGURATION: i32 = 6;
pub const BUFFER_PLUGIN_CONFIGURATION: i32 = 7;

/// Envoy serves the configuration buffers only while the VM starts or is configured, the request
/// body (what it has buffered so far) only in a request callback.
fn buffer(st: &HostState, kind: i32) -> Option<&[u8]> {
    match kind {
        BUFFER_VM_CONFIGURATION => Some(&st.vm_config),
        BUFFER_PLUGIN_CONFIGURATION if st.phase == Phase::Configuring => Some(&st.plugin_config),
        BUFFER_REQUEST_BODY if st.phase == Phase::Request => Some(&st.request_body),
        _ => None,
    }
}

#[inline(never)]
pub fn proxy_get_buffer_bytes<E: Env>(
    env: &mut E,
    kind: i32,
    start: i32,
    max: i32,
    ret_ptr: i32,
    ret_len: i32,
) -> HostResult {
    let data = {
        let (_, st) = env.parts();
        let Some(buf) = buffer(st, kind) else {
            return Ok(Status::NotFound as i32);
        };
        let start = start as u32 as usize;
        if start.checked_add(max as u32 as usize).is_none() {
            return Ok(Status::BadArgument as i32);
        }
        if start > buf.len() {
            return Ok(Status::BadArgument as i32);
        }
        let len = (max as u32 as usize).min(buf.len() - start);
        if len == 0 {
            // Envoy returns Ok without writing the pointer and size for an empty range.
            return Ok(Status::Ok as i32);
        }
        buf[start..start + len].to_vec()
    };
    copy_out(env, &data, ret_ptr as u32, ret_len as u32)
}

#[inline(never)]
pub fn proxy_get_buffer_status<E: Env>(
    env: &mut E,
    kind: i32,
    len_ptr: i32,
    flags_ptr: i32,
) -> HostResult {
    with(env, |mem, st| {
        let len = buffer(st, kind).ok_or(Status::NotFound)?.len();
        write_u32(mem, len_ptr as u32, len as u32)?;
        write_u32(mem, flags_ptr as u32, 0)
    })
}

#[inline(never)]
pub fn proxy_set_buffer_bytes<E: Env>(
    env: &mut E,
    _kind: i32,
    _start: i32,
    _len: i32,
    data_ptr: i32,
    data_len: i32,
) -> HostResult {
    with(env, |mem, st| {
        read_in(mem, st, data_ptr as u32, data_len as u32)?;
        Err(Status::NotFound)
    })
}

// ---- header maps ----

pub const MAP_REQUEST_HEADERS: i32 = 0;
pub const MAP_RESPONSE_HEADERS: i32 = 2;

fn map_mut(st: &mut HostState, kind: i32) -> Result<&mut HeaderMap, Status> {
    match (kind, st.phase) {
        (MAP_REQUEST_HEADERS, Phase::Request) => Ok(&mut st.request_headers),
        (MAP_RESPONSE_HEADERS, Phase::Request) => Ok(&mut st.response_headers),
        _ => Err(Status::BadArgument),
    }
}

#[inline(never)]
pub fn proxy_get_header_map_value<E: Env>(
    env: &mut E,
    kind: i32,
    key_ptr: i32,
    key_len: i32,
    ret_ptr: i32,
    ret_len: i32,
) -> HostResult {
    let value = {
        let (mem, st) = env.parts();
        let key = try_status!(read_in(mem, st, key_ptr as u32, key_len as u32));
        if kind == MAP_REQUEST_HEADERS {
            st.traced(|| HeaderOp::Get { key: key.to_vec() });
        }
        let map = try_status!(map_mut(st, kind));
        match map.get(key) {
            Some(v) => v.to_vec(),
            None => return Ok(Status::NotFound as i32),
        }
    };
    copy_out(env, &value, ret_ptr as u32, ret_len as u32)
}

#[inline(never)]
pub fn proxy_add_header_map_value<E: Env>(
    env: &mut E,
    kind: i32,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> HostResult {
    with_header_map(
        env,
        kind,
        (key_ptr, key_len),
        (val_ptr, val_len),
        HeaderMap::add,
        |key, value| HeaderOp::Add { key, value },
    )
}

#[inline(never)]
pub fn proxy_replace_header_map_value<E: Env>(
    env: &mut E,
    kind: i32,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> HostResult {
    with_header_map(
        env,
        kind,
        (key_ptr, key_len),
        (val_ptr, val_len),
        HeaderMap::replace,
        |key, value| HeaderOp::Replace { key, value },
    )
}

/// The shape of add and replace: read the key and the value (pointer, length), then change the map;
/// `op` names the change for the trace.
fn with_header_map<E: Env>(
    env: &mut E,
    kind: i32,
    (key_ptr, key_len): (i32, i32),
    (val_ptr, val_len): (i32, i32),
    change: impl FnOnce(&mut HeaderMap, &[u8], &[u8]),
    op: impl FnOnce(Vec<u8>, Vec<u8>) -> HeaderOp,
) -> HostResult {
    with(env, |mem, st| {
        let key = read_in(mem, st, key_ptr as u32, key_len as u32)?;
        let value = read_in(mem, st, val_ptr as u32, val_len as u32)?;
        if kind == MAP_REQUEST_HEADERS {
            st.traced(|| op(key.to_vec(), value.to_vec()));
        }
        change(map_mut(st, kind)?, key, value);
        Ok(())
    })
}

#[inline(never)]
pub fn proxy_remove_header_map_value<E: Env>(
    env: &mut E,
    kind: i32,
    key_ptr: i32,
    key_len: i32,
) -> HostResult {
    with(env, |mem, st| {
        let key = read_in(mem, st, key_ptr as u32, key_len as u32)?;
        if kind == MAP_REQUEST_HEADERS {
            st.traced(|| HeaderOp::Remove { key: key.to_vec() });
        }
        map_mut(st, kind)?.remove(key);
        Ok(())
    })
}

#[inline(never)]
pub fn proxy_get_header_map_pairs<E: Env>(
    env: &mut E,
    kind: i32,
    ret_ptr: i32,
    ret_len: i32,
) -> HostResult {
    let data = {
        let (_, st) = env.parts();
        try_status!(map_mut(st, kind)).serialize()
    };
    copy_out(env, &data, ret_ptr as u32, ret_len as u32)
}

#[inline(never)]
pub fn proxy_set_header_map_pairs<E: Env>(
    env: &mut E,
    kind: i32,
    ptr: i32,
    len: i32,
) -> HostResult {
    with(env, |mem, st| {
        let data = read_in(mem, st, ptr as u32, len as u32)?;
        let pairs = deserialize_pairs(data).ok_or(Status::BadArgument)?;
        let map = map_mut(st, kind)?;
        *map = HeaderMap::from_pairs(&pairs);
        Ok(())
    })
}

#[inline(never)]
pub fn proxy_get_header_map_size<E: Env>(env: &mut E, kind: i32, ret: i32) -> HostResult {
    with(env, |mem, st| {
        let size = map_mut(st, kind)?.serialize().len();
        write_u32(mem, ret as u32, size as u32)
    })
}

// ---- stream control ----

#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn proxy_send_local_response<E: Env>(
    env: &mut E,
    status: i32,
    details_ptr: i32,
    details_len: i32,
    body_ptr: i32,
    body_len: i32,
    headers_ptr: i32,
    headers_len: i32,
    grpc_status: i32,
) -> HostResult {
    with(env, |mem, st| {
        let details = read_in(mem, st, details_ptr as u32, details_len as u32)?.to_vec();
        let body = read_in(mem, st, body_ptr as u32, body_len as u32)?.to_vec();
        let headers = deserialize_pairs(read_in(mem, st, headers_ptr as u32, headers_len as u32)?)
            .ok_or(Status::BadArgument)?;
        if st.phase != Phase::Request {
            return Err(Status::BadArgument);
        }
        st.local_reply = Some(LocalReply {
            status: status as u32,
            details,
            body,
            headers,
            grpc_status,
        });
        Ok(())
    })
}

#[inline(never)]
pub fn proxy_continue_stream<E: Env>(_env: &mut E, _stream: i32) -> HostResult {
    Ok(Status::Ok as i32)
}

#[inline(never)]
pub fn proxy_close_stream<E: Env>(_env: &mut E, _stream: i32) -> HostResult {
    Ok(Status::Ok as i32)
}

/// ABI 0.2.0 spellings.
#[inline(never)]
pub fn proxy_continue_request<E: Env>(_env: &mut E) -> HostResult {
    Ok(Status::Ok as i32)
}

#[inline(never)]
pub fn proxy_continue_response<E: Env>(_env: &mut E) -> HostResult {
    Ok(Status::Ok as i32)
}

#[inline(never)]
pub fn proxy_done<E: Env>(_env: &mut E) -> HostResult {
    Ok(Status::Ok as i32)
}

#[inline(never)]
pub fn proxy_set_effective_context<E: Env>(env: &mut E, ctx: i32) -> HostResult {
    env.parts().1.effective_context = ctx as u32;
    Ok(Status::Ok as i32)
}

/// The status of the last HTTP/gRPC call: there never is one here.
#[inline(never)]
pub fn proxy_get_status<E: Env>(
    env: &mut E,
    code_ptr: i32,
    msg_ptr: i32,
    msg_len: i32,
) -> HostResult {
    with(env, |mem, _| {
        write_u32(mem, code_ptr as u32, 0)?;
        write_u32(mem, msg_ptr as u32, 0)?;
        write_u32(mem, msg_len as u32, 0)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::serialize_pairs;

    /// A fake guest: 64 KiB of memory and a bump allocator from 32 KiB; `alloc_fails` makes the
    /// allocator return 0, `alloc_traps` makes it trap.
    pub struct FakeEnv {
        pub mem: Vec<u8>,
        pub st: HostState,
        pub next: u32,
        pub alloc_fails: bool,
        pub alloc_traps: bool,
    }

    impl FakeEnv {
        pub fn new() -> FakeEnv {
            FakeEnv {
                mem: vec![0; 65536],
                st: HostState::default(),
                next: 32768,
                alloc_fails: false,
                alloc_traps: false,
            }
        }
        pub fn put(&mut self, at: u32, data: &[u8]) {
            self.mem[at as usize..at as usize + data.len()].copy_from_slice(data);
        }
        pub fn u32_at(&self, at: u32) -> u32 {
            let b = &self.mem[at as usize..at as usize + 4];
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }
        /// The bytes a `copy_out` returned through (ptr_ptr, size_ptr).
        pub fn returned(&self, ptr_ptr: u32, size_ptr: u32) -> Vec<u8> {
            let (p, n) = (self.u32_at(ptr_ptr), self.u32_at(size_ptr));
            self.mem[p as usize..(p + n) as usize].to_vec()
        }
    }

    impl Env for FakeEnv {
        fn parts(&mut self) -> (&mut [u8], &mut HostState) {
            (&mut self.mem, &mut self.st)
        }
        fn alloc(&mut self, size: u32) -> Result<u32, Abort> {
            if self.alloc_traps {
                return Err(Abort::Trap("allocator trapped".into()));
            }
            if self.alloc_fails {
                return Ok(0);
            }
            let at = self.next;
            self.next += size.max(1);
            Ok(at)
        }
    }

    const BAD: i32 = 70000; // past the 64 KiB of the fake memory
    const OK: i32 = Status::Ok as i32;
    const OOB: i32 = Status::InvalidMemoryAccess as i32;

    fn in_request(env: &mut FakeEnv) {
        env.st.phase = Phase::Request;
        env.st.request_headers = HeaderMap::from_pairs(&[(":authority", "h"), (":path", "/x")]);
    }

    #[test]
    fn memory_helpers_reject_out_of_bounds_and_overflow() {
        let mut m = vec![0u8; 16];
        assert!(read(&m, 0, 16).is_ok());
        assert_eq!(read(&m, 1, 16), Err(Status::InvalidMemoryAccess));
        assert_eq!(read(&m, u32::MAX, 2), Err(Status::InvalidMemoryAccess));
        assert_eq!(read(&m, 16, 0), Ok(&[][..]));
        assert_eq!(write_u32(&mut m, 13, 1), Err(Status::InvalidMemoryAccess));
        assert_eq!(write_u64(&mut m, 8, 7), Ok(()));
    }

    #[test]
    fn log_records_and_rejects_bad_pointer() {
        let mut e = FakeEnv::new();
        e.put(100, b"hello");
        assert_eq!(proxy_log(&mut e, 3, 100, 5), Ok(OK));
        assert_eq!(e.st.logs[0].message, "hello");
        assert_eq!(e.st.logs[0].level, 3);
        assert_eq!(proxy_log(&mut e, 3, BAD, 5), Ok(OOB));
        assert_eq!(proxy_log(&mut e, 3, 100, -1), Ok(OOB));
        assert_eq!(e.st.logs.len(), 1);
    }

    #[test]
    fn log_level_time_tick() {
        let mut e = FakeEnv::new();
        assert_eq!(proxy_get_log_level(&mut e, 8), Ok(OK));
        assert_eq!(e.u32_at(8), 2);
        assert_eq!(proxy_get_log_level(&mut e, BAD), Ok(OOB));
        assert_eq!(proxy_get_current_time_nanoseconds(&mut e, 16), Ok(OK));
        let t1 = u64::from_le_bytes(e.mem[16..24].try_into().unwrap());
        assert_eq!(proxy_get_current_time_nanoseconds(&mut e, 16), Ok(OK));
        let t2 = u64::from_le_bytes(e.mem[16..24].try_into().unwrap());
        assert!(t2 > t1 && t1 > crate::state::CLOCK_START_NS);
        assert_eq!(proxy_get_current_time_nanoseconds(&mut e, 65532), Ok(OOB));
        assert_eq!(proxy_set_tick_period_milliseconds(&mut e, 1000), Ok(OK));
        assert_eq!(e.st.tick_period_ms, 1000);
    }

    #[test]
    fn get_property_route_name_like_stock_envoy() {
        let mut e = FakeEnv::new();
        e.st.route_name = Some(b"default/foo".to_vec());
        e.put(100, b"xds\0route_name");
        assert_eq!(proxy_get_property(&mut e, 100, 14, 8, 12), Ok(OK));
        assert_eq!(e.returned(8, 12), b"default/foo");
        // The Higress top-level name is NotFound in stock Envoy, and so is a trailing NUL.
        e.put(200, b"route_name");
        assert_eq!(proxy_get_property(&mut e, 200, 10, 8, 12), Ok(1));
        e.put(300, b"xds\0route_name\0");
        assert_eq!(proxy_get_property(&mut e, 300, 15, 8, 12), Ok(1));
        // Bad path pointer, bad return pointers, failing and trapping allocator.
        assert_eq!(proxy_get_property(&mut e, BAD, 14, 8, 12), Ok(OOB));
        assert_eq!(proxy_get_property(&mut e, 100, 14, BAD, 12), Ok(OOB));
        assert_eq!(proxy_get_property(&mut e, 100, 14, 8, BAD), Ok(OOB));
        e.alloc_fails = true;
        assert_eq!(proxy_get_property(&mut e, 100, 14, 8, 12), Ok(OOB));
        e.alloc_fails = false;
        e.alloc_traps = true;
        assert!(matches!(
            proxy_get_property(&mut e, 100, 14, 8, 12),
            Err(Abort::Trap(_))
        ));
    }

    #[test]
    fn set_property_then_get() {
        let mut e = FakeEnv::new();
        e.put(100, b"a\0b");
        e.put(200, b"value");
        assert_eq!(proxy_set_property(&mut e, 100, 3, 200, 5), Ok(OK));
        assert_eq!(proxy_get_property(&mut e, 100, 3, 8, 12), Ok(OK));
        assert_eq!(e.returned(8, 12), b"value");
        assert_eq!(proxy_set_property(&mut e, 100, 3, BAD, 5), Ok(OOB));
    }

    #[test]
    fn get_buffer_bytes_serves_configuration_only_while_configuring() {
        let mut e = FakeEnv::new();
        e.st.plugin_config = b"{\"content\":\"x\"}".to_vec();
        e.st.vm_config = b"vm".to_vec();
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_PLUGIN_CONFIGURATION, 0, 1000, 8, 12),
            Ok(1)
        );
        e.st.phase = Phase::Configuring;
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_PLUGIN_CONFIGURATION, 0, 1000, 8, 12),
            Ok(OK)
        );
        assert_eq!(e.returned(8, 12), b"{\"content\":\"x\"}");
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_PLUGIN_CONFIGURATION, 2, 7, 8, 12),
            Ok(OK)
        );
        assert_eq!(e.returned(8, 12), b"content");
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_VM_CONFIGURATION, 0, 10, 8, 12),
            Ok(OK)
        );
        assert_eq!(e.returned(8, 12), b"vm");
        assert_eq!(proxy_get_buffer_bytes(&mut e, 0, 0, 10, 8, 12), Ok(1));
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_PLUGIN_CONFIGURATION, 100, 1, 8, 12),
            Ok(2)
        );
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_PLUGIN_CONFIGURATION, 0, 10, BAD, 12),
            Ok(OOB)
        );
        assert_eq!(
            proxy_get_buffer_bytes(&mut e, BUFFER_PLUGIN_CONFIGURATION, 0, 10, 8, -4),
            Ok(OOB)
        );
        assert_eq!(
            proxy_get_buffer_status(&mut e, BUFFER_VM_CONFIGURATION, 8, 12),
            Ok(OK)
        );
        assert_eq!(e.u32_at(8), 2);
        assert_eq!(proxy_get_buffer_status(&mut e, 0, 8, 12), Ok(1));
        assert_eq!(proxy_get_buffer_status(&mut e, 6, BAD, 12), Ok(OOB));
        assert_eq!(proxy_set_buffer_bytes(&mut e, 0, 0, 0, 100, 1), Ok(1));
        assert_eq!(proxy_set_buffer_bytes(&mut e, 0, 0, 0, BAD, 1), Ok(OOB));
    }

    #[test]
    fn header_map_calls() {
        let mut e = FakeEnv::new();
        e.put(100, b":authority");
        // No request in flight: the map does not exist.
        assert_eq!(proxy_get_header_map_value(&mut e, 0, 100, 10, 8, 12), Ok(2));
        in_request(&mut e);
        assert_eq!(
            proxy_get_header_map_value(&mut e, 0, 100, 10, 8, 12),
            Ok(OK)
        );
        assert_eq!(e.returned(8, 12), b"h");
        assert_eq!(proxy_get_header_map_value(&mut e, 9, 100, 10, 8, 12), Ok(2));
        e.put(200, b"X-Bench-0v0");
        assert_eq!(
            proxy_add_header_map_value(&mut e, 0, 200, 9, 209, 2),
            Ok(OK)
        );
        assert_eq!(e.st.request_headers.get(b"x-bench-0"), Some(&b"v0"[..]));
        assert_eq!(proxy_get_header_map_value(&mut e, 0, 200, 9, 8, 12), Ok(OK));
        assert_eq!(e.returned(8, 12), b"v0");
        e.put(300, b"v9");
        assert_eq!(
            proxy_replace_header_map_value(&mut e, 0, 200, 9, 300, 2),
            Ok(OK)
        );
        assert_eq!(e.st.request_headers.get(b"x-bench-0"), Some(&b"v9"[..]));
        assert_eq!(proxy_remove_header_map_value(&mut e, 0, 200, 9), Ok(OK));
        assert_eq!(proxy_get_header_map_value(&mut e, 0, 200, 9, 8, 12), Ok(1));
        // Bad pointers and lengths: an error status, the map unchanged.
        let before = e.st.request_headers.clone();
        assert_eq!(
            proxy_add_header_map_value(&mut e, 0, BAD, 9, 209, 2),
            Ok(OOB)
        );
        assert_eq!(
            proxy_add_header_map_value(&mut e, 0, 200, 9, 209, 1 << 30),
            Ok(OOB)
        );
        assert_eq!(
            proxy_replace_header_map_value(&mut e, 0, 200, -1, 300, 2),
            Ok(OOB)
        );
        assert_eq!(proxy_remove_header_map_value(&mut e, 0, 65535, 2), Ok(OOB));
        assert_eq!(
            proxy_get_header_map_value(&mut e, 0, 100, 10, BAD, 12),
            Ok(OOB)
        );
        assert_eq!(e.st.request_headers, before);
    }

    #[test]
    fn header_map_pairs_and_size() {
        let mut e = FakeEnv::new();
        in_request(&mut e);
        assert_eq!(proxy_get_header_map_pairs(&mut e, 0, 8, 12), Ok(OK));
        let got = deserialize_pairs(&e.returned(8, 12)).unwrap();
        assert_eq!(got, e.st.request_headers.pairs);
        assert_eq!(proxy_get_header_map_size(&mut e, 0, 16), Ok(OK));
        assert_eq!(
            e.u32_at(16) as usize,
            e.st.request_headers.serialize().len()
        );
        let new = serialize_pairs(&[(b"a".to_vec(), b"1".to_vec())]);
        e.put(1000, &new);
        assert_eq!(
            proxy_set_header_map_pairs(&mut e, 0, 1000, new.len() as i32),
            Ok(OK)
        );
        assert_eq!(
            e.st.request_headers.pairs,
            vec![(b"a".to_vec(), b"1".to_vec())]
        );
        // Truncated serialisation and bad pointers.
        assert_eq!(
            proxy_set_header_map_pairs(&mut e, 0, 1000, new.len() as i32 - 1),
            Ok(2)
        );
        assert_eq!(proxy_set_header_map_pairs(&mut e, 0, BAD, 4), Ok(OOB));
        assert_eq!(proxy_get_header_map_pairs(&mut e, 0, BAD, 12), Ok(OOB));
        assert_eq!(proxy_get_header_map_size(&mut e, 0, BAD), Ok(OOB));
        assert_eq!(proxy_get_header_map_pairs(&mut e, 5, 8, 12), Ok(2));
    }

    #[test]
    fn send_local_response_records_the_reply() {
        let mut e = FakeEnv::new();
        e.put(100, b"details");
        e.put(200, b"body!");
        let hdrs = serialize_pairs(&[(b"x-a".to_vec(), b"b".to_vec())]);
        e.put(300, &hdrs);
        let n = hdrs.len() as i32;
        // Outside a request there is nothing to reply to.
        assert_eq!(
            proxy_send_local_response(&mut e, 200, 100, 7, 200, 5, 300, n, -1),
            Ok(2)
        );
        in_request(&mut e);
        assert_eq!(
            proxy_send_local_response(&mut e, 200, 100, 7, 200, 5, 300, n, -1),
            Ok(OK)
        );
        let r = e.st.local_reply.clone().unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.grpc_status),
            (200, &b"body!"[..], -1)
        );
        assert_eq!(r.details, b"details");
        assert_eq!(r.headers, vec![(b"x-a".to_vec(), b"b".to_vec())]);
        e.st.local_reply = None;
        assert_eq!(
            proxy_send_local_response(&mut e, 200, 100, 7, BAD, 5, 300, n, -1),
            Ok(OOB)
        );
        assert_eq!(
            proxy_send_local_response(&mut e, 200, 100, 7, 200, 5, 300, n - 1, -1),
            Ok(2)
        );
        assert_eq!(
            proxy_send_local_response(&mut e, 200, 0, 0, 0, 0, 0, 0, -1),
            Ok(OK)
        );
        assert!(e.st.local_reply.as_ref().unwrap().body.is_empty());
    }

    #[test]
    fn stream_control_and_status() {
        let mut e = FakeEnv::new();
        assert_eq!(proxy_continue_stream(&mut e, 0), Ok(OK));
        assert_eq!(proxy_close_stream(&mut e, 0), Ok(OK));
        assert_eq!(proxy_continue_request(&mut e), Ok(OK));
        assert_eq!(proxy_continue_response(&mut e), Ok(OK));
        assert_eq!(proxy_done(&mut e), Ok(OK));
        assert_eq!(proxy_set_effective_context(&mut e, 7), Ok(OK));
        assert_eq!(e.st.effective_context, 7);
        e.put(8, &[9; 12]);
        assert_eq!(proxy_get_status(&mut e, 8, 12, 16), Ok(OK));
        assert_eq!((e.u32_at(8), e.u32_at(16)), (0, 0));
        assert_eq!(proxy_get_status(&mut e, BAD, 12, 16), Ok(OOB));
    }
}
