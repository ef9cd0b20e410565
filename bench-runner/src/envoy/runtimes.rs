//! Which Wasm runtimes an Envoy binary has: a short probe start, read back from its log.

use super::locate::{self, EnvoyBin};
use super::session::{allocate_ports, Launch};
use super::{Filter, ListenerSpec};
use crate::paths::Project;
use std::path::Path;

/// Runtimes Envoy has been built with somewhere; those this binary lacks are listed in `skipped`.
pub const KNOWN_RUNTIMES: [&str; 4] = ["v8", "wamr", "wasmtime", "wavm"];

/// Starts an Envoy with only a baseline listener to read which Wasm runtimes it has.
pub fn probe_runtimes(
    project: &Project,
    envoy: &EnvoyBin,
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let ports = allocate_ports(2, None)?;
    let launch = Launch {
        project,
        envoy,
        dir,
        stem: "envoy-probe",
        admin_port: ports[0],
        cpu: None,
        log_level: "info",
    };
    let mut e = launch.start(&[ListenerSpec {
        upstream: None,
        name: "probe".into(),
        port: ports[1],
        filter: Filter::None,
    }])?;
    e.stop();
    let log = std::fs::read_to_string(launch.log_path()).unwrap_or_default();
    Ok(locate::runtimes_from_log(&log))
}
