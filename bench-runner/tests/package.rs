//! `package --push` against a real registry: Debian's `docker-registry` (Docker Distribution 2.8) on a
//! free loopback port with its own config and storage in a temp folder, a child that dies with the
//! test. Every plugin's two images are pushed by the runner, then pulled back by the runner's own client
//! and by `skopeo` (an independent OCI client): same manifest digest, same module bytes as the build.
//! A read-only registry refuses the push: exit 2, one line naming the registry and the refusal, and
//! nothing left in --out. Both registries are stopped at the end; no process is left.

mod common;
use bench_runner::package::image::{self, Form};
use bench_runner::package::registry::{Client, Registry};
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A `docker-registry serve CONFIG` child, killed and reaped on drop.
struct RegistryProcess {
    child: Child,
    port: u16,
    config: PathBuf,
}

impl RegistryProcess {
    fn start(dir: &Path, read_only: bool) -> RegistryProcess {
        let port = bench_runner::sys::free_ports(1).unwrap()[0];
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("config.yml");
        let readonly = if read_only {
            "  maintenance:\n    readonly:\n      enabled: true\n"
        } else {
            ""
        };
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n{readonly}http:\n  addr: 127.0.0.1:{port}\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new("docker-registry");
        cmd.arg("serve")
            .arg(&config)
            .stdout(std::fs::File::create(dir.join("log")).unwrap())
            .stderr(std::fs::File::create(dir.join("err")).unwrap());
        let child = bench_runner::sys::die_with_runner(&mut cmd)
            .spawn()
            .expect("docker-registry starts");
        let r = RegistryProcess {
            child,
            port,
            config,
        };
        let client = Client::new(&r.registry());
        let start = Instant::now();
        while client.ping().is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "docker-registry did not answer on 127.0.0.1:{port}: {}",
                std::fs::read_to_string(dir.join("err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        r
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn registry(&self) -> Registry {
        Registry::parse("--push", &self.address(), false).unwrap()
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The manifest digest an OCI image layout's index.json names.
fn layout_digest(dir: &Path) -> String {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The module held by an OCI image layout (ours or skopeo's).
fn layout_module(dir: &Path) -> Vec<u8> {
    let blob = |d: &str| -> anyhow::Result<Vec<u8>> {
        Ok(std::fs::read(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )?)
    };
    let manifest: oci_spec::image::ImageManifest =
        serde_json::from_slice(&blob(&layout_digest(dir)).unwrap()).unwrap();
    image::module_of(&manifest, blob).unwrap()
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let o = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

#[test]
fn package_push_round_trips_every_plugin_through_a_real_registry() {
    ensure_tool("docker-registry", "docker-registry");
    ensure_tool("skopeo", "skopeo");
    let built = built_all(None);
    assert!(!built.is_empty());
    let t = tempfile::tempdir().unwrap();
    let reg = RegistryProcess::start(&t.path().join("registry"), false);
    let out = t.path().join("oci");
    let o = run(&[
        "package",
        "--push",
        &reg.address(),
        "--out",
        out.to_str().unwrap(),
        "--tag",
        "t1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let printed = text(&o);
    let client = Client::new(&reg.registry());
    for b in &built {
        let module = std::fs::read(&b.module).unwrap();
        for form in Form::ALL {
            let repo = form.repository(&b.name);
            let reference = format!("{}/gateway-bench/{repo}:t1", reg.address());
            let layout = out.join(&repo);
            let digest = layout_digest(&layout);
            // What was printed: the reference, the manifest digest, the module's sha256 and size.
            let line = printed
                .lines()
                .find(|l| l.starts_with(&format!("{reference} ")))
                .unwrap_or_else(|| panic!("no line for {reference} in:\n{printed}"));
            assert!(line.contains(&digest), "{line}");
            assert!(line.contains(&b.sha256), "{line}");
            assert!(line.contains(&format!("{} bytes", b.bytes)), "{line}");
            // The layout holds the built module, and is the image we would build again.
            assert_eq!(layout_module(&layout), module, "{repo}: layout module");
            assert_eq!(image::build(form, &module).unwrap().manifest_digest, digest);
            // Our client: the manifest by tag has the same digest; its module is the built one.
            let pulled = client.pull_manifest(&repo, "t1").unwrap();
            assert_eq!(image::digest_of(&pulled.manifest), digest, "{repo}");
            assert_eq!(pulled.content_digest.as_deref(), Some(digest.as_str()));
            let manifest: oci_spec::image::ImageManifest =
                serde_json::from_slice(&pulled.manifest).unwrap();
            let got = image::module_of(&manifest, |d| client.pull_blob(&repo, d)).unwrap();
            assert_eq!(bench_runner::plugins::sha256_hex(&got), b.sha256, "{repo}");
            // skopeo: the raw manifest it pulls has the same digest, and the image it copies into an
            // OCI layout of its own holds the same module bytes.
            let docker = format!("docker://{reference}");
            let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &docker]);
            assert_eq!(image::digest_of(&raw), digest, "skopeo inspect {repo}");
            let copy = t.path().join("skopeo").join(&repo);
            std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
            skopeo(&[
                "copy",
                "-q",
                "--src-tls-verify=false",
                &docker,
                &format!("oci:{}:t1", copy.display()),
            ]);
            assert_eq!(layout_digest(&copy), digest, "skopeo copy {repo}");
            assert_eq!(layout_module(&copy), module, "skopeo copy {repo}: module");
            // skopeo reads our own layout too (the OCI image-layout format is right).
            let ours = skopeo(&["inspect", "--raw", &format!("oci:{}:t1", layout.display())]);
            assert_eq!(
                image::digest_of(&ours),
                digest,
                "skopeo reads {repo}'s layout"
            );
        }
    }
    if let Some(rust) = built.iter().find(|b| b.name == "rust") {
        // Packaging again gives the same images (fixed tar mtimes and owners, no timestamps).
        let again = t.path().join("again");
        let o = run(&[
            "package",
            "--only",
            "rust",
            "--out",
            again.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        for form in Form::ALL {
            let repo = form.repository(&rust.name);
            assert_eq!(
                layout_digest(&again.join(&repo)),
                layout_digest(&out.join(&repo))
            );
        }
    }
    let config = reg.config.clone();
    drop(reg);
    assert!(processes_mentioning(config.to_str().unwrap()).is_empty());
}

#[test]
fn a_registry_that_refuses_the_push_is_a_usage_error_and_leaves_no_image() {
    ensure_tool("docker-registry", "docker-registry");
    let name = "rust";
    if built(name).is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let reg = RegistryProcess::start(&t.path().join("registry"), true);
    let out = t.path().join("oci");
    let o = run(&[
        "package",
        "--only",
        name,
        "--push",
        &reg.address(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("--push {}", reg.address())),
        "{stderr}"
    );
    assert!(stderr.contains("405"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "--out holds {left:?} after a refused push");
    let config = reg.config.clone();
    drop(reg);
    assert!(processes_mentioning(config.to_str().unwrap()).is_empty());
}
