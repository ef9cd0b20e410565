//! The plugins: building each implementation's module (`build`), the shared plugin configuration
//! (`config`) and the Lua filter generated from it (`lua`).

mod build;
pub mod config;
pub mod lua;
pub mod own;
pub mod revision;

pub use build::*;

/// The one check of `--only`: every name must be a plugin folder (of any kind where the command runs
/// Envoy's built-in filters too, `all_kinds`; else a Wasm plugin's); an unknown name is a usage error
/// (exit 2) naming it and listing the known ones.
pub fn check_only(
    project: &crate::paths::Project,
    only: Option<&[String]>,
    all_kinds: bool,
) -> anyhow::Result<()> {
    let Some(o) = only else {
        return Ok(());
    };
    let plugins = if all_kinds {
        discover_all(project)?
    } else {
        discover(project)?
    };
    let known: Vec<String> = plugins.into_iter().map(|p| p.name).collect();
    if let Some(bad) = o.iter().find(|n| !known.contains(n)) {
        return Err(crate::error::usage(format!(
            "--only: unknown implementation `{bad}`; known: {}",
            known.join(", ")
        )));
    }
    Ok(())
}
