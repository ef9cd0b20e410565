//! Where the project is and which plugins are built, for the criterion benches. (The conformance test
//! of this host lives in `bench-runner/tests/host_conformance.rs`, where it builds the plugins through
//! the runner instead of looking for them.)

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (plugin folder name, module path) of every plugin; missing modules are reported separately.
pub fn plugins() -> (Vec<(String, PathBuf)>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let dir = root().join("plugins");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("plugins/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("plugin.toml").is_file())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let manifest: toml::Value = toml::from_str(
            &std::fs::read_to_string(p.join("plugin.toml")).expect("plugin.toml readable"),
        )
        .unwrap_or_else(|e| panic!("{name}/plugin.toml: {e}"));
        let output = p.join(manifest["output"].as_str().expect("`output` is a string"));
        if output.is_file() {
            found.push((name, output));
        } else {
            missing.push(format!("{name} ({} not built)", output.display()));
        }
    }
    if !missing.is_empty() {
        let msg = format!(
            "plugins not built: {}; build them with `cargo run -q -p bench-runner -- build`",
            missing.join(", ")
        );
        eprintln!("benchmarking the built ones only: {msg}");
    }
    (found, missing)
}
