//! The FFI layer: our own minimal declarations of the part of Envoy's dynamic-module C ABI
//! (`source/extensions/dynamic_modules/abi/abi.h`) this module uses, checked against the symbols
//! Envoy 1.40.0 exports (`nm -D --defined-only envoy | grep envoy_dynamic_module_callback_`). All
//! `unsafe` of the crate is here; each block says what Envoy guarantees.
//!
//! Envoy resolves every `envoy_dynamic_module_on_http_filter_*` hook below when it loads the filter
//! config (a missing one fails the config), so the hooks this module does not use are exported as
//! no-ops.

use crate::{parse_config, Filter, Host, Loaded, Next};
use std::ffi::{c_char, c_void};
use std::ptr;

/// The ABI version this module was written against: Envoy 1.40's `ENVOY_DYNAMIC_MODULES_ABI_VERSION`.
/// Envoy compares it with its own and only warns on a mismatch ("... is deprecated. Please recompile
/// the module ..."); on a match it logs "Dynamic module ABI version v0.2.0 matched.".
const ABI_VERSION: &[u8] = b"v0.2.0\0";

/// `envoy_dynamic_module_type_envoy_buffer` / `_module_buffer`: a pointer and a length.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Buffer {
    ptr: *const c_char,
    len: usize,
}

impl Buffer {
    const NULL: Buffer = Buffer {
        ptr: ptr::null(),
        len: 0,
    };

    fn of(bytes: &[u8]) -> Buffer {
        Buffer {
            ptr: bytes.as_ptr().cast(),
            len: bytes.len(),
        }
    }

    /// # Safety
    /// `ptr` must be null or point to `len` readable bytes that outlive the returned slice.
    unsafe fn as_slice<'a>(self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            std::slice::from_raw_parts(self.ptr.cast(), self.len)
        }
    }
}

/// `envoy_dynamic_module_type_http_header_type_RequestHeader`.
const REQUEST_HEADER: u32 = 0;
/// `envoy_dynamic_module_type_http_body_type_{Received,Buffered}RequestBody`.
const RECEIVED_REQUEST_BODY: u32 = 0;
const BUFFERED_REQUEST_BODY: u32 = 1;
/// `envoy_dynamic_module_type_attribute_id_XdsRouteName` (`xds.route_name`): the 62nd attribute.
const ATTRIBUTE_XDS_ROUTE_NAME: u32 = 61;
/// `envoy_dynamic_module_type_log_level_Warn`.
const LOG_WARN: u32 = 3;

// Status values of the request phases (`envoy_dynamic_module_type_on_http_filter_*_status`).
const HEADERS_CONTINUE: u32 = 0;
const HEADERS_STOP_ITERATION: u32 = 1;
const BODY_CONTINUE: u32 = 0;
const BODY_STOP_ITERATION_AND_BUFFER: u32 = 1;

type EnvoyFilter = *mut c_void;

extern "C" {
    fn envoy_dynamic_module_callback_log(level: u32, message: Buffer);
    fn envoy_dynamic_module_callback_http_get_header(
        filter: EnvoyFilter,
        header_type: u32,
        key: Buffer,
        result: *mut Buffer,
        index: usize,
        optional_size: *mut usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_add_header(
        filter: EnvoyFilter,
        header_type: u32,
        key: Buffer,
        value: Buffer,
    ) -> bool;
    /// A null value removes the header.
    fn envoy_dynamic_module_callback_http_set_header(
        filter: EnvoyFilter,
        header_type: u32,
        key: Buffer,
        value: Buffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_get_attribute_string(
        filter: EnvoyFilter,
        attribute: u32,
        result: *mut Buffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_body_chunks_size(
        filter: EnvoyFilter,
        body_type: u32,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_body_chunks(
        filter: EnvoyFilter,
        body_type: u32,
        result: *mut Buffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_received_buffered_request_body(
        filter: EnvoyFilter,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_send_response(
        filter: EnvoyFilter,
        status: u32,
        headers: *mut c_void,
        headers_len: usize,
        body: Buffer,
        details: Buffer,
    );
}

/// One stream's Envoy side: the `envoy_dynamic_module_type_http_filter_envoy_ptr` Envoy passes to
/// every hook, valid until `on_http_filter_destroy`.
struct Stream(EnvoyFilter);

impl Stream {
    /// Envoy's view of the first value of request header `key`, passed to `f` before the map can
    /// change.
    fn with_request_header<R>(&self, key: &str, f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        let mut out = Buffer::NULL;
        // SAFETY: the filter pointer is live during the hook; Envoy writes a view of its header map
        // into `out`, valid until the map changes, which it cannot before `f` returns.
        unsafe {
            let found = envoy_dynamic_module_callback_http_get_header(
                self.0,
                REQUEST_HEADER,
                Buffer::of(key.as_bytes()),
                &mut out,
                0,
                ptr::null_mut(),
            );
            f(found.then(|| out.as_slice()))
        }
    }
}

impl Host for Stream {
    fn request_header(&self, key: &str) -> Option<Vec<u8>> {
        self.with_request_header(key, |v| v.map(<[u8]>::to_vec))
    }

    fn request_header_is(&self, key: &str, want: &[u8]) -> bool {
        self.with_request_header(key, |v| v == Some(want))
    }

    fn add_request_header(&mut self, key: &str, value: &str) -> bool {
        // SAFETY: live filter pointer; Envoy copies the key and value during the call.
        unsafe {
            envoy_dynamic_module_callback_http_add_header(
                self.0,
                REQUEST_HEADER,
                Buffer::of(key.as_bytes()),
                Buffer::of(value.as_bytes()),
            )
        }
    }

    fn remove_request_header(&mut self, key: &str) -> bool {
        // SAFETY: live filter pointer; a null value means "remove".
        unsafe {
            envoy_dynamic_module_callback_http_set_header(
                self.0,
                REQUEST_HEADER,
                Buffer::of(key.as_bytes()),
                Buffer::NULL,
            )
        }
    }

    fn route_name(&self) -> Option<Vec<u8>> {
        let mut out = Buffer::NULL;
        // SAFETY: live filter pointer; Envoy writes a view of the route name (stream info) into `out`.
        unsafe {
            envoy_dynamic_module_callback_http_filter_get_attribute_string(
                self.0,
                ATTRIBUTE_XDS_ROUTE_NAME,
                &mut out,
            )
            .then(|| out.as_slice().to_vec())
        }
    }

    fn request_body(&self) -> Vec<u8> {
        let mut body = self.chunks(BUFFERED_REQUEST_BODY);
        // SAFETY: live filter pointer.
        let received_is_buffered =
            unsafe { envoy_dynamic_module_callback_http_received_buffered_request_body(self.0) };
        if !received_is_buffered {
            body.extend(self.chunks(RECEIVED_REQUEST_BODY));
        }
        body
    }

    fn send_reply(&mut self, body: &[u8]) {
        // SAFETY: live filter pointer; no headers; Envoy copies the body and details.
        unsafe {
            envoy_dynamic_module_callback_http_send_response(
                self.0,
                200,
                ptr::null_mut(),
                0,
                Buffer::of(body),
                Buffer::of(b"mock_response"),
            )
        }
    }
}

impl Stream {
    fn chunks(&self, body_type: u32) -> Vec<u8> {
        // SAFETY: live filter pointer; Envoy fills `n` buffer views of its body, which we copy
        // before returning to Envoy.
        unsafe {
            let n = envoy_dynamic_module_callback_http_get_body_chunks_size(self.0, body_type);
            if n == 0 {
                return Vec::new();
            }
            let mut views = vec![Buffer::NULL; n];
            if !envoy_dynamic_module_callback_http_get_body_chunks(
                self.0,
                body_type,
                views.as_mut_ptr(),
            ) {
                return Vec::new();
            }
            views.iter().flat_map(|b| b.as_slice()).copied().collect()
        }
    }
}

fn log_warn(line: &str) {
    // SAFETY: Envoy copies the message during the call.
    unsafe { envoy_dynamic_module_callback_log(LOG_WARN, Buffer::of(line.as_bytes())) }
}

/// # Safety
/// `filter` must be the pointer `on_http_filter_new` returned and not yet destroyed.
unsafe fn filter<'a>(filter: *const c_void) -> &'a mut Filter<'static> {
    &mut *(filter as *mut Filter<'static>)
}

// ---- event hooks Envoy calls ----------------------------------------------------------------

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const c_char {
    ABI_VERSION.as_ptr().cast()
}

/// The filter config: the `filter_config` bytes (a `google.protobuf.StringValue` arrives as its
/// string) parsed once; null refuses the config (Envoy then refuses the listener).
///
/// # Safety
/// Envoy passes buffers valid for the call.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    _config_envoy: *mut c_void,
    _name: Buffer,
    config: Buffer,
) -> *const c_void {
    match parse_config(config.as_slice()) {
        Ok(c) => Box::into_raw(Box::new(c)) as *const c_void,
        Err(line) => {
            log_warn(&line);
            ptr::null()
        }
    }
}

/// # Safety
/// `config` is a pointer `on_http_filter_config_new` returned; Envoy destroys it once, after
/// every filter made from it.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: *const c_void) {
    drop(Box::from_raw(config as *mut Loaded));
}

/// # Safety
/// `config` is a live config pointer; it outlives the filter (Envoy keeps the config while any
/// stream made from it exists), hence the `'static` borrow.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: *const c_void,
    _filter_envoy: *mut c_void,
) -> *const c_void {
    let config: &'static Loaded = &*(config as *const Loaded);
    Box::into_raw(Box::new(Filter::new(config))) as *const c_void
}

/// # Safety
/// Envoy passes the stream's live pointers.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    envoy: EnvoyFilter,
    module: *const c_void,
    end_of_stream: bool,
) -> u32 {
    match filter(module).on_request_headers(&mut Stream(envoy), end_of_stream) {
        Next::Continue => HEADERS_CONTINUE,
        Next::Stop | Next::Buffer => HEADERS_STOP_ITERATION,
    }
}

/// # Safety
/// Envoy passes the stream's live pointers.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    envoy: EnvoyFilter,
    module: *const c_void,
    end_of_stream: bool,
) -> u32 {
    match filter(module).on_request_body(&mut Stream(envoy), end_of_stream) {
        Next::Continue => BODY_CONTINUE,
        Next::Stop | Next::Buffer => BODY_STOP_ITERATION_AND_BUFFER,
    }
}

/// # Safety
/// `module` is a pointer `on_http_filter_new` returned; Envoy destroys it once.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_destroy(module: *const c_void) {
    drop(Box::from_raw(module as *mut Filter<'static>));
}

// ---- hooks this module does not use: exported because Envoy requires them -------------------

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
    _: EnvoyFilter,
    _: *const c_void,
) -> u32 {
    0 // Continue
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    _: EnvoyFilter,
    _: *const c_void,
    _: bool,
) -> u32 {
    0 // Continue
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
    _: EnvoyFilter,
    _: *const c_void,
    _: bool,
) -> u32 {
    0 // Continue
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
    _: EnvoyFilter,
    _: *const c_void,
) -> u32 {
    0 // Continue
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
    _: EnvoyFilter,
    _: *const c_void,
) {
}

/// Never called: this module starts no HTTP callouts, streams or scheduled events.
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_scheduled() {}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark()
{
}
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark()
{
}
