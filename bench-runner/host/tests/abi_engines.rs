//! The host through each engine with a hand-written test plugin: bad pointers and lengths come back
//! as error statuses, traps / proc_exit / stack overflow / a trapping allocator as errors (never a
//! panic of the host), unknown imports answer Unimplemented or ENOSYS, and memory growth during an
//! allocation is seen by the host.

use plugin_host::{Action, Engine, EngineKind, Error, Request, Vm};

/// The configuration's first byte selects what `proxy_on_request_headers` does.
const PLUGIN: &str = r#"
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $getprop (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $getbuf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response"
    (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_some_future_call" (func $future (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "other" "thing" (func $other))
  (memory (export "memory") 1)
  (data (i32.const 0x400) "xds\00route_name")
  (data (i32.const 0x410) "plugin says hi")
  (global $heap (mut i32) (i32.const 0x1000))
  (global $mode (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 0x200))

  (func (export "proxy_on_memory_allocate") (param $n i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $mode) (i32.const 0x61)) (then unreachable))        ;; 'a'
    (if (i32.eq (global.get $mode) (i32.const 0x6d)) (then                       ;; 'm': grow first
      (drop (memory.grow (i32.const 1)))
      (global.set $heap (i32.mul (i32.sub (memory.size) (i32.const 1)) (i32.const 65536)))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    (drop (call $getbuf (i32.const 7) (i32.const 0) (i32.const 1) (i32.const 0x300) (i32.const 0x304)))
    (global.set $mode (i32.load8_u (i32.load (i32.const 0x300))))
    (i32.ne (global.get $mode) (i32.const 0x72)))                                 ;; 'r' rejects
  (func $push (param $v i32)
    (i32.store8 (global.get $out) (local.get $v))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))
  (func $recurse (param $n i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))
  (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
    (local $m i32)
    (local.set $m (global.get $mode))
    (if (i32.eq (local.get $m) (i32.const 0x74)) (then unreachable))                        ;; 't'
    (if (i32.eq (local.get $m) (i32.const 0x78)) (then (call $exit (i32.const 3))))          ;; 'x'
    (if (i32.eq (local.get $m) (i32.const 0x75)) (then (call $other)))                       ;; 'u'
    (if (i32.eq (local.get $m) (i32.const 0x64)) (then (drop (call $recurse (i32.const 0))))) ;; 'd'
    (if (i32.or (i32.eq (local.get $m) (i32.const 0x61)) (i32.eq (local.get $m) (i32.const 0x6d)))
      (then                                                                          ;; 'a', 'm'
        (drop (call $getprop (i32.const 0x400) (i32.const 14) (i32.const 0x300) (i32.const 0x304)))
        (drop (call $reply (i32.const 200) (i32.const 0) (i32.const 0)
          (i32.load (i32.const 0x300)) (i32.load (i32.const 0x304)) (i32.const 0) (i32.const 0) (i32.const -1)))
        (return (i32.const 1))))
    (if (i32.eq (local.get $m) (i32.const 0x62)) (then                                   ;; 'b'
      (call $push (call $log (i32.const 2) (i32.const 0xfffffff0) (i32.const 100)))
      (call $push (call $log (i32.const 2) (i32.const 65530) (i32.const 100)))
      (call $push (call $getprop (i32.const 0xffff0000) (i32.const 14) (i32.const 0x300) (i32.const 0x304)))
      (call $push (call $getprop (i32.const 0x400) (i32.const 14) (i32.const 0xfffffffc) (i32.const 0x304)))
      (call $push (call $add (i32.const 0) (i32.const 0x400) (i32.const 3) (i32.const 0x400) (i32.const -1)))
      (call $push (call $get (i32.const 0) (i32.const 0x10000) (i32.const 1) (i32.const 0x300) (i32.const 0x304)))
      (call $push (call $getbuf (i32.const 7) (i32.const 0) (i32.const 10) (i32.const 0x300) (i32.const 0x304)))
      (call $push (call $fd_write (i32.const 1) (i32.const 0xffffff00) (i32.const 1) (i32.const 0x300)))
      (call $push (call $future (i32.const 0)))
      (call $push (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
        (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0x300)))
      (call $push (call $reply (i32.const 200) (i32.const 0) (i32.const 0) (i32.const -1) (i32.const 2)
        (i32.const 0) (i32.const 0) (i32.const -1)))
      ;; and one good call of each kind, so the statuses are not all errors by accident
      (call $push (call $log (i32.const 2) (i32.const 0x410) (i32.const 14)))
      (call $push (call $getprop (i32.const 0x400) (i32.const 14) (i32.const 0x300) (i32.const 0x304)))
      (drop (call $reply (i32.const 200) (i32.const 0) (i32.const 0)
        (i32.const 0x200) (i32.sub (global.get $out) (i32.const 0x200)) (i32.const 0) (i32.const 0) (i32.const -1)))
      (return (i32.const 1))))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32))
)
"#;

fn vm(kind: EngineKind, mode: &str) -> Vm {
    let wasm = wat::parse_str(PLUGIN).expect("test plugin parses");
    Vm::load(kind, &wasm, mode.as_bytes())
        .unwrap_or_else(|e| panic!("{kind}: loading the test plugin in mode {mode}: {e}"))
}

fn req() -> Request<'static> {
    Request::get("localhost", "/", Some("default/other"))
}

#[test]
fn bad_pointers_and_lengths_get_error_statuses_on_every_engine() {
    for kind in EngineKind::ALL {
        let mut v = vm(kind, "b");
        let out = v.request(&req()).unwrap();
        assert_eq!(out.action, Action::Pause(1));
        let body = out.local_reply.expect("a reply carrying the statuses").body;
        // log x2, get_property x2, add, get, get_buffer_bytes (not configuring), fd_write (EFAULT),
        // unknown env call (Unimplemented), unknown WASI call (ENOSYS), reply with a bad body,
        // then a good log and a good get_property.
        assert_eq!(
            body,
            vec![6, 6, 6, 6, 6, 6, 1, 21, 12, 52, 6, 0, 0],
            "{kind}"
        );
        assert_eq!(v.logs().len(), 1, "{kind}");
        assert_eq!(v.logs()[0].message, "plugin says hi");
        // The VM is still healthy.
        assert!(v.request(&req()).is_ok());
    }
}

#[test]
fn traps_and_exits_are_errors_and_fail_the_vm() {
    for kind in EngineKind::ALL {
        let mut v = vm(kind, "t");
        match v.request(&req()) {
            Err(Error::Trap { during, message }) => {
                assert_eq!(during, "proxy_on_request_headers");
                assert!(message.contains("unreachable"), "{kind}: {message}");
            }
            other => panic!("{kind}: expected a trap, got {other:?}"),
        }
        assert!(v.failure().is_some());
        assert!(matches!(v.request(&req()), Err(Error::Failed(_))));

        let mut v = vm(kind, "x");
        assert_eq!(
            v.request(&req()),
            Err(Error::Exit {
                during: "proxy_on_request_headers",
                code: 3
            }),
            "{kind}"
        );

        let mut v = vm(kind, "u");
        match v.request(&req()) {
            Err(Error::Trap { message, .. }) => {
                assert!(message.contains("other.thing"), "{kind}: {message}")
            }
            other => panic!("{kind}: expected a trap, got {other:?}"),
        }

        let mut v = vm(kind, "d");
        assert!(
            matches!(v.request(&req()), Err(Error::Trap { .. })),
            "{kind}: stack overflow must be a trap"
        );

        let mut v = vm(kind, "a");
        match v.request(&req()) {
            Err(Error::Trap { message, .. }) => {
                assert!(message.contains("unreachable"), "{kind}: {message}")
            }
            other => panic!("{kind}: expected the allocator's trap, got {other:?}"),
        }
    }
}

#[test]
fn memory_growth_during_allocation_is_seen() {
    for kind in EngineKind::ALL {
        let mut v = vm(kind, "m");
        let out = v.request(&req()).unwrap();
        assert_eq!(out.local_reply.unwrap().body, b"default/other", "{kind}");
        let out = v
            .request(&Request::get("h", "/foo", Some("default/foo")))
            .unwrap();
        assert_eq!(out.local_reply.unwrap().body, b"default/foo", "{kind}");
    }
}

#[test]
fn rejection_and_missing_exports() {
    for kind in EngineKind::ALL {
        let wasm = wat::parse_str(PLUGIN).unwrap();
        assert!(matches!(
            Vm::load(kind, &wasm, b"r"),
            Err(Error::Rejected(_))
        ));
        let engine = Engine::new(kind).unwrap();
        let empty = wat::parse_str("(module)").unwrap();
        let mut v = engine.compile(&empty).unwrap().instantiate().unwrap();
        assert_eq!(
            v.start(b""),
            Err(Error::MissingExport("proxy_on_context_create"))
        );
        assert!(matches!(
            engine.compile(b"not wasm"),
            Err(Error::Compile(_))
        ));
        let imports_memory =
            wat::parse_str(r#"(module (import "env" "memory" (memory 1)))"#).unwrap();
        assert!(matches!(
            engine.compile(&imports_memory),
            Err(Error::Instantiate(_))
        ));
    }
}

#[test]
fn a_trapping_start_function_is_an_error() {
    let wasm = wat::parse_str("(module (func $s unreachable) (start $s))").unwrap();
    for kind in EngineKind::ALL {
        let m = Engine::new(kind).unwrap().compile(&wasm).unwrap();
        assert!(
            matches!(m.instantiate(), Err(Error::Instantiate(_))),
            "{kind}"
        );
    }
}

/// Replies with the root context id its HTTP context was created under, and counts configures.
const ROOTS: &str = r#"
(module
  (import "env" "proxy_send_local_response"
    (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $parent (mut i32) (i32.const 0))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param $ctx i32) (param $parent i32)
    (if (local.get $parent) (then (global.set $parent (local.get $parent)))))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (i32.store8 (i32.const 0x100) (global.get $parent))
    (drop (call $reply (i32.const 200) (i32.const 0) (i32.const 0) (i32.const 0x100) (i32.const 1)
      (i32.const 0) (i32.const 0) (i32.const -1)))
    (i32.const 1)))
"#;

#[test]
fn several_root_contexts_share_one_vm() {
    let wasm = wat::parse_str(ROOTS).unwrap();
    for kind in EngineKind::ALL {
        let mut v = Vm::load(kind, &wasm, b"{}").unwrap();
        let first = v.request_root();
        let a = v.add_root(b"{}").unwrap().expect("accepted");
        let b = v.add_root(b"{}").unwrap().expect("accepted");
        assert!(
            first != a && a != b && first != b,
            "{kind}: {first} {a} {b}"
        );
        for root in [a, first, b] {
            let out = v.request_in(root, &req()).unwrap();
            assert_eq!(out.local_reply.unwrap().body, vec![root as u8], "{kind}");
        }
    }
    // A rejected configuration gives no root, and the VM stays usable.
    let mut v = vm(EngineKind::Cranelift, "m");
    assert_eq!(v.add_root(b"r").unwrap(), None);
    assert!(v.request(&req()).is_ok());
}
