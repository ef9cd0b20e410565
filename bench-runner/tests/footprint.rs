//! The footprint phase end to end through a real Envoy on `--only rust`: memory at each concurrency,
//! start-up, module bytes, the schema, the report, the README region, and no Envoy left running.
//! Behaviour only, never timings.

mod common;

use common::*;

#[test]
fn footprint_of_rust_records_memory_start_up_and_module_bytes() {
    let rust = built("rust").expect("the rust plugin builds (see `bench-runner doctor`)");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fp");
    let o = run(&[
        "footprint",
        "--only",
        "rust",
        "--profile",
        "quick",
        "--concurrency",
        "1,2",
        "--repetitions",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("| rust-v8-mock | "), "{t}");
    // every Envoy it started is gone (their command lines name configs under the run folder)
    assert_eq!(
        processes_mentioning(out.to_str().unwrap()),
        Vec::<u32>::new()
    );

    let text_json = std::fs::read_to_string(out.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text_json).unwrap();
    let errors = schema_errors("results/schema.json", &results);
    assert!(errors.is_empty(), "schema: {}", errors.join("\n"));

    let samples = results["memory"]["samples"].as_array().unwrap();
    // 2 variants x 2 concurrencies x 2 repetitions
    assert_eq!(samples.len(), 8);
    for id in ["baseline", "rust-v8-mock"] {
        for c in [1, 2] {
            let at: Vec<&serde_json::Value> = samples
                .iter()
                .filter(|s| s["variant"] == id && s["concurrency"] == c)
                .collect();
            assert_eq!(at.len(), 2, "{id} c={c}");
            for s in at {
                assert!(s["idle"]["rss_kb"].as_u64().unwrap() > 0, "{s}");
                assert!(s["after_load"]["rss_kb"].as_u64().unwrap() > 0, "{s}");
                assert_eq!(s["workers_warmed"], c, "{s}");
                assert_eq!(s["load_errors"], 0, "{s}");
                assert_eq!(s["load_ok"], 500, "{s}");
                let (ready, first) = (
                    s["ready_ms"].as_f64().unwrap(),
                    s["first_reply_ms"].as_f64().unwrap(),
                );
                assert!(ready > 0.0 && first >= ready, "{s}");
            }
        }
    }
    // the plugin's VMs are counted by Envoy's wasm stats
    let rust_sample = samples
        .iter()
        .find(|s| s["variant"] == "rust-v8-mock")
        .unwrap();
    assert!(
        rust_sample["wasm_stats"]["wasm.envoy.wasm.runtime.v8.active"]
            .as_u64()
            .unwrap()
            >= 1,
        "{rust_sample}"
    );
    let size = std::fs::metadata(&rust.module).unwrap().len();
    let memory = &results["memory"]["summaries"][0];
    assert_eq!(memory["variant"], "rust-v8-mock");
    assert_eq!(memory["module_bytes"].as_u64(), Some(size));
    assert!(memory["at"][0]["added_rss_kb"]["estimate"]
        .as_f64()
        .is_some());
    let cold = results["cold_start"]["summaries"].as_array().unwrap();
    let rc = cold
        .iter()
        .find(|c| c["variant"] == "rust-v8-mock")
        .unwrap();
    assert_eq!(rc["module_bytes"].as_u64(), Some(size));
    for a in rc["at"].as_array().unwrap() {
        assert!(
            a["first_reply_ms"]["estimate"].as_f64().unwrap()
                >= a["ready_ms"]["estimate"].as_f64().unwrap()
        );
    }

    // the report and its charts, re-rendered from the saved file; the README region from the folder
    for f in ["report.md", "chart-memory.svg", "chart-startup.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let o = run(&["report", out.join("results.json").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("RSS added, c=2, MiB") && md.contains("to first reply, c=1, ms"));
    let readme = dir.path().join("README.md");
    std::fs::write(
        &readme,
        "<!-- generated:implementations:begin -->\n<!-- generated:implementations:end -->\n\
         <!-- generated:results:begin -->\n<!-- generated:results:end -->\n\
         <!-- generated:footprint:begin -->\n<!-- generated:footprint:end -->\n",
    )
    .unwrap();
    let o = run(&[
        "readme",
        "--run",
        out.to_str().unwrap(),
        "--readme",
        readme.to_str().unwrap(),
        "--footprint",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = std::fs::read_to_string(&readme).unwrap();
    assert!(
        r.contains("| rust-v8-mock | ") && r.contains("Istio"),
        "{r}"
    );
}
