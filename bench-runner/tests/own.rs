//! Plugins of your own (issue 31) through a real Envoy: the worked example measured beside the
//! suite's Lua mock and named by its hash, with a baseline that reached the same upstream; plugins
//! that answer otherwise than stated, that Envoy refuses or whose Lua does not parse refused before
//! any load (exit 2, naming the file, quoting what was seen); a Lua script, a dynamic module and an
//! ext_proc processor at an address in one run; and nothing left behind by Ctrl-C or SIGKILL, the
//! processor the runner started from a command included. Behaviour only, never timings.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    root().join("examples/auth-rust")
}

fn results_of(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap()
}

fn assert_schema(results: &Value) {
    let errors = schema_errors("results/schema.json", results);
    assert!(errors.is_empty(), "results.json does not match: {errors:?}");
}

fn variant<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no variant {id} in {}", r["variants"]))
}

#[test]
fn the_worked_example_is_measured_beside_lua_against_a_baseline_that_reached_the_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--rounds",
        "2",
        "--processes",
        "2",
        "--plugins-dir",
        example().to_str().unwrap(),
        "--request",
        example().join("requests.toml").to_str().unwrap(),
        "--only",
        "lua",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("probe: auth-rust-v8-own GET /api/orders?limit=10 -> 200 \"passthrough\" (reached the upstream)"),
        "{t}"
    );
    let r = results_of(&out);
    assert_schema(&r);
    assert_eq!(r["schema_version"], 3);

    // Named by file name and sha256: the bytes the runner built.
    let wasm = example().join("target/wasm32-wasip1/release/auth_rust.wasm");
    let sha = bench_runner::plugins::sha256_hex(&std::fs::read(&wasm).unwrap());
    let own = &r["own"];
    let p = &own["plugins"][0];
    assert_eq!(
        (p["name"].as_str(), p["kind"].as_str()),
        (Some("auth-rust"), Some("wasm"))
    );
    assert_eq!(p["file_name"], "auth_rust.wasm");
    assert_eq!(p["sha256"], sha.as_str());
    assert_eq!(p["variants"], serde_json::json!(["auth-rust-v8-own"]));
    let v = variant(&r, "auth-rust-v8-own");
    assert_eq!(
        (v["wasm_sha256"].as_str(), v["errors"].as_u64()),
        (Some(sha.as_str()), Some(0))
    );
    assert_eq!(v["workload"], "own");
    assert!(v["overhead"]["p50"]["estimate"].is_number(), "{v}");
    // The suite's Lua mock beside it keeps its contract (it answered `hello higress` itself).
    assert_eq!(variant(&r, "lua-mock")["errors"], 0);

    // The baseline reached the same upstream as the plugin, which passed every request on; the
    // mock answered itself and sent the upstream nothing.
    let served = &own["upstream"]["served_by_listener"];
    assert!(served["baseline"].as_u64().unwrap() > 0, "{served}");
    assert!(served["auth-rust-v8-own"].as_u64().unwrap() > 0, "{served}");
    assert!(served.get("lua-mock").is_none(), "{served}");
    let probes = own["probe"].as_array().unwrap();
    assert_eq!(probes.len(), 2, "one per request: {probes:?}");
    assert!(probes
        .iter()
        .all(|p| p["reached_upstream"] == true && p["status"] == 200));

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Your plugins") && md.contains(&sha), "{md}");
}

#[test]
fn plugins_are_refused_before_any_load_with_what_was_seen() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: &[&str], out: &str, needles: &[&str]| {
        let out = dir.path().join(out);
        let mut all = vec!["run", "--profile", "quick", "--out", out.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = run(&all);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let last = err
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect::<Vec<_>>();
        assert_eq!(last.len(), 1, "one error line: {err}");
        for n in needles {
            assert!(last[0].contains(n), "{args:?}: `{n}` not in {}", last[0]);
        }
        // Before any load: no measuring Envoy was started, no results written.
        assert!(!out.join("results.json").exists() && !out.join("envoy-1.log").exists());
    };

    // Answers otherwise than stated: the example without an API key answers 401 itself.
    let ex = example();
    refused(
        &["--plugins-dir", ex.to_str().unwrap()],
        "wrong",
        &[
            "--plugins-dir",
            "GET / got status 401",
            "\"unauthorized\\n\"",
            "the plugin answered itself",
            "you stated 200",
        ],
    );
    // Envoy refuses a module that is not one (past the magic bytes the runner checks).
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0 not a module").unwrap();
    refused(
        &["--plugin", junk.to_str().unwrap()],
        "junk",
        &[
            junk.to_str().unwrap(),
            "Envoy refused it",
            "Failed to parse",
        ],
    );
    // A Lua script with a syntax error.
    let lua = dir.path().join("broken.lua");
    std::fs::write(&lua, "function envoy_on_request(h)\n  h:respond(\nend\n").unwrap();
    refused(
        &["--lua", lua.to_str().unwrap()],
        "lua",
        &[
            lua.to_str().unwrap(),
            "Envoy refused it",
            "script load error",
        ],
    );
    // A plugin that refuses its configuration: its own log line is quoted.
    refused(
        &[
            "--plugins-dir",
            ex.to_str().unwrap(),
            "--plugin-config",
            "{\"header\": \"\"}",
        ],
        "config",
        &[
            "Envoy refused it",
            "the plugin logged: auth-rust: invalid configuration",
        ],
    );
}

/// Starts the suite's ext_proc processor as if it were yours (on a port of its choosing) and
/// returns it with its port.
fn processor(dir: &Path, content: &str) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let cfg = dir.join("xp.json");
    std::fs::write(&cfg, format!("{{\"content\": \"{content}\"}}")).unwrap();
    let mut child =
        std::process::Command::new(root().join("plugins/extproc-rust/target/release/mock-extproc"))
            .arg("--config")
            .arg(&cfg)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect(
                "the ext_proc implementation is built (bench-runner build --only extproc-rust)",
            );
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = bench_runner::envoy::extproc::port_of(&line).unwrap();
    (child, port)
}

#[test]
fn a_lua_script_a_dynamic_module_and_a_processor_of_yours_in_one_run() {
    let o = run(&["build", "--only", "dynmod-rust,extproc-rust"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    let (mut xp, port) = processor(dir.path(), "hello from ext_proc");
    let lua = dir.path().join("hello.lua");
    std::fs::write(
        &lua,
        "function envoy_on_request(h)\n  h:respond({[\":status\"] = \"200\"}, \"hello from lua\")\nend\n",
    )
    .unwrap();
    let so = root().join("plugins/dynmod-rust/target/release/libmock_dynmod.so");
    let out = dir.path().join("run");
    let o = run(&[
        "run",
        "--profile",
        "quick",
        "--rounds",
        "1",
        "--processes",
        "1",
        "--lua",
        lua.to_str().unwrap(),
        "--dynamic-module",
        &format!("dm={}", so.display()),
        "--plugin-config",
        "{\"content\": \"hello from dynmod\"}",
        "--module-name",
        "mock-response",
        "--ext-proc",
        &format!("xp=127.0.0.1:{port}"),
        "--expect-body",
        "hello from",
        "--out",
        out.to_str().unwrap(),
    ]);
    let _ = xp.kill();
    let _ = xp.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = results_of(&out);
    assert_schema(&r);
    let kinds: Vec<(&str, &str)> = r["own"]["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("hello", "envoy-lua"),
            ("dm", "dynamic-module"),
            ("xp", "ext-proc")
        ]
    );
    for (id, runtime) in [
        ("hello-own", "luajit"),
        ("dm-own", "dynamic_module"),
        ("xp-own", "ext_proc"),
    ] {
        let v = variant(&r, id);
        assert_eq!(
            (v["runtime"].as_str(), v["errors"].as_u64()),
            (Some(runtime), Some(0)),
            "{v}"
        );
    }
    let so_sha = bench_runner::plugins::sha256_hex(&std::fs::read(&so).unwrap());
    assert_eq!(variant(&r, "dm-own")["wasm_sha256"], so_sha.as_str());
    assert_eq!(r["own"]["plugins"][1]["filter_name"], "mock-response");
    // Each answered itself: nothing of theirs reached the upstream, the baseline did.
    let served = &r["own"]["upstream"]["served_by_listener"];
    assert!(served["baseline"].as_u64().unwrap() > 0, "{served}");
    assert!(
        ["hello-own", "dm-own", "xp-own"]
            .iter()
            .all(|id| served.get(id).is_none()),
        "{served}"
    );
}

#[test]
fn nothing_of_a_run_with_plugins_of_yours_outlives_ctrl_c_or_sigkill() {
    let o = run(&["build", "--only", "extproc-rust"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    // A unique config path: every process of this test's runs names it or the run folder.
    let cfg = dir.path().join("own-processor.json");
    std::fs::write(&cfg, "{\"content\": \"hello higress\"}").unwrap();
    let bin_path = root().join("plugins/extproc-rust/target/release/mock-extproc");
    for (signal, want) in [(libc::SIGINT, Some(130)), (libc::SIGKILL, None)] {
        let out = dir.path().join(format!("run-{signal}"));
        let log = dir.path().join(format!("runner-{signal}.log"));
        let mut runner = Runner(
            bin()
                .args([
                    "run",
                    "--profile",
                    "quick",
                    "--rounds",
                    "40",
                    "--processes",
                    "2",
                ])
                .arg("--ext-proc")
                .arg(format!(
                    "mine={} --config {} --port {{port}}",
                    bin_path.display(),
                    cfg.display()
                ))
                .arg("--out")
                .arg(&out)
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(240);
        while !out.join("results.json").exists() {
            assert!(
                Instant::now() < deadline && runner.0.try_wait().unwrap().is_none(),
                "no round (or the run ended):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mine: Vec<u32> = processes_mentioning(cfg.to_str().unwrap())
            .into_iter()
            .chain(processes_mentioning(out.to_str().unwrap()))
            .collect();
        assert!(
            mine.len() >= 3,
            "the processor (and its guard) and the Envoy processes: {mine:?}"
        );
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(runner.0.id() as i32, signal) };
        let status = runner.0.wait().unwrap();
        assert_eq!(
            status.code(),
            want,
            "{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        wait_until_none(&format!("left after signal {signal}"), || {
            processes_mentioning(cfg.to_str().unwrap())
                .into_iter()
                .chain(processes_mentioning(out.to_str().unwrap()))
                .collect()
        });
        let r = results_of(&out);
        assert!(!r["rounds"].as_array().unwrap().is_empty());
        assert_eq!(r["own"]["plugins"][0]["name"], "mine");
    }
}
