//! `report` of the committed results-quick.json renders exactly what the code rendered before the
//! crate was split into layers (fixtures/results-quick-report/, made with commit 30d2385): report.md,
//! report.html, the SVG charts, the summary table on stdout, and the PNG charts by sha256.
//! Regenerated once since, when colours and article figures became keyed by implementation: the
//! article table's first column is headed `implementation` (was `language`) and the CPU chart's
//! legend reads `colour: implementation`; the fixture's colours (lua, rust) did not change.
//! Regenerated again with results schema 2 (a new quick run as the fixture: interleaved windows,
//! three Envoy processes, both CPU regimes, the A/A listener, run health): from here on, a change of
//! layout must leave this output alone. Since then report.md and report.html gained one section,
//! "Precision, and what more of it would cost" (added lines only; every other line and every chart
//! unchanged). Regenerated deliberately for issue 32 (the front door): stdout is the answer per
//! workload instead of the 12-column table, and report.md and report.html open with the same
//! answer and the overhead chart (moved up from the charts section, where it is no longer repeated)
//! before the detailed tables, whose section is now headed "Every figure per variant"; every chart
//! (SVG and PNG) unchanged.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

const EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/results-quick-report"
);

fn expected(name: &str) -> String {
    std::fs::read_to_string(Path::new(EXPECTED).join(name)).unwrap()
}

#[test]
fn report_of_the_quick_fixture_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/results-quick.json"
        ),
        &results,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-runner"))
        .arg("report")
        .arg(&results)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        expected("summary.txt")
    );
    let mut svgs = 0;
    for entry in std::fs::read_dir(EXPECTED).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") || name.ends_with(".html") || name.ends_with(".svg") {
            let got = std::fs::read_to_string(dir.path().join(&name)).unwrap();
            assert!(got == expected(&name), "{name} differs from the fixture");
            svgs += name.ends_with(".svg") as usize;
        }
    }
    assert!(svgs >= 4);
    for line in expected("png.sha256").lines() {
        let (sum, name) = line.split_once("  ").unwrap();
        let got = Sha256::digest(std::fs::read(dir.path().join(name)).unwrap());
        let got: String = got.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, sum, "{name} differs from the fixture");
    }
}
