//! Bootstraps for lifecycle runs (`envoy/lifecycle/` templates on top of the failure scenarios'
//! listener and cluster): a Wasm filter whose code is fetched over HTTP (`code.remote`), a filter
//! delivered by ECDS from a watched file, and a listener delivered by LDS from a watched file; plus the
//! discovery files themselves. As in the parent module, every runner value is set by path.

use super::{load, Filter, ListenerSpec, Templates, HCM};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const LISTENER: &str = "failure/listener.yaml";
const CLUSTER: &str = "failure/cluster.yaml";
const ECDS: &str = "lifecycle/ecds-filter.yaml";
const REMOTE: &str = "lifecycle/remote-code.yaml";
const LDS: &str = "lifecycle/lds.yaml";

/// Type URLs of the filter configs an ECDS file can carry.
pub const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
pub const LUA_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua";

/// Where a Wasm module comes from over HTTP.
#[derive(Debug, Clone)]
pub struct RemoteCode {
    pub uri: String,
    /// Cluster (a name added by [`LifecycleTemplates::bootstrap`]) that reaches the URI's server.
    pub cluster: String,
    pub sha256: String,
    pub num_retries: u32,
}

/// How the listener's plugin filter is delivered.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Inline in the listener (a local file or inline Lua).
    Static(Filter),
    /// The Wasm filter with its code fetched from `remote`.
    Remote(Filter, RemoteCode),
    /// ECDS from `file` (its folder watched), for filters of `type_url`.
    Ecds { file: PathBuf, type_url: String },
}

pub struct LifecycleTemplates {
    base: Templates,
    listener: Value,
    cluster: Value,
    ecds: Value,
    remote: Value,
    lds: Value,
}

fn s(p: &Path) -> Value {
    json!(p.display().to_string())
}

impl LifecycleTemplates {
    pub fn load(dir: &Path) -> anyhow::Result<LifecycleTemplates> {
        Ok(LifecycleTemplates {
            base: Templates::load(dir)?,
            listener: load(dir, LISTENER)?,
            cluster: load(dir, CLUSTER)?,
            ecds: load(dir, ECDS)?,
            remote: load(dir, REMOTE)?,
            lds: load(dir, LDS)?,
        })
    }

    /// The HTTP filter entry (`name` + `typed_config`) of a static filter; None for no filter.
    pub fn filter(&self, name: &str, f: &Filter) -> anyhow::Result<Option<Value>> {
        self.base.filter(name, f)
    }

    fn delivered(&self, name: &str, d: &Delivery) -> anyhow::Result<Option<Value>> {
        let t = &self.base;
        Ok(match d {
            Delivery::Static(f) => self.filter(name, f)?,
            Delivery::Remote(f, r) => {
                let mut v = self.filter(name, f)?;
                let mut code = self.remote.clone();
                t.set(&mut code, REMOTE, "/remote/http_uri/uri", json!(r.uri))?;
                t.set(
                    &mut code,
                    REMOTE,
                    "/remote/http_uri/cluster",
                    json!(r.cluster),
                )?;
                t.set(&mut code, REMOTE, "/remote/sha256", json!(r.sha256))?;
                t.set(
                    &mut code,
                    REMOTE,
                    "/remote/retry_policy/num_retries",
                    json!(r.num_retries),
                )?;
                if let Some(v) = v.as_mut() {
                    t.set(v, REMOTE, "/typed_config/config/vm_config/code", code)?;
                }
                v
            }
            Delivery::Ecds { file, type_url } => {
                let mut v = self.ecds.clone();
                let dir = file.parent().unwrap_or(Path::new("."));
                t.set(&mut v, ECDS, "/name", json!(name))?;
                let src = "/config_discovery/config_source/path_config_source";
                t.set(&mut v, ECDS, &format!("{src}/path"), s(file))?;
                t.set(
                    &mut v,
                    ECDS,
                    &format!("{src}/watched_directory/path"),
                    s(dir),
                )?;
                t.set(
                    &mut v,
                    ECDS,
                    "/config_discovery/type_urls",
                    json!([type_url]),
                )?;
                Some(v)
            }
        })
    }

    /// One listener forwarding to the upstream cluster, with the plugin filter as `d` delivers it.
    pub fn listener(
        &self,
        name: &str,
        port: u16,
        d: &Delivery,
        access_log: &Path,
    ) -> anyhow::Result<Value> {
        let t = &self.base;
        let spec = ListenerSpec {
            upstream: None,
            name: name.into(),
            port,
            filter: Filter::None,
        };
        let mut v = t.listener_from(&self.listener, LISTENER, &spec)?;
        t.set(
            &mut v,
            LISTENER,
            &format!("{HCM}/access_log/0/typed_config/path"),
            s(access_log),
        )?;
        let mut filters: Vec<Value> = self.delivered(name, d)?.into_iter().collect();
        filters.push(t.router.clone());
        t.set(
            &mut v,
            LISTENER,
            &format!("{HCM}/http_filters"),
            Value::Array(filters),
        )?;
        Ok(v)
    }

    /// The whole bootstrap: the admin port, static `listeners`, one STATIC cluster per
    /// `(name, port)` on 127.0.0.1 (the upstream, the module server), and LDS from `lds_file` if given.
    pub fn bootstrap(
        &self,
        admin_port: u16,
        listeners: Vec<Value>,
        clusters: &[(&str, u16)],
        lds_file: Option<&Path>,
    ) -> anyhow::Result<Value> {
        let t = &self.base;
        let mut root = t.root(admin_port, listeners)?;
        let mut out = Vec::new();
        for (name, port) in clusters {
            let mut c = self.cluster.clone();
            t.set(&mut c, CLUSTER, "/name", json!(name))?;
            t.set(
                &mut c,
                CLUSTER,
                "/load_assignment/cluster_name",
                json!(name),
            )?;
            t.set(
                &mut c,
                CLUSTER,
                "/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/port_value",
                json!(port),
            )?;
            out.push(c);
        }
        t.set(
            &mut root,
            "bootstrap.yaml",
            "/static_resources/clusters",
            Value::Array(out),
        )?;
        // Discovery from files needs a node identity, as from a management server.
        root["node"] = json!({ "id": "bench-runner-lifecycle", "cluster": "bench-runner" });
        if let Some(file) = lds_file {
            let mut lds = self.lds.clone();
            let dir = file.parent().unwrap_or(Path::new("."));
            let src = "/lds_config/path_config_source";
            t.set(&mut lds, LDS, &format!("{src}/path"), s(file))?;
            t.set(
                &mut lds,
                LDS,
                &format!("{src}/watched_directory/path"),
                s(dir),
            )?;
            root["dynamic_resources"] = lds;
        }
        Ok(root)
    }
}

/// An ECDS file: a DiscoveryResponse of one TypedExtensionConfig named `name` (the filter entry's
/// `typed_config`, from [`LifecycleTemplates::filter`]).
pub fn ecds_file(version: &str, name: &str, filter: &Value) -> Value {
    json!({
        "version_info": version,
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
            "name": name,
            "typed_config": filter["typed_config"],
        }]
    })
}

/// An LDS file: a DiscoveryResponse of one listener.
pub fn lds_file(version: &str, listener: &Value) -> Value {
    let mut l = listener.clone();
    if let Some(o) = l.as_object_mut() {
        o.insert(
            "@type".into(),
            json!("type.googleapis.com/envoy.config.listener.v3.Listener"),
        );
    }
    json!({ "version_info": version, "resources": [l] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm() -> Filter {
        Filter::Wasm {
            module: "/m.wasm".into(),
            runtime: "v8".into(),
            configuration: "{}".into(),
            plugin_extra: Default::default(),
            vm_id: None,
        }
    }

    #[test]
    fn remote_code_ecds_and_lds_are_set_by_path() {
        let t = LifecycleTemplates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../envoy"))
            .unwrap();
        let r = RemoteCode {
            uri: "http://127.0.0.1:9/plugin.wasm".into(),
            cluster: "modules".into(),
            sha256: "ab".into(),
            num_retries: 3,
        };
        let l = t
            .listener("p", 1, &Delivery::Remote(wasm(), r), Path::new("/a.log"))
            .unwrap();
        let f = &l["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"][0];
        let code = &f["typed_config"]["config"]["vm_config"]["code"]["remote"];
        assert_eq!(code["sha256"], "ab");
        assert_eq!(code["http_uri"]["cluster"], "modules");
        assert_eq!(code["retry_policy"]["num_retries"], 3);
        let e = Delivery::Ecds {
            file: "/d/p.ecds.json".into(),
            type_url: LUA_TYPE.into(),
        };
        let l = t.listener("p", 1, &e, Path::new("/a.log")).unwrap();
        let f = &l["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"];
        let src = &f[0]["config_discovery"]["config_source"]["path_config_source"];
        assert_eq!(src["path"], "/d/p.ecds.json");
        assert_eq!(src["watched_directory"]["path"], "/d");
        assert_eq!(f[1]["name"], "envoy.filters.http.router");
        let b = t
            .bootstrap(
                1,
                vec![],
                &[("upstream", 2), ("modules", 3)],
                Some(Path::new("/d/l.json")),
            )
            .unwrap();
        assert_eq!(b["static_resources"]["clusters"][1]["name"], "modules");
        assert_eq!(
            b["dynamic_resources"]["lds_config"]["path_config_source"]["path"],
            "/d/l.json"
        );
        let file = lds_file("2", &l);
        assert_eq!(
            file["resources"][0]["@type"],
            "type.googleapis.com/envoy.config.listener.v3.Listener"
        );
    }
}
