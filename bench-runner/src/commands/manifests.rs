//! `bench-runner manifests`: its flags, and the glue to `package::write_manifests`.

use crate::package::registry::Registry;
use crate::package::{self, ManifestsPlan};
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct ManifestsArgs {
    /// Comma-separated Wasm implementations (plugin folder names).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Registry the images are pulled from (HOST[:PORT][/NAMESPACE], as given to `package --push`).
    #[arg(long, value_name = "REG", default_value = "registry.example.com")]
    pub registry: String,
    /// Image tag (as given to `package --tag`).
    #[arg(long, value_name = "TAG", default_value = env!("CARGO_PKG_VERSION"))]
    pub tag: String,
    /// The saved `bench-runner failure` run whose lesson goes beside failStrategy.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "results/20261126T051928Z-failure"
    )]
    pub failure_run: PathBuf,
    /// Folder for <impl>-istio.yaml and <impl>-higress.yaml (default: .cache/manifests/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `bench-runner manifests`.
pub fn command(project: &Project, a: &ManifestsArgs) -> anyhow::Result<u8> {
    package::check_tag("--tag", &a.tag)?;
    // The registry only names the images here: no scheme is spoken, so no --insecure.
    let registry = Registry::parse("--registry", &a.registry, true)?;
    let failure_run = if a.failure_run.is_relative() && !a.failure_run.exists() {
        project.root.join(&a.failure_run)
    } else {
        a.failure_run.clone()
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| project.cache().join("manifests"));
    crate::sys::check_out_dir("--out", &out, &[])?;
    let plan = ManifestsPlan {
        only: a.only.clone(),
        registry,
        tag: a.tag.clone(),
        failure_run,
        out,
    };
    for d in package::write_manifests(project, &plan)? {
        println!("{:<16} {}  sha256 {}", d.name, d.url, d.sha256);
        for f in &d.files {
            println!("  {}", project.rel(f));
        }
    }
    Ok(0)
}
