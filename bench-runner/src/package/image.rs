//! One plugin module as an OCI image, in the two forms Istio's and Higress's image fetchers accept
//! (istio `pkg/wasm/imagefetcher.go`; solo-io/wasm `spec/spec.md` and `spec/spec-compat.md`):
//!
//! - [`Form::Compat`], the article's `FROM scratch` + `COPY plugin.wasm ./`: one
//!   `application/vnd.oci.image.layer.v1.tar+gzip` layer holding `plugin.wasm`, an image config with
//!   the layer's diff_id, and the manifest annotation `module.wasm.image/variant: compat`.
//! - [`Form::Artifact`], the Wasm artifact ("oci" variant): config media type
//!   `application/vnd.module.wasm.config.v1+json` (the runtime config: `type`, `abiVersions`,
//!   `config`), and exactly two layers, that runtime config and the raw module as
//!   `application/vnd.module.wasm.content.layer.v1+wasm` (Istio refuses any other layer count).
//!
//! Every blob is a pure function of the module's bytes (tar entries with mtime 0, uid/gid 0, mode 0644;
//! gzip without a timestamp or name; no `created` fields), so the same module gives the same digests.
//! The JSON documents are the `oci-spec` crate's types serialised with serde_json; each of their
//! annotation maps holds one key, so their order cannot vary.

use crate::error::usage;
use oci_spec::image::{
    Arch, Descriptor, DescriptorBuilder, HistoryBuilder, ImageConfigurationBuilder,
    ImageIndexBuilder, ImageManifest, ImageManifestBuilder, MediaType, OciLayoutBuilder, Os,
    RootFsBuilder,
};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The Wasm artifact's config and runtime-config layer media type.
pub const WASM_CONFIG: &str = "application/vnd.module.wasm.config.v1+json";
/// The Wasm artifact's module layer media type.
pub const WASM_CONTENT: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
/// The annotation the compat spec asks for on a tar+gzip image.
pub const VARIANT_ANNOTATION: &str = "module.wasm.image/variant";
/// The file name the compat form's layer holds (what Istio and Higress look for).
pub const MODULE_FILE: &str = "plugin.wasm";

/// The two image forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Compat,
    Artifact,
}

impl Form {
    pub const ALL: [Form; 2] = [Form::Compat, Form::Artifact];

    /// The repository of implementation `name` in this form: `<name>` or `<name>-wasm`.
    pub fn repository(self, name: &str) -> String {
        match self {
            Form::Compat => name.to_string(),
            Form::Artifact => format!("{name}-wasm"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Form::Compat => "compat (FROM scratch + plugin.wasm, tar+gzip layer)",
            Form::Artifact => "wasm artifact (vnd.module.wasm media types, raw module layer)",
        }
    }
}

/// A content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub media_type: String,
    /// `sha256:<hex>`
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(media_type: &str, bytes: Vec<u8>) -> Blob {
        Blob {
            media_type: media_type.to_string(),
            digest: digest_of(&bytes),
            bytes,
        }
    }

    fn descriptor(&self, title: Option<&str>) -> anyhow::Result<Descriptor> {
        let mut b = DescriptorBuilder::default()
            .media_type(MediaType::from(self.media_type.as_str()))
            .size(self.bytes.len() as u64)
            .digest(self.digest.parse::<oci_spec::image::Digest>()?);
        if let Some(t) = title {
            b = b.annotations(one("org.opencontainers.image.title", t));
        }
        Ok(b.build()?)
    }
}

/// One image: its blobs (config first, then the layers, each once), its manifest and the module.
#[derive(Debug, Clone)]
pub struct Image {
    pub form: Form,
    pub blobs: Vec<Blob>,
    pub manifest: Vec<u8>,
    /// `sha256:<hex>` of `manifest`: what a registry answers as Docker-Content-Digest, and what
    /// `WasmPlugin.spec.sha256` checks for an `oci://` url.
    pub manifest_digest: String,
    pub module_sha256: String,
    pub module_bytes: u64,
}

/// `sha256:<hex>` of some bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn one(k: &str, v: &str) -> HashMap<String, String> {
    HashMap::from([(k.to_string(), v.to_string())])
}

/// Refuses bytes that are not a WebAssembly binary module (magic `\0asm`, version 1).
pub fn check_wasm(what: &str, bytes: &[u8]) -> anyhow::Result<()> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(usage(format!(
            "{what}: not a WebAssembly module (it does not start with the `\\0asm` magic); give a .wasm file built for wasm32-wasi(p1)"
        )));
    }
    Ok(())
}

/// The proxy-wasm ABI versions a module exports (`proxy_abi_version_0_2_1` -> `0.2.1`), read from its
/// export names (stored as plain UTF-8 in the binary).
pub fn abi_versions(module: &[u8]) -> Vec<String> {
    const P: &[u8] = b"proxy_abi_version_";
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(at) = module[i..].windows(P.len()).position(|w| w == P) {
        let start = i + at + P.len();
        let v: String = module[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'_')
            .map(|&b| if b == b'_' { '.' } else { b as char })
            .collect();
        if v.split('.').count() == 3 && !out.contains(&v) {
            out.push(v);
        }
        i = start;
    }
    out
}

/// The compat layer: a tar holding `plugin.wasm` (what `COPY plugin.wasm ./` in a scratch image
/// gives), and its gzip. Returns (tar, tar.gz).
fn compat_layer(module: &[u8]) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let mut header = tar::Header::new_ustar();
    header.set_path(MODULE_FILE)?;
    header.set_size(module.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, module)?;
    let tar = builder.into_inner()?;
    // No mtime, no file name, fixed level: the same tar gives the same gzip.
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar)?;
    Ok((tar, gz.finish()?))
}

fn manifest_of(
    config: Descriptor,
    layers: Vec<Descriptor>,
    annotations: Option<HashMap<String, String>>,
) -> anyhow::Result<ImageManifest> {
    let mut b = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(layers);
    if let Some(a) = annotations {
        b = b.annotations(a);
    }
    Ok(b.build()?)
}

/// Builds `module` as an image of `form`.
pub fn build(form: Form, module: &[u8]) -> anyhow::Result<Image> {
    let (config, layers, manifest) = match form {
        Form::Compat => {
            let (tar, gz) = compat_layer(module)?;
            let layer = Blob::new(MediaType::ImageLayerGzip.as_ref(), gz);
            let config = ImageConfigurationBuilder::default()
                .architecture(Arch::Wasm)
                .os(Os::Other("wasip1".into()))
                .rootfs(
                    RootFsBuilder::default()
                        .typ("layers")
                        .diff_ids(vec![digest_of(&tar)])
                        .build()?,
                )
                .history(vec![HistoryBuilder::default()
                    .created_by(format!("COPY {MODULE_FILE} ./ # bench-runner package"))
                    .build()?])
                .build()?;
            let config = Blob::new(
                MediaType::ImageConfig.as_ref(),
                serde_json::to_vec(&config)?,
            );
            let manifest = manifest_of(
                config.descriptor(None)?,
                vec![layer.descriptor(None)?],
                Some(one(VARIANT_ANNOTATION, "compat")),
            )?;
            (config, vec![layer], manifest)
        }
        Form::Artifact => {
            let runtime = serde_json::json!({
                "type": "envoy_proxy",
                "abiVersions": abi_versions(module),
                "config": {},
            });
            let config = Blob::new(WASM_CONFIG, serde_json::to_vec(&runtime)?);
            let layer = Blob::new(WASM_CONTENT, module.to_vec());
            let manifest = manifest_of(
                config.descriptor(None)?,
                vec![
                    config.descriptor(Some("runtime-config.json"))?,
                    layer.descriptor(Some(MODULE_FILE))?,
                ],
                None,
            )?;
            // The runtime config is both the config and the first layer: one blob.
            (config, vec![layer], manifest)
        }
    };
    let manifest = serde_json::to_vec(&manifest)?;
    let mut blobs = vec![config];
    blobs.extend(layers);
    Ok(Image {
        form,
        blobs,
        manifest_digest: digest_of(&manifest),
        manifest,
        module_sha256: crate::plugins::sha256_hex(module),
        module_bytes: module.len() as u64,
    })
}

/// Writes `image` as an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/*`) into `dir`,
/// which must not exist yet; `ref_name` is the index's `org.opencontainers.image.ref.name` (the tag).
pub fn write_layout(image: &Image, dir: &Path, ref_name: &str) -> anyhow::Result<()> {
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs)?;
    let manifest_blob = Blob::new(MediaType::ImageManifest.as_ref(), image.manifest.clone());
    for b in image.blobs.iter().chain([&manifest_blob]) {
        let hex = b.digest.trim_start_matches("sha256:");
        std::fs::write(blobs.join(hex), &b.bytes)?;
    }
    let layout = OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()?;
    std::fs::write(dir.join("oci-layout"), serde_json::to_vec(&layout)?)?;
    let mut desc = manifest_blob.descriptor(None)?;
    desc.set_annotations(Some(one("org.opencontainers.image.ref.name", ref_name)));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![desc])
        .build()?;
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index)?)?;
    Ok(())
}

/// The module inside a pulled image: the compat layer's `plugin.wasm`, or the artifact's raw layer.
pub fn module_of(
    manifest: &ImageManifest,
    blob: impl Fn(&str) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    let layers = manifest.layers();
    if let Some(l) = layers
        .iter()
        .find(|l| l.media_type().as_ref() == WASM_CONTENT)
    {
        return blob(l.digest().as_ref());
    }
    let l = layers
        .iter()
        .find(|l| *l.media_type() == MediaType::ImageLayerGzip)
        .ok_or_else(|| anyhow::anyhow!("no Wasm or tar+gzip layer in the manifest"))?;
    let gz = blob(l.digest().as_ref())?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]));
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.path()?.file_name().is_some_and(|n| n == MODULE_FILE) {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut out)?;
            return Ok(out);
        }
    }
    Err(anyhow::anyhow!("no {MODULE_FILE} in the image's layer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &[u8] = b"\0asm\x01\0\0\0 proxy_abi_version_0_2_1 more";

    #[test]
    fn images_are_deterministic_and_hold_the_module() {
        for form in Form::ALL {
            let a = build(form, MODULE).unwrap();
            let b = build(form, MODULE).unwrap();
            assert_eq!(a.manifest, b.manifest);
            assert_eq!(a.blobs, b.blobs);
            let manifest: ImageManifest = serde_json::from_slice(&a.manifest).unwrap();
            let got = module_of(&manifest, |d| {
                Ok(a.blobs
                    .iter()
                    .find(|b| b.digest == d)
                    .unwrap()
                    .bytes
                    .clone())
            })
            .unwrap();
            assert_eq!(got, MODULE);
        }
    }

    #[test]
    fn artifact_has_the_wasm_media_types_and_two_layers() {
        let img = build(Form::Artifact, MODULE).unwrap();
        let m: serde_json::Value = serde_json::from_slice(&img.manifest).unwrap();
        assert_eq!(m["config"]["mediaType"], WASM_CONFIG);
        assert_eq!(m["layers"].as_array().unwrap().len(), 2);
        assert_eq!(m["layers"][1]["mediaType"], WASM_CONTENT);
        let config: serde_json::Value = serde_json::from_slice(&img.blobs[0].bytes).unwrap();
        assert_eq!(config["type"], "envoy_proxy");
        assert_eq!(config["abiVersions"], serde_json::json!(["0.2.1"]));
    }

    #[test]
    fn compat_config_names_the_uncompressed_layer() {
        let img = build(Form::Compat, MODULE).unwrap();
        let m: serde_json::Value = serde_json::from_slice(&img.manifest).unwrap();
        assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(m["annotations"][VARIANT_ANNOTATION], "compat");
        let config: serde_json::Value = serde_json::from_slice(&img.blobs[0].bytes).unwrap();
        let (tar, _) = compat_layer(MODULE).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][0], digest_of(&tar));
    }

    #[test]
    fn non_wasm_is_refused() {
        assert!(check_wasm("x", b"#!/bin/sh\n").is_err());
        assert!(check_wasm("x", MODULE).is_ok());
    }
}
