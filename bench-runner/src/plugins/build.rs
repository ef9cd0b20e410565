//! Plugin implementations: discovered by globbing `plugins/*/plugin.toml`, built by the command their
//! manifest gives, rebuilt only when their sources change, hashed for results.json. No language is
//! special-cased here: everything a language needs is in its manifest.

use crate::error::usage;
use crate::paths::Project;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `wasm` (the default): a proxy-wasm module built by `build` into `output`. `envoy-lua`: Envoy's
    /// built-in Lua filter; nothing is built, `output` is the script template (see `plugins::lua`).
    /// `ext-proc`: an external processor for Envoy's ext_proc filter, built by `build` into `output`
    /// (a native program the runner starts beside Envoy). `dynamic-module`: a native shared object
    /// built by `build` into `output`, which Envoy loads in-process (`envoy.filters.http.dynamic_modules`).
    #[serde(default = "wasm_kind")]
    pub kind: String,
    pub language: String,
    pub description: String,
    #[serde(default)]
    pub toolchain: String,
    pub output: PathBuf,
    pub sources: Vec<String>,
    #[serde(default)]
    pub build: Vec<String>,
    #[serde(default)]
    pub pip: Vec<String>,
    #[serde(default)]
    pub build_env: BTreeMap<String, String>,
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// Variants of this implementation that cannot be built here at all, listed in `skipped`.
    #[serde(default)]
    pub skipped: Vec<SkipNote>,
    /// A plugin of your own (`run --plugins-dir`): the configuration Envoy hands it (a Wasm
    /// plugin's `configuration`, a dynamic module's `filter_config`). The suite's own
    /// implementations are configured by the workload instead.
    #[serde(default)]
    pub configuration: Option<String>,
    /// What a reader must know wherever the implementation is ranked (e.g. the C++ plugin's "no
    /// SDK"), shown beside its figures.
    #[serde(default)]
    pub note: Option<String>,
    /// The same for one workload only (e.g. ext_proc's `headers`: one header mutation).
    #[serde(default)]
    pub workload_notes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipNote {
    pub variant: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub name: String,
    pub check: Vec<String>,
    pub fix: String,
    /// A command the runner may run itself when `check` fails (e.g. `rustup target add ...`): the
    /// requirement is then installed, announced on stderr and checked again. Without it, or when it
    /// fails, the plugin is skipped with `fix`.
    #[serde(default)]
    pub install: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Plugin {
    /// Folder name: the variant id prefix (`rust`, `go-higress`, ...).
    pub name: String,
    pub dir: PathBuf,
    pub manifest: Manifest,
}

pub const WASM_KIND: &str = "wasm";
pub const LUA_KIND: &str = "envoy-lua";
/// An external processor for Envoy's ext_proc filter: a native program built by `build` into
/// `output`, which the runner starts beside Envoy (see `envoy::extproc`).
pub const EXT_PROC_KIND: &str = "ext-proc";
/// An Envoy dynamic module: a native shared object built by `build` into `output`, which Envoy loads
/// in-process with its `envoy.filters.http.dynamic_modules` filter (see `envoy::Filter::DynamicModule`).
pub const DYNAMIC_MODULE_KIND: &str = "dynamic-module";
/// The kinds a manifest may name.
pub const KINDS: [&str; 4] = [WASM_KIND, LUA_KIND, EXT_PROC_KIND, DYNAMIC_MODULE_KIND];

fn wasm_kind() -> String {
    WASM_KIND.to_string()
}

/// An implementation ready to run: a Wasm module to load, or (kind `envoy-lua`) the Lua filter's
/// script template to fill with the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Built {
    pub name: String,
    pub language: String,
    pub description: String,
    /// The manifest's `kind`: what `module` is and how Envoy runs it.
    #[serde(default = "wasm_kind")]
    pub kind: String,
    /// The manifest's `output`: the Wasm module, or the Lua script template.
    pub module: PathBuf,
    /// SHA-256 of `module`'s bytes.
    pub sha256: String,
    pub bytes: u64,
    /// False when the sources had not changed since the last build (always false for `envoy-lua`:
    /// nothing is built).
    pub rebuilt: bool,
    /// The manifest's `note` and `workload_notes`.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub workload_notes: BTreeMap<String, String>,
}

impl Built {
    /// What to say beside a variant of this implementation for `workload`: the manifest's note and
    /// the workload's, joined.
    pub fn note_for(&self, workload: &str) -> Option<String> {
        let parts: Vec<&str> = self
            .note
            .iter()
            .chain(self.workload_notes.get(workload))
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// True for a proxy-wasm module (kind `wasm`), which runs on a Wasm runtime.
    pub fn is_wasm(&self) -> bool {
        self.kind == WASM_KIND
    }

    /// True for an external processor (kind `ext-proc`), which runs as its own process.
    pub fn is_ext_proc(&self) -> bool {
        self.kind == EXT_PROC_KIND
    }

    /// True for an Envoy dynamic module (kind `dynamic-module`), native code inside Envoy.
    pub fn is_dynamic_module(&self) -> bool {
        self.kind == DYNAMIC_MODULE_KIND
    }
}

/// A plugin that could not be built here, with the reason and the fix.
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub name: String,
    pub reason: String,
}

/// The Wasm plugins (everything that is built and loaded as a module); the Lua folder is not one.
pub fn discover(project: &Project) -> anyhow::Result<Vec<Plugin>> {
    Ok(discover_all(project)?
        .into_iter()
        .filter(|p| p.manifest.kind == WASM_KIND)
        .collect())
}

/// The implementations that are built: Wasm plugins and external processors (not the Lua filter).
pub fn discover_built(project: &Project) -> anyhow::Result<Vec<Plugin>> {
    Ok(discover_all(project)?
        .into_iter()
        .filter(|p| p.manifest.kind != LUA_KIND)
        .collect())
}

/// Every plugin folder with a manifest, of any kind.
pub fn discover_all(project: &Project) -> anyhow::Result<Vec<Plugin>> {
    discover_in(&project.plugins_dir())
}

/// Every plugin folder with a manifest under `dir` (a project's `plugins/`, or another revision's in
/// a git worktree), of any kind.
pub fn discover_in(dir: &Path) -> anyhow::Result<Vec<Plugin>> {
    let dir = dir.to_path_buf();
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        usage(format!(
            "cannot read the plugins folder {} ({e})",
            dir.display()
        ))
    })?;
    for entry in entries.flatten() {
        if entry.path().join("plugin.toml").is_file() {
            out.push(Plugin::read(&entry.path())?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if let Ok(rd) = std::fs::read_dir(path) {
            for e in rd.flatten() {
                collect_files(&e.path(), out);
            }
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

impl Plugin {
    /// The plugin of folder `dir` from its `plugin.toml` (named after the folder); a manifest that
    /// does not parse, names an unknown kind or no build command is a usage error naming the file.
    pub fn read(dir: &Path) -> anyhow::Result<Plugin> {
        let manifest_path = dir.join("plugin.toml");
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| usage(format!("cannot read {} ({e})", manifest_path.display())))?;
        let manifest: Manifest = toml::from_str(&text)
            .map_err(|e| usage(format!("{}: {e}", manifest_path.display())))?;
        if !KINDS.contains(&manifest.kind.as_str()) {
            return Err(usage(format!(
                "{}: unknown kind `{}` (known: {})",
                manifest_path.display(),
                manifest.kind,
                KINDS.join(", ")
            )));
        }
        if manifest.kind != LUA_KIND && manifest.build.is_empty() {
            return Err(usage(format!(
                "{}: `build` must name a command",
                manifest_path.display()
            )));
        }
        // The folder's own name (`.` and `..` are resolved first).
        let name = match dir.file_name() {
            Some(n) => n.to_string_lossy().to_string(),
            None => dir
                .canonicalize()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_default(),
        };
        Ok(Plugin {
            name,
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// Hash of the manifest and every source file (paths and contents).
    pub fn source_hash(&self) -> String {
        let mut files = vec![self.dir.join("plugin.toml")];
        for s in &self.manifest.sources {
            collect_files(&self.dir.join(s), &mut files);
        }
        files.sort();
        let mut h = Sha256::new();
        for f in files {
            h.update(
                f.strip_prefix(&self.dir)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .as_bytes(),
            );
            h.update([0]);
            h.update(std::fs::read(&f).unwrap_or_default());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn output(&self) -> PathBuf {
        self.dir.join(&self.manifest.output)
    }

    /// Runs one toolchain check in the plugin's folder.
    pub fn check_one(&self, r: &Requirement) -> bool {
        let Some((prog, args)) = r.check.split_first() else {
            return true;
        };
        crate::sys::die_with_runner(&mut Command::new(prog))
            .args(args)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs every toolchain check. A failing one with an `install` command is installed (announced
    /// on stderr) and checked again; the first one still failing is returned with its fix.
    pub fn check_toolchain(&self) -> Result<(), String> {
        for r in &self.manifest.requires {
            if self.check_one(r) {
                continue;
            }
            let installed = !r.install.is_empty() && self.install_one(r);
            if !installed {
                return Err(format!("{} missing (fix: {})", r.name, r.fix));
            }
        }
        Ok(())
    }

    /// Runs a requirement's `install` command in the plugin's folder, its output on stderr; true
    /// when the check passes afterwards.
    fn install_one(&self, r: &Requirement) -> bool {
        let Some((prog, args)) = r.install.split_first() else {
            return false;
        };
        eprintln!(
            "plugin {}: {} missing, installing it: {}",
            self.name,
            r.name,
            r.install.join(" ")
        );
        // An installer (rustup, npm) starts processes of its own: they all die with the runner.
        let ran = crate::sys::wait_tree(
            crate::sys::tree_command(prog)
                .args(args)
                .current_dir(&self.dir)
                .stdin(Stdio::null())
                .stdout(Stdio::from(std::io::stderr())),
        );
        match ran {
            Ok(s) if s.success() && self.check_one(r) => true,
            Ok(s) => {
                eprintln!(
                    "plugin {}: `{}` did not install {} ({s})",
                    self.name,
                    r.install.join(" "),
                    r.name
                );
                false
            }
            Err(e) => {
                eprintln!(
                    "plugin {}: cannot run `{prog}` ({e}) to install {}",
                    self.name, r.name
                );
                false
            }
        }
    }

    /// Builds the plugin if its sources changed since the last successful build.
    pub fn build(&self, project: &Project, force: bool) -> Result<Built, Unavailable> {
        self.build_at(project, &project.cache().join("build"), force)
    }

    /// [`Plugin::build`] with its stamp (the source hash of the last successful build) and its log
    /// in `state` (`<name>.stamp`, `<name>.log`): a plugin folder of another tree (a git worktree of
    /// another revision) keeps its own there, so that neither tree's build looks up to date to the
    /// other. The project gives the toolchains (its venv, `BENCH_CACHE`).
    pub fn build_at(
        &self,
        project: &Project,
        state: &Path,
        force: bool,
    ) -> Result<Built, Unavailable> {
        let unavailable = |reason: String| Unavailable {
            name: self.name.clone(),
            reason,
        };
        let src_hash = self.source_hash();
        let stamp = state.join(format!("{}.stamp", self.name));
        let out = self.output();
        let up_to_date = !force
            && out.is_file()
            && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == src_hash);
        if !up_to_date {
            self.check_toolchain().map_err(unavailable)?;
            if !self.manifest.pip.is_empty() {
                let pkgs: Vec<&str> = self.manifest.pip.iter().map(String::as_str).collect();
                project
                    .pip_install(&pkgs)
                    .map_err(|e| unavailable(format!("{e}")))?;
            }
            let log_path = state.join(format!("{}.log", self.name));
            let _ = std::fs::create_dir_all(log_path.parent().unwrap_or(Path::new(".")));
            let log = std::fs::File::create(&log_path)
                .map_err(|e| unavailable(format!("cannot write {} ({e})", log_path.display())))?;
            let venv_bin = project.venv().join("bin");
            let path_var = match std::env::var_os("PATH") {
                Some(p) => {
                    let mut parts = vec![venv_bin];
                    parts.extend(std::env::split_paths(&p));
                    std::env::join_paths(parts).unwrap_or(p)
                }
                None => venv_bin.into_os_string(),
            };
            let (prog, args) = self
                .manifest
                .build
                .split_first()
                .expect("checked at discovery");
            eprintln!(
                "building plugin {} ({}) ...",
                self.name,
                self.manifest.build.join(" ")
            );
            // A build tool starts compilers of its own: the whole tree dies with the runner.
            let status = crate::sys::wait_tree(
                crate::sys::tree_command(prog)
                    .args(args)
                    .current_dir(&self.dir)
                    // The manifest's `output` is in the plugin's folder: a CARGO_TARGET_DIR of the
                    // caller's (a Rust developer's shell, `cargo test` here) would put it elsewhere.
                    .env_remove("CARGO_TARGET_DIR")
                    .envs(&self.manifest.build_env)
                    .env("PATH", path_var)
                    .env("BENCH_CACHE", project.cache())
                    .env("BENCH_PYTHON", project.venv_python())
                    .stdin(Stdio::null())
                    .stdout(log.try_clone().map_err(|e| unavailable(e.to_string()))?)
                    .stderr(log),
            )
            .map_err(|e| unavailable(format!("cannot run `{prog}` ({e})")))?;
            if !status.success() {
                return Err(unavailable(format!(
                    "build failed ({status}); see {}:\n{}",
                    log_path.display(),
                    crate::envoy::process::log_tail(&log_path, 15)
                )));
            }
            if !out.is_file() {
                return Err(unavailable(format!(
                    "build succeeded but {} was not produced (check `output` in plugin.toml)",
                    out.display()
                )));
            }
            let _ = crate::sys::write_atomic(&stamp, src_hash.as_bytes());
        }
        let bytes = std::fs::read(&out)
            .map_err(|e| unavailable(format!("cannot read {} ({e})", out.display())))?;
        Ok(self.built(out, &bytes, !up_to_date))
    }

    fn built(&self, module: PathBuf, bytes: &[u8], rebuilt: bool) -> Built {
        Built {
            name: self.name.clone(),
            language: self.manifest.language.clone(),
            description: self.manifest.description.clone(),
            kind: self.manifest.kind.clone(),
            module,
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
            rebuilt,
            note: self.manifest.note.clone(),
            workload_notes: self.manifest.workload_notes.clone(),
        }
    }

    /// Makes the implementation ready by its manifest's kind: a Wasm plugin is built (if its sources
    /// changed), as is an `ext-proc` processor; an `envoy-lua` one has nothing to build and its
    /// template is read and hashed.
    pub fn prepare(&self, project: &Project, force: bool) -> Result<Built, Unavailable> {
        if self.manifest.kind != LUA_KIND {
            return self.build(project, force);
        }
        let out = self.output();
        let bytes = std::fs::read(&out).map_err(|e| Unavailable {
            name: self.name.clone(),
            reason: format!(
                "cannot read {} ({e}); check `output` in plugin.toml",
                out.display()
            ),
        })?;
        Ok(self.built(out, &bytes, false))
    }
}

/// Held while plugins are built: two runners, or the test threads of `cargo test` that each build
/// what they need, would otherwise run one build in one folder at once (`npm ci` empties
/// `node_modules`, two `go build -o` write one file).
fn build_lock(project: &Project) -> anyhow::Result<crate::sys::FileLock> {
    let lock_path = project.cache().join("build").join("lock");
    crate::sys::FileLock::acquire(&lock_path)
        .map_err(|e| usage(format!("cannot lock {} ({e})", lock_path.display())))
}

/// Builds one plugin folder (one of your own, from `--plugins-dir`) with the cached build, under
/// the same lock as [`build_all`].
pub fn build_one(
    project: &Project,
    p: &Plugin,
    force: bool,
) -> anyhow::Result<Result<Built, Unavailable>> {
    let _lock = build_lock(project)?;
    let r = p.build(project, force);
    crate::sys::check_interrupted()?;
    Ok(r)
}

/// Builds every plugin that is built (Wasm modules and external processors; or those in `only`),
/// returning them and what could not be built.
pub fn build_all(
    project: &Project,
    only: Option<&[String]>,
    force: bool,
) -> anyhow::Result<(Vec<Built>, Vec<Unavailable>)> {
    let _lock = build_lock(project)?;
    let mut built = Vec::new();
    let mut missing = Vec::new();
    for p in discover_built(project)? {
        if only.is_some_and(|o| !o.iter().any(|n| n == &p.name)) {
            continue;
        }
        crate::sys::check_interrupted()?;
        match p.build(project, force) {
            Ok(b) => built.push(b),
            Err(u) => missing.push(u),
        }
    }
    // A build stopped by Ctrl-C is not a plugin that cannot be built.
    crate::sys::check_interrupted()?;
    Ok((built, missing))
}

/// Every implementation of any kind (or those in `only`) made ready by [`Plugin::prepare`], Envoy's
/// built-in filters (nothing to build) first, then the built ones (Wasm plugins and external processors), each group by folder name; and
/// what could not be made ready.
pub fn prepare_all(
    project: &Project,
    only: Option<&[String]>,
    force: bool,
) -> anyhow::Result<(Vec<Built>, Vec<Unavailable>)> {
    let mut built = Vec::new();
    let mut missing = Vec::new();
    for p in discover_all(project)? {
        if p.manifest.kind != LUA_KIND || only.is_some_and(|o| !o.iter().any(|n| n == &p.name)) {
            continue;
        }
        match p.prepare(project, force) {
            Ok(b) => built.push(b),
            Err(u) => missing.push(u),
        }
    }
    let wants_wasm = discover_built(project)?
        .iter()
        .any(|p| only.is_none_or(|o| o.iter().any(|n| n == &p.name)));
    if wants_wasm {
        let (wasm, wasm_missing) = build_all(project, only, force)?;
        built.extend(wasm);
        missing.extend(wasm_missing);
    }
    Ok((built, missing))
}
