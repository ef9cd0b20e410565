//! The dynamic module (plugins/dynmod-rust, kind `dynamic-module`) through a real Envoy: it passes
//! every conformance case, an invalid configuration makes Envoy refuse the listener with the module's
//! one line (a usage error, exit 2, naming the log), and no Envoy is left running after either.

mod common;
use common::*;

#[test]
fn dynmod_passes_conformance_and_envoy_refuses_an_invalid_configuration_with_its_one_line() {
    let o = run(&["conformance", "--only", "dynmod-rust"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("cases pass for 1 implementations (dynmod-rust)"),
        "{}",
        text(&o)
    );

    // Conformance built it; the runner's Envoy start with an invalid configuration fails.
    let project = project();
    let (built, missing) =
        bench_runner::plugins::prepare_all(&project, Some(&["dynmod-rust".to_string()]), false)
            .unwrap();
    assert!(missing.is_empty(), "{missing:?}");
    let dm = built.into_iter().find(|b| b.is_dynamic_module()).unwrap();
    assert!(dm.module.ends_with("libmock_dynmod.so"), "{:?}", dm.module);
    let variant = bench_runner::bench::variants::Variant::dynamic_module(&dm, "mock").unwrap();
    assert_eq!(
        variant.info.wasm_sha256.as_deref(),
        Some(dm.sha256.as_str())
    );

    let envoy = envoy();
    let dir = tempfile::tempdir().unwrap();
    let ports = bench_runner::envoy::session::allocate_ports(2, None).unwrap();
    let launch = bench_runner::envoy::session::Launch {
        project: &project,
        envoy: &envoy,
        dir: dir.path(),
        stem: "bad",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let bad = serde_json::json!({"content": "x", "_rules_": [{"content": "y"}]});
    let mut spec = variant.listener(ports[1]).unwrap();
    spec.filter = variant.filter_with(&bad).unwrap();
    let err = match launch.start(&[spec]) {
        Ok(_) => panic!("Envoy accepted {bad}"),
        Err(e) => e,
    };
    assert_eq!(bench_runner::error::exit_code_of(&err), 2, "{err:#}");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&launch.log_path().display().to_string()),
        "{msg}"
    );
    let log = std::fs::read_to_string(launch.log_path()).unwrap();
    let reasons: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("mock-response: invalid configuration"))
        .collect();
    assert_eq!(reasons.len(), 1, "{log}");
    assert!(
        log.contains("Dynamic module ABI version v0.2.0 matched."),
        "{log}"
    );

    // No Envoy of this test (its config folder) nor of the conformance run is left.
    assert!(
        processes_mentioning(&dir.path().display().to_string()).is_empty(),
        "an Envoy is still running"
    );
    assert!(
        processes_mentioning("conformance-dynmod-rust").is_empty(),
        "a conformance Envoy is still running"
    );
}
