//! `bench-runner build`: builds the plugins whose sources changed and prints each module.

use crate::error::usage;
use crate::paths::Project;
use crate::plugins;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Comma-separated implementations to build.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Option<Vec<String>>,
    /// Rebuild even when sources did not change.
    #[arg(long)]
    pub force: bool,
}

/// `bench-runner build`.
pub fn command(project: &Project, a: &BuildArgs) -> anyhow::Result<u8> {
    plugins::check_only(project, a.only.as_deref(), true)?;
    let (built, missing) = plugins::build_all(project, a.only.as_deref(), a.force)?;
    for b in &built {
        println!(
            "{:<16} {:>9} bytes  sha256 {}  {}{}",
            b.name,
            b.bytes,
            b.sha256,
            project.rel(&b.module),
            if b.rebuilt { "" } else { "  (up to date)" }
        );
    }
    for m in &missing {
        println!("{:<16} not built: {}", m.name, m.reason);
    }
    if missing.is_empty() {
        Ok(0)
    } else {
        Err(usage(format!(
            "{} plugin(s) could not be built (see above); `bench-runner doctor` lists the fixes",
            missing.len()
        )))
    }
}
