//! Pushing images to a registry over the OCI distribution API, and pulling them back: blob uploads
//! (POST, then a monolithic PUT with the digest; a blob the registry already has is not sent again),
//! the manifest PUT by tag, and a GET of the manifest and of the blobs that a check compares with what
//! was pushed. Plain HTTP for loopback registries; anything else needs https, or `--insecure`.

use super::image::{Blob, Image};
use crate::error::usage;
use std::time::Duration;

/// Where images go: `host:port[/namespace]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host:port` (or `host`), as given.
    pub host: String,
    /// Repository prefix, `gateway-bench` unless given.
    pub namespace: String,
    /// `http` or `https`.
    pub scheme: &'static str,
}

pub const DEFAULT_NAMESPACE: &str = "gateway-bench";

fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Registry {
    /// Parses `flag VALUE` (`127.0.0.1:5000`, `registry.example.com/plugins`). Loopback registries are
    /// spoken to over plain HTTP; others over https unless `insecure`.
    pub fn parse(flag: &str, value: &str, insecure: bool) -> anyhow::Result<Registry> {
        let bad = |why: &str| usage(format!("{flag} {value}: {why}"));
        if value.contains("://") {
            return Err(bad(
                "give HOST:PORT[/NAMESPACE] without a scheme (loopback is plain HTTP, others https; --insecure for plain HTTP)",
            ));
        }
        let (host, namespace) = value.split_once('/').unwrap_or((value, DEFAULT_NAMESPACE));
        let namespace = namespace.trim_end_matches('/');
        let ns_ok = !namespace.is_empty()
            && namespace.split('/').all(|c| {
                !c.is_empty()
                    && c.chars().all(|ch| {
                        ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch)
                    })
            });
        if host.is_empty() || !ns_ok {
            return Err(bad(
                "expected HOST:PORT[/NAMESPACE], the namespace in lower-case letters, digits, `.`, `_`, `-` and `/`",
            ));
        }
        let scheme = if is_loopback(host) || insecure {
            "http"
        } else {
            "https"
        };
        Ok(Registry {
            host: host.to_string(),
            namespace: namespace.to_string(),
            scheme,
        })
    }

    /// `host/namespace/repository`, the reference without a tag.
    pub fn repository(&self, repo: &str) -> String {
        format!("{}/{}/{repo}", self.host, self.namespace)
    }

    fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }

    fn v2(&self, repo: &str) -> String {
        format!("{}/v2/{}/{repo}", self.base(), self.namespace)
    }
}

/// A blocking client for one registry.
pub struct Client {
    registry: Registry,
    agent: ureq::Agent,
}

/// What came back for one image.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub manifest: Vec<u8>,
    /// The registry's Docker-Content-Digest header on the manifest GET.
    pub content_digest: Option<String>,
}

type Resp = ureq::http::Response<ureq::Body>;

impl Client {
    pub fn new(registry: &Registry) -> Client {
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .timeout_connect(Some(Duration::from_secs(10)));
        if registry.scheme == "http" {
            // A proxy from the environment has no business between us and a loopback registry.
            cfg = cfg.proxy(None);
        }
        Client {
            registry: registry.clone(),
            agent: cfg.build().into(),
        }
    }

    fn unreachable(&self, e: &ureq::Error) -> anyhow::Error {
        usage(format!(
            "--push {}: cannot reach the registry at {} ({e}); start it or check the address",
            self.registry.host,
            self.registry.base()
        ))
    }

    fn refused(&self, what: &str, url: &str, mut r: Resp) -> anyhow::Error {
        let status = r.status();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let body: String = body.chars().take(200).collect();
        usage(format!(
            "--push {}: the registry refused {what} ({} {} for {url}: {body}); check that it accepts pushes there (read-only? credentials?)",
            self.registry.host,
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
        ))
    }

    /// `GET /v2/`: the registry speaks the distribution API.
    pub fn ping(&self) -> anyhow::Result<()> {
        let url = format!("{}/v2/", self.registry.base());
        let r = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| self.unreachable(&e))?;
        match r.status().as_u16() {
            200 | 401 => Ok(()),
            _ => Err(self.refused("the API check", &url, r)),
        }
    }

    fn push_blob(&self, repo: &str, blob: &Blob) -> anyhow::Result<()> {
        let head = format!("{}/blobs/{}", self.registry.v2(repo), blob.digest);
        let r = self
            .agent
            .head(&head)
            .call()
            .map_err(|e| self.unreachable(&e))?;
        if r.status().as_u16() == 200 {
            return Ok(());
        }
        let start = format!("{}/blobs/uploads/", self.registry.v2(repo));
        let r = self
            .agent
            .post(&start)
            .send_empty()
            .map_err(|e| self.unreachable(&e))?;
        if r.status().as_u16() != 202 {
            return Err(self.refused("a blob upload", &start, r));
        }
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                usage(format!(
                    "--push {}: the upload answer has no Location",
                    self.registry.host
                ))
            })?;
        let mut url = if location.starts_with('/') {
            format!("{}{location}", self.registry.base())
        } else {
            location.to_string()
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={}", blob.digest));
        let r = self
            .agent
            .put(&url)
            .header("Content-Type", "application/octet-stream")
            .send(&blob.bytes[..])
            .map_err(|e| self.unreachable(&e))?;
        if r.status().as_u16() != 201 {
            return Err(self.refused("a blob", &url, r));
        }
        Ok(())
    }

    /// Pushes every blob, then the manifest as `repo:tag`; returns the registry's digest for it.
    pub fn push(&self, repo: &str, tag: &str, image: &Image) -> anyhow::Result<Option<String>> {
        for b in &image.blobs {
            crate::sys::check_interrupted()?;
            self.push_blob(repo, b)?;
        }
        let url = format!("{}/manifests/{tag}", self.registry.v2(repo));
        let r = self
            .agent
            .put(&url)
            .header(
                "Content-Type",
                oci_spec::image::MediaType::ImageManifest.as_ref(),
            )
            .send(&image.manifest[..])
            .map_err(|e| self.unreachable(&e))?;
        if r.status().as_u16() != 201 {
            return Err(self.refused("the manifest", &url, r));
        }
        Ok(header(&r, "docker-content-digest"))
    }

    /// `GET` the manifest of `repo:reference` (a tag or a digest).
    pub fn pull_manifest(&self, repo: &str, reference: &str) -> anyhow::Result<Pulled> {
        let url = format!("{}/manifests/{reference}", self.registry.v2(repo));
        let mut r = self
            .agent
            .get(&url)
            .header("Accept", oci_spec::image::MediaType::ImageManifest.as_ref())
            .call()
            .map_err(|e| self.unreachable(&e))?;
        if r.status().as_u16() != 200 {
            return Err(self.refused("a manifest pull", &url, r));
        }
        let content_digest = header(&r, "docker-content-digest");
        let manifest = r.body_mut().with_config().limit(4 << 20).read_to_vec()?;
        Ok(Pulled {
            manifest,
            content_digest,
        })
    }

    /// `GET` a blob by digest.
    pub fn pull_blob(&self, repo: &str, digest: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}/blobs/{digest}", self.registry.v2(repo));
        let mut r = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| self.unreachable(&e))?;
        if r.status().as_u16() != 200 {
            return Err(self.refused("a blob pull", &url, r));
        }
        Ok(r.body_mut().with_config().limit(256 << 20).read_to_vec()?)
    }
}

fn header(r: &Resp, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_references() {
        let r = Registry::parse("--push", "127.0.0.1:5000", false).unwrap();
        assert_eq!(r.scheme, "http");
        assert_eq!(r.repository("rust"), "127.0.0.1:5000/gateway-bench/rust");
        let r = Registry::parse("--push", "localhost:5000/team/plugins", false).unwrap();
        assert_eq!((r.scheme, r.namespace.as_str()), ("http", "team/plugins"));
        let r = Registry::parse("--push", "registry.example.com/plugins", false).unwrap();
        assert_eq!(r.scheme, "https");
        let r = Registry::parse("--push", "registry.example.com:5000", true).unwrap();
        assert_eq!(r.scheme, "http");
        assert!(
            Registry::parse("--push", "[::1]:5000", false)
                .unwrap()
                .scheme
                == "http"
        );
        for bad in [
            "http://127.0.0.1:5000",
            "",
            "127.0.0.1:5000/Upper",
            "h:1//x",
        ] {
            assert!(Registry::parse("--push", bad, false).is_err(), "{bad}");
        }
    }
}
