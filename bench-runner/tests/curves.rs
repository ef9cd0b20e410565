//! `bench-runner curves` end to end, through the real binary and a real Envoy, with a tiny plan (the
//! Rust plugin, 2 header and 2 body points, 2 Envoy processes): what curves.json records (its schema,
//! every point and fit), that `report DIR` re-renders the same report from it, and that no Envoy is
//! left running. Behaviour only, never timings.

mod common;
use common::*;
use serde_json::Value;

fn validate(json: &Value) {
    let errors = schema_errors("results/curves.schema.json", json);
    assert!(
        errors.is_empty(),
        "curves.json against its schema: {errors:?}"
    );
}

fn check_points(json: &Value) {
    let points = json["points"].as_array().unwrap();
    let ids: Vec<&str> = points
        .iter()
        .map(|p| p["variant"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rust-h0", "rust-h20", "rust-b0", "rust-b1024"]);
    for p in points {
        assert_eq!(p["units"], 2, "{p}");
        for f in ["cpu_us_per_req", "fixed_cpu_us_per_req", "p50_us"] {
            let e = &p["overhead"][f];
            assert!(
                e["estimate"].is_number() && e["ci95_low"].is_number(),
                "{f}: {p}"
            );
        }
    }
    // one group per body size; every listener of the 1 KiB group, the baseline's too, got 1 KiB
    let groups = json["groups"].as_array().unwrap();
    let sizes: Vec<u64> = groups
        .iter()
        .map(|g| g["body_bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [0, 1024]);
    for g in groups {
        let rounds = g["results"]["rounds"].as_array().unwrap();
        assert!(rounds.iter().any(|r| r["variant"] == "baseline"));
        assert!(rounds.iter().all(|r| r["saturation"]["errors"] == 0), "{g}");
    }
}

fn check_fits(json: &Value) {
    let fits = json["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 6, "2 axes x 3 figures");
    for f in fits {
        assert_eq!(f["implementation"], "rust");
        assert!(f["slope"]["estimate"].is_number(), "{f}");
        assert!(f["intercept"]["estimate"].is_number(), "{f}");
        assert_eq!(f["residuals"].as_array().unwrap().len(), 2);
        // two points: the line is not checked, and says so
        assert_eq!(f["linear"], true);
        assert!(f["reason"].as_str().unwrap().contains("not checked"), "{f}");
    }
}

#[test]
fn curves_measures_every_point_fits_lines_and_re_renders_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("curves");
    let o = run(&[
        "curves",
        "--only",
        "rust",
        "--headers",
        "0,20",
        "--body",
        "0,1k",
        "--processes",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("curves: 1 implementations x (2 header + 2 body points)"),
        "{err}"
    );
    assert!(err.contains("estimated ~"), "the plan comes first: {err}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("curves.json")).unwrap()).unwrap();
    validate(&json);
    assert_eq!(json["status"], "complete");
    assert_eq!(json["plugins"][0]["name"], "rust");
    check_points(&json);
    check_fits(&json);
    for f in [
        "report.md",
        "report.html",
        "curves-headers.svg",
        "curves-headers.png",
        "curves-body.svg",
        "curves-body.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let before = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(before.contains("Per added header") && before.contains("Per KiB of request body"));
    std::fs::remove_file(out.join("report.md")).unwrap();
    let r = run(&["report", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        before
    );
    assert!(
        processes_mentioning(out.to_str().unwrap()).is_empty(),
        "an Envoy of the run is still running"
    );
}
