//! `bench-runner package`: its flags, and the glue to `package`.

use crate::package::registry::Registry;
use crate::package::{self, PackagePlan};
use crate::paths::Project;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct PackageArgs {
    /// Comma-separated Wasm implementations (plugin folder names) to package.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Folder of the OCI image layouts, one per implementation and form: <impl>/ (the compat image,
    /// FROM scratch + plugin.wasm) and <impl>-wasm/ (the Wasm artifact). Default: .cache/oci/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Push every image to this registry (HOST:PORT[/NAMESPACE], namespace gateway-bench by default)
    /// as NAMESPACE/<impl>:TAG and NAMESPACE/<impl>-wasm:TAG, and pull each back to check it.
    #[arg(long, value_name = "REGISTRY")]
    pub push: Option<String>,
    /// Speak plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    pub insecure: bool,
    /// Image tag.
    #[arg(long, value_name = "TAG", default_value = env!("CARGO_PKG_VERSION"))]
    pub tag: String,
    /// Package FILE as implementation NAME instead of building the plugins (repeatable).
    #[arg(long, value_name = "NAME=FILE")]
    pub module: Vec<String>,
}

impl PackageArgs {
    /// The plan, every flag checked.
    pub fn plan(&self, project: &Project) -> anyhow::Result<PackagePlan> {
        package::check_tag("--tag", &self.tag)?;
        let push = self
            .push
            .as_deref()
            .map(|r| Registry::parse("--push", r, self.insecure))
            .transpose()?;
        let modules = self
            .module
            .iter()
            .map(|m| package::parse_module(m))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if !modules.is_empty() && self.only.is_some() {
            return Err(crate::error::usage(
                "--module and --only: give one of them (--module packages the given files instead of the plugins)",
            ));
        }
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| project.cache().join("oci"));
        crate::sys::check_out_dir("--out", &out, &[])?;
        Ok(PackagePlan {
            only: self.only.clone(),
            out,
            push,
            tag: self.tag.clone(),
            modules,
        })
    }
}

/// `bench-runner package`.
pub fn command(project: &Project, a: &PackageArgs) -> anyhow::Result<u8> {
    let plan = a.plan(project)?;
    for p in package::run(project, &plan)? {
        println!(
            "{:<36} {}  module sha256 {}  {} bytes  {}",
            p.reference,
            p.manifest_digest,
            p.module_sha256,
            p.module_bytes,
            project.rel(&p.layout),
        );
        println!(
            "  {}{}",
            p.form.label(),
            if p.pulled_digest.is_some() {
                "; pushed, pulled back: same manifest digest and module"
            } else {
                ""
            }
        );
    }
    Ok(0)
}
