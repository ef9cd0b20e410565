//! `package`: every Wasm plugin as OCI images without a Docker daemon (`image`), written as OCI image
//! layouts and optionally pushed to a registry and pulled back (`registry`); and `manifests`: the
//! `WasmPlugin` resources (Istio's and Higress's) that declare those images (`manifests`).

pub mod image;
pub mod manifests;
pub mod registry;

use crate::error::usage;
use crate::paths::Project;
use crate::plugins;
use image::{Form, Image};
use registry::{Client, Registry};
use std::path::{Path, PathBuf};

/// What `package` was asked to do, checked before any work.
#[derive(Debug, Clone)]
pub struct PackagePlan {
    pub only: Option<Vec<String>>,
    pub out: PathBuf,
    pub push: Option<Registry>,
    pub tag: String,
    /// `NAME=FILE`: package FILE as implementation NAME instead of building it.
    pub modules: Vec<(String, PathBuf)>,
}

/// One module to package.
#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// One image written (and pushed).
#[derive(Debug, Clone)]
pub struct Packaged {
    pub name: String,
    pub form: Form,
    /// `[registry/namespace/]repository:tag`
    pub reference: String,
    pub manifest_digest: String,
    pub module_sha256: String,
    pub module_bytes: u64,
    pub layout: PathBuf,
    /// After a push: the digest the registry gave for the manifest pulled back by tag.
    pub pulled_digest: Option<String>,
}

/// Checks an image tag (the distribution spec's `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`).
pub fn check_tag(flag: &str, tag: &str) -> anyhow::Result<()> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !first_ok
        || tag.len() > 128
        || !chars.all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(usage(format!(
            "{flag} {tag:?}: not an image tag; use letters, digits, `_`, `.`, `-` (at most 128, not starting with `.` or `-`)"
        )));
    }
    Ok(())
}

/// Parses `--module NAME=FILE`.
pub fn parse_module(value: &str) -> anyhow::Result<(String, PathBuf)> {
    let (name, file) = value.split_once('=').unwrap_or(("", value));
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !name_ok || file.is_empty() {
        return Err(usage(format!(
            "--module {value}: expected NAME=FILE (NAME in lower-case letters, digits, `.`, `_`, `-`; FILE a .wasm module)"
        )));
    }
    Ok((name.to_string(), PathBuf::from(file)))
}

/// The modules to package: the `--module` files, else every Wasm plugin (or those in `only`) built
/// through the runner's cached build. Each must be a Wasm binary.
pub fn modules(
    project: &Project,
    only: Option<&[String]>,
    given: &[(String, PathBuf)],
) -> anyhow::Result<Vec<Module>> {
    let mut out = Vec::new();
    if given.is_empty() {
        plugins::check_only(project, only, false)?;
        // Only Wasm plugins become images: naming another kind (an external processor) is an error,
        // found before anything is built; without --only the Wasm plugins alone are built.
        let wasm: Vec<String> = plugins::discover(project)?
            .into_iter()
            .map(|p| p.name)
            .collect();
        if let Some(n) = only.into_iter().flatten().find(|n| !wasm.contains(n)) {
            return Err(usage(format!(
                "--only {n}: not a Wasm plugin; only Wasm plugins are packaged as OCI images and declared as WasmPlugins, leave it out"
            )));
        }
        let only = only.map(<[String]>::to_vec).unwrap_or(wasm);
        let (built, missing) = plugins::build_all(project, Some(&only), false)?;
        if let Some(m) = missing.first() {
            return Err(usage(format!(
                "{}: not built ({}); `bench-runner doctor` lists the fixes, or leave it out with --only",
                m.name, m.reason
            )));
        }
        for b in built.into_iter().filter(|b| b.is_wasm()) {
            let bytes = std::fs::read(&b.module).map_err(|e| {
                usage(format!(
                    "{}: cannot read {} ({e})",
                    b.name,
                    b.module.display()
                ))
            })?;
            out.push(Module {
                name: b.name,
                path: b.module,
                bytes,
            });
        }
    } else {
        for (name, path) in given {
            let bytes = std::fs::read(path).map_err(|e| {
                usage(format!(
                    "--module {name}={}: cannot read it ({e}); give an existing .wasm file",
                    path.display()
                ))
            })?;
            out.push(Module {
                name: name.clone(),
                path: path.clone(),
                bytes,
            });
        }
    }
    for m in &out {
        image::check_wasm(&format!("{} ({})", m.name, project.rel(&m.path)), &m.bytes)?;
    }
    Ok(out)
}

/// Image layouts written to temporary folders beside their final place: moved there by [`Staged::commit`]
/// once every image is written (and pushed), removed on drop otherwise, so `--out` never holds a part
/// of a run's images.
struct Staged {
    moves: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    fn write(&mut self, image: &Image, dir: &Path, tag: &str) -> anyhow::Result<()> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("image");
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        self.moves.push((tmp.clone(), dir.to_path_buf()));
        image::write_layout(image, &tmp, tag)
            .map_err(|e| usage(format!("cannot write {} ({e:#})", tmp.display())))
    }

    /// Replaces each final folder by its new layout.
    fn commit(mut self) -> anyhow::Result<()> {
        for (tmp, dir) in std::mem::take(&mut self.moves) {
            let old = tmp.with_extension("old");
            if dir.exists() {
                std::fs::rename(&dir, &old)?;
            }
            std::fs::rename(&tmp, &dir)?;
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.moves {
            let _ = std::fs::remove_dir_all(tmp);
        }
    }
}

/// Checks a pulled image against the one pushed: same manifest bytes and digest, same module.
fn verify_pull(client: &Client, repo: &str, tag: &str, image: &Image) -> anyhow::Result<String> {
    let pulled = client.pull_manifest(repo, tag)?;
    let got = image::digest_of(&pulled.manifest);
    let header_ok = pulled
        .content_digest
        .as_ref()
        .is_none_or(|d| *d == image.manifest_digest);
    if got != image.manifest_digest || !header_ok {
        return Err(usage(format!(
            "{repo}:{tag}: the registry gave back manifest {got} (header {:?}), not the pushed {}",
            pulled.content_digest, image.manifest_digest
        )));
    }
    let manifest: oci_spec::image::ImageManifest = serde_json::from_slice(&pulled.manifest)?;
    let module = image::module_of(&manifest, |d| client.pull_blob(repo, d))?;
    let sha = plugins::sha256_hex(&module);
    if sha != image.module_sha256 {
        return Err(usage(format!(
            "{repo}:{tag}: the pulled module has sha256 {sha}, not the pushed {}",
            image.module_sha256
        )));
    }
    Ok(got)
}

/// Runs the plan: builds (or reads) the modules, writes one layout per module and form into
/// `out/<repository>/`, pushes and pulls back when asked; the layouts replace what `out` held only
/// when everything succeeded. Prints nothing; the command does.
pub fn run(project: &Project, plan: &PackagePlan) -> anyhow::Result<Vec<Packaged>> {
    let client = plan.push.as_ref().map(Client::new);
    if let Some(c) = &client {
        c.ping()?;
    }
    let modules = modules(project, plan.only.as_deref(), &plan.modules)?;
    std::fs::create_dir_all(&plan.out).map_err(|e| {
        usage(format!(
            "--out {}: cannot create it ({e})",
            plan.out.display()
        ))
    })?;
    let mut staged = Staged { moves: Vec::new() };
    let mut done = Vec::new();
    for m in &modules {
        for form in Form::ALL {
            crate::sys::check_interrupted()?;
            let img = image::build(form, &m.bytes)?;
            let repo = form.repository(&m.name);
            let layout = plan.out.join(&repo);
            staged.write(&img, &layout, &plan.tag)?;
            let (reference, pulled_digest) = match (&client, &plan.push) {
                (Some(c), Some(reg)) => {
                    c.push(&repo, &plan.tag, &img)?;
                    let d = verify_pull(c, &repo, &plan.tag, &img)?;
                    (format!("{}:{}", reg.repository(&repo), plan.tag), Some(d))
                }
                _ => (format!("{repo}:{}", plan.tag), None),
            };
            done.push(Packaged {
                name: m.name.clone(),
                form,
                reference,
                manifest_digest: img.manifest_digest.clone(),
                module_sha256: img.module_sha256.clone(),
                module_bytes: img.module_bytes,
                layout,
                pulled_digest,
            });
        }
    }
    staged.commit()?;
    Ok(done)
}

/// What `manifests` was asked to do.
#[derive(Debug, Clone)]
pub struct ManifestsPlan {
    pub only: Option<Vec<String>>,
    pub registry: Registry,
    pub tag: String,
    pub failure_run: PathBuf,
    pub out: PathBuf,
}

/// One implementation's two resources, written.
#[derive(Debug, Clone)]
pub struct Declared {
    pub name: String,
    pub url: String,
    pub sha256: String,
    pub files: Vec<PathBuf>,
}

/// Writes `<impl>-istio.yaml` and `<impl>-higress.yaml` into `out` for every Wasm plugin: the url of
/// its compat image as `package --push` names it, that image's manifest digest (images are
/// deterministic, so it is known before the push), the article's configuration, and the failure
/// run's lesson beside `failStrategy`.
pub fn write_manifests(project: &Project, plan: &ManifestsPlan) -> anyhow::Result<Vec<Declared>> {
    let run = manifests::read_failure_run(&plan.failure_run)?;
    let run_name = plan
        .failure_run
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let config = manifests::article_config();
    let mut out = Vec::new();
    for m in modules(project, plan.only.as_deref(), &[])? {
        let img = image::build(Form::Compat, &m.bytes)?;
        let r = manifests::image_ref(&plan.registry, &m.name, &plan.tag, &img.manifest_digest);
        let (istio, higress) = manifests::resources(&m.name, &r, &config);
        let lesson = manifests::failure_lesson(&run, &run_name, &m.name);
        let mut files = Vec::new();
        for (kind, text) in [
            ("istio", manifests::to_yaml_with_comment(&istio, &lesson)?),
            (
                "higress",
                manifests::to_yaml_with_comment(&higress, &lesson)?,
            ),
        ] {
            let path = plan.out.join(format!("{}-{kind}.yaml", m.name));
            crate::sys::write_atomic(&path, text.as_bytes())
                .map_err(|e| usage(format!("--out: cannot write {} ({e})", path.display())))?;
            files.push(path);
        }
        out.push(Declared {
            name: m.name,
            url: r.url,
            sha256: r.manifest_digest_hex,
            files,
        });
    }
    Ok(out)
}
