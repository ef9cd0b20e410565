//! The plugins' own unit tests, each in its language's tool, so that `cargo test --workspace` runs
//! them too: Rust (`cargo test` of the Wasm plugin's pure parts, the dynamic module and the external
//! processor, on the host), Go (`go test` of both plugins and their shared configuration module), C++
//! (`test.sh`: the JSON reader and configuration under AddressSanitizer and UBSan), AssemblyScript
//! (Node over the compiled module: configuration parsing) and Lua (LuaJIT over the filter script).
//!
//! A missing toolchain fails its test with the fix, unless `BENCH_TEST_SKIP` names the implementation
//! (then it prints `LEFT OUT`), as everywhere in the tests.

mod common;
use common::*;
use std::process::{Command, Output};

/// Whether `name`'s tests run: false (printed) when BENCH_TEST_SKIP names it; else `program` must be
/// on PATH, or the test fails with `fix`.
fn runs(name: &str, program: &str, fix: &str) -> bool {
    if opted_out(name) {
        eprintln!("LEFT OUT {name} unit tests ({SKIP_VAR} names it)");
        return false;
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{name}: {program} is not installed: {fix} (or {SKIP_VAR}={name} to leave it out)"
    );
    true
}

/// Runs `argv` in `plugins/<dir>` and fails the test with its output unless it succeeds.
fn passes(dir: &str, argv: &[&str]) {
    let mut c = Command::new(argv[0]);
    c.args(&argv[1..])
        .current_dir(root().join("plugins").join(dir))
        // The plugin crates build into their own folders, whatever the workspace's target dir is.
        .env_remove("CARGO_TARGET_DIR");
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("plugins/{dir}: cannot run {argv:?} ({e})"));
    assert_succeeded(&format!("plugins/{dir}: {}", argv.join(" ")), &out);
}

fn assert_succeeded(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        text(out)
    );
}

#[test]
fn rust_plugin_unit_tests() {
    if runs("rust", "cargo", "install Rust with rustup") {
        passes("rust", &["cargo", "test", "--locked", "-q"]);
    }
}

#[test]
fn dynamic_module_unit_tests() {
    if runs("dynmod-rust", "cargo", "install Rust with rustup") {
        passes("dynmod-rust", &["cargo", "test", "--locked", "-q"]);
    }
}

#[test]
fn external_processor_unit_tests() {
    if runs("extproc-rust", "cargo", "install Rust with rustup") {
        passes("extproc-rust", &["cargo", "test", "--locked", "-q"]);
    }
}

const GO_FIX: &str = "install Go 1.24 or newer (https://go.dev/doc/install)";

#[test]
fn go_plugin_and_configuration_unit_tests() {
    if runs("go", "go", GO_FIX) {
        passes("go-config", &["go", "test", "./..."]);
        passes("go", &["go", "test", "./..."]);
    }
}

#[test]
fn go_higress_plugin_unit_tests() {
    if runs("go-higress", "go", GO_FIX) {
        passes("go-higress", &["go", "test", "./..."]);
    }
}

#[test]
fn cpp_unit_tests() {
    if runs("cpp", "g++", "apt-get install -y g++") {
        passes("cpp", &["sh", "test.sh"]);
    }
}

#[test]
fn assemblyscript_configuration_unit_tests() {
    if runs("assemblyscript", "node", "apt-get install -y nodejs npm")
        && built("assemblyscript").is_some()
    {
        passes("assemblyscript", &["node", "tests/config.test.mjs"]);
    }
}

#[test]
fn lua_filter_unit_tests() {
    if opted_out("lua") {
        eprintln!("LEFT OUT lua unit tests ({SKIP_VAR} names it)");
        return;
    }
    let file = root().join("plugins/lua/tests/filter_test.lua");
    let out = bench_runner::bench::fuzz::luajit::run_file(&project(), &file)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_succeeded("plugins/lua/tests/filter_test.lua", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("checks passed"),
        "{}",
        text(&out)
    );
}
