//! Counting instructions with valgrind's callgrind: the client requests a counted program sends
//! ([`client`]), reading the profiles callgrind writes ([`dump`]), the per-object view of a profile
//! ([`objects`], e.g. Envoy's, whose binary has no symbols), and finding valgrind ([`valgrind`]).

pub mod client;
pub mod dump;
pub mod objects;

use std::path::PathBuf;

/// The fix printed wherever valgrind is missing.
pub const INSTALL_FIX: &str =
    "install valgrind (Debian/Ubuntu: apt-get install -y valgrind; Fedora: dnf install valgrind); it has no macOS port for current systems";

/// valgrind on this machine: its path and version line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valgrind {
    pub path: PathBuf,
    /// `valgrind-3.19.0`
    pub version: String,
}

/// Where valgrind is: `$VALGRIND`, else the first `valgrind` on the PATH (not run; [`valgrind`]
/// checks that it runs).
pub fn valgrind_path() -> Result<PathBuf, String> {
    match std::env::var_os("VALGRIND") {
        Some(p) => Ok(PathBuf::from(p)),
        None => std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("valgrind"))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("valgrind is not installed (not on PATH): {INSTALL_FIX}")),
    }
}

/// valgrind from `$VALGRIND` or the PATH, with its version; Err says why not, with the fix.
pub fn valgrind() -> Result<Valgrind, String> {
    let path = valgrind_path()?;
    let out = crate::sys::die_with_runner(&mut std::process::Command::new(&path))
        .arg("--version")
        .output()
        .map_err(|e| format!("{} does not run ({e}): {INSTALL_FIX}", path.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --version failed ({}): {INSTALL_FIX}",
            path.display(),
            out.status
        ));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(Valgrind { path, version })
}
