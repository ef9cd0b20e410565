//! `bench-runner calls`: what each Wasm plugin asks of its host for one request, in-process.

use crate::bench::calls;
use crate::paths::Project;
use crate::plugins;
use crate::results::calls::{CallsFile, Module, CALLS_SCHEMA_VERSION};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CallsArgs {
    /// Comma-separated implementations (Wasm plugin folder names).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Folder to write calls.json and calls.md into (else only printed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `bench-runner calls`: exit 1 when an implementation's operations are not the workload's.
pub fn command(project: &Project, a: &CallsArgs) -> anyhow::Result<u8> {
    plugins::check_only(project, a.only.as_deref(), true)?;
    if let Some(out) = &a.out {
        crate::sys::check_out_dir("--out", out, &["calls.json"])?;
    }
    let (built, missing) = plugins::build_all(project, a.only.as_deref(), false)?;
    for m in &missing {
        eprintln!("{}: not built, left out: {}", m.name, m.reason);
    }
    let wasm: Vec<_> = built.into_iter().filter(|b| b.is_wasm()).collect();
    let file = CallsFile {
        schema_version: CALLS_SCHEMA_VERSION,
        generated_at: crate::sys::now_rfc3339(),
        host_engine: format!(
            "plugin-host, {}",
            plugin_host::EngineKind::Wasmi.description()
        ),
        warm_requests: calls::WARM,
        workloads: calls::WORKLOADS
            .iter()
            .map(|(w, c)| (w.to_string(), c.to_string()))
            .collect(),
        modules: wasm
            .iter()
            .map(|b| Module {
                implementation: b.name.clone(),
                sha256: b.sha256.clone(),
                bytes: b.bytes,
            })
            .collect(),
        rows: calls::measure(&wasm)?,
    };
    let md = crate::report::calls::markdown(&file);
    print!("{md}");
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out)?;
        file.write(&out.join("calls.json"))?;
        crate::sys::write_atomic(&out.join("calls.md"), md.as_bytes())?;
        eprintln!("wrote {}", out.join("calls.json").display());
    }
    let broken = file.rows.iter().filter(|r| r.work.is_none()).count();
    Ok(u8::from(broken > 0))
}
